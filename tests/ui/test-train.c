/* The Train view (issue 19, item 8) driven through the real widgets: the default model gets the
 * seed head at block5a_expand_conv, trains on `offshoot samples --train 40` in a worker, and the
 * trained weights are the document's — Run's output changes, Undo brings the fresh head back
 * bit for bit, Save writes the trained weights, the title shows the change, the history is
 * `offshoot fit`'s for the same settings — and Stop in the
 * middle of a run leaves the model as it was. A screenshot of the window after the run goes to
 * build/tests/ui/train-window.png (and the X root window's to train-root.png under Xvfb). */
#include <fcntl.h>
#include <gtk/gtk.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "offshoot-window-private.h"
#include "osh-model.h"
#include "osh-test.h"
#include "osh-workers.h"
#include "ui-test-window.h"

#define HEAD_AT "block5a_expand_conv"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OshTensor, osh_tensor_free)

static GtkApplication *app;
static char *data_dir; /* offshoot samples --train 40, made once */

/* Runs a CLI command's function with its stdout going to `out` (a file, or /dev/null). */
static int
run_command (int (*cmd) (int, char **), char **argv, const char *out)
{
  fflush (stdout);
  int saved = dup (1), fd = open (out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  dup2 (fd, 1);
  int status = cmd ((int) g_strv_length (argv), argv);
  fflush (stdout);
  dup2 (saved, 1);
  close (saved), close (fd);
  return status;
}

/* `offshoot samples -o DIR --train 40`, the command's own function. */
static void
make_data (void)
{
  if (data_dir)
    return;
  data_dir = g_dir_make_tmp ("osh-train-ui-XXXXXX", NULL);
  char *argv[] = { "samples", "-o", data_dir, "--train", "40", NULL };
  g_assert_cmpint (run_command (osh_cmd_samples, argv, "/dev/null"), ==, 0);
}

/* `offshoot fit` of the same head on the same data with the same settings: its --json history
 * (epochs rows with loss, iou, val_loss, val_iou). `second`: a second head at HEAD_AT too
 * ("classifier:4"; each output's metric then in rows "aux_head_out_iou", ...), or NULL. */
static json_t *
cli_history (int epochs, const char *second)
{
  g_autofree char *out = g_build_filename (data_dir, "fit.json", NULL);
  g_autofree char *model = g_build_filename (data_dir, "cli-fit.keras", NULL);
  g_autofree char *n = g_strdup_printf ("%d", epochs);
  g_autofree char *head2 = g_strdup_printf ("%s=%s", HEAD_AT, second ? second : "");
  char *argv[] = { "fit", "@default", "--attach", HEAD_AT "=seg", "--data", data_dir, "--epochs",
                   n,     "-o",       model,      "--json",       NULL,     NULL,     NULL };
  if (second)
    argv[11] = "--attach", argv[12] = head2;
  g_assert_cmpint (run_command (osh_cmd_fit, argv, out), ==, 0);
  json_error_t jerr;
  json_t *doc = json_load_file (out, 0, &jerr);
  g_assert_nonnull (doc);
  json_t *history = json_incref (json_object_get (doc, "history"));
  json_decref (doc);
  g_assert_cmpint (json_array_size (history), ==, epochs);
  return history;
}

/* Every weight of every layer of `a` equals the same layer's in `b`, bit for bit. */
static gboolean
same_weights (const OshGraph *a, const OshGraph *b)
{
  if (a->n_layers != b->n_layers)
    return FALSE;
  for (int i = 0; i < a->n_layers; i++)
    {
      const OshLayer *la = &a->layers[i], *lb = &b->layers[i];
      if (strcmp (la->name, lb->name) != 0 || la->n_weights != lb->n_weights)
        return FALSE;
      for (int w = 0; w < la->n_weights; w++)
        {
          const OshTensor *ta = la->weights[w].value, *tb = lb->weights[w].value;
          if (!ta || !tb || osh_tensor_numel (ta) != osh_tensor_numel (tb)
              || memcmp (ta->data, tb->data, sizeof (float) * osh_tensor_numel (ta)) != 0)
            return FALSE;
        }
    }
  return TRUE;
}

/* The head's weights (the trainable layers) of `g` equal those of the same layers in `h`. */
static gboolean
same_head_weights (const OshGraph *g, const OshGraph *h)
{
  int compared = 0;
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      if (!l->trainable || l->owner >= 0)
        continue;
      int j = osh_graph_find_layer (h, -1, l->name);
      g_assert_cmpint (j, >=, 0);
      g_assert_cmpint (h->layers[j].n_weights, ==, l->n_weights);
      for (int w = 0; w < l->n_weights; w++)
        {
          const OshTensor *a = l->weights[w].value, *b = h->layers[j].weights[w].value;
          g_assert_cmpint (osh_tensor_numel (a), ==, osh_tensor_numel (b));
          if (memcmp (a->data, b->data, sizeof (float) * osh_tensor_numel (a)) != 0)
            return FALSE;
          compared++;
        }
    }
  g_assert_cmpint (compared, >, 0);
  return TRUE;
}

