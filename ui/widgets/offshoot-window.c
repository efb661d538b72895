/* offshoot-window.c — the main window: loading models off the main thread, the pages
 * (empty, loading, graph), the banners, and showing the open document (offshoot-document.h:
 * graph, history, selection, run settings). Actions live in offshoot-window-actions.c, drag
 * and drop in offshoot-window-dnd.c, the unsaved-changes question in
 * offshoot-window-unsaved.c. */
#include "offshoot-window.h"

#include "offshoot-window-private.h"
#include "osh-default-model.h"
#include "osh-model.h"
#include "osh-workers.h"

G_DEFINE_FINAL_TYPE (OffshootWindow, offshoot_window, GTK_TYPE_APPLICATION_WINDOW)

/* With OFFSHOOT_TRACE set, what the user did and what came of it goes to stderr, one line
 * each: the end-to-end script (real pointer events, tests/ui/e2e-xdotool.sh) checks these. */
#define trace offshoot_window_trace

void
offshoot_window_trace (const char *fmt, ...)
{
  static int on = -1;
  if (on < 0)
    on = g_getenv ("OFFSHOOT_TRACE") != NULL;
  if (!on)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("offshoot-trace: %s\n", text);
}

/* ---- Banners ----------------------------------------------------------------------------- */

void
offshoot_window_show_error (OffshootWindow *self, const char *message)
{
  if (message)
    trace ("error %s", message);
  g_free (self->error);
  self->error = message ? g_strdup (message) : NULL;
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_revealer_set_reveal_child (self->error_revealer, message != NULL);
  offshoot_window_update_actions (self); /* Escape dismisses it */
}

static void
on_error_close (GtkButton *button, OffshootWindow *self)
{
  (void) button;
  offshoot_window_show_error (self, NULL);
}

static void show_search_status (OffshootWindow *self, int n, int pos);

/* ---- Showing a model --------------------------------------------------------------------- */

OshGraphHandle *
offshoot_window_handle (OffshootWindow *self)
{
  return self->doc ? offshoot_document_get_graph (self->doc) : NULL;
}

static void
update_status (OffshootWindow *self)
{
  OshGraphHandle *h = offshoot_window_handle (self);
  if (!h)
    {
      gtk_label_set_text (self->status_label, "");
      return;
    }
  const OshGraph *g = h->graph;
  int64_t trainable = 0, total = osh_graph_total_params (g, &trainable);
  g_autofree char *text = g_strdup_printf (
      "%s · %s · %d layers · %" G_GINT64_FORMAT " parameters (%" G_GINT64_FORMAT " trainable)",
      g->name ? g->name : "model", g->format ? g->format : "?", g->n_layers, total, trainable);
  gtk_label_set_text (self->status_label, text);
}

/* Title: the file's name, with a "•" when edited since opened or saved; subtitle: the
 * model's own name (two files often carry the same Keras name). */
static void
update_title (OffshootWindow *self)
{
  if (!self->doc)
    return;
  g_autofree char *name = offshoot_document_dup_display_name (self->doc);
  gboolean modified = offshoot_document_is_modified (self->doc);
  g_autofree char *shown = g_strdup_printf ("%s%s", modified ? "• " : "", name);
  g_autofree char *title = g_strdup_printf ("%s — Offshoot", shown);
  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_label_set_text (self->title_label, shown);
  const OshGraph *g = offshoot_window_handle (self)->graph;
  const char *model = g->name && *g->name ? g->name : "";
  gtk_label_set_text (self->subtitle_label, model);
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), *model != '\0');
}

/* The Head tab's split: the head editor above, the Train view below. Without a head the editor
 * gets what it needs to show its form, check and Attach button whole (at least
 * HEAD_SPLIT_DEFAULT; Train has nothing to train yet), leaving Train HEAD_SPLIT_MIN; once there
 * is one the Train view gets what its controls and curves need (the editor above scrolls, down
 * to HEAD_SPLIT_MIN). Followed on every change of model, size or check until the user moves
 * the split. */
#define HEAD_SPLIT_DEFAULT 280
#define HEAD_SPLIT_MIN 150

