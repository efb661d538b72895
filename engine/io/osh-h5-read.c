/* Keras 1/2 and tf.keras .h5 files: the `model_config` attribute gives the graph, the
 * `model_weights` group gives each layer's weights, bound by position. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "osh-formats.h"
#include "osh-hdf5-util.h"
#include "osh-keras-config.h"
#include "osh-weights-by-offset.h"

typedef struct
{
  hid_t file;
  const char *name;
  const void *data;
  size_t size;
  OshReadMode mode;
  OshMapping *borrow;
  OshGraph *g;
  OshWeightMap *map; /* the guard child's map of where each weight lies, or NULL */
  OshError *err;
} H5Ctx;

/* Reads `<group>/<weight name>` and appends it to `layer`. */
static bool
add_weight (H5Ctx *c, int layer, const char *group, const char *wname)
{
  size_t n = strlen (group) + strlen (wname) + 2;
  char *path = malloc (n);
  if (!path)
    return osh_fail (c->err, OSH_ERR_NOMEM, "out of memory");
  snprintf (path, n, "%s/%s", group, wname);
  char where[1400];
  snprintf (where, sizeof where, "%s: layer '%s'", c->name, c->g->layers[layer].name);
  int64_t at = -1;
  OshTensor *t = osh_h5_read_tensor_at (c->file, path, where, c->data, c->size, c->mode, c->borrow,
                                        &at, c->err);
  free (path);
  if (!t)
    return false;
  if (c->map && !osh_weight_map_add (c->map, layer, wname, &t->shape, at))
    {
      osh_tensor_free (t);
      return osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory for the weight map", c->name);
    }
  return osh_layer_add_weight (c->g, layer, wname, t, true, c->err);
}

/* A layer strictly inside `model` named `name`, or -1. */
static int
find_inside (const OshGraph *g, int model, const char *name, size_t len)
{
  for (int i = 0; i < g->n_layers; i++)
    if (i != model && strlen (g->layers[i].name) == len
        && strncmp (g->layers[i].name, name, len) == 0 && osh_graph_layer_within (g, i, model))
      return i;
  return -1;
}

/* Weights of a nested model all sit in the model's group, named "<inner layer>/<var>"
 * (the stored order is trainable first, so position does not say which layer): find the
 * inner layer by the path components, last first, also without a "_1" suffix. */
static int
owner_of_nested_weight (const OshGraph *g, int model, const char *wname)
{
  const char *end = strrchr (wname, '/');
  while (end)
    {
      const char *start = end;
      while (start > wname && start[-1] != '/')
        start--;
      size_t len = (size_t) (end - start);
      int l = find_inside (g, model, start, len);
      if (l >= 0)
        return l;
      size_t k = len;
      while (k > 0 && isdigit ((unsigned char) start[k - 1]))
        k--;
      if (k > 1 && k < len && start[k - 1] == '_'
          && (l = find_inside (g, model, start, k - 1)) >= 0)
        return l;
      if (start == wname)
        break;
      end = start - 1;
    }
  return -1;
}

static bool
bind_layer_group (H5Ctx *c, const char *lname)
{
  OshGraph *g = c->g;
  size_t n = strlen (lname) + 16;
  char *group = malloc (n);
  if (!group)
    return osh_fail (c->err, OSH_ERR_NOMEM, "out of memory");
  snprintf (group, n, "model_weights/%s", lname);
  bool ok = false;
  int n_names = 0;
  char **names = NULL;
  hid_t gid = H5Gopen2 (c->file, group, H5P_DEFAULT);
  if (gid < 0)
    {
      osh_fail (c->err, OSH_ERR_FORMAT, "%s: 'layer_names' lists '%s' but there is no group '%s'",
                c->name, lname, group);
      goto out;
    }
  char where[1400];
  snprintf (where, sizeof where, "%s: group '%s'", c->name, group);
  names = osh_h5_attr_strings (gid, "weight_names", where, &n_names, c->err);
  if (!names)
    goto out;
  int layer = osh_graph_find_layer (g, -1, lname);
  if (layer < 0)
    {
      if (n_names == 0)
        ok = true;
      else
        osh_fail (c->err, OSH_ERR_FORMAT,
                  "%s: group '%s' holds %d weights but the model config has no layer '%s'", c->name,
                  group, n_names, lname);
      goto out;
    }
  for (int i = 0; i < n_names; i++)
    {
      int target = layer;
      if (g->layers[layer].is_model)
        {
          target = owner_of_nested_weight (g, layer, names[i]);
          if (target < 0)
            {
              osh_fail (c->err, OSH_ERR_FORMAT,
                        "%s: weight '%s' of nested model '%s' names no layer inside it", c->name,
                        names[i], lname);
              goto out;
            }
        }
      if (!add_weight (c, target, group, names[i]))
        goto out;
    }
  ok = true;
out:
  osh_strv_free (names, n_names);
  if (gid >= 0)
    H5Gclose (gid);
  free (group);
  return ok;
}

