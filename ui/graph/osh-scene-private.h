/* osh-scene-private.h — what osh-scene.c (viewport, cairo drawing, hit-testing, minimap,
 * export) and osh-scene-svg.c (the SVG writer) both need: the scene's fields, its palettes
 * and how a box or an edge looks. The two writers share the looks so an SVG shows the colours
 * and widths cairo draws. Not for use outside ui/graph/osh-scene*.c.
 */
#pragma once

#include <glib.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdint.h>

#include "osh-scene.h"

typedef struct
{
  double r, g, b;
} Rgb;

typedef struct
{
  Rgb background, text, muted, edge, cluster_fill, cluster_line, box_line;
  Rgb family[OSH_FAMILY_COUNT];
  Rgb selected, search, hovered, head, red;
} Palette;

typedef struct
{
  double cell;
  int cols, rows;
  int *start; /* cols*rows + 1 offsets into idx */
  int *idx;
} Grid;

struct _OshScene
{
  OshGraphLayout *lay;
  bool dark;
  PangoContext *text;
  PangoLayout **item_text; /* built on first draw, kept */
  PangoLayout **edge_text;
  PangoLayout **cluster_text;
  PangoLayout **title_text; /* the title alone, for zoomed-out views */
  int *title_w;             /* its width in px, unshortened */
  uint32_t *node_style;
  uint32_t *item_style;
  uint32_t *item_fill;                        /* 0xRRGGBBAA per item, alpha 0: the family colour */
  char *legend_title, *legend_lo, *legend_hi; /* the fills' legend in exports */
  Grid items, edges;
  unsigned *item_seen, *edge_seen, stamp; /* de-duplicates grid queries */
};

/* The light or the dark palette, as the scene is set. */
const Palette *osh_scene_palette (const OshScene *s);

static inline OshRect
item_rect (const OshScene *s, int i)
{
  return s->lay->items[i].box;
}

static inline OshRect
edge_rect (const OshScene *s, int i)
{
  return s->lay->edges[i].bounds;
}

static inline bool
intersects (OshRect a, OshRect b)
{
  return a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h;
}

/* A one-line layout for a frame or edge label; the caller keeps it (the scene caches them). */
PangoLayout *osh_scene_small_text (OshScene *s, const char *font_name, const char *text);

/* How an edge is drawn: red between disconnected boxes, blue at the selection, faded at
 * unused boxes. Shared by cairo and the SVG writer. */
typedef struct
{
  Rgb color;
  double alpha, width;
  bool red;
} EdgeLook;

EdgeLook osh_scene_edge_look (const OshScene *s, const Palette *p, const OshLayoutEdge *e);

/* The arrowhead: a triangle from the curve's end to the tip, as wide as a third of its
 * length; false when the tip sits on the end. */
bool osh_scene_arrow_corners (const OshLayoutEdge *e, OshPoint corners[3]);

/* How a box is drawn: its family's colour (or an analysis colour), tinted red when
 * disconnected, its outline marking hover, new heads, problems and the selection. Shared by
 * cairo and the SVG writer. */
typedef struct
{
  Rgb fill, line;
  double alpha, width;
  bool dashed; /* a new head */
} ItemLook;

ItemLook osh_scene_item_look (const OshScene *s, const Palette *p, int i);

/* Appends the scene as SVG elements for a w × h picture under `vp`: the shapes (frames, edges,
 * boxes, in drawing order) then every label as <text>. osh-scene-svg.c. */
void osh_scene_svg_append (OshScene *s, GString *out, const OshViewport *vp, double w, double h);
