/* osh-scene.c — cairo drawing of an OshGraphLayout: the viewport maths, the scene with its
 * grid index for culling and hit-testing and a PangoLayout cache per item, the minimap, and
 * the export to PNG, PDF and SVG. The SVG's shapes and labels are written by hand in
 * osh-scene-svg.c (cairo's SVG surface was slower than the layout); what both files share is
 * in osh-scene-private.h. */
#include "osh-scene.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "osh-colormap.h"
#include "osh-node-text.h"
#include "osh-scene-private.h"

/* ---- Viewport ---------------------------------------------------------------------------- */

void
osh_viewport_to_view (const OshViewport *vp, double wx, double wy, double *vx, double *vy)
{
  *vx = wx * vp->scale + vp->x;
  *vy = wy * vp->scale + vp->y;
}

void
osh_viewport_to_world (const OshViewport *vp, double vx, double vy, double *wx, double *wy)
{
  *wx = (vx - vp->x) / vp->scale;
  *wy = (vy - vp->y) / vp->scale;
}

OshRect
osh_viewport_visible (const OshViewport *vp, double view_w, double view_h)
{
  double x, y;
  osh_viewport_to_world (vp, 0, 0, &x, &y);
  return (OshRect){ x, y, view_w / vp->scale, view_h / vp->scale };
}

void
osh_viewport_zoom_at (OshViewport *vp, double vx, double vy, double factor, double min_scale,
                      double max_scale)
{
  double wx, wy;
  osh_viewport_to_world (vp, vx, vy, &wx, &wy);
  vp->scale = CLAMP (vp->scale * factor, min_scale, max_scale);
  vp->x = vx - wx * vp->scale;
  vp->y = vy - wy * vp->scale;
}

void
osh_viewport_fit (OshViewport *vp, OshRect world, double view_w, double view_h, double margin,
                  double max_scale)
{
  double sx = (view_w - 2 * margin) / MAX (1.0, world.w);
  double sy = (view_h - 2 * margin) / MAX (1.0, world.h);
  vp->scale = MAX (1e-4, MIN (MIN (sx, sy), max_scale));
  vp->x = (view_w - world.w * vp->scale) / 2 - world.x * vp->scale;
  vp->y = (view_h - world.h * vp->scale) / 2 - world.y * vp->scale;
}

void
osh_viewport_center_on (OshViewport *vp, double wx, double wy, double view_w, double view_h)
{
  vp->x = view_w / 2 - wx * vp->scale;
  vp->y = view_h / 2 - wy * vp->scale;
}

/* ---- Palettes ---------------------------------------------------------------------------- */

#define RGB(hex)                                                                                   \
  {                                                                                                \
    ((hex) >> 16 & 255) / 255.0, ((hex) >> 8 & 255) / 255.0, ((hex) &255) / 255.0                  \
  }

static const Palette light = {
  .background = RGB (0xfafafa), .text = RGB (0x1e1e1e), .muted = RGB (0x5e5c64),
  .edge = RGB (0x77767b), .cluster_fill = RGB (0xf0f0f4), .cluster_line = RGB (0xb0afb8),
  .box_line = RGB (0x3d3846),
  .family = {
    [OSH_FAMILY_UNKNOWN] = RGB (0xdeddda), [OSH_FAMILY_INPUT] = RGB (0xc6e6b9),
    [OSH_FAMILY_CONV] = RGB (0xb5d3f5),    [OSH_FAMILY_DENSE] = RGB (0xc9b8ef),
    [OSH_FAMILY_NORM] = RGB (0xf6e3a4),    [OSH_FAMILY_ACTIVATION] = RGB (0xf9c9a6),
    [OSH_FAMILY_POOLING] = RGB (0xa9e2dc), [OSH_FAMILY_MERGE] = RGB (0xf2b8d0),
    [OSH_FAMILY_RESHAPE] = RGB (0xe3dccf), [OSH_FAMILY_MODEL] = RGB (0xd0d6e4),
  },
  .selected = RGB (0x1c71d8), .search = RGB (0xe5a50a), .hovered = RGB (0x62a0ea),
  .head = RGB (0x26a269), .red = RGB (0xe01b24),
};

static const Palette dark = {
  .background = RGB (0x242424), .text = RGB (0xf0f0f0), .muted = RGB (0xc0bfbc),
  .edge = RGB (0x9a9996), .cluster_fill = RGB (0x2e2e33), .cluster_line = RGB (0x5e5c64),
  .box_line = RGB (0xdeddda),
  .family = {
    [OSH_FAMILY_UNKNOWN] = RGB (0x4a4a4f), [OSH_FAMILY_INPUT] = RGB (0x2f5a2a),
    [OSH_FAMILY_CONV] = RGB (0x1f4a7a),    [OSH_FAMILY_DENSE] = RGB (0x4b3a78),
    [OSH_FAMILY_NORM] = RGB (0x6b5a1c),    [OSH_FAMILY_ACTIVATION] = RGB (0x7a4420),
    [OSH_FAMILY_POOLING] = RGB (0x1d5e58), [OSH_FAMILY_MERGE] = RGB (0x6e2a48),
    [OSH_FAMILY_RESHAPE] = RGB (0x57503f), [OSH_FAMILY_MODEL] = RGB (0x3a4257),
  },
  .selected = RGB (0x78aeed), .search = RGB (0xf8e45c), .hovered = RGB (0x99c1f1),
  .head = RGB (0x57e389), .red = RGB (0xff5a5f),
};