static void
fit_head_split (OffshootWindow *self)
{
  int max = 0;
  g_object_get (self->head_paned, "max-position", &max, NULL);
  if (self->head_split < 0 || max <= 0)
    return;
  int pos = gtk_paned_get_position (self->head_paned);
  if (pos != MIN (self->head_split, max)) /* a window too small to hold it clamps it */
    {
      self->head_split = -1; /* the user's own position stays */
      return;
    }
  int want = HEAD_SPLIT_DEFAULT;
  int width = gtk_widget_get_width (GTK_WIDGET (self->head_paned));
  if (self->doc && offshoot_window_handle (self)->heads->len > 0)
    {
      int train = 0;
      gtk_widget_measure (GTK_WIDGET (self->train_panel), GTK_ORIENTATION_VERTICAL, width, NULL,
                          &train, NULL, NULL);
      want = CLAMP (max - train, HEAD_SPLIT_MIN, HEAD_SPLIT_DEFAULT);
    }
  else
    {
      int editor = 0;
      gtk_widget_measure (GTK_WIDGET (self->head_panel), GTK_ORIENTATION_VERTICAL, width, NULL,
                          &editor, NULL, NULL);
      want = MAX (HEAD_SPLIT_DEFAULT, MIN (editor, max - HEAD_SPLIT_MIN));
    }
  self->head_split = want;
  if (want != pos)
    gtk_paned_set_position (self->head_paned, want);
}

static void
on_head_checked (OffshootWindow *self)
{
  fit_head_split (self);
}

static void
on_head_paned_resized (GtkPaned *paned, GParamSpec *pspec, OffshootWindow *self)
{
  (void) paned, (void) pspec;
  fit_head_split (self);
}

/* The document's selection, shown by every panel (the view selects it once laid out). */
static void
show_selection (OffshootWindow *self)
{
  OshGraphHandle *h = offshoot_window_handle (self);
  int layer = offshoot_document_get_selected_layer (self->doc);
  offshoot_layer_panel_set_layer (self->layer_panel, h->graph, layer);
  offshoot_head_panel_set_target (self->head_panel, h, layer);
  offshoot_probe_panel_set_graph (self->probe_panel, h);
  offshoot_train_panel_set_graph (self->train_panel, h, offshoot_document_has_weights (self->doc));
  offshoot_run_panel_set_focus_layer (self->run_panel, offshoot_document_get_selection (self->doc));
  fit_head_split (self);
}

/* The view on the current graph goes into the document before a step, so undo and redo bring
 * it back (restored once the step's graph is laid out). */
static void
remember_view (OffshootWindow *self)
{
  if (!self->doc || offshoot_graph_view_count_items (self->graph_view) == 0)
    return;
  const OshCamera *cam = offshoot_graph_view_get_camera (self->graph_view);
  offshoot_document_set_view (self->doc, cam->cx, cam->cy, cam->zoom);
}

static void
show_graph (OffshootWindow *self, gboolean keep_view)
{
  OshGraphHandle *h = offshoot_window_handle (self);
  update_title (self);
  offshoot_graph_view_set_graph (self->graph_view, h, keep_view);
  self->restore_view =
      keep_view
      && offshoot_document_get_view (self->doc, &self->view_cx, &self->view_cy, &self->view_zoom);
  /* The view's own selection is an index into the previous graph until the layout is up. */
  self->select_after_layout = offshoot_document_get_selected_layer (self->doc);
  show_selection (self);
  gtk_stack_set_visible_child_name (self->main_stack, "graph");
  offshoot_window_update_connectivity (self);
  update_status (self);
  offshoot_window_update_actions (self);
}

static void
on_document_graph_changed (OffshootDocument *doc, OffshootWindow *self)
{
  (void) doc;
  show_graph (self, TRUE);
}

static void
on_document_modified (OffshootDocument *doc, GParamSpec *pspec, OffshootWindow *self)
{
  (void) doc;
  (void) pspec;
  update_title (self);
}

/* The weights are read once by themselves; after a Cancel only "Load Weights" starts them. */
static void
start_weights_once (OffshootWindow *self)
{
  if (self->doc && !self->weights_started)
    {
      self->weights_started = TRUE;
      offshoot_window_load_weights (self);
    }
}

/* Shows a new document (taken over): nothing of the previous model stays. */
static void
set_document (OffshootWindow *self, OffshootDocument *doc)
{
  if (self->doc)
    g_signal_handlers_disconnect_by_data (self->doc, self);
  g_clear_object (&self->doc);
  self->doc = doc;
  g_signal_connect_object (doc, "graph-changed", G_CALLBACK (on_document_graph_changed), self, 0);
  g_signal_connect_object (doc, "notify::modified", G_CALLBACK (on_document_modified), self, 0);
  offshoot_run_panel_set_document (self->run_panel, doc);
  offshoot_window_show_error (self, NULL);
  /* The previous model's weights, if still loading, are nobody's now (nor its queued run). */
  self->run_queued = FALSE;
  offshoot_window_cancel_weights (self);
  g_clear_pointer (&self->weights_error, g_free);
  self->weights_started = FALSE;
  show_graph (self, FALSE);
  /* Without a layout to wait for (no graph to draw) the weights start now, else once the
   * graph is on screen: on a busy machine they would slow the first drawing down. */
  if (!offshoot_graph_view_is_laying_out (self->graph_view))
    start_weights_once (self);
  offshoot_window_update_activity (self);
}

