/* Image decoding (gdk-pixbuf) and preprocessing into a model input tensor. */
#include "osh-image.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OSH_IMAGE_MAX_SIDE 32768
#define OSH_IMAGE_MAX_PIXELS (INT64_C (1) << 27) /* 134 megapixels: 512 MiB as RGBA */
#define OSH_IMAGE_MAX_FILE (INT64_C (512) << 20) /* bytes of one picture file */

OshImage *
osh_image_new_rgb (int width, int height, const uint8_t *rgb, OshError *err)
{
  if (width < 1 || height < 1 || width > OSH_IMAGE_MAX_SIDE || height > OSH_IMAGE_MAX_SIDE)
    {
      osh_fail (err, OSH_ERR_LIMIT, "image size %dx%d is outside 1..%d", width, height,
                OSH_IMAGE_MAX_SIDE);
      return NULL;
    }
  OshImage *img = calloc (1, sizeof *img);
  size_t bytes = (size_t) width * (size_t) height * 3;
  if (img)
    img->rgb = malloc (bytes);
  if (!img || !img->rgb)
    {
      free (img);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a %dx%d image", width, height);
      return NULL;
    }
  img->width = width;
  img->height = height;
  if (rgb)
    memcpy (img->rgb, rgb, bytes);
  return img;
}

void
osh_image_free (OshImage *img)
{
  if (!img)
    return;
  free (img->rgb);
  free (img);
}

static OshImage *
image_from_pixbuf (const char *name, GdkPixbuf *pb, OshError *err)
{
  if (gdk_pixbuf_get_colorspace (pb) != GDK_COLORSPACE_RGB
      || gdk_pixbuf_get_bits_per_sample (pb) != 8)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: only 8-bit RGB(A) pictures are supported", name);
      return NULL;
    }
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int n = gdk_pixbuf_get_n_channels (pb), stride = gdk_pixbuf_get_rowstride (pb);
  OshImage *img = osh_image_new_rgb (w, h, NULL, err);
  if (!img)
    {
      osh_error_prefix (err, "%s: ", name);
      return NULL;
    }
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      memcpy (img->rgb + ((size_t) y * w + x) * 3, px + (size_t) y * stride + (size_t) x * n, 3);
  return img;
}

/* The decoders a model input may go through: hostile pictures meet only these (no SVG, icon,
 * XPM... loaders), chosen by the first bytes rather than by gdk-pixbuf's sniffing. */
