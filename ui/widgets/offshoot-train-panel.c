/* offshoot-train-panel.c — the Train view: a data folder, the fit settings, a worker running the
 * fit driver (ui/fit/osh-fit.h) on a copy of the graph, progress with an ETA, and the curves. */
#include "offshoot-train-panel.h"

#include <math.h>

#include "offshoot-data-folder-row.h"
#include "offshoot-train-curves.h"
#include "osh-fit.h"
#include "osh-workers.h"

#define CURVES_HEIGHT 300

/* What the worker needs, and what it reports: counters through atomics, the curve's points
 * under the lock (a timer on the main thread reads both). */
typedef struct
{
  OshGraphHandle *from; /* the graph the run started from */
  OshGraph *g;          /* its copy, trained; handed over when the run ends */
  char *name;           /* for errors */
  OshFitData data;
  OshFitOptions opt;
  GCancellable *cancel;
  gint pictures_done, pictures_total, steps_done, steps_total;
  GMutex lock;
  OffshootTrainCurves curves; /* under lock */
} TrainJob;

struct _OffshootTrainPanel
{
  GtkWidget parent_instance;

  GtkWidget *box, *data_row;
  GtkWidget *settings, *epochs_spin, *batch_spin, *lr_spin, *optimizer_drop;
  GtkWidget *start_button, *stop_button, *progress, *status_label, *plot;

  OshGraphHandle *graph;
  gboolean has_weights;
  char *data_dir;
  char *summary, *status;
  OshOptimKind optimizer; /* the dropdown's, to move the rate with it */

