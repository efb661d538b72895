/* Keras 2 .h5 writer: the layout tf.keras's model.save("x.h5") produces.
 *
 *   /                 attrs keras_version, backend, model_config (JSON)
 *   /model_weights    attrs layer_names, keras_version, backend
 *   /model_weights/<layer>            attr weight_names ["<layer>/kernel:0", ...]
 *   /model_weights/<layer>/<layer>/kernel:0       the datasets, at their weight names
 *
 * A nested model's group holds the weights of its whole sub-tree, layer by layer
 * ("block1_conv/kernel:0", ...), as tf.keras saves them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-formats.h"
#include "osh-write-config.h"
#include "osh-write-hdf5.h"
#include "osh-write-names.h"

typedef struct
{
  char **items;
  int n, cap;
} Names;

static void
names_clear (Names *s)
{
  for (int i = 0; i < s->n; i++)
    free (s->items[i]);
  free (s->items);
  memset (s, 0, sizeof *s);
}

static bool
names_has (const Names *s, const char *name)
{
  for (int i = 0; i < s->n; i++)
    if (strcmp (s->items[i], name) == 0)
      return true;
  return false;
}

/* Takes `name`; a repeat gets "_1", "_2", ... before its ":0". */
static bool
names_add_unique (Names *s, char *name)
{
  if (!name)
    return false;
  if (names_has (s, name))
    {
      size_t len = strlen (name) + 16;
      char *colon = strrchr (name, ':');
      size_t stem = colon ? (size_t) (colon - name) : strlen (name);
      char *fresh = malloc (len);
      if (!fresh)
        {
          free (name);
          return false;
        }
      for (int k = 1;; k++)
        {
          snprintf (fresh, len, "%.*s_%d%s", (int) stem, name, k, colon ? colon : "");
          if (!names_has (s, fresh))
            break;
        }
      free (name);
      name = fresh;
    }
  if (s->n == s->cap)
    {
      int cap = s->cap ? 2 * s->cap : 16;
      char **items = realloc (s->items, (size_t) cap * sizeof *items);
      if (!items)
        {
          free (name);
          return false;
        }
      s->items = items;
      s->cap = cap;
    }
  s->items[s->n++] = name;
  return true;
}

/* Writes the weights of `layer` (a model layer: its whole sub-tree) into `group`,
 * appending their names to `names`. */
static bool
write_layer_weights (OshH5Writer *w, const OshWriteScope *s, int layer, hid_t group, Names *names,
                     OshError *err)
{
  const OshGraph *g = s->g;
  const OshLayer *l = &g->layers[layer];
  for (int i = 0; i < l->n_weights; i++)
    {
      if (!names_add_unique (names, osh_weight_h5_name (g, layer, i)))
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory naming weights");
      if (!osh_h5w_dataset (w, group, names->items[names->n - 1], l->weights[i].value, err))
        {
          osh_error_prefix (err, "layer '%s': ", l->name);
          return false;
        }
    }
  if (l->is_model)
    for (int i = 0; i < g->n_layers; i++)
      if (g->layers[i].owner == layer && s->layer_kept[i]
          && !write_layer_weights (w, s, i, group, names, err))
        return false;
  return true;
}

static bool
write_weights (OshH5Writer *w, const OshWriteScope *s, hid_t root, const char *version,
               OshError *err)
{
  const OshGraph *g = s->g;
  hid_t mw = osh_h5w_group (w, root, "model_weights", err);
  if (mw < 0)
    return false;
  bool seq = osh_write_is_sequential (s, -1);
  Names layer_names = { 0 };
  bool ok = osh_h5w_attr_string (w, mw, "backend", "tensorflow", err)
            && osh_h5w_attr_string (w, mw, "keras_version", version, err);
  for (int i = 0; ok && i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      if (l->owner != -1 || !s->layer_kept[i] || (seq && strcmp (l->class_name, "InputLayer") == 0))
        continue;
      ok = names_add_unique (&layer_names, strdup (l->name));
      hid_t lg = ok ? osh_h5w_group (w, mw, l->name, err) : -1;
      if (lg < 0)
        {
          ok = ok ? false : osh_fail (err, OSH_ERR_NOMEM, "out of memory");
          break;
        }
      Names weight_names = { 0 };
      ok = write_layer_weights (w, s, i, lg, &weight_names, err)
           && osh_h5w_attr_strings (w, lg, "weight_names", weight_names.items, weight_names.n, err);
      names_clear (&weight_names);
      H5Gclose (lg);
    }
  ok = ok && osh_h5w_attr_strings (w, mw, "layer_names", layer_names.items, layer_names.n, err);
  names_clear (&layer_names);
  H5Gclose (mw);
  return ok;
}

bool
osh_h5_write (const OshGraph *g, const char *tmp_path, OshError *err)
{
  OshWriteScope scope;
  if (!osh_write_scope_init (&scope, g, err))
    return false;
  json_t *cfg = osh_write_model_config (&scope, OSH_KERAS_CONFIG_2, err);
  if (!cfg)
    {
      osh_write_scope_clear (&scope);
      return false;
    }
  char *text = json_dumps (cfg, JSON_COMPACT);
  json_decref (cfg);
  OshH5Writer w;
  if (!text || !osh_h5w_open (&w, tmp_path, true, err))
    {
      if (!text)
        osh_fail (err, OSH_ERR_NOMEM, "out of memory writing the model config");
      free (text);
      osh_write_scope_clear (&scope);
      return false;
    }
  const char *version = osh_write_keras_version (g, OSH_KERAS_CONFIG_2);
  bool ok = osh_h5w_attr_string (&w, w.file, "keras_version", version, err)
            && osh_h5w_attr_string (&w, w.file, "backend", "tensorflow", err)
            && osh_h5w_attr_string (&w, w.file, "model_config", text, err)
            && write_weights (&w, &scope, w.file, version, err);
  free (text);
  osh_write_scope_clear (&scope);
  return osh_h5w_close_to_file (&w, ok, err);
}
