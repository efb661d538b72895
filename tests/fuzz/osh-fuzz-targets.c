#include "osh-fuzz-targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
  return feed_model ("fuzz.keras", data, size, err);
}

static bool
feed_onnx (const unsigned char *data, size_t size, OshError *err)
{
  return feed_model ("fuzz.onnx", data, size, err);
}

/* TF.js models are read from a folder (model.json and its shards): write the bytes as
 * model.json in a private temporary folder; the shards it names are absent. */
static bool
feed_tfjs (const unsigned char *data, size_t size, OshError *err)
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
  if (ok)
    {
      OshGraph *g = osh_model_load (path, err);
      ok = g != NULL;
      osh_graph_free (g);
    }
  else
    osh_fail (err, OSH_ERR_IO, "cannot write %s", path);
  unlink (path);
  rmdir (dir);
  return ok;
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
  { "h5", feed_h5 },     { "keras3", feed_keras3 }, { "tfjs", feed_tfjs },
  { "onnx", feed_onnx }, { "npy", feed_npy },       { "image", feed_image },
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