  TrainJob *job; /* the running one, or NULL */
  guint progress_id;
  int64_t steps_done;
  gint64 pace_since;          /* when the timer first saw steps done (monotonic µs), 0 before */
  int pace_steps;             /* the steps done then */
  OffshootTrainCurves curves; /* the running or last run's */
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (OffshootTrainPanel, offshoot_train_panel, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_TRAINED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const OshOptimKind optimizers[] = { OSH_OPTIM_ADAM, OSH_OPTIM_SGD, OSH_OPTIM_ADAMW };

static void
set_status (OffshootTrainPanel *self, const char *text)
{
  g_free (self->status);
  self->status = g_strdup (text ? text : "");
  gtk_label_set_text (GTK_LABEL (self->status_label), self->status);
}

/* The rate the optimizer uses when `offshoot fit` is given no --lr (Keras's defaults). */
static double
default_rate (OshOptimKind kind)
{
  OshTrainOptions o = osh_train_options_default ();
  o.optimizer = kind;
  return osh_train_learning_rate (&o, 0);
}

static void
job_free (TrainJob *job)
{
  osh_graph_handle_unref (job->from);
  osh_graph_free (job->g);
  g_free (job->name);
  osh_fit_data_clear (&job->data);
  g_clear_object (&job->cancel);
  g_mutex_clear (&job->lock);
  offshoot_train_curves_clear (&job->curves);
  g_free (job);
}

/* ---- The worker -------------------------------------------------------------------------- */

/* A point of the curves: the loss and every trained output's metric (train NULL: point 0). */
static void
push_point (TrainJob *job, OshFit *f, const OshFitScore *train, const OshFitScore *val)
{
  int n = osh_fit_n_outputs (f);
  g_autofree double *metrics = g_new (double, 2 * MAX (n, 1));
  for (int k = 0; k < n; k++)
    {
      metrics[2 * k] = train ? osh_fit_metric (f, train, k, NULL) : NAN;
      metrics[2 * k + 1] = osh_fit_metric (f, val, k, NULL);
    }
  g_mutex_lock (&job->lock);
  offshoot_train_curves_push (&job->curves, train ? train->loss : NAN, val->loss, metrics);
  g_mutex_unlock (&job->lock);
}

static bool
on_fit_progress (OshFit *f, OshFitStage stage, int64_t done, int64_t total, void *user)
{
  TrainJob *job = user;
  if (stage == OSH_FIT_FEATURES)
    {
      g_atomic_int_set (&job->pictures_total, (int) total);
      g_atomic_int_set (&job->pictures_done, (int) done);
    }
  else if (stage == OSH_FIT_BATCH)
    {
      g_atomic_int_set (&job->steps_total, (int) total);
      g_atomic_int_set (&job->steps_done, (int) done);
    }
  else if (stage == OSH_FIT_EPOCH)
    {
      const OshFitEpoch *e = osh_fit_epoch (f, (int) done - 1);
      push_point (job, f, &e->train, &e->val);
    }
  return !g_cancellable_is_cancelled (job->cancel);
}

static void
train_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  (void) source, (void) cancel;
  TrainJob *job = data;
  OshError err = { 0 };
  OshFit *f = NULL;
  /* Shares the weights' values: training copies those it updates (osh-grad-layers.c). */
  job->g = osh_graph_copy_sharing (job->from->graph, &err);
  bool ok = job->g && (f = osh_fit_new (job->g, job->name, &job->data, &job->opt, &err))
            && osh_fit_prepare (f, on_fit_progress, job, &err);
  if (ok)
    {
      OshFitScore fresh = { 0 };
      ok = osh_fit_evaluate (f, &fresh, &err);
      int n = osh_fit_n_outputs (f);
      g_autofree const char **names = g_new0 (const char *, MAX (n, 1));
      g_autofree const char **metrics = g_new0 (const char *, MAX (n, 1));
      for (int k = 0; k < n; k++)
        {
          names[k] = osh_fit_output_name (f, k);
          osh_fit_metric (f, &fresh, k, &metrics[k]);
        }
      g_mutex_lock (&job->lock);
      offshoot_train_curves_set_outputs (&job->curves, n, names, metrics);
      g_mutex_unlock (&job->lock);
      if (ok)
        push_point (job, f, NULL, &fresh);
      osh_fit_score_clear (&fresh);
    }
  ok = ok && !g_cancellable_is_cancelled (job->cancel)
       && osh_fit_run (f, on_fit_progress, job, &err);
  if (!ok && !err.code)
    osh_fail (&err, OSH_ERR_CANCELLED, "stopped");
  osh_fit_free (f);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else if (err.code == OSH_ERR_CANCELLED)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Training was stopped.");
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
}

/* ---- Running ----------------------------------------------------------------------------- */

static void
show_running (OffshootTrainPanel *self, gboolean running)
{
  gtk_widget_set_visible (self->progress, running);
  gtk_widget_set_sensitive (self->stop_button, running);
  gtk_widget_set_sensitive (self->start_button, !running);
  offshoot_data_folder_row_set_busy (OFFSHOOT_DATA_FOLDER_ROW (self->data_row), running);
  gtk_widget_set_sensitive (self->settings, !running); /* a run keeps the settings it began with */
}

/* The job's curves into the panel's (main thread). */
static void
take_points (OffshootTrainPanel *self, TrainJob *job)
{
  g_mutex_lock (&job->lock);
  offshoot_train_curves_copy (&self->curves, &job->curves);
  g_mutex_unlock (&job->lock);
  gtk_widget_queue_draw (self->plot);
}

static char *
format_duration (double seconds)
{
  int s = (int) lround (seconds);
  return s >= 3600 ? g_strdup_printf ("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                   : g_strdup_printf ("%d:%02d", s / 60, s % 60);
}

static gboolean
update_progress (gpointer data)
{
  OffshootTrainPanel *self = data;
  TrainJob *job = self->job;
  if (!job)
    return G_SOURCE_REMOVE;
  int pd = g_atomic_int_get (&job->pictures_done), pt = g_atomic_int_get (&job->pictures_total);
  int sd = g_atomic_int_get (&job->steps_done), st = g_atomic_int_get (&job->steps_total);
  self->steps_done = sd;
  g_autofree char *text = NULL;
  double fraction = 0;
  if (st > 0 && sd > 0)
    {
      /* The features are done once; the ETA is the epochs' pace since the timer first saw a
       * step (the main thread's own clock, nothing shared with the worker). */
      gint64 now = g_get_monotonic_time ();
      if (!self->pace_since)
        self->pace_since = now, self->pace_steps = sd;
      double elapsed = (double) (now - self->pace_since) / 1e6;
      g_autofree char *left =
          sd > self->pace_steps
              ? format_duration (elapsed / (double) (sd - self->pace_steps) * (double) (st - sd))
              : g_strdup ("…");
      int per_epoch = MAX (1, st / job->opt.epochs);
      text = g_strdup_printf ("Epoch %d of %d, step %d of %d — %s left",
                              MIN (job->opt.epochs, (sd - 1) / per_epoch + 1), job->opt.epochs, sd,
                              st, left);
      fraction = 0.1 + 0.9 * (double) sd / (double) st;
    }
  else if (pt > 0)
    {
      text = g_strdup_printf ("Features: picture %d of %d", pd, pt);
      fraction = 0.1 * pd / pt; /* the features take about a tenth of a short run */
    }
  else
    text = g_strdup ("Starting…");
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), fraction);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
  take_points (self, job);
  return G_SOURCE_CONTINUE;
}

