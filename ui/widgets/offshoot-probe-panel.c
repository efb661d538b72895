/* offshoot-probe-panel.c — the Probe Layers page: a data folder, a worker running
 * osh_probe_run, the accuracy-against-depth plot and the colours it puts on the graph. */
#include "offshoot-probe-panel.h"

#include <math.h>
#include <stdlib.h>

#include "offshoot-data-folder-row.h"
#include "osh-colormap.h"
#include "osh-fit-data.h"
#include "osh-heads-fitted.h"
#include "osh-image.h"
#include "osh-workers.h"

#define PLOT_HEIGHT 220
#define PLOT_MARGIN_L 40.0
#define PLOT_MARGIN_R 10.0
#define PLOT_MARGIN_T 12.0
#define PLOT_MARGIN_B 30.0
#define PICK_RADIUS 12.0 /* a click this close to a point picks it */

/* What the worker needs, and the progress it reports through atomics (read by a timer). */
typedef struct
{
  OshGraphHandle *h;
  char **pictures; /* n, NULL-terminated */
  int *labels;
  int64_t n;
  int n_classes;
  OshPreprocess pp;
  GCancellable *cancel;
  gint layers_done, layers_total, pictures_done, pictures_total;
  OshProbeResult result;
} ProbeJob;

struct _OffshootProbePanel
{
  GtkWidget parent_instance;

  GtkWidget *box, *data_row, *start_button, *cancel_button, *progress;
  GtkWidget *status_label, *plot, *legend, *keep_button;

  OffshootGraphView *view; /* weak */
  OshGraphHandle *graph;
  char *data_dir;
  char *status;

  ProbeJob *job; /* the running one, or NULL */
  guint progress_id;
  OshProbeResult result; /* the last finished one */
  gboolean have_result;
  int *result_layer; /* per result layer: its index in the graph, or -1 */
  int selected;
  gboolean disposed; /* a worker may finish after the widgets are gone */
};

G_DEFINE_FINAL_TYPE (OffshootProbePanel, offshoot_probe_panel, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_KEEP,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
set_status (OffshootProbePanel *self, const char *text)
{
  g_free (self->status);
  self->status = g_strdup (text ? text : "");
  gtk_label_set_text (GTK_LABEL (self->status_label), self->status);
}

/* ---- The data folder: a sub-folder per class (osh-fit-data.h, as `offshoot probe`) ------- */

static gboolean
read_classes (ProbeJob *job, const char *dir, GError **error)
{
  OshFitData data = { 0 };
  OshError err = { 0 };
  if (!osh_fit_data_read (dir, &data, &err) || data.classes->len < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                   err.code ? err.message
                            : "the data folder needs a folder per class, two or more");
      osh_fit_data_clear (&data);
      return FALSE;
    }
  job->n = data.examples->len;
  job->pictures = g_new0 (char *, job->n + 1);
  job->labels = g_new (int, job->n);
  for (int64_t i = 0; i < job->n; i++)
    {
      const OshFitExample *e = data.examples->pdata[i];
      job->pictures[i] = g_strdup (e->picture);
      job->labels[i] = e->label;
    }
  job->n_classes = (int) data.classes->len;
  osh_fit_data_clear (&data);
  return TRUE;
}

static void
job_free (ProbeJob *job)
{
  osh_graph_handle_unref (job->h);
  g_strfreev (job->pictures);
  g_free (job->labels);
  g_clear_object (&job->cancel);
  osh_probe_result_clear (&job->result);
  g_free (job);
}

/* ---- The worker -------------------------------------------------------------------------- */

static OshTensor *
load_picture (int64_t i, void *user, OshError *err)
{
  ProbeJob *job = user;
  OshImage *img = osh_image_load (job->pictures[i], err);
  OshTensor *x = img ? osh_image_to_tensor (img, &job->pp, err) : NULL;
  osh_image_free (img);
  if (!x)
    osh_error_prefix (err, "%s: ", job->pictures[i]);
  return x;
}