const Palette *
osh_scene_palette (const OshScene *s)
{
  return s->dark ? &dark : &light;
}

static void
set_rgb (cairo_t *cr, Rgb c, double alpha)
{
  cairo_set_source_rgba (cr, c.r, c.g, c.b, alpha);
}

/* ---- Scene ------------------------------------------------------------------------------- */

static void
grid_span (const Grid *gd, OshRect r, int *c0, int *r0, int *c1, int *r1)
{
  *c0 = CLAMP ((int) floor (r.x / gd->cell), 0, gd->cols - 1);
  *r0 = CLAMP ((int) floor (r.y / gd->cell), 0, gd->rows - 1);
  *c1 = CLAMP ((int) floor ((r.x + r.w) / gd->cell), 0, gd->cols - 1);
  *r1 = CLAMP ((int) floor ((r.y + r.h) / gd->cell), 0, gd->rows - 1);
}

static void
grid_build (Grid *gd, const OshScene *s, int n, OshRect (*rect) (const OshScene *, int))
{
  OshRect b = s->lay->bounds;
  /* About four items per cell on average, never tiny cells. */
  gd->cell = MAX (120.0, sqrt (MAX (1.0, b.w * b.h) / MAX (1, n) * 4.0));
  gd->cols = MAX (1, (int) ceil (b.w / gd->cell) + 1);
  gd->rows = MAX (1, (int) ceil (b.h / gd->cell) + 1);
  int cells = gd->cols * gd->rows;
  gd->start = g_new0 (int, cells + 1);
  for (int i = 0; i < n; i++)
    {
      int c0, r0, c1, r1;
      grid_span (gd, rect (s, i), &c0, &r0, &c1, &r1);
      for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++)
          gd->start[r * gd->cols + c + 1]++;
    }
  for (int k = 0; k < cells; k++)
    gd->start[k + 1] += gd->start[k];
  gd->idx = g_new (int, MAX (1, gd->start[cells]));
  int *fill = g_memdup2 (gd->start, sizeof (int) * (size_t) cells);
  for (int i = 0; i < n; i++)
    {
      int c0, r0, c1, r1;
      grid_span (gd, rect (s, i), &c0, &r0, &c1, &r1);
      for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++)
          gd->idx[fill[r * gd->cols + c]++] = i;
    }
  g_free (fill);
}

static int
compare_int (gconstpointer a, gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

/* Indices whose rectangles meet `r`, each once, in index order (the drawing order). */
static GArray *
grid_query (const Grid *gd, OshScene *s, unsigned *seen, OshRect r,
            OshRect (*rect) (const OshScene *, int))
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  if (++s->stamp == 0)
    {
      s->stamp = 1;
      memset (s->item_seen, 0, sizeof (unsigned) * (size_t) MAX (1, s->lay->n_items));
      memset (s->edge_seen, 0, sizeof (unsigned) * (size_t) MAX (1, s->lay->n_edges));
    }
  int c0, r0, c1, r1;
  grid_span (gd, r, &c0, &r0, &c1, &r1);
  for (int row = r0; row <= r1; row++)
    for (int c = c0; c <= c1; c++)
      {
        int cell = row * gd->cols + c;
        for (int k = gd->start[cell]; k < gd->start[cell + 1]; k++)
          {
            int i = gd->idx[k];
            if (seen[i] != s->stamp && intersects (rect (s, i), r))
              {
                seen[i] = s->stamp;
                g_array_append_val (out, i);
              }
          }
      }
  /* Cells visit items out of order; draw in layout order so overlaps are stable. */
  g_array_sort (out, compare_int);
  return out;
}

static OshScene *
scene_new (OshGraphLayout *lay, bool with_text)
{
  OshScene *s = g_new0 (OshScene, 1);
  s->lay = lay;
  s->text = with_text ? osh_node_text_context () : NULL;
  s->item_text = g_new0 (PangoLayout *, MAX (1, lay->n_items));
  s->edge_text = g_new0 (PangoLayout *, MAX (1, lay->n_edges));
  s->cluster_text = g_new0 (PangoLayout *, MAX (1, lay->n_clusters));
  s->title_text = g_new0 (PangoLayout *, MAX (1, lay->n_items));
  s->title_w = g_new0 (int, MAX (1, lay->n_items));
  s->node_style = g_new0 (uint32_t, MAX (1, lay->n_nodes));
  s->item_style = g_new0 (uint32_t, MAX (1, lay->n_items));
  s->item_seen = g_new0 (unsigned, MAX (1, lay->n_items));
  s->edge_seen = g_new0 (unsigned, MAX (1, lay->n_edges));
  grid_build (&s->items, s, lay->n_items, item_rect);
  grid_build (&s->edges, s, lay->n_edges, edge_rect);
  return s;
}