/* "Trained 10 epochs: val_loss 0.3120, val_iou 0.6411 (Undo reverts it)."; with several
 * outputs each output's validation metric by its name. */
static char *
describe_result (const OffshootTrainCurves *c, int epochs)
{
  int last = offshoot_train_curves_n_points (c) - 1;
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "Trained %d epochs", epochs);
  double val_loss = offshoot_train_curves_loss (c, last, TRUE);
  const char *sep = ": ";
  if (isfinite (val_loss))
    {
      g_string_append_printf (s, "%sval_loss %.4f", sep, val_loss);
      sep = ", ";
    }
  for (int k = 0; k < c->n_outputs; k++)
    {
      double v = offshoot_train_curves_metric (c, k, last, TRUE);
      if (!isfinite (v))
        continue;
      const char *metric = c->metric_names[k] ? c->metric_names[k] : "metric";
      if (c->n_outputs > 1)
        g_string_append_printf (s, "%s%s val_%s %.4f", sep, c->output_names[k], metric, v);
      else
        g_string_append_printf (s, "%sval_%s %.4f", sep, metric, v);
      sep = ", ";
    }
  g_string_append (s, " (Undo reverts it).");
  return g_string_free (s, FALSE);
}

static void
train_done (GObject *src, GAsyncResult *res, gpointer data)
{
  (void) src;
  OffshootTrainPanel *self = data; /* the task held a ref */
  TrainJob *job = g_task_get_task_data (G_TASK (res));
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (res), &error);
  osh_worker_end (error);
  self->job = NULL;
  g_clear_handle_id (&self->progress_id, g_source_remove);
  if (self->disposed)
    return;
  update_progress (self);
  take_points (self, job);
  show_running (self, FALSE);
  if (!ok)
    {
      set_status (self, error->message);
      return;
    }
  if (job->from != self->graph)
    {
      set_status (self, "The model changed while training: the trained weights were not applied.");
      return;
    }
  g_autofree char *text = describe_result (&self->curves, job->opt.epochs);
  set_status (self, text);
  OshGraph *trained = g_steal_pointer (&job->g);
  g_signal_emit (self, signals[SIGNAL_TRAINED], 0, trained);
}

const OffshootTrainCurves *
offshoot_train_panel_get_curves (OffshootTrainPanel *self)
{
  return &self->curves;
}

