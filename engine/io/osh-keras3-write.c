/* Keras 3 .keras writer: a zip of metadata.json, config.json and model.weights.h5.
 *
 * model.weights.h5 is laid out as Keras 3's saving_lib walks a model: the model's own
 * (empty) "vars", then each layer of its `layers` list under "layers/<key>/vars/<i>",
 * where <key> is the layer's class in snake case, numbered on repeats ("conv2d",
 * "conv2d_1"): Keras addresses weights by class and position, not by layer name.
 * Nested models recurse under their own "layers/"; recurrent layers keep their
 * weights in their cell ("layers/lstm/cell/vars/0"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "osh-formats.h"
#include "osh-write-config.h"
#include "osh-write-hdf5.h"
#include "osh-write-names.h"

static bool
is_recurrent (const char *class_name)
{
  return strcmp (class_name, "LSTM") == 0 || strcmp (class_name, "GRU") == 0
         || strcmp (class_name, "SimpleRNN") == 0;
}

/* "<prefix>vars" with the layer's weights 0..n-1 (none when !with_weights: a recurrent
 * layer's own group, its weights being its cell's) and its name as an attribute. */
static bool
write_vars (OshH5Writer *w, const OshGraph *g, int layer, const char *prefix, bool with_weights,
            OshError *err)
{
  char path[4096];
  snprintf (path, sizeof path, "%svars", prefix);
  hid_t vars = osh_h5w_group (w, w->file, path, err);
  if (vars < 0)
    return false;
  const char *name = layer < 0 ? (g->name ? g->name : "model") : g->layers[layer].name;
  bool ok = osh_h5w_attr_string (w, vars, "name", name, err);
  int n = layer < 0 || !with_weights ? 0 : g->layers[layer].n_weights;
  for (int i = 0; ok && i < n; i++)
    {
      char index[16];
      snprintf (index, sizeof index, "%d", i);
      ok = osh_h5w_dataset (w, vars, index, g->layers[layer].weights[i].value, err);
      if (!ok)
        osh_error_prefix (err, "layer '%s': ", g->layers[layer].name);
    }
  H5Gclose (vars);
  return ok;
}

static const char *
python_class (const OshWriteScope *s, int layer)
{
  const OshLayer *l = &s->g->layers[layer];
  if (!l->is_model)
    return l->class_name;
  return osh_write_is_sequential (s, layer) ? "Sequential" : "Functional";
}

/* The model `owner` (-1 = top level) whose state lives under `prefix` ("" or "layers/x/"). */
static bool
write_model_state (OshH5Writer *w, const OshWriteScope *s, int owner, const char *prefix, int depth,
                   OshError *err)
{
  const OshGraph *g = s->g;
  if (depth > OSH_MAX_NESTING)
    return osh_fail (err, OSH_ERR_LIMIT, "models nested deeper than %d", OSH_MAX_NESTING);
  if (!write_vars (w, g, owner, prefix, true, err))
    return false;
  bool seq = osh_write_is_sequential (s, owner);
  OshKeras3Keys keys;
  if (!osh_keras3_keys_init (&keys, g->n_layers))
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  bool ok = true;
  for (int i = 0; ok && i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      if (l->owner != owner || !s->layer_kept[i]
          || (seq && strcmp (l->class_name, "InputLayer") == 0))
        continue;
      char key[160];
      osh_keras3_key (&keys, python_class (s, i), key, sizeof key);
      char inner[4096];
      snprintf (inner, sizeof inner, "%slayers/%s/", prefix, key);
      if (l->is_model)
        ok = write_model_state (w, s, i, inner, depth + 1, err);
      else if (is_recurrent (l->class_name))
        {
          char cell[4200];
          snprintf (cell, sizeof cell, "%scell/", inner);
          ok = write_vars (w, g, i, inner, false, err) && write_vars (w, g, i, cell, true, err);
        }
      else
        ok = write_vars (w, g, i, inner, true, err);
    }
  osh_keras3_keys_clear (&keys);
  return ok;
}

static void *
weights_image (const OshWriteScope *s, const char *tmp_path, size_t *size, OshError *err)
{
  char name[4096];
  snprintf (name, sizeof name, "%s/model.weights.h5", tmp_path);
  OshH5Writer w;
  if (!osh_h5w_open (&w, name, false, err))
    return NULL;
  void *image = NULL;
  if (write_model_state (&w, s, -1, "", 0, err))
    image = osh_h5w_image (&w, size, err);
  osh_h5w_close (&w, image != NULL, err);
  return image;
}

/* Every member is stored uncompressed, as Keras stores them, in Keras's order (metadata.json,
 * config.json, model.weights.h5), so that where each one's bytes fall is known beforehand: the
 * local header of model.weights.h5 is padded so that its bytes start on a 16-byte boundary.
 * With the HDF5 writer's 16-byte alignment of every weight (osh-write-hdf5.c), each float32
 * weight then lies 16-byte aligned in the file and a reader can use it in place
 * (osh-tensor.h). The padding is an extra field of the kind Android's zipalign writes (id
 * 0xD935: the alignment as u16, then zeros), which zip readers skip like any unknown one. */