static bool
on_progress (const OshProbeLayer *done, int index, int total, void *user)
{
  ProbeJob *job = user;
  if (done)
    {
      g_atomic_int_set (&job->layers_done, index + 1);
      g_atomic_int_set (&job->layers_total, total);
    }
  else
    {
      g_atomic_int_set (&job->pictures_done, index);
      g_atomic_int_set (&job->pictures_total, total);
    }
  return !g_cancellable_is_cancelled (job->cancel);
}

static void
probe_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  (void) source, (void) cancel;
  ProbeJob *job = data;
  OshError err = { 0 };
  const OshGraph *g = job->h->graph;
  char **layers = osh_probe_select_layers (g, "all", &err);
  OshProbeOptions opt = osh_probe_options_default ();
  opt.threads = MAX (1, (int) g_get_num_processors ());
  bool ok = layers
            && osh_probe_run (g, (const char *const *) layers, (int) g_strv_length (layers), job->n,
                              job->labels, job->n_classes, load_picture, job, &opt, on_progress,
                              NULL, job, &job->result, &err);
  osh_probe_layers_free (layers);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else if (err.code == OSH_ERR_CANCELLED)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Probing was cancelled.");
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
}

/* ---- Colours and selection ---------------------------------------------------------------- */

/* The scale runs from chance (a probe that learnt nothing) to 1. */
static double
chance_of (const OffshootProbePanel *self)
{
  return isnan (self->result.chance) ? 0 : self->result.chance;
}

static double
scale_of (const OffshootProbePanel *self, double accuracy)
{
  double lo = chance_of (self);
  return lo < 1 ? (accuracy - lo) / (1 - lo) : 1;
}

static void
push_fills (OffshootProbePanel *self)
{
  if (!self->view)
    return;
  if (!self->have_result || !self->graph)
    {
      offshoot_graph_view_set_fills (self->view, NULL, 0);
      return;
    }
  const OshGraph *g = self->graph->graph;
  const char **paths = g_new (const char *, MAX (1, self->result.n_layers));
  double *values = g_new (double, MAX (1, self->result.n_layers));
  for (int i = 0; i < self->result.n_layers; i++)
    paths[i] = self->result.layers[i].path, values[i] = self->result.layers[i].val_accuracy;
  g_autofree uint32_t *fills =
      osh_colormap_node_fills (g, paths, values, self->result.n_layers, chance_of (self), 1);
  g_free (paths), g_free (values);
  offshoot_graph_view_set_fills (self->view, fills, g->n_nodes);
}

/* Maps the result's layers to the current graph; FALSE when one is gone. */
static gboolean
map_layers (OffshootProbePanel *self)
{
  g_clear_pointer (&self->result_layer, g_free);
  if (!self->have_result || !self->graph)
    return FALSE;
  self->result_layer = g_new (int, MAX (1, self->result.n_layers));
  gboolean all = TRUE;
  for (int i = 0; i < self->result.n_layers; i++)
    {
      self->result_layer[i] = osh_graph_find_path (self->graph->graph, self->result.layers[i].path);
      all = all && self->result_layer[i] >= 0;
    }
  return all;
}

static void
clear_result (OffshootProbePanel *self)
{
  osh_probe_result_clear (&self->result);
  self->have_result = FALSE;
  self->selected = -1;
  g_clear_pointer (&self->result_layer, g_free);
  push_fills (self);
  gtk_widget_set_sensitive (self->keep_button, FALSE);
  gtk_widget_queue_draw (self->plot);
  gtk_widget_queue_draw (self->legend);
}

static void
select_point (OffshootProbePanel *self, int index, gboolean fly)
{
  self->selected = index;
  gtk_widget_set_sensitive (self->keep_button, index >= 0);
  gtk_widget_queue_draw (self->plot);
  if (index < 0)
    return;
  const OshProbeLayer *l = &self->result.layers[index];
  g_autofree char *text = g_strdup_printf (
      "%s (%s): validation accuracy %.3f, training %.3f, %lld %s features", l->path, l->class_name,
      l->val_accuracy, l->train_accuracy, (long long) l->dim, l->pooled ? "pooled" : "flattened");
  set_status (self, text);
  if (fly && self->view && self->result_layer && self->result_layer[index] >= 0)
    offshoot_graph_view_select_layer (self->view, self->result_layer[index], TRUE);
}