/* Runs the Run tab on the data's first picture; the seed head's map (a copy). */
static OshTensor *
run_head (OffshootWindow *win)
{
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  g_autofree char *picture = g_build_filename (data_dir, "circle", "0000.png", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (picture);
  offshoot_run_panel_set_input (run, file);
  offshoot_run_panel_set_focus_layer (run, "aux_head_out");
  offshoot_run_panel_run (run);
  UI_TEST_WAIT_WHILE (offshoot_run_panel_is_running (run), "the run to finish");
  g_assert_null (offshoot_run_panel_get_error (run));
  GdkPaintable *picture_out = NULL;
  OshTensor *map = NULL;
  g_assert_true (offshoot_run_panel_get_activation (run, "aux_head_out", &picture_out, &map));
  g_clear_object (&picture_out);
  return map;
}

static gboolean
same_tensor (const OshTensor *a, const OshTensor *b)
{
  return osh_tensor_numel (a) == osh_tensor_numel (b)
         && memcmp (a->data, b->data, sizeof (float) * osh_tensor_numel (a)) == 0;
}

/* The default model with the seed head at HEAD_AT, its weights read, saved to `saved` (so the
 * title's modified marker is off). */
static OffshootWindow *
window_with_head (const char *saved)
{
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, "@default");
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  UI_TEST_WAIT_WHILE (!offshoot_document_has_weights (win->doc), "the weights");
  const OshGraph *g = offshoot_window_handle (win)->graph;
  int layer = osh_graph_find_layer (g, -1, HEAD_AT);
  g_assert_cmpint (layer, >=, 0);
  OffshootHeadPanel *head = offshoot_window_get_head_panel (win);
  offshoot_head_panel_set_target (head, offshoot_window_handle (win), layer);
  offshoot_head_panel_set_spec (head, "seg");
  g_assert_true (offshoot_head_panel_apply (head));
  ui_test_settle (win);
  g_assert_cmpint (offshoot_window_handle (win)->graph->n_outputs, ==, g->n_outputs + 1);
  offshoot_window_export_model_to (win, saved);
  ui_test_settle (win);
  g_assert_false (offshoot_document_is_modified (win->doc));
  gtk_stack_set_visible_child_name (win->side_stack, "head");
  return win;
}

/* The Train view's end (the curves) in sight, in a window the size of the Xvfb screen, saved
 * as build/tests/ui/NAME. */
