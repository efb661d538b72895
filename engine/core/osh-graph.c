#include "osh-graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-layer-index.h"
#include "osh-limits.h"

/* Grows `*items` (of `size`-byte elements) so that index `need - 1` fits. */
static bool
grow (void **items, int *cap, int need, size_t size, OshError *err)
{
  if (need <= *cap)
    return true;
  int next = *cap ? *cap * 2 : 16;
  while (next < need)
    next *= 2;
  void *p = realloc (*items, (size_t) next * size);
  if (!p)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory growing the graph to %d entries", need);
  memset ((char *) p + (size_t) *cap * size, 0, (size_t) (next - *cap) * size);
  *items = p;
  *cap = next;
  return true;
}

static OshRef *
copy_refs (const OshRef *refs, int n, OshError *err)
{
  if (n == 0)
    return NULL;
  OshRef *out = malloc ((size_t) n * sizeof *out);
  if (!out)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory for %d tensor references", n);
  else
    memcpy (out, refs, (size_t) n * sizeof *out);
  return out;
}

OshGraph *
osh_graph_new (void)
{
  OshGraph *g = calloc (1, sizeof *g);
  if (g)
    g->meta = json_object ();
  return g;
}

static void
free_layer (OshLayer *l)
{
  free (l->name);
  free (l->class_name);
  json_decref (l->config);
  for (int i = 0; i < l->n_weights; i++)
    {
      free (l->weights[i].name);
      osh_tensor_free (l->weights[i].value);
    }
  free (l->weights);
  free (l->slots);
  free (l->inputs);
  free (l->outputs);
}

void
osh_graph_free (OshGraph *g)
{
  if (!g)
    return;
  for (int i = 0; i < g->n_layers; i++)
    free_layer (&g->layers[i]);
  for (int i = 0; i < g->n_nodes; i++)
    {
      free (g->nodes[i].inputs);
      free (g->nodes[i].shapes);
      json_decref (g->nodes[i].kwargs);
    }
  free (g->layers);
  free (g->nodes);
  free (g->inputs);
  free (g->outputs);
  free (g->name);
  free (g->class_name);
  free (g->format);
  free (g->source_path);
  json_decref (g->meta);
  osh_layer_index_free (g->layer_index);
  free (g);
}

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

/* dst's shapes become copies of src's. */
bool
osh_node_copy_shapes (OshNode *dst, const OshNode *src, OshError *err)
{
  size_t bytes = (size_t) (src->n_outputs ? src->n_outputs : 1) * sizeof (OshShape);
  if (src->shapes && (dst->shapes = malloc (bytes)))
    memcpy (dst->shapes, src->shapes, bytes);
  if (src->shapes && !dst->shapes)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory copying shapes");
  return true;
}

void
osh_graph_copy_header (OshGraph *c, const OshGraph *g)
{
  c->name = dup_or_null (g->name);
  c->class_name = dup_or_null (g->class_name);
  c->format = dup_or_null (g->format);
  c->source_path = dup_or_null (g->source_path);
  c->layout = g->layout;
  c->dialect = g->dialect;
  json_decref (c->meta);
  c->meta = json_deep_copy (g->meta);
}

typedef enum
{
  COPY_VALUES,  /* osh_graph_copy */
  COPY_SHAPES,  /* osh_graph_copy_structure */
  SHARE_VALUES, /* osh_graph_copy_sharing */
} WeightCopy;

static OshTensor *
copy_weight (const OshTensor *t, WeightCopy how, OshError *err)
{
  switch (how)
    {
    case COPY_SHAPES: return osh_tensor_shape_only (t, err);
    case SHARE_VALUES: return osh_tensor_share (t, err);
    default: return osh_tensor_copy (t, err);
    }
}