/* ---- Running ----------------------------------------------------------------------------- */

static void
show_running (OffshootProbePanel *self, gboolean running)
{
  gtk_widget_set_visible (self->progress, running);
  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_sensitive (self->start_button, !running);
  offshoot_data_folder_row_set_busy (OFFSHOOT_DATA_FOLDER_ROW (self->data_row), running);
}

static gboolean
update_progress (gpointer data)
{
  OffshootProbePanel *self = data;
  ProbeJob *job = self->job;
  if (!job)
    return G_SOURCE_REMOVE;
  int ld = g_atomic_int_get (&job->layers_done), lt = g_atomic_int_get (&job->layers_total);
  int pd = g_atomic_int_get (&job->pictures_done), pt = g_atomic_int_get (&job->pictures_total);
  g_autofree char *text = NULL;
  double fraction = 0;
  if (pt > 0 && pd < pt)
    {
      text = g_strdup_printf ("Capturing features: picture %d of %d", pd, pt);
      fraction = 0.9 * pd / pt;
    }
  else if (lt > 0)
    {
      text = g_strdup_printf ("Fitting probes: layer %d of %d", ld, lt);
      fraction = 0.9 + 0.1 * ld / lt;
    }
  else
    text = g_strdup ("Starting…");
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), fraction);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
  return G_SOURCE_CONTINUE;
}

static void
probe_done (GObject *src, GAsyncResult *res, gpointer data)
{
  (void) src;
  OffshootProbePanel *self = data; /* the task held a ref */
  ProbeJob *job = g_task_get_task_data (G_TASK (res));
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (res), &error);
  osh_worker_end (error);
  self->job = NULL;
  g_clear_handle_id (&self->progress_id, g_source_remove);
  if (self->disposed)
    return;
  show_running (self, FALSE);
  if (!ok)
    {
      set_status (self, error->message);
      return;
    }
  clear_result (self);
  self->result = job->result;
  job->result = (OshProbeResult){ 0 };
  self->have_result = TRUE;
  map_layers (self);
  int best = 0;
  for (int i = 1; i < self->result.n_layers; i++)
    if (self->result.layers[i].val_accuracy > self->result.layers[best].val_accuracy)
      best = i;
  g_autofree char *text = g_strdup_printf (
      "%d layers probed on %lld pictures (%lld train, %lld validate) of %d classes; chance "
      "%.3f. Best: %s at %.3f. Click a point to go to its layer.",
      self->result.n_layers, (long long) (self->result.n_train + self->result.n_val),
      (long long) self->result.n_train, (long long) self->result.n_val, self->result.n_classes,
      self->result.chance, self->result.layers[best].path, self->result.layers[best].val_accuracy);
  set_status (self, text);
  push_fills (self);
  gtk_widget_queue_draw (self->plot);
  gtk_widget_queue_draw (self->legend);
}

