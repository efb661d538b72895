/* osh-scene-svg.c — the scene as SVG elements, written by hand: the shapes (frames, edges,
 * boxes) in world units under the view's transform, then every label as <text> so it stays
 * searchable and selectable. cairo's SVG surface recorded every path, replayed it twice and
 * printed each number through printf (more than laying the graph out), and drew labels as
 * glyph outlines. osh_scene_export (osh-scene.c) writes the rest of the file; the looks both
 * share are in osh-scene-private.h. */
#include <glib.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "osh-node-text.h"
#include "osh-scene-private.h"

/* One line of label text as SVG draws it: where it starts and its baseline (points from the
 * layout's top-left) and its font. */
typedef struct
{
  double x, baseline, size;
  bool bold, italic;
  int start, length; /* bytes of the layout's text */
} SvgLine;

/* The lines of `pl` as Pango lays them out; returns how many (at most `max`). */
static int
layout_lines (PangoLayout *pl, SvgLine *lines, int max)
{
  int n = 0;
  PangoLayoutIter *iter = pango_layout_get_iter (pl);
  do
    {
      PangoLayoutLine *line = pango_layout_iter_get_line_readonly (iter);
      SvgLine l = { .size = 9, .start = line->start_index, .length = line->length };
      PangoLayoutRun *run = pango_layout_iter_get_run_readonly (iter);
      if (run && run->item && run->item->analysis.font)
        {
          PangoFontDescription *fd = pango_font_describe (run->item->analysis.font);
          l.size = pango_font_description_get_size (fd) / (double) PANGO_SCALE;
          l.bold = pango_font_description_get_weight (fd) >= PANGO_WEIGHT_BOLD;
          l.italic = pango_font_description_get_style (fd) != PANGO_STYLE_NORMAL;
          pango_font_description_free (fd);
        }
      PangoRectangle logical;
      pango_layout_iter_get_line_extents (iter, NULL, &logical);
      l.x = logical.x / (double) PANGO_SCALE;
      l.baseline = pango_layout_iter_get_baseline (iter) / (double) PANGO_SCALE;
      if (n < max)
        lines[n++] = l;
    }
  while (pango_layout_iter_next_line (iter));
  pango_layout_iter_free (iter);
  return n;
}

/* `text` with XML's special characters escaped. */
static void
svg_escaped (GString *out, const char *text, int length)
{
  if (!memchr (text, '&', length) && !memchr (text, '<', length) && !memchr (text, '>', length)
      && !memchr (text, '"', length) && !memchr (text, '\'', length))
    {
      g_string_append_len (out, text, length);
      return;
    }
  char *escaped = g_markup_escape_text (text, length);
  g_string_append (out, escaped);
  g_free (escaped);
}

static void svg_attr (GString *out, const char *name, double v);

/* One <text> element: `line`'s font and place, for a layout whose top-left is (x, y) in
 * points, scaled like the drawing. */
static void
svg_line (GString *out, const OshViewport *vp, double x, double y, const SvgLine *line,
          const char *text, int length, const char *fill)
{
  if (length <= 0)
    return;
  double bx = x + line->x, by = y + line->baseline;
  g_string_append (out, "<text");
  svg_attr (out, "x", bx * vp->scale + vp->x);
  svg_attr (out, "y", by * vp->scale + vp->y);
  g_string_append (out, " font-family=\"sans-serif\"");
  svg_attr (out, "font-size", line->size * vp->scale);
  if (line->bold)
    g_string_append (out, " font-weight=\"bold\"");
  if (line->italic)
    g_string_append (out, " font-style=\"italic\"");
  g_string_append (out, " fill=\"");
  g_string_append (out, fill);
  g_string_append (out, "\">");
  svg_escaped (out, text, length);
  g_string_append (out, "</text>\n");
}

/* Writes a layout's lines as SVG <text> elements at (x, y) in points (the layout's top-left),
 * scaled like the drawing: text stays text, searchable and selectable in a browser. */
static void
svg_text (GString *out, PangoLayout *pl, const OshViewport *vp, double x, double y,
          const char *fill)
{
  const char *all = pango_layout_get_text (pl);
  int count = pango_layout_get_line_count (pl);
  SvgLine *lines = g_new (SvgLine, MAX (1, count));
  int n = layout_lines (pl, lines, count);
  for (int i = 0; i < n; i++)
    svg_line (out, vp, x, y, &lines[i], all + lines[i].start, lines[i].length, fill);
  g_free (lines);
}

