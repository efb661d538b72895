/* ui-test-window.h — what every UI test does: the application and its scratch folder
 * (ui_test_init / ui_test_run around the tests), windows, waits, clicks through the widgets'
 * own gesture controllers, and pictures of what was drawn.
 *
 *   int main (int argc, char **argv)
 *   {
 *     app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.TestSomething");
 *     g_test_add_func ("/ui/something/works", test_works);
 *     return ui_test_run (app);
 *   }
 */
#pragma once

#include <glib/gstdio.h>
#include <string.h>

#include "offshoot-window.h"

static inline OffshootWindow *
ui_test_window_new (GtkApplication *app)
{
  OffshootWindow *win = offshoot_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (win), 1100, 760);
  gtk_window_present (GTK_WINDOW (win));
  return win;
}

/* Activates a window action as its menu item or shortcut does, failing when it is greyed. */
static inline void
ui_test_activate (OffshootWindow *win, const char *action)
{
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), action));
  g_action_group_activate_action (G_ACTION_GROUP (win), action, NULL);
}

/* The widget's first controller of `type`; for gestures only those of the primary button (or
 * any button), as a click or drag with the left button reaches them. */
static inline GtkEventController *
ui_test_find_controller (GtkWidget *w, GType type)
{
  g_autoptr (GListModel) list = gtk_widget_observe_controllers (w);
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (list, i);
      if (!G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        continue;
      if (GTK_IS_GESTURE_SINGLE (c)
          && gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (c)) > GDK_BUTTON_PRIMARY)
        continue;
      return c; /* the widget keeps it alive */
    }
  return NULL;
}

/* A press and release at x, y (widget coordinates) on the widget's primary-button click
 * gesture, `n` times in a row (2: a double click), as GTK delivers a click to it. */
static inline void
ui_test_click (GtkWidget *w, double x, double y, int n)
{
  GtkEventController *click = ui_test_find_controller (w, GTK_TYPE_GESTURE_CLICK);
  g_assert_nonnull (click);
  for (int i = 1; i <= n; i++)
    {
      g_signal_emit_by_name (click, "pressed", i, x, y);
      g_signal_emit_by_name (click, "released", i, x, y);
    }
}

/* How long a UI test waits for the window before it fails: not a time limit on the program
 * (every wait ends within a second or two when the window works), a bound so that a window that
 * never gets there fails with a message instead of hanging until meson's timeout. */
#define UI_TEST_WAIT_SECONDS 120

