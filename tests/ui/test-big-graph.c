/* Big graphs (issue 17 item 4): EfficientNetB7's 816 layers open as a readable overview of
 * stages; search reaches layers inside collapsed groups; a click on a collapsed stage sums it
 * up in the layer panel; a double click opens it. Pointer events go through the view's click
 * gesture as GTK delivers them. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "offshoot-application.h"
#include "offshoot-window-private.h"
#include "osh-flops.h"
#include "osh-scene.h"
#include "osh-shapes.h"
#include "osh-test.h"
#include "osh-workers.h"
#include "osh-zoo.h"
#include "ui-test-window.h"

static GtkApplication *app;

/* A window showing the untrained keras.applications EfficientNetB7, laid out. */
static OffshootWindow *
open_b7 (void)
{
  OshZooOptions o;
  g_assert_true (osh_zoo_options_init (&o, "EfficientNetB7"));
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("EfficientNetB7", &o, &err);
  g_assert_nonnull (g);
  g_assert_cmpint (g->n_layers, ==, 816);
  g_assert_true (osh_graph_infer_shapes (g, &err)); /* as loading a file does */
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_graph (win, g, "EfficientNetB7 (untrained)");
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  return win;
}

/* The box of a collapsed group, by name; fails when the group is not a box. */
static const OshLayoutItem *
group_box (OffshootGraphView *view, const char *name)
{
  const OshGraphLayout *lay = offshoot_graph_view_get_layout (view);
  for (int i = 0; i < lay->n_items; i++)
    if (lay->items[i].kind == OSH_ITEM_GROUP && !strcmp (lay->items[i].title, name))
      return &lay->items[i];
  g_error ("no collapsed group '%s' on screen", name);
  return NULL;
}

/* The view point at the centre of a box. */
static void
box_centre (OffshootGraphView *view, const OshLayoutItem *it, double *x, double *y)
{
  osh_camera_world_to_view (offshoot_graph_view_get_camera (view), it->box.x + it->box.w / 2,
                            it->box.y + it->box.h / 2, x, y);
}

/* Opens collapsed, and Fit shows every box with its name readable (not a hairline). */
static void
test_opens_collapsed (void)
{
  OffshootWindow *win = open_b7 ();
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  g_assert_true (offshoot_graph_view_blocks_collapsed (view));
  /* input, rescaling, normalization, 4 stem layers, 7 stages, 6 top layers. */
  g_assert_cmpint (offshoot_graph_view_count_items (view), ==, 20);
  const OshLayoutItem *b5 = group_box (view, "block5");
  g_assert_cmpstr (b5->subtitle, ==, "stage · 148 layers");
  g_assert_cmpstr (b5->shape_text, ==, "(None, 38, 38, 160) → (None, 38, 38, 224)");
  g_action_group_activate_action (G_ACTION_GROUP (win), "zoom-fit", NULL);
  OshCamera *cam = offshoot_graph_view_get_camera (view);
  const OshGraphLayout *lay = offshoot_graph_view_get_layout (view);
  double x0, y0, x1, y1;
  osh_camera_world_to_view (cam, 0, 0, &x0, &y0);
  osh_camera_world_to_view (cam, lay->bounds.w, lay->bounds.h, &x1, &y1);
  g_assert_cmpfloat (x0, >=, 0); /* all of it in view */
  g_assert_cmpfloat (y1, <=, cam->view_h);
  /* Each box at least a line of the 11 px title tall, so the scene writes its name. */
  for (int i = 0; i < lay->n_items; i++)
    g_assert_cmpfloat (lay->items[i].box.h * cam->zoom, >=, 13);
  ui_test_close (win);
}

