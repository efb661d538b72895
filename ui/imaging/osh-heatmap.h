/* osh-heatmap.h — colouring a spatial output and laying it over the input picture.
 *
 *   OshHeatmapStyle style;
 *   osh_heatmap_style_init (&style);              // min–max range, opacity 0.5, colour bar
 *   osh_heatmap_write_png (map, img, &style, "out/aux.png", &err);   // map is (H', W')
 *
 * The colormap is Offshoot's own ramp through five colours (deep violet, blue, teal, green,
 * yellow) whose luminance rises monotonically, so a value's rank reads the same in grey. The
 * map is upsampled bilinearly (half-pixel centres) to the picture's size and blended over
 * it with the style's opacity; a colour bar with the range's end values sits on the right.
 */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stdint.h>

#include "osh-image.h"
#include "osh-tensor.h"

typedef struct
{
  bool fixed_range; /* use lo..hi; otherwise the map's finite min..max */
  float lo, hi;
  double opacity; /* of the colours over the picture, 0..1 */
  bool colorbar;
  int min_side; /* without a picture, the map is drawn at least this big (pixels) */
} OshHeatmapStyle;

void osh_heatmap_style_init (OshHeatmapStyle *style);

/* The colour of t in 0..1 (clamped; NaN is drawn grey). */
void osh_colormap (float t, uint8_t rgb[3]);

/* The finite min and max of a map (0, 0 when it has no finite value). */
void osh_heatmap_range (const OshTensor *map, float *lo, float *hi);

/* The picture (or a blank of the map's aspect when img is NULL) with the coloured map
 * over it and, if asked, a colour bar: a new ARGB32 surface. `map` has rank 2 (H', W'). */
cairo_surface_t *osh_heatmap_render (const OshTensor *map, const OshImage *img,
                                     const OshHeatmapStyle *style, OshError *err);

/* The same written as a PNG, atomically (temporary file + rename). */
bool osh_heatmap_write_png (const OshTensor *map, const OshImage *img, const OshHeatmapStyle *style,
                            const char *path, OshError *err);
