/* offshoot-train-curves.c — the Train view's curves: their data and their drawing. */
#include "offshoot-train-curves.h"

#include <math.h>

#define PLOT_MARGIN_L 46.0
#define PLOT_MARGIN_R 10.0
#define PLOT_MARGIN_T 28.0
#define PLOT_MARGIN_B 22.0

void
offshoot_train_curves_init (OffshootTrainCurves *c)
{
  *c = (OffshootTrainCurves){ 0 };
  c->loss = g_array_new (FALSE, FALSE, sizeof (double));
  c->metrics = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
free_names (OffshootTrainCurves *c)
{
  for (int k = 0; k < c->n_outputs; k++)
    g_free (c->output_names[k]), g_free (c->metric_names[k]);
  g_clear_pointer (&c->output_names, g_free);
  g_clear_pointer (&c->metric_names, g_free);
  c->n_outputs = 0;
}

void
offshoot_train_curves_clear (OffshootTrainCurves *c)
{
  free_names (c);
  g_clear_pointer (&c->loss, g_array_unref);
  g_clear_pointer (&c->metrics, g_array_unref);
}

void
offshoot_train_curves_set_outputs (OffshootTrainCurves *c, int n, const char *const *names,
                                   const char *const *metrics)
{
  free_names (c);
  g_array_set_size (c->loss, 0);
  g_array_set_size (c->metrics, 0);
  c->n_outputs = n;
  c->output_names = g_new0 (char *, MAX (n, 1));
  c->metric_names = g_new0 (char *, MAX (n, 1));
  for (int k = 0; k < n; k++)
    {
      c->output_names[k] = g_strdup (names[k]);
      c->metric_names[k] = g_strdup (metrics[k]);
    }
}

void
offshoot_train_curves_push (OffshootTrainCurves *c, double loss, double val_loss,
                            const double *metrics)
{
  double l[2] = { loss, val_loss };
  g_array_append_vals (c->loss, l, 2);
  g_array_append_vals (c->metrics, metrics, 2 * c->n_outputs);
}

void
offshoot_train_curves_copy (OffshootTrainCurves *dst, const OffshootTrainCurves *src)
{
  offshoot_train_curves_set_outputs (dst, src->n_outputs, (const char *const *) src->output_names,
                                     (const char *const *) src->metric_names);
  g_array_append_vals (dst->loss, src->loss->data, src->loss->len);
  g_array_append_vals (dst->metrics, src->metrics->data, src->metrics->len);
}

int
offshoot_train_curves_n_points (const OffshootTrainCurves *c)
{
  return (int) c->loss->len / 2;
}

double
offshoot_train_curves_metric (const OffshootTrainCurves *c, int k, int i, gboolean val)
{
  if (k < 0 || k >= c->n_outputs || i < 0 || i >= offshoot_train_curves_n_points (c))
    return NAN;
  return g_array_index (c->metrics, double, (size_t) (2 * (i * c->n_outputs + k) + !!val));
}

double
offshoot_train_curves_loss (const OffshootTrainCurves *c, int i, gboolean val)
{
  if (i < 0 || i >= offshoot_train_curves_n_points (c))
    return NAN;
  return g_array_index (c->loss, double, (size_t) (2 * i + !!val));
}

void
offshoot_train_curves_colour (int k, double rgb[3])
{
  /* Apart from each other in hue and readable on light and dark themes. */
  static const double palette[][3] = {
    { 0.20, 0.45, 0.85 }, { 0.90, 0.45, 0.10 }, { 0.20, 0.65, 0.30 },
    { 0.80, 0.25, 0.55 }, { 0.55, 0.40, 0.80 }, { 0.10, 0.65, 0.70 },
  };
  const double *p = palette[k % (int) G_N_ELEMENTS (palette)];
  rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
}

/* ---- Drawing ----------------------------------------------------------------------------- */

typedef struct
{
  double x0, y0, w, h, lo, hi;
  int n; /* x runs over points 0..n-1 */
} Plot;

/* One curve: value i of the series is values[i * stride]. */
typedef struct
{
  const double *values;
  int stride;
} Series;

static Series
loss_series (const OffshootTrainCurves *c, gboolean val)
{
  return (Series){ (const double *) c->loss->data + !!val, 2 };
}

static Series
metric_series (const OffshootTrainCurves *c, int k, gboolean val)
{
  return (Series){ (const double *) c->metrics->data + 2 * k + !!val, 2 * c->n_outputs };
}

static void
widen (const OffshootTrainCurves *c, Series s, double *lo, double *hi)
{
  for (int i = 0; i < offshoot_train_curves_n_points (c); i++)
    if (isfinite (s.values[i * s.stride]))
      *lo = MIN (*lo, s.values[i * s.stride]), *hi = MAX (*hi, s.values[i * s.stride]);
}

/* The loss from 0 to its highest; the metrics over all of 0..1 at least (they are shares). */
static void
settle_range (double *lo, double *hi, gboolean share)
{
  if (!isfinite (*lo))
    *lo = 0, *hi = 1;
  *lo = MIN (*lo, 0);
  if (share)
    *hi = MAX (*hi, 1);
  if (*hi - *lo < 1e-9)
    *hi = *lo + 1;
}

static void
draw_series (cairo_t *cr, const Plot *p, const OffshootTrainCurves *c, Series s, gboolean dashed,
             const double rgb[3])
{
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, 2);
  double dash[] = { 5, 3 };
  cairo_set_dash (cr, dash, dashed ? 2 : 0, 0);
  gboolean pen = FALSE;
  for (int i = 0; i < offshoot_train_curves_n_points (c); i++)
    {
      double v = s.values[i * s.stride];
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

/* The frame, the scale, the title and the last epoch's number. */
static void
draw_frame (cairo_t *cr, GtkWidget *w, const Plot *p, const char *title, GdkRGBA fg)
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
}

/* Each output's colour and name ("aux_head_out: iou"), one per line at the plot's top right. */
static void
draw_legend (cairo_t *cr, GtkWidget *w, const Plot *p, const OffshootTrainCurves *c, GdkRGBA fg)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (w, NULL);
  double y = p->y0 + 4;
  for (int k = 0; k < c->n_outputs; k++)
    {
      g_autofree char *text = g_strdup_printf ("%s: %s", c->output_names[k],
                                               c->metric_names[k] ? c->metric_names[k] : "—");
      pango_layout_set_text (layout, text, -1);
      int tw, th;
      pango_layout_get_pixel_size (layout, &tw, &th);
      double x = p->x0 + p->w - tw - 6;
      double rgb[3];
      offshoot_train_curves_colour (k, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_set_line_width (cr, 3);
      cairo_move_to (cr, x - 22, y + th / 2.0);
      cairo_line_to (cr, x - 6, y + th / 2.0);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.9);
      cairo_move_to (cr, x, y);
      pango_cairo_show_layout (cr, layout);
      y += th;
    }
  g_object_unref (layout);
}

