/* offshoot-train-panel.c — the Train view: a data folder, the fit settings, a worker running the
 * fit driver (ui/fit/osh-fit.h) on a copy of the graph, progress with an ETA, and the curves. */
#include "offshoot-train-panel.h"

#include <math.h>

#include "osh-fit.h"
#include "osh-workers.h"

#define CURVES_HEIGHT 300
#define PLOT_MARGIN_L 46.0
#define PLOT_MARGIN_R 10.0
#define PLOT_MARGIN_T 28.0
#define PLOT_MARGIN_B 22.0

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
  GArray *points; /* OffshootTrainPoint, under lock */
  char *metric;   /* set once the fit exists, under lock */
} TrainJob;

struct _OffshootTrainPanel
{
  GtkWidget parent_instance;

  GtkWidget *box, *data_label, *choose_button, *summary_label;
  GtkWidget *settings, *epochs_spin, *batch_spin, *lr_spin, *optimizer_drop;
  GtkWidget *start_button, *stop_button, *progress, *status_label, *curves;

  OshGraphHandle *graph;
  gboolean has_weights;
  char *data_dir;
  char *summary, *status;
  OshOptimKind optimizer; /* the dropdown's, to move the rate with it */

  TrainJob *job; /* the running one, or NULL */
  guint progress_id;
  int64_t steps_done;
  gint64 pace_since; /* when the timer first saw steps done (monotonic µs), 0 before */
  int pace_steps;    /* the steps done then */
  GArray *points;    /* the running or last run's, OffshootTrainPoint */
  char *metric;
  GtkFileChooserNative *chooser;
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
  g_array_unref (job->points);
  g_free (job->metric);
  g_free (job);
}

/* ---- The worker -------------------------------------------------------------------------- */

static void
push_point (TrainJob *job, OffshootTrainPoint p)
{
  g_mutex_lock (&job->lock);
  g_array_append_val (job->points, p);
  g_mutex_unlock (&job->lock);
}