static void
svg_color (char *buf, size_t n, Rgb c)
{
  g_snprintf (buf, n, "#%02x%02x%02x", (int) (c.r * 255 + 0.5), (int) (c.g * 255 + 0.5),
              (int) (c.b * 255 + 0.5));
}

/* The place and font of each line of a label in `font_name` (NULL: a box's three lines). */
static bool
probe_lines (OshScene *s, const char *font_name, SvgLine *lines, int n)
{
  PangoLayout *pl = font_name ? osh_scene_small_text (s, font_name, "Ag")
                              : osh_node_text_layout (s->text, "Ag", "Ag", "Ag", 0);
  bool ok = pango_layout_get_line_count (pl) == n && layout_lines (pl, lines, n) == n;
  g_object_unref (pl);
  return ok;
}

/* Every label of the scene as <text>, in drawing order (frames, edges, boxes). */
static void
svg_labels (OshScene *s, GString *out, const OshViewport *vp)
{
  const Palette *p = osh_scene_palette (s);
  char text[8], muted[8];
  svg_color (text, sizeof text, p->text);
  svg_color (muted, sizeof muted, p->muted);
  SvgLine cluster_line, edge_line, box_lines[3];
  bool probed = probe_lines (s, "Sans Italic 9", &cluster_line, 1)
                && probe_lines (s, "Sans 7", &edge_line, 1) && probe_lines (s, NULL, box_lines, 3);
  for (int i = 0; i < s->lay->n_clusters; i++)
    {
      const OshLayoutCluster *cl = &s->lay->clusters[i];
      double x = cl->box.x + 6, y = cl->box.y + 3;
      if (probed && osh_node_text_is_plain (cl->label))
        {
          svg_line (out, vp, x, y, &cluster_line, cl->label, (int) strlen (cl->label), muted);
          continue;
        }
      if (!s->cluster_text[i])
        s->cluster_text[i] = osh_scene_small_text (s, "Sans Italic 9", cl->label);
      svg_text (out, s->cluster_text[i], vp, x, y, muted);
    }
  for (int i = 0; i < s->lay->n_edges; i++)
    {
      const OshLayoutEdge *e = &s->lay->edges[i];
      if (!e->label || !*e->label)
        continue;
      if (probed && osh_node_text_is_plain (e->label))
        {
          svg_line (out, vp, e->label_pos.x, e->label_pos.y, &edge_line, e->label,
                    (int) strlen (e->label), muted);
          continue;
        }
      if (!s->edge_text[i])
        s->edge_text[i] = osh_scene_small_text (s, "Sans 7", e->label);
      svg_text (out, s->edge_text[i], vp, e->label_pos.x, e->label_pos.y, muted);
    }
  for (int i = 0; i < s->lay->n_items; i++)
    {
      const OshLayoutItem *it = &s->lay->items[i];
      double x = it->box.x + OSH_NODE_PAD_X, y = it->box.y + OSH_NODE_PAD_Y;
      char third[256];
      osh_node_text_third_line (it->shape_text, it->params, third, sizeof third);
      const char *lines[3] = { it->title ? it->title : "", it->subtitle ? it->subtitle : "",
                               third };
      if (probed && *lines[0] && osh_node_text_is_plain (lines[0])
          && osh_node_text_is_plain (lines[1]) && osh_node_text_is_plain (lines[2]))
        {
          for (int k = 0; k < 3; k++)
            svg_line (out, vp, x, y, &box_lines[k], lines[k], (int) strlen (lines[k]), text);
          continue;
        }
      if (!s->item_text[i])
        s->item_text[i] =
            osh_node_text_layout (s->text, it->title, it->subtitle, it->shape_text, it->params);
      svg_text (out, s->item_text[i], vp, x, y, text);
    }
}

/* The shapes: the same shapes, colours and order as draw_scene_full (osh-scene.c). */

/* Hundredths of a point: finer than a viewer draws at any zoom. */
static void
svg_num (GString *out, double v)
{
  long long h = isfinite (v) ? llround (v * 100) : 0;
  if (h < 0)
    g_string_append_c (out, '-'), h = -h;
  char buf[32];
  int n = sizeof buf;
  buf[--n] = '\0';
  int frac = (int) (h % 100);
  if (frac)
    {
      if (frac % 10)
        buf[--n] = (char) ('0' + frac % 10);
      buf[--n] = (char) ('0' + frac / 10);
      buf[--n] = '.';
    }
  long long whole = h / 100;
  do
    buf[--n] = (char) ('0' + whole % 10), whole /= 10;
  while (whole);
  g_string_append (out, buf + n);
}