gboolean
offshoot_probe_panel_start (OffshootProbePanel *self)
{
  g_return_val_if_fail (OFFSHOOT_IS_PROBE_PANEL (self), FALSE);
  if (self->job)
    return FALSE;
  if (!self->graph || !self->data_dir)
    {
      set_status (self, !self->graph ? "Open a model first."
                                     : "Choose a data folder: a folder per class, with pictures.");
      return FALSE;
    }
  ProbeJob *job = g_new0 (ProbeJob, 1);
  g_autoptr (GError) error = NULL;
  if (!read_classes (job, self->data_dir, &error))
    {
      set_status (self, error->message);
      job_free (job);
      return FALSE;
    }
  job->h = osh_graph_handle_ref (self->graph);
  job->cancel = g_cancellable_new ();
  osh_preprocess_init (&job->pp);
  osh_preprocess_propose (job->h->graph, &job->pp);
  self->job = job;
  show_running (self, TRUE);
  set_status (self, "");
  update_progress (self);
  self->progress_id = g_timeout_add (100, update_progress, self);
  GTask *task = g_task_new (NULL, NULL, probe_done, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_object_set_data_full (G_OBJECT (task), "panel", self, g_object_unref);
  osh_worker_begin ();
  g_task_run_in_thread (task, probe_thread);
  g_object_unref (task);
  return TRUE;
}

void
offshoot_probe_panel_cancel (OffshootProbePanel *self)
{
  g_return_if_fail (OFFSHOOT_IS_PROBE_PANEL (self));
  if (self->job)
    g_cancellable_cancel (self->job->cancel);
}

gboolean
offshoot_probe_panel_is_running (OffshootProbePanel *self)
{
  return self->job != NULL;
}

/* ---- The plot: validation accuracy against depth ------------------------------------------ */

static void
plot_area (OffshootProbePanel *self, double *x0, double *y0, double *w, double *h)
{
  *x0 = PLOT_MARGIN_L, *y0 = PLOT_MARGIN_T;
  *w = MAX (1, gtk_widget_get_width (self->plot) - PLOT_MARGIN_L - PLOT_MARGIN_R);
  *h = MAX (1, gtk_widget_get_height (self->plot) - PLOT_MARGIN_T - PLOT_MARGIN_B);
}

static void
point_xy (OffshootProbePanel *self, int i, double acc, double *x, double *y)
{
  double x0, y0, w, h;
  plot_area (self, &x0, &y0, &w, &h);
  int n = self->result.n_layers;
  *x = x0 + (n > 1 ? w * i / (n - 1) : w / 2);
  *y = y0 + h * (1 - CLAMP (isnan (acc) ? 0 : acc, 0, 1));
}

static void
draw_plot (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  (void) area, (void) width, (void) height;
  OffshootProbePanel *self = data;
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (self->plot), &fg);
  double x0, y0, w, h;
  plot_area (self, &x0, &y0, &w, &h);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  /* Axes and grid: accuracy 0..1 by 0.25. */
  cairo_set_line_width (cr, 1);
  for (int k = 0; k <= 4; k++)
    {
      double y = y0 + h * (1 - k / 4.0);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, k == 0 ? 0.6 : 0.15);
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x0 + w, y);
      cairo_stroke (cr);
      char label[8];
      g_snprintf (label, sizeof label, "%.2f", k / 4.0);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
      cairo_move_to (cr, 4, y + 3);
      cairo_show_text (cr, label);
    }
  cairo_move_to (cr, x0, y0 + h + 14);
  cairo_show_text (cr, self->have_result
                           ? "depth (probed layers in order) →   ● validation   ─ training"
                           : "validation accuracy per layer appears here");
  if (!self->have_result)
    return;
  int n = self->result.n_layers;
  double cx, cy;
  /* Chance: a dashed line; training accuracy: a faint line; validation: the curve. */
  point_xy (self, 0, self->result.chance, &cx, &cy);
  cairo_set_source_rgba (cr, 0.85, 0.2, 0.2, 0.8);
  cairo_set_dash (cr, (double[]){ 4, 3 }, 2, 0);
  cairo_move_to (cr, x0, cy);
  cairo_line_to (cr, x0 + w, cy);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, x0 + w - 40, cy - 3);
  cairo_show_text (cr, "chance");
  for (int pass = 0; pass < 2; pass++)
    {
      for (int i = 0; i < n; i++)
        {
          const OshProbeLayer *l = &self->result.layers[i];
          point_xy (self, i, pass ? l->val_accuracy : l->train_accuracy, &cx, &cy);
          if (i == 0)
            cairo_move_to (cr, cx, cy);
          else
            cairo_line_to (cr, cx, cy);
        }
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, pass ? 0.7 : 0.2);
      cairo_set_line_width (cr, pass ? 1.5 : 1);
      cairo_stroke (cr);
    }
  for (int i = 0; i < n; i++)
    {
      const OshProbeLayer *l = &self->result.layers[i];
      point_xy (self, i, l->val_accuracy, &cx, &cy);
      uint32_t c = osh_colormap_rgba (scale_of (self, l->val_accuracy));
      cairo_arc (cr, cx, cy, i == self->selected ? 5.5 : 3.5, 0, 2 * G_PI);
      cairo_set_source_rgb (cr, (c >> 24) / 255.0, ((c >> 16) & 0xff) / 255.0,
                            ((c >> 8) & 0xff) / 255.0);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, i == self->selected ? 1 : 0.4);
      cairo_set_line_width (cr, i == self->selected ? 2 : 0.7);
      cairo_stroke (cr);
    }
}