static void
screenshot_curves (OffshootWindow *win, OffshootTrainPanel *panel, const char *name)
{
  gtk_window_set_default_size (GTK_WINDOW (win), 1380, 880);
  ui_test_settle (win);
  GtkWidget *scroller = gtk_widget_get_ancestor (GTK_WIDGET (panel), GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  ui_test_save_screenshot (GTK_WIDGET (win), name);
}

static void
test_train_undo_save (void)
{
  make_data ();
  g_autofree char *saved = g_build_filename (data_dir, "attached.keras", NULL);
  g_autofree char *trained_file = g_build_filename (data_dir, "trained.keras", NULL);
  OffshootWindow *win = window_with_head (saved);
  OffshootTrainPanel *panel = offshoot_window_get_train_panel (win);

  OshGraphHandle *fresh = osh_graph_handle_ref (offshoot_window_handle (win));
  OshError err = { 0 };
  OshGraph *fresh_copy = osh_graph_copy (fresh->graph, &err);
  g_assert_nonnull (fresh_copy);
  g_autoptr (OshTensor) before = run_head (win);

  /* What the data folder holds, said before training. */
  g_assert_true (offshoot_train_panel_set_data (panel, data_dir));
  const char *summary = offshoot_train_panel_get_data_summary (panel);
  g_test_message ("data: %s", summary);
  g_assert_nonnull (strstr (summary, "circle 10, cross 10, square 10, triangle 10 pictures"));
  g_assert_nonnull (strstr (summary, "40 with a mask"));

  const int epochs = 10;
  offshoot_train_panel_set_settings (panel, epochs, 32, 0.001, OSH_OPTIM_ADAM);
  g_assert_true (offshoot_train_panel_start (panel));
  g_assert_true (offshoot_train_panel_is_running (panel));
  /* The model does not change while the worker trains its copy. */
  g_assert_true (offshoot_window_handle (win) == fresh);
  UI_TEST_WAIT_WHILE (offshoot_train_panel_is_running (panel), "the training to finish");
  ui_test_settle (win);
  g_test_message ("%s", offshoot_train_panel_get_status (panel));

  /* The history: the fresh head, then every epoch; validation IoU better than the fresh head's. */
  g_assert_cmpint (offshoot_train_panel_get_n_points (panel), ==, epochs + 1);
  g_assert_cmpstr (offshoot_train_panel_get_metric_name (panel), ==, "iou");
  json_t *cli = cli_history (epochs, NULL);
  OffshootTrainPoint p0 = offshoot_train_panel_get_point (panel, 0);
  OffshootTrainPoint last = offshoot_train_panel_get_point (panel, epochs);
  for (int e = 1; e <= epochs; e++)
    {
      OffshootTrainPoint p = offshoot_train_panel_get_point (panel, e);
      g_test_message ("epoch %d: loss %.4f iou %.4f val_loss %.4f val_iou %.4f", e, p.loss,
                      p.metric, p.val_loss, p.val_metric);
      g_assert_true (isfinite (p.loss) && isfinite (p.val_loss) && isfinite (p.val_metric));
      /* The same numbers as offshoot fit (the same driver; other BLAS threads: 1e-5). */
      json_t *row = json_array_get (cli, e - 1);
      const char *keys[] = { "loss", "iou", "val_loss", "val_iou" };
      double mine[] = { p.loss, p.metric, p.val_loss, p.val_metric };
      for (int k = 0; k < 4; k++)
        g_assert_cmpfloat_with_epsilon (mine[k], json_real_value (json_object_get (row, keys[k])),
                                        1e-5);
    }
  json_decref (cli);
  g_test_message ("fresh head: val_loss %.4f val_iou %.4f", p0.val_loss, p0.val_metric);
  g_assert_true (isfinite (p0.val_metric));
  g_assert_cmpfloat (last.val_metric, >, p0.val_metric + 0.05);
  g_assert_cmpfloat (last.val_loss, <, p0.val_loss);

  /* The trained weights are the document's: a new step, the title marked, Run uses them. */
  OshGraphHandle *trained = offshoot_window_handle (win);
  g_assert_true (trained != fresh);
  g_assert_false (same_head_weights (trained->graph, fresh_copy));
  g_assert_true (same_weights (fresh->graph, fresh_copy)); /* the fresh graph was not touched */
  /* The frozen model's weights are the same memory in both versions (osh_graph_copy_sharing);
   * only what training changed was copied. */
  int shared = 0;
  for (int i = 0; i < fresh->graph->n_layers; i++)
    for (int w = 0; !fresh->graph->layers[i].trainable && w < fresh->graph->layers[i].n_weights;
         w++)
      {
        int j = osh_graph_find_layer (trained->graph, fresh->graph->layers[i].owner,
                                      fresh->graph->layers[i].name);
        g_assert_cmpint (j, ==, i);
        g_assert_true (trained->graph->layers[j].weights[w].value->data
                       == fresh->graph->layers[i].weights[w].value->data);
        shared++;
      }
  g_assert_cmpint (shared, >, 50);
  g_assert_true (offshoot_document_is_modified (win->doc));
  g_assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "• "));
  g_autoptr (OshTensor) after = run_head (win);
  g_assert_false (same_tensor (before, after));
  screenshot_curves (win, panel, "train-window.png");
  if (g_getenv ("DISPLAY") && g_find_program_in_path ("import"))
    {
      g_autofree char *dir = g_strdup (g_getenv ("G_TEST_BUILDDIR"));
      g_autofree char *cmd =
          g_strdup_printf ("import -window root '%s/ui/train-root.png'", dir ? dir : ".");
      g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
    }

  /* Save writes the trained weights. */
  offshoot_window_export_model_to (win, trained_file);
  ui_test_settle (win);
  g_assert_false (offshoot_document_is_modified (win->doc));
  OshGraph *reread = osh_model_load (trained_file, &err);
  g_assert_nonnull (reread);
  g_assert_true (same_head_weights (trained->graph, reread));
  osh_graph_free (reread);

  /* Undo is one step back to the fresh head, exactly; Run shows its output again. */
  offshoot_window_undo (win);
  ui_test_settle (win);
  g_assert_true (offshoot_window_handle (win) == fresh);
  g_assert_true (same_weights (offshoot_window_handle (win)->graph, fresh_copy));
  g_autoptr (OshTensor) undone = run_head (win);
  g_assert_true (same_tensor (before, undone));

  osh_graph_free (fresh_copy);
  osh_graph_handle_unref (fresh);
  ui_test_close (win);
}

