/* Probe Layers (issue 20) in the window: the menu action probes every layer of the default model
 * on pictures of its world in a worker, the graph's probed nodes take the colour of their
 * accuracy, a click on the curve selects and flies to a layer, Cancel stops a run and keeps the
 * last result, and Keep as Head attaches the probe with its fitted weights. Screenshots go to
 * build/tests/ui/probe-*.png for a person to look at. */
#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "offshoot-window-private.h"
#include "osh-colormap.h"
#include "osh-model.h"
#include "osh-test.h"
#include "osh-workers.h"
#include "ui-test-window.h"

#define PYTHON "/usr/bin/python3"

static GtkApplication *app;
static char *shapes; /* the class folders, made once */

/* tests/train/make-shapes.py: the default model's generator, a seed it was not trained on. */
static gboolean
make_shapes (void)
{
  if (shapes)
    return TRUE;
  if (!g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE))
    return FALSE;
  g_autofree char *script = osh_test_fixture ("train/make-shapes.py");
  g_autofree char *dir = g_dir_make_tmp ("osh-probe-ui-XXXXXX", NULL);
  const char *argv[] = { PYTHON, script, dir, "classes", "30", "777", NULL };
  int status = 0;
  g_autoptr (GError) error = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                     &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    return FALSE; /* numpy or PIL missing: make-shapes exits 77 */
  shapes = g_steal_pointer (&dir);
  return TRUE;
}

/* A window on the default model, with the probe's pictures made; NULL (the test skipped)
 * without numpy to make them. */
static OffshootWindow *
open_default_with_pictures (void)
{
  if (!make_shapes ())
    {
      g_test_skip ("/usr/bin/python3 with numpy is needed to make the pictures");
      return NULL;
    }
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, "@default");
  ui_test_settle (win);
  return win;
}

static void
click_plot (OffshootProbePanel *panel, int index)
{
  GtkWidget *plot = offshoot_probe_panel_get_plot (panel);
  double x, y;
  g_assert_true (offshoot_probe_panel_point_position (panel, index, plot, &x, &y));
  ui_test_click (plot, x, y, 1);
}

static int
find_layer (const OshProbeResult *r, const char *path)
{
  for (int i = 0; i < r->n_layers; i++)
    if (strcmp (r->layers[i].path, path) == 0)
      return i;
  return -1;
}

static void
test_probe_colour_fly_keep (void)
{
  OffshootWindow *win = open_default_with_pictures ();
  if (!win)
    return;
  g_assert_null (offshoot_window_get_error (win));
  OffshootProbePanel *panel = offshoot_window_get_probe_panel (win);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  const OshGraph *g = offshoot_window_handle (win)->graph;
  int n_outputs = g->n_outputs;

  /* The menu's action shows the page and, with a folder chosen, starts. */
  offshoot_probe_panel_set_data (panel, shapes);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "probe-layers"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "probe-layers", NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->side_stack), ==, "probe");
  g_assert_true (offshoot_probe_panel_is_running (panel));
  UI_TEST_WAIT_WHILE (offshoot_probe_panel_is_running (panel), "the probe to finish");
  const OshProbeResult *r = offshoot_probe_panel_get_result (panel);
  g_assert_nonnull (r);
  g_test_message ("%s", offshoot_probe_panel_get_status (panel));
  g_assert_cmpint (r->n_train + r->n_val, ==, 120);
  g_assert_cmpint (r->n_layers, >, 90); /* every top-level layer of the default model */
  /* The last layer reads what the model reads; the input's mean colour does not. */
  g_assert_cmpstr (r->layers[r->n_layers - 1].path, ==, "predictions");
  g_assert_cmpfloat (r->layers[r->n_layers - 1].val_accuracy, >=, 0.9);
  g_assert_cmpfloat (r->layers[0].val_accuracy, <, r->chance + 0.2);

  /* Every probed node has the colour of its accuracy; other nodes keep theirs. */
  double lo = r->chance;
  for (int i = 0; i < r->n_layers; i++)
    {
      int layer = osh_graph_find_path (g, r->layers[i].path);
      uint32_t want = osh_colormap_rgba ((r->layers[i].val_accuracy - lo) / (1 - lo));
      for (int n = 0; n < g->n_nodes; n++)
        if (g->nodes[n].layer == layer)
          g_assert_cmphex (offshoot_graph_view_get_fill (view, n), ==, want);
    }
  ui_test_save_screenshot (GTK_WIDGET (win), "probe-window.png");

  /* A layer selected in the graph selects its point; the Probe page stays up. */
  int j = find_layer (r, "block5a_project_conv");
  offshoot_graph_view_select_layer (view, osh_graph_find_path (g, "block5a_project_conv"), FALSE);
  g_assert_cmpint (offshoot_probe_panel_get_selected (panel), ==, j);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->side_stack), ==, "probe");

  /* A click on the curve selects the point and flies the graph to its layer. */
  int k = find_layer (r, "top_activation");
  g_assert_cmpint (k, >=, 0);
  click_plot (panel, k);
  g_assert_cmpint (offshoot_probe_panel_get_selected (panel), ==, k);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==,
                   osh_graph_find_path (g, "top_activation"));
  g_assert_nonnull (strstr (offshoot_probe_panel_get_status (panel), "top_activation"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->side_stack), ==, "probe");
  ui_test_save_screenshot (GTK_WIDGET (win), "probe-selected.png");

  /* Cancel: the worker stops at its next picture; the last result and colours stay. */
  int stopped = osh_workers_stopped_early ();
  g_assert_true (offshoot_probe_panel_start (panel));
  offshoot_probe_panel_cancel (panel);
  UI_TEST_WAIT_WHILE (offshoot_probe_panel_is_running (panel), "the cancelled probe to stop");
  g_assert_cmpint (osh_workers_stopped_early (), ==, stopped + 1);
  g_assert_cmpstr (offshoot_probe_panel_get_status (panel), ==, "Probing was cancelled.");
  g_assert_true (offshoot_probe_panel_get_result (panel) == r);

  /* Keep as Head: GlobalAveragePooling2D + Dense with the probe's weights, a new output. */
  const OshProbeLayer *l = &r->layers[k];
  int64_t dim = l->dim;
  int c = r->n_classes;
  g_autofree float *kernel = g_memdup2 (l->kernel, sizeof (float) * (size_t) (dim * c));
  g_assert_true (offshoot_probe_panel_keep (panel));
  ui_test_settle (win);
  const OshGraph *e = offshoot_window_handle (win)->graph;
  g_assert_cmpint (e->n_outputs, ==, n_outputs + 1);
  int dense = osh_graph_find_layer (e, -1, "aux_head_out");
  g_assert_cmpint (dense, >=, 0);
  g_assert_cmpstr (e->layers[dense].class_name, ==, "Dense");
  const OshTensor *w = e->layers[dense].weights[0].value;
  g_assert_cmpint (osh_tensor_numel (w), ==, dim * c);
  for (int64_t i = 0; i < dim * c; i++)
    g_assert_cmpfloat (w->data[i], ==, kernel[i]);
  /* The probed layers are all still there: the colours stay on the edited graph. */
  g_assert_nonnull (offshoot_probe_panel_get_result (panel));
  ui_test_close (win);
}