static void
draw_legend (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  (void) area, (void) height;
  OffshootProbePanel *self = data;
  if (!self->have_result)
    return;
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (self->legend), &fg);
  char lo[32];
  g_snprintf (lo, sizeof lo, "%.2f (chance)", self->result.chance);
  gdk_cairo_set_source_rgba (cr, &fg);
  osh_colormap_draw_bar (cr, 8, 18, MIN (width - 16, 260), 12, "node colour: validation accuracy",
                         lo, "1.00", fg.red + fg.green + fg.blue > 1.5);
}

static int
nearest_point (OffshootProbePanel *self, double x, double y)
{
  int best = -1;
  double best_d = PICK_RADIUS;
  for (int i = 0; self->have_result && i < self->result.n_layers; i++)
    {
      double px, py;
      point_xy (self, i, self->result.layers[i].val_accuracy, &px, &py);
      double d = hypot (px - x, py - y);
      if (d <= best_d)
        best = i, best_d = d;
    }
  return best;
}

static void
on_plot_pressed (GtkGestureClick *g, int n_press, double x, double y, gpointer data)
{
  (void) g, (void) n_press;
  OffshootProbePanel *self = data;
  int i = nearest_point (self, x, y);
  if (i >= 0)
    select_point (self, i, TRUE);
}

gboolean
offshoot_probe_panel_point_position (OffshootProbePanel *self, int index, GtkWidget *widget,
                                     double *x, double *y)
{
  if (!self->have_result || index < 0 || index >= self->result.n_layers)
    return FALSE;
  double px, py;
  point_xy (self, index, self->result.layers[index].val_accuracy, &px, &py);
  graphene_point_t in = GRAPHENE_POINT_INIT ((float) px, (float) py), out;
  if (!gtk_widget_compute_point (self->plot, widget, &in, &out))
    return FALSE;
  *x = out.x, *y = out.y;
  return TRUE;
}

/* ---- Keep as head ------------------------------------------------------------------------ */

gboolean
offshoot_probe_panel_keep (OffshootProbePanel *self)
{
  g_return_val_if_fail (OFFSHOOT_IS_PROBE_PANEL (self), FALSE);
  if (!self->have_result || self->selected < 0 || !self->graph)
    {
      set_status (self, "Click a point of the curve to choose the layer first.");
      return FALSE;
    }
  const OshProbeLayer *l = &self->result.layers[self->selected];
  OshHeadSpec spec = { 0 };
  char *names[OSH_HEAD_MAX_STEPS] = { 0 };
  OshError err = { 0 };
  OshGraph *edited =
      osh_head_attach_fitted (self->graph->graph, l->path, l->pooled, (long) l->dim,
                              self->result.n_classes, l->kernel, l->bias, &spec, names, &err);
  if (!edited)
    {
      g_autofree char *text =
          g_strdup_printf ("Cannot keep the probe at %s: %s", l->path, err.message);
      set_status (self, text);
      return FALSE;
    }
  g_autofree char *path = g_strdup (l->path);
  g_signal_emit (self, signals[SIGNAL_KEEP], 0, edited, path, &spec, names);
  for (int i = 0; i < spec.n_steps; i++)
    free (names[i]);
  g_autofree char *text =
      g_strdup_printf ("Kept the probe at %s as a head: GlobalAveragePooling2D + Dense(%d, "
                       "softmax) with the fitted weights.",
                       path, self->result.n_classes);
  set_status (self, text);
  return TRUE;
}

/* ---- Data folder and model ---------------------------------------------------------------- */

void
offshoot_probe_panel_set_data (OffshootProbePanel *self, const char *dir)
{
  g_return_if_fail (OFFSHOOT_IS_PROBE_PANEL (self));
  g_free (self->data_dir);
  self->data_dir = g_strdup (dir);
  offshoot_data_folder_row_set_folder (OFFSHOOT_DATA_FOLDER_ROW (self->data_row), dir);
}

