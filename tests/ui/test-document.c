/* One document per open model (issue 17): what belongs to a model — preprocessing, class
 * names, history, selection, results, modified state — does not carry over to the next
 * one, and undo brings back a state the window can use. The real window, driven through
 * its actions, its entries and its input controllers. */
#include <gtk/gtk.h>
#include <string.h>

#include "offshoot-window-private.h"
#include "osh-class-names.h"
#include "osh-exec.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-outputs.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;

#define SEED_MODEL "edit/fixtures/seed/model.h5"
#define TINY_CNN "ui/fixtures/tiny-cnn.onnx"
#define SAMPLE "resource:///io/offshoot/Offshoot/samples/circle-1.png"
#define OTHER_SAMPLE "resource:///io/offshoot/Offshoot/samples/square-2.png"

static void
open_in (OffshootWindow *win, const char *spec)
{
  offshoot_window_open_spec (win, spec);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_assert_cmpstr (offshoot_window_get_page (win), ==, "graph");
}

static OffshootWindow *
open_fixture (const char *relative)
{
  g_autofree char *path = osh_test_fixture (relative);
  OffshootWindow *win = ui_test_window_new (app);
  open_in (win, path);
  return win;
}

static void
run_on (OffshootWindow *win, const char *uri)
{
  g_autoptr (GFile) file = g_file_new_for_uri (uri);
  offshoot_window_set_run_input (win, file);
  ui_test_activate (win, "run");
  ui_test_settle (win);
  g_assert_null (offshoot_run_panel_get_error (offshoot_window_get_run_panel (win)));
}

/* Types into an entry as the keyboard does (the entry's text changes, its signals fire). */
static void
type_into (GtkEditable *entry, const char *text)
{
  gtk_editable_set_text (entry, "");
  int pos = 0;
  gtk_editable_insert_text (entry, text, -1, &pos);
}

static void
click_layer (OffshootWindow *win, int layer)
{
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  double x, y;
  offshoot_graph_view_select_layer (view, layer, TRUE); /* brings it into view */
  offshoot_graph_view_select_layer (view, -1, FALSE);
  g_assert_true (offshoot_graph_view_layer_position (view, layer, &x, &y));
  ui_test_click (GTK_WIDGET (view), x, y, 1);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, layer);
}

/* Open the default model, then the seed .h5 that wants 0…1: the Run panel proposes what a
 * fresh window proposes for it, not the default model's 0…255. */