/* Keras 1 stored channels_first Conv2D kernels as (filters, in, kh, kw) and Conv1D kernels as
 * (length, 1, in, filters); Theano-trained kernels are flipped (true convolution). Keras 2
 * converts these when it loads an old file, and so do we, so the IR always holds
 * (kh, kw, in, filters) kernels for cross-correlation. */
static bool
convert_legacy_kernels (OshGraph *g, bool keras1, bool theano, OshError *err)
{
  for (int i = 0; i < g->n_layers; i++)
    {
      OshLayer *l = &g->layers[i];
      if (l->n_weights == 0)
        continue;
      const char *cls = l->class_name;
      bool conv = strcmp (cls, "Conv1D") == 0 || strcmp (cls, "Conv2D") == 0
                  || strcmp (cls, "Conv3D") == 0 || strcmp (cls, "Conv2DTranspose") == 0;
      if (!conv)
        continue;
      OshTensor *k = l->weights[0].value;
      if (keras1 && strcmp (cls, "Conv2D") == 0 && k->shape.rank == 4 && !k->data
          && strcmp (osh_config_string (l->config, "data_format", ""), "channels_first") == 0)
        k->shape = osh_shape_make (
            4, (int64_t[]){ k->shape.dim[2], k->shape.dim[3], k->shape.dim[1], k->shape.dim[0] });
      else if (keras1 && strcmp (cls, "Conv2D") == 0 && k->shape.rank == 4
               && strcmp (osh_config_string (l->config, "data_format", ""), "channels_first") == 0)
        {
          OshShape s = osh_shape_make (
              4, (int64_t[]){ k->shape.dim[2], k->shape.dim[3], k->shape.dim[1], k->shape.dim[0] });
          OshTensor *t = osh_tensor_new (&s, err);
          if (!t)
            return false;
          int64_t F = k->shape.dim[0], C = k->shape.dim[1], H = k->shape.dim[2],
                  W = k->shape.dim[3];
          for (int64_t f = 0; f < F; f++)
            for (int64_t ci = 0; ci < C; ci++)
              for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++)
                  t->data[((y * W + x) * C + ci) * F + f] = k->data[((f * C + ci) * H + y) * W + x];
          osh_tensor_free (k);
          l->weights[0].value = k = t;
        }
      if (keras1 && strcmp (cls, "Conv1D") == 0 && k->shape.rank == 4 && k->shape.dim[1] == 1)
        k->shape =
            osh_shape_make (3, (int64_t[]){ k->shape.dim[0], k->shape.dim[2], k->shape.dim[3] });
      if (theano && k->shape.rank >= 3 && k->data)
        {
          /* Flip every spatial axis (all but the last two: in, out). */
          int sp = k->shape.rank - 2;
          int64_t inner = k->shape.dim[sp] * k->shape.dim[sp + 1];
          int64_t cells = osh_tensor_numel (k) / inner;
          float *tmp = malloc ((size_t) inner * sizeof (float));
          if (!tmp)
            return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
          for (int64_t a = 0; a < cells; a++)
            {
              /* index a -> flipped index b: reverse every spatial coordinate */
              int64_t b = 0, rest = a, mul = 1;
              for (int d = sp - 1; d >= 0; d--)
                {
                  int64_t n = k->shape.dim[d], coord = rest % n;
                  rest /= n;
                  b += (n - 1 - coord) * mul;
                  mul *= n;
                }
              if (b <= a)
                continue;
              memcpy (tmp, k->data + a * inner, (size_t) inner * sizeof (float));
              memcpy (k->data + a * inner, k->data + b * inner, (size_t) inner * sizeof (float));
              memcpy (k->data + b * inner, tmp, (size_t) inner * sizeof (float));
            }
          free (tmp);
        }
    }
  return true;
}

OshGraph *
osh_h5_read (const char *name, const void *data, size_t size, OshError *err)
{
  return osh_h5_read_mode (name, data, size, OSH_READ_ALL, NULL, err);
}