void
offshoot_window_apply_handle (OffshootWindow *self, OshGraphHandle *h)
{
  remember_view (self);
  offshoot_document_apply (self->doc, h, NULL);
}

void
offshoot_window_apply_edit (OffshootWindow *self, OshGraph *g)
{
  OshGraphHandle *h = osh_graph_handle_new_edit (g, offshoot_window_handle (self), NULL);
  offshoot_window_apply_handle (self, h);
  osh_graph_handle_unref (h);
}

static void
on_head_attach (OffshootHeadPanel *panel, OshGraph *edited, const char *path,
                const OshHeadSpec *spec, char **names, OffshootWindow *self)
{
  (void) panel;
  if (!offshoot_document_has_weights (self->doc))
    {
      /* The head's graph would carry no weights of the model (they are not read yet). */
      offshoot_window_show_error (
          self, self->weights_error
                    ? "A head cannot be attached: the model's weights cannot be read"
                    : "A head can be attached once the weights are loaded");
      return;
    }
  OshAppliedHead head = { .path = (char *) path, .spec = *spec };
  for (int i = 0; i < spec->n_steps; i++)
    head.names[i] = names[i];
  OshGraphHandle *h = osh_graph_handle_new_edit (edited, offshoot_window_handle (self), &head);
  /* The new output becomes the selection, shown once it is laid out. */
  int out = osh_graph_find_layer (edited, -1, names[spec->n_steps - 1]);
  g_autofree char *out_path = out >= 0 ? osh_graph_layer_path (edited, out) : NULL;
  remember_view (self);
  offshoot_document_apply (self->doc, h, out_path);
  osh_graph_handle_unref (h);
  trace ("attached %s at %s", names[spec->n_steps - 1], path);
}

/* A finished training run: its weights become the model's, one undoable step (the panel
 * checked the model did not change meanwhile). */
static void
on_trained (OffshootTrainPanel *panel, OshGraph *trained, OffshootWindow *self)
{
  (void) panel;
  offshoot_window_apply_edit (self, trained);
  trace ("trained %s", offshoot_train_panel_get_status (panel));
}

void
offshoot_window_undo (OffshootWindow *self)
{
  if (self->doc)
    {
      remember_view (self);
      offshoot_document_undo (self->doc);
    }
}

void
offshoot_window_redo (OffshootWindow *self)
{
  if (self->doc)
    {
      remember_view (self);
      offshoot_document_redo (self->doc);
    }
}

/* ---- Loading in a worker ----------------------------------------------------------------- */

static void
load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  OshError err = { 0 };
  /* The graph first (structure and weight shapes): drawn and explored while
   * offshoot-window-weights.c reads the values. The embedded default is small: read whole. */
  OshGraph *g = g_strcmp0 (data, "@default") == 0 ? osh_load_model_spec (data, &err)
                                                  : osh_model_load_graph (data, &err);
  if (g)
    g_task_return_pointer (task, osh_graph_handle_new (g), (GDestroyNotify) osh_graph_handle_unref);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
}

static gboolean
pulse (gpointer data)
{
  OffshootWindow *self = data;
  gtk_progress_bar_pulse (self->loading_progress);
  return G_SOURCE_CONTINUE;
}

static void
stop_loading_ui (OffshootWindow *self)
{
  self->loading = FALSE;
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  gtk_spinner_stop (self->loading_spinner);
}

