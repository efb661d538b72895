/* Heatmaps: Offshoot's colour ramp, bilinear upsampling, overlay and colour bar with cairo. */
#include "osh-heatmap.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Five stops chosen so luminance (BT.601) rises: 28, 80, 113, 159, 214. */
static const uint8_t ramp[5][3] = {
  { 45, 10, 75 },   /* deep violet */
  { 50, 80, 155 },  /* blue */
  { 30, 150, 140 }, /* teal */
  { 120, 195, 75 }, /* green */
  { 250, 228, 45 }, /* yellow */
};

void
osh_heatmap_style_init (OshHeatmapStyle *style)
{
  *style = (OshHeatmapStyle){
    .fixed_range = false, .lo = 0, .hi = 1, .opacity = 0.5, .colorbar = true, .min_side = 256
  };
}

void
osh_colormap (float t, uint8_t rgb[3])
{
  if (isnan (t))
    {
      rgb[0] = rgb[1] = rgb[2] = 128;
      return;
    }
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  float pos = t * 4.0f;
  int i = pos >= 4.0f ? 3 : (int) pos;
  float f = pos - (float) i;
  for (int k = 0; k < 3; k++)
    rgb[k] = (uint8_t) lrintf (ramp[i][k] + (ramp[i + 1][k] - ramp[i][k]) * f);
}

void
osh_heatmap_range (const OshTensor *map, float *lo, float *hi)
{
  bool any = false;
  *lo = *hi = 0;
  for (int64_t i = 0; i < osh_tensor_numel (map); i++)
    {
      float v = map->data[i];
      if (!isfinite (v))
        continue;
      if (!any || v < *lo)
        *lo = v;
      if (!any || v > *hi)
        *hi = v;
      any = true;
    }
}

#define BAR_WIDTH 18
#define BAR_MARGIN 8
#define BAR_TEXT 64

static void
draw_colorbar (cairo_t *cr, int x, int height, float lo, float hi)
{
  int top = BAR_MARGIN, bottom = height - BAR_MARGIN, span = bottom - top;
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, x, 0, BAR_WIDTH + BAR_TEXT + 2 * BAR_MARGIN, height);
  cairo_fill (cr);
  for (int y = 0; y < span; y++)
    {
      uint8_t c[3];
      osh_colormap (1.0f - (float) y / (float) (span > 1 ? span - 1 : 1), c);
      cairo_set_source_rgb (cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
      cairo_rectangle (cr, x + BAR_MARGIN, top + y, BAR_WIDTH, 1);
      cairo_fill (cr);
    }
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x + BAR_MARGIN + 0.5, top + 0.5, BAR_WIDTH - 1, span - 1);
  cairo_stroke (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  char text[32];
  snprintf (text, sizeof text, "%.4g", hi);
  cairo_move_to (cr, x + 2 * BAR_MARGIN + BAR_WIDTH, top + 10);
  cairo_show_text (cr, text);
  snprintf (text, sizeof text, "%.4g", lo);
  cairo_move_to (cr, x + 2 * BAR_MARGIN + BAR_WIDTH, bottom);
  cairo_show_text (cr, text);
}

cairo_surface_t *
osh_heatmap_render (const OshTensor *map, const OshImage *img, const OshHeatmapStyle *style,
                    OshError *err)
{
  if (map->shape.rank != 2 || map->shape.dim[0] < 1 || map->shape.dim[1] < 1)
    {
      osh_fail (err, OSH_ERR_SHAPE, "a heatmap needs a (height, width) map, not rank %d",
                map->shape.rank);
      return NULL;
    }
  int mh = (int) map->shape.dim[0], mw = (int) map->shape.dim[1];
  int w, h;
  if (img)
    w = img->width, h = img->height;
  else
    {
      /* Whole-number upscaling of the map to at least min_side on its shorter side. */
      int side = mh < mw ? mh : mw;
      int k = side >= style->min_side ? 1 : (style->min_side + side - 1) / side;
      w = mw * k, h = mh * k;
      if (w > 8192 || h > 8192)
        w = mw, h = mh;
    }
  float lo = style->lo, hi = style->hi;
  if (!style->fixed_range)
    osh_heatmap_range (map, &lo, &hi);
  float span = hi > lo ? hi - lo : 1.0f;
  double alpha = img ? (style->opacity < 0 ? 0 : style->opacity > 1 ? 1 : style->opacity) : 1.0;

  int bar = style->colorbar ? BAR_WIDTH + BAR_TEXT + 2 * BAR_MARGIN : 0;
  cairo_surface_t *out = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w + bar, h);
  if (cairo_surface_status (out) != CAIRO_STATUS_SUCCESS)
    {
      osh_fail (err, OSH_ERR_NOMEM, "cannot make a %dx%d picture: %s", w + bar, h,
                cairo_status_to_string (cairo_surface_status (out)));
      cairo_surface_destroy (out);
      return NULL;
    }
  cairo_surface_flush (out);
  unsigned char *px = cairo_image_surface_get_data (out);
  int stride = cairo_image_surface_get_stride (out);
  for (int y = 0; y < h; y++)
    {
      int y0, y1;
      float fy;
      osh_resize_axis (mh, h, y, &y0, &y1, &fy);
      uint32_t *row = (uint32_t *) (px + (size_t) y * stride);
      for (int x = 0; x < w; x++)
        {
          int x0, x1;
          float fx;
          osh_resize_axis (mw, w, x, &x0, &x1, &fx);
          const float *m = map->data;
          float top = m[y0 * mw + x0] + (m[y0 * mw + x1] - m[y0 * mw + x0]) * fx;
          float bottom = m[y1 * mw + x0] + (m[y1 * mw + x1] - m[y1 * mw + x0]) * fx;
          uint8_t c[3];
          osh_colormap ((top + (bottom - top) * fy - lo) / span, c);
          double under[3] = { 0, 0, 0 };
          if (img)
            for (int k = 0; k < 3; k++)
              under[k] = img->rgb[((size_t) y * img->width + x) * 3 + k];
          uint32_t v = 0;
          for (int k = 0; k < 3; k++)
            {
              double mix = under[k] * (1 - alpha) + c[k] * alpha;
              v = v << 8 | (uint32_t) lrint (mix);
            }
          row[x] = v;
        }
    }
  cairo_surface_mark_dirty (out);
  if (bar)
    {
      cairo_t *cr = cairo_create (out);
      draw_colorbar (cr, w, h, lo, hi);
      cairo_destroy (cr);
    }
  return out;
}

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

bool
osh_heatmap_write_png (const OshTensor *map, const OshImage *img, const OshHeatmapStyle *style,
                       const char *path, OshError *err)
{
  cairo_surface_t *s = osh_heatmap_render (map, img, style, err);
  if (!s)
    return false;
  GByteArray *png = g_byte_array_new ();
  cairo_status_t st = cairo_surface_write_to_png_stream (s, append_bytes, png);
  cairo_surface_destroy (s);
  bool ok = st == CAIRO_STATUS_SUCCESS;
  if (!ok)
    osh_fail (err, OSH_ERR_IO, "%s: cannot encode the PNG: %s", path, cairo_status_to_string (st));
  GError *gerr = NULL;
  /* GLib writes a temporary file beside the target and renames it into place. */
  if (ok
      && !g_file_set_contents_full (path, (const char *) png->data, (gssize) png->len,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0666, &gerr))
    {
      ok = false;
      osh_fail (err, OSH_ERR_IO, "%s", gerr->message);
      g_error_free (gerr);
    }
  g_byte_array_unref (png);
  return ok;
}