/* Search finds a layer hidden in a collapsed block and opens the groups holding it. */
static void
test_search_opens_block (void)
{
  OffshootWindow *win = open_b7 ();
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  const OshGraph *g = offshoot_window_get_graph (win);
  int layer = osh_graph_find_path (g, "block5a_expand_conv");
  g_assert_cmpint (layer, >=, 0);
  const OshGraphLayout *lay = offshoot_graph_view_get_layout (view);
  int node = osh_graph_layer_first_node (g, layer);
  g_assert_cmpint (lay->items[lay->node_item[node]].kind, ==, OSH_ITEM_GROUP); /* hidden */

  g_action_group_activate_action (G_ACTION_GROUP (win), "find", NULL);
  gtk_editable_set_text (GTK_EDITABLE (win->search_entry), "block5a_expand_conv");
  UI_TEST_WAIT_WHILE (offshoot_graph_view_search_count (view) == 0, "the search to run");
  ui_test_settle (win);
  g_assert_cmpint (offshoot_graph_view_search_count (view), ==, 1);
  g_assert_cmpint (offshoot_graph_view_search_layer (view), ==, layer);
  g_assert_cmpstr (gtk_label_get_text (win->search_status), ==, "1 of 1");
  /* Its own box now, in the middle of the view; the other stages stay collapsed. */
  lay = offshoot_graph_view_get_layout (view);
  const OshLayoutItem *it = &lay->items[lay->node_item[node]];
  g_assert_cmpint (it->kind, ==, OSH_ITEM_NODE);
  g_assert_cmpint (it->layer, ==, layer);
  double x, y;
  g_assert_true (offshoot_graph_view_layer_position (view, layer, &x, &y));
  OshCamera *cam = offshoot_graph_view_get_camera (view);
  g_assert_cmpfloat (fabs (x - cam->view_w / 2), <, 2);
  g_assert_cmpfloat (fabs (y - cam->view_h / 2), <, 2);
  group_box (view, "block4");
  group_box (view, "block5b");
  ui_test_close (win);
}

/* A click on a collapsed stage selects it and the layer panel sums it up; a double click
 * opens it into its blocks. */
static void
test_click_and_double_click (void)
{
  OffshootWindow *win = open_b7 ();
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  OffshootLayerPanel *panel = offshoot_window_get_layer_panel (win);
  double x, y;
  box_centre (view, group_box (view, "block3"), &x, &y);
  ui_test_click (GTK_WIDGET (view), x, y, 1);
  int stage = offshoot_graph_view_get_selected_group (view);
  g_assert_cmpint (stage, >=, 0);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, -1);
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "name"), ==, "block3");
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "outputs"), ==, "(None, 75, 75, 80)");
  /* Keras's count for block3a ... block3g, and the plan's FLOPs of those layers (the engine's
   * per-layer count equals the plan's: /zoo/flops/efficientnetb0-as-the-plan). */
  OffshootGroupSummary sum;
  g_assert_true (offshoot_graph_view_group_summary (view, stage, &sum));
  const OshGraph *g = offshoot_window_get_graph (win);
  int64_t expected = 0;
  g_autofree double *flops = g_new0 (double, g->n_layers);
  OshError err = { 0 };
  g_assert_true (osh_graph_layer_flops (g, 1, flops, NULL, &err));
  double expected_flops = 0;
  for (int l = 0; l < g->n_layers; l++)
    if (g_str_has_prefix (g->layers[l].name, "block3"))
      {
        expected += osh_graph_layer_params (g, l, NULL);
        expected_flops += flops[l];
      }
  g_assert_cmpint (sum.params, ==, expected);
  g_assert_cmpint (sum.params, >, 0);
  g_assert_cmpfloat (sum.flops, ==, expected_flops);
  g_assert_cmpfloat (sum.flops, >, 1e9);
  g_autofree char *what =
      g_strdup_printf ("stage · 7 blocks · 104 layers · %.2f GFLOP", expected_flops / 1e9);
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "class"), ==, what);
  g_test_message ("block3: %s", what);

  int before = offshoot_graph_view_count_items (view);
  box_centre (view, group_box (view, "block3"), &x, &y);
  ui_test_click (GTK_WIDGET (view), x, y, 2);
  g_assert_true (offshoot_window_is_busy (win)); /* laying out again */
  ui_test_settle (win);
  /* block3 became its seven blocks, each still collapsed. */
  g_assert_cmpint (offshoot_graph_view_count_items (view), ==, before - 1 + 7);
  group_box (view, "block3a");
  group_box (view, "block3g");
  ui_test_close (win);
}