static void
load_done (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) source;
  g_autoptr (OffshootWindow) self = data; /* dropped here, on the main thread */
  g_autoptr (GError) error = NULL;
  OshGraphHandle *h = g_task_propagate_pointer (G_TASK (res), &error);
  osh_worker_end (error);
  GCancellable *c = g_task_get_cancellable (G_TASK (res));
  if (g_cancellable_is_cancelled (c) || c != self->load_cancel)
    {
      /* The user cancelled or opened something else meanwhile. */
      osh_graph_handle_unref (h);
      return;
    }
  g_clear_object (&self->load_cancel);
  stop_loading_ui (self);
  const char *spec = g_task_get_task_data (G_TASK (res));
  if (!h)
    {
      if (g_strcmp0 (spec, "@default") == 0 && !self->doc)
        {
          /* No embedded model in this build: a friendly start instead of an error. */
          gtk_label_set_text (self->empty_title, "Open a trained model");
          gtk_stack_set_visible_child_name (self->main_stack, "empty");
        }
      else
        {
          offshoot_window_show_error (self, error->message);
          gtk_stack_set_visible_child_name (self->main_stack, self->doc ? "graph" : "empty");
        }
      offshoot_window_update_actions (self);
      return;
    }
  if (g_strcmp0 (spec, "@default") != 0)
    {
      g_autoptr (GFile) file = g_file_new_for_path (spec);
      g_autofree char *uri = g_file_get_uri (file);
      gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
    }
  set_document (self, offshoot_document_new (h, spec, NULL));
  osh_graph_handle_unref (h);
}

void
offshoot_window_cancel_load (OffshootWindow *self)
{
  if (!self->load_cancel)
    return;
  g_cancellable_cancel (self->load_cancel);
  g_clear_object (&self->load_cancel);
  stop_loading_ui (self);
  gtk_stack_set_visible_child_name (self->main_stack, self->doc ? "graph" : "empty");
  offshoot_window_update_actions (self);
}

void
offshoot_window_open_spec (OffshootWindow *self, const char *spec)
{
  g_return_if_fail (OFFSHOOT_IS_WINDOW (self));
  offshoot_window_confirm_then (self, spec);
}

void
offshoot_window_load_spec (OffshootWindow *self, const char *spec)
{
  if (self->load_cancel)
    g_cancellable_cancel (self->load_cancel);
  g_clear_object (&self->load_cancel);
  self->load_cancel = g_cancellable_new ();
  self->loading = TRUE;
  offshoot_window_show_error (self, NULL);

  g_autofree char *base = g_strcmp0 (spec, "@default") == 0 ? g_strdup ("the default model")
                                                            : g_path_get_basename (spec);
  self->open_started = g_get_monotonic_time ();
  g_autofree char *text = g_strdup_printf ("Loading %s…", base);
  gtk_label_set_text (self->loading_label, text);
  gtk_spinner_start (self->loading_spinner);
  if (!self->pulse_id)
    self->pulse_id = g_timeout_add (120, pulse, self);
  gtk_stack_set_visible_child_name (self->main_stack, "loading");
  offshoot_window_update_actions (self);

  /* No source object: the task may be finalized in the worker, a window must not be. */
  GTask *task = g_task_new (NULL, self->load_cancel, load_done, g_object_ref (self));
  g_task_set_task_data (task, g_strdup (spec), g_free);
  osh_worker_begin ();
  g_task_run_in_thread (task, load_thread);
  g_object_unref (task);
}

void
offshoot_window_open_file (OffshootWindow *self, GFile *file)
{
  g_autofree char *path = g_file_get_path (file);
  if (!path)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_autofree char *msg = g_strdup_printf ("%s: only local files can be opened", uri);
      offshoot_window_show_error (self, msg);
      return;
    }
  offshoot_window_open_spec (self, path);
}

void
offshoot_window_open_default (OffshootWindow *self)
{
  offshoot_window_open_spec (self, "@default");
}

void
offshoot_window_open_graph (OffshootWindow *self, OshGraph *g, const char *title)
{
  g_return_if_fail (OFFSHOOT_IS_WINDOW (self) && g != NULL);
  offshoot_window_cancel_load (self);
  /* No file behind it: exports and the Python snippet suggest "<model name>.keras". */
  g_autofree char *spec = g_strdup_printf ("%s.keras", g->name && *g->name ? g->name : "model");
  OshGraphHandle *h = osh_graph_handle_new (g);
  set_document (self, offshoot_document_new (h, spec, title));
  osh_graph_handle_unref (h);
}

/* ---- Run ------------------------------------------------------------------------------- */

gboolean
offshoot_window_set_run_input (OffshootWindow *self, GFile *file)
{
  offshoot_run_panel_set_input (self->run_panel, file);
  gtk_stack_set_visible_child_name (self->side_stack, "run");
  offshoot_window_update_actions (self);
  return TRUE;
}