static double
metric_of (OshFit *f, const OshFitScore *s)
{
  return osh_fit_metric (f, s, 0, NULL);
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
      push_point (job, (OffshootTrainPoint){ e->train.loss, e->val.loss, metric_of (f, &e->train),
                                             metric_of (f, &e->val) });
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
  job->g = osh_graph_copy (job->from->graph, &err);
  bool ok = job->g && (f = osh_fit_new (job->g, job->name, &job->data, &job->opt, &err))
            && osh_fit_prepare (f, on_fit_progress, job, &err);
  if (ok)
    {
      const char *metric = NULL;
      OshFitScore fresh = { 0 };
      ok = osh_fit_evaluate (f, &fresh, &err);
      osh_fit_metric (f, &fresh, 0, &metric);
      g_mutex_lock (&job->lock);
      job->metric = g_strdup (metric);
      g_mutex_unlock (&job->lock);
      if (ok)
        push_point (job, (OffshootTrainPoint){ NAN, fresh.loss, NAN, metric_of (f, &fresh) });
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
  gtk_widget_set_sensitive (self->choose_button, !running);
  gtk_widget_set_sensitive (self->settings, !running); /* a run keeps the settings it began with */
}

/* The job's points and metric name into the panel's (main thread). */
static void
take_points (OffshootTrainPanel *self, TrainJob *job)
{
  g_mutex_lock (&job->lock);
  g_array_set_size (self->points, 0);
  g_array_append_vals (self->points, job->points->data, job->points->len);
  if (job->metric && g_strcmp0 (job->metric, self->metric) != 0)
    {
      g_free (self->metric);
      self->metric = g_strdup (job->metric);
    }
  g_mutex_unlock (&job->lock);
  gtk_widget_queue_draw (self->curves);
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
  const OffshootTrainPoint *last =
      self->points->len ? &g_array_index (self->points, OffshootTrainPoint, self->points->len - 1)
                        : NULL;
  g_autofree char *text =
      last && !isnan (last->val_metric)
          ? g_strdup_printf ("Trained %d epochs: val_loss %.4f, val_%s %.4f (Undo reverts it).",
                             job->opt.epochs, last->val_loss,
                             self->metric ? self->metric : "metric", last->val_metric)
          : g_strdup_printf ("Trained %d epochs (Undo reverts it).", job->opt.epochs);
  set_status (self, text);
  OshGraph *trained = g_steal_pointer (&job->g);
  g_signal_emit (self, signals[SIGNAL_TRAINED], 0, trained);
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
  job->points = g_array_new (FALSE, FALSE, sizeof (OffshootTrainPoint));
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
  g_array_set_size (self->points, 0);
  gtk_widget_queue_draw (self->curves);
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
  return (int) self->points->len;
}

OffshootTrainPoint
offshoot_train_panel_get_point (OffshootTrainPanel *self, int i)
{
  g_return_val_if_fail (i >= 0 && i < (int) self->points->len,
                        ((OffshootTrainPoint){ NAN, NAN, NAN, NAN }));
  return g_array_index (self->points, OffshootTrainPoint, i);
}

const char *
offshoot_train_panel_get_metric_name (OffshootTrainPanel *self)
{
  return self->metric;
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

/* ---- The curves: loss above, the metric below; train solid, validation dashed ------------ */

typedef struct
{
  double x0, y0, w, h, lo, hi;
  int n; /* x runs over points 0..n-1 */
} Plot;

static void
range_of (GArray *points, gboolean loss, double *lo, double *hi)
{
  *lo = INFINITY, *hi = -INFINITY;
  for (guint i = 0; i < points->len; i++)
    {
      const OffshootTrainPoint *p = &g_array_index (points, OffshootTrainPoint, i);
      double v[2] = { loss ? p->loss : p->metric, loss ? p->val_loss : p->val_metric };
      for (int k = 0; k < 2; k++)
        if (isfinite (v[k]))
          *lo = MIN (*lo, v[k]), *hi = MAX (*hi, v[k]);
    }
  if (!isfinite (*lo))
    *lo = 0, *hi = 1;
  if (!loss)
    *lo = MIN (*lo, 0), *hi = MAX (*hi, 1); /* metrics are shares: show all of 0..1 */
  else
    *lo = MIN (*lo, 0);
  if (*hi - *lo < 1e-9)
    *hi = *lo + 1;
}

static void
draw_series (cairo_t *cr, const Plot *p, GArray *points, size_t offset, gboolean dashed,
             const double rgb[3])
{
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, 2);
  double dash[] = { 5, 3 };
  cairo_set_dash (cr, dash, dashed ? 2 : 0, 0);
  gboolean pen = FALSE;
  for (guint i = 0; i < points->len; i++)
    {
      double v = *(const double *) ((const char *) &g_array_index (points, OffshootTrainPoint, i)
                                    + offset);
      if (!isfinite (v))
        {
          pen = FALSE;
          continue;
        }
      double x = p->x0 + p->w * (p->n > 1 ? (double) i / (p->n - 1) : 0.5);
      double y = p->y0 + p->h * (1 - (v - p->lo) / (p->hi - p->lo));
      if (pen)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen = TRUE;
      cairo_arc (cr, x, y, 2.5, 0, 2 * G_PI);
      cairo_move_to (cr, x, y);
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
}

static void
draw_plot (cairo_t *cr, GtkWidget *w, const Plot *p, const char *title, GArray *points,
           gboolean loss, GdkRGBA fg)
{
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.25);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, p->x0 + 0.5, p->y0 + 0.5, p->w, p->h);
  cairo_stroke (cr);
  PangoLayout *layout = gtk_widget_create_pango_layout (w, NULL);
  char text[64];
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
  for (int k = 0; k <= 2; k++)
    {
      double v = p->lo + (p->hi - p->lo) * k / 2;
      snprintf (text, sizeof text, "%.3g", v);
      pango_layout_set_text (layout, text, -1);
      int tw, th;
      pango_layout_get_pixel_size (layout, &tw, &th);
      cairo_move_to (cr, p->x0 - tw - 4, p->y0 + p->h * (1 - k / 2.0) - th / 2.0);
      pango_cairo_show_layout (cr, layout);
    }
  pango_layout_set_text (layout, title, -1);
  cairo_move_to (cr, p->x0, p->y0 - 24);
  pango_cairo_show_layout (cr, layout);
  snprintf (text, sizeof text, "epoch %d", MAX (0, p->n - 1));
  pango_layout_set_text (layout, text, -1);
  int tw, th;
  pango_layout_get_pixel_size (layout, &tw, &th);
  cairo_move_to (cr, p->x0 + p->w - tw, p->y0 + p->h + 3);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
  static const double train_rgb[3] = { 0.20, 0.45, 0.85 }, val_rgb[3] = { 0.90, 0.45, 0.10 };
  draw_series (cr, p, points,
               loss ? G_STRUCT_OFFSET (OffshootTrainPoint, loss)
                    : G_STRUCT_OFFSET (OffshootTrainPoint, metric),
               FALSE, train_rgb);
  draw_series (cr, p, points,
               loss ? G_STRUCT_OFFSET (OffshootTrainPoint, val_loss)
                    : G_STRUCT_OFFSET (OffshootTrainPoint, val_metric),
               TRUE, val_rgb);
}

