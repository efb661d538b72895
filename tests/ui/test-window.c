/* The real window, driven headless through its actions and its input controllers. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "offshoot-application.h"
#include "offshoot-window-private.h"
#include "osh-exec.h"
#include "osh-model.h"
#include "osh-outputs.h"
#include "osh-shapes.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;

static OffshootWindow *
new_window (void)
{
  return ui_test_window_new (app);
}

/* Runs the main loop until loading and layout are over and the view has its size. */
/* Destroys the window and waits until it is finalized (workers it started are done). */
#define FACE_MODEL "keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5"
#define FACE_PHOTO "keras2/face_classification/test_image.jpg"

/* A window showing `path`, loaded and laid out. */
static OffshootWindow *
open_path (const char *path)
{
  OffshootWindow *win = new_window ();
  offshoot_window_open_spec (win, path);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  return win;
}

/* TRUE when the corpus has the face model and its photo; else FALSE after skipping the test
 * (a clone without the corpus). */
static gboolean
have_face_corpus (void)
{
  g_autofree char *model = osh_test_corpus_or_skip (FACE_MODEL);
  g_autofree char *photo = model ? osh_test_corpus_or_skip (FACE_PHOTO) : NULL;
  return photo != NULL;
}

static OffshootWindow *
open_face_model (void)
{
  g_autofree char *path = osh_test_corpus (FACE_MODEL);
  return open_path (path);
}

static OffshootWindow *
open_fixture (void)
{
  g_autofree char *path = osh_test_fixture ("ui/fixtures/tiny-cnn.onnx");
  OffshootWindow *win = new_window ();
  offshoot_window_open_spec (win, path);
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "loading");
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "graph");
  return win;
}

/* The digits of a number as the panel prints it (thousands separators follow the locale). */
static char *
digits (const char *text)
{
  GString *s = g_string_new (NULL);
  for (const char *p = text; *p; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (s, *p);
  return g_string_free (s, FALSE);
}

static gboolean
action_enabled (OffshootWindow *win, const char *name)
{
  return g_action_group_get_action_enabled (G_ACTION_GROUP (win), name);
}

static void
test_opens_model (void)
{
  OffshootWindow *win = open_fixture ();
  const OshGraph *g = offshoot_window_get_graph (win);
  g_assert_nonnull (g);
  /* The fixture (tools/reference/ui-tiny-cnn.py): one image input, two outputs (the
   * classifier's softmax and the spatial map). */
  g_assert_cmpint (g->n_inputs, ==, 1);
  g_assert_cmpint (g->n_outputs, ==, 2);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "/fc/Gemm"), >=, 0);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "/spatial/Conv"), >=, 0);
  g_assert_cmpint (offshoot_graph_view_count_items (offshoot_window_get_graph_view (win)), ==,
                   g->n_nodes);
  /* The title names the file, the subtitle the model. */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "tiny-cnn.onnx — Offshoot");
  g_assert_cmpstr (gtk_label_get_text (win->subtitle_label), ==, "torch_jit");
  g_assert_true (action_enabled (win, "zoom-fit"));
  g_assert_true (action_enabled (win, "export-model"));
  g_assert_false (action_enabled (win, "undo"));
  g_assert_false (action_enabled (win, "cancel"));
  ui_test_close (win);
}