/* Two heads trained at once (the seed head and a classifier on the same features): the Train
 * view's plot has a curve per output, named by the output with its own metric, and its numbers
 * are offshoot fit's for the same heads and settings. The plot is in train-two-heads.png. */
static void
test_two_heads_plot_each_output (void)
{
  make_data ();
  g_autofree char *saved = g_build_filename (data_dir, "attached-two.keras", NULL);
  OffshootWindow *win = window_with_head (saved);
  const OshGraph *g = offshoot_window_handle (win)->graph;
  int n_outputs = g->n_outputs;
  OffshootHeadPanel *head = offshoot_window_get_head_panel (win);
  offshoot_head_panel_set_target (head, offshoot_window_handle (win),
                                  osh_graph_find_layer (g, -1, HEAD_AT));
  offshoot_head_panel_set_spec (head, "classifier:4");
  g_assert_true (offshoot_head_panel_apply (head));
  ui_test_settle (win);
  g_assert_cmpint (offshoot_window_handle (win)->graph->n_outputs, ==, n_outputs + 1);

  OffshootTrainPanel *panel = offshoot_window_get_train_panel (win);
  g_assert_true (offshoot_train_panel_set_data (panel, data_dir));
  const int epochs = 3;
  offshoot_train_panel_set_settings (panel, epochs, 32, 0.001, OSH_OPTIM_ADAM);
  g_assert_true (offshoot_train_panel_start (panel));
  UI_TEST_WAIT_WHILE (offshoot_train_panel_is_running (panel), "the training to finish");
  ui_test_settle (win);
  const char *status = offshoot_train_panel_get_status (panel);
  g_test_message ("%s", status);

  const OffshootTrainCurves *c = offshoot_train_panel_get_curves (panel);
  g_assert_cmpint (c->n_outputs, ==, 2);
  g_assert_cmpstr (c->output_names[0], ==, "aux_head_out");
  g_assert_cmpstr (c->metric_names[0], ==, "iou");
  g_assert_cmpstr (c->output_names[1], ==, "aux_head_out_1");
  g_assert_cmpstr (c->metric_names[1], ==, "accuracy");
  g_assert_cmpint (offshoot_train_curves_n_points (c), ==, epochs + 1);
  g_assert_nonnull (strstr (status, "aux_head_out val_iou"));
  g_assert_nonnull (strstr (status, "aux_head_out_1 val_accuracy"));
  /* Each output's curve: the fresh head's validation point, then train and validation every
   * epoch, offshoot fit's numbers (1e-5: other BLAS threads). */
  json_t *cli = cli_history (epochs, "classifier:4");
  for (int k = 0; k < 2; k++)
    {
      g_assert_true (isfinite (offshoot_train_curves_metric (c, k, 0, TRUE)));
      g_assert_true (isnan (offshoot_train_curves_metric (c, k, 0, FALSE)));
      for (int e = 1; e <= epochs; e++)
        {
          json_t *row = json_array_get (cli, e - 1);
          g_autofree char *key = g_strdup_printf ("%s_%s", c->output_names[k], c->metric_names[k]);
          g_autofree char *val_key = g_strdup_printf ("val_%s", key);
          double train = offshoot_train_curves_metric (c, k, e, FALSE);
          double val = offshoot_train_curves_metric (c, k, e, TRUE);
          g_test_message ("epoch %d: %s %.4f %s %.4f", e, key, train, val_key, val);
          g_assert_nonnull (json_object_get (row, key));
          g_assert_cmpfloat_with_epsilon (train, json_real_value (json_object_get (row, key)),
                                          1e-5);
          g_assert_cmpfloat_with_epsilon (val, json_real_value (json_object_get (row, val_key)),
                                          1e-5);
        }
    }
  json_decref (cli);
  screenshot_curves (win, panel, "train-two-heads.png");
  ui_test_close (win);
}