static const char *
picture_type (const unsigned char *b, size_t n)
{
  if (n >= 8 && memcmp (b, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "png";
  if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
    return "jpeg";
  if (n >= 6 && (memcmp (b, "GIF87a", 6) == 0 || memcmp (b, "GIF89a", 6) == 0))
    return "gif";
  if (n >= 2 && b[0] == 'B' && b[1] == 'M')
    return "bmp";
  if (n >= 4 && (memcmp (b, "II*\0", 4) == 0 || memcmp (b, "MM\0*", 4) == 0))
    return "tiff";
  return NULL;
}

typedef struct
{
  const char *name;
  OshError *err;
  bool refused;
  int rows_done; /* the lowest row any decoded area reached */
} SizeCheck;

/* Called with the size from the header, before any pixel memory is allocated: a picture over
 * the limits is stopped there (size 0 makes the decoder give up). */
static void
on_size_prepared (GdkPixbufLoader *loader, int width, int height, gpointer data)
{
  SizeCheck *check = data;
  if (width < 1 || height < 1 || width > OSH_IMAGE_MAX_SIDE || height > OSH_IMAGE_MAX_SIDE
      || (int64_t) width * height > OSH_IMAGE_MAX_PIXELS)
    {
      osh_fail (
          check->err, OSH_ERR_LIMIT,
          "%s: the picture says it is %dx%d pixels; Offshoot reads 1..%d pixels a side and at most "
          "%lld in all",
          check->name, width, height, OSH_IMAGE_MAX_SIDE, (long long) OSH_IMAGE_MAX_PIXELS);
      check->refused = true;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
    }
}

/* Decoders report what they fill in; a picture whose data stops early (a cut download) leaves
 * rows untouched, and gdk-pixbuf does not call that an error. */
static void
on_area_updated (GdkPixbufLoader *loader, int x, int y, int width, int height, gpointer data)
{
  (void) loader, (void) x, (void) width;
  SizeCheck *check = data;
  if (y + height > check->rows_done)
    check->rows_done = y + height;
}

OshImage *
osh_image_load_bytes (const char *name, const void *data, size_t size, OshError *err)
{
  const char *type = picture_type (data, size);
  if (!type)
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "%s: not a PNG, JPEG, GIF, BMP or TIFF picture (by its first bytes)", name);
      return NULL;
    }
  GError *gerr = NULL;
  GdkPixbufLoader *loader = gdk_pixbuf_loader_new_with_type (type, &gerr);
  if (!loader)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: no %s decoder: %s", name, type, gerr->message);
      g_error_free (gerr);
      return NULL;
    }
  SizeCheck check = { name, err, false, 0 };
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &check);
  g_signal_connect (loader, "area-updated", G_CALLBACK (on_area_updated), &check);
  OshImage *img = NULL;
  bool decoded = gdk_pixbuf_loader_write (loader, data, size, &gerr);
  decoded = gdk_pixbuf_loader_close (loader, decoded ? &gerr : NULL) && decoded;
  GdkPixbuf *pb = decoded && !check.refused ? gdk_pixbuf_loader_get_pixbuf (loader) : NULL;
  if (pb && check.rows_done < gdk_pixbuf_get_height (pb))
    osh_fail (err, OSH_ERR_FORMAT,
              "%s: the %s picture's data ends after row %d of %d (a cut file?)", name, type,
              check.rows_done, gdk_pixbuf_get_height (pb));
  else if (pb)
    {
      /* Phone photos store their rotation in EXIF; show them the way viewers do. */
      GdkPixbuf *upright = gdk_pixbuf_apply_embedded_orientation (pb);
      img = image_from_pixbuf (name, upright ? upright : pb, err);
      if (upright)
        g_object_unref (upright);
    }
  else if (!check.refused)
    osh_fail (err, OSH_ERR_FORMAT, "%s: cannot decode the %s picture: %s", name, type,
              gerr ? gerr->message : "no image in the data");
  g_clear_error (&gerr);
  g_object_unref (loader);
  return img;
}

OshImage *
osh_image_load (const char *path, OshError *err)
{
  GError *gerr = NULL;
  char *data = NULL;
  gsize size = 0;
  GStatBuf st;
  if (g_stat (path, &st) == 0 && st.st_size > OSH_IMAGE_MAX_FILE)
    {
      osh_fail (err, OSH_ERR_LIMIT, "%s: %lld bytes is over the limit of %lld for a picture", path,
                (long long) st.st_size, (long long) OSH_IMAGE_MAX_FILE);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &size, &gerr))
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot read the picture: %s", path, gerr->message);
      g_error_free (gerr);
      return NULL;
    }
  OshImage *img = osh_image_load_bytes (path, data, size, err);
  g_free (data);
  return img;
}

void
osh_resize_axis (int src, int dst, int i, int *i0, int *i1, float *frac)
{
  double pos = ((double) i + 0.5) * ((double) src / dst) - 0.5;
  double lo = floor (pos);
  *frac = (float) (pos - lo);
  int a = (int) lo, b = (int) ceil (pos);
  *i0 = a < 0 ? 0 : a > src - 1 ? src - 1 : a;
  *i1 = b < 0 ? 0 : b > src - 1 ? src - 1 : b;
}

void
osh_preprocess_init (OshPreprocess *pp)
{
  *pp = (OshPreprocess){ .height = 224,
                         .width = 224,
                         .channels = 3,
                         .scale = 1.0f / 255.0f,
                         .mean = { 0, 0, 0 },
                         .std = { 1, 1, 1 },
                         .order = OSH_ORDER_RGB,
                         .layout = OSH_LAYOUT_CHANNELS_LAST };
}

