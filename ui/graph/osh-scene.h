/* osh-scene.h — draws a laid-out layer graph with cairo; shared by the window and
 * `offshoot render`.
 *
 *   OshScene *scene = osh_scene_new (lay);              // takes over the layout
 *   osh_scene_set_styles (scene, styles, g->n_nodes);   // per IR node OshStyle flags
 *   OshViewport vp;
 *   osh_viewport_fit (&vp, osh_scene_get_layout (scene)->bounds, width, height, 16, 1.0);
 *   osh_scene_draw (scene, cr, &vp, width, height);     // only what is visible
 *   int item = osh_scene_hit_test (scene, &vp, x, y);   // an item of the layout, or -1
 *   osh_scene_free (scene);
 *
 * The scene knows nothing of the analysis: callers say what to highlight with one flag
 * word per IR node. A collapsed group shows the union of its members' flags. Text layouts
 * are built once per item and reused across frames; at small scales text is skipped.
 * Items are found through a grid index, so drawing and hit-testing cost what is visible.
 * One thread uses a scene at a time.
 */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stdint.h>

#include "osh-layout.h"

/* ---- Viewport: view = world × scale + offset ---------------------------------------------- */

typedef struct
{
  double x, y;  /* view position of the world origin */
  double scale; /* view pixels per world point */
} OshViewport;

void osh_viewport_to_view (const OshViewport *vp, double wx, double wy, double *vx, double *vy);
void osh_viewport_to_world (const OshViewport *vp, double vx, double vy, double *wx, double *wy);
/* The world rectangle a view of view_w × view_h shows. */
OshRect osh_viewport_visible (const OshViewport *vp, double view_w, double view_h);
/* Scales by `factor` keeping the world point under (vx, vy) fixed; scale clamped. */
void osh_viewport_zoom_at (OshViewport *vp, double vx, double vy, double factor, double min_scale,
                           double max_scale);
/* Fits `world` into the view with `margin` pixels around it, at most `max_scale`. */
void osh_viewport_fit (OshViewport *vp, OshRect world, double view_w, double view_h, double margin,
                       double max_scale);
/* Puts the world point (wx, wy) at the centre of the view; the scale stays. */
void osh_viewport_center_on (OshViewport *vp, double wx, double wy, double view_w, double view_h);

/* ---- Highlight styles, per IR node -------------------------------------------------------- */

typedef enum
{
  OSH_STYLE_NONE = 0,
  OSH_STYLE_SELECTED = 1 << 0,
  OSH_STYLE_SEARCH_HIT = 1 << 1,
  OSH_STYLE_HOVERED = 1 << 2,
  OSH_STYLE_NEW_HEAD = 1 << 3,     /* an attached auxiliary head */
  OSH_STYLE_DISCONNECTED = 1 << 4, /* on a path that cannot be computed from the inputs: red */
  OSH_STYLE_FOREIGN_ROOT = 1 << 5, /* the input the path comes from: red, marked */
  OSH_STYLE_UNUSED = 1 << 6,       /* not needed by any output: faded */
} OshStyle;

/* ---- Scene ------------------------------------------------------------------------------- */

/* Below this scale a box shows only its title, at 11 px (smaller or shortened to stay inside
 * the box), when it is tall enough. */
#define OSH_SCENE_TEXT_SCALE 0.75

typedef struct _OshScene OshScene;

OshScene *osh_scene_new (OshGraphLayout *lay); /* takes ownership of `lay` */
void osh_scene_free (OshScene *scene);
/* A copy to export from another thread while `scene` is drawn on this one: the layout shared
 * (read-only), styles, fills and legend copied, text caches its own (made in the thread that
 * exports: pango's font map is per thread). Only osh_scene_export and osh_scene_free may be
 * called on it. */
OshScene *osh_scene_copy (const OshScene *scene);
const OshGraphLayout *osh_scene_get_layout (const OshScene *scene);

void osh_scene_set_dark (OshScene *scene, bool dark);
/* Copies one OshStyle word per IR node (n = g->n_nodes); NULL clears every highlight. */
void osh_scene_set_styles (OshScene *scene, const uint32_t *styles, int n);
/* Changes one node's flags (hover, selection) without copying the array. */
void osh_scene_set_node_style (OshScene *scene, int node, uint32_t style);
uint32_t osh_scene_item_style (const OshScene *scene, int item);

/* Fill colours from an analysis (probe accuracy: osh-colormap.h), one 0xRRGGBBAA word per IR
 * node; alpha 0 keeps the family colour; NULL clears. A collapsed group shows the mean of its
 * coloured members. Highlight outlines still draw on top. */
void osh_scene_set_node_fills (OshScene *scene, const uint32_t *rgba, int n);
/* A colour-bar legend for those fills in exported images (below the graph); NULL title: none. */
void osh_scene_set_fill_legend (OshScene *scene, const char *title, const char *lo, const char *hi);

/* Draws the part of the scene visible in a view_w × view_h view (background included).
 * Returns the number of items drawn. */
int osh_scene_draw (OshScene *scene, cairo_t *cr, const OshViewport *vp, double view_w,
                    double view_h);

/* The item under the view point, or -1. */
int osh_scene_hit_test (const OshScene *scene, const OshViewport *vp, double vx, double vy);
/* The collapsed-group or expanded-cluster group under the view point (the innermost
 * cluster frame, or a collapsed group's box), or -1. */
int osh_scene_hit_group (const OshScene *scene, const OshViewport *vp, double vx, double vy);
/* Items whose boxes intersect `world`: writes up to `max` indices, returns how many there are. */
int osh_scene_query (const OshScene *scene, OshRect world, int *out, int max);

/* The whole graph shrunk into w × h (boxes only, proportions kept), with the view's rectangle
 * outlined; a graph too thin to show so (a tall chain) is drawn wider and scrolls with the
 * view, always showing at least four views' height around it. */
void osh_scene_draw_minimap (OshScene *scene, cairo_t *cr, double w, double h,
                             const OshViewport *vp, double view_w, double view_h);
/* The world point under a minimap point, for click-to-jump (`vp` and the view size as given
 * to osh_scene_draw_minimap). A tall graph's minimap scrolls: its height maps to the graph's
 * like a scrollbar's, so the point stays under the pointer while a drag scrolls it. */
void osh_scene_minimap_to_world (const OshScene *scene, double w, double h, const OshViewport *vp,
                                 double view_w, double view_h, double mx, double my, double *wx,
                                 double *wy);

/* The longest side of an exported PNG, in pixels: bigger scenes are scaled down to it. */
#define OSH_SCENE_PNG_MAX 16384.0

/* Writes the whole scene to PNG, SVG or PDF (chosen by the name's extension) at `scale`
 * (1.0 = one pixel per point for PNG), as it is collapsed. SVG keeps every label as a
 * <text> element; a PNG's longest side is at most OSH_SCENE_PNG_MAX. */
bool osh_scene_export (OshScene *scene, const char *path, double scale, OshError *err);