void
offshoot_train_curves_draw (const OffshootTrainCurves *c, GtkWidget *w, cairo_t *cr, int width,
                            int height)
{
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (w), &fg);
  double half = height / 2.0;
  Plot loss = { PLOT_MARGIN_L, PLOT_MARGIN_T, width - PLOT_MARGIN_L - PLOT_MARGIN_R,
                half - PLOT_MARGIN_T - PLOT_MARGIN_B };
  loss.n = MAX (offshoot_train_curves_n_points (c), 2);
  Plot metric = loss;
  metric.y0 += half;

  loss.lo = metric.lo = INFINITY, loss.hi = metric.hi = -INFINITY;
  for (int val = 0; val < 2; val++)
    {
      widen (c, loss_series (c, val), &loss.lo, &loss.hi);
      for (int k = 0; k < c->n_outputs; k++)
        widen (c, metric_series (c, k, val), &metric.lo, &metric.hi);
    }
  settle_range (&loss.lo, &loss.hi, FALSE);
  settle_range (&metric.lo, &metric.hi, TRUE);

  draw_frame (cr, w, &loss, "loss — train (solid), validation (dashed)", fg);
  double ink[3] = { fg.red, fg.green, fg.blue };
  draw_series (cr, &loss, c, loss_series (c, FALSE), FALSE, ink);
  draw_series (cr, &loss, c, loss_series (c, TRUE), TRUE, ink);

  const char *name = c->n_outputs == 1 && c->metric_names[0] ? c->metric_names[0] : "metric";
  g_autofree char *title = g_strdup_printf ("%s%s — train (solid), validation (dashed)", name,
                                            c->n_outputs > 1 ? "s" : "");
  draw_frame (cr, w, &metric, title, fg);
  for (int k = 0; k < c->n_outputs; k++)
    {
      double rgb[3];
      offshoot_train_curves_colour (k, rgb);
      draw_series (cr, &metric, c, metric_series (c, k, FALSE), FALSE, rgb);
      draw_series (cr, &metric, c, metric_series (c, k, TRUE), TRUE, rgb);
    }
  if (c->n_outputs > 1)
    draw_legend (cr, w, &metric, c, fg);
}