/* A model that leaves its input size open (EfficientNetB0 with a (None, None, None, 3) input):
 * a block's summary counts its FLOPs at the size a run proposes, 640 × 640, and says so; the
 * figures are those of the same model built for 640 × 640. */
static void
test_open_sizes_block_flops (void)
{
  OshZooOptions o;
  g_assert_true (osh_zoo_options_init (&o, "EfficientNetB0"));
  o.height = o.width = OSH_FLOPS_OPEN_SIDE;
  OshError err = { 0 };
  OshGraph *fixed = osh_zoo_build ("EfficientNetB0", &o, &err);
  g_assert_nonnull (fixed);
  g_autofree double *expected = g_new0 (double, fixed->n_layers);
  g_assert_true (osh_graph_layer_flops (fixed, 1, expected, NULL, &err));
  double expected_block3 = 0;
  for (int l = 0; l < fixed->n_layers; l++)
    if (g_str_has_prefix (fixed->layers[l].name, "block3"))
      expected_block3 += expected[l];
  osh_graph_free (fixed);

  OshGraph *g = osh_zoo_build ("EfficientNetB0", &o, &err);
  g_assert_nonnull (g);
  int input = g->nodes[g->inputs[0].node].layer;
  json_object_set_new (g->layers[input].config, "batch_input_shape", json_pack ("[n, n, n, i]", 3));
  g_assert_true (osh_graph_infer_shapes (g, &err));
  g_assert_true (osh_graph_open_inputs (g));
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_graph (win, g, "EfficientNetB0, open size");
  ui_test_settle (win);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  g_assert_true (offshoot_graph_view_blocks_collapsed (view));
  double x, y;
  box_centre (view, group_box (view, "block3"), &x, &y);
  ui_test_click (GTK_WIDGET (view), x, y, 1);
  OffshootGroupSummary sum;
  g_assert_true (offshoot_graph_view_group_summary (
      view, offshoot_graph_view_get_selected_group (view), &sum));
  g_assert_cmpfloat (sum.flops, ==, expected_block3);
  g_assert_cmpfloat (sum.flops, >, 0);
  g_autofree char *what =
      g_strdup_printf ("stage · 2 blocks · %d layers · %.1f MFLOP at input 1×640×640×3",
                       sum.n_layers, expected_block3 / 1e6);
  g_assert_cmpstr (offshoot_layer_panel_get_text (offshoot_window_get_layer_panel (win), "class"),
                   ==, what);
  g_test_message ("block3 of an open-size EfficientNetB0: %s", what);
  ui_test_close (win);
}

/* Waits until the workers the window started have all ended (an abandoned layout or export
 * included: its result is dropped on the main thread). */
