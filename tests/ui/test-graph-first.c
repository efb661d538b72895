/* The graph first, the weights after (issue 18): the window draws a model from its structure
 * and lets the user select layers while the weight values are still read on a worker (held
 * here with offshoot_window_hold_weights, so "still loading" lasts as long as the test looks).
 * Run waits for the weights, export and attach are greyed, a weights error is shown while the
 * graph stays usable, and Cancel drops the weights or a save without leaving anything behind;
 * Stop ends a run (issue 17, item 8: progress and Cancel on the window's long work). */
#include <gtk/gtk.h>
#include <string.h>

#include "offshoot-window-private.h"
#include "osh-default-model.h"
#include "osh-model.h"
#include "osh-test.h"
#include "osh-workers.h"
#include "ui-test-window.h"

static GtkApplication *app;
static char *scratch;
static char *model_path; /* the default model saved as .keras */

static gboolean
action_enabled (OffshootWindow *win, const char *name)
{
  return g_action_group_get_action_enabled (G_ACTION_GROUP (win), name);
}

/* Opens `path` and runs the main loop until its graph is laid out (the weights may still be
 * loading, so not ui_test_settle). */
static OffshootWindow *
open_graph (const char *path)
{
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, path);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  UI_TEST_WAIT_WHILE (win->loading, "the graph to be read");
  if (g_strcmp0 (offshoot_window_get_page (win), "graph") != 0)
    g_error ("%s did not open: %s", path, offshoot_window_get_error (win));
  UI_TEST_WAIT_WHILE (offshoot_graph_view_is_laying_out (view)
                          || offshoot_graph_view_count_items (view) == 0
                          || gtk_widget_get_width (GTK_WIDGET (view)) == 0,
                      "the graph to be drawn");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return win;
}

/* Clicks the layer named `name` (found by search, which brings it into view), as the click
 * gesture reports a click. */
static void
click_layer (OffshootWindow *win, const char *name)
{
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  int layer = osh_graph_find_layer (offshoot_window_get_graph (win), -1, name);
  g_assert_cmpint (layer, >=, 0);
  g_assert_cmpint (offshoot_graph_view_search (view, name), >=, 1);
  double x, y;
  g_assert_true (offshoot_graph_view_layer_position (view, layer, &x, &y));
  GtkEventController *click = ui_test_find_controller (GTK_WIDGET (view), GTK_TYPE_GESTURE_CLICK);
  g_signal_emit_by_name (click, "pressed", 1, x, y);
  g_signal_emit_by_name (click, "released", 1, x, y);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, layer);
}

/* The first layer (in file order) that has weights. */
static const char *
first_weighted_layer (const OshGraph *g)
{
  for (int i = 0; i < g->n_layers; i++)
    if (g->layers[i].n_weights > 0)
      return g->layers[i].name;
  g_error ("the default model has no weights");
}

static void
assert_contains (const char *text, const char *part)
{
  if (!text || !strstr (text, part))
    g_error ("expected \"%s\" in \"%s\"", part, text ? text : "(null)");
}

static void
test_explore_while_weights_load (void)
{
  offshoot_window_hold_weights (TRUE);
  OffshootWindow *win = open_graph (model_path);
  /* The graph is drawn and the weights are not in. */
  g_assert_true (offshoot_window_weights_loading (win));
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "Loading weights…");
  g_assert_null (offshoot_window_get_error (win));
  g_assert_false (action_enabled (win, "export-model"));
  g_assert_true (action_enabled (win, "export-picture"));
  g_assert_true (action_enabled (win, "find"));

  /* A layer is selected by a click and shows its shapes; its weight values are not in yet. */
  /* A copy: the graph is replaced by the one with weights. */
  g_autofree char *name = g_strdup (first_weighted_layer (offshoot_window_get_graph (win)));
  click_layer (win, name);
  OffshootLayerPanel *panel = offshoot_window_get_layer_panel (win);
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "name"), ==, name);
  assert_contains (offshoot_layer_panel_get_text (panel, "weights"), "values not loaded yet");
  g_assert_false (action_enabled (win, "attach-head")); /* an edit needs the weights */

  /* Run waits for the weights, with a note saying so. */
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  g_autoptr (GFile) sample =
      g_file_new_for_uri ("resource:///io/offshoot/Offshoot/samples/circle-1.png");
  offshoot_window_set_run_input (win, sample);
  ui_test_activate (win, "run");
  g_assert_false (offshoot_run_panel_is_running (run));
  g_assert_cmpstr (offshoot_run_panel_get_status (run), ==, "Waiting for the weights…");
  g_assert_false (action_enabled (win, "run")); /* once queued is enough */

  offshoot_window_hold_weights (FALSE);
  UI_TEST_WAIT_WHILE (offshoot_window_weights_loading (win), "the weights to load");
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "");
  /* The queued run ran, with the weights. */
  g_assert_null (offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), >=, 1);
  g_assert_cmpint (offshoot_run_panel_get_result_class (run, 0), >=, 0);
  /* The selection stayed and now shows the weights' statistics. */
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "name"), ==, name);
  assert_contains (offshoot_layer_panel_get_text (panel, "weights"), "min ");
  g_assert_true (action_enabled (win, "export-model"));
  g_assert_true (action_enabled (win, "attach-head"));
  g_assert_false (action_enabled (win, "undo")); /* the weights are no edit */
  g_assert_false (strstr (gtk_window_get_title (GTK_WINDOW (win)), "•") != NULL);
  ui_test_close (win);
}