static OshGraph *
copy_graph (const OshGraph *g, WeightCopy how, OshError *err)
{
  OshGraph *c = osh_graph_new ();
  if (!c)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory copying a graph");
      return NULL;
    }
  osh_graph_copy_header (c, g);
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      if (osh_graph_add_layer (c, l->owner, l->name, l->class_name, json_deep_copy (l->config), err)
          < 0)
        goto fail;
      OshLayer *cl = &c->layers[i];
      cl->trainable = l->trainable;
      cl->is_model = l->is_model;
      for (int w = 0; w < l->n_weights; w++)
        {
          const OshTensor *from = l->weights[w].value;
          OshTensor *v = copy_weight (from, how, err);
          if (!v
              || !osh_layer_add_weight (c, i, l->weights[w].name, v, l->weights[w].trainable, err))
            goto fail;
          c->layers[i].weights[w].index = l->weights[w].index;
        }
      if (l->slots && !osh_layer_copy_slots (c, i, l, err))
        goto fail;
    }
  for (int i = 0; i < g->n_nodes; i++)
    {
      const OshNode *n = &g->nodes[i];
      if (osh_graph_add_node (c, n->layer, n->inputs, n->n_inputs, n->n_outputs, err) < 0)
        goto fail;
      if (!osh_node_copy_shapes (&c->nodes[i], n, err))
        goto fail;
      c->nodes[i].kwargs = n->kwargs ? json_deep_copy (n->kwargs) : NULL;
    }
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      if (l->is_model
          && !osh_graph_set_io (c, i, l->inputs, l->n_inputs, l->outputs, l->n_outputs, err))
        goto fail;
    }
  if (!osh_graph_set_io (c, -1, g->inputs, g->n_inputs, g->outputs, g->n_outputs, err))
    goto fail;
  return c;
fail:
  osh_graph_free (c);
  return NULL;
}

OshGraph *
osh_graph_copy (const OshGraph *g, OshError *err)
{
  return copy_graph (g, COPY_VALUES, err);
}

OshGraph *
osh_graph_copy_structure (const OshGraph *g, OshError *err)
{
  return copy_graph (g, COPY_SHAPES, err);
}

OshGraph *
osh_graph_copy_sharing (const OshGraph *g, OshError *err)
{
  return copy_graph (g, SHARE_VALUES, err);
}

int
osh_graph_add_layer (OshGraph *g, int owner, const char *name, const char *class_name,
                     json_t *config, OshError *err)
{
  if (!config)
    config = json_object ();
  if (owner < -1 || owner >= g->n_layers)
    {
      json_decref (config);
      osh_fail (err, OSH_ERR_USAGE, "layer '%s': owner %d does not exist", name, owner);
      return -1;
    }
  if (g->n_layers >= OSH_MAX_LAYERS)
    {
      json_decref (config);
      osh_fail (err, OSH_ERR_LIMIT, "more than %d layers", OSH_MAX_LAYERS);
      return -1;
    }
  if (osh_graph_find_layer (g, owner, name) >= 0)
    {
      json_decref (config);
      osh_fail (
          err, OSH_ERR_FORMAT,
          "The name \"%s\" is used more than once in the model. All layer names should be unique.",
          name);
      return -1;
    }
  if (!json_is_object (config)
      || !grow ((void **) &g->layers, &g->layers_cap, g->n_layers + 1, sizeof (OshLayer), err))
    {
      if (!json_is_object (config))
        osh_fail (err, OSH_ERR_FORMAT, "layer '%s': its config is not an object", name);
      json_decref (config);
      return -1;
    }
  OshLayer *l = &g->layers[g->n_layers];
  memset (l, 0, sizeof *l);
  l->name = strdup (name);
  l->class_name = strdup (class_name);
  l->config = config;
  l->owner = owner;
  l->trainable = osh_config_bool (config, "trainable", true);
  if (!l->name || !l->class_name)
    {
      free_layer (l);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory adding layer '%s'", name);
      return -1;
    }
  osh_layer_index_add (g, g->n_layers);
  return g->n_layers++;
}

