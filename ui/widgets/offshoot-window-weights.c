/* offshoot-window-weights.c — the graph first, the weights after: a model opens with its
 * structure only (osh_model_load_graph), is drawn and explored at once, and its weight values
 * are read on a worker meanwhile. Until they are in, what needs them (run, weight statistics,
 * export, edits) is greyed and the status bar says "Loading weights…" with a Cancel button; a
 * weights error shows in the banner and the graph stays open for looking at. The same status
 * bar shows the other background work (model export, layout) with its Cancel. */
#include "offshoot-window-private.h"
#include "osh-default-model.h"
#include "osh-model.h"
#include "osh-workers.h"

/* Tests hold the weights worker to look at the window while the weights are still loading
 * (OFFSHOOT_HOLD_WEIGHTS in the environment holds it for good: screenshots of that state). */
static gint held = -1;

static gboolean
is_held (void)
{
  if (g_atomic_int_get (&held) < 0)
    g_atomic_int_set (&held, g_getenv ("OFFSHOOT_HOLD_WEIGHTS") != NULL);
  return g_atomic_int_get (&held) > 0;
}

void
offshoot_window_hold_weights (gboolean hold)
{
  g_atomic_int_set (&held, hold);
}

typedef struct
{
  char *spec;
  OshGraphHandle *graph; /* the weightless graph, read only here */
} WeightsJob;

static void
weights_job_free (WeightsJob *job)
{
  g_free (job->spec);
  osh_graph_handle_unref (job->graph);
  g_free (job);
}

static void
weights_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  WeightsJob *job = data;
  while (is_held () && !g_cancellable_is_cancelled (cancellable))
    g_usleep (10000);
  if (g_task_return_error_if_cancelled (task))
    return;
  OshError err = { 0 };
  OshGraph *full = osh_load_model_spec (job->spec, &err);
  /* A copy of the shown graph takes the values: the shown one may be read by a layout. */
  OshGraph *g = full ? osh_graph_copy (job->graph->graph, &err) : NULL;
  gboolean ok = g && osh_model_take_weights (g, full, &err);
  osh_graph_free (full);
  if (g_task_return_error_if_cancelled (task))
    {
      osh_graph_free (g);
      return;
    }
  if (!ok)
    {
      osh_graph_free (g);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      return;
    }
  g_task_return_pointer (task, osh_graph_handle_new (g), (GDestroyNotify) osh_graph_handle_unref);
}

static void
show_weights_error (OffshootWindow *self, const char *message)
{
  g_free (self->weights_error);
  self->weights_error = g_strdup (message);
  g_autofree char *text = g_strdup_printf (
      "The weights cannot be read: %s. The graph stays open to look at; running, weight "
      "statistics and export need the weights.",
      message);
  offshoot_window_show_error (self, text);
}

static void
weights_done (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) source;
  g_autoptr (OffshootWindow) self = data; /* dropped here, on the main thread */
  g_autoptr (GError) error = NULL;
  OshGraphHandle *h = g_task_propagate_pointer (G_TASK (res), &error);
  osh_worker_end (error);
  GCancellable *c = g_task_get_cancellable (G_TASK (res));
  OffshootDocument *doc = g_object_get_data (G_OBJECT (res), "doc");
  if (g_cancellable_is_cancelled (c) || c != self->weights_cancel || doc != self->doc)
    {
      /* Cancelled, or another model opened meanwhile: these weights belong to nobody. */
      if (h)
        osh_graph_handle_unref (h);
      return;
    }
  g_clear_object (&self->weights_cancel);
  gboolean run = self->run_queued;
  self->run_queued = FALSE;
  offshoot_window_trace ("weights %s after %.0f ms", h ? "in" : "failed",
                         (g_get_monotonic_time () - self->weights_began) / 1000.0);
  if (!h)
    show_weights_error (self, error->message);
  else
    {
      if (!offshoot_document_take_weights (self->doc, h))
        show_weights_error (self, "the model was edited before they were in");
      osh_graph_handle_unref (h);
    }
  if (run && offshoot_document_has_weights (self->doc))
    offshoot_run_panel_run (self->run_panel); /* the run the user asked for meanwhile */
  else if (run)
    offshoot_run_panel_set_status (self->run_panel, "Not run: the weights cannot be read.");
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

void
offshoot_window_run (OffshootWindow *self)
{
  if (!self->doc)
    return;
  gtk_stack_set_visible_child_name (self->side_stack, "run");
  if (offshoot_document_has_weights (self->doc))
    {
      /* Without a picture the Run page is where the user picks one. */
      offshoot_run_panel_run (self->run_panel);
      return;
    }
  if (self->weights_error)
    {
      offshoot_run_panel_set_status (self->run_panel, "Not run: the weights cannot be read.");
      return;
    }
  /* Queued: it starts as soon as the weights are in (read now if they were not). */
  self->run_queued = TRUE;
  offshoot_run_panel_set_status (self->run_panel, "Waiting for the weights…");
  offshoot_window_load_weights (self);
  offshoot_window_update_actions (self);
}

