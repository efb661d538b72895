/* Image decoding, preprocessing and heatmaps. Decoding is checked against ImageMagick's
 * channel means of the corpus photos; preprocessing and colouring against hand-computed values. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "osh-heatmap.h"
#include "osh-image.h"
#include "osh-npy.h"
#include "osh-test.h"

/* `identify -format "%w %h %[fx:mean.r*255] ..."` (ImageMagick 6.9, libjpeg-turbo). */
static void
test_decode_jpeg (void)
{
  static const struct
  {
    const char *name;
    int w, h;
    double mean[3];
  } photos[] = {
    { "12_angry_men.jpg", 1280, 720, { 102.531, 96.2323, 96.1969 } },
    { "emotion_classification.jpg", 1000, 1000, { 121.953, 121.953, 121.953 } },
    { "test_image.jpg", 2048, 1536, { 121.837, 124.925, 134.815 } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      char *rel = g_build_filename ("keras2/face_classification", photos[i].name, NULL);
      char *path = osh_test_corpus (rel);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_test_skip ("corpus not present");
          g_free (path);
          g_free (rel);
          return;
        }
      OshError err = { 0 };
      OshImage *img = osh_image_load (path, &err);
      g_assert_nonnull (img);
      g_assert_cmpint (img->width, ==, photos[i].w);
      g_assert_cmpint (img->height, ==, photos[i].h);
      for (int k = 0; k < 3; k++)
        {
          double sum = 0;
          size_t n = (size_t) img->width * img->height;
          for (size_t p = 0; p < n; p++)
            sum += img->rgb[p * 3 + k];
          g_assert_cmpfloat_with_epsilon (sum / n, photos[i].mean[k], 0.5);
        }
      osh_image_free (img);
      g_free (path);
      g_free (rel);
    }
  OshError err = { 0 };
  g_assert_null (osh_image_load ("/nonexistent/x.png", &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_IO);
  g_assert_null (osh_image_load_bytes ("junk.png", "not a picture at all", 20, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "junk.png"));
}

/* 2×1 picture: red (200, 100, 0) and (0, 50, 250). */
static OshImage *
two_pixels (void)
{
  return osh_image_new_rgb (2, 1, (uint8_t[]){ 200, 100, 0, 0, 50, 250 }, NULL);
}

static void
test_preprocess_steps (void)
{
  OshError err = { 0 };
  OshImage *img = two_pixels ();
  OshPreprocess pp;
  osh_preprocess_init (&pp);
  pp.height = 1, pp.width = 2, pp.scale = 2.0f / 255.0f, pp.offset = -1.0f;
  pp.mean[0] = 0.5f, pp.std[2] = 2.0f, pp.order = OSH_ORDER_BGR,
  pp.layout = OSH_LAYOUT_CHANNELS_FIRST;
  OshTensor *t = osh_image_to_tensor (img, &pp, &err);
  g_assert_nonnull (t);
  g_assert_cmpint (t->shape.dim[1], ==, 3);
  g_assert_cmpint (t->shape.dim[2], ==, 1);
  g_assert_cmpint (t->shape.dim[3], ==, 2);
  /* NCHW, channel 0 = blue: (0*2/255-1-0.5, 250*2/255-1-0.5); channel 2 = red halved. */
  const float want[6] = {
    -1.5f, 500.0f / 255 - 1.5f, 200.0f / 255 - 1, 100.0f / 255 - 1, (400.0f / 255 - 1) / 2, -0.5f
  };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (t->data[i], want[i], 1e-6);
  osh_tensor_free (t);

  osh_preprocess_init (&pp);
  pp.height = 1, pp.width = 2, pp.channels = 1, pp.scale = 1;
  t = osh_image_to_tensor (img, &pp, &err);
  g_assert_cmpint (t->shape.dim[3], ==, 1);
  g_assert_cmpfloat_with_epsilon (t->data[0], 0.299 * 200 + 0.587 * 100, 1e-4);
  g_assert_cmpfloat_with_epsilon (t->data[1], 0.587 * 50 + 0.114 * 250, 1e-4);
  osh_tensor_free (t);

  /* Upscaling 2 → 4 with half-pixel centres: 0.25/0.75 blends inside, edges clamp. */
  pp.width = 4;
  t = osh_image_to_tensor (img, &pp, &err);
  float a = t->data[0], b = t->data[3];
  g_assert_cmpfloat_with_epsilon (t->data[1], 0.75f * a + 0.25f * b, 1e-4);
  g_assert_cmpfloat_with_epsilon (t->data[2], 0.25f * a + 0.75f * b, 1e-4);
  osh_tensor_free (t);

  pp.channels = 2;
  g_assert_null (osh_image_to_tensor (img, &pp, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  osh_image_free (img);
}

/* Against tf.image.resizeBilinear (half-pixel centres) on random 7×11 pixels
 * (fixtures/resize_bilinear, made by tools/reference/parity-make-fixtures.mjs). */
static void
test_resize_vs_tfjs (void)
{
  OshError err = { 0 };
  char *path = osh_test_fixture ("parity/fixtures/resize_bilinear/input.npy");
  OshTensor *px = osh_npy_read (path, &err);
  g_free (path);
  g_assert_nonnull (px);
  uint8_t rgb[7 * 11 * 3];
  for (int i = 0; i < 7 * 11 * 3; i++)
    rgb[i] = (uint8_t) px->data[i];
  OshImage *img = osh_image_new_rgb (11, 7, rgb, &err);
  const int sizes[2][2] = { { 5, 16 }, { 15, 23 } };
  for (int k = 0; k < 2; k++)
    {
      char *rel = g_strdup_printf ("parity/fixtures/resize_bilinear/output_%dx%d.npy", sizes[k][0],
                                   sizes[k][1]);
      path = osh_test_fixture (rel);
      OshTensor *want = osh_npy_read (path, &err);
      g_assert_nonnull (want);
      OshPreprocess pp;
      osh_preprocess_init (&pp);
      pp.height = sizes[k][0], pp.width = sizes[k][1], pp.scale = 1;
      /* The tf mode always equals tf.image.resize; the default (antialiased) mode only when
       * enlarging in both directions (15x23). */
      for (int mode = 0; mode < 2; mode++)
        {
          pp.resize = mode ? OSH_RESIZE_BILINEAR : OSH_RESIZE_BILINEAR_TF;
          OshTensor *got = osh_image_to_tensor (img, &pp, &err);
          g_assert_cmpint (osh_tensor_numel (got), ==, osh_tensor_numel (want));
          double max_diff = 0;
          for (int64_t i = 0; i < osh_tensor_numel (want); i++)
            max_diff = fmax (max_diff, fabs (got->data[i] - want->data[i]));
          if (mode == 0 || k == 1)
            g_assert_cmpfloat (max_diff, <, 1e-3);
          else /* shrinking 7 → 5 rows: the antialiased result differs */
            g_assert_cmpfloat (max_diff, >, 1.0);
          osh_tensor_free (got);
        }
      osh_tensor_free (want);
      g_free (path);
      g_free (rel);
    }
  osh_image_free (img);
  osh_tensor_free (px);
}

/* A one-pixel checkerboard shrunk 64 → 7 is mid-grey when antialiased; plain bilinear takes
 * nearly single pixels (sample positions 4.07, 13.2, ...) and aliases to near black/white. */
static void
test_resize_antialias (void)
{
  OshError err = { 0 };
  uint8_t rgb[64 * 64 * 3];
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++)
      memset (rgb + (y * 64 + x) * 3, (x + y) % 2 ? 255 : 0, 3);
  OshImage *img = osh_image_new_rgb (64, 64, rgb, &err);
  OshPreprocess pp;
  osh_preprocess_init (&pp);
  pp.height = pp.width = 7, pp.scale = 1;
  OshTensor *t = osh_image_to_tensor (img, &pp, &err);
  for (int i = 0; i < 7 * 7 * 3; i++)
    g_assert_cmpfloat_with_epsilon (t->data[i], 127.5, 12.0);
  osh_tensor_free (t);
  pp.resize = OSH_RESIZE_BILINEAR_TF;
  t = osh_image_to_tensor (img, &pp, &err);
  double worst = 0;
  for (int i = 0; i < 7 * 7 * 3; i++)
    worst = fmax (worst, fabs (t->data[i] - 127.5));
  g_assert_cmpfloat (worst, >, 60.0);
  osh_tensor_free (t);
  osh_image_free (img);
}

static OshGraph *
input_graph (const char *second_class)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  json_t *cfg = json_pack ("{s:[n,i,i,i]}", "batch_input_shape", 48, 40, 1);
  int in = osh_graph_add_layer (g, -1, "input_1", "InputLayer", cfg, &err);
  int in_node = osh_graph_add_node (g, in, NULL, 0, 1, &err);
  int next = osh_graph_add_layer (g, -1, "first", second_class, NULL, &err);
  OshRef x = { in_node, 0 };
  int next_node = osh_graph_add_node (g, next, &x, 1, 1, &err);
  g_assert_cmpint (next_node, >=, 0);
  g_assert_true (osh_graph_set_io (g, -1, &x, 1, &(OshRef){ next_node, 0 }, 1, &err));
  return g;
}

static void
test_propose (void)
{
  OshPreprocess pp;
  OshGraph *g = input_graph ("Conv2D");
  g_assert_true (osh_preprocess_propose (g, &pp));
  g_assert_cmpint (pp.height, ==, 48);
  g_assert_cmpint (pp.width, ==, 40);
  g_assert_cmpint (pp.channels, ==, 1);
  g_assert_cmpfloat (pp.scale, ==, 1.0f / 255.0f);
  g_assert_false (pp.model_normalizes);
  osh_graph_free (g);
  g = input_graph ("Rescaling");
  g_assert_true (osh_preprocess_propose (g, &pp));
  g_assert_true (pp.model_normalizes);
  g_assert_cmpfloat (pp.scale, ==, 1.0f);
  char text[200];
  osh_preprocess_describe (&pp, text, sizeof text);
  g_assert_true (g_str_has_prefix (text, "48x40x1, v*1+0 (0..255)"));
  osh_graph_free (g);
}

static double
luminance (const uint8_t c[3])
{
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

static void
test_colormap (void)
{
  uint8_t prev[3], c[3];
  osh_colormap (0, prev);
  for (int i = 1; i <= 100; i++)
    {
      osh_colormap (i / 100.0f, c);
      g_assert_cmpfloat (luminance (c), >, luminance (prev));
      memcpy (prev, c, 3);
    }
  osh_colormap (-5, c);
  osh_colormap (0, prev);
  g_assert_cmpmem (c, 3, prev, 3);
  osh_colormap (NAN, c);
  g_assert_cmpint (c[0], ==, 128);
}

static uint32_t
pixel (cairo_surface_t *s, int x, int y)
{
  return ((uint32_t *) (cairo_image_surface_get_data (s)
                        + y * cairo_image_surface_get_stride (s)))[x]
         & 0xffffff;
}

static uint32_t
packed (float t, const uint8_t *under, double alpha)
{
  uint8_t c[3];
  osh_colormap (t, c);
  uint32_t v = 0;
  for (int k = 0; k < 3; k++)
    v = v << 8 | (uint32_t) lrint ((under ? under[k] : 0) * (1 - alpha) + c[k] * alpha);
  return v;
}

static void
test_heatmap_render (void)
{
  OshError err = { 0 };
  OshShape s = osh_shape_make (2, (int64_t[]){ 2, 2 });
  OshTensor *map = osh_tensor_new (&s, &err);
  map->data[0] = -1, map->data[1] = 3, map->data[2] = 1, map->data[3] = NAN;
  float lo, hi;
  osh_heatmap_range (map, &lo, &hi);
  g_assert_cmpfloat (lo, ==, -1);
  g_assert_cmpfloat (hi, ==, 3);
  map->data[3] = 1;

  OshHeatmapStyle style;
  osh_heatmap_style_init (&style);
  style.colorbar = false;
  style.min_side = 8;
  cairo_surface_t *out = osh_heatmap_render (map, NULL, &style, &err);
  g_assert_nonnull (out);
  g_assert_cmpint (cairo_image_surface_get_width (out), ==, 8);
  g_assert_cmpint (cairo_image_surface_get_height (out), ==, 8);
  g_assert_cmphex (pixel (out, 0, 0), ==, packed (0, NULL, 1)); /* min, clamped corner */
  g_assert_cmphex (pixel (out, 7, 0), ==, packed (1, NULL, 1)); /* max */
  g_assert_cmphex (pixel (out, 0, 7), ==, packed (0.5f, NULL, 1));
  cairo_surface_destroy (out);

  /* Over a 4×4 grey picture at opacity 0.25 with a fixed range 0..2. */
  uint8_t grey[48];
  memset (grey, 100, sizeof grey);
  OshImage *img = osh_image_new_rgb (4, 4, grey, &err);
  style.opacity = 0.25, style.fixed_range = true, style.lo = 0, style.hi = 2;
  out = osh_heatmap_render (map, img, &style, &err);
  g_assert_cmpint (cairo_image_surface_get_width (out), ==, 4);
  g_assert_cmphex (pixel (out, 0, 0), ==, packed (0, grey, 0.25));
  g_assert_cmphex (pixel (out, 3, 0), ==, packed (1, grey, 0.25));
  /* Pixel (0, 3): both sample positions clamp to map row 1, column 0, value 1 → mid-range. */
  g_assert_cmphex (pixel (out, 0, 3), ==, packed (0.5f, grey, 0.25));
  cairo_surface_destroy (out);

  /* Written to PNG with a colour bar, readable by gdk-pixbuf. */
  style.colorbar = true;
  char *dir = g_dir_make_tmp ("osh-heatmap-XXXXXX", NULL);
  char *path = g_build_filename (dir, "map.png", NULL);
  g_assert_true (osh_heatmap_write_png (map, img, &style, path, &err));
  GdkPixbuf *pb = gdk_pixbuf_new_from_file (path, NULL);
  g_assert_nonnull (pb);
  g_assert_cmpint (gdk_pixbuf_get_height (pb), ==, 4);
  g_assert_cmpint (gdk_pixbuf_get_width (pb), >, 4);
  g_object_unref (pb);
  char *bad = g_build_filename (dir, "missing", "map.png", NULL);
  g_assert_false (osh_heatmap_write_png (map, img, &style, bad, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_IO);
  g_remove (path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (bad);
  g_free (path);
  g_free (dir);
  osh_image_free (img);
  osh_tensor_free (map);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/imaging/decode/jpeg-vs-imagemagick", test_decode_jpeg);
  g_test_add_func ("/imaging/preprocess/steps", test_preprocess_steps);
  g_test_add_func ("/imaging/preprocess/resize-vs-tfjs", test_resize_vs_tfjs);
  g_test_add_func ("/imaging/preprocess/antialias", test_resize_antialias);
  g_test_add_func ("/imaging/preprocess/propose", test_propose);
  g_test_add_func ("/imaging/heatmap/colormap", test_colormap);
  g_test_add_func ("/imaging/heatmap/render", test_heatmap_render);
  return g_test_run ();
}