bool
osh_graph_rename_layer (OshGraph *g, int layer, const char *name, OshError *err)
{
  if (layer < 0 || layer >= g->n_layers)
    return osh_fail (err, OSH_ERR_USAGE, "renaming layer %d, which does not exist", layer);
  int other = osh_graph_find_layer (g, g->layers[layer].owner, name);
  if (other >= 0 && other != layer)
    return osh_fail (
        err, OSH_ERR_FORMAT,
        "The name \"%s\" is used more than once in the model. All layer names should be unique.",
        name);
  char *copy = strdup (name);
  if (!copy)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory renaming layer '%s'",
                     g->layers[layer].name);
  free (g->layers[layer].name);
  g->layers[layer].name = copy;
  osh_layer_index_rebuild (g); /* renames are rare: no removal from the hash */
  return true;
}

static bool
check_refs (const OshGraph *g, const OshRef *refs, int n, const char *what, OshError *err)
{
  for (int i = 0; i < n; i++)
    {
      if (refs[i].node < 0 || refs[i].node >= g->n_nodes)
        return osh_fail (err, OSH_ERR_FORMAT,
                         "%s: tensor %d refers to node %d, which does not exist", what, i,
                         refs[i].node);
      if (refs[i].index < 0 || refs[i].index >= g->nodes[refs[i].node].n_outputs)
        return osh_fail (err, OSH_ERR_FORMAT,
                         "%s: tensor %d asks for output %d of layer '%s', which has %d", what, i,
                         refs[i].index, g->layers[g->nodes[refs[i].node].layer].name,
                         g->nodes[refs[i].node].n_outputs);
    }
  return true;
}

int
osh_graph_add_node (OshGraph *g, int layer, const OshRef *inputs, int n_inputs, int n_outputs,
                    OshError *err)
{
  if (layer < 0 || layer >= g->n_layers)
    {
      osh_fail (err, OSH_ERR_USAGE, "a node calls layer %d, which does not exist", layer);
      return -1;
    }
  if (g->n_nodes >= OSH_MAX_NODES)
    {
      osh_fail (err, OSH_ERR_LIMIT, "more than %d layer calls", OSH_MAX_NODES);
      return -1;
    }
  char what[300];
  snprintf (what, sizeof what, "layer '%s'", g->layers[layer].name);
  if (n_outputs < 1 || n_inputs < 0 || !check_refs (g, inputs, n_inputs, what, err))
    {
      if (n_outputs < 1 || n_inputs < 0)
        osh_fail (err, OSH_ERR_USAGE, "%s: a call needs at least one output", what);
      return -1;
    }
  if (!grow ((void **) &g->nodes, &g->nodes_cap, g->n_nodes + 1, sizeof (OshNode), err))
    return -1;
  OshNode *n = &g->nodes[g->n_nodes];
  memset (n, 0, sizeof *n);
  n->layer = layer;
  n->n_outputs = n_outputs;
  n->n_inputs = n_inputs;
  if (n_inputs && !(n->inputs = copy_refs (inputs, n_inputs, err)))
    return -1;
  return g->n_nodes++;
}

bool
osh_graph_set_io (OshGraph *g, int model_layer, const OshRef *inputs, int n_inputs,
                  const OshRef *outputs, int n_outputs, OshError *err)
{
  char what[300];
  snprintf (what, sizeof what, "model '%s'",
            model_layer < 0 ? (g->name ? g->name : "model") : g->layers[model_layer].name);
  if (!check_refs (g, inputs, n_inputs, what, err)
      || !check_refs (g, outputs, n_outputs, what, err))
    return false;
  OshRef *in = copy_refs (inputs, n_inputs, err);
  OshRef *out = copy_refs (outputs, n_outputs, err);
  if ((n_inputs && !in) || (n_outputs && !out))
    {
      free (in);
      free (out);
      return false;
    }
  OshRef **in_slot = model_layer < 0 ? &g->inputs : &g->layers[model_layer].inputs;
  OshRef **out_slot = model_layer < 0 ? &g->outputs : &g->layers[model_layer].outputs;
  free (*in_slot);
  free (*out_slot);
  *in_slot = in;
  *out_slot = out;
  if (model_layer < 0)
    {
      g->n_inputs = n_inputs;
      g->n_outputs = n_outputs;
    }
  else
    {
      g->layers[model_layer].is_model = true;
      g->layers[model_layer].n_inputs = n_inputs;
      g->layers[model_layer].n_outputs = n_outputs;
    }
  return true;
}