void
offshoot_window_load_weights (OffshootWindow *self)
{
  if (!self->doc || offshoot_document_has_weights (self->doc) || self->weights_cancel)
    return;
  OshGraphHandle *h = offshoot_window_handle (self);
  self->weights_started = TRUE;
  g_clear_pointer (&self->weights_error, g_free);
  /* Known at graph time (e.g. a truncated weights file inside a .keras): no worker needed. */
  const char *known = osh_model_weights_error (h->graph);
  if (known)
    {
      show_weights_error (self, known);
      offshoot_window_update_activity (self);
      offshoot_window_update_actions (self);
      return;
    }
  self->weights_cancel = g_cancellable_new ();
  self->weights_began = g_get_monotonic_time ();
  WeightsJob *job = g_new0 (WeightsJob, 1);
  job->spec = g_strdup (offshoot_document_get_spec (self->doc));
  job->graph = osh_graph_handle_ref (h);
  /* No source object: the task may be finalized in the worker, a window must not be. */
  GTask *task = g_task_new (NULL, self->weights_cancel, weights_done, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) weights_job_free);
  g_object_set_data_full (G_OBJECT (task), "doc", g_object_ref (self->doc), g_object_unref);
  osh_worker_begin ();
  g_task_run_in_thread (task, weights_thread);
  g_object_unref (task);
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

gboolean
offshoot_window_weights_loading (OffshootWindow *self)
{
  return self->weights_cancel != NULL;
}

void
offshoot_window_cancel_weights (OffshootWindow *self)
{
  if (!self->weights_cancel)
    return;
  g_cancellable_cancel (self->weights_cancel);
  g_clear_object (&self->weights_cancel);
  if (self->run_queued)
    offshoot_run_panel_set_status (self->run_panel, "Not run: loading the weights was cancelled.");
  self->run_queued = FALSE;
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

/* ---- The status bar's activity: what runs in the background, with its Cancel ------------- */

static gboolean
pulse_activity (gpointer data)
{
  OffshootWindow *self = data;
  gtk_progress_bar_pulse (self->activity_progress);
  return G_SOURCE_CONTINUE;
}

void
offshoot_window_update_activity (OffshootWindow *self)
{
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean busy = FALSE, can_load = FALSE;
  if (self->weights_cancel)
    {
      g_string_append (text, "Loading weights…");
      busy = TRUE;
    }
  if (self->export_cancel) /* saves not cancelled */
    {
      g_string_append_printf (text, "%sSaving %s…", text->len ? " · " : "",
                              self->export_name ? self->export_name : "the model");
      busy = TRUE;
    }
  /* A layout there is a view to go back from (a block opened, Expand All, an edit of an
   * expanded graph); graphviz gives no fraction: the bar pulses, as for the other work. The
   * overview's own layout (a model opened, its weights in) is said by the view alone. */
  gboolean layout_cancellable = offshoot_graph_view_can_cancel_layout (self->graph_view);
  if (self->doc && layout_cancellable)
    {
      g_string_append_printf (text, "%sLaying out the graph…", text->len ? " · " : "");
      busy = TRUE;
    }
  gboolean can_cancel = self->weights_cancel || self->export_cancel || layout_cancellable;
  gboolean unreadable = self->doc && self->weights_error && !busy;
  if (unreadable)
    g_string_append (text, "Weights cannot be read"); /* the banner says why, until dismissed */
  else if (self->doc && !busy && !offshoot_document_has_weights (self->doc))
    {
      g_string_append (text, "Weights not loaded");
      can_load = TRUE;
    }
  gtk_label_set_text (self->activity_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->activity_box), busy || can_load || unreadable);
  gtk_widget_set_visible (GTK_WIDGET (self->activity_progress), busy);
  gtk_widget_set_visible (GTK_WIDGET (self->activity_cancel), busy && can_cancel);
  gtk_widget_set_visible (GTK_WIDGET (self->activity_load), can_load);
  if (busy && !self->activity_pulse_id)
    self->activity_pulse_id = g_timeout_add (120, pulse_activity, self);
  else if (!busy)
    g_clear_handle_id (&self->activity_pulse_id, g_source_remove);
}

const char *
offshoot_window_get_activity (OffshootWindow *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->activity_box))
             ? gtk_label_get_text (self->activity_label)
             : "";
}