/* The input's shape: the inferred node shape, else the InputLayer config. */
static bool
input_shape (const OshGraph *g, OshShape *s)
{
  if (g->n_inputs < 1 || g->inputs[0].node < 0 || g->inputs[0].node >= g->n_nodes)
    return false;
  const OshNode *node = &g->nodes[g->inputs[0].node];
  if (node->shapes && node->n_outputs > 0 && node->shapes[0].rank == 4)
    {
      *s = node->shapes[0];
      return true;
    }
  const json_t *cfg = g->layers[node->layer].config;
  const char *keys[] = { "batch_input_shape", "batch_shape" };
  for (size_t k = 0; k < 2; k++)
    {
      const json_t *a = json_object_get (cfg, keys[k]);
      if (json_is_array (a) && json_array_size (a) == 4)
        {
          s->rank = 4;
          for (int i = 0; i < 4; i++)
            {
              const json_t *v = json_array_get (a, (size_t) i);
              s->dim[i] = json_is_integer (v) ? json_integer_value (v) : -1;
            }
          return true;
        }
    }
  return false;
}

/* A Keras Rescaling/Normalization layer, or what exporters make of a Rescaling(1/255) or
 * (1/127.5): a Mul by a scalar of at most 1/100 or a Div (TF: RealDiv) by one of at least 100
 * (ONNX exports, Offshoot's own included, and TF graphs name no layer class, so the value
 * tells). */
static bool
is_normalizing (const OshLayer *l)
{
  if (strcmp (l->class_name, "Rescaling") == 0 || strcmp (l->class_name, "Normalization") == 0)
    return true;
  bool mul = strcmp (l->class_name, "Mul") == 0;
  bool div = strcmp (l->class_name, "Div") == 0 || strcmp (l->class_name, "RealDiv") == 0; /* TF */
  if (!(mul || div) || l->n_weights != 1 || !l->weights[0].value || !l->weights[0].value->data
      || osh_tensor_numel (l->weights[0].value) != 1)
    return false;
  float v = l->weights[0].value->data[0];
  return mul ? v > 0 && v <= 0.01f : v >= 100;
}

/* Whether a Rescaling/Normalization layer is among the first few layers after the input,
 * following the input into nested models (EfficientNet inside a functional wrapper). */
static bool
starts_with_normalization (const OshGraph *g, int from_node, int depth)
{
  if (depth > 4)
    return false;
  for (int n = 0; n < g->n_nodes; n++)
    {
      const OshNode *node = &g->nodes[n];
      bool consumes = false;
      for (int i = 0; i < node->n_inputs; i++)
        consumes |= node->inputs[i].node == from_node;
      if (!consumes)
        continue;
      const OshLayer *layer = &g->layers[node->layer];
      if (is_normalizing (layer))
        return true;
      if (layer->is_model)
        {
          for (int i = 0; i < layer->n_inputs; i++)
            if (layer->inputs[i].node >= 0
                && starts_with_normalization (g, layer->inputs[i].node, depth + 1))
              return true;
        }
      else if (starts_with_normalization (g, n, depth + 1))
        return true;
    }
  return false;
}

bool
osh_preprocess_propose (const OshGraph *g, OshPreprocess *pp)
{
  osh_preprocess_init (pp);
  OshShape s;
  if (!input_shape (g, &s))
    return false;
  /* An input may say its own layout (ONNX exports of Keras models keep NHWC inputs). */
  const char *df =
      osh_config_string (g->layers[g->nodes[g->inputs[0].node].layer].config, "data_format", NULL);
  OshLayout layout = df ? (strcmp (df, "channels_first") == 0 ? OSH_LAYOUT_CHANNELS_FIRST
                                                              : OSH_LAYOUT_CHANNELS_LAST)
                        : g->layout;
  /* A channels-first graph whose image input still ends in 1 or 3 channels reads NHWC. */
  if (!df && layout == OSH_LAYOUT_CHANNELS_FIRST && s.rank == 4 && s.dim[1] != 1 && s.dim[1] != 3
      && (s.dim[3] == 1 || s.dim[3] == 3))
    layout = OSH_LAYOUT_CHANNELS_LAST;
  bool first = layout == OSH_LAYOUT_CHANNELS_FIRST;
  int64_t c = first ? s.dim[1] : s.dim[3], h = first ? s.dim[2] : s.dim[1],
          w = first ? s.dim[3] : s.dim[2];
  pp->layout = layout;
  if (h > 0 && w > 0 && h <= OSH_IMAGE_MAX_SIDE && w <= OSH_IMAGE_MAX_SIDE)
    pp->height = (int) h, pp->width = (int) w;
  else if (h < 0 || w < 0)
    pp->height = pp->width = 0, h = w = 1; /* open sizes: the picture's own */
  if (c == 1 || c == 3)
    pp->channels = (int) c;
  /* An integer input (a TF graph model's int32 Placeholder, MoveNet's) takes pixels 0..255. */
  const char *dtype =
      osh_config_string (g->layers[g->nodes[g->inputs[0].node].layer].config, "dtype", "float32");
  pp->model_normalizes =
      strcmp (dtype, "int32") == 0 || starts_with_normalization (g, g->inputs[0].node, 0);
  if (pp->model_normalizes)
    pp->scale = 1.0f;
  return h > 0 && w > 0 && (c == 1 || c == 3);
}

