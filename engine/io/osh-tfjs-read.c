/* TF.js layers models: model.json (modelTopology + weightsManifest) and its binary shards.
 * Also opens a bare Keras model config saved with model.to_json() (no weights). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "osh-formats.h"
#include "osh-keras-config.h"
#include "osh-limits.h"
#include "osh-tfgraph.h"
#include "osh-tfjs-stored.h"

typedef struct
{
  const char *path;
  OshReadMode mode;
  OshGraph *g;
  OshError *err;
} TfjsCtx;

/* Reads the shards of one manifest group, concatenated in order. */
static unsigned char *
read_shards (TfjsCtx *c, const json_t *paths, size_t *size_out)
{
  const char *slash = strrchr (c->path, '/');
  size_t dir_len = slash ? (size_t) (slash - c->path + 1) : 0;
  unsigned char *buf = NULL;
  size_t size = 0;
  size_t i;
  json_t *p;
  json_array_foreach (paths, i, p)
    {
      const char *rel = json_string_value (p);
      if (!rel)
        {
          osh_fail (c->err, OSH_ERR_FORMAT, "%s: weightsManifest: shard path %zu is not a string",
                    c->path, i);
          goto fail;
        }
      char *full = malloc (dir_len + strlen (rel) + 1);
      if (!full)
        goto nomem;
      memcpy (full, c->path, dir_len);
      strcpy (full + dir_len, rel);
      FILE *f = fopen (full, "rb");
      struct stat st;
      if (!f || fstat (fileno (f), &st) != 0 || !S_ISREG (st.st_mode))
        {
          osh_fail (c->err, OSH_ERR_IO, "%s: weight shard '%s' cannot be read (%s)", c->path, rel,
                    f ? "not a regular file" : strerror (errno));
          if (f)
            fclose (f);
          free (full);
          goto fail;
        }
      free (full);
      if ((int64_t) st.st_size > OSH_MAX_ZIP_ENTRY
          || (int64_t) (size + (size_t) st.st_size) > OSH_MAX_ZIP_ENTRY)
        {
          fclose (f);
          osh_fail (c->err, OSH_ERR_LIMIT, "%s: weight shard '%s' makes the group over %lld bytes",
                    c->path, rel, (long long) OSH_MAX_ZIP_ENTRY);
          goto fail;
        }
      unsigned char *grown = realloc (buf, size + (size_t) st.st_size + 1);
      if (!grown)
        {
          fclose (f);
          goto nomem;
        }
      buf = grown;
      size_t got = fread (buf + size, 1, (size_t) st.st_size, f);
      fclose (f);
      if (got != (size_t) st.st_size)
        {
          osh_fail (c->err, OSH_ERR_IO, "%s: weight shard '%s': read %zu of %lld bytes", c->path,
                    rel, got, (long long) st.st_size);
          goto fail;
        }
      size += got;
    }
  *size_out = size;
  if (!buf)
    buf = malloc (1);
  return buf;
nomem:
  osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory reading weight shards", c->path);
fail:
  free (buf);
  return NULL;
}

/* The layer a manifest name like "block1/conv/kernel" belongs to: the longest layer path that
 * prefixes it, else the last component (before the variable) naming a layer anywhere. */
static int
layer_for_weight (const OshGraph *g, const char *wname)
{
  char *prefix = strdup (wname);
  int found = -1;
  if (!prefix)
    return -1;
  char *cut;
  while (found < 0 && (cut = strrchr (prefix, '/')))
    {
      *cut = '\0';
      found = osh_graph_find_path (g, prefix);
    }
  free (prefix);
  if (found >= 0)
    return found;
  /* Components right to left (skipping the variable name). */
  const char *end = strrchr (wname, '/');
  while (end && end > wname)
    {
      const char *start = end;
      while (start > wname && start[-1] != '/')
        start--;
      size_t len = (size_t) (end - start);
      for (int i = 0; i < g->n_layers; i++)
        if (strlen (g->layers[i].name) == len && strncmp (g->layers[i].name, start, len) == 0)
          return i;
      end = start > wname ? start - 1 : NULL;
    }
  return -1;
}

/* The value of manifest entry `w` at *offset of the group's shards (`buf` NULL: the shape
 * only, no data), float32 whatever it is stored as: float16, int32, or uint8/uint16 quantized
 * (min + scale · q), and float16 "quantized". *offset moves past it. */