/* An ONNX model (the default model exported: NCHW, its own node names): probed in the window,
 * its probe kept as a Gemm head. */
static void
test_probe_onnx (void)
{
  OffshootWindow *win = open_default_with_pictures ();
  if (!win)
    return;
  OshError err = { 0 };
  g_autofree char *onnx = g_build_filename (shapes, "default.onnx", NULL);
  g_assert_true (osh_model_save (offshoot_window_handle (win)->graph, onnx, &err));
  offshoot_window_open_spec (win, onnx);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  const OshGraph *g = offshoot_window_handle (win)->graph;
  int n_outputs = g->n_outputs;
  OffshootProbePanel *panel = offshoot_window_get_probe_panel (win);
  g_assert_null (offshoot_probe_panel_get_result (panel)); /* the other model's is gone */
  offshoot_probe_panel_set_data (panel, shapes);
  g_action_group_activate_action (G_ACTION_GROUP (win), "probe-layers", NULL);
  UI_TEST_WAIT_WHILE (offshoot_probe_panel_is_running (panel), "the probe to finish");
  const OshProbeResult *r = offshoot_probe_panel_get_result (panel);
  g_assert_nonnull (r);
  g_test_message ("ONNX: %s", offshoot_probe_panel_get_status (panel));
  g_assert_cmpfloat (r->layers[r->n_layers - 1].val_accuracy, >=, 0.9);
  int k = -1;
  for (int i = 0; i < r->n_layers && k < 0; i++)
    if (g_str_has_prefix (r->layers[i].path, "block6a_activation/") && r->layers[i].pooled)
      k = i;
  g_assert_cmpint (k, >=, 0);
  click_plot (panel, k);
  g_assert_cmpint (offshoot_probe_panel_get_selected (panel), ==, k);
  ui_test_save_screenshot (GTK_WIDGET (win), "probe-onnx.png");
  g_assert_true (offshoot_probe_panel_keep (panel));
  ui_test_settle (win);
  g_assert_cmpint (offshoot_window_handle (win)->graph->n_outputs, ==, n_outputs + 1);
  g_unlink (onnx);
  ui_test_close (win);
}

/* Closing the window while a probe runs: the worker stops at its next picture, the application
 * is held until then, and nothing of the closed window is touched afterwards. */
static void
test_close_while_probing (void)
{
  OffshootWindow *win = open_default_with_pictures ();
  if (!win)
    return;
  OffshootProbePanel *panel = offshoot_window_get_probe_panel (win);
  offshoot_probe_panel_set_data (panel, shapes);
  int stopped = osh_workers_stopped_early ();
  g_assert_true (offshoot_probe_panel_start (panel));
  g_assert_cmpint (osh_workers_in_flight (), ==, 1);
  ui_test_close (win);
  UI_TEST_WAIT_WHILE (osh_workers_in_flight () > 0, "the probe worker to stop");
  g_assert_cmpint (osh_workers_stopped_early (), ==, stopped + 1);
}

int
main (int argc, char **argv)
{
  app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.TestProbe");
  g_test_add_func ("/ui/probe/colour-fly-keep", test_probe_colour_fly_keep);
  g_test_add_func ("/ui/probe/onnx", test_probe_onnx);
  g_test_add_func ("/ui/probe/close-while-probing", test_close_while_probing);
  int status = ui_test_run (app);
  if (shapes)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", shapes);
      (void) system (cmd);
      g_free (shapes);
    }
  return status;
}
