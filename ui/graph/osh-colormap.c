/* osh-colormap.c — the viridis scale, interpolated between nine of its published stops. */
#include "osh-colormap.h"

#include <glib.h>
#include <math.h>

static const double stops[9][3] = {
  { 0.267, 0.005, 0.329 }, { 0.278, 0.175, 0.483 }, { 0.229, 0.322, 0.546 },
  { 0.173, 0.449, 0.558 }, { 0.128, 0.567, 0.551 }, { 0.153, 0.680, 0.506 },
  { 0.361, 0.786, 0.388 }, { 0.668, 0.862, 0.196 }, { 0.993, 0.906, 0.144 },
};

static void
rgb_at (double t, double rgb[3])
{
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  double f = t * 8;
  int i = (int) floor (f);
  if (i >= 8)
    i = 7;
  f -= i;
  for (int k = 0; k < 3; k++)
    rgb[k] = stops[i][k] * (1 - f) + stops[i + 1][k] * f;
}

uint32_t
osh_colormap_rgba (double t)
{
  double c[3] = { 0.6, 0.6, 0.6 };
  if (!isnan (t))
    rgb_at (t, c);
  return (uint32_t) lround (c[0] * 255) << 24 | (uint32_t) lround (c[1] * 255) << 16
         | (uint32_t) lround (c[2] * 255) << 8 | 0xffu;
}

void
osh_colormap_draw_bar (cairo_t *cr, double x, double y, double w, double h, const char *title,
                       const char *lo, const char *hi, bool dark)
{
  cairo_save (cr);
  cairo_pattern_t *p = cairo_pattern_create_linear (x, 0, x + w, 0);
  for (int i = 0; i <= 16; i++)
    {
      double c[3];
      rgb_at (i / 16.0, c);
      cairo_pattern_add_color_stop_rgb (p, i / 16.0, c[0], c[1], c[2]);
    }
  cairo_rectangle (cr, x, y, w, h);
  cairo_set_source (cr, p);
  cairo_fill_preserve (cr);
  cairo_pattern_destroy (p);
  double ink = dark ? 0.9 : 0.15;
  cairo_set_source_rgb (cr, ink, ink, ink);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  cairo_text_extents_t e;
  if (title)
    {
      cairo_move_to (cr, x, y - 5);
      cairo_show_text (cr, title);
    }
  if (lo)
    {
      cairo_move_to (cr, x, y + h + 13);
      cairo_show_text (cr, lo);
    }
  if (hi)
    {
      cairo_text_extents (cr, hi, &e);
      cairo_move_to (cr, x + w - e.x_advance, y + h + 13);
      cairo_show_text (cr, hi);
    }
  cairo_restore (cr);
}

uint32_t *
osh_colormap_node_fills (const OshGraph *g, const char *const *paths, const double *values, int n,
                         double lo, double hi)
{
  uint32_t *fills = g_new0 (uint32_t, MAX (1, g->n_nodes));
  uint32_t *by_layer = g_new0 (uint32_t, MAX (1, g->n_layers));
  for (int i = 0; i < n; i++)
    {
      int layer = osh_graph_find_path (g, paths[i]);
      if (layer >= 0)
        by_layer[layer] = osh_colormap_rgba (hi > lo ? (values[i] - lo) / (hi - lo) : 1);
    }
  for (int node = 0; node < g->n_nodes; node++)
    if (g->nodes[node].layer >= 0)
      fills[node] = by_layer[g->nodes[node].layer];
  g_free (by_layer);
  return fills;
}