static void
test_click_selects_layer (void)
{
  OffshootWindow *win = open_fixture ();
  const OshGraph *g = offshoot_window_get_graph (win);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  OffshootLayerPanel *panel = offshoot_window_get_layer_panel (win);
  int fc = osh_graph_find_layer (g, -1, "/fc/Gemm");
  g_assert_cmpint (fc, >=, 0);
  g_assert_cmpint (offshoot_graph_view_search (view, "/fc/Gemm"), ==, 1); /* brings it into view */
  double x, y;
  g_assert_true (offshoot_graph_view_layer_position (view, fc, &x, &y));
  g_assert_cmpfloat (x, >, 0);
  g_assert_cmpfloat (y, >, 0);
  g_assert_cmpfloat (x, <, gtk_widget_get_width (GTK_WIDGET (view)));
  g_assert_cmpfloat (y, <, gtk_widget_get_height (GTK_WIDGET (view)));

  ui_test_click (GTK_WIDGET (view), x, y, 1);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, fc);
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "class"), ==, "Gemm");
  /* Linear(8, 4): 8·4 weights + 4 biases. */
  g_autofree char *params = digits (offshoot_layer_panel_get_text (panel, "params"));
  g_assert_cmpstr (params, ==, "36");
  g_assert_true (strstr (offshoot_layer_panel_get_text (panel, "weights"), "min ") != NULL);
  g_assert_true (strstr (offshoot_layer_panel_get_text (panel, "weights"), "no NaN or Inf")
                 != NULL);
  g_assert_true (strstr (offshoot_layer_panel_get_text (panel, "config"), "{") != NULL);

  /* A press and a release far apart is a drag, not a click: the selection stays. */
  GtkEventController *click = ui_test_find_controller (GTK_WIDGET (view), GTK_TYPE_GESTURE_CLICK);
  g_signal_emit_by_name (click, "pressed", 1, 5.0, 5.0);
  g_signal_emit_by_name (click, "released", 1, 80.0, 60.0);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, fc);

  /* A click on empty canvas clears it. */
  ui_test_click (GTK_WIDGET (view), 3, 3, 1);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, -1);
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "name"), ==, "No layer selected");
  ui_test_close (win);
}

/* The user's path on the corpus face model: find a layer by name, click it, read it. */
static void
test_face_model_find_and_click (void)
{
  if (!have_face_corpus ())
    return;
  OffshootWindow *win = open_face_model ();
  const OshGraph *g = offshoot_window_get_graph (win);
  g_assert_cmpint (g->n_layers, ==, 46);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);

  g_action_group_activate_action (G_ACTION_GROUP (win), "find", NULL);
  gtk_editable_set_text (GTK_EDITABLE (win->search_entry), "conv2d_7");
  g_signal_emit_by_name (win->search_entry, "search-changed"); /* not waiting for the delay */
  /* conv2d_7 itself first, then separable_conv2d_7. */
  g_assert_cmpint (offshoot_graph_view_search_count (view), ==, 2);
  g_assert_cmpstr (gtk_label_get_text (win->search_status), ==, "1 of 2");

  int layer = osh_graph_find_layer (g, -1, "conv2d_7");
  double x, y;
  g_assert_true (offshoot_graph_view_layer_position (view, layer, &x, &y));
  /* The search brought it into view. */
  g_assert_cmpfloat (x, >, 0);
  g_assert_cmpfloat (y, >, 0);
  g_assert_cmpfloat (x, <, gtk_widget_get_width (GTK_WIDGET (view)));
  g_assert_cmpfloat (y, <, gtk_widget_get_height (GTK_WIDGET (view)));
  ui_test_click (GTK_WIDGET (view), x, y, 1);
  OffshootLayerPanel *panel = offshoot_window_get_layer_panel (win);
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "class"), ==, "Conv2D");
  /* 3×3 kernel over 128 channels, 7 filters, with bias. */
  g_autofree char *params = digits (offshoot_layer_panel_get_text (panel, "params"));
  g_assert_cmpstr (params, ==, "8071");
  g_assert_cmpstr (offshoot_layer_panel_get_text (panel, "outputs"), ==, "(None, 4, 4, 7)");
  ui_test_close (win);
}