OshGraph *
osh_h5_config_graph (const char *name, const char *config_text, const char *version,
                     const char *backend, OshError *err)
{
  json_t *config = osh_keras_parse_json (config_text, strlen (config_text), name,
                                         "attribute 'model_config'", err);
  OshGraph *g = config ? osh_keras_config_to_graph (config, backend, name, err) : NULL;
  json_decref (config);
  if (g && version)
    json_object_set_new (g->meta, "keras_version", json_string (version));
  if (g && backend)
    json_object_set_new (g->meta, "backend", json_string (backend));
  return g;
}

bool
osh_h5_finish_weights (OshGraph *g, const char *name, const char *version, const char *backend,
                       OshError *err)
{
  bool keras1 = version && version[0] == '1';
  bool theano = backend && strcmp (backend, "theano") == 0;
  if (!convert_legacy_kernels (g, keras1, theano, err))
    return false;
  if (theano)
    json_object_set_new (g->meta, "theano_kernels_flipped", json_true ());
  return osh_keras_check_all_weights (g, name, err);
}

static OshGraph *
read_file (const char *name, const void *data, size_t size, OshReadMode mode, OshMapping *borrow,
           OshWeightMap *map, OshError *err)
{
  OshGraph *g = NULL;
  char *config_text = NULL, *version = NULL, *backend = NULL;
  char **layer_names = NULL;
  int n_layer_names = 0;
  hid_t f = osh_h5_open_image (name, data, size, err);
  if (f < 0)
    return NULL;
  if (!osh_h5_has_attr (f, "model_config"))
    {
      if (osh_h5_has_attr (f, "layer_names") || osh_h5_has_attr (f, "layer_names0"))
        osh_fail (err, OSH_ERR_UNSUPPORTED,
                  "%s: this file holds only weights, no model config (it was saved with "
                  "save_weights); open the file of the whole model instead",
                  name);
      else
        osh_fail (err, OSH_ERR_FORMAT,
                  "%s: an HDF5 file without a 'model_config' attribute, so not a saved Keras model",
                  name);
      goto out;
    }
  config_text = osh_h5_attr_string (f, "model_config", name, err);
  if (!config_text)
    goto out;
  osh_h5_progress (strlen (config_text)); /* parsing it and building the graph */
  OshError ignored = { 0 };
  version = osh_h5_attr_string (f, "keras_version", name, &ignored);
  backend = osh_h5_attr_string (f, "backend", name, &ignored);
  g = osh_h5_config_graph (name, config_text, version, backend, err);
  if (!g)
    goto out;
  if (map && !osh_weight_map_set_h5_attrs (map, config_text, version, backend))
    {
      osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for the weight map", name);
      goto fail;
    }

  if (!osh_h5_exists (f, "model_weights"))
    {
      /* A config-only file still opens: the graph is useful to look at; running it is not. */
      json_object_set_new (g->meta, "weights_absent", json_true ());
      goto out;
    }
  char where[1200];
  snprintf (where, sizeof where, "%s: group 'model_weights'", name);
  hid_t mw = H5Gopen2 (f, "model_weights", H5P_DEFAULT);
  layer_names =
      mw >= 0 ? osh_h5_attr_strings (mw, "layer_names", where, &n_layer_names, err) : NULL;
  if (mw >= 0)
    H5Gclose (mw);
  if (!layer_names)
    {
      if (mw < 0)
        osh_fail (err, OSH_ERR_FORMAT, "%s: cannot open it", where);
      goto fail;
    }
  H5Ctx c = { f, name, data, size, mode, borrow, g, map, err };
  for (int i = 0; i < n_layer_names; i++)
    if (!bind_layer_group (&c, layer_names[i]))
      goto fail;
  if (!osh_h5_finish_weights (g, name, version, backend, err))
    goto fail;
  goto out;
fail:
  osh_graph_free (g);
  g = NULL;
out:
  osh_strv_free (layer_names, n_layer_names);
  free (config_text);
  free (version);
  free (backend);
  osh_h5_close (f);
  return g;
}

OshGraph *
osh_h5_read_mode (const char *name, const void *data, size_t size, OshReadMode mode,
                  OshMapping *borrow, OshError *err)
{
  return read_file (name, data, size, mode, borrow, NULL, err);
}

OshGraph *
osh_h5_read_check_map (const char *name, const void *data, size_t size, OshWeightMap *map,
                       OshError *err)
{
  return read_file (name, data, size, OSH_READ_CHECK, NULL, map, err);
}