static void
wait_workers (void)
{
  UI_TEST_WAIT_WHILE (osh_workers_in_flight () > 0, "the abandoned work to end");
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Expand All on B7 lays out 816 boxes: the status bar says so with a Cancel; Cancel (the
 * button, as a click ends) goes back to the 20-box overview at once, and the
 * layout's result, when graphviz ends, is dropped. The next Expand All works. */
static void
test_cancel_layout (void)
{
  OffshootWindow *win = open_b7 ();
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  g_assert_cmpint (offshoot_graph_view_count_items (view), ==, 20);
  double x, y;
  box_centre (view, group_box (view, "block3"), &x, &y);
  ui_test_click (GTK_WIDGET (view), x, y, 1);
  int stage = offshoot_graph_view_get_selected_group (view);
  g_assert_cmpint (stage, >=, 0);
  g_action_group_change_action_state (G_ACTION_GROUP (win), "collapse-blocks",
                                      g_variant_new_boolean (FALSE));
  g_assert_true (offshoot_graph_view_is_laying_out (view));
  g_assert_nonnull (strstr (offshoot_window_get_activity (win), "Laying out the graph"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win->activity_progress)));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win->activity_cancel)));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "cancel-work"));

  g_signal_emit_by_name (win->activity_cancel, "clicked"); /* as a click ends */
  g_assert_false (offshoot_graph_view_is_laying_out (view));
  g_assert_cmpint (offshoot_graph_view_count_items (view), ==, 20);
  g_assert_true (offshoot_graph_view_blocks_collapsed (view));
  g_assert_cmpint (offshoot_graph_view_get_selected_group (view), ==, stage); /* still selected */
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "");
  wait_workers ();
  g_assert_cmpint (offshoot_graph_view_count_items (view), ==, 20); /* the result was dropped */
  group_box (view, "block5");
  g_autoptr (GVariant) state =
      g_action_group_get_action_state (G_ACTION_GROUP (win), "collapse-blocks");
  g_assert_true (g_variant_get_boolean (state)); /* the menu's check mark says collapsed */

  g_action_group_change_action_state (G_ACTION_GROUP (win), "collapse-blocks",
                                      g_variant_new_boolean (FALSE));
  ui_test_settle (win);
  g_assert_cmpint (offshoot_graph_view_count_items (view), >=, 816);
  ui_test_close (win);
}

/* The picture export runs in a worker with the status bar's Cancel: cancelled, it leaves no
 * file (nor its staging folder) and the folder's existing picture untouched; let run, the file
 * is the view as shown (the collapsed overview, SVG labels as <text>). */
static void
test_export_picture_cancel (void)
{
  OffshootWindow *win = open_b7 ();
  g_autofree char *dir = g_dir_make_tmp ("offshoot-picture-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "b7.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "b7.svg", NULL);
  g_assert_true (g_file_set_contents (svg, "before", -1, NULL));

  offshoot_window_export_picture_to (win, svg);
  g_assert_nonnull (strstr (offshoot_window_get_activity (win), "Saving b7.svg"));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win->activity_cancel)));
  g_signal_emit_by_name (win->activity_cancel, "clicked"); /* as a click ends */
  g_assert_cmpstr (offshoot_window_get_activity (win), ==, "");
  wait_workers ();
  g_autofree char *kept = NULL;
  g_assert_true (g_file_get_contents (svg, &kept, NULL, NULL));
  g_assert_cmpstr (kept, ==, "before");
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (d), ==, "b7.svg"); /* nothing else */
  g_assert_null (g_dir_read_name (d));
  g_assert_true (g_str_has_suffix (gtk_label_get_text (win->status_label), "(cancelled)"));

  offshoot_window_export_picture_to (win, png);
  offshoot_window_export_picture_to (win, svg);
  ui_test_settle (win);
  wait_workers ();
  g_assert_null (offshoot_window_get_error (win));
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) tex = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  const OshGraphLayout *lay = offshoot_graph_view_get_layout (offshoot_window_get_graph_view (win));
  g_assert_cmpint (gdk_texture_get_width (tex), ==, (int) ceil (lay->bounds.w + 32));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, ">block5<"));
  g_remove (png);
  g_remove (svg);
  g_rmdir (dir);
  ui_test_close (win);
}

int
main (int argc, char **argv)
{
  app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.TestBigGraph");
  g_test_add_func ("/ui/big-graph/opens-collapsed", test_opens_collapsed);
  g_test_add_func ("/ui/big-graph/search-opens-block", test_search_opens_block);
  g_test_add_func ("/ui/big-graph/click-and-double-click", test_click_and_double_click);
  g_test_add_func ("/ui/big-graph/open-sizes-block-flops", test_open_sizes_block_flops);
  g_test_add_func ("/ui/big-graph/cancel-layout", test_cancel_layout);
  g_test_add_func ("/ui/big-graph/export-picture-cancel", test_export_picture_cancel);
  return ui_test_run (app);
}