/* What `offshoot run` computes for this model and picture: the top class and its p. */
static int
engine_top_class (const OshGraph *g, const char *image_path, float *p)
{
  OshError err = { 0 };
  OshImage *img = osh_image_load (image_path, &err);
  g_assert_nonnull (img);
  OshPreprocess pp;
  osh_preprocess_init (&pp);
  g_assert_true (osh_preprocess_propose (g, &pp));
  OshTensor *x = osh_image_to_tensor (img, &pp, &err);
  g_assert_nonnull (x);
  OshExecOptions opt = osh_exec_options_default ();
  OshTensor *y[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  g_assert_true (osh_exec_run_once (g, &opt, (const OshTensor *[]){ x }, 1, y, &err));
  OshTopEntry top[1];
  g_assert_cmpint (osh_output_top_k (y[0], 0, 1, top, &err), ==, 1);
  *p = top[0].p;
  osh_tensor_free (y[0]);
  osh_tensor_free (x);
  osh_image_free (img);
  return top[0].index;
}

static void
test_run_face_model (void)
{
  if (!have_face_corpus ())
    return;
  g_autofree char *photo = osh_test_corpus (FACE_PHOTO);
  OffshootWindow *win = open_face_model ();
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  /* The model's own input: 64×64 grey. */
  OshPreprocess pp;
  offshoot_run_panel_get_preprocess (run, &pp);
  g_assert_cmpint (pp.height, ==, 64);
  g_assert_cmpint (pp.width, ==, 64);
  g_assert_cmpint (pp.channels, ==, 1);
  g_assert_false (offshoot_run_panel_can_run (run));

  g_autoptr (GFile) file = g_file_new_for_path (photo);
  offshoot_window_set_run_input (win, file);
  g_assert_true (offshoot_run_panel_can_run (run));
  /* face_classification's emotion classes, in index order (corpus README). */
  static const char *const emotions[] = { "angry", "disgust",  "fear",   "happy",
                                          "sad",   "surprise", "neutral" };
  offshoot_run_panel_set_class_names (run, "angry, disgust, fear, happy, sad, surprise, neutral");
  g_action_group_activate_action (G_ACTION_GROUP (win), "run", NULL);
  g_assert_true (offshoot_window_is_busy (win));
  ui_test_settle (win);
  g_assert_null (offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 1);

  float p = 0;
  int expected = engine_top_class (offshoot_window_get_graph (win), photo, &p);
  g_assert_cmpint (offshoot_run_panel_get_result_class (run, 0), ==, expected);
  g_autofree char *text = g_strdup_printf ("%s %.1f %%", emotions[expected], 100.0 * p);
  g_assert_cmpstr (offshoot_run_panel_get_result_text (run, 0), ==, text);

  /* After the run, a clicked layer shows its activation. */
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  int layer = osh_graph_find_layer (offshoot_window_get_graph (win), -1, "conv2d_7");
  offshoot_graph_view_select_layer (view, layer, TRUE);
  const char *act =
      offshoot_layer_panel_get_text (offshoot_window_get_layer_panel (win), "activation");
  g_assert_true (g_str_has_prefix (act, "output (1, 4, 4, 7)"));
  ui_test_close (win);
}

/* The whole path: open the face model, click a layer, attach the seed head, run,
 * see the label and the heatmap, export the model and the snippet. */
static void
test_attach_run_export (void)
{
  if (!have_face_corpus ())
    return;
  g_autofree char *photo = osh_test_corpus (FACE_PHOTO);
  OffshootWindow *win = open_face_model ();
  const OshGraph *g = offshoot_window_get_graph (win);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  int layer = osh_graph_find_layer (g, -1, "add_2");
  g_assert_cmpint (layer, >=, 0);
  g_assert_false (action_enabled (win, "attach-head"));
  offshoot_graph_view_select_layer (view, layer, TRUE);
  double x, y;
  g_assert_true (offshoot_graph_view_layer_position (view, layer, &x, &y));
  ui_test_click (GTK_WIDGET (view), x, y, 1);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, layer);
  g_assert_true (action_enabled (win, "attach-head"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "attach-head", NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->side_stack), ==, "head");

  OffshootHeadPanel *head = offshoot_window_get_head_panel (win);
  const char *check = NULL;
  offshoot_head_panel_set_spec (head, "seg:8:3,relu");
  g_assert_false (offshoot_head_panel_check (head, &check));
  g_assert_true (strstr (check, "column") != NULL); /* the parser says where */
  offshoot_head_panel_set_spec (head, "seg");
  g_assert_true (offshoot_head_panel_check (head, &check));
  if (!strstr (check, "aux_head_out (Conv2D) → (None, 15, 15, 1)"))
    g_error ("check says: %s", check);
  g_assert_true (offshoot_head_panel_apply (head));
  ui_test_settle (win);
  g = offshoot_window_get_graph (win);
  g_assert_cmpint (g->n_layers, ==, 50);
  g_assert_cmpint (g->n_outputs, ==, 2);
  g_assert_true (action_enabled (win, "undo"));
  g_assert_true (action_enabled (win, "export-snippet"));
  /* The new output is selected and shown. */
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==,
                   osh_graph_find_layer (g, -1, "aux_head_out"));

  g_autoptr (GFile) file = g_file_new_for_path (photo);
  offshoot_window_set_run_input (win, file);
  g_action_group_activate_action (G_ACTION_GROUP (win), "run", NULL);
  ui_test_settle (win);
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  g_assert_null (offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 2);
  float p;
  g_assert_cmpint (offshoot_run_panel_get_result_class (run, 0), ==,
                   engine_top_class (g, photo, &p));
  g_assert_nonnull (offshoot_run_panel_get_result_picture (run, 1));
  g_assert_true (g_str_has_prefix (offshoot_run_panel_get_result_text (run, 1), "heatmap 15×15, "));
  GdkPaintable *pic = offshoot_run_panel_get_result_picture (run, 1);
  /* Drawn over the photo at its size, with the colour bar beside it, and opaque (the photo
   * shows through the colours, not the panel's background). */
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (pic), >=, 64);
  GdkTexture *tex = GDK_TEXTURE (pic);
  int tw = gdk_texture_get_width (tex), th = gdk_texture_get_height (tex);
  g_autofree guchar *px = g_malloc ((gsize) tw * th * 4);
  gdk_texture_download (tex, px, (gsize) tw * 4);
  const guchar *centre = px + ((gsize) (th / 2) * tw + tw / 4) * 4;
  g_assert_cmpint (centre[3], ==, 255);
  g_assert_false (centre[0] == 255 && centre[1] == 255 && centre[2] == 255);

  g_autofree char *dir = g_dir_make_tmp ("offshoot-export-XXXXXX", NULL);
  g_autofree char *py = g_build_filename (dir, "aux.py", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (offshoot_window_write_snippet (win, py, &error));
  g_autofree char *code = NULL;
  g_assert_true (g_file_get_contents (py, &code, NULL, NULL));
  g_assert_true (strstr (code, "aux_head_out") != NULL);
  g_assert_true (strstr (code, "add_2") != NULL);
  g_autofree char *saved = g_build_filename (dir, "face_aux.h5", NULL);
  offshoot_window_export_model_to (win, saved);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  OshError err = { 0 };
  OshGraph *back = osh_model_load (saved, &err);
  g_assert_nonnull (back);
  g_assert_cmpint (back->n_outputs, ==, 2);
  g_assert_cmpint (osh_graph_find_layer (back, -1, "aux_head_out"), >=, 0);
  osh_graph_free (back);
  g_remove (saved);
  g_remove (py);
  g_rmdir (dir);

  g_action_group_activate_action (G_ACTION_GROUP (win), "undo", NULL);
  ui_test_settle (win);
  g_assert_cmpint (offshoot_window_get_graph (win)->n_layers, ==, 46);
  g_assert_false (action_enabled (win, "export-snippet"));
  ui_test_close (win);
}