/* The first button under `w` whose label is `label` (with its mnemonic underscore), or NULL. */
static GtkWidget *
find_button (GtkWidget *w, const char *label)
{
  if (GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), label) == 0)
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);
      if (found)
        return found;
    }
  return NULL;
}

/* Whether `w` is drawn whole inside the scrolled window around it (not scrolled or cut off). */
static gboolean
whole_in_view (GtkWidget *w)
{
  GtkWidget *scroller = gtk_widget_get_ancestor (w, GTK_TYPE_SCROLLED_WINDOW);
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (w, scroller, &r));
  g_test_message ("%s at y %.0f..%.0f of %d", G_OBJECT_TYPE_NAME (w), r.origin.y,
                  r.origin.y + r.size.height, gtk_widget_get_height (scroller));
  return r.origin.y >= 0 && r.size.height > 0
         && r.origin.y + r.size.height <= gtk_widget_get_height (scroller);
}

/* At 1270×870 (a laptop's screen less the panels) the Head tab, once a head exists, shows the
 * whole Train view without scrolling: Data Folder…, the settings, Start and the curves (the head
 * editor above scrolls). Without a head (Undo) the editor has its room back; a split the user
 * moved stays where it was put. Screenshot: head-tab.png. */
static void
test_head_tab_shows_train_controls (void)
{
  make_data ();
  g_autofree char *saved = g_build_filename (data_dir, "attached-split.keras", NULL);
  OffshootWindow *win = window_with_head (saved);
  gtk_window_set_default_size (GTK_WINDOW (win), 1270, 870);
  ui_test_settle (win);
  GtkWidget *panel = GTK_WIDGET (offshoot_window_get_train_panel (win));
  GtkWidget *folder = find_button (panel, "_Data Folder…");
  GtkWidget *start = find_button (panel, "_Start");
  g_assert_nonnull (folder);
  g_assert_nonnull (start);
  ui_test_save_screenshot (GTK_WIDGET (win), "head-tab.png");
  g_assert_true (whole_in_view (folder));
  g_assert_true (whole_in_view (start));
  g_assert_true (whole_in_view (panel));

  GtkPaned *split = win->head_paned;
  int with_head = gtk_paned_get_position (split);
  offshoot_window_undo (win);
  ui_test_settle (win);
  g_assert_cmpint (offshoot_window_handle (win)->heads->len, ==, 0);
  g_assert_cmpint (gtk_paned_get_position (split), >, with_head);
  offshoot_window_redo (win);
  ui_test_settle (win);
  g_assert_cmpint (gtk_paned_get_position (split), ==, with_head);
  gtk_paned_set_position (split, with_head + 40); /* the user's drag */
  ui_test_settle (win);
  gtk_window_set_default_size (GTK_WINDOW (win), 1100, 760);
  ui_test_settle (win);
  g_assert_cmpint (gtk_paned_get_position (split), ==, with_head + 40);
  ui_test_close (win);
}

/* Before any head, the editor's split gives it its whole form: the check's lines and the Attach
 * Head button are in view without scrolling (at 280 points, the split's old fixed place, the
 * seed head's four check lines pushed the button out of sight). */
static void
test_head_editor_shows_attach_button (void)
{
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, "@default");
  ui_test_settle (win);
  UI_TEST_WAIT_WHILE (!offshoot_document_has_weights (win->doc), "the weights");
  const OshGraph *g = offshoot_window_handle (win)->graph;
  int layer = osh_graph_find_layer (g, -1, HEAD_AT);
  g_assert_cmpint (layer, >=, 0);
  offshoot_graph_view_select_layer (offshoot_window_get_graph_view (win), layer, TRUE);
  ui_test_settle (win);
  g_action_group_activate_action (G_ACTION_GROUP (win), "attach-head", NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->side_stack), ==, "head");
  OffshootHeadPanel *head = offshoot_window_get_head_panel (win);
  GtkWidget *attach = find_button (GTK_WIDGET (head), "_Attach Head");
  g_assert_nonnull (attach);
  offshoot_head_panel_set_spec (head, "seg");
  g_assert_true (offshoot_head_panel_check (head, NULL));
  ui_test_settle (win);
  /* The next frame lays the page out. */
  UI_TEST_WAIT_WHILE (gtk_widget_get_height (GTK_WIDGET (head)) == 0, "the head editor");
  g_assert_true (gtk_widget_get_sensitive (attach));
  g_test_message ("window %d high, split at %d", gtk_widget_get_height (GTK_WIDGET (win)),
                  gtk_paned_get_position (win->head_paned));
  g_assert_true (whole_in_view (attach));
  ui_test_save_screenshot (GTK_WIDGET (win), "head-editor.png");
  ui_test_close (win);
}