bool
osh_layer_add_weight (OshGraph *g, int layer, const char *name, OshTensor *value, bool trainable,
                      OshError *err)
{
  OshLayer *l = &g->layers[layer];
  OshWeight *w = realloc (l->weights, (size_t) (l->n_weights + 1) * sizeof *w);
  char *copy = strdup (name ? name : "");
  if (!w || !copy)
    {
      if (w)
        l->weights = w;
      free (copy);
      osh_tensor_free (value);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory adding a weight to layer '%s'", l->name);
    }
  l->weights = w;
  w[l->n_weights++] = (OshWeight){ copy, value, trainable, false };
  return true;
}

bool
osh_layer_set_slots (OshGraph *g, int layer, const OshSlotKind *kinds, int n, OshError *err)
{
  OshLayer *l = &g->layers[layer];
  OshSlot *s = malloc ((size_t) (n > 0 ? n : 1) * sizeof *s);
  if (!s)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory for the inputs of layer '%s'", l->name);
  int count[3] = { 0, 0, 0 };
  for (int i = 0; i < n; i++)
    s[i] = (OshSlot){ kinds[i], kinds[i] == OSH_SLOT_ABSENT ? -1 : count[kinds[i]]++ };
  free (l->slots);
  l->slots = s;
  l->n_slots = n;
  return true;
}

bool
osh_layer_copy_slots (OshGraph *g, int layer, const OshLayer *from, OshError *err)
{
  OshLayer *l = &g->layers[layer];
  free (l->slots);
  l->slots = NULL;
  l->n_slots = 0;
  if (!from->slots)
    return true;
  if (!(l->slots = malloc ((size_t) (from->n_slots > 0 ? from->n_slots : 1) * sizeof *l->slots)))
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory for the inputs of layer '%s'", l->name);
  memcpy (l->slots, from->slots, (size_t) from->n_slots * sizeof *l->slots);
  l->n_slots = from->n_slots;
  return true;
}

int
osh_graph_find_layer (const OshGraph *g, int owner, const char *name)
{
  int found = osh_layer_index_find (g, owner, name);
  if (found != -2)
    return found;
  for (int i = 0; i < g->n_layers; i++)
    if (g->layers[i].owner == owner && strcmp (g->layers[i].name, name) == 0)
      return i;
  return -1;
}

/* Keras names may hold "/" themselves (Keras 2's MobileNetV3: "expanded_conv/project"), so
 * the whole rest is tried as a name first, then each split at a nested model, longest first. */
static int
find_path_in (const OshGraph *g, int owner, const char *part)
{
  int whole = osh_graph_find_layer (g, owner, part);
  if (whole >= 0)
    return whole;
  for (size_t len = strlen (part); len-- > 1;)
    {
      char name[512];
      if (part[len] != '/' || len >= sizeof name)
        continue;
      memcpy (name, part, len);
      name[len] = '\0';
      int nested = osh_graph_find_layer (g, owner, name);
      int found =
          nested >= 0 && g->layers[nested].is_model ? find_path_in (g, nested, part + len + 1) : -1;
      if (found >= 0)
        return found;
    }
  return -1;
}

int
osh_graph_find_path (const OshGraph *g, const char *path)
{
  return path && *path ? find_path_in (g, -1, path) : -1;
}