OshScene *
osh_scene_new (OshGraphLayout *lay)
{
  return scene_new (lay, true);
}

OshScene *
osh_scene_copy (const OshScene *src)
{
  const OshGraphLayout *lay = src->lay;
  OshScene *s = scene_new (osh_layout_ref (src->lay), false);
  s->dark = src->dark;
  memcpy (s->node_style, src->node_style, sizeof (uint32_t) * (size_t) MAX (1, lay->n_nodes));
  memcpy (s->item_style, src->item_style, sizeof (uint32_t) * (size_t) MAX (1, lay->n_items));
  if (src->item_fill)
    s->item_fill = g_memdup2 (src->item_fill, sizeof (uint32_t) * (size_t) MAX (1, lay->n_items));
  s->legend_title = g_strdup (src->legend_title);
  s->legend_lo = g_strdup (src->legend_lo);
  s->legend_hi = g_strdup (src->legend_hi);
  return s;
}

void
osh_scene_free (OshScene *s)
{
  if (!s)
    return;
  for (int i = 0; i < s->lay->n_items; i++)
    {
      g_clear_object (&s->item_text[i]);
      g_clear_object (&s->title_text[i]);
    }
  for (int i = 0; i < s->lay->n_edges; i++)
    g_clear_object (&s->edge_text[i]);
  for (int i = 0; i < s->lay->n_clusters; i++)
    g_clear_object (&s->cluster_text[i]);
  g_free (s->item_text);
  g_free (s->title_text);
  g_free (s->title_w);
  g_free (s->edge_text);
  g_free (s->cluster_text);
  g_clear_object (&s->text);
  g_free (s->node_style);
  g_free (s->item_style);
  g_free (s->item_fill);
  g_free (s->legend_title), g_free (s->legend_lo), g_free (s->legend_hi);
  g_free (s->item_seen);
  g_free (s->edge_seen);
  g_free (s->items.start);
  g_free (s->items.idx);
  g_free (s->edges.start);
  g_free (s->edges.idx);
  osh_layout_free (s->lay);
  g_free (s);
}

const OshGraphLayout *
osh_scene_get_layout (const OshScene *s)
{
  return s->lay;
}

void
osh_scene_set_dark (OshScene *s, bool is_dark)
{
  s->dark = is_dark;
}

/* A collapsed group shows what any of its members shows. */
static void
update_item_styles (OshScene *s)
{
  memset (s->item_style, 0, sizeof (uint32_t) * (size_t) MAX (1, s->lay->n_items));
  for (int n = 0; n < s->lay->n_nodes; n++)
    {
      int it = s->lay->node_item[n];
      if (it >= 0)
        s->item_style[it] |= s->node_style[n];
    }
  /* Unused only when every member is unused. */
  for (int it = 0; it < s->lay->n_items; it++)
    if (s->item_style[it] & OSH_STYLE_UNUSED)
      for (int n = 0; n < s->lay->n_nodes; n++)
        if (s->lay->node_item[n] == it && !(s->node_style[n] & OSH_STYLE_UNUSED))
          {
            s->item_style[it] &= ~(uint32_t) OSH_STYLE_UNUSED;
            break;
          }
}

void
osh_scene_set_node_fills (OshScene *s, const uint32_t *rgba, int n)
{
  g_clear_pointer (&s->item_fill, g_free);
  if (!rgba)
    return;
  int items = MAX (1, s->lay->n_items);
  double *sum = g_new0 (double, 4 * (size_t) items);
  s->item_fill = g_new0 (uint32_t, items);
  for (int node = 0; node < MIN (n, s->lay->n_nodes); node++)
    {
      int it = s->lay->node_item[node];
      if (it < 0 || !(rgba[node] & 0xff))
        continue;
      for (int k = 0; k < 3; k++)
        sum[4 * it + k] += (rgba[node] >> (24 - 8 * k)) & 0xff;
      sum[4 * it + 3] += 1;
    }
  for (int it = 0; it < s->lay->n_items; it++)
    if (sum[4 * it + 3] > 0)
      {
        double c = sum[4 * it + 3];
        s->item_fill[it] = (uint32_t) lround (sum[4 * it] / c) << 24
                           | (uint32_t) lround (sum[4 * it + 1] / c) << 16
                           | (uint32_t) lround (sum[4 * it + 2] / c) << 8 | 0xffu;
      }
  g_free (sum);
}

void
osh_scene_set_fill_legend (OshScene *s, const char *title, const char *lo, const char *hi)
{
  g_free (s->legend_title), g_free (s->legend_lo), g_free (s->legend_hi);
  s->legend_title = g_strdup (title), s->legend_lo = g_strdup (lo), s->legend_hi = g_strdup (hi);
}

void
osh_scene_set_styles (OshScene *s, const uint32_t *styles, int n)
{
  memset (s->node_style, 0, sizeof (uint32_t) * (size_t) MAX (1, s->lay->n_nodes));
  if (styles)
    memcpy (s->node_style, styles, sizeof (uint32_t) * (size_t) MIN (n, s->lay->n_nodes));
  update_item_styles (s);
}