/* The selected layer's activation from the last run, if it kept one. */
static void
show_activation (OffshootWindow *self, int layer)
{
  if (!self->doc || layer < 0)
    return;
  g_autofree char *path = osh_graph_layer_path (offshoot_window_handle (self)->graph, layer);
  GdkPaintable *picture = NULL;
  OshTensor *t = NULL;
  if (offshoot_run_panel_get_activation (self->run_panel, path, &picture, &t))
    offshoot_layer_panel_set_activation (self->layer_panel, picture, t);
  g_clear_object (&picture);
  osh_tensor_free (t);
}

static void
on_run_finished (OffshootRunPanel *panel, OffshootWindow *self)
{
  (void) panel;
  for (int i = 0; i < offshoot_run_panel_get_n_results (panel); i++)
    trace ("result %d %s", i, offshoot_run_panel_get_result_text (panel, i));
  if (offshoot_run_panel_get_error (panel))
    trace ("run failed %s", offshoot_run_panel_get_error (panel));
  show_activation (self, offshoot_graph_view_get_selected_layer (self->graph_view));
  offshoot_window_update_actions (self);
}

static void
on_run_state (OffshootRunPanel *panel, OffshootWindow *self)
{
  (void) panel;
  offshoot_window_update_actions (self);
}

/* ---- Selection --------------------------------------------------------------------------- */

static void
on_layer_selected (OffshootGraphView *view, int layer, OffshootWindow *self)
{
  (void) view;
  if (!self->doc)
    return;
  OshGraphHandle *h = offshoot_window_handle (self);
  g_autofree char *path = layer >= 0 ? osh_graph_layer_path (h->graph, layer) : NULL;
  offshoot_document_set_selection (self->doc, path);
  trace ("selected %s", path ? path : "(none)");
  show_selection (self);
  show_activation (self, layer);
  const char *page = gtk_stack_get_visible_child_name (self->side_stack);
  if (layer >= 0 && g_strcmp0 (page, "head") != 0 && g_strcmp0 (page, "probe") != 0)
    gtk_stack_set_visible_child_name (self->side_stack, "layer");
  offshoot_window_update_actions (self);
}

/* The first frame painted after a model's first layout: how long the user waited to see it
 * (OFFSHOOT_TRACE; tools and the README quote it). */
static void
on_after_paint (GdkFrameClock *clock, OffshootWindow *self)
{
  g_signal_handlers_disconnect_by_func (clock, on_after_paint, self);
  trace ("first graph drawn %.0f ms after the open began (weights %s)",
         (g_get_monotonic_time () - self->open_started) / 1000.0,
         self->weights_cancel  ? "still loading"
         : self->weights_error ? "failed"
                               : "in");
  self->open_started = 0;
}

/* A collapsed block clicked: the layer panel sums it up. */
static void
on_group_selected (OffshootGraphView *view, int group, OffshootWindow *self)
{
  OffshootGroupSummary sum;
  if (!offshoot_graph_view_group_summary (view, group, &sum))
    return;
  offshoot_layer_panel_set_group (self->layer_panel, sum.name, sum.kind, sum.n_layers, sum.n_groups,
                                  sum.params, sum.flops, sum.flops_at, sum.shapes);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->side_stack), "head") != 0)
    gtk_stack_set_visible_child_name (self->side_stack, "layer");
}

static void
on_layout_done (OffshootGraphView *view, OffshootWindow *self)
{
  if (self->open_started && offshoot_graph_view_count_items (view) > 0)
    {
      GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (view));
      if (clock)
        {
          g_signal_handlers_disconnect_by_func (clock, on_after_paint, self);
          g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), self);
        }
    }
  const char *err = offshoot_graph_view_get_error (view);
  if (err)
    offshoot_window_show_error (self, err);
  start_weights_once (self);
  trace ("laid out %d boxes", offshoot_graph_view_count_items (view));
  /* The document's selection (kept, restored by undo, or a new head's output); -1 clears
   * what the view may still hold from the previous graph. */
  int layer = self->select_after_layout;
  self->select_after_layout = -1;
  /* After undo or redo the view goes back where it was on that graph, else to the selection. */
  gboolean restore = self->restore_view && offshoot_graph_view_count_items (view) > 0;
  self->restore_view = FALSE;
  if (restore)
    offshoot_graph_view_set_camera (view, self->view_cx, self->view_cy, self->view_zoom);
  if (self->doc)
    offshoot_graph_view_select_layer (view, layer, layer >= 0 && !restore);
  /* Matches were items of the previous layout: find them again in this one. */
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  if (gtk_search_bar_get_search_mode (self->search_bar) && text && *text)
    show_search_status (self, offshoot_graph_view_search (view, text), 0);
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

