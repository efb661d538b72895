/* The keyboard (issue 17): Escape, the shortcuts window, and walking the graph from layer
 * to layer with the arrows, as key events reach the graph view's key controller. */
#include <gtk/gtk.h>
#include <string.h>

#include "offshoot-application.h"
#include "offshoot-window-private.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;

static OffshootWindow *
open_fixture (void)
{
  g_autofree char *path = osh_test_fixture ("ui/fixtures/tiny-cnn.onnx");
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, path);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  return win;
}

/* Escape dismisses the error banner (when nothing is loading). */
static void
test_escape_closes_banner (void)
{
  offshoot_application_set_accels (app);
  OffshootWindow *win = open_fixture ();
  g_auto (GStrv) actions = gtk_application_get_actions_for_accel (app, "Escape");
  g_assert_nonnull (actions[0]);
  g_assert_cmpstr (actions[0], ==, "win.cancel");
  offshoot_window_show_error (win, "something went wrong");
  g_assert_true (gtk_revealer_get_reveal_child (win->error_revealer));
  ui_test_activate (win, "cancel");
  g_assert_false (gtk_revealer_get_reveal_child (win->error_revealer));
  g_assert_null (offshoot_window_get_error (win));
  ui_test_close (win);
}

/* Every shortcut the application binds is listed in the shortcuts window, and so are the
 * pointer gestures (double-click). */
static void
collect (GtkWidget *w, GString *actions, GString *titles)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT (w))
    {
      g_autofree char *action = NULL, *title = NULL, *accel = NULL;
      g_object_get (w, "action-name", &action, "title", &title, "accelerator", &accel, NULL);
      g_string_append_printf (actions, "|%s|", action ? action : "");
      g_string_append_printf (titles, "|%s %s|", title ? title : "", accel ? accel : "");
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect (c, actions, titles);
}

static void
test_shortcuts_window_lists_everything (void)
{
  offshoot_application_set_accels (app);
  g_autoptr (GtkBuilder) b =
      gtk_builder_new_from_resource ("/io/offshoot/Offshoot/gtk/help-overlay.ui");
  GtkWidget *overlay = GTK_WIDGET (gtk_builder_get_object (b, "help_overlay"));
  g_autoptr (GString) actions = g_string_new (NULL);
  g_autoptr (GString) titles = g_string_new (NULL);
  collect (overlay, actions, titles);
  g_auto (GStrv) all = gtk_application_list_action_descriptions (app);
  int n = 0;
  for (int i = 0; all[i]; i++)
    {
      g_autofree char *name = NULL;
      g_autoptr (GVariant) target = NULL;
      g_assert_true (g_action_parse_detailed_name (all[i], &name, &target, NULL));
      g_autofree char *key = g_strdup_printf ("|%s|", name);
      if (!strstr (actions->str, key))
        g_error ("the shortcuts window does not list %s", name);
      n++;
    }
  g_assert_cmpint (n, >=, 15);
  g_autofree char *lower = g_ascii_strdown (titles->str, -1);
  g_assert_true (strstr (lower, "double-click") != NULL);
  gtk_window_destroy (GTK_WINDOW (overlay));
}

/* A key pressed while the graph view has the focus. */
static gboolean
press (OffshootGraphView *view, guint keyval, GdkModifierType state)
{
  g_autoptr (GListModel) list = gtk_widget_observe_controllers (GTK_WIDGET (view));
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (list, i);
      if (GTK_IS_EVENT_CONTROLLER_KEY (c))
        {
          gboolean handled = FALSE;
          g_signal_emit_by_name (c, "key-pressed", keyval, 0, state, &handled);
          return handled;
        }
    }
  g_assert_not_reached ();
}

static const char *
selected_name (OffshootWindow *win)
{
  int layer = offshoot_graph_view_get_selected_layer (offshoot_window_get_graph_view (win));
  return layer >= 0 ? offshoot_window_get_graph (win)->layers[layer].name : NULL;
}

/* The graph view takes the focus; Return selects the first layer; Down and Up walk along the edges,
 * Left and Right go beside; the layer panel follows. */