void
osh_preprocess_describe (const OshPreprocess *pp, char *buf, size_t size)
{
  char dims[64];
  if (pp->height < 1 || pp->width < 1)
    snprintf (dims, sizeof dims, "the picture's size to multiples of %d, %d channel%s",
              OSH_IMAGE_OPEN_STEP, pp->channels, pp->channels == 1 ? "" : "s");
  else
    snprintf (dims, sizeof dims, "%dx%dx%d", pp->height, pp->width, pp->channels);
  snprintf (buf, size, "%s, v*%g%+g (%g..%g), mean %g,%g,%g std %g,%g,%g, %s, %s", dims, pp->scale,
            pp->offset, pp->offset, 255 * pp->scale + pp->offset, pp->mean[0], pp->mean[1],
            pp->mean[2], pp->std[0], pp->std[1], pp->std[2],
            pp->channels == 1            ? "grayscale (one channel)"
            : pp->order == OSH_ORDER_BGR ? "BGR"
                                         : "RGB",
            pp->layout == OSH_LAYOUT_CHANNELS_FIRST ? "NCHW" : "NHWC");
}

/* Resampling weights along one axis: output i takes count[i] source samples from start[i]. */
typedef struct
{
  int *start, *count;
  float *weight; /* max per output */
  int max;
} Taps;

static void
taps_free (Taps *t)
{
  if (!t)
    return;
  free (t->start);
  free (t->count);
  free (t->weight);
  free (t);
}

/* A triangle (bilinear) filter centred on each output pixel's centre in source coordinates;
 * its half-width is 1 source pixel, or the shrink factor when antialiasing a reduction.
 * Weights are renormalised at the edges, which equals clamping for plain bilinear. */
static Taps *
taps_new (int src, int dst, bool antialias)
{
  double scale = (double) src / dst;
  double support = antialias && scale > 1 ? scale : 1.0;
  Taps *t = calloc (1, sizeof *t);
  if (!t)
    return NULL;
  t->max = (int) ceil (2 * support) + 2;
  t->start = calloc ((size_t) dst, sizeof (int));
  t->count = calloc ((size_t) dst, sizeof (int));
  t->weight = calloc ((size_t) dst * (size_t) t->max, sizeof (float));
  if (!t->start || !t->count || !t->weight)
    {
      taps_free (t);
      return NULL;
    }
  for (int i = 0; i < dst; i++)
    {
      double centre = (i + 0.5) * scale;
      int lo = (int) floor (centre - support), hi = (int) ceil (centre + support);
      lo = lo < 0 ? 0 : lo;
      hi = hi > src ? src : hi;
      if (hi - lo > t->max)
        hi = lo + t->max;
      double sum = 0;
      float *w = t->weight + (size_t) i * t->max;
      for (int j = lo; j < hi; j++)
        {
          double d = fabs ((j + 0.5 - centre) / support);
          w[j - lo] = (float) (d < 1 ? 1 - d : 0);
          sum += w[j - lo];
        }
      if (sum <= 0) /* cannot happen with support ≥ 1; keep the nearest sample */
        {
          lo = (int) fmin (floor (centre), src - 1), hi = lo + 1, w[0] = 1, sum = 1;
        }
      for (int j = 0; j < hi - lo; j++)
        w[j] = (float) (w[j] / sum);
      t->start[i] = lo;
      t->count[i] = hi - lo;
    }
  return t;
}