gboolean
offshoot_train_panel_start (OffshootTrainPanel *self)
{
  g_return_val_if_fail (OFFSHOOT_IS_TRAIN_PANEL (self), FALSE);
  if (self->job)
    return FALSE;
  if (!self->graph || !self->has_weights || !self->data_dir)
    {
      set_status (self, !self->graph         ? "Open a model first."
                        : !self->has_weights ? "Training starts once the weights are loaded."
                                             : "Choose a data folder first.");
      return FALSE;
    }
  TrainJob *job = g_new0 (TrainJob, 1);
  g_mutex_init (&job->lock);
  offshoot_train_curves_init (&job->curves);
  OshError err = { 0 };
  if (!osh_fit_data_read (self->data_dir, &job->data, &err))
    {
      set_status (self, err.message);
      job_free (job);
      return FALSE;
    }
  job->from = osh_graph_handle_ref (self->graph);
  job->name =
      g_strdup (self->graph->graph->name && *self->graph->graph->name ? self->graph->graph->name
                                                                      : "the model");
  job->cancel = g_cancellable_new ();
  job->opt = osh_fit_options_default ();
  job->opt.epochs = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->epochs_spin));
  job->opt.batch = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->batch_spin));
  job->opt.threads = MAX (1, (int) g_get_num_processors ());
  job->opt.train.optimizer = self->optimizer;
  job->opt.train.learning_rate = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->lr_spin));
  self->job = job;
  self->steps_done = 0;
  self->pace_since = 0;
  offshoot_train_curves_set_outputs (&self->curves, 0, NULL, NULL);
  gtk_widget_queue_draw (self->plot);
  show_running (self, TRUE);
  set_status (self, "");
  update_progress (self);
  self->progress_id = g_timeout_add (100, update_progress, self);
  GTask *task = g_task_new (NULL, NULL, train_done, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  osh_worker_begin ();
  g_task_run_in_thread (task, train_thread);
  g_object_unref (task);
  return TRUE;
}

void
offshoot_train_panel_stop (OffshootTrainPanel *self)
{
  g_return_if_fail (OFFSHOOT_IS_TRAIN_PANEL (self));
  if (self->job)
    g_cancellable_cancel (self->job->cancel);
}

gboolean
offshoot_train_panel_is_running (OffshootTrainPanel *self)
{
  return self->job != NULL;
}

int64_t
offshoot_train_panel_steps_done (OffshootTrainPanel *self)
{
  if (self->job)
    update_progress (self);
  return self->steps_done;
}

int
offshoot_train_panel_get_n_points (OffshootTrainPanel *self)
{
  return offshoot_train_curves_n_points (&self->curves);
}

OffshootTrainPoint
offshoot_train_panel_get_point (OffshootTrainPanel *self, int i)
{
  const OffshootTrainCurves *c = &self->curves;
  return (OffshootTrainPoint){ offshoot_train_curves_loss (c, i, FALSE),
                               offshoot_train_curves_loss (c, i, TRUE),
                               offshoot_train_curves_metric (c, 0, i, FALSE),
                               offshoot_train_curves_metric (c, 0, i, TRUE) };
}

const char *
offshoot_train_panel_get_metric_name (OffshootTrainPanel *self)
{
  return self->curves.n_outputs ? self->curves.metric_names[0] : NULL;
}

const char *
offshoot_train_panel_get_data_summary (OffshootTrainPanel *self)
{
  return self->summary ? self->summary : "";
}

const char *
offshoot_train_panel_get_status (OffshootTrainPanel *self)
{
  return self->status ? self->status : "";
}

static void
draw_curves (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  OffshootTrainPanel *self = data;
  offshoot_train_curves_draw (&self->curves, GTK_WIDGET (area), cr, width, height);
}

/* ---- Data folder, settings and model ------------------------------------------------------ */

/* "circle 10, cross 10 pictures; 40 masks; skipped: a.png" */
static char *
describe_data (const OshFitData *data)
{
  GString *s = g_string_new (NULL);
  for (guint c = 0; c < data->classes->len; c++)
    g_string_append_printf (s, "%s%s %d", c ? ", " : "", (const char *) data->classes->pdata[c],
                            osh_fit_data_count_class (data, (int) c));
  if (data->classes->len)
    g_string_append (s, " pictures");
  else
    g_string_append_printf (s, "%u pictures", data->examples->len);
  g_string_append_printf (s, "; %d with a mask", osh_fit_data_count_masks (data));
  if (data->skipped_pictures)
    g_string_append_printf (s, "; skipped pictures without a mask: %s", data->skipped_pictures);
  if (data->skipped_masks)
    g_string_append_printf (s, "; skipped masks without their picture: %s", data->skipped_masks);
  return g_string_free (s, FALSE);
}