static void
draw_curves (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  OffshootTrainPanel *self = data;
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  double half = height / 2.0;
  Plot loss = { PLOT_MARGIN_L, PLOT_MARGIN_T, width - PLOT_MARGIN_L - PLOT_MARGIN_R,
                half - PLOT_MARGIN_T - PLOT_MARGIN_B };
  loss.n = MAX ((int) self->points->len, 2);
  Plot metric = loss;
  metric.y0 += half;
  range_of (self->points, TRUE, &loss.lo, &loss.hi);
  range_of (self->points, FALSE, &metric.lo, &metric.hi);
  draw_plot (cr, GTK_WIDGET (area), &loss, "loss — train (solid), validation (dashed)",
             self->points, TRUE, fg);
  g_autofree char *title = g_strdup_printf ("%s — train (solid), validation (dashed)",
                                            self->metric ? self->metric : "metric");
  draw_plot (cr, GTK_WIDGET (area), &metric, title, self->points, FALSE, fg);
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
  g_autofree char *base = dir ? g_path_get_basename (dir) : NULL;
  gtk_label_set_text (GTK_LABEL (self->data_label), base ? base : "No data folder");
  gtk_widget_set_tooltip_text (self->data_label, dir);
  gtk_label_set_text (GTK_LABEL (self->summary_label), self->summary);
  return ok;
}

static void
on_chooser_response (GtkNativeDialog *d, int response, gpointer data)
{
  OffshootTrainPanel *self = data;
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (d));
      g_autofree char *path = f ? g_file_get_path (f) : NULL;
      if (path)
        offshoot_train_panel_set_data (self, path);
    }
  g_clear_object (&self->chooser);
}

static void
on_choose_clicked (GtkButton *button, OffshootTrainPanel *self)
{
  (void) button;
  if (self->chooser || self->job)
    return;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  self->chooser =
      gtk_file_chooser_native_new ("Training Data (a Folder per Class, or Pictures with Masks)",
                                   GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Choose", "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_chooser_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
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
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (offshoot_train_panel_parent_class)->dispose (object);
}

static void
offshoot_train_panel_finalize (GObject *object)
{
  OffshootTrainPanel *self = OFFSHOOT_TRAIN_PANEL (object);
  osh_graph_handle_unref (self->graph);
  g_array_unref (self->points);
  g_free (self->metric);
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

static GtkWidget *
wrapped_label (const char *text, const char *css)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  if (css)
    gtk_widget_add_css_class (l, css);
  return l;
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
  self->points = g_array_new (FALSE, FALSE, sizeof (OffshootTrainPoint));
  self->optimizer = OSH_OPTIM_ADAM;
  OshFitOptions defaults = osh_fit_options_default ();
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 12);
  gtk_widget_set_margin_top (self->box, 6);
  gtk_widget_set_margin_bottom (self->box, 12);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  GtkBox *box = GTK_BOX (self->box);
  GtkWidget *title = wrapped_label ("Train", "heading");
  gtk_widget_set_tooltip_text (title, "Fits the attached heads on a data folder, the model's own "
                                      "layers frozen (as offshoot fit).");
  gtk_box_append (box, title);

  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->data_label = gtk_label_new ("No data folder");
  gtk_label_set_xalign (GTK_LABEL (self->data_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->data_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (self->data_label, TRUE);
  self->choose_button = gtk_button_new_with_mnemonic ("_Data Folder…");
  g_signal_connect_object (self->choose_button, "clicked", G_CALLBACK (on_choose_clicked), self, 0);
  gtk_box_append (GTK_BOX (row), self->data_label);
  gtk_box_append (GTK_BOX (row), self->choose_button);
  gtk_box_append (box, row);
  self->summary_label = wrapped_label ("", "dim-label");
  gtk_box_append (box, self->summary_label);

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

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
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
  self->status_label = wrapped_label ("", NULL);
  gtk_label_set_selectable (GTK_LABEL (self->status_label), TRUE);
  gtk_box_append (box, self->status_label);
  self->curves = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->curves), CURVES_HEIGHT);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->curves), draw_curves, self, NULL);
  gtk_box_append (box, self->curves);
}

GtkWidget *
offshoot_train_panel_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_TRAIN_PANEL, NULL);
}