/* A side of a picture for a model with open sizes: the nearest multiple of the step, since
 * detectors and segmenters halve their maps several times and join them again. */
static int
open_side (int side)
{
  int n = (side + OSH_IMAGE_OPEN_STEP / 2) / OSH_IMAGE_OPEN_STEP;
  return (n < 1 ? 1 : n) * OSH_IMAGE_OPEN_STEP;
}

OshTensor *
osh_image_to_tensor (const OshImage *img, const OshPreprocess *pp, OshError *err)
{
  if (pp->channels != 1 && pp->channels != 3)
    {
      osh_fail (err, OSH_ERR_USAGE, "preprocessing: %d channels (expected 1 or 3)", pp->channels);
      return NULL;
    }
  int H = pp->height > 0 ? pp->height : open_side (img->height);
  int W = pp->width > 0 ? pp->width : open_side (img->width), C = pp->channels;
  if (pp->height < 0 || pp->width < 0 || H > OSH_IMAGE_MAX_SIDE || W > OSH_IMAGE_MAX_SIDE)
    {
      osh_fail (err, OSH_ERR_USAGE, "preprocessing: size %dx%d is outside 1..%d", H, W,
                OSH_IMAGE_MAX_SIDE);
      return NULL;
    }
  for (int c = 0; c < pp->channels; c++)
    if (pp->std[c] == 0.0f || !isfinite (pp->std[c]))
      {
        osh_fail (err, OSH_ERR_USAGE, "preprocessing: std of channel %d is %g", c, pp->std[c]);
        return NULL;
      }
  bool first = pp->layout == OSH_LAYOUT_CHANNELS_FIRST;
  OshShape s = first ? osh_shape_make (4, (int64_t[]){ 1, C, H, W })
                     : osh_shape_make (4, (int64_t[]){ 1, H, W, C });
  bool antialias = pp->resize != OSH_RESIZE_BILINEAR_TF;
  Taps *tx = taps_new (img->width, W, antialias), *ty = taps_new (img->height, H, antialias);
  float *rows = malloc ((size_t) img->height * (size_t) W * 3 * sizeof (float));
  OshTensor *t = tx && ty && rows ? osh_tensor_new (&s, err) : NULL;
  if (!t)
    {
      if (tx && ty && rows)
        osh_error_prefix (err, "preprocessing: ");
      else
        osh_fail (err, OSH_ERR_NOMEM, "preprocessing: out of memory for resizing to %dx%d", H, W);
      taps_free (tx);
      taps_free (ty);
      free (rows);
      return NULL;
    }
  /* Separable: each source row resampled to W columns, then the columns to H rows. */
  for (int y = 0; y < img->height; y++)
    for (int x = 0; x < W; x++)
      {
        const float *w = tx->weight + (size_t) x * tx->max;
        const uint8_t *src = img->rgb + ((size_t) y * img->width + tx->start[x]) * 3;
        float acc[3] = { 0, 0, 0 };
        for (int k = 0; k < tx->count[x]; k++)
          for (int c = 0; c < 3; c++)
            acc[c] += w[k] * src[k * 3 + c];
        memcpy (rows + ((size_t) y * W + x) * 3, acc, sizeof acc);
      }
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        const float *w = ty->weight + (size_t) y * ty->max;
        float rgb[3] = { 0, 0, 0 };
        for (int k = 0; k < ty->count[y]; k++)
          for (int c = 0; c < 3; c++)
            rgb[c] += w[k] * rows[((size_t) (ty->start[y] + k) * W + x) * 3 + c];
        float v[3];
        if (C == 1)
          v[0] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
        else
          for (int k = 0; k < 3; k++)
            v[k] = rgb[pp->order == OSH_ORDER_BGR ? 2 - k : k];
        for (int c = 0; c < C; c++)
          {
            float value = ((v[c] * pp->scale + pp->offset) - pp->mean[c]) / pp->std[c];
            size_t at = first ? ((size_t) c * H + y) * W + x : ((size_t) y * W + x) * C + c;
            t->data[at] = value;
          }
      }
  taps_free (tx);
  taps_free (ty);
  free (rows);
  return t;
}