static void
test_preprocessing_follows_model (void)
{
  OffshootWindow *win = ui_test_window_new (app);
  open_in (win, "@default");
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  OshPreprocess before;
  offshoot_run_panel_get_preprocess (run, &before);

  g_autofree char *seed = osh_test_fixture (SEED_MODEL);
  open_in (win, seed);
  OshPreprocess shown, fresh;
  offshoot_run_panel_get_preprocess (run, &shown);
  osh_preprocess_init (&fresh);
  g_assert_true (osh_preprocess_propose (offshoot_window_get_graph (win), &fresh));
  /* The two models want different ranges, or this test would prove nothing. */
  g_assert_cmpfloat (fresh.scale, !=, before.scale);
  g_assert_cmpfloat (shown.scale, ==, fresh.scale);
  g_assert_cmpfloat (shown.offset, ==, fresh.offset);
  g_assert_cmpint (shown.height, ==, fresh.height);
  g_assert_cmpint (shown.width, ==, fresh.width);
  g_assert_cmpint (shown.channels, ==, fresh.channels);

  /* And so the run gives `offshoot run`'s answer: the same top class and p. */
  run_on (win, SAMPLE);
  g_autoptr (GFile) file = g_file_new_for_uri (SAMPLE);
  g_autoptr (GBytes) bytes = g_file_load_bytes (file, NULL, NULL, NULL);
  OshError err = { 0 };
  gsize size;
  const void *data = g_bytes_get_data (bytes, &size);
  OshImage *img = osh_image_load_bytes ("circle-1.png", data, size, &err);
  g_assert_nonnull (img);
  OshTensor *x = osh_image_to_tensor (img, &fresh, &err);
  OshExecOptions opt = osh_exec_options_default ();
  OshTensor *y[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  g_assert_true (osh_exec_run_once (offshoot_window_get_graph (win), &opt,
                                    (const OshTensor *[]){ x }, 1, y, &err));
  OshTopEntry top[1];
  g_assert_cmpint (osh_output_top_k (y[0], 0, 1, top, &err), ==, 1);
  g_autofree char *want = g_strdup_printf ("class %d %.1f %%", top[0].index, 100.0 * top[0].p);
  g_assert_cmpstr (offshoot_run_panel_get_result_text (run, 0), ==, want);
  osh_tensor_free (y[0]);
  osh_tensor_free (x);
  osh_image_free (img);
  ui_test_close (win);
}

/* Class names belong to the model they were typed for; names that do not fit an output
 * are flagged, not used. */
static void
test_class_names_stay_with_model (void)
{
  OffshootWindow *win = ui_test_window_new (app);
  open_in (win, "@default");
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  GtkEditable *names = GTK_EDITABLE (
      gtk_widget_get_template_child (GTK_WIDGET (run), OFFSHOOT_TYPE_RUN_PANEL, "labels_entry"));
  /* The default model brings its own names (osh-class-names.h), as `offshoot run` uses them. */
  g_assert_cmpstr (gtk_editable_get_text (names), ==, "circle, square, triangle, cross");
  run_on (win, SAMPLE);
  g_assert_true (g_str_has_prefix (offshoot_run_panel_get_result_text (run, 0), "circle "));
  const char *emotions = "angry, disgust, fear, happy, sad, surprise, neutral";
  type_into (names, emotions);

  g_autofree char *seed = osh_test_fixture (SEED_MODEL);
  open_in (win, seed);
  g_assert_cmpstr (gtk_editable_get_text (names), ==, "");

  /* Seven names for the seed model's four classes. */
  type_into (names, emotions);
  run_on (win, SAMPLE);
  const char *warning = offshoot_run_panel_get_names_warning (run);
  g_assert_nonnull (warning);
  g_assert_true (strstr (warning, "7 class names for 4 classes") != NULL);
  const char *text = offshoot_run_panel_get_result_text (run, 0);
  g_assert_true (g_str_has_prefix (text, "class "));
  /* The warning is on screen, in the results. */
  GtkWidget *box = GTK_WIDGET (
      gtk_widget_get_template_child (GTK_WIDGET (run), OFFSHOOT_TYPE_RUN_PANEL, "results_box"));
  gboolean shown = FALSE;
  for (GtkWidget *w = box; w && !shown;)
    {
      shown = GTK_IS_LABEL (w) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (w)), warning) == 0
              && gtk_widget_is_visible (w) && gtk_widget_has_css_class (w, "warning");
      /* Depth-first walk. */
      GtkWidget *next = gtk_widget_get_first_child (w);
      while (!next && w && w != box)
        {
          next = gtk_widget_get_next_sibling (w);
          if (!next)
            w = gtk_widget_get_parent (w);
        }
      w = next;
    }
  g_assert_true (shown);

  /* Four names fit: they are used. */
  type_into (names, "a, b, c, d");
  ui_test_activate (win, "run");
  ui_test_settle (win);
  g_assert_null (offshoot_run_panel_get_names_warning (run));
  g_assert_false (g_str_has_prefix (offshoot_run_panel_get_result_text (run, 0), "class "));
  ui_test_close (win);
}

/* Names typed in the window are saved into the exported file (the Keras formats keep them in
 * the model config), where `offshoot run` and the next window read them. */