/* Choosing the folder starts the probe at once (the chooser's button says "Probe"). */
static void
on_data_chosen (OffshootDataFolderRow *row, const char *path, OffshootProbePanel *self)
{
  (void) row;
  offshoot_probe_panel_set_data (self, path);
  offshoot_probe_panel_start (self);
}

void
offshoot_probe_panel_choose_data (OffshootProbePanel *self)
{
  g_return_if_fail (OFFSHOOT_IS_PROBE_PANEL (self));
  offshoot_data_folder_row_choose (OFFSHOOT_DATA_FOLDER_ROW (self->data_row));
}

/* A layer selected in the graph selects its point, so Keep as Head works from either side. */
static void
on_view_layer_selected (OffshootGraphView *view, int layer, gpointer data)
{
  (void) view;
  OffshootProbePanel *self = data;
  for (int i = 0; self->result_layer && i < self->result.n_layers; i++)
    if (layer >= 0 && self->result_layer[i] == layer)
      {
        if (i != self->selected)
          select_point (self, i, FALSE);
        return;
      }
}

void
offshoot_probe_panel_set_view (OffshootProbePanel *self, OffshootGraphView *view)
{
  g_return_if_fail (OFFSHOOT_IS_PROBE_PANEL (self));
  if (self->view)
    {
      g_signal_handlers_disconnect_by_data (self->view, self);
      g_object_remove_weak_pointer (G_OBJECT (self->view), (gpointer *) &self->view);
    }
  self->view = view;
  if (view)
    {
      g_object_add_weak_pointer (G_OBJECT (view), (gpointer *) &self->view);
      g_signal_connect_object (view, "layer-selected", G_CALLBACK (on_view_layer_selected), self,
                               0);
    }
  push_fills (self);
}

void
offshoot_probe_panel_set_graph (OffshootProbePanel *self, OshGraphHandle *h)
{
  g_return_if_fail (OFFSHOOT_IS_PROBE_PANEL (self));
  if (h == self->graph)
    return;
  OshGraphHandle *old = self->graph;
  self->graph = h ? osh_graph_handle_ref (h) : NULL;
  osh_graph_handle_unref (old);
  if (self->have_result && !map_layers (self))
    {
      clear_result (self);
      set_status (self, "");
    }
  else
    push_fills (self);
}

const OshProbeResult *
offshoot_probe_panel_get_result (OffshootProbePanel *self)
{
  return self->have_result ? &self->result : NULL;
}

const char *
offshoot_probe_panel_get_status (OffshootProbePanel *self)
{
  return self->status ? self->status : "";
}

int
offshoot_probe_panel_get_selected (OffshootProbePanel *self)
{
  return self->selected;
}

GtkWidget *
offshoot_probe_panel_get_plot (OffshootProbePanel *self)
{
  return self->plot;
}

/* ---- The widget -------------------------------------------------------------------------- */

static void
offshoot_probe_panel_dispose (GObject *object)
{
  OffshootProbePanel *self = OFFSHOOT_PROBE_PANEL (object);
  self->disposed = TRUE;
  offshoot_probe_panel_cancel (self);
  g_clear_handle_id (&self->progress_id, g_source_remove);
  offshoot_probe_panel_set_view (self, NULL);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (offshoot_probe_panel_parent_class)->dispose (object);
}

static void
offshoot_probe_panel_finalize (GObject *object)
{
  OffshootProbePanel *self = OFFSHOOT_PROBE_PANEL (object);
  osh_graph_handle_unref (self->graph);
  osh_probe_result_clear (&self->result);
  g_free (self->result_layer);
  g_free (self->data_dir);
  g_free (self->status);
  G_OBJECT_CLASS (offshoot_probe_panel_parent_class)->finalize (object);
}

/* Leaving the window (it closes): the worker's result would have nowhere to go. The task keeps
 * the panel alive until the worker stops, so dispose alone would come too late. */