char *
osh_graph_layer_path (const OshGraph *g, int layer)
{
  if (layer < 0 || layer >= g->n_layers)
    return strdup ("");
  size_t len = 0;
  for (int l = layer; l >= 0; l = g->layers[l].owner)
    len += strlen (g->layers[l].name) + 1; /* a name and its separator (or the final NUL) */
  char *path = malloc (len);
  if (!path)
    return NULL;
  size_t end = len - 1;
  path[end] = '\0';
  for (int l = layer; l >= 0; l = g->layers[l].owner)
    {
      size_t n = strlen (g->layers[l].name);
      end -= n;
      memcpy (path + end, g->layers[l].name, n);
      if (end > 0)
        path[--end] = '/';
    }
  return path;
}

int
osh_graph_layer_depth (const OshGraph *g, int layer)
{
  int depth = 0;
  for (int l = g->layers[layer].owner; l >= 0; l = g->layers[l].owner)
    depth++;
  return depth;
}

bool
osh_graph_layer_within (const OshGraph *g, int layer, int ancestor)
{
  for (int l = layer; l >= 0; l = g->layers[l].owner)
    if (l == ancestor)
      return true;
  return false;
}

int
osh_graph_layer_first_node (const OshGraph *g, int layer)
{
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].layer == layer)
      return i;
  return -1;
}

static int64_t
own_params (const OshLayer *l, int64_t *trainable)
{
  int64_t total = 0;
  for (int w = 0; w < l->n_weights; w++)
    {
      if (l->weights[w].index)
        continue;
      int64_t n = osh_tensor_numel (l->weights[w].value);
      total += n;
      if (l->weights[w].trainable && l->trainable)
        *trainable += n;
    }
  return total;
}

int64_t
osh_graph_layer_params (const OshGraph *g, int layer, int64_t *trainable_out)
{
  int64_t trainable = 0, total = 0;
  if (!g->layers[layer].is_model) /* only a model owns layers: no scan (grouping asks per layer) */
    total = own_params (&g->layers[layer], &trainable);
  else
    for (int i = layer; i < g->n_layers; i++) /* an owner comes before what it owns */
      if (osh_graph_layer_within (g, i, layer))
        total += own_params (&g->layers[i], &trainable);
  if (trainable_out)
    *trainable_out = trainable;
  return total;
}

int64_t
osh_graph_total_params (const OshGraph *g, int64_t *trainable_out)
{
  int64_t trainable = 0, total = 0;
  for (int i = 0; i < g->n_layers; i++)
    total += own_params (&g->layers[i], &trainable);
  if (trainable_out)
    *trainable_out = trainable;
  return total;
}

int64_t
osh_config_int (const json_t *config, const char *key, int64_t fallback)
{
  json_t *v = json_object_get (config, key);
  if (json_is_integer (v))
    return json_integer_value (v);
  if (json_is_real (v))
    return (int64_t) json_real_value (v);
  return fallback;
}

double
osh_config_double (const json_t *config, const char *key, double fallback)
{
  json_t *v = json_object_get (config, key);
  return json_is_number (v) ? json_number_value (v) : fallback;
}

bool
osh_config_bool (const json_t *config, const char *key, bool fallback)
{
  json_t *v = json_object_get (config, key);
  return json_is_boolean (v) ? json_is_true (v) : fallback;
}

const char *
osh_config_string (const json_t *config, const char *key, const char *fallback)
{
  json_t *v = json_object_get (config, key);
  return json_is_string (v) ? json_string_value (v) : fallback;
}

bool
osh_config_ints (const json_t *config, const char *key, int64_t *out, int n)
{
  json_t *v = json_object_get (config, key);
  if (json_is_integer (v))
    {
      for (int i = 0; i < n; i++)
        out[i] = json_integer_value (v);
      return true;
    }
  if (!json_is_array (v) || json_array_size (v) != (size_t) n)
    return false;
  for (int i = 0; i < n; i++)
    {
      json_t *e = json_array_get (v, (size_t) i);
      if (!json_is_integer (e))
        return false;
      out[i] = json_integer_value (e);
    }
  return true;
}