static void
test_class_names_saved_on_export (void)
{
  g_autofree char *seed = osh_test_fixture (SEED_MODEL);
  OffshootWindow *win = ui_test_window_new (app);
  open_in (win, seed);
  GtkEditable *names = GTK_EDITABLE (gtk_widget_get_template_child (
      GTK_WIDGET (offshoot_window_get_run_panel (win)), OFFSHOOT_TYPE_RUN_PANEL, "labels_entry"));
  g_assert_cmpstr (gtk_editable_get_text (names), ==, ""); /* the seed model has none */
  type_into (names, "cat, dog , bird,fish");
  g_autofree char *dir = g_dir_make_tmp ("offshoot-names-XXXXXX", NULL);
  const char *formats[] = { "model.keras", "model.h5" };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *out = g_build_filename (dir, formats[i], NULL);
      offshoot_window_export_model_to (win, out);
      ui_test_settle (win);
      OshError err = { 0 };
      OshGraph *saved = osh_model_load (out, &err);
      g_assert_nonnull (saved);
      int n = 0;
      char **got = osh_class_names_get (saved, &n);
      g_assert_cmpint (n, ==, 4);
      g_assert_cmpstr (got[0], ==, "cat");
      g_assert_cmpstr (got[1], ==, "dog");
      g_assert_cmpstr (got[3], ==, "fish");
      osh_class_names_free (got);
      osh_graph_free (saved);
      g_remove (out);
    }
  /* The model as opened carries no names: the names went into the copy, not the shared graph. */
  g_assert_cmpint (json_array_size (json_object_get (offshoot_window_get_graph (win)->meta,
                                                     OSH_META_CLASS_NAMES)),
                   ==, 0);
  g_rmdir (dir);
  ui_test_close (win);
}

/* Attach a head (it becomes selected), undo, run: the run works on the model as it is now,
 * and the selection is one that exists in it. */
static void
test_undo_restores_selection (void)
{
  OffshootWindow *win = open_fixture (TINY_CNN);
  const OshGraph *g = offshoot_window_get_graph (win);
  int at = osh_graph_find_layer (g, -1, "/block2/Relu_1");
  click_layer (win, at);
  ui_test_activate (win, "attach-head");
  OffshootHeadPanel *head = offshoot_window_get_head_panel (win);
  offshoot_head_panel_set_spec (head, "seg");
  g_assert_true (offshoot_head_panel_apply (head));
  ui_test_settle (win);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  const OshGraph *edited = offshoot_window_get_graph (win);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==,
                   osh_graph_find_layer (edited, -1, "aux_head_out"));

  ui_test_activate (win, "undo");
  ui_test_settle (win);
  g_assert_true (offshoot_window_get_graph (win) == g);
  /* The layer selected before the head was attached is selected again. */
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==, at);
  g_assert_cmpstr (offshoot_layer_panel_get_text (offshoot_window_get_layer_panel (win), "name"),
                   ==, "/block2/Relu_1");
  run_on (win, SAMPLE);
  g_assert_cmpint (offshoot_run_panel_get_n_results (offshoot_window_get_run_panel (win)), ==, 2);

  /* Redo brings the head back, selected. */
  ui_test_activate (win, "redo");
  ui_test_settle (win);
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (view), ==,
                   osh_graph_find_layer (offshoot_window_get_graph (win), -1, "aux_head_out"));
  ui_test_close (win);
}

/* After an undo, the search still finds what it found: Enter goes to the match. */
static void
test_search_survives_undo (void)
{
  OffshootWindow *win = open_fixture (TINY_CNN);
  ui_test_activate (win, "find");
  type_into (GTK_EDITABLE (win->search_entry), "/fc/Gemm");
  g_signal_emit_by_name (win->search_entry, "search-changed"); /* not waiting for the delay */
  g_assert_cmpstr (gtk_label_get_text (win->search_status), ==, "1 of 1");
  OshError err = { 0 };
  offshoot_window_apply_edit (win, osh_graph_copy (offshoot_window_get_graph (win), &err));
  ui_test_settle (win);
  ui_test_activate (win, "undo");
  ui_test_settle (win);
  g_signal_emit_by_name (win->search_entry, "activate"); /* Enter */
  g_assert_cmpstr (gtk_label_get_text (win->search_status), ==, "1 of 1");
  /* Enter selects the match. */
  g_assert_cmpint (offshoot_graph_view_get_selected_layer (offshoot_window_get_graph_view (win)),
                   ==, osh_graph_find_layer (offshoot_window_get_graph (win), -1, "/fc/Gemm"));
  ui_test_close (win);
}

/* Results go (or are marked out of date) the moment what made them changes; the heatmap's
 * opacity stays as the user left it. */