static void
test_zoom_actions (void)
{
  OffshootWindow *win = open_fixture ();
  OshCamera *cam = offshoot_graph_view_get_camera (offshoot_window_get_graph_view (win));
  g_action_group_activate_action (G_ACTION_GROUP (win), "zoom-fit", NULL);
  double fit = cam->zoom;
  g_action_group_activate_action (G_ACTION_GROUP (win), "zoom-in", NULL);
  g_assert_cmpfloat_with_epsilon (cam->zoom, fit * 1.25, 1e-9);
  g_action_group_activate_action (G_ACTION_GROUP (win), "zoom-out", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (win), "zoom-out", NULL);
  g_assert_cmpfloat_with_epsilon (cam->zoom, fit * 0.8, 1e-9);
  g_action_group_activate_action (G_ACTION_GROUP (win), "zoom-fit", NULL);
  g_assert_cmpfloat_with_epsilon (cam->zoom, fit, 1e-9);

  /* The wheel zooms at the pointer: the world point under it stays put. */
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  GtkEventController *motion =
      ui_test_find_controller (GTK_WIDGET (view), GTK_TYPE_EVENT_CONTROLLER_MOTION);
  g_signal_emit_by_name (motion, "motion", 200.0, 150.0);
  double wx0, wy0, wx1, wy1;
  osh_camera_view_to_world (cam, 200, 150, &wx0, &wy0);
  osh_camera_zoom_at (cam, 1.2, 200, 150);
  osh_camera_view_to_world (cam, 200, 150, &wx1, &wy1);
  g_assert_cmpfloat_with_epsilon (wx0, wx1, 1e-6);
  g_assert_cmpfloat_with_epsilon (wy0, wy1, 1e-6);

  /* A drag pans by exactly the pointer's travel. */
  GtkEventController *drag = ui_test_find_controller (GTK_WIDGET (view), GTK_TYPE_GESTURE_DRAG);
  double cx = cam->cx;
  g_signal_emit_by_name (drag, "drag-begin", 300.0, 300.0);
  g_signal_emit_by_name (drag, "drag-update", 40.0, 0.0);
  g_assert_cmpfloat_with_epsilon (cam->cx, cx - 40.0 / cam->zoom, 1e-9);
  ui_test_close (win);
}