/* A TF.js model whose shard is shorter than its manifest says: the graph opens, the error is
 * shown, and what needs the weights says it cannot run. */
static void
test_truncated_weights (void)
{
  g_autofree char *path = osh_test_fixture ("robustness/malformed/tfjs-short-shard/model.json");
  OffshootWindow *win = open_graph (path);
  ui_test_settle (win);
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "graph");
  assert_contains (offshoot_window_get_error (win), "The weights cannot be read: ");
  assert_contains (offshoot_window_get_error (win), "needs 24 bytes");
  click_layer (win, "fc");
  OffshootLayerPanel *panel = offshoot_window_get_layer_panel (win);
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "class"), ==, "Dense");
  g_assert_false (action_enabled (win, "export-model"));
  g_assert_false (action_enabled (win, "run"));
  g_assert_false (action_enabled (win, "load-weights"));
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "Weights cannot be read");
  /* Dismissing the banner leaves the graph and that note. */
  ui_test_activate (win, "cancel");
  g_assert_null (offshoot_window_get_error (win));
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "Weights cannot be read");
  g_assert_false (action_enabled (win, "run"));
  ui_test_close (win);
}

/* The file is cut short after its graph was read: the weights worker fails, the error is
 * shown, the graph stays. */
static void
test_weights_fail_on_the_worker (void)
{
  g_autofree char *path = g_build_filename (scratch, "changing.keras", NULL);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (model_path, &bytes, &size, NULL));
  g_assert_true (g_file_set_contents (path, bytes, size, NULL));
  offshoot_window_hold_weights (TRUE);
  OffshootWindow *win = open_graph (path);
  g_assert_true (offshoot_window_weights_loading (win));
  g_assert_true (g_file_set_contents (path, bytes, size / 2, NULL));
  offshoot_window_hold_weights (FALSE);
  UI_TEST_WAIT_WHILE (offshoot_window_weights_loading (win), "the weights to fail");
  assert_contains (offshoot_window_get_error (win), "The weights cannot be read: ");
  assert_contains (offshoot_window_get_error (win), "changing.keras");
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "graph");
  click_layer (win, first_weighted_layer (offshoot_window_get_graph (win)));
  g_assert_false (action_enabled (win, "export-model"));
  g_assert_false (action_enabled (win, "run"));
  ui_test_close (win);
  g_remove (path);
}

/* Cancel drops the weights being read (their result, when it comes, is not applied); Load
 * Weights reads them again. */
static void
test_cancel_weights (void)
{
  offshoot_window_hold_weights (TRUE);
  OffshootWindow *win = open_graph (model_path);
  g_assert_true (offshoot_window_weights_loading (win));
  ui_test_activate (win, "cancel-work");
  g_assert_false (offshoot_window_weights_loading (win));
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "Weights not loaded");
  int stopped = osh_workers_stopped_early ();
  offshoot_window_hold_weights (FALSE);
  UI_TEST_WAIT_WHILE (osh_workers_in_flight () > 0, "the cancelled worker to return");
  g_assert_cmpint (osh_workers_stopped_early (), ==, stopped + 1);
  g_assert_null (offshoot_window_get_error (win));
  g_assert_false (action_enabled (win, "export-model"));
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "Weights not loaded");

  ui_test_activate (win, "load-weights");
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "Loading weights…");
  UI_TEST_WAIT_WHILE (offshoot_window_weights_loading (win), "the weights to load");
  g_assert_null (offshoot_window_get_error (win));
  g_assert_true (action_enabled (win, "export-model"));
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "");
  ui_test_close (win);
}

static int
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  int n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