static inline gboolean
ui_test_wake (gpointer data)
{
  (void) data;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop while `busy` holds; fails the test naming `what` after
 * UI_TEST_WAIT_SECONDS. A 100 ms timer wakes the loop so the bound is checked even when
 * nothing else happens. */
#define UI_TEST_WAIT_WHILE(busy, what)                                                             \
  G_STMT_START                                                                                     \
  {                                                                                                \
    gint64 ui_deadline_ = g_get_monotonic_time () + UI_TEST_WAIT_SECONDS * G_USEC_PER_SEC;         \
    guint ui_wake_ = g_timeout_add (100, ui_test_wake, NULL);                                      \
    while (busy)                                                                                   \
      {                                                                                            \
        if (g_get_monotonic_time () > ui_deadline_)                                                \
          g_error ("%s:%d: still waiting for %s after %d s", __FILE__, __LINE__, what,             \
                   UI_TEST_WAIT_SECONDS);                                                          \
        g_main_context_iteration (NULL, TRUE);                                                     \
      }                                                                                            \
    g_source_remove (ui_wake_);                                                                    \
  }                                                                                                \
  G_STMT_END

/* Runs the main loop until the window is idle and, on the graph page, its view has a size. */
static inline void
ui_test_settle (OffshootWindow *win)
{
  UI_TEST_WAIT_WHILE (
      offshoot_window_is_busy (win)
          || (g_strcmp0 (offshoot_window_get_page (win), "graph") == 0
              && gtk_widget_get_width (GTK_WIDGET (offshoot_window_get_graph_view (win))) == 0),
      "the window to finish loading and lay out");
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Destroys a window and runs the main loop until it is finalized. */
static inline void
ui_test_close (gpointer window)
{
  gpointer weak = window;
  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  gtk_window_destroy (GTK_WINDOW (window));
  UI_TEST_WAIT_WHILE (weak, "the closed window to be finalized");
}

/* A registered application with the app's resources, not unique, as the windows need. */
static inline GtkApplication *
ui_test_application_new (const char *id)
{
  GtkApplication *app = gtk_application_new (id, G_APPLICATION_NON_UNIQUE);
  g_application_set_resource_base_path (G_APPLICATION (app), "/io/offshoot/Offshoot");
  g_application_register (G_APPLICATION (app), NULL, NULL);
  return app;
}

/* Removes a scratch folder the test used as XDG_DATA_HOME (with the recent-files list the
 * window writes there) and frees its name. */
static inline void
ui_test_scratch_free (char *dir)
{
  g_autofree char *recent = g_build_filename (dir, "recently-used.xbel", NULL);
  g_remove (recent);
  g_rmdir (dir);
  g_free (dir);
}

/* The graph plus an output computed from an Input that is not a model input (a relu of a
 * (None, 4) Input). */
static inline OshGraph *
ui_test_with_foreign_branch (const OshGraph *g)
{
  OshError err = { 0 };
  OshGraph *d = osh_graph_copy (g, &err);
  g_assert_nonnull (d);
  /* A real Input: it declares its shape (batch open, 4 features). */
  int in = osh_graph_add_layer (d, -1, "foreign_input", "InputLayer",
                                json_pack ("{s:[n,i]}", "batch_input_shape", 4), &err);
  int in_node = osh_graph_add_node (d, in, NULL, 0, 1, &err);
  int relu = osh_graph_add_layer (d, -1, "foreign_relu", "Relu", NULL, &err);
  /* ONNX ops read their inputs through typed slots: X is an activation. */
  g_assert_true (osh_layer_set_slots (d, relu, (OshSlotKind[]){ OSH_SLOT_ACTIVATION }, 1, &err));
  OshRef x = { in_node, 0 };
  int relu_node = osh_graph_add_node (d, relu, &x, 1, 1, &err);
  g_assert_cmpint (relu_node, >=, 0);
  g_autofree OshRef *outs = g_new (OshRef, d->n_outputs + 1);
  memcpy (outs, d->outputs, sizeof (OshRef) * d->n_outputs);
  outs[d->n_outputs] = (OshRef){ relu_node, 0 };
  g_autofree OshRef *ins = g_memdup2 (d->inputs, sizeof (OshRef) * d->n_inputs);
  g_assert_true (osh_graph_set_io (d, -1, ins, d->n_inputs, outs, d->n_outputs + 1, &err));
  return d;
}

/* ---- Setup and teardown of a test program ------------------------------------------------ */

static char *ui_test_data_home_;

/* Before the tests: a scratch XDG_DATA_HOME (the window's recent-files list goes there, not
 * into the user's), GTK set up for tests without animations, and the application `id`. */
static inline GtkApplication *
ui_test_init (int *argc, char ***argv, const char *id)
{
  ui_test_data_home_ = g_dir_make_tmp ("offshoot-ui-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", ui_test_data_home_, TRUE);
  gtk_test_init (argc, argv, NULL);
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  return ui_test_application_new (id);
}

/* Runs the tests added, then drops the application and the scratch folder: main's status. */
static inline int
ui_test_run (GtkApplication *app)
{
  int status = g_test_run ();
  g_object_unref (app);
  ui_test_scratch_free (g_steal_pointer (&ui_test_data_home_));
  return status;
}

/* ---- Pictures of what was drawn ---------------------------------------------------------- */

static inline gboolean
ui_test_count_frame_ (GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
  (void) w, (void) clock;
  ++*(int *) data;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until `w` (mapped) has painted a frame, `n` times (2: the frame after
 * one that laid out what changed). */
static inline void
ui_test_wait_frames (GtkWidget *w, int n)
{
  for (int k = 0; k < n; k++)
    {
      int frames = 0;
      gtk_widget_queue_draw (w);
      gtk_widget_add_tick_callback (w, ui_test_count_frame_, &frames, NULL);
      UI_TEST_WAIT_WHILE (frames == 0 && gtk_widget_get_mapped (w), "a painted frame");
    }
}

/* `w` as drawn after `n_frames` painted frames, rendered by its window's renderer. */
static inline GdkTexture *
ui_test_draw (GtkWidget *w, int n_frames)
{
  ui_test_wait_frames (w, n_frames);
  int width = 0, height = 0;
  g_autoptr (GskRenderNode) node = NULL;
  /* A window asked for a new size can paint a frame before its new size is laid out, and a
   * widget paintable draws nothing until it is: wait for the frame after (a few at most). */
  for (int tries = 0; !node && tries < 20; tries++)
    {
      if (tries)
        ui_test_wait_frames (w, 1);
      width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
      g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (w);
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (w)), node,
                                      &GRAPHENE_RECT_INIT (0, 0, width, height));
}

/* A picture of `w` as drawn, build/tests/ui/`name`, for a person to look at. */
static inline void
ui_test_save_screenshot (GtkWidget *w, const char *name)
{
  g_autoptr (GdkTexture) texture = ui_test_draw (w, 1);
  const char *dir = g_getenv ("G_TEST_BUILDDIR");
  g_autofree char *path = g_build_filename (dir ? dir : ".", "ui", name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}