/* A layout can take seconds on a big graph: the status bar shows it with its Cancel. */
static void
on_layout_started (OffshootGraphView *view, OffshootWindow *self)
{
  (void) view;
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

/* ---- Search ------------------------------------------------------------------------------ */

/* Traces where the current match is on the window's surface (what xdotool clicks). */
static void
trace_match (OffshootWindow *self)
{
  int layer = offshoot_graph_view_search_layer (self->graph_view);
  double x, y, wx, wy, sx = 0, sy = 0;
  if (layer < 0 || !offshoot_graph_view_layer_position (self->graph_view, layer, &x, &y)
      || !gtk_widget_translate_coordinates (GTK_WIDGET (self->graph_view), GTK_WIDGET (self), x, y,
                                            &wx, &wy))
    return;
  gtk_native_get_surface_transform (GTK_NATIVE (self), &sx, &sy);
  trace ("found %s at %.0f %.0f", offshoot_window_handle (self)->graph->layers[layer].name, wx + sx,
         wy + sy);
}

static void
show_search_status (OffshootWindow *self, int n, int pos)
{
  trace_match (self);
  g_autofree char *text =
      n == 0 ? g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))[0] ? "No match"
                                                                                      : "")
             : g_strdup_printf ("%d of %d", pos + 1, n);
  gtk_label_set_text (self->search_status, text);
}

static void
on_search_changed (GtkSearchEntry *entry, OffshootWindow *self)
{
  int n =
      offshoot_graph_view_search (self->graph_view, gtk_editable_get_text (GTK_EDITABLE (entry)));
  show_search_status (self, n, 0);
}

/* Enter selects the current match; once it is selected, Enter goes on to the next one. */
static void
on_search_activate (GtkSearchEntry *entry, OffshootWindow *self)
{
  (void) entry;
  OffshootGraphView *view = self->graph_view;
  int layer = offshoot_graph_view_search_layer (view);
  if (layer >= 0 && layer == offshoot_graph_view_get_selected_layer (view))
    {
      g_action_group_activate_action (G_ACTION_GROUP (self), "find-next", NULL);
      layer = offshoot_graph_view_search_layer (view);
    }
  else
    show_search_status (self, offshoot_graph_view_search_count (view),
                        offshoot_graph_view_search_position (view));
  if (layer >= 0)
    offshoot_graph_view_select_layer (view, layer, FALSE);
}

static void
on_search_next (GtkSearchEntry *entry, OffshootWindow *self)
{
  (void) entry;
  g_action_group_activate_action (G_ACTION_GROUP (self), "find-next", NULL);
}

static void
on_search_previous (GtkSearchEntry *entry, OffshootWindow *self)
{
  (void) entry;
  g_action_group_activate_action (G_ACTION_GROUP (self), "find-previous", NULL);
}

/* The find-next/previous actions. */
void
offshoot_window_search_step (OffshootWindow *self, int direction)
{
  int pos = offshoot_graph_view_search_step (self->graph_view, direction);
  show_search_status (self, offshoot_graph_view_search_count (self->graph_view), pos);
}

static void
on_search_mode (GObject *bar, GParamSpec *pspec, OffshootWindow *self)
{
  (void) bar;
  (void) pspec;
  if (!gtk_search_bar_get_search_mode (self->search_bar))
    {
      offshoot_graph_view_search (self->graph_view, NULL);
      gtk_widget_grab_focus (GTK_WIDGET (self->graph_view));
    }
}

/* ---- Style ------------------------------------------------------------------------------- */

/* Dark when the application asks for it (the desktop's preference, read by the
 * application) or when the theme itself is dark (GTK_THEME=Adwaita:dark, a dark theme
 * chosen in the settings): its text is then light. */
static gboolean
theme_is_dark (OffshootWindow *self)
{
  gboolean prefer = FALSE;
  g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-application-prefer-dark-theme",
                &prefer, NULL);
  if (prefer)
    return TRUE;
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue > 0.5;
}

static void
update_style (OffshootWindow *self)
{
  gboolean dark = theme_is_dark (self);
  offshoot_graph_view_set_dark (self->graph_view, dark);
  if (dark)
    gtk_widget_add_css_class (GTK_WIDGET (self), "dark");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "dark");
}

static void
on_dark_changed (GtkSettings *settings, GParamSpec *pspec, OffshootWindow *self)
{
  (void) settings;
  (void) pspec;
  update_style (self);
}