static OshTensor *
decode_weight (TfjsCtx *c, const json_t *w, const unsigned char *buf, size_t size, size_t *offset)
{
  const char *name = json_string_value (json_object_get (w, "name"));
  const json_t *shape = json_object_get (w, "shape");
  if (!name)
    {
      osh_fail (c->err, OSH_ERR_FORMAT,
                "%s: weightsManifest: the entry for shard byte %zu has no name", c->path, *offset);
      return NULL;
    }
  if (!json_is_array (shape) || json_array_size (shape) > OSH_MAX_RANK)
    {
      osh_fail (c->err, OSH_ERR_FORMAT,
                "%s: weightsManifest: weight '%s': 'shape' is not a list of at most %d sizes",
                c->path, name, OSH_MAX_RANK);
      return NULL;
    }
  OshShape s = { .rank = (int) json_array_size (shape) };
  int64_t numel = 1;
  for (int i = 0; i < s.rank; i++)
    {
      json_int_t d = json_integer_value (json_array_get (shape, (size_t) i));
      if (!json_is_integer (json_array_get (shape, (size_t) i)) || d < 0 || d > OSH_MAX_DIM
          || (d > 0 && numel > OSH_MAX_ELEMENTS / d))
        {
          osh_fail (c->err, OSH_ERR_LIMIT,
                    "%s: weight '%s': its shape is not sizes within the limits", c->path, name);
          return NULL;
        }
      s.dim[i] = d;
      numel *= d;
    }
  /* What is stored: the quantized type when there is one, else dtype. */
  OshTfjsCodec codec;
  const char *stored;
  if (!osh_tfjs_codec (w, &codec, &stored))
    {
      osh_fail (c->err, OSH_ERR_UNSUPPORTED,
                "%s: weight '%s': dtype '%s' is not one Offshoot reads", c->path, name, stored);
      return NULL;
    }
  size_t elem = codec.elem;
  if ((uint64_t) numel * elem > size - *offset)
    {
      osh_fail (c->err, OSH_ERR_FORMAT,
                "%s: weight '%s' needs %llu bytes at byte %zu but the shards hold %zu in all",
                c->path, name, (unsigned long long) numel * elem, *offset, size);
      return NULL;
    }
  /* Without shards (a read for the graph): the shape only. */
  bool values = numel && buf;
  OshTensor *t = values ? osh_tensor_new (&s, c->err) : calloc (1, sizeof (OshTensor));
  if (!t)
    {
      if (!values)
        osh_fail (c->err, OSH_ERR_NOMEM, "out of memory");
      return NULL;
    }
  t->shape = s;
  if (!buf)
    {
      *offset += (size_t) numel * elem;
      return t;
    }
  const unsigned char *p = buf + *offset;
  for (int64_t i = 0; i < numel; i++)
    t->data[i] = osh_tfjs_decode (&codec, p, i);
  *offset += (size_t) numel * elem;
  return t;
}

static bool
read_weight (TfjsCtx *c, const json_t *w, const unsigned char *buf, size_t size, size_t *offset)
{
  const char *name = json_string_value (json_object_get (w, "name"));
  OshTensor *t = decode_weight (c, w, buf, size, offset);
  if (!t)
    return false;
  int layer = layer_for_weight (c->g, name);
  if (layer < 0)
    {
      osh_tensor_free (t);
      return osh_fail (c->err, OSH_ERR_FORMAT, "%s: weight '%s' names no layer of the model",
                       c->path, name);
    }
  return osh_layer_add_weight (c->g, layer, name, t, true, c->err);
}

static bool
read_weights (TfjsCtx *c, const json_t *manifest)
{
  if (!json_is_array (manifest))
    return osh_fail (c->err, OSH_ERR_FORMAT, "%s: 'weightsManifest' is not a list", c->path);
  size_t gi;
  json_t *group;
  json_array_foreach (manifest, gi, group)
    {
      size_t size = SIZE_MAX;
      unsigned char *buf = NULL;
      if (c->mode != OSH_READ_GRAPH
          && !(buf = read_shards (c, json_object_get (group, "paths"), &size)))
        return false;
      size_t offset = 0, wi;
      json_t *w;
      bool ok = true;
      json_array_foreach (json_object_get (group, "weights"), wi, w)
        if (!(ok = read_weight (c, w, buf, size, &offset)))
          break;
      free (buf);
      if (!ok)
        return false;
    }
  return true;
}

/* A graph model's weights: every Const node's value, by its name (all groups, values always:
 * Reshape targets and axes decide shapes). */