gboolean
offshoot_train_panel_set_data (OffshootTrainPanel *self, const char *dir)
{
  g_return_val_if_fail (OFFSHOOT_IS_TRAIN_PANEL (self), FALSE);
  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->summary, g_free);
  OshFitData data = { 0 };
  OshError err = { 0 };
  gboolean ok = dir && osh_fit_data_read (dir, &data, &err);
  if (ok)
    {
      self->data_dir = g_strdup (dir);
      self->summary = describe_data (&data);
    }
  else
    self->summary = g_strdup (dir ? err.message : "");
  osh_fit_data_clear (&data);
  OffshootDataFolderRow *row = OFFSHOOT_DATA_FOLDER_ROW (self->data_row);
  offshoot_data_folder_row_set_folder (row, dir);
  offshoot_data_folder_row_set_summary (row, self->summary);
  return ok;
}

static void
on_data_chosen (OffshootDataFolderRow *row, const char *path, OffshootTrainPanel *self)
{
  (void) row;
  offshoot_train_panel_set_data (self, path);
}

/* A new optimizer takes its own default rate unless the rate was changed by hand. */
static void
on_optimizer_changed (GtkDropDown *drop, GParamSpec *pspec, OffshootTrainPanel *self)
{
  (void) pspec;
  guint i = gtk_drop_down_get_selected (drop);
  OshOptimKind kind = i < G_N_ELEMENTS (optimizers) ? optimizers[i] : OSH_OPTIM_ADAM;
  GtkSpinButton *lr = GTK_SPIN_BUTTON (self->lr_spin);
  if (fabs (gtk_spin_button_get_value (lr) - default_rate (self->optimizer)) < 1e-12)
    gtk_spin_button_set_value (lr, default_rate (kind));
  self->optimizer = kind;
}

void
offshoot_train_panel_set_settings (OffshootTrainPanel *self, int epochs, int batch,
                                   double learning_rate, OshOptimKind optimizer)
{
  g_return_if_fail (OFFSHOOT_IS_TRAIN_PANEL (self));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->epochs_spin), epochs);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->batch_spin), batch);
  for (guint i = 0; i < G_N_ELEMENTS (optimizers); i++)
    if (optimizers[i] == optimizer)
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->optimizer_drop), i);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), learning_rate);
}

void
offshoot_train_panel_set_graph (OffshootTrainPanel *self, OshGraphHandle *h, gboolean has_weights)
{
  g_return_if_fail (OFFSHOOT_IS_TRAIN_PANEL (self));
  self->has_weights = has_weights;
  if (h == self->graph)
    return;
  OshGraphHandle *old = self->graph;
  self->graph = h ? osh_graph_handle_ref (h) : NULL;
  osh_graph_handle_unref (old);
}

/* ---- The widget -------------------------------------------------------------------------- */

static void
offshoot_train_panel_dispose (GObject *object)
{
  OffshootTrainPanel *self = OFFSHOOT_TRAIN_PANEL (object);
  self->disposed = TRUE;
  offshoot_train_panel_stop (self);
  g_clear_handle_id (&self->progress_id, g_source_remove);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (offshoot_train_panel_parent_class)->dispose (object);
}

static void
offshoot_train_panel_finalize (GObject *object)
{
  OffshootTrainPanel *self = OFFSHOOT_TRAIN_PANEL (object);
  osh_graph_handle_unref (self->graph);
  offshoot_train_curves_clear (&self->curves);
  g_free (self->data_dir);
  g_free (self->summary);
  g_free (self->status);
  G_OBJECT_CLASS (offshoot_train_panel_parent_class)->finalize (object);
}

/* Leaving the window (it closes): the trained copy would have nowhere to go. */
static void
offshoot_train_panel_unroot (GtkWidget *widget)
{
  offshoot_train_panel_stop (OFFSHOOT_TRAIN_PANEL (widget));
  GTK_WIDGET_CLASS (offshoot_train_panel_parent_class)->unroot (widget);
}