static void
svg_attr (GString *out, const char *name, double v)
{
  g_string_append_c (out, ' ');
  g_string_append (out, name);
  g_string_append (out, "=\"");
  svg_num (out, v);
  g_string_append_c (out, '"');
}

/* fill="#rrggbb" (or stroke=…), with its opacity when below 1. */
static void
svg_paint (GString *out, const char *what, Rgb c, double alpha)
{
  static const char hex[] = "0123456789abcdef";
  int v[3] = { (int) (c.r * 255 + 0.5), (int) (c.g * 255 + 0.5), (int) (c.b * 255 + 0.5) };
  char color[8] = "#";
  for (int k = 0; k < 3; k++)
    {
      int b = CLAMP (v[k], 0, 255);
      color[1 + 2 * k] = hex[b >> 4];
      color[2 + 2 * k] = hex[b & 15];
    }
  color[7] = '\0';
  g_string_append_printf (out, " %s=\"%s\"", what, color);
  if (alpha < 1)
    {
      g_string_append_printf (out, " %s-opacity=\"", what);
      svg_num (out, alpha);
      g_string_append_c (out, '"');
    }
}

/* `<rect …` with rounded corners, left open for its paint. */
static void
svg_rect (GString *out, OshRect r, double radius)
{
  g_string_append (out, "<rect");
  svg_attr (out, "x", r.x);
  svg_attr (out, "y", r.y);
  svg_attr (out, "width", r.w);
  svg_attr (out, "height", r.h);
  svg_attr (out, "rx", radius);
}

static void
svg_point (GString *out, char command, OshPoint pt)
{
  g_string_append_c (out, command);
  svg_num (out, pt.x);
  g_string_append_c (out, ' ');
  svg_num (out, pt.y);
}

/* A rounded box traced from where rounded_rect starts (the end of the top side), so its dashes
 * fall where cairo puts them; left open for its paint. */
static void
svg_dashed_box (GString *out, OshRect r, double radius)
{
  double x0 = r.x, y0 = r.y, x1 = r.x + r.w, y1 = r.y + r.h;
  const OshPoint corners[4][2] = {
    { { x1 - radius, y0 }, { x1, y0 + radius } },
    { { x1, y1 - radius }, { x1 - radius, y1 } },
    { { x0 + radius, y1 }, { x0, y1 - radius } },
    { { x0, y0 + radius }, { x0 + radius, y0 } },
  };
  g_string_append (out, "<path d=\"");
  for (int k = 0; k < 4; k++)
    {
      svg_point (out, k ? 'L' : 'M', corners[k][0]);
      svg_point (out, 'A', (OshPoint){ radius, radius });
      g_string_append (out, " 0 0 1"); /* no rotation, the short way, clockwise */
      svg_point (out, ' ', corners[k][1]);
    }
  g_string_append (out, "Z\" stroke-dasharray=\"5 3\"");
}

static void
svg_cluster (OshScene *s, GString *out, const Palette *p, const OshLayoutCluster *cl)
{
  svg_rect (out, cl->box, 6);
  svg_paint (out, "fill", p->cluster_fill, s->dark ? 0.6 : 0.7);
  svg_paint (out, "stroke", p->cluster_line, 1);
  g_string_append (out, "/>\n");
}

static void
svg_edge (OshScene *s, GString *out, const Palette *p, int i)
{
  const OshLayoutEdge *e = &s->lay->edges[i];
  if (e->n_points < 1)
    return;
  EdgeLook look = osh_scene_edge_look (s, p, e);
  if (e->n_points >= 4)
    {
      g_string_append (out, "<path d=\"");
      svg_point (out, 'M', e->points[0]);
      for (int k = 1; k + 2 < e->n_points; k += 3)
        {
          svg_point (out, 'C', e->points[k]);
          svg_point (out, ' ', e->points[k + 1]);
          svg_point (out, ' ', e->points[k + 2]);
        }
      g_string_append (out, "\" fill=\"none\"");
      svg_paint (out, "stroke", look.color, look.alpha);
      svg_attr (out, "stroke-width", look.width);
      g_string_append (out, "/>\n");
    }
  OshPoint corners[3];
  if (e->arrow && osh_scene_arrow_corners (e, corners))
    {
      g_string_append (out, "<path d=\"");
      svg_point (out, 'M', corners[0]);
      svg_point (out, 'L', corners[1]);
      svg_point (out, 'L', corners[2]);
      g_string_append (out, "Z\"");
      svg_paint (out, "fill", look.color, look.alpha);
      g_string_append (out, "/>\n");
    }
}