static void
test_keyboard_walk (void)
{
  OffshootWindow *win = open_fixture ();
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (view)));
  gtk_widget_grab_focus (GTK_WIDGET (view));
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (view)));
  g_assert_null (selected_name (win));
  g_assert_true (press (view, GDK_KEY_Return, 0));
  g_assert_cmpstr (selected_name (win), ==, "image");
  g_assert_true (press (view, GDK_KEY_Down, 0));
  g_assert_cmpstr (selected_name (win), ==, "/stem/Conv");
  g_assert_true (press (view, GDK_KEY_Down, 0));
  g_assert_cmpstr (selected_name (win), ==, "/Relu");
  g_assert_cmpstr (offshoot_layer_panel_get_text (offshoot_window_get_layer_panel (win), "name"),
                   ==, "/Relu");
  g_assert_true (press (view, GDK_KEY_Up, 0));
  g_assert_cmpstr (selected_name (win), ==, "/stem/Conv");
  /* /block2/Relu_1 feeds two branches side by side: Left and Right move between them. */
  const OshGraph *g = offshoot_window_get_graph (win);
  offshoot_graph_view_select_layer (view, osh_graph_find_layer (g, -1, "/ReduceMean"), FALSE);
  g_assert_true (press (view, GDK_KEY_Right, 0));
  g_assert_cmpstr (selected_name (win), ==, "/spatial/Conv");
  g_assert_true (press (view, GDK_KEY_Left, 0));
  g_assert_cmpstr (selected_name (win), ==, "/ReduceMean");
  /* Shift+arrows pan: the selection stays. */
  g_assert_true (press (view, GDK_KEY_Down, GDK_SHIFT_MASK));
  g_assert_cmpstr (selected_name (win), ==, "/ReduceMean");
  /* The walk reaches the output and stops there. */
  g_assert_true (press (view, GDK_KEY_Down, 0));
  g_assert_cmpstr (selected_name (win), ==, "/fc/Gemm");
  g_assert_true (press (view, GDK_KEY_Down, 0));
  g_assert_true (press (view, GDK_KEY_Down, 0));
  g_assert_cmpstr (selected_name (win), ==, "/Softmax");
  ui_test_close (win);
}

static void
text_read (GObject *clipboard, GAsyncResult *res, gpointer data)
{
  *(char **) data = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (clipboard), res, NULL);
}

/* Right-click on a layer selects it and opens its menu; the Menu key opens it on the
 * selection; Copy Layer Name puts the layer's path on the clipboard. */
static void
test_layer_menu (void)
{
  OffshootWindow *win = open_fixture ();
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  const OshGraph *g = offshoot_window_get_graph (win);
  int layer = osh_graph_find_layer (g, -1, "/spatial/Conv");
  offshoot_graph_view_select_layer (view, layer, TRUE); /* into view */
  offshoot_graph_view_select_layer (view, -1, FALSE);
  double x, y;
  g_assert_true (offshoot_graph_view_layer_position (view, layer, &x, &y));
  GtkEventController *secondary = NULL;
  g_autoptr (GListModel) list = gtk_widget_observe_controllers (GTK_WIDGET (view));
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (list, i);
      if (GTK_IS_GESTURE_CLICK (c)
          && gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (c)) == GDK_BUTTON_SECONDARY)
        secondary = c;
    }
  g_assert_nonnull (secondary);
  g_signal_emit_by_name (secondary, "pressed", 1, x, y);
  g_assert_cmpstr (selected_name (win), ==, "/spatial/Conv");
  g_assert_true (offshoot_graph_view_layer_menu_is_open (view));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "attach-head"));

  ui_test_activate (win, "copy-layer-name");
  char *text = NULL;
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (win)), NULL, text_read,
                                 &text);
  UI_TEST_WAIT_WHILE (!text, "the clipboard text");
  g_assert_cmpstr (text, ==, "/spatial/Conv");
  g_free (text);

  ui_test_activate (win, "show-layer");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->side_stack), ==, "layer");
  ui_test_close (win);

  /* The Menu key, on a fresh window with a selection made by keyboard. */
  win = open_fixture ();
  view = offshoot_window_get_graph_view (win);
  g_assert_false (press (view, GDK_KEY_Menu, 0)); /* nothing selected: no menu */
  g_assert_true (press (view, GDK_KEY_Return, 0));
  g_assert_true (press (view, GDK_KEY_Menu, 0));
  g_assert_true (offshoot_graph_view_layer_menu_is_open (view));
  ui_test_close (win);
}

int
main (int argc, char **argv)
{
  app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.TestKeyboard");
  g_test_add_func ("/ui/keyboard/escape-closes-banner", test_escape_closes_banner);
  g_test_add_func ("/ui/keyboard/shortcuts-window", test_shortcuts_window_lists_everything);
  g_test_add_func ("/ui/keyboard/walk", test_keyboard_walk);
  g_test_add_func ("/ui/keyboard/layer-menu", test_layer_menu);
  return ui_test_run (app);
}
