/* offshoot samples — write the bundled sample images, their masks, labels.txt and the tour's
 * model; with --train N, a seeded training set of N new pictures in the default model's world.
 *
 * The samples live in the data GResource under /io/offshoot/Offshoot/samples/ (made by
 * tools/train-default-model/train.mjs): two held-out images per class of the default model,
 * each with its segmentation mask (NAME-mask.png), and model.h5, the README tour's classifier
 * around a nested backbone (tests/edit/fixtures/seed). */
#include <cairo.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cli.h"

#define SAMPLES_RESOURCE "/io/offshoot/Offshoot/samples"

/* The default model's world, drawn as tools/train-default-model/train.py's make_image draws it
 * (the same shapes, sizes, colours, gradient and noise; GLib's seeded Mersenne Twister in place
 * of numpy's generator, so the pictures are new ones of the same kind). */
enum
{
  SHAPE_SIZE = 64,
  SHAPE_CLASSES = 4,
};
static const char *const shape_classes[SHAPE_CLASSES] = { "circle", "square", "triangle", "cross" };

typedef struct
{
  double x, y;
} Point;

/* Crossing rule at one pixel centre. */
static bool
inside_polygon (const Point *p, int n, double px, double py)
{
  bool inside = false;
  for (int i = 0, j = n - 1; i < n; j = i++)
    if ((p[i].y > py) != (p[j].y > py)
        && px < (p[j].x - p[i].x) * (py - p[i].y) / (p[j].y - p[i].y) + p[i].x)
      inside = !inside;
  return inside;
}

/* One picture of class `label`: rgb is SIZE×SIZE×3, mask SIZE×SIZE (0 or 255). */
static void
draw_shape (GRand *rng, int label, uint8_t *rgb, uint8_t *mask)
{
  static const Point square[] = {
    { -0.75, -0.75 }, { 0.75, -0.75 }, { 0.75, 0.75 }, { -0.75, 0.75 }
  };
  static const Point cross[] = { { -0.3, -1 },  { 0.3, -1 },  { 0.3, -0.3 }, { 1, -0.3 },
                                 { 1, 0.3 },    { 0.3, 0.3 }, { 0.3, 1 },    { -0.3, 1 },
                                 { -0.3, 0.3 }, { -1, 0.3 },  { -1, -0.3 },  { -0.3, -0.3 } };
  Point triangle[3];
  for (int k = 0; k < 3; k++)
    triangle[k] = (Point){ cos (-G_PI / 2 + k * 2 * G_PI / 3), sin (-G_PI / 2 + k * 2 * G_PI / 3) };

  double bg_a[3], bg_b[3], fg[3];
  for (int k = 0; k < 3; k++)
    bg_a[k] = g_rand_int_range (rng, 0, 256);
  for (int k = 0; k < 3; k++)
    bg_b[k] = g_rand_int_range (rng, 0, 256);
  /* Keep the shape visible against both background colours. */
  for (int tries = 0; tries <= 20; tries++)
    {
      for (int k = 0; k < 3; k++)
        fg[k] = g_rand_int_range (rng, 0, 256);
      double da = 0, db = 0;
      for (int k = 0; k < 3; k++)
        da += (fg[k] - bg_a[k]) * (fg[k] - bg_a[k]), db += (fg[k] - bg_b[k]) * (fg[k] - bg_b[k]);
      if (sqrt (da) + sqrt (db) >= 220)
        break;
    }
  double r = 10 + g_rand_double (rng) * 13;
  double cx = r + 2 + g_rand_double (rng) * (SHAPE_SIZE - 2 * r - 4);
  double cy = r + 2 + g_rand_double (rng) * (SHAPE_SIZE - 2 * r - 4);
  double angle = g_rand_double (rng) * 2 * G_PI, grad = g_rand_double (rng) * 2 * G_PI;

  const Point *unit = label == 1 ? square : label == 2 ? triangle : cross;
  int n = label == 1 ? 4 : label == 2 ? 3 : 12;
  Point poly[12];
  for (int k = 0; label != 0 && k < n; k++)
    poly[k] = (Point){ cx + r * (unit[k].x * cos (angle) - unit[k].y * sin (angle)),
                       cy + r * (unit[k].x * sin (angle) + unit[k].y * cos (angle)) };
  for (int y = 0; y < SHAPE_SIZE; y++)
    for (int x = 0; x < SHAPE_SIZE; x++)
      {
        double px = x + 0.5, py = y + 0.5;
        bool in = label == 0 ? hypot (px - cx, py - cy) <= r : inside_polygon (poly, n, px, py);
        double t =
            0.5
            + 0.5 * ((px / SHAPE_SIZE - 0.5) * cos (grad) + (py / SHAPE_SIZE - 0.5) * sin (grad));
        for (int k = 0; k < 3; k++)
          {
            double v = in ? fg[k] : bg_a[k] * (1 - t) + bg_b[k] * t;
            v = nearbyint (v + (g_rand_double (rng) - 0.5) * 40);
            rgb[(y * SHAPE_SIZE + x) * 3 + k] = (uint8_t) CLAMP (v, 0, 255);
          }
        mask[y * SHAPE_SIZE + x] = in ? 255 : 0;
      }
}

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* Writes SIZE×SIZE pixels, RGB (channels 3) or greyscale (1), as a PNG at path. */
static bool
write_png (const char *path, const uint8_t *pixels, int channels, OshError *err)
{
  /* cairo writes A8 as an 8-bit greyscale PNG and RGB24 as 8-bit RGB. */
  cairo_surface_t *s = cairo_image_surface_create (
      channels == 1 ? CAIRO_FORMAT_A8 : CAIRO_FORMAT_RGB24, SHAPE_SIZE, SHAPE_SIZE);
  cairo_surface_flush (s);
  unsigned char *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  for (int y = 0; y < SHAPE_SIZE; y++)
    for (int x = 0; x < SHAPE_SIZE; x++)
      {
        const uint8_t *p = pixels + (y * SHAPE_SIZE + x) * channels;
        if (channels == 1)
          data[y * stride + x] = p[0];
        else
          ((uint32_t *) (data + y * stride))[x] = (uint32_t) p[0] << 16 | p[1] << 8 | p[2];
      }
  cairo_surface_mark_dirty (s);
  GByteArray *png = g_byte_array_new ();
  cairo_status_t st = cairo_surface_write_to_png_stream (s, append_bytes, png);
  cairo_surface_destroy (s);
  GError *error = NULL;
  bool ok = st == CAIRO_STATUS_SUCCESS
            && g_file_set_contents_full (path, (const char *) png->data, (gssize) png->len,
                                         G_FILE_SET_CONTENTS_CONSISTENT, 0666, &error);
  if (!ok)
    osh_fail (err, OSH_ERR_IO, "%s: %s", path,
              error ? error->message : cairo_status_to_string (st));
  g_clear_error (&error);
  g_byte_array_unref (png);
  return ok;
}