gboolean
offshoot_window_is_dark (OffshootWindow *self)
{
  return gtk_widget_has_css_class (GTK_WIDGET (self), "dark");
}

/* ---- GObject ----------------------------------------------------------------------------- */

static void
offshoot_window_dispose (GObject *object)
{
  OffshootWindow *self = OFFSHOOT_WINDOW (object);
  if (self->load_cancel)
    g_cancellable_cancel (self->load_cancel);
  g_clear_object (&self->load_cancel);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  if (self->weights_cancel)
    g_cancellable_cancel (self->weights_cancel);
  g_clear_object (&self->weights_cancel);
  g_clear_object (&self->export_cancel);
  g_clear_handle_id (&self->activity_pulse_id, g_source_remove);
  if (self->open_started)
    {
      GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self->graph_view));
      if (clock)
        g_signal_handlers_disconnect_by_func (clock, on_after_paint, self);
    }
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->unsaved_dialog)
    gtk_window_destroy (self->unsaved_dialog);
  self->unsaved_dialog = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), OFFSHOOT_TYPE_WINDOW);
  G_OBJECT_CLASS (offshoot_window_parent_class)->dispose (object);
}

static void
offshoot_window_finalize (GObject *object)
{
  OffshootWindow *self = OFFSHOOT_WINDOW (object);
  g_clear_object (&self->doc);
  g_free (self->after_save);
  g_free (self->error);
  g_free (self->weights_error);
  g_free (self->export_name);
  g_free (self->export_tooltip);
  g_clear_pointer (&self->export_handle, osh_graph_handle_unref);
  G_OBJECT_CLASS (offshoot_window_parent_class)->finalize (object);
}

/* The theme's colours are known once the window is styled on its display. */
static void
offshoot_window_realize (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (offshoot_window_parent_class)->realize (widget);
  update_style (OFFSHOOT_WINDOW (widget));
}