void
osh_scene_set_node_style (OshScene *s, int node, uint32_t style)
{
  if (node < 0 || node >= s->lay->n_nodes || s->node_style[node] == style)
    return;
  s->node_style[node] = style;
  update_item_styles (s);
}

uint32_t
osh_scene_item_style (const OshScene *s, int item)
{
  return item >= 0 && item < s->lay->n_items ? s->item_style[item] : 0;
}

/* ---- Drawing ----------------------------------------------------------------------------- */

static void
rounded_rect (cairo_t *cr, OshRect r, double radius)
{
  double x0 = r.x, y0 = r.y, x1 = r.x + r.w, y1 = r.y + r.h;
  cairo_new_sub_path (cr);
  cairo_arc (cr, x1 - radius, y0 + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, x1 - radius, y1 - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, x0 + radius, y1 - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, x0 + radius, y0 + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* A one-line layout for a frame or edge label, built once and kept by the scene. */
PangoLayout *
osh_scene_small_text (OshScene *s, const char *font_name, const char *text)
{
  PangoLayout *pl = pango_layout_new (s->text);
  PangoFontDescription *font = pango_font_description_from_string (font_name);
  pango_layout_set_font_description (pl, font);
  pango_font_description_free (font);
  pango_layout_set_text (pl, text, -1);
  return pl;
}

static void
draw_cluster (OshScene *s, cairo_t *cr, const Palette *p, const OshLayoutCluster *cl, bool text)
{
  rounded_rect (cr, cl->box, 6);
  set_rgb (cr, p->cluster_fill, s->dark ? 0.6 : 0.7);
  cairo_fill_preserve (cr);
  set_rgb (cr, p->cluster_line, 1);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  if (!text)
    return;
  int i = (int) (cl - s->lay->clusters);
  if (!s->cluster_text[i])
    s->cluster_text[i] = osh_scene_small_text (s, "Sans Italic 9", cl->label);
  cairo_move_to (cr, cl->box.x + 6, cl->box.y + 3);
  set_rgb (cr, p->muted, 1);
  pango_cairo_show_layout (cr, s->cluster_text[i]);
}

static bool
edge_red (const OshScene *s, const OshLayoutEdge *e)
{
  uint32_t bad = OSH_STYLE_DISCONNECTED | OSH_STYLE_FOREIGN_ROOT;
  return (s->item_style[e->from] & bad) && (s->item_style[e->to] & bad);
}

EdgeLook
osh_scene_edge_look (const OshScene *s, const Palette *p, const OshLayoutEdge *e)
{
  bool red = edge_red (s, e);
  bool faded = (s->item_style[e->from] | s->item_style[e->to]) & OSH_STYLE_UNUSED;
  bool lit = (s->item_style[e->from] | s->item_style[e->to]) & OSH_STYLE_SELECTED;
  return (EdgeLook){ .color = red   ? p->red
                              : lit ? p->selected
                                    : p->edge,
                     .alpha = faded && !red ? 0.3 : 1,
                     .width = red || lit ? 2.2 : 1.2,
                     .red = red };
}

bool
osh_scene_arrow_corners (const OshLayoutEdge *e, OshPoint corners[3])
{
  OshPoint a = e->points[e->n_points - 1], t = e->arrow_tip;
  double dx = t.x - a.x, dy = t.y - a.y, len = hypot (dx, dy);
  if (len <= 0.01)
    return false;
  double nx = -dy / len * len * 0.35, ny = dx / len * len * 0.35;
  corners[0] = t;
  corners[1] = (OshPoint){ a.x + nx, a.y + ny };
  corners[2] = (OshPoint){ a.x - nx, a.y - ny };
  return true;
}

static void
draw_edge (OshScene *s, cairo_t *cr, const Palette *p, int i, bool text)
{
  const OshLayoutEdge *e = &s->lay->edges[i];
  if (e->n_points < 1)
    return;
  EdgeLook look = osh_scene_edge_look (s, p, e);
  bool red = look.red;
  double alpha = look.alpha;
  set_rgb (cr, look.color, alpha);
  cairo_set_line_width (cr, look.width);
  cairo_move_to (cr, e->points[0].x, e->points[0].y);
  for (int k = 1; k + 2 < e->n_points; k += 3)
    cairo_curve_to (cr, e->points[k].x, e->points[k].y, e->points[k + 1].x, e->points[k + 1].y,
                    e->points[k + 2].x, e->points[k + 2].y);
  cairo_stroke (cr);
  OshPoint corners[3];
  if (e->arrow && osh_scene_arrow_corners (e, corners))
    {
      cairo_move_to (cr, corners[0].x, corners[0].y);
      cairo_line_to (cr, corners[1].x, corners[1].y);
      cairo_line_to (cr, corners[2].x, corners[2].y);
      cairo_close_path (cr);
      cairo_fill (cr);
    }
  if (text && e->label && *e->label)
    {
      if (!s->edge_text[i])
        s->edge_text[i] = osh_scene_small_text (s, "Sans 7", e->label);
      set_rgb (cr, red ? p->red : p->muted, alpha);
      cairo_move_to (cr, e->label_pos.x, e->label_pos.y);
      pango_cairo_show_layout (cr, s->edge_text[i]);
    }
}

ItemLook
osh_scene_item_look (const OshScene *s, const Palette *p, int i)
{
  const OshLayoutItem *it = &s->lay->items[i];
  uint32_t st = s->item_style[i];
  ItemLook k = { .fill = p->family[it->family],
                 .line = p->box_line,
                 .alpha = (st & OSH_STYLE_UNUSED) ? 0.35 : 1,
                 .width = 0.8,
                 .dashed = (st & OSH_STYLE_NEW_HEAD) != 0 };
  if (s->item_fill && (s->item_fill[i] & 0xff))
    k.fill = (Rgb){ (s->item_fill[i] >> 24) / 255.0, ((s->item_fill[i] >> 16) & 0xff) / 255.0,
                    ((s->item_fill[i] >> 8) & 0xff) / 255.0 };
  if (st & (OSH_STYLE_DISCONNECTED | OSH_STYLE_FOREIGN_ROOT))
    k.fill = (Rgb){ k.fill.r * 0.6 + p->red.r * 0.4, k.fill.g * 0.6 + p->red.g * 0.4,
                    k.fill.b * 0.6 + p->red.b * 0.4 };
  if (st & OSH_STYLE_HOVERED)
    k.line = p->hovered, k.width = 2;
  if (st & OSH_STYLE_NEW_HEAD)
    k.line = p->head, k.width = 2.5;
  if (st & (OSH_STYLE_DISCONNECTED | OSH_STYLE_FOREIGN_ROOT))
    k.line = p->red, k.width = 2.5;
  if (st & OSH_STYLE_SELECTED)
    k.line = p->selected, k.width = 3;
  return k;
}

static void
draw_item (OshScene *s, cairo_t *cr, const Palette *p, int i, bool text)
{
  const OshLayoutItem *it = &s->lay->items[i];
  uint32_t st = s->item_style[i];
  ItemLook look = osh_scene_item_look (s, p, i);
  double alpha = look.alpha;
  OshRect r = it->box;
  bool group = it->kind == OSH_ITEM_GROUP;

  if (st & OSH_STYLE_SEARCH_HIT)
    {
      OshRect glow = { r.x - 4, r.y - 4, r.w + 8, r.h + 8 };
      rounded_rect (cr, glow, 7);
      set_rgb (cr, p->search, 0.6);
      cairo_fill (cr);
    }
  if (group)
    {
      /* A stacked look says "more inside". */
      OshRect back = { r.x + 3, r.y + 3, r.w, r.h };
      rounded_rect (cr, back, 4);
      set_rgb (cr, p->family[it->family], alpha * 0.6);
      cairo_fill_preserve (cr);
      set_rgb (cr, p->box_line, alpha * 0.5);
      cairo_set_line_width (cr, 0.8);
      cairo_stroke (cr);
    }
  rounded_rect (cr, r, 4);
  Rgb fill = look.fill;
  set_rgb (cr, fill, alpha);
  cairo_fill_preserve (cr);

  set_rgb (cr, look.line, alpha);
  cairo_set_line_width (cr, look.width);
  if (look.dashed)
    cairo_set_dash (cr, (double[]){ 5, 3 }, 2, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  if (st & OSH_STYLE_FOREIGN_ROOT)
    {
      /* A red badge with "!" at the top-right corner marks the foreign root. */
      double cx = r.x + r.w, cy = r.y;
      cairo_arc (cr, cx, cy, 8, 0, 2 * G_PI);
      set_rgb (cr, p->red, 1);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_set_line_width (cr, 2);
      cairo_move_to (cr, cx, cy - 4.5);
      cairo_line_to (cr, cx, cy + 1.5);
      cairo_stroke (cr);
      cairo_arc (cr, cx, cy + 4, 1.1, 0, 2 * G_PI);
      cairo_fill (cr);
    }

  if (!text)
    return;
  if (!s->item_text[i])
    s->item_text[i] =
        osh_node_text_layout (s->text, it->title, it->subtitle, it->shape_text, it->params);
  Rgb ink = p->text;
  if (s->item_fill && (s->item_fill[i] & 0xff)
      && 0.3 * fill.r + 0.59 * fill.g + 0.11 * fill.b < 0.45)
    ink = (Rgb){ 1, 1, 1 }; /* a dark analysis colour: light text stays readable */
  set_rgb (cr, ink, alpha);
  cairo_move_to (cr, r.x + OSH_NODE_PAD_X, r.y + OSH_NODE_PAD_Y);
  pango_cairo_show_layout (cr, s->item_text[i]);
}

/* Below full-text scale a box still says what it is: its title at a fixed screen size when the
 * box is tall enough on screen to hold a line. The title stays inside its box (past the edge it
 * runs into the next box's name): 11 px when it fits, else smaller down to 8 px, and a name
 * still too long is shortened in the middle, where block names differ least. */
#define TITLE_PX 11.0
#define TITLE_MIN_PX 8.0
#define TITLE_MARGIN 3.0 /* px between the title and each side of its box */

static void
draw_title (OshScene *s, cairo_t *cr, const Palette *p, const OshViewport *vp, int i)
{
  const OshLayoutItem *it = &s->lay->items[i];
  double x, y;
  osh_viewport_to_view (vp, it->box.x, it->box.y, &x, &y);
  double w = it->box.w * vp->scale, h = it->box.h * vp->scale;
  if (h < TITLE_PX + 2 || w < 3 * TITLE_PX)
    return;
  if (!s->title_text[i])
    {
      s->title_text[i] = osh_scene_small_text (s, "Sans Bold 11px", it->title);
      pango_layout_set_ellipsize (s->title_text[i], PANGO_ELLIPSIZE_MIDDLE);
      int natural;
      pango_layout_get_pixel_size (s->title_text[i], &natural, NULL);
      s->title_w[i] = natural;
    }
  PangoLayout *pl = s->title_text[i];
  double room = w - 2 * TITLE_MARGIN;
  double k = s->title_w[i] > room ? MAX (TITLE_MIN_PX / TITLE_PX, room / s->title_w[i]) : 1;
  /* The width in 11 px units: what does not fit at the smallest size is ellipsized. */
  pango_layout_set_width (pl, (int) floor (room / k * PANGO_SCALE));
  int tw, th;
  pango_layout_get_pixel_size (pl, &tw, &th);
  uint32_t st = s->item_style[i];
  set_rgb (cr, p->text, (st & OSH_STYLE_UNUSED) ? 0.35 : 1);
  cairo_save (cr);
  cairo_translate (cr, x + (w - tw * k) / 2, y + (h - th * k) / 2);
  cairo_scale (cr, k, k);
  cairo_move_to (cr, 0, 0);
  pango_cairo_show_layout (cr, pl);
  cairo_restore (cr);
}

static int
draw_scene_full (OshScene *s, cairo_t *cr, const OshViewport *vp, double view_w, double view_h,
                 bool text, bool titles)
{
  const Palette *p = osh_scene_palette (s);
  set_rgb (cr, p->background, 1);
  cairo_paint (cr);
  OshRect vis = osh_viewport_visible (vp, view_w, view_h);

  cairo_save (cr);
  cairo_translate (cr, vp->x, vp->y);
  cairo_scale (cr, vp->scale, vp->scale);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (int i = 0; i < s->lay->n_clusters; i++)
    if (intersects (s->lay->clusters[i].box, vis))
      draw_cluster (s, cr, p, &s->lay->clusters[i], text);

  GArray *edges = grid_query (&s->edges, s, s->edge_seen, vis, edge_rect);
  for (guint k = 0; k < edges->len; k++)
    draw_edge (s, cr, p, g_array_index (edges, int, k), text);
  g_array_free (edges, TRUE);

  GArray *items = grid_query (&s->items, s, s->item_seen, vis, item_rect);
  for (guint k = 0; k < items->len; k++)
    draw_item (s, cr, p, g_array_index (items, int, k), text);
  int drawn = (int) items->len;
  cairo_restore (cr);
  if (!text && titles)
    for (guint k = 0; k < items->len; k++)
      draw_title (s, cr, p, vp, g_array_index (items, int, k));
  g_array_free (items, TRUE);
  return drawn;
}

static int
draw_scene (OshScene *s, cairo_t *cr, const OshViewport *vp, double view_w, double view_h,
            bool text)
{
  return draw_scene_full (s, cr, vp, view_w, view_h, text, true);
}

int
osh_scene_draw (OshScene *s, cairo_t *cr, const OshViewport *vp, double view_w, double view_h)
{
  /* Below ~7 px per line the boxes' three lines are unreadable (and the most expensive
   * part): the title alone is drawn then, at a readable size. */
  return draw_scene (s, cr, vp, view_w, view_h, vp->scale >= OSH_SCENE_TEXT_SCALE);
}

static bool
contains (OshRect r, double x, double y)
{
  return x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h;
}

int
osh_scene_hit_test (const OshScene *s, const OshViewport *vp, double vx, double vy)
{
  double x, y;
  osh_viewport_to_world (vp, vx, vy, &x, &y);
  const Grid *gd = &s->items;
  if (x < 0 || y < 0)
    return -1;
  int c = (int) floor (x / gd->cell), r = (int) floor (y / gd->cell);
  if (c >= gd->cols || r >= gd->rows)
    return -1;
  int cell = r * gd->cols + c, hit = -1;
  for (int k = gd->start[cell]; k < gd->start[cell + 1]; k++)
    if (contains (s->lay->items[gd->idx[k]].box, x, y))
      hit = MAX (hit, gd->idx[k]); /* the one drawn last is on top */
  return hit;
}

int
osh_scene_hit_group (const OshScene *s, const OshViewport *vp, double vx, double vy)
{
  int item = osh_scene_hit_test (s, vp, vx, vy);
  if (item >= 0 && s->lay->items[item].kind == OSH_ITEM_GROUP)
    return s->lay->items[item].group;
  double x, y;
  osh_viewport_to_world (vp, vx, vy, &x, &y);
  int best = -1, depth = -1;
  for (int i = 0; i < s->lay->n_clusters; i++)
    if (s->lay->clusters[i].depth > depth && contains (s->lay->clusters[i].box, x, y))
      {
        best = s->lay->clusters[i].group;
        depth = s->lay->clusters[i].depth;
      }
  return best;
}

int
osh_scene_query (const OshScene *s, OshRect world, int *out, int max)
{
  OshScene *mut = (OshScene *) s; /* only the de-duplication stamps change */
  GArray *items = grid_query (&mut->items, mut, mut->item_seen, world, item_rect);
  int n = (int) items->len;
  for (int k = 0; k < n && k < max; k++)
    out[k] = g_array_index (items, int, k);
  g_array_free (items, TRUE);
  return n;
}

/* ---- Minimap ----------------------------------------------------------------------------- */

/* The whole graph fitted, keeping its proportions; a graph too thin for that (a tall
 * chain) is drawn wider and scrolls like a scrollbar's thumb: the part around the view shows,
 * at the view's fraction of the height. Wider means filling the minimap's width, but never
 * so close that the minimap shows less than four views' height of graph (it is for finding
 * one's way). `vp` NULL: no view (the top, as wide as it fits). Returns whether it scrolls. */
static bool
minimap_fit (const OshScene *s, double w, double h, const OshViewport *vp, double view_w,
             double view_h, OshViewport *mv)
{
  OshRect b = s->lay->bounds;
  osh_viewport_fit (mv, b, w, h, 4, 1e9);
  if (b.w * mv->scale >= w * 0.4 || b.h < 1)
    return false;
  double fit = mv->scale;
  OshRect v = vp ? osh_viewport_visible (vp, view_w, view_h) : (OshRect){ 0, 0, 0, 0 };
  mv->scale = (w - 8) / MAX (1.0, b.w);
  if (vp && v.h > 0)
    mv->scale = MAX (fit, MIN (mv->scale, (h - 8) / (4 * v.h)));
  double content = b.h * mv->scale;
  mv->x = (w - b.w * mv->scale) / 2 - b.x * mv->scale;
  if (content <= h - 8)
    {
      mv->y = (h - content) / 2 - b.y * mv->scale;
      return false;
    }
  double frac = vp ? CLAMP ((v.y + v.h / 2 - b.y) / b.h, 0, 1) : 0;
  mv->y = -frac * (content - h) - b.y * mv->scale;
  return true;
}

void
osh_scene_draw_minimap (OshScene *s, cairo_t *cr, double w, double h, const OshViewport *vp,
                        double view_w, double view_h)
{
  const Palette *p = osh_scene_palette (s);
  OshViewport mv;
  minimap_fit (s, w, h, vp, view_w, view_h, &mv);
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, w, h);
  cairo_clip (cr);
  set_rgb (cr, p->background, 1);
  cairo_paint (cr);
  cairo_translate (cr, mv.x, mv.y);
  cairo_scale (cr, mv.scale, mv.scale);
  set_rgb (cr, p->cluster_line, 0.5);
  for (int i = 0; i < s->lay->n_clusters; i++)
    {
      OshRect b = s->lay->clusters[i].box;
      cairo_rectangle (cr, b.x, b.y, b.w, b.h);
    }
  cairo_fill (cr);
  /* One path per family: thousands of boxes in a handful of fills. */
  for (int f = 0; f < OSH_FAMILY_COUNT; f++)
    {
      bool any = false;
      for (int i = 0; i < s->lay->n_items; i++)
        if (s->lay->items[i].family == (OshFamily) f)
          {
            OshRect b = s->lay->items[i].box;
            cairo_rectangle (cr, b.x, b.y, b.w, b.h);
            any = true;
          }
      if (any)
        {
          set_rgb (cr, p->family[f], 1);
          cairo_fill (cr);
        }
    }
  for (int i = 0; i < s->lay->n_items; i++)
    if (s->item_style[i]
        & (OSH_STYLE_DISCONNECTED | OSH_STYLE_FOREIGN_ROOT | OSH_STYLE_SELECTED
           | OSH_STYLE_SEARCH_HIT))
      {
        OshRect b = s->lay->items[i].box;
        uint32_t st = s->item_style[i];
        set_rgb (cr,
                 (st & OSH_STYLE_SELECTED)     ? p->selected
                 : (st & OSH_STYLE_SEARCH_HIT) ? p->search
                                               : p->red,
                 1);
        cairo_rectangle (cr, b.x - 4, b.y - 4, b.w + 8, b.h + 8);
        cairo_fill (cr);
      }
  cairo_restore (cr);
  if (vp)
    {
      /* The view's rectangle, kept inside the minimap so all four sides show even when the
       * view is wider than the graph. */
      OshRect v = osh_viewport_visible (vp, view_w, view_h);
      double x0, y0, x1, y1;
      osh_viewport_to_view (&mv, v.x, v.y, &x0, &y0);
      osh_viewport_to_view (&mv, v.x + v.w, v.y + v.h, &x1, &y1);
      x0 = CLAMP (x0, 1, w - 1), x1 = CLAMP (x1, 1, w - 1);
      y0 = CLAMP (y0, 1, h - 1), y1 = CLAMP (y1, 1, h - 1);
      cairo_rectangle (cr, x0, y0, MAX (x1 - x0, 2), MAX (y1 - y0, 2));
      set_rgb (cr, p->selected, 1);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
    }
}

void
osh_scene_minimap_to_world (const OshScene *s, double w, double h, const OshViewport *vp,
                            double view_w, double view_h, double mx, double my, double *wx,
                            double *wy)
{
  OshViewport mv;
  if (minimap_fit (s, w, h, vp, view_w, view_h, &mv))
    {
      /* Scrolled: a point's height is a fraction of the graph's, as on a scrollbar (the
       * only mapping that stays put while the minimap scrolls under a drag). */
      OshRect b = s->lay->bounds;
      osh_viewport_to_world (&mv, mx, my, wx, wy);
      *wy = b.y + CLAMP (my / h, 0, 1) * b.h;
      return;
    }
  osh_viewport_to_world (&mv, mx, my, wx, wy);
}

/* ---- Export ------------------------------------------------------------------------------ */

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_string_append_len (closure, (const char *) data, length);
  return CAIRO_STATUS_SUCCESS;
}

bool
osh_scene_export (OshScene *s, const char *path, double scale, OshError *err)
{
  const double margin = 16;
  OshRect b = s->lay->bounds;
  if (!s->text) /* a copy made for this thread (osh_scene_copy) */
    s->text = osh_node_text_context ();
  if (scale <= 0)
    scale = 1;
  const char *dot = strrchr (path, '.');
  char *ext = g_ascii_strdown (dot ? dot + 1 : "", -1);
  bool png = !strcmp (ext, "png"), svg = !strcmp (ext, "svg"), pdf = !strcmp (ext, "pdf");
  g_free (ext);
  if (!png && !svg && !pdf)
    return osh_fail (err, OSH_ERR_USAGE, "%s: unknown image type (use .png, .svg or .pdf)", path);
  /* PNG: a cap that image viewers open and that stays a few hundred MB of pixels (cairo
   * stops at 32767 a side); PDF viewers stop at 200 inches (14,400 pt). */
  double limit = png ? OSH_SCENE_PNG_MAX : pdf ? 14400 : 1e7;
  double big = MAX (b.w, b.h) * scale + 2 * margin;
  if (big > limit)
    scale *= (limit - 2 * margin) / (big - 2 * margin);
  double w = ceil (b.w * scale + 2 * margin), h = ceil (b.h * scale + 2 * margin);
  const double legend_h = s->legend_title ? 56 : 0; /* a band below the graph */
  if (legend_h > 0)
    w = MAX (w, 260), h += legend_h;

  cairo_surface_t *surface;
  GString *svg_out = svg ? g_string_new (NULL) : NULL;
  if (png)
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) w, (int) h);
  else if (svg)
    surface = cairo_svg_surface_create_for_stream (append_bytes, svg_out, w, h);
  else
    surface = cairo_pdf_surface_create (path, w, h);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      bool ok = osh_fail (err, OSH_ERR_IO, "%s: cannot create a %.0f × %.0f image: %s", path, w, h,
                          cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      if (svg_out)
        g_string_free (svg_out, TRUE);
      return ok;
    }
  cairo_t *cr = cairo_create (surface);
  OshViewport vp = { margin - b.x * scale, margin - b.y * scale, scale };
  /* Vector files are zoomed in a viewer: they always carry the text. SVG gets it as
   * <text> elements (cairo would draw glyph outlines: not searchable or selectable). */
  if (svg) /* the background here, the shapes and text written after (osh-scene-svg.c) */
    {
      set_rgb (cr, osh_scene_palette (s)->background, 1);
      cairo_paint (cr);
    }
  else
    draw_scene_full (s, cr, &vp, w, h, pdf || (png && scale >= OSH_SCENE_TEXT_SCALE), true);
  if (legend_h > 0)
    osh_colormap_draw_bar (cr, margin, h - legend_h + 18, 220, 14, s->legend_title, s->legend_lo,
                           s->legend_hi, s->dark);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  cairo_status_t st = CAIRO_STATUS_SUCCESS;
  if (png)
    st = cairo_surface_write_to_png (surface, path);
  cairo_surface_finish (surface);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (svg_out)
    {
      const char *end = g_strrstr (svg_out->str, "</svg>");
      GString *labels = g_string_new (NULL);
      osh_scene_svg_append (s, labels, &vp, w, h);
      if (end)
        g_string_insert_len (svg_out, end - svg_out->str, labels->str, labels->len);
      g_string_free (labels, TRUE);
      GError *error = NULL;
      /* g_file_set_contents writes a temporary file and renames it. */
      if (st == CAIRO_STATUS_SUCCESS
          && !g_file_set_contents (path, svg_out->str, svg_out->len, &error))
        {
          bool ok = osh_fail (err, OSH_ERR_IO, "%s: %s", path, error->message);
          g_error_free (error);
          g_string_free (svg_out, TRUE);
          return ok;
        }
      g_string_free (svg_out, TRUE);
    }
  if (st != CAIRO_STATUS_SUCCESS)
    return osh_fail (err, OSH_ERR_IO, "%s: writing the image failed: %s", path,
                     cairo_status_to_string (st));
  return true;
}