/* Starts a run far too long to end by itself (100000 epochs of 4 steps) on the data; the
 * count of workers stopped early before it. */
static int
start_long_run (OffshootTrainPanel *panel)
{
  g_assert_true (offshoot_train_panel_set_data (panel, data_dir));
  offshoot_train_panel_set_settings (panel, 100000, 8, 0.001, OSH_OPTIM_ADAM);
  int stopped = osh_workers_stopped_early ();
  g_assert_true (offshoot_train_panel_start (panel));
  g_assert_cmpint (osh_workers_in_flight (), ==, 1);
  return stopped;
}

/* Stop in the middle of the epochs: the worker ends early, the model is the one it started
 * from, and nothing was added to the history. */
static void
test_stop_leaves_model (void)
{
  make_data ();
  g_autofree char *saved = g_build_filename (data_dir, "attached-stop.keras", NULL);
  OffshootWindow *win = window_with_head (saved);
  OffshootTrainPanel *panel = offshoot_window_get_train_panel (win);
  OshGraphHandle *fresh = osh_graph_handle_ref (offshoot_window_handle (win));
  OshError err = { 0 };
  OshGraph *fresh_copy = osh_graph_copy (fresh->graph, &err);
  gboolean could_undo = offshoot_document_can_undo (win->doc);

  int stopped = start_long_run (panel);
  UI_TEST_WAIT_WHILE (offshoot_train_panel_steps_done (panel) < 10, "training steps");
  ui_test_save_screenshot (GTK_WIDGET (win), "train-running.png"); /* progress, time left */
  offshoot_train_panel_stop (panel);
  UI_TEST_WAIT_WHILE (offshoot_train_panel_is_running (panel), "the worker to stop");
  ui_test_settle (win);
  g_test_message ("%s after %lld steps", offshoot_train_panel_get_status (panel),
                  (long long) offshoot_train_panel_steps_done (panel));
  g_assert_cmpint (osh_workers_in_flight (), ==, 0);
  g_assert_cmpint (osh_workers_stopped_early (), ==, stopped + 1);
  g_assert_cmpstr (offshoot_train_panel_get_status (panel), ==, "Training was stopped.");
  g_assert_true (offshoot_window_handle (win) == fresh);
  g_assert_true (same_weights (offshoot_window_handle (win)->graph, fresh_copy));
  g_assert_false (offshoot_document_is_modified (win->doc));
  g_assert_true (offshoot_document_can_undo (win->doc) == could_undo);
  osh_graph_free (fresh_copy);
  osh_graph_handle_unref (fresh);
  ui_test_close (win);
}

/* Closing the window while training: the worker stops, the application is held until then. */
static void
test_close_while_training (void)
{
  make_data ();
  g_autofree char *saved = g_build_filename (data_dir, "attached-close.keras", NULL);
  OffshootWindow *win = window_with_head (saved);
  int stopped = start_long_run (offshoot_window_get_train_panel (win));
  ui_test_close (win);
  UI_TEST_WAIT_WHILE (osh_workers_in_flight () > 0, "the training worker to stop");
  g_assert_cmpint (osh_workers_stopped_early (), ==, stopped + 1);
}

int
main (int argc, char **argv)
{
  app = ui_test_init (&argc, &argv, "io.offshoot.Offshoot.TestTrain");
  g_test_add_func ("/ui/train/train-undo-save", test_train_undo_save);
  g_test_add_func ("/ui/train/two-heads-plot-each-output", test_two_heads_plot_each_output);
  g_test_add_func ("/ui/train/head-tab-shows-train-controls", test_head_tab_shows_train_controls);
  g_test_add_func ("/ui/train/head-editor-shows-attach-button",
                   test_head_editor_shows_attach_button);
  g_test_add_func ("/ui/train/stop-leaves-model", test_stop_leaves_model);
  g_test_add_func ("/ui/train/close-while-training", test_close_while_training);
  int status = ui_test_run (app);
  if (data_dir)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", data_dir);
      (void) system (cmd);
      g_free (data_dir);
    }
  return status;
}