static void
svg_item (OshScene *s, GString *out, const Palette *p, int i)
{
  const OshLayoutItem *it = &s->lay->items[i];
  uint32_t st = s->item_style[i];
  ItemLook look = osh_scene_item_look (s, p, i);
  OshRect r = it->box;
  if (st & OSH_STYLE_SEARCH_HIT)
    {
      svg_rect (out, (OshRect){ r.x - 4, r.y - 4, r.w + 8, r.h + 8 }, 7);
      svg_paint (out, "fill", p->search, 0.6);
      g_string_append (out, "/>\n");
    }
  if (it->kind == OSH_ITEM_GROUP)
    {
      svg_rect (out, (OshRect){ r.x + 3, r.y + 3, r.w, r.h }, 4);
      svg_paint (out, "fill", p->family[it->family], look.alpha * 0.6);
      svg_paint (out, "stroke", p->box_line, look.alpha * 0.5);
      svg_attr (out, "stroke-width", 0.8);
      g_string_append (out, "/>\n");
    }
  if (look.dashed)
    svg_dashed_box (out, r, 4);
  else
    svg_rect (out, r, 4);
  svg_paint (out, "fill", look.fill, look.alpha);
  svg_paint (out, "stroke", look.line, look.alpha);
  svg_attr (out, "stroke-width", look.width);
  g_string_append (out, "/>\n");
  if (st & OSH_STYLE_FOREIGN_ROOT)
    {
      double cx = r.x + r.w, cy = r.y;
      g_string_append (out, "<circle");
      svg_attr (out, "cx", cx);
      svg_attr (out, "cy", cy);
      g_string_append (out, " r=\"8\"");
      svg_paint (out, "fill", p->red, 1);
      g_string_append (out, "/>\n<path d=\"");
      svg_point (out, 'M', (OshPoint){ cx, cy - 4.5 });
      svg_point (out, 'L', (OshPoint){ cx, cy + 1.5 });
      g_string_append (out, "\" stroke=\"#ffffff\" stroke-width=\"2\"/>\n<circle");
      svg_attr (out, "cx", cx);
      svg_attr (out, "cy", cy + 4);
      g_string_append (out, " r=\"1.1\" fill=\"#ffffff\"/>\n");
    }
}

/* Frames, edges and boxes in world units, under the view's transform. */
static void
svg_shapes (OshScene *s, GString *out, const OshViewport *vp, double view_w, double view_h)
{
  const Palette *p = osh_scene_palette (s);
  OshRect vis = osh_viewport_visible (vp, view_w, view_h);
  char sc[G_ASCII_DTOSTR_BUF_SIZE], tx[G_ASCII_DTOSTR_BUF_SIZE], ty[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (out,
                          "<g transform=\"matrix(%s 0 0 %s %s %s)\" stroke-linejoin=\"round\">\n",
                          g_ascii_formatd (sc, sizeof sc, "%.9g", vp->scale), sc,
                          g_ascii_formatd (tx, sizeof tx, "%.9g", vp->x),
                          g_ascii_formatd (ty, sizeof ty, "%.9g", vp->y));
  for (int i = 0; i < s->lay->n_clusters; i++)
    if (intersects (s->lay->clusters[i].box, vis))
      svg_cluster (s, out, p, &s->lay->clusters[i]);
  for (int i = 0; i < s->lay->n_edges; i++)
    if (intersects (edge_rect (s, i), vis))
      svg_edge (s, out, p, i);
  for (int i = 0; i < s->lay->n_items; i++)
    if (intersects (item_rect (s, i), vis))
      svg_item (s, out, p, i);
  g_string_append (out, "</g>\n");
}

void
osh_scene_svg_append (OshScene *s, GString *out, const OshViewport *vp, double w, double h)
{
  svg_shapes (s, out, vp, w, h);
  svg_labels (s, out, vp);
}
