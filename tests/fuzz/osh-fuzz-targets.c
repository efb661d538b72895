#include "osh-fuzz-targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osh-formats.h"
#include "osh-image.h"
#include "osh-model.h"
#include "osh-npy.h"

static bool
feed_model (const char *name, const unsigned char *data, size_t size, OshError *err)
{
  OshGraph *g = osh_model_load_bytes (name, data, size, err);
  osh_graph_free (g);
  return g != NULL;
}

static bool
feed_h5 (const unsigned char *data, size_t size, OshError *err)
{
  return feed_model ("fuzz.h5", data, size, err);
}

static bool
feed_keras3 (const unsigned char *data, size_t size, OshError *err)
{
  /* The graph from the config alone too (osh_model_load_graph's way for a .keras, no HDF5):
   * it reads the zip, the JSON and model.weights.h5's superblock by itself. */
  OshError ignored = { 0 };
  osh_graph_free (osh_keras3_read_structure ("fuzz.keras", data, size, &ignored));
  return feed_model ("fuzz.keras", data, size, err);
}

static bool
feed_onnx (const unsigned char *data, size_t size, OshError *err)
{
  return feed_model ("fuzz.onnx", data, size, err);
}

/* The bytes a manifest group's entries take, as their shapes and dtypes size them (at most
 * 1 MiB). */
static size_t
group_bytes (const json_t *group)
{
  size_t total = 0, i;
  const json_t *w;
  json_array_foreach (json_object_get (group, "weights"), i, w)
    {
      const json_t *q = json_object_get (w, "quantization");
      const char *dtype = json_string_value (json_object_get (q ? q : w, "dtype"));
      size_t n = dtype && (strcmp (dtype, "uint8") == 0 || strcmp (dtype, "bool") == 0)       ? 1
                 : dtype && (strcmp (dtype, "uint16") == 0 || strcmp (dtype, "float16") == 0) ? 2
                                                                                              : 4;
      size_t k;
      const json_t *d;
      json_array_foreach (json_object_get (w, "shape"), k, d)
        {
          json_int_t v = json_integer_value (d);
          n = v > 0 && v < (1 << 20) ? n * (size_t) v : v == 0 ? 0 : n;
          if (n > (1u << 20))
            return 1u << 20;
        }
      total += n;
      if (total > (1u << 20))
        return 1u << 20;
    }
  return total;
}

enum
{
  MAX_SHARDS = 8,
  SHARD_PATH = 300
};

/* Writes a zero-filled first shard for each manifest group of the model.json in `data` into
 * `dir`; returns how many it wrote, their paths in `written`. Shard names that are not plain
 * file names are left unwritten (the reader then reports them missing). */
static int
write_zero_shards (const char *dir, const unsigned char *data, size_t size,
                   char written[MAX_SHARDS][SHARD_PATH])
{
  json_t *doc = json_loadb ((const char *) data, size, 0, NULL);
  int n_written = 0;
  size_t gi;
  const json_t *group;
  json_array_foreach (json_object_get (doc, "weightsManifest"), gi, group)
    {
      const char *shard = json_string_value (json_array_get (json_object_get (group, "paths"), 0));
      if (n_written == MAX_SHARDS || !shard || !*shard || strchr (shard, '/')
          || strlen (shard) > 200 || shard[0] == '.' || strcmp (shard, "model.json") == 0)
        continue;
      snprintf (written[n_written], SHARD_PATH, "%s/%s", dir, shard);
      size_t bytes = group_bytes (group);
      char *zeros = calloc (bytes + 1, 1);
      FILE *s = zeros ? fopen (written[n_written], "wb") : NULL;
      if (s)
        {
          fwrite (zeros, 1, bytes, s);
          fclose (s);
          n_written++;
        }
      free (zeros);
    }
  json_decref (doc);
  return n_written;
}

/* TF.js models are read from a folder (model.json and its shards): write the bytes as
 * model.json in a private temporary folder, with zero-filled shards when `with_shards` (so a
 * graph model's node list, weight decoding and every op's shape translation are reached),
 * load it, and remove everything written. */
static bool
feed_folder_model (const unsigned char *data, size_t size, bool with_shards, OshError *err)
{
  char dir[] = "/tmp/osh-fuzz-tfjs-XXXXXX";
  if (!mkdtemp (dir))
    return osh_fail (err, OSH_ERR_IO, "cannot make a temporary folder");
  char path[sizeof dir + 16];
  snprintf (path, sizeof path, "%s/model.json", dir);
  FILE *f = fopen (path, "wb");
  bool ok = f && fwrite (data, 1, size, f) == size;
  if (f)
    fclose (f);
  char written[MAX_SHARDS][SHARD_PATH];
  int n_written = ok && with_shards ? write_zero_shards (dir, data, size, written) : 0;
  if (ok)
    {
      OshGraph *g = osh_model_load (path, err);
      ok = g != NULL;
      osh_graph_free (g);
    }
  else
    osh_fail (err, OSH_ERR_IO, "cannot write %s", path);
  for (int i = 0; i < n_written; i++)
    unlink (written[i]);
  unlink (path);
  rmdir (dir);
  return ok;
}

/* TF.js layers models: the shards the manifest names are absent. */
static bool
feed_tfjs (const unsigned char *data, size_t size, OshError *err)
{
  return feed_folder_model (data, size, false, err);
}

/* TF.js graph models: zero-filled shards, so the reader gets past the weights. */
static bool
feed_tfgraph (const unsigned char *data, size_t size, OshError *err)
{
  return feed_folder_model (data, size, true, err);
}

static bool
feed_npy (const unsigned char *data, size_t size, OshError *err)
{
  OshTensor *t = osh_npy_read_bytes ("fuzz.npy", data, size, err);
  osh_tensor_free (t);
  return t != NULL;
}

/* Pictures for `run` and the window's run panel (both decode through osh_image_load_bytes). */
static bool
feed_image (const unsigned char *data, size_t size, OshError *err)
{
  OshImage *img = osh_image_load_bytes ("fuzz-image", data, size, err);
  osh_image_free (img);
  return img != NULL;
}

const OshFuzzTarget osh_fuzz_targets[] = {
  { "h5", feed_h5 },           { "keras3", feed_keras3 }, { "tfjs", feed_tfjs },
  { "onnx", feed_onnx },       { "npy", feed_npy },       { "image", feed_image },
  { "tfgraph", feed_tfgraph },
};
const int osh_fuzz_targets_count = sizeof osh_fuzz_targets / sizeof osh_fuzz_targets[0];

const OshFuzzTarget *
osh_fuzz_target_find (const char *name)
{
  for (int i = 0; i < osh_fuzz_targets_count; i++)
    if (strcmp (osh_fuzz_targets[i].name, name) == 0)
      return &osh_fuzz_targets[i];
  return NULL;
}
