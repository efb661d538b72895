/* offshoot-train-curves.h — what the Train view plots: the loss (the weighted sum over the
 * trained outputs) and each trained output's metric, train and validation, per point of a run
 * (point 0 the fresh head, validation only; point e the end of epoch e), and the cairo drawing
 * of them: loss above, the metrics below, a colour per output named in a legend, train solid,
 * validation dashed.
 *
 *   OffshootTrainCurves c;
 *   offshoot_train_curves_init (&c);
 *   offshoot_train_curves_set_outputs (&c, 2, (const char *[]){ "seg", "cls" },
 *                                      (const char *[]){ "iou", "accuracy" });
 *   offshoot_train_curves_push (&c, NAN, 0.69, (double[]){ NAN, 0.12, NAN, 0.25 });
 *   offshoot_train_curves_draw (&c, widget, cr, width, height);
 *   offshoot_train_curves_clear (&c);
 *
 * Plain data, no locking: the worker fills its own and the panel copies it on the main thread. */
#pragma once

#include <gtk/gtk.h>

typedef struct
{
  int n_outputs;
  char **output_names; /* the outputs' layer names */
  char **metric_names; /* "iou", "accuracy"; NULL when the output's loss has none */
  GArray *loss;        /* double: train, val per point */
  GArray *metrics;     /* double: per point, train and val of output 0, then output 1, ... */
} OffshootTrainCurves;

void offshoot_train_curves_init (OffshootTrainCurves *c);
void offshoot_train_curves_clear (OffshootTrainCurves *c);
/* Empties `c` and names its outputs (strings copied). */
void offshoot_train_curves_set_outputs (OffshootTrainCurves *c, int n, const char *const *names,
                                        const char *const *metrics);
/* Appends a point; `metrics` holds 2 × n_outputs values (train, val per output; NaN: none). */
void offshoot_train_curves_push (OffshootTrainCurves *c, double loss, double val_loss,
                                 const double *metrics);
/* `dst` becomes a copy of `src`. */
void offshoot_train_curves_copy (OffshootTrainCurves *dst, const OffshootTrainCurves *src);
int offshoot_train_curves_n_points (const OffshootTrainCurves *c);
/* Output k's metric at point i (NaN where there is none). */
double offshoot_train_curves_metric (const OffshootTrainCurves *c, int k, int i, gboolean val);
double offshoot_train_curves_loss (const OffshootTrainCurves *c, int i, gboolean val);
/* The colour of output k's curves. */
void offshoot_train_curves_colour (int k, double rgb[3]);

void offshoot_train_curves_draw (const OffshootTrainCurves *c, GtkWidget *w, cairo_t *cr, int width,
                                 int height);