static void
offshoot_probe_panel_unroot (GtkWidget *widget)
{
  offshoot_probe_panel_cancel (OFFSHOOT_PROBE_PANEL (widget));
  GTK_WIDGET_CLASS (offshoot_probe_panel_parent_class)->unroot (widget);
}

static void
offshoot_probe_panel_class_init (OffshootProbePanelClass *klass)
{
  GTK_WIDGET_CLASS (klass)->unroot = offshoot_probe_panel_unroot;
  G_OBJECT_CLASS (klass)->dispose = offshoot_probe_panel_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_probe_panel_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  /* ::keep (OshGraph *edited, const char *path, const OshHeadSpec *spec, char **names): the
   * head panel's ::attach; the handler owns `edited` from then on. */
  signals[SIGNAL_KEEP] =
      g_signal_new ("keep", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 4, G_TYPE_POINTER, G_TYPE_STRING, G_TYPE_POINTER, G_TYPE_POINTER);
}

static void
offshoot_probe_panel_init (OffshootProbePanel *self)
{
  self->selected = -1;
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  self->box = scroller;
  gtk_widget_set_parent (scroller, GTK_WIDGET (self));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start (box, 12), gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12), gtk_widget_set_margin_bottom (box, 12);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), box);

  gtk_box_append (GTK_BOX (box), offshoot_wrapped_label ("Probe Layers", "heading"));
  gtk_box_append (GTK_BOX (box), offshoot_wrapped_label (
                                     "What does each layer know? A linear probe is fitted on every "
                                     "layer's pooled features and its accuracy read on held-back "
                                     "pictures (the recipe of offshoot probe).",
                                     "dim-label"));
  self->data_row = offshoot_data_folder_row_new ("Data Folder (a Folder per Class)", "_Probe");
  g_signal_connect_object (self->data_row, "chosen", G_CALLBACK (on_data_chosen), self, 0);
  gtk_box_append (GTK_BOX (box), self->data_row);

  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->start_button = gtk_button_new_with_mnemonic ("_Probe");
  gtk_widget_add_css_class (self->start_button, "suggested-action");
  self->cancel_button = gtk_button_new_with_mnemonic ("_Cancel");
  gtk_widget_set_visible (self->cancel_button, FALSE);
  gtk_box_append (GTK_BOX (row), self->start_button);
  gtk_box_append (GTK_BOX (row), self->cancel_button);
  gtk_box_append (GTK_BOX (box), row);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_widget_set_visible (self->progress, FALSE);
  gtk_box_append (GTK_BOX (box), self->progress);

  self->plot = gtk_drawing_area_new ();
  gtk_widget_set_size_request (self->plot, 240, PLOT_HEIGHT);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->plot), draw_plot, self, NULL);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect_object (click, "pressed", G_CALLBACK (on_plot_pressed), self, 0);
  gtk_widget_add_controller (self->plot, GTK_EVENT_CONTROLLER (click));
  gtk_box_append (GTK_BOX (box), self->plot);

  self->legend = gtk_drawing_area_new ();
  gtk_widget_set_size_request (self->legend, 240, 50);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->legend), draw_legend, self, NULL);
  gtk_box_append (GTK_BOX (box), self->legend);

  self->status_label = offshoot_wrapped_label ("", NULL);
  gtk_label_set_selectable (GTK_LABEL (self->status_label), TRUE);
  gtk_box_append (GTK_BOX (box), self->status_label);

  self->keep_button = gtk_button_new_with_mnemonic ("_Keep as Head");
  gtk_widget_set_tooltip_text (self->keep_button,
                               "Attach the selected layer's probe, with its fitted weights, as a "
                               "classifier head");
  gtk_widget_set_sensitive (self->keep_button, FALSE);
  gtk_widget_set_halign (self->keep_button, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (box), self->keep_button);

  g_signal_connect_object (self->start_button, "clicked", G_CALLBACK (offshoot_probe_panel_start),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->cancel_button, "clicked", G_CALLBACK (offshoot_probe_panel_cancel),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->keep_button, "clicked", G_CALLBACK (offshoot_probe_panel_keep),
                           self, G_CONNECT_SWAPPED);
}

GtkWidget *
offshoot_probe_panel_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_PROBE_PANEL, NULL);
}
