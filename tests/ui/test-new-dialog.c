/* "New from Architecture…": the window's action opens the dialog, the dialog builds a zoo
 * model in a worker and the window shows it, laid out, as an unsaved untrained model. */
#include <gtk/gtk.h>
#include <string.h>

#include "offshoot-application.h"
#include "offshoot-new-dialog.h"
#include "offshoot-window-private.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;

static OffshootWindow *
new_window (void)
{
  return ui_test_window_new (app);
}

/* The dialog the action opened: the one toplevel of its type. */
static OffshootNewDialog *
find_dialog (void)
{
  GListModel *tops = gtk_window_get_toplevels (); /* owned by GTK */
  OffshootNewDialog *found = NULL;
  for (guint i = 0; i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (tops, i);
      if (OFFSHOOT_IS_NEW_DIALOG (w))
        {
          g_assert_null (found);
          found = OFFSHOOT_NEW_DIALOG (w);
        }
    }
  return found;
}

static void
wait_mapped (GtkWidget *w)
{
  UI_TEST_WAIT_WHILE (!gtk_widget_get_mapped (w) || gtk_widget_get_width (w) == 0,
                      "the dialog to be shown");
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_creates_mobilenet_v2 (void)
{
  offshoot_application_set_accels (app);
  g_auto (GStrv) accels = gtk_application_get_accels_for_action (app, "win.new-from-architecture");
  g_assert_nonnull (accels[0]);
  g_assert_cmpstr (accels[0], ==, "<Shift><Control>n");

  OffshootWindow *win = new_window ();
  g_action_group_activate_action (G_ACTION_GROUP (win), "new-from-architecture", NULL);
  OffshootNewDialog *d = find_dialog ();
  g_assert_nonnull (d);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (d)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (d)) == GTK_WINDOW (win));
  wait_mapped (GTK_WIDGET (d));

  g_assert_true (offshoot_new_dialog_select (d, "MobileNetV2"));
  g_assert_false (offshoot_new_dialog_select (d, "ResNet51"));
  offshoot_new_dialog_set_input (d, 96, 96, 3);
  ui_test_save_screenshot (GTK_WIDGET (d), "new-dialog.png");

  gpointer weak = d;
  g_object_add_weak_pointer (G_OBJECT (d), &weak);
  offshoot_new_dialog_create (d);
  g_assert_true (offshoot_new_dialog_is_busy (d));
  UI_TEST_WAIT_WHILE (weak, "the dialog to build its model and close");
  ui_test_settle (win);

  const OshGraph *g = offshoot_window_get_graph (win);
  g_assert_nonnull (g);
  g_assert_null (offshoot_window_get_error (win));
  g_assert_cmpint (g->n_layers, ==, 156); /* keras.applications.MobileNetV2 */
  g_assert_cmpint (osh_graph_total_params (g, NULL), ==, 3538984);
  /* It exists nowhere but in the window: modified from the start. */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==,
                   "• MobileNetV2 (untrained) — Offshoot");
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "graph");
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  g_assert_cmpint (offshoot_graph_view_count_items (view), >=, 156);
  double x, y;
  int project = osh_graph_find_layer (g, -1, "block_16_project");
  g_assert_true (offshoot_graph_view_layer_position (view, project, &x, &y));
  ui_test_save_screenshot (GTK_WIDGET (win), "new-dialog-window.png");

  /* Closing it asks (Save / Discard / Cancel) and Cancel keeps it; so does opening another. */
  gtk_window_close (GTK_WINDOW (win));
  ui_test_settle (win);
  g_assert_nonnull (win->unsaved_dialog);
  gtk_dialog_response (GTK_DIALOG (win->unsaved_dialog), GTK_RESPONSE_CANCEL);
  ui_test_settle (win);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win)));
  offshoot_window_open_spec (win, "@default");
  ui_test_settle (win);
  g_assert_nonnull (win->unsaved_dialog);
  gtk_dialog_response (GTK_DIALOG (win->unsaved_dialog), GTK_RESPONSE_CANCEL);
  ui_test_settle (win);
  g_assert_true (offshoot_window_get_graph (win) == g);
  ui_test_close (GTK_WINDOW (win));
}

/* An input too small for the architecture: the error stays in the dialog, which stays open,
 * and the window keeps what it had. */
static void
test_error_stays_in_dialog (void)
{
  OffshootWindow *win = new_window ();
  g_action_group_activate_action (G_ACTION_GROUP (win), "new-from-architecture", NULL);
  OffshootNewDialog *d = find_dialog ();
  g_assert_nonnull (d);
  wait_mapped (GTK_WIDGET (d));
  g_assert_true (offshoot_new_dialog_select (d, "VGG16"));
  offshoot_new_dialog_set_input (d, 16, 16, 3);
  offshoot_new_dialog_create (d);
  UI_TEST_WAIT_WHILE (offshoot_new_dialog_is_busy (d), "the dialog to finish building");
  const char *error = offshoot_new_dialog_get_error (d);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error, "too small"));
  g_assert_true (find_dialog () == d);
  g_assert_null (offshoot_window_get_graph (win));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  ui_test_save_screenshot (GTK_WIDGET (d), "new-dialog-error.png");

  /* Selecting another architecture clears the error and fills in its default size. */
  g_assert_true (offshoot_new_dialog_select (d, "MobileNetV3Small"));
  g_assert_null (offshoot_new_dialog_get_error (d));
  ui_test_close (GTK_WINDOW (d));
  ui_test_close (GTK_WINDOW (win));
}

/* Cancel while the worker builds: the dialog goes at once, the model it was making is dropped
 * when the worker ends, and the window keeps what it had. */
static void
test_cancel_while_building (void)
{
  OffshootWindow *win = new_window ();
  g_action_group_activate_action (G_ACTION_GROUP (win), "new-from-architecture", NULL);
  OffshootNewDialog *d = find_dialog ();
  g_assert_nonnull (d);
  wait_mapped (GTK_WIDGET (d));
  g_assert_true (offshoot_new_dialog_select (d, "ResNet50"));
  offshoot_new_dialog_create (d);
  g_assert_true (offshoot_new_dialog_is_busy (d));
  gpointer weak = d;
  g_object_add_weak_pointer (G_OBJECT (d), &weak);
  gtk_window_destroy (GTK_WINDOW (d));
  g_assert_null (find_dialog ());
  /* Finalized once the worker has handed its result back. */
  UI_TEST_WAIT_WHILE (weak, "the cancelled dialog to be finalized");
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_graph (win));
  g_assert_null (offshoot_window_get_error (win));
  ui_test_close (GTK_WINDOW (win));
}

int
main (int argc, char **argv)
{
  app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.TestNew");
  g_test_add_func ("/ui/new-dialog/creates-mobilenet-v2", test_creates_mobilenet_v2);
  g_test_add_func ("/ui/new-dialog/error-stays-in-dialog", test_error_stays_in_dialog);
  g_test_add_func ("/ui/new-dialog/cancel-while-building", test_cancel_while_building);
  return ui_test_run (app);
}
