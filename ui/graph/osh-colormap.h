/* osh-colormap.h — one colour scale for a number per layer (probe accuracy), shared by the
 * window's graph, its legend and `offshoot render --color-by`, so all three agree.
 *
 *   uint32_t rgba = osh_colormap_rgba ((acc - lo) / (hi - lo));   // 0xRRGGBBAA, for
 *   osh_scene_set_node_fills (scene, fills, g->n_nodes);           // osh-scene.h
 *   osh_colormap_draw_bar (cr, x, y, w, h, "probe accuracy", "0.25", "1.00", dark);
 *
 * The scale is viridis (perceptually even, readable in grey and by most colour-blind eyes),
 * from dark violet (low) through teal to yellow (high). */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"

/* t in 0..1 (clamped; NaN gives grey) as 0xRRGGBBFF. */
uint32_t osh_colormap_rgba (double t);
/* A horizontal colour bar in x, y, w, h with its title above and the end labels below. */
void osh_colormap_draw_bar (cairo_t *cr, double x, double y, double w, double h, const char *title,
                            const char *lo, const char *hi, bool dark);

/* One fill per IR node (g->n_nodes, for osh_scene_set_node_fills): the nodes of layer paths[i]
 * get values[i] on the scale from lo to hi, the others 0 (their family colour). Unknown paths
 * are skipped. A new array (g_free). */
uint32_t *osh_colormap_node_fills (const OshGraph *g, const char *const *paths,
                                   const double *values, int n, double lo, double hi);