static void
test_results_follow_inputs (void)
{
  OffshootWindow *win = open_fixture (TINY_CNN);
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  run_on (win, SAMPLE);
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 2);
  g_assert_nonnull (offshoot_run_panel_get_result_picture (run, 1));
  g_assert_false (offshoot_run_panel_results_are_stale (run));

  /* Another picture: the label and heatmap of the previous one are gone. */
  g_autoptr (GFile) other = g_file_new_for_uri (OTHER_SAMPLE);
  offshoot_window_set_run_input (win, other);
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 0);
  g_assert_null (offshoot_run_panel_get_result_picture (run, 1));

  /* Opacity: moved to 0.8, it stays for the next run. */
  ui_test_activate (win, "run");
  ui_test_settle (win);
  g_assert_cmpfloat (offshoot_run_panel_get_opacity (run, 1), ==, 0.5);
  offshoot_run_panel_set_opacity (run, 1, 0.8);
  ui_test_activate (win, "run");
  ui_test_settle (win);
  g_assert_cmpfloat_with_epsilon (offshoot_run_panel_get_opacity (run, 1), 0.8, 1e-9);

  /* Another value range: the results are marked out of date. */
  GtkDropDown *range = GTK_DROP_DOWN (
      gtk_widget_get_template_child (GTK_WIDGET (run), OFFSHOOT_TYPE_RUN_PANEL, "range_drop"));
  gtk_drop_down_set_selected (range, (gtk_drop_down_get_selected (range) + 1) % 3);
  g_assert_true (offshoot_run_panel_results_are_stale (run));
  ui_test_activate (win, "run");
  ui_test_settle (win);
  g_assert_false (offshoot_run_panel_results_are_stale (run));

  /* An edit of the model: the results of the old graph go. */
  OshError err = { 0 };
  offshoot_window_apply_edit (win, osh_graph_copy (offshoot_window_get_graph (win), &err));
  ui_test_settle (win);
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 0);
  ui_test_close (win);
}

/* The "Add input" fix makes the foreign root a model input: the Run panel then asks for it
 * and the model runs on both (the new branch computes relu of the array given). */
static void
test_add_input_fix_runs (void)
{
  OffshootWindow *win = open_fixture (TINY_CNN);
  offshoot_window_apply_edit (win, ui_test_with_foreign_branch (offshoot_window_get_graph (win)));
  ui_test_settle (win);
  GtkWidget *add = NULL;
  for (GtkWidget *b = gtk_widget_get_first_child (GTK_WIDGET (win->disconnect_fixes)); b;
       b = gtk_widget_get_next_sibling (b))
    if (g_str_has_prefix (g_object_get_data (G_OBJECT (b), "fix-id"), "add-input:"))
      add = b;
  g_assert_nonnull (add);
  g_signal_emit_by_name (add, "clicked");
  ui_test_settle (win);
  g_assert_cmpint (offshoot_window_get_graph (win)->n_inputs, ==, 2);
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  g_assert_cmpint (offshoot_run_panel_get_n_more_inputs (run), ==, 1);
  g_autoptr (GFile) picture = g_file_new_for_uri (SAMPLE);
  offshoot_window_set_run_input (win, picture);
  g_assert_false (offshoot_run_panel_can_run (run)); /* the second input is missing */

  g_autofree char *dir = g_dir_make_tmp ("offshoot-input-XXXXXX", NULL);
  g_autofree char *npy = g_build_filename (dir, "second.npy", NULL);
  OshError err = { 0 };
  OshTensor *x = osh_tensor_new (&(OshShape){ .rank = 2, .dim = { 1, 4 } }, &err);
  memcpy (x->data, (float[]){ -1, 2, -3, 4 }, sizeof (float[4]));
  g_assert_true (osh_npy_write (npy, x, &err));
  osh_tensor_free (x);
  g_autoptr (GFile) second = g_file_new_for_path (npy);
  offshoot_run_panel_set_more_input (run, 0, second);
  g_assert_true (offshoot_run_panel_can_run (run));
  ui_test_activate (win, "run");
  ui_test_settle (win);
  if (offshoot_run_panel_get_error (run))
    g_error ("the run failed: %s", offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 3);
  GdkPaintable *pic = NULL;
  OshTensor *relu = NULL;
  g_assert_true (offshoot_run_panel_get_activation (run, "foreign_relu", &pic, &relu));
  g_assert_cmpint (osh_tensor_numel (relu), ==, 4);
  g_assert_cmpfloat (relu->data[0], ==, 0);
  g_assert_cmpfloat (relu->data[1], ==, 2);
  g_assert_cmpfloat (relu->data[2], ==, 0);
  g_assert_cmpfloat (relu->data[3], ==, 4);
  osh_tensor_free (relu);
  g_clear_object (&pic);
  g_remove (npy);
  g_rmdir (dir);
  ui_test_close (win);
}