/* The fixture with two repeated blocks of two layers (block1a_*, block1b_*) after its
 * spatial output, as a third output. */
static OshGraph *
with_blocks (const OshGraph *g)
{
  OshError err = { 0 };
  OshGraph *d = osh_graph_copy (g, &err);
  OshRef x = d->outputs[1];
  static const char *const names[] = { "block1a_relu", "block1a_relu_2", "block1b_relu",
                                       "block1b_relu_2" };
  for (int i = 0; i < 4; i++)
    {
      int l = osh_graph_add_layer (d, -1, names[i], "Relu", NULL, &err);
      x = (OshRef){ osh_graph_add_node (d, l, &x, 1, 1, &err), 0 };
      g_assert_cmpint (x.node, >=, 0);
    }
  OshRef outs[3] = { d->outputs[0], d->outputs[1], x };
  g_autofree OshRef *ins = g_memdup2 (d->inputs, sizeof (OshRef) * d->n_inputs);
  g_assert_true (osh_graph_set_io (d, -1, ins, d->n_inputs, outs, 3, &err));
  osh_graph_infer_shapes (d, &err); /* best effort: labels only */
  return d;
}

static void
test_collapse_blocks (void)
{
  OffshootWindow *win = open_fixture ();
  offshoot_window_apply_edit (win, with_blocks (offshoot_window_get_graph (win)));
  ui_test_settle (win);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  int expanded = offshoot_graph_view_count_items (view);
  g_action_group_change_action_state (G_ACTION_GROUP (win), "collapse-blocks",
                                      g_variant_new_boolean (TRUE));
  g_assert_true (offshoot_window_is_busy (win)); /* laying out again in the worker */
  ui_test_settle (win);
  /* Blocks of several boxes become one box each (block1a_*, block1b_*, and whatever else
   * the layout counts as repeated). */
  g_assert_cmpint (offshoot_graph_view_count_items (view), <=, expanded - 2);
  g_action_group_change_action_state (G_ACTION_GROUP (win), "collapse-blocks",
                                      g_variant_new_boolean (FALSE));
  ui_test_settle (win);
  g_assert_cmpint (offshoot_graph_view_count_items (view), ==, expanded);
  /* One group by name (a double click on its frame does the same). */
  g_assert_true (offshoot_graph_view_toggle_group (view, "block1a"));
  ui_test_settle (win);
  g_assert_cmpint (offshoot_graph_view_count_items (view), ==, expanded - 1);
  /* The help overlay (Ctrl+?) comes from the GResource. */
  g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (win)));
  ui_test_close (win);
}