/* A cancelled save leaves no file (not even a partial one); an uncancelled one is complete. */
static void
test_cancel_export (void)
{
  OffshootWindow *win = open_graph (model_path);
  ui_test_settle (win);
  g_autofree char *dir = g_dir_make_tmp ("offshoot-save-XXXXXX", NULL);
  for (int i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "copy.keras" : "model.json"; /* TF.js: model.json and its shard */
      g_autofree char *out = g_build_filename (dir, name, NULL);
      offshoot_window_export_model_to (win, out);
      assert_contains (offshoot_window_get_activity (win), "Saving ");
      ui_test_activate (win, "cancel-work");
      ui_test_settle (win);
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
      g_assert_cmpint (count_entries (dir), ==, i); /* the first save's copy.keras */
      assert_contains (gtk_label_get_text (win->status_label), "Not saved");
      g_assert_null (offshoot_window_get_error (win));

      offshoot_window_export_model_to (win, out);
      ui_test_settle (win);
      g_assert_null (offshoot_window_get_error (win));
      OshError err = { 0 };
      OshGraph *back = osh_model_load (out, &err);
      if (!back)
        g_error ("%s", err.message);
      g_assert_cmpint (back->n_layers, ==, offshoot_window_get_graph (win)->n_layers);
      osh_graph_free (back);
      g_assert_cmpint (count_entries (dir), ==, i == 0 ? 1 : 3);
    }
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *f = g_build_filename (dir, name, NULL);
      g_remove (f);
    }
  g_rmdir (dir);
  ui_test_close (win);
}

/* The first button under `root` whose label is `label`. */
static GtkWidget *
find_button (GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);
      if (found)
        return found;
    }
  return NULL;
}

/* Stop during a run: the worker notices it and stops early, no result is shown (now or
 * later), the window is idle again, and the next run gives its results. With `late`, Stop
 * comes after the worker has finished but before its result reached the window (the
 * default model runs in a few ms, so a user's click often lands there): still stopped. */
static void
stop_run (gboolean late)
{
  OffshootWindow *win = open_graph (model_path);
  ui_test_settle (win);
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  g_autoptr (GFile) sample =
      g_file_new_for_uri ("resource:///io/offshoot/Offshoot/samples/cross-1.png");
  offshoot_window_set_run_input (win, sample);
  GtkWidget *stop = find_button (GTK_WIDGET (run), "_Stop");
  g_assert_nonnull (stop);
  g_assert_false (gtk_widget_get_sensitive (stop));
  int stopped = osh_workers_stopped_early ();
  ui_test_activate (win, "run");
  g_assert_true (offshoot_run_panel_is_running (run));
  g_assert_true (gtk_widget_get_sensitive (stop));
  if (late)
    g_usleep (G_USEC_PER_SEC); /* the worker finishes; its result waits for the main loop */
  g_signal_emit_by_name (stop, "clicked");
  UI_TEST_WAIT_WHILE (offshoot_window_is_busy (win), "the stopped run to return");
  g_assert_cmpint (osh_workers_stopped_early (), ==, stopped + 1);
  g_assert_cmpstr (offshoot_run_panel_get_status (run), ==, "Stopped.");
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 0);
  g_assert_false (gtk_widget_get_sensitive (stop));
  g_assert_true (action_enabled (win, "run"));

  ui_test_activate (win, "run");
  UI_TEST_WAIT_WHILE (offshoot_window_is_busy (win), "the second run");
  g_assert_null (offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), >=, 1);
  g_assert_cmpint (offshoot_run_panel_get_result_class (run, 0), >=, 0);
  ui_test_close (win);
}

static void
test_stop_run (void)
{
  stop_run (FALSE);
}

static void
test_stop_after_the_worker_finished (void)
{
  stop_run (TRUE);
}

int
main (int argc, char **argv)
{
  scratch = g_dir_make_tmp ("offshoot-graph-first-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", scratch, TRUE); /* recent files */
  gtk_test_init (&argc, &argv, NULL);
  app = ui_test_application_new ("io.offshoot.Offshoot.TestGraphFirst");
  OshError err = { 0 };
  OshGraph *g = osh_load_model_spec ("@default", &err);
  model_path = g_build_filename (scratch, "default.keras", NULL);
  if (!g || !osh_model_save (g, model_path, &err))
    g_error ("%s", err.message);
  osh_graph_free (g);
  g_test_add_func ("/ui/graph-first/explore-while-weights-load", test_explore_while_weights_load);
  g_test_add_func ("/ui/graph-first/truncated-weights", test_truncated_weights);
  g_test_add_func ("/ui/graph-first/weights-fail-on-the-worker", test_weights_fail_on_the_worker);
  g_test_add_func ("/ui/graph-first/cancel-weights", test_cancel_weights);
  g_test_add_func ("/ui/graph-first/cancel-export", test_cancel_export);
  g_test_add_func ("/ui/graph-first/stop-run", test_stop_run);
  g_test_add_func ("/ui/graph-first/stop-after-the-worker-finished",
                   test_stop_after_the_worker_finished);
  int status = g_test_run ();
  g_object_unref (app);
  g_remove (model_path);
  g_free (model_path);
  ui_test_scratch_free (scratch);
  return status;
}