static void
respond (OffshootWindow *win, int response)
{
  g_assert_nonnull (win->unsaved_dialog);
  gtk_dialog_response (GTK_DIALOG (win->unsaved_dialog), response);
}

/* An edited model is not dropped without asking; the title says it was edited. */
static void
test_unsaved_changes (void)
{
  OffshootWindow *win = open_fixture (TINY_CNN);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "tiny-cnn.onnx — Offshoot");
  OshError err = { 0 };
  offshoot_window_apply_edit (win, osh_graph_copy (offshoot_window_get_graph (win), &err));
  ui_test_settle (win);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "• tiny-cnn.onnx — Offshoot");
  g_assert_cmpstr (gtk_label_get_text (win->title_label), ==, "• tiny-cnn.onnx");
  g_assert_cmpstr (gtk_label_get_text (win->subtitle_label), ==, "torch_jit");

  /* Opening another model asks; Cancel keeps the edited one. */
  const OshGraph *edited = offshoot_window_get_graph (win);
  g_autofree char *seed = osh_test_fixture (SEED_MODEL);
  offshoot_window_open_spec (win, seed);
  ui_test_settle (win);
  respond (win, GTK_RESPONSE_CANCEL);
  ui_test_settle (win);
  g_assert_true (offshoot_window_get_graph (win) == edited);
  g_assert_null (win->unsaved_dialog);

  /* Closing asks too (the close button, Ctrl+Q): Cancel keeps the window. */
  gpointer weak = win;
  g_object_add_weak_pointer (G_OBJECT (win), &weak);
  gtk_window_close (GTK_WINDOW (win));
  ui_test_settle (win);
  g_assert_nonnull (weak);
  respond (win, GTK_RESPONSE_CANCEL);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win)));

  /* Undo back to the file as opened: nothing to ask, no marker. */
  ui_test_activate (win, "undo");
  ui_test_settle (win);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "tiny-cnn.onnx — Offshoot");
  ui_test_activate (win, "redo");
  ui_test_settle (win);

  /* Discard on open: the other model opens. */
  offshoot_window_open_spec (win, seed);
  respond (win, 1 /* Discard */);
  ui_test_settle (win);
  g_assert_cmpstr (offshoot_window_get_graph (win)->name, ==, "outer");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "model.h5 — Offshoot");
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "undo"));

  /* Edit again, then Discard on close: the window goes. */
  offshoot_window_apply_edit (win, osh_graph_copy (offshoot_window_get_graph (win), &err));
  ui_test_settle (win);
  gtk_window_close (GTK_WINDOW (win));
  respond (win, 1 /* Discard */);
  UI_TEST_WAIT_WHILE (weak, "the window to close after Discard");
}

int
main (int argc, char **argv)
{
  app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.TestDocument");
  g_test_add_func ("/ui/document/preprocessing-follows-model", test_preprocessing_follows_model);
  g_test_add_func ("/ui/document/class-names-stay-with-model", test_class_names_stay_with_model);
  g_test_add_func ("/ui/document/class-names-saved-on-export", test_class_names_saved_on_export);
  g_test_add_func ("/ui/document/undo-restores-selection", test_undo_restores_selection);
  g_test_add_func ("/ui/document/search-survives-undo", test_search_survives_undo);
  g_test_add_func ("/ui/document/results-follow-inputs", test_results_follow_inputs);
  g_test_add_func ("/ui/document/unsaved-changes", test_unsaved_changes);
  g_test_add_func ("/ui/document/add-input-fix-runs", test_add_input_fix_runs);
  return ui_test_run (app);
}