#define WEIGHTS_ALIGN 16
#define ALIGN_FIELD_ID 0xD935
/* A local header: signature, versions, flags, method, time, CRC, sizes, name and extra
 * lengths; then the name, the extra fields (4 bytes of id and length each, then their data)
 * and the bytes. */
#define LOCAL_HEADER 30
#define EXTRA_HEADER 4

typedef struct
{
  zip_t *z;
  const char *tmp_path;
  uint64_t offset; /* where the next member's local header will start */
} ZipOut;

static bool
pad_entry (ZipOut *o, zip_int64_t idx, const char *name, size_t *pad_out, OshError *err)
{
  uint64_t before = o->offset + LOCAL_HEADER + strlen (name) + EXTRA_HEADER;
  zip_uint8_t pad[WEIGHTS_ALIGN + 2] = { WEIGHTS_ALIGN & 0xff, WEIGHTS_ALIGN >> 8 };
  size_t len = 2 + (WEIGHTS_ALIGN - (before + 2) % WEIGHTS_ALIGN) % WEIGHTS_ALIGN;
  if (zip_file_extra_field_set (o->z, (zip_uint64_t) idx, ALIGN_FIELD_ID, ZIP_EXTRA_FIELD_NEW, pad,
                                (zip_uint16_t) len, ZIP_FL_LOCAL)
      != 0)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot align %s: %s", o->tmp_path, name,
                     zip_strerror (o->z));
  *pad_out = EXTRA_HEADER + len;
  return true;
}

/* Adds `data` (taken over, also on failure) as `name`, stored; its bytes 16-byte aligned in
 * the file when `align`. */
static bool
add_entry (ZipOut *o, const char *name, void *data, size_t size, bool align, OshError *err)
{
  zip_source_t *src = zip_source_buffer (o->z, data, size, 1);
  if (!src)
    {
      free (data);
      return osh_fail (err, OSH_ERR_NOMEM, "%s: cannot add %s: %s", o->tmp_path, name,
                       zip_strerror (o->z));
    }
  zip_int64_t idx = zip_file_add (o->z, name, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
  if (idx < 0)
    {
      zip_source_free (src);
      return osh_fail (err, OSH_ERR_IO, "%s: cannot add %s: %s", o->tmp_path, name,
                       zip_strerror (o->z));
    }
  zip_set_file_compression (o->z, (zip_uint64_t) idx, ZIP_CM_STORE, 0);
  size_t extra = 0;
  if (align && !pad_entry (o, idx, name, &extra, err))
    return false;
  o->offset += LOCAL_HEADER + strlen (name) + extra + size;
  return true;
}

static bool
add_json (ZipOut *o, const char *name, json_t *doc, OshError *err)
{
  char *text = json_dumps (doc, JSON_COMPACT);
  json_decref (doc);
  if (!text)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory writing %s", name);
  return add_entry (o, name, text, strlen (text), false, err);
}

bool
osh_keras3_write (const OshGraph *g, const char *tmp_path, OshError *err)
{
  OshWriteScope scope;
  if (!osh_write_scope_init (&scope, g, err))
    return false;
  json_t *cfg = osh_write_model_config (&scope, OSH_KERAS_CONFIG_3, err);
  size_t weights_size = 0;
  void *weights = cfg ? weights_image (&scope, tmp_path, &weights_size, err) : NULL;
  osh_write_scope_clear (&scope);
  if (!weights)
    {
      json_decref (cfg);
      return false;
    }
  int zerr = 0;
  zip_t *z = zip_open (tmp_path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
  if (!z)
    {
      free (weights);
      json_decref (cfg);
      zip_error_t ze;
      zip_error_init_with_code (&ze, zerr);
      osh_fail (err, OSH_ERR_IO, "%s: cannot create the zip file: %s", tmp_path,
                zip_error_strerror (&ze));
      zip_error_fini (&ze);
      return false;
    }
  char date[32];
  time_t now = time (NULL);
  struct tm tm;
  gmtime_r (&now, &tm);
  strftime (date, sizeof date, "%Y-%m-%d@%H:%M:%S", &tm);
  json_t *meta = json_pack ("{s:s, s:s}", "keras_version",
                            osh_write_keras_version (g, OSH_KERAS_CONFIG_3), "date_saved", date);
  /* add_json and add_entry take their document or buffer over, also on failure. */
  ZipOut out = { z, tmp_path, 0 };
  bool ok = add_json (&out, "metadata.json", meta, err);
  if (ok)
    ok = add_json (&out, "config.json", cfg, err);
  else
    json_decref (cfg);
  if (ok)
    ok = add_entry (&out, "model.weights.h5", weights, weights_size, true, err);
  else
    free (weights);
  if (!ok)
    {
      zip_discard (z);
      return false;
    }
  if (zip_close (z) != 0)
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot write the zip file: %s", tmp_path, zip_strerror (z));
      zip_discard (z);
      return false;
    }
  return true;
}