static OshGraph *
read_graph_model (const char *path, const json_t *doc, OshError *err)
{
  const json_t *manifest = json_object_get (doc, "weightsManifest");
  if (manifest && !json_is_array (manifest))
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s: 'weightsManifest' is not a list", path);
      return NULL;
    }
  size_t cap = 0, gi, wi;
  const json_t *group, *w;
  json_array_foreach (manifest, gi, group)
    cap += json_array_size (json_object_get (group, "weights"));
  OshTfConst *consts = calloc (cap + 1, sizeof *consts);
  if (!consts)
    {
      osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory", path);
      return NULL;
    }
  int n = 0;
  bool ok = true;
  json_t *int32 = json_array ();      /* the names of the int32 constants (the writer's dtype) */
  json_t *stored_as = json_object (); /* OSH_TFGRAPH_STORED_AS */
  TfjsCtx c = { path, OSH_READ_ALL, NULL, err };
  json_array_foreach (manifest, gi, group)
    {
      size_t size = 0;
      unsigned char *buf = read_shards (&c, json_object_get (group, "paths"), &size);
      if (!(ok = buf != NULL))
        break;
      size_t offset = 0;
      json_array_foreach (json_object_get (group, "weights"), wi, w)
        {
          OshTensor *t = decode_weight (&c, w, buf, size, &offset);
          if (!(ok = t != NULL))
            break;
          consts[n++] = (OshTfConst){ json_string_value (json_object_get (w, "name")), t };
          const char *dtype = osh_config_string (w, "dtype", "float32");
          if (strcmp (dtype, "int32") == 0)
            json_array_append (int32, json_object_get (w, "name"));
          const json_t *quant = json_object_get (w, "quantization");
          if (quant || strcmp (dtype, "bool") == 0)
            json_object_set_new (
                stored_as, consts[n - 1].name,
                quant ? json_pack ("{s:s, s:O}", "dtype", dtype, "quantization", quant)
                      : json_pack ("{s:s}", "dtype", dtype));
        }
      free (buf);
      if (!ok)
        break;
    }
  OshGraph *g = NULL;
  if (ok)
    g = osh_tfgraph_build (path, doc, consts, n, err);
  else
    for (int i = 0; i < n; i++)
      osh_tensor_free (consts[i].value);
  if (g && json_array_size (int32))
    json_object_set (g->meta, OSH_TFGRAPH_INT32_CONSTS, int32);
  if (g && json_object_size (stored_as))
    json_object_set (g->meta, OSH_TFGRAPH_STORED_AS, stored_as);
  json_decref (int32);
  json_decref (stored_as);
  free (consts);
  return g;
}

OshGraph *
osh_tfjs_read (const char *path, const void *data, size_t size, OshError *err)
{
  return osh_tfjs_read_mode (path, data, size, OSH_READ_ALL, err);
}

/* OSH_READ_GRAPH: model.json only; the shards are read by osh_model_load_weights. */
OshGraph *
osh_tfjs_read_mode (const char *path, const void *data, size_t size, OshReadMode mode,
                    OshError *err)
{
  json_t *doc = osh_keras_parse_json (data, size, path, "the JSON document", err);
  if (!doc)
    return NULL;
  OshGraph *g = NULL;
  json_t *topology = json_object_get (doc, "modelTopology");
  const char *format = osh_config_string (doc, "format", "");
  if (strcmp (format, "graph-model") == 0
      || (json_is_array (json_object_get (topology, "node"))
          && !json_object_get (topology, "model_config")))
    {
      g = read_graph_model (path, doc, err);
      goto out;
    }
  const json_t *manifest = json_object_get (doc, "weightsManifest");
  json_t *model = topology;
  if (json_object_get (topology, "model_config")) /* tensorflowjs_converter output */
    model = json_object_get (topology, "model_config");
  bool bare = !topology && json_object_get (doc, "class_name") && json_object_get (doc, "config");
  if (bare)
    model = doc; /* model.to_json(): a Keras config, no weights */
  if (!model)
    {
      osh_fail (
          err, OSH_ERR_FORMAT,
          "%s: JSON without 'modelTopology' (a TF.js layers model) or 'class_name'/'config' (a Keras "
          "model config)%s",
          path, json_object_get (doc, "format") ? " — a TF.js graph model is not supported" : "");
      goto out;
    }
  const json_t *holder = bare ? doc : topology;
  const char *backend = osh_config_string (holder, "backend", NULL);
  if (!(g = osh_keras_config_to_graph (model, backend, path, err)))
    goto out;
  osh_keras_copy_meta (g, holder, (const char *const[]){ "keras_version", "backend", NULL });
  if (json_is_string (json_object_get (doc, "generatedBy")))
    json_object_set (g->meta, "generated_by", json_object_get (doc, "generatedBy"));
  if (bare || !manifest)
    {
      json_object_set_new (g->meta, "weights_absent", json_true ());
      goto out;
    }
  TfjsCtx c = { path, mode, g, err };
  if (!read_weights (&c, manifest) || !osh_keras_check_all_weights (g, path, err))
    {
      osh_graph_free (g);
      g = NULL;
    }
out:
  json_decref (doc);
  return g;
}