static void
offshoot_train_panel_class_init (OffshootTrainPanelClass *klass)
{
  GTK_WIDGET_CLASS (klass)->unroot = offshoot_train_panel_unroot;
  G_OBJECT_CLASS (klass)->dispose = offshoot_train_panel_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_train_panel_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  /* ::trained (OshGraph *trained): the handler owns it from then on. */
  signals[SIGNAL_TRAINED] = g_signal_new ("trained", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

/* A caption and its control at cell (row, col) of a two-column grid of settings. */
static GtkWidget *
add_setting (GtkGrid *grid, int row, int col, const char *caption, GtkWidget *control)
{
  GtkWidget *l = gtk_label_new (caption);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_grid_attach (grid, l, 2 * col, row, 1, 1);
  gtk_widget_set_hexpand (control, TRUE);
  gtk_grid_attach (grid, control, 2 * col + 1, row, 1, 1);
  return control;
}

static void
offshoot_train_panel_init (OffshootTrainPanel *self)
{
  offshoot_train_curves_init (&self->curves);
  self->optimizer = OSH_OPTIM_ADAM;
  OshFitOptions defaults = osh_fit_options_default ();
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 12);
  gtk_widget_set_margin_top (self->box, 6);
  gtk_widget_set_margin_bottom (self->box, 12);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  GtkBox *box = GTK_BOX (self->box);
  GtkWidget *title = offshoot_wrapped_label ("Train", "heading");
  gtk_widget_set_tooltip_text (title, "Fits the attached heads on a data folder, the model's own "
                                      "layers frozen (as offshoot fit).");
  gtk_box_append (box, title);

  self->data_row = offshoot_data_folder_row_new (
      "Training Data (a Folder per Class, or Pictures with Masks)", "_Choose");
  g_signal_connect_object (self->data_row, "chosen", G_CALLBACK (on_data_chosen), self, 0);
  gtk_box_append (box, self->data_row);

  GtkGrid *grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_row_spacing (grid, 4);
  gtk_grid_set_column_spacing (grid, 8);
  self->epochs_spin =
      add_setting (grid, 0, 0, "Epochs", gtk_spin_button_new_with_range (1, 100000, 1));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->epochs_spin), defaults.epochs);
  self->batch_spin = add_setting (grid, 0, 1, "Batch", gtk_spin_button_new_with_range (1, 4096, 1));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->batch_spin), defaults.batch);
  self->lr_spin = add_setting (grid, 1, 0, "Rate", gtk_spin_button_new_with_range (1e-6, 10, 1e-4));
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (self->lr_spin), 5);
  gtk_widget_set_tooltip_text (self->lr_spin,
                               "The learning rate (Adam's default 0.001, SGD's 0.01)");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), default_rate (OSH_OPTIM_ADAM));
  const char *const names[] = { "Adam", "SGD", "AdamW", NULL };
  self->optimizer_drop =
      add_setting (grid, 1, 1, "Optimizer", gtk_drop_down_new_from_strings (names));
  g_signal_connect_object (self->optimizer_drop, "notify::selected",
                           G_CALLBACK (on_optimizer_changed), self, 0);
  self->settings = GTK_WIDGET (grid);
  gtk_box_append (box, GTK_WIDGET (grid));

  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->start_button = gtk_button_new_with_mnemonic ("_Start");
  gtk_widget_add_css_class (self->start_button, "suggested-action");
  g_signal_connect_object (self->start_button, "clicked", G_CALLBACK (offshoot_train_panel_start),
                           self, G_CONNECT_SWAPPED);
  self->stop_button = gtk_button_new_with_mnemonic ("S_top");
  gtk_widget_set_sensitive (self->stop_button, FALSE);
  g_signal_connect_object (self->stop_button, "clicked", G_CALLBACK (offshoot_train_panel_stop),
                           self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (row), self->start_button);
  gtk_box_append (GTK_BOX (row), self->stop_button);
  gtk_box_append (box, row);
  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_widget_set_visible (self->progress, FALSE);
  gtk_box_append (box, self->progress);
  self->status_label = offshoot_wrapped_label ("", NULL);
  gtk_label_set_selectable (GTK_LABEL (self->status_label), TRUE);
  gtk_box_append (box, self->status_label);
  self->plot = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->plot), CURVES_HEIGHT);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->plot), draw_curves, self, NULL);
  gtk_box_append (box, self->plot);
}

GtkWidget *
offshoot_train_panel_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_TRAIN_PANEL, NULL);
}