static void
test_search (void)
{
  OffshootWindow *win = open_fixture ();
  const OshGraph *g = offshoot_window_get_graph (win);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  int expected = 0;
  for (int i = 0; i < g->n_layers; i++)
    if (g_strrstr (g->layers[i].name, "Conv"))
      expected++;
  g_assert_cmpint (expected, ==, 6); /* stem, 2 × 2 block convs, spatial */
  g_action_group_activate_action (G_ACTION_GROUP (win), "find", NULL);
  g_assert_cmpint (offshoot_graph_view_search (view, "conv"), ==, expected);
  g_assert_cmpint (offshoot_graph_view_search_count (view), ==, expected);
  g_action_group_activate_action (G_ACTION_GROUP (win), "find-next", NULL);
  g_assert_cmpint (offshoot_graph_view_search_step (view, -1), ==, 0);
  g_assert_cmpint (offshoot_graph_view_search_step (view, -1), ==, expected - 1);
  g_assert_cmpint (offshoot_graph_view_search (view, "no such layer"), ==, 0);
  ui_test_close (win);
}

static void
test_bad_file_shows_error (void)
{
  g_autofree char *path = osh_test_fixture ("ui/test-window.c");
  OffshootWindow *win = new_window ();
  offshoot_window_open_spec (win, path);
  ui_test_settle (win);
  const char *err = offshoot_window_get_error (win);
  g_assert_nonnull (err);
  g_assert_true (strstr (err, "test-window.c") != NULL); /* names the file */
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "empty");
  g_assert_null (offshoot_window_get_graph (win));
  g_assert_false (action_enabled (win, "export-model"));
  ui_test_close (win);
}

static void
test_cancel_load (void)
{
  g_autofree char *path = osh_test_fixture ("ui/fixtures/tiny-cnn.onnx");
  OffshootWindow *win = new_window ();
  offshoot_window_open_spec (win, path);
  g_assert_true (action_enabled (win, "cancel"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "cancel", NULL);
  g_assert_false (offshoot_window_is_busy (win));
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "empty");
  /* The abandoned load finishes in its worker and is dropped. */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_assert_null (offshoot_window_get_graph (win));
  g_assert_null (offshoot_window_get_error (win));
  ui_test_close (win);
}

static void
test_default_model (void)
{
  OffshootWindow *win = new_window ();
  offshoot_window_open_default (win);
  ui_test_settle (win);
  /* Without an embedded model the window starts empty, without an error. */
  if (offshoot_window_get_graph (win))
    g_assert_cmpstr (offshoot_window_get_page (win), ==, "graph");
  else
    g_assert_cmpstr (offshoot_window_get_page (win), ==, "empty");
  g_assert_null (offshoot_window_get_error (win));
  ui_test_close (win);
}