/* DIR/CLASS/NNNN.png with DIR/CLASS/NNNN-mask.png beside it, classes in turn (picture i is of
 * class i mod 4), as `offshoot fit --data DIR` reads them. */
static int
write_training_set (const char *cmd, const char *dir, int count, guint32 seed, bool json)
{
  OshError err = { 0 };
  for (int c = 0; c < SHAPE_CLASSES; c++)
    {
      char *folder = g_build_filename (dir, shape_classes[c], NULL);
      int made = g_mkdir_with_parents (folder, 0755);
      if (made != 0)
        osh_fail (&err, OSH_ERR_IO, "%s: cannot create the folder: %s", folder, g_strerror (errno));
      g_free (folder);
      if (made != 0)
        return osh_cli_report (cmd, &err);
    }
  GRand *rng = g_rand_new_with_seed (seed);
  uint8_t rgb[SHAPE_SIZE * SHAPE_SIZE * 3], mask[SHAPE_SIZE * SHAPE_SIZE];
  bool ok = true;
  for (int i = 0; i < count && ok; i++)
    {
      int label = i % SHAPE_CLASSES;
      draw_shape (rng, label, rgb, mask);
      char name[32], mask_name[40];
      g_snprintf (name, sizeof name, "%04d.png", i);
      g_snprintf (mask_name, sizeof mask_name, "%04d-mask.png", i);
      char *picture = g_build_filename (dir, shape_classes[label], name, NULL);
      char *mask_path = g_build_filename (dir, shape_classes[label], mask_name, NULL);
      ok = write_png (picture, rgb, 3, &err) && write_png (mask_path, mask, 1, &err);
      g_free (picture);
      g_free (mask_path);
    }
  g_rand_free (rng);
  if (!ok)
    return osh_cli_report (cmd, &err);
  if (json)
    {
      json_t *classes = json_array ();
      for (int c = 0; c < SHAPE_CLASSES; c++)
        json_array_append_new (classes, json_string (shape_classes[c]));
      osh_cli_print_json (json_pack ("{s:s, s:i, s:i, s:I, s:o}", "folder", dir, "pictures", count,
                                     "masks", count, "seed", (json_int_t) seed, "classes",
                                     classes));
    }
  else
    printf ("Wrote %d pictures with their masks to %s (seed %u): a folder per class (circle, "
            "square, triangle, cross), NAME-mask.png beside each picture\n",
            count, dir, seed);
  return OSH_EXIT_OK;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
osh_cmd_samples (int argc, char **argv)
{
  const char *cmd = argv[0], *dir = NULL;
  bool json = false;
  int train = 0;
  guint32 seed = 1;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-o") == 0 && i + 1 < argc)
        dir = argv[++i];
      else if ((strcmp (argv[i], "--train") == 0 || strcmp (argv[i], "--seed") == 0)
               && i + 1 < argc)
        {
          char *end = NULL;
          long long v = g_ascii_strtoll (argv[i + 1], &end, 10);
          bool is_train = strcmp (argv[i], "--train") == 0;
          long long hi = is_train ? 1000000 : G_MAXUINT32;
          if (!end || end == argv[i + 1] || *end || v < (is_train ? 1 : 0) || v > hi)
            return osh_cli_bad_value (cmd, argv[i], argv[i + 1],
                                      is_train ? "an integer from 1 to 1000000"
                                               : "an integer from 0 to 4294967295");
          if (is_train)
            train = (int) v;
          else
            seed = (guint32) v;
          i++;
        }
      else if (strcmp (argv[i], "--json") == 0)
        json = true;
      else
        return osh_cli_usage_error (cmd,
                                    argv[i][0] == '-' ? "unknown option '%s' (or it needs a value)"
                                                      : "unexpected argument '%s'",
                                    argv[i]);
    }
  if (!dir)
    return osh_cli_usage_error (cmd, "where to? (-o DIR)");
  bool seeded = false;
  for (int i = 1; i < argc; i++)
    seeded |= strcmp (argv[i], "--seed") == 0;
  if (seeded && train == 0)
    return osh_cli_usage_error (cmd, "--seed goes with --train N (the bundled samples are fixed)");
  if (train > 0)
    return write_training_set (cmd, dir, train, seed, json);

  char **names =
      g_resources_enumerate_children (SAMPLES_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (!names || !names[0])
    {
      g_strfreev (names);
      OshError err = { 0 };
      osh_fail (&err, OSH_ERR_IO, "this build has no bundled samples");
      return osh_cli_report (cmd, &err);
    }
  qsort (names, g_strv_length (names), sizeof *names, compare_names);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      OshError err = { 0 };
      osh_fail (&err, OSH_ERR_IO, "%s: cannot create the folder: %s", dir, g_strerror (errno));
      g_strfreev (names);
      return osh_cli_report (cmd, &err);
    }
  int status = OSH_EXIT_OK, pictures = 0, masks = 0;
  json_t *files = json_array ();
  for (char **n = names; *n && status == OSH_EXIT_OK; n++)
    {
      char *path = g_build_filename (SAMPLES_RESOURCE, *n, NULL);
      GBytes *bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      char *target = g_build_filename (dir, *n, NULL);
      GError *error = NULL;
      gsize size = 0;
      const char *data = bytes ? g_bytes_get_data (bytes, &size) : NULL;
      if (!bytes || !g_file_set_contents (target, data, (gssize) size, &error))
        {
          OshError err = { 0 };
          osh_fail (&err, OSH_ERR_IO, "%s: %s", target,
                    error ? error->message : "missing from the resources");
          status = osh_cli_report (cmd, &err);
        }
      else
        {
          json_array_append_new (files, json_string (target));
          masks += g_str_has_suffix (*n, "-mask.png");
          pictures += g_str_has_suffix (*n, ".png") && !g_str_has_suffix (*n, "-mask.png");
        }
      g_clear_error (&error);
      g_free (target);
      g_free (path);
      if (bytes)
        g_bytes_unref (bytes);
    }
  if (status == OSH_EXIT_OK && json)
    osh_cli_print_json (json_pack ("{s:s, s:O}", "folder", dir, "files", files));
  else if (status == OSH_EXIT_OK)
    printf ("Wrote %zu files to %s: model.h5 (a classifier around a nested backbone, the tour's "
            "model), %d pictures with %d masks, labels.txt\n",
            json_array_size (files), dir, pictures, masks);
  json_decref (files);
  g_strfreev (names);
  return status;
}
