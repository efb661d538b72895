/* TF.js layers-model writer: model.json (the Keras config and a weights manifest) and one
 * shard, group1-shard1of1.bin, beside it, as tfjs's own model.save() lays them out.
 * Weights are named "<layer>/<role>", the names tfjs looks them up by; all float32. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osh-formats.h"
#include "osh-write-config.h"
#include "osh-write-names.h"

#define SHARD_NAME "group1-shard1of1.bin"

/* "<dir of final_path>/group1-shard1of1.bin" (malloc'd). */
static char *
shard_path (const char *final_path)
{
  const char *slash = strrchr (final_path, '/');
  size_t dir = slash ? (size_t) (slash - final_path + 1) : 0;
  size_t n = dir + sizeof SHARD_NAME + 32;
  char *p = malloc (n);
  if (p)
    snprintf (p, n, "%.*s%s", (int) dir, final_path, SHARD_NAME);
  return p;
}

static bool
write_all (FILE *f, const void *data, size_t size)
{
  return size == 0 || fwrite (data, 1, size, f) == size;
}

/* Writes every weight to `f` in layer order and describes it in `manifest`. */
static bool
write_shard (const OshWriteScope *s, FILE *f, const char *path, json_t *manifest, OshError *err)
{
  const OshGraph *g = s->g;
  for (int li = 0; li < g->n_layers; li++)
    {
      if (!s->layer_kept[li])
        continue;
      const OshLayer *l = &g->layers[li];
      for (int i = 0; i < l->n_weights; i++)
        {
          const OshTensor *t = l->weights[i].value;
          char *name = osh_weight_tfjs_name (g, li, i);
          json_t *shape = json_array ();
          for (int d = 0; d < t->shape.rank; d++)
            json_array_append_new (shape, json_integer (t->shape.dim[d]));
          json_t *entry =
              json_pack ("{s:s?, s:o, s:s}", "name", name, "shape", shape, "dtype", "float32");
          free (name);
          if (!entry)
            return osh_fail (err, OSH_ERR_NOMEM, "out of memory writing the weights manifest");
          json_array_append_new (manifest, entry);
          /* The shard is little-endian float32, which is how the buffer already sits here. */
          if (!write_all (f, t->data, (size_t) osh_tensor_numel (t) * sizeof (float)))
            return osh_fail (err, OSH_ERR_IO, "%s: cannot write the weights of layer '%s': %s",
                             path, l->name, strerror (errno));
        }
    }
  return true;
}

typedef struct
{
  char *name;
  int layer;
} NamedWeight;

static int
compare_named (const void *a, const void *b)
{
  const NamedWeight *x = a, *y = b;
  int c = strcmp (x->name, y->name);
  return c != 0 ? c : (x->layer > y->layer) - (x->layer < y->layer);
}

/* tfjs binds weights by name, so two layers of the same name in different nested models
 * would load each other's weights: refuse, naming both. */
static bool
check_unique_names (const OshWriteScope *s, OshError *err)
{
  const OshGraph *g = s->g;
  int n = 0;
  for (int l = 0; l < g->n_layers; l++)
    n += g->layers[l].n_weights;
  NamedWeight *all = calloc ((size_t) n + 1, sizeof *all);
  if (!all)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory checking weight names");
  int k = 0;
  bool ok = true;
  for (int l = 0; l < g->n_layers && ok; l++)
    for (int i = 0; s->layer_kept[l] && i < g->layers[l].n_weights && ok; i++)
      {
        all[k].layer = l;
        all[k].name = osh_weight_tfjs_name (g, l, i);
        ok = all[k++].name != NULL;
      }
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory checking weight names");
  qsort (all, (size_t) k, sizeof *all, compare_named);
  for (int i = 1; ok && i < k; i++)
    if (strcmp (all[i - 1].name, all[i].name) == 0)
      {
        char *a = osh_graph_layer_path (g, all[i - 1].layer),
             *b = osh_graph_layer_path (g, all[i].layer);
        ok = osh_fail (err, OSH_ERR_UNSUPPORTED,
                       "layers '%s' and '%s' would both store weight '%s' in model.json, and tfjs "
                       "finds weights by that name: rename one of the layers",
                       a ? a : "?", b ? b : "?", all[i].name);
        free (a);
        free (b);
      }
  for (int i = 0; i < k; i++)
    free (all[i].name);
  free (all);
  return ok;
}

static bool
write_text (const char *path, const char *text, OshError *err)
{
  FILE *f = fopen (path, "wb");
  if (!f)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot create: %s", path, strerror (errno));
  bool ok = write_all (f, text, strlen (text));
  ok = (fclose (f) == 0) && ok;
  if (!ok)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot write: %s", path, strerror (errno));
  return true;
}

bool
osh_tfjs_write (const OshGraph *g, const char *tmp_path, const char *final_path, OshError *err)
{
  OshWriteScope scope;
  if (!osh_write_scope_init (&scope, g, err))
    return false;
  json_t *topology = check_unique_names (&scope, err)
                         ? osh_write_model_config (&scope, OSH_KERAS_CONFIG_2, err)
                         : NULL;
  if (!topology)
    {
      osh_write_scope_clear (&scope);
      return false;
    }
  json_object_set_new (topology, "keras_version", json_string ("tfjs-layers 4.22.0"));
  json_object_set_new (topology, "backend", json_string ("tensor_flow.js"));

  char *shard = shard_path (final_path);
  size_t tmp_n = shard ? strlen (shard) + 32 : 0;
  char *shard_tmp = shard ? malloc (tmp_n) : NULL;
  if (!shard_tmp)
    {
      free (shard);
      osh_write_scope_clear (&scope);
      json_decref (topology);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  snprintf (shard_tmp, tmp_n, "%s.tmp-%ld", shard, (long) getpid ());

  json_t *weights = json_array ();
  bool ok = false;
  FILE *f = fopen (shard_tmp, "wb");
  if (!f)
    osh_fail (err, OSH_ERR_IO, "%s: cannot create: %s", shard_tmp, strerror (errno));
  else
    {
      ok = write_shard (&scope, f, shard_tmp, weights, err);
      if (fclose (f) != 0 && ok)
        ok = osh_fail (err, OSH_ERR_IO, "%s: cannot write: %s", shard_tmp, strerror (errno));
    }
  char *text = NULL;
  if (ok)
    {
      json_t *doc =
          json_pack ("{s:s, s:s, s:s, s:o, s:[{s:[s], s:o}]}", "format", "layers-model",
                     "generatedBy", "Offshoot", "convertedBy", "Offshoot", "modelTopology",
                     topology, "weightsManifest", "paths", SHARD_NAME, "weights", weights);
      topology = NULL;
      weights = NULL;
      text = doc ? json_dumps (doc, JSON_COMPACT) : NULL;
      json_decref (doc);
      ok = text ? write_text (tmp_path, text, err)
                : osh_fail (err, OSH_ERR_NOMEM, "out of memory writing model.json");
    }
  /* The shard goes into place just before osh_model_save renames model.json. */
  if (ok && rename (shard_tmp, shard) != 0)
    ok = osh_fail (err, OSH_ERR_IO, "%s: cannot rename the finished shard into place: %s", shard,
                   strerror (errno));
  if (!ok)
    unlink (shard_tmp);
  free (text);
  json_decref (topology);
  json_decref (weights);
  free (shard);
  free (shard_tmp);
  osh_write_scope_clear (&scope);
  return ok;
}