static void
test_undo_redo (void)
{
  OffshootWindow *win = open_fixture ();
  const OshGraph *original = offshoot_window_get_graph (win);
  OshError err = { 0 };
  OshGraph *copy = osh_graph_copy (original, &err);
  g_assert_nonnull (copy);
  offshoot_window_apply_edit (win, copy);
  ui_test_settle (win);
  g_assert_true (offshoot_window_get_graph (win) == copy);
  g_assert_true (action_enabled (win, "undo"));
  g_assert_false (action_enabled (win, "redo"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "undo", NULL);
  ui_test_settle (win);
  g_assert_true (offshoot_window_get_graph (win) == original);
  g_assert_true (action_enabled (win, "redo"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "redo", NULL);
  ui_test_settle (win);
  g_assert_true (offshoot_window_get_graph (win) == copy);
  ui_test_close (win);
}

static void
test_disconnection_banner (void)
{
  OffshootWindow *win = open_fixture ();
  g_assert_cmpint (offshoot_window_count_fixes (win), ==, 0);
  g_assert_false (gtk_revealer_get_reveal_child (win->disconnect_revealer));
  offshoot_window_apply_edit (win, ui_test_with_foreign_branch (offshoot_window_get_graph (win)));
  ui_test_settle (win);
  g_assert_true (gtk_revealer_get_reveal_child (win->disconnect_revealer));
  const char *msg = gtk_label_get_text (win->disconnect_message);
  g_assert_true (g_str_has_prefix (msg, "Graph disconnected"));
  g_assert_true (strstr (msg, "foreign_relu") != NULL);
  g_assert_cmpstr (gtk_label_get_text (win->disconnect_explanation), !=, "");
  int n = offshoot_window_count_fixes (win);
  g_assert_cmpint (n, >=, 1);
  /* The first fix makes the graph connected again, as one undoable step. */
  g_assert_true (offshoot_window_apply_fix (win, 0));
  ui_test_settle (win);
  g_assert_false (gtk_revealer_get_reveal_child (win->disconnect_revealer));
  g_assert_cmpint (offshoot_window_count_fixes (win), ==, 0);
  g_action_group_activate_action (G_ACTION_GROUP (win), "undo", NULL);
  ui_test_settle (win);
  g_assert_true (gtk_revealer_get_reveal_child (win->disconnect_revealer));
  ui_test_close (win);
}

/* Dropping files on the window: a model opens, a picture becomes the run input; the opened
 * model shows up under Open Recent; the graph exports as a picture. */
static void
test_drop_recent_picture (void)
{
  if (!have_face_corpus ())
    return;
  OffshootWindow *win = new_window ();
  GtkDropTarget *drop =
      GTK_DROP_TARGET (ui_test_find_controller (GTK_WIDGET (win), GTK_TYPE_DROP_TARGET));
  g_assert_nonnull (drop);
  g_autofree char *model = osh_test_fixture ("ui/fixtures/tiny-cnn.onnx");
  g_autofree char *photo = osh_test_corpus (FACE_PHOTO);
  g_autoptr (GFile) model_file = g_file_new_for_path (model);
  g_autoptr (GFile) photo_file = g_file_new_for_path (photo);
  GSList *files = g_slist_append (g_slist_append (NULL, model_file), photo_file);
  GValue value = G_VALUE_INIT;
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_set_boxed (&value, files);
  gboolean handled = FALSE;
  g_signal_emit_by_name (drop, "drop", &value, 10.0, 10.0, &handled);
  g_value_unset (&value);
  g_slist_free (files);
  g_assert_true (handled);
  ui_test_settle (win);
  g_assert_nonnull (offshoot_window_get_graph (win));
  g_assert_true (offshoot_run_panel_can_run (offshoot_window_get_run_panel (win)));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->side_stack), ==, "run");

  /* Open Recent lists the model (the recent manager saves in an idle). */
  gboolean listed = FALSE;
  for (int i = 0; i < 1000 && !listed; i++)
    {
      GMenuModel *recent = G_MENU_MODEL (win->recent_submenu);
      for (int k = 0; k < g_menu_model_get_n_items (recent) && !listed; k++)
        {
          g_autofree char *label = NULL;
          g_menu_model_get_item_attribute (recent, k, G_MENU_ATTRIBUTE_LABEL, "s", &label);
          listed = g_strcmp0 (label, "tiny-cnn.onnx") == 0;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  g_assert_true (listed);

  g_autofree char *dir = g_dir_make_tmp ("offshoot-picture-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "graph.png", NULL);
  g_autoptr (GError) error = NULL;
  offshoot_window_export_picture_to (win, png);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_autoptr (GdkTexture) tex = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_height (tex), >,
                   gdk_texture_get_width (tex)); /* top to bottom */
  g_remove (png);
  g_rmdir (dir);
  ui_test_close (win);
}

/* The shortcuts the issue asks for are bound, each to an action the window really has. */
static void
test_shortcuts (void)
{
  static const struct
  {
    const char *action, *accel;
  } wanted[] = {
    { "win.open", "<Control>o" },
    { "win.export", "<Control>e" },
    { "win.find", "<Control>f" },
    { "win.zoom-in", "<Control>plus" },
    { "win.zoom-out", "<Control>minus" },
    { "win.zoom-fit", "<Control>0" },
    { "win.run", "F5" },
    { "win.undo", "<Control>z" },
    { "win.redo", "<Shift><Control>z" },
    { "win.attach-head", "<Control>h" },
  };
  offshoot_application_set_accels (app);
  OffshootWindow *win = new_window ();
  for (size_t i = 0; i < G_N_ELEMENTS (wanted); i++)
    {
      g_auto (GStrv) accels = gtk_application_get_accels_for_action (app, wanted[i].action);
      g_assert_nonnull (accels[0]);
      guint key, want_key;
      GdkModifierType mods, want_mods;
      g_assert_true (gtk_accelerator_parse (accels[0], &key, &mods));
      g_assert_true (gtk_accelerator_parse (wanted[i].accel, &want_key, &want_mods));
      g_assert_cmpuint (key, ==, want_key);
      g_assert_cmpuint (mods, ==, want_mods);
      g_assert_true (g_action_group_has_action (G_ACTION_GROUP (win), wanted[i].action + 4));
    }
  ui_test_close (win);
}

/* Every button without a text label says what it does (tooltip; the .ui also sets an
 * accessible label on each). */
static void
check_buttons (GtkWidget *w, int *n_checked)
{
  if (GTK_IS_BUTTON (w) || GTK_IS_MENU_BUTTON (w))
    {
      const char *label = GTK_IS_BUTTON (w) ? gtk_button_get_label (GTK_BUTTON (w))
                                            : gtk_menu_button_get_label (GTK_MENU_BUTTON (w));
      GtkWidget *parent = gtk_widget_get_parent (w);
      gboolean inner = parent && GTK_IS_MENU_BUTTON (parent); /* the menu button's own button */
      gboolean switcher = parent && GTK_IS_STACK_SWITCHER (parent);
      /* GtkSearchBar's own close button. */
      gboolean search_close =
          parent && GTK_IS_CENTER_BOX (parent) && gtk_widget_get_ancestor (w, GTK_TYPE_SEARCH_BAR);
      /* Minimize, maximize, close, spin buttons' steppers, drop-downs: GTK names them. */
      gboolean controls = parent
                          && (GTK_IS_WINDOW_CONTROLS (parent) || GTK_IS_SPIN_BUTTON (parent)
                              || GTK_IS_DROP_DOWN (parent));
      if (!label && !inner && !switcher && !search_close && !controls)
        {
          if (!gtk_widget_get_tooltip_text (w))
            g_error ("a %s (icon %s, in a %s) without a label or tooltip", G_OBJECT_TYPE_NAME (w),
                     GTK_IS_BUTTON (w) ? gtk_button_get_icon_name (GTK_BUTTON (w)) : "?",
                     G_OBJECT_TYPE_NAME (parent));
          (*n_checked)++;
        }
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    check_buttons (c, n_checked);
}

static void
test_buttons_are_named (void)
{
  OffshootWindow *win = new_window ();
  int n = 0;
  check_buttons (GTK_WIDGET (win), &n);
  GtkWidget *titlebar = gtk_window_get_titlebar (GTK_WINDOW (win));
  check_buttons (titlebar, &n);
  g_assert_cmpint (n, >=, 10);
  ui_test_close (win);
}

int
main (int argc, char **argv)
{
  /* Recent files go to a scratch place; fly-to jumps straight to its end (no animations), so
   * positions are known right after a search. */
  app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.Test");
  g_test_add_func ("/ui/window/opens-model", test_opens_model);
  g_test_add_func ("/ui/window/click-selects-layer", test_click_selects_layer);
  g_test_add_func ("/ui/window/zoom-pan-actions", test_zoom_actions);
  g_test_add_func ("/ui/window/face-model-find-and-click", test_face_model_find_and_click);
  g_test_add_func ("/ui/window/run-face-model", test_run_face_model);
  g_test_add_func ("/ui/window/attach-run-export", test_attach_run_export);
  g_test_add_func ("/ui/window/search", test_search);
  g_test_add_func ("/ui/window/collapse-blocks", test_collapse_blocks);
  g_test_add_func ("/ui/window/bad-file-shows-error", test_bad_file_shows_error);
  g_test_add_func ("/ui/window/cancel-load", test_cancel_load);
  g_test_add_func ("/ui/window/default-model", test_default_model);
  g_test_add_func ("/ui/window/undo-redo", test_undo_redo);
  g_test_add_func ("/ui/window/buttons-are-named", test_buttons_are_named);
  g_test_add_func ("/ui/window/disconnection-banner", test_disconnection_banner);
  g_test_add_func ("/ui/window/drop-recent-picture", test_drop_recent_picture);
  g_test_add_func ("/ui/window/shortcuts", test_shortcuts);
  return ui_test_run (app);
}