static void
offshoot_window_class_init (OffshootWindowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  wc->realize = offshoot_window_realize;
  G_OBJECT_CLASS (klass)->dispose = offshoot_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_window_finalize;
  g_type_ensure (OFFSHOOT_TYPE_GRAPH_VIEW);
  g_type_ensure (OFFSHOOT_TYPE_LAYER_PANEL);
  g_type_ensure (OFFSHOOT_TYPE_RUN_PANEL);
  g_type_ensure (OFFSHOOT_TYPE_HEAD_PANEL);
  g_type_ensure (OFFSHOOT_TYPE_TRAIN_PANEL);
  gtk_widget_class_set_template_from_resource (wc, "/io/offshoot/Offshoot/ui/offshoot-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (wc, OffshootWindow, name)
  BIND (export_button);
  BIND (search_button);
  BIND (search_bar);
  BIND (search_entry);
  BIND (search_status);
  BIND (error_revealer);
  BIND (error_label);
  BIND (error_close);
  BIND (disconnect_revealer);
  BIND (disconnect_message);
  BIND (disconnect_explanation);
  BIND (disconnect_fixes);
  BIND (main_stack);
  BIND (side_stack);
  BIND (loading_spinner);
  BIND (loading_label);
  BIND (loading_progress);
  BIND (activity_box);
  BIND (activity_label);
  BIND (activity_progress);
  BIND (activity_cancel);
  BIND (activity_load);
  BIND (empty_title);
  BIND (empty_detail);
  BIND (status_label);
  BIND (graph_view);
  BIND (layer_panel);
  BIND (run_panel);
  BIND (head_panel);
  BIND (train_panel);
  BIND (head_paned);
  BIND (recent_submenu);
  BIND (export_model_section);
  BIND (title_label);
  BIND (subtitle_label);
#undef BIND
}

static void
offshoot_window_init (OffshootWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->select_after_layout = -1;
  self->connected = TRUE;
  self->head_split = HEAD_SPLIT_DEFAULT;
  g_signal_connect_object (self->head_paned, "notify::max-position",
                           G_CALLBACK (on_head_paned_resized), self, 0);

  g_signal_connect_object (self->error_close, "clicked", G_CALLBACK (on_error_close), self, 0);
  g_signal_connect_object (self->graph_view, "layer-selected", G_CALLBACK (on_layer_selected), self,
                           0);
  g_signal_connect_object (self->graph_view, "layout-done", G_CALLBACK (on_layout_done), self, 0);
  g_signal_connect_object (self->graph_view, "layout-started", G_CALLBACK (on_layout_started), self,
                           0);
  g_signal_connect_object (self->graph_view, "group-selected", G_CALLBACK (on_group_selected), self,
                           0);
  g_signal_connect_object (self->head_panel, "attach", G_CALLBACK (on_head_attach), self, 0);
  g_signal_connect_object (self->head_panel, "checked", G_CALLBACK (on_head_checked), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->train_panel, "trained", G_CALLBACK (on_trained), self, 0);
  /* Probe Layers: its page, and a kept probe is attached as any head. */
  self->probe_panel = OFFSHOOT_PROBE_PANEL (offshoot_probe_panel_new ());
  gtk_stack_add_titled (self->side_stack, GTK_WIDGET (self->probe_panel), "probe", "Probe");
  offshoot_probe_panel_set_view (self->probe_panel, self->graph_view);
  g_signal_connect_object (self->probe_panel, "keep", G_CALLBACK (on_head_attach), self, 0);
  g_signal_connect_object (self->run_panel, "run-finished", G_CALLBACK (on_run_finished), self, 0);
  g_signal_connect_object (self->run_panel, "state-changed", G_CALLBACK (on_run_state), self, 0);
  g_signal_connect_object (self->search_entry, "search-changed", G_CALLBACK (on_search_changed),
                           self, 0);
  g_signal_connect_object (self->search_entry, "activate", G_CALLBACK (on_search_activate), self,
                           0);
  g_signal_connect_object (self->search_entry, "previous-match", G_CALLBACK (on_search_previous),
                           self, 0);
  g_signal_connect_object (self->search_entry, "next-match", G_CALLBACK (on_search_next), self, 0);
  g_signal_connect_object (self->search_bar, "notify::search-mode-enabled",
                           G_CALLBACK (on_search_mode), self, 0);
  g_object_bind_property (self->search_button, "active", self->search_bar, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));

  GtkSettings *settings = gtk_widget_get_settings (GTK_WIDGET (self));
  g_signal_connect_object (settings, "notify::gtk-application-prefer-dark-theme",
                           G_CALLBACK (on_dark_changed), self, 0);
  g_signal_connect_object (settings, "notify::gtk-theme-name", G_CALLBACK (on_dark_changed), self,
                           G_CONNECT_AFTER);
  on_dark_changed (settings, NULL, self);

  gtk_stack_set_visible_child_name (self->main_stack, "empty");
  offshoot_window_init_actions (self);
  offshoot_window_init_dnd (self);
  offshoot_window_init_unsaved (self);
  offshoot_window_rebuild_recent (self);
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

OffshootWindow *
offshoot_window_new (GtkApplication *app)
{
  return g_object_new (OFFSHOOT_TYPE_WINDOW, "application", app, NULL);
}

const OshGraph *
offshoot_window_get_graph (OffshootWindow *self)
{
  OshGraphHandle *h = offshoot_window_handle (self);
  return h ? h->graph : NULL;
}

gboolean
offshoot_window_is_busy (OffshootWindow *self)
{
  return self->loading || self->exporting > 0 || self->weights_cancel
         || offshoot_graph_view_is_laying_out (self->graph_view)
         || offshoot_run_panel_is_running (self->run_panel);
}

void
offshoot_window_cancel_work (OffshootWindow *self)
{
  offshoot_window_cancel_weights (self);
  offshoot_window_cancel_export (self);
  offshoot_graph_view_cancel_layout (self->graph_view);
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

const char *
offshoot_window_get_error (OffshootWindow *self)
{
  return self->error;
}

const char *
offshoot_window_get_page (OffshootWindow *self)
{
  return gtk_stack_get_visible_child_name (self->main_stack);
}

OffshootGraphView *
offshoot_window_get_graph_view (OffshootWindow *self)
{
  return self->graph_view;
}

OffshootHeadPanel *
offshoot_window_get_head_panel (OffshootWindow *self)
{
  return self->head_panel;
}

OffshootProbePanel *
offshoot_window_get_probe_panel (OffshootWindow *self)
{
  return self->probe_panel;
}

OffshootTrainPanel *
offshoot_window_get_train_panel (OffshootWindow *self)
{
  return self->train_panel;
}

OffshootRunPanel *
offshoot_window_get_run_panel (OffshootWindow *self)
{
  return self->run_panel;
}

OffshootLayerPanel *
offshoot_window_get_layer_panel (OffshootWindow *self)
{
  return self->layer_panel;
}
