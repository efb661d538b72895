/* IR -> Keras model config JSON (osh-write-config.h). */
#include "osh-write-config.h"

#include <stdlib.h>
#include <string.h>

#include "osh-connectivity.h"
#include "osh-op.h"

typedef struct
{
  const OshGraph *g;
  const OshWriteScope *scope;
  OshKerasConfigStyle style;
  int *node_ord; /* each kept node's index among the kept nodes of its layer (Keras's node_index) */
} Ctx;

static json_t *model_entry_config (Ctx *c, int owner, OshError *err);
static const char *written_class (Ctx *c, int layer);

static void
keep_inputs (OshWriteScope *s, const OshRef *refs, int n)
{
  for (int i = 0; i < n; i++)
    if (refs[i].node >= 0 && refs[i].node < s->g->n_nodes)
      s->node_kept[refs[i].node] = true;
}

bool
osh_write_scope_init (OshWriteScope *s, const OshGraph *g, OshError *err)
{
  s->g = g;
  s->layer_kept = calloc ((size_t) g->n_layers + 1, sizeof (bool));
  s->node_kept = calloc ((size_t) g->n_nodes + 1, sizeof (bool));
  if (!s->layer_kept || !s->node_kept
      || !osh_graph_mark_used (g, g->outputs, g->n_outputs, s->node_kept))
    {
      osh_write_scope_clear (s);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory finding the layers to write");
    }
  /* Keras keeps every declared input, needed or not, of the model and of kept nested models. */
  keep_inputs (s, g->inputs, g->n_inputs);
  for (int n = 0; n < g->n_nodes; n++)
    if (s->node_kept[n])
      s->layer_kept[g->nodes[n].layer] = true;
  for (int i = 0; i < g->n_layers; i++)
    if (s->layer_kept[i] && g->layers[i].is_model)
      keep_inputs (s, g->layers[i].inputs, g->layers[i].n_inputs);
  for (int n = 0; n < g->n_nodes; n++)
    if (s->node_kept[n])
      s->layer_kept[g->nodes[n].layer] = true;
  return true;
}

void
osh_write_scope_clear (OshWriteScope *s)
{
  free (s->layer_kept);
  free (s->node_kept);
  s->layer_kept = NULL;
  s->node_kept = NULL;
}

static bool
is_class (const OshLayer *l, const char *name)
{
  return strcmp (l->class_name, name) == 0;
}

static const OshRef *
model_inputs (const OshGraph *g, int owner, int *n)
{
  *n = owner < 0 ? g->n_inputs : g->layers[owner].n_inputs;
  return owner < 0 ? g->inputs : g->layers[owner].inputs;
}

static const OshRef *
model_outputs (const OshGraph *g, int owner, int *n)
{
  *n = owner < 0 ? g->n_outputs : g->layers[owner].n_outputs;
  return owner < 0 ? g->outputs : g->layers[owner].outputs;
}

static const char *
model_class (const OshGraph *g, int owner)
{
  return owner < 0 ? (g->class_name ? g->class_name : "Functional") : g->layers[owner].class_name;
}

bool
osh_write_is_sequential (const OshWriteScope *s, int owner)
{
  const OshGraph *g = s->g;
  if (strcmp (model_class (g, owner), "Sequential") != 0)
    return false;
  int n_in, n_out;
  const OshRef *in = model_inputs (g, owner, &n_in);
  const OshRef *out = model_outputs (g, owner, &n_out);
  if (n_in != 1 || n_out != 1 || in[0].node < 0 || out[0].index != 0)
    return false;
  /* The owner's kept layers, in order: an InputLayer, then one single-input call per layer,
   * each on the previous layer's output. */
  int prev_node = -1;
  for (int i = 0; i < g->n_layers; i++)
    {
      if (g->layers[i].owner != owner || !s->layer_kept[i])
        continue;
      int first = -1;
      for (int n = 0; n < g->n_nodes; n++)
        if (g->nodes[n].layer == i && s->node_kept[n])
          {
            if (first >= 0)
              return false; /* a shared layer */
            first = n;
          }
      if (first < 0)
        return false;
      const OshNode *node = &g->nodes[first];
      if (prev_node < 0)
        {
          if (!is_class (&g->layers[i], "InputLayer") || first != in[0].node)
            return false;
        }
      else if (node->n_inputs != 1 || node->inputs[0].node != prev_node
               || node->inputs[0].index != 0 || node->n_outputs != 1)
        return false;
      prev_node = first;
    }
  return prev_node >= 0 && prev_node == out[0].node;
}

/* A shape as Keras writes it: a list with null for unknown sizes; NULL when not inferred. */
static json_t *
shape_json (const OshGraph *g, OshRef ref)
{
  if (ref.node < 0 || ref.node >= g->n_nodes)
    return NULL;
  const OshNode *n = &g->nodes[ref.node];
  if (!n->shapes || ref.index >= n->n_outputs || n->shapes[ref.index].rank == 0)
    return NULL;
  const OshShape *s = &n->shapes[ref.index];
  json_t *a = json_array ();
  for (int i = 0; i < s->rank; i++)
    json_array_append_new (a, s->dim[i] < 0 ? json_null () : json_integer (s->dim[i]));
  return a;
}

/* Keras 3 writes dtype policies and initializers with module/registered_name; Keras 2 and
 * tfjs want plain dtype names and {class_name, config} objects. */
static void
to_keras2_form (json_t *v)
{
  if (json_is_array (v))
    {
      size_t i;
      json_t *item;
      json_array_foreach (v, i, item)
        to_keras2_form (item);
      return;
    }
  if (!json_is_object (v))
    return;
  json_object_del (v, "module");
  json_object_del (v, "registered_name");
  json_object_del (v, "shared_object_id");
  const char *key;
  json_t *item;
  void *tmp;
  json_object_foreach_safe (v, tmp, key, item)
    {
      const char *cls = json_string_value (json_object_get (item, "class_name"));
      if (strcmp (key, "dtype") == 0 && cls && strstr (cls, "Policy"))
        {
          const char *name =
              osh_config_string (json_object_get (item, "config"), "name", "float32");
          json_object_set_new (v, key, json_string (name));
        }
      else
        to_keras2_form (item);
    }
}

static void
rename_key (json_t *obj, const char *from, const char *to)
{
  json_t *v = json_object_get (obj, from);
  if (v && !json_object_get (obj, to))
    json_object_set (obj, to, v);
  json_object_del (obj, from);
}

/* The layer's own config with name and trainable; model layers get their graph. */
static json_t *
layer_config (Ctx *c, int layer, OshError *err)
{
  const OshLayer *l = &c->g->layers[layer];
  if (l->is_model)
    return model_entry_config (c, layer, err);
  json_t *cfg = json_deep_copy (l->config);
  if (!cfg || !json_is_object (cfg))
    {
      json_decref (cfg);
      cfg = json_object ();
    }
  json_object_set_new (cfg, "name", json_string (l->name));
  if (is_class (l, "InputLayer"))
    {
      const char *key = c->style == OSH_KERAS_CONFIG_2 ? "batch_input_shape" : "batch_shape";
      rename_key (cfg, c->style == OSH_KERAS_CONFIG_2 ? "batch_shape" : "batch_input_shape", key);
      if (!json_object_get (cfg, key))
        {
          json_t *shape =
              shape_json (c->g, (OshRef){ osh_graph_layer_first_node (c->g, layer), 0 });
          if (shape)
            json_object_set_new (cfg, key, shape);
        }
      json_object_del (cfg, "trainable"); /* Keras's InputLayer config has none */
    }
  else
    json_object_set_new (cfg, "trainable", json_boolean (l->trainable));
  if (c->style == OSH_KERAS_CONFIG_2)
    to_keras2_form (cfg);
  return cfg;
}

/* [layer, node_index, tensor_index] of a tensor, checked to lie within `owner`'s graph. */
static json_t *
history (Ctx *c, int owner, OshRef ref, bool for_io, const char *user, OshError *err)
{
  const OshGraph *g = c->g;
  if (ref.node < 0 || ref.node >= g->n_nodes)
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s takes a tensor with no producing layer", user);
      return NULL;
    }
  int producer = g->nodes[ref.node].layer;
  if (g->layers[producer].owner != owner)
    {
      char *path = osh_graph_layer_path (g, producer);
      const char *model = owner < 0 ? (g->name ? g->name : "the model") : g->layers[owner].name;
      osh_fail (err, OSH_ERR_DISCONNECTED,
                "%s takes the output of layer '%s', which is not part of model '%s': the graph is "
                "disconnected and Keras could not rebuild it (see `offshoot check`)",
                user, path ? path : "?", model);
      free (path);
      return NULL;
    }
  /* In Keras 2 and tfjs a nested model's node 0 is the one its own construction made, so
   * its calls are numbered from 1 (tf.keras's _should_skip_first_node); Keras 3 keeps that
   * numbering for a nested Functional in input_layers/output_layers only. */
  int skip = 0;
  if (g->layers[producer].is_model)
    skip = c->style == OSH_KERAS_CONFIG_2
           || (for_io && strcmp (written_class (c, producer), "Functional") == 0);
  return json_pack ("[sii]", g->layers[producer].name, c->node_ord[ref.node] + skip, ref.index);
}

static json_t *
keras3_tensor (Ctx *c, json_t *hist, OshRef ref)
{
  json_t *cfg = json_pack ("{s:s, s:o}", "dtype", "float32", "keras_history", hist);
  json_t *shape = shape_json (c->g, ref);
  json_object_set_new (cfg, "shape", shape ? shape : json_null ());
  return json_pack ("{s:s, s:o}", "class_name", "__keras_tensor__", "config", cfg);
}

/* One call of a layer: Keras 2 [[layer, node, tensor, kwargs], ...] or Keras 3 {args, kwargs}. */
static json_t *
node_json (Ctx *c, int owner, int node, OshError *err)
{
  const OshGraph *g = c->g;
  const OshNode *n = &g->nodes[node];
  char user[512];
  snprintf (user, sizeof user, "layer '%s'", g->layers[n->layer].name);
  json_t *kwargs = json_is_object (n->kwargs) ? json_deep_copy (n->kwargs) : json_object ();
  json_t *list = json_array ();
  for (int i = 0; i < n->n_inputs; i++)
    {
      json_t *hist = history (c, owner, n->inputs[i], false, user, err);
      if (!hist)
        {
          json_decref (list);
          json_decref (kwargs);
          return NULL;
        }
      if (c->style == OSH_KERAS_CONFIG_2)
        {
          json_array_append_new (hist, json_deep_copy (kwargs));
          json_array_append_new (list, hist);
        }
      else
        json_array_append_new (list, keras3_tensor (c, hist, n->inputs[i]));
    }
  if (c->style == OSH_KERAS_CONFIG_2)
    {
      json_decref (kwargs);
      /* TFOpLambda keeps its call's structure: one tensor is written unwrapped, as Keras 2
       * does (wrapped, Keras would pass the op a list). */
      if (n->n_inputs == 1 && strcmp (g->layers[n->layer].class_name, "TFOpLambda") == 0)
        {
          json_t *one = json_incref (json_array_get (list, 0));
          json_decref (list);
          return one;
        }
      return list;
    }
  /* Keras 3 passes a multi-input layer one list argument (Add()([a, b])). */
  json_t *args = n->n_inputs == 1 ? list : json_pack ("[o]", list);
  return json_pack ("{s:o, s:o}", "args", args, "kwargs", kwargs);
}

/* build_config of a Keras 3 layer: the shape(s) it was first called on, when inferred. */
static int
first_kept_node (Ctx *c, int layer)
{
  for (int n = 0; n < c->g->n_nodes; n++)
    if (c->g->nodes[n].layer == layer && c->scope->node_kept[n])
      return n;
  return -1;
}

static json_t *
build_config (Ctx *c, int layer)
{
  int first = first_kept_node (c, layer);
  if (first < 0 || c->g->nodes[first].n_inputs == 0)
    return NULL;
  const OshNode *n = &c->g->nodes[first];
  json_t *shapes = json_array ();
  for (int i = 0; i < n->n_inputs; i++)
    {
      json_t *s = shape_json (c->g, n->inputs[i]);
      if (!s)
        {
          json_decref (shapes);
          return NULL;
        }
      json_array_append_new (shapes, s);
    }
  json_t *shape =
      n->n_inputs == 1 ? json_incref (json_array_get (shapes, 0)) : json_incref (shapes);
  json_decref (shapes);
  return json_pack ("{s:o}", "input_shape", shape);
}

static const char *
written_class (Ctx *c, int layer)
{
  const OshLayer *l = &c->g->layers[layer];
  if (!l->is_model)
    return l->class_name;
  if (osh_write_is_sequential (c->scope, layer))
    return "Sequential";
  /* Keras 2 before 2.4 knows only "Model"; tf.keras 2.4+ writes "Functional". */
  if (c->style == OSH_KERAS_CONFIG_2 && !is_class (l, "Functional"))
    return "Model";
  return "Functional";
}

/* {class_name, config, ...} of one layer; `in_graph` adds name and inbound_nodes. */
static json_t *
layer_entry (Ctx *c, int layer, bool in_graph, OshError *err)
{
  const OshGraph *g = c->g;
  const OshLayer *l = &g->layers[layer];
  json_t *cfg = layer_config (c, layer, err);
  if (!cfg)
    return NULL;
  const char *cls = written_class (c, layer);
  json_t *e = json_object ();
  if (c->style == OSH_KERAS_CONFIG_3)
    {
      const char *module = !l->is_model                      ? "keras.layers"
                           : strcmp (cls, "Sequential") == 0 ? "keras"
                                                             : "keras.src.models.functional";
      json_object_set_new (e, "module", json_string (module));
    }
  json_object_set_new (e, "class_name", json_string (cls));
  json_object_set_new (e, "config", cfg);
  if (c->style == OSH_KERAS_CONFIG_3)
    {
      bool functional = l->is_model && strcmp (cls, "Functional") == 0;
      json_object_set_new (e, "registered_name",
                           functional ? json_string ("Functional") : json_null ());
      json_t *bc = is_class (l, "InputLayer") ? NULL : build_config (c, layer);
      if (bc)
        json_object_set_new (e, "build_config", bc);
    }
  if (!in_graph)
    return e;
  json_object_set_new (e, "name", json_string (l->name));
  json_t *inbound = json_array ();
  json_object_set_new (e, "inbound_nodes", inbound);
  if (is_class (l, "InputLayer"))
    return e;
  for (int n = 0; n < g->n_nodes; n++)
    {
      if (g->nodes[n].layer != layer || !c->scope->node_kept[n])
        continue;
      json_t *node = node_json (c, l->owner, n, err);
      if (!node)
        {
          json_decref (e);
          return NULL;
        }
      json_array_append_new (inbound, node);
    }
  return e;
}

static json_t *
io_list (Ctx *c, int owner, const OshRef *refs, int n, const char *what, OshError *err)
{
  json_t *list = json_array ();
  for (int i = 0; i < n; i++)
    {
      char user[64];
      snprintf (user, sizeof user, "model %s %d", what, i);
      json_t *h = history (c, owner, refs[i], true, user, err);
      if (!h)
        {
          json_decref (list);
          return NULL;
        }
      json_array_append_new (list, h);
    }
  return list;
}

/* The "config" of model `owner`: its source config's extra keys, name, layers and I/O. */
static json_t *
model_entry_config (Ctx *c, int owner, OshError *err)
{
  const OshGraph *g = c->g;
  json_t *cfg;
  if (owner >= 0 && json_is_object (g->layers[owner].config))
    cfg = json_deep_copy (g->layers[owner].config);
  else
    cfg = json_object ();
  const char *name = owner < 0 ? (g->name ? g->name : "model") : g->layers[owner].name;
  json_object_set_new (cfg, "name", json_string (name));
  json_object_set_new (cfg, "trainable", json_boolean (owner < 0 || g->layers[owner].trainable));
  json_object_del (cfg, "input_layers");
  json_object_del (cfg, "output_layers");
  if (c->style == OSH_KERAS_CONFIG_2)
    to_keras2_form (cfg);
  bool seq = osh_write_is_sequential (c->scope, owner);
  json_t *layers = json_array ();
  json_object_set_new (cfg, "layers", layers);
  for (int i = 0; i < g->n_layers; i++)
    {
      if (g->layers[i].owner != owner || !c->scope->layer_kept[i])
        continue;
      json_t *e = layer_entry (c, i, !seq, err);
      if (!e)
        {
          json_decref (cfg);
          return NULL;
        }
      json_array_append_new (layers, e);
    }
  if (seq)
    return cfg;
  int n_in, n_out;
  const OshRef *in = model_inputs (g, owner, &n_in);
  const OshRef *out = model_outputs (g, owner, &n_out);
  json_t *ins = io_list (c, owner, in, n_in, "input", err);
  json_t *outs = ins ? io_list (c, owner, out, n_out, "output", err) : NULL;
  if (!outs)
    {
      json_decref (ins);
      json_decref (cfg);
      return NULL;
    }
  json_object_set_new (cfg, "input_layers", ins);
  json_object_set_new (cfg, "output_layers", outs);
  return cfg;
}

json_t *
osh_write_model_config (const OshWriteScope *s, OshKerasConfigStyle style, OshError *err)
{
  const OshGraph *g = s->g;
  if (!osh_dialect_of (g)->keras_writable)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED,
                "an %s graph cannot be written as a Keras model (export it as %s)",
                osh_dialect_of (g)->title, osh_dialect_of (g)->own_format);
      return NULL;
    }
  Ctx c = { g, s, style, calloc ((size_t) g->n_nodes + 1, sizeof (int)) };
  int *count = calloc ((size_t) g->n_layers + 1, sizeof (int));
  if (!c.node_ord || !count)
    {
      free (c.node_ord);
      free (count);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory writing the model config");
      return NULL;
    }
  for (int n = 0; n < g->n_nodes; n++)
    if (s->node_kept[n])
      c.node_ord[n] = count[g->nodes[n].layer]++;
  free (count);

  json_t *cfg = model_entry_config (&c, -1, err);
  free (c.node_ord);
  if (!cfg)
    return NULL;
  /* Which layers are attached heads (osh-graph.h); Keras and tfjs ignore the key. */
  const json_t *heads = json_object_get (g->meta, OSH_META_HEADS);
  if (json_array_size (heads) > 0)
    json_object_set_new (cfg, OSH_META_HEADS, json_deep_copy (heads));
  const json_t *names = json_object_get (g->meta, OSH_META_CLASS_NAMES);
  if (json_array_size (names) > 0)
    json_object_set_new (cfg, OSH_META_CLASS_NAMES, json_deep_copy (names));
  const char *cls;
  if (osh_write_is_sequential (s, -1))
    cls = "Sequential";
  else if (style == OSH_KERAS_CONFIG_2 && strcmp (model_class (g, -1), "Functional") != 0)
    cls = "Model";
  else
    cls = "Functional";
  if (style == OSH_KERAS_CONFIG_2)
    return json_pack ("{s:s, s:o}", "class_name", cls, "config", cfg);
  bool seq = strcmp (cls, "Sequential") == 0;
  return json_pack ("{s:s, s:s, s:o, s:o}", "module", seq ? "keras" : "keras.src.models.functional",
                    "class_name", cls, "config", cfg, "registered_name",
                    seq ? json_null () : json_string ("Functional"));
}

const char *
osh_write_keras_version (const OshGraph *g, OshKerasConfigStyle style)
{
  const char *v = osh_config_string (g->meta, "keras_version", NULL);
  const char *major = style == OSH_KERAS_CONFIG_2 ? "2." : "3.";
  if (v && strncmp (v, major, 2) == 0)
    return v;
  return style == OSH_KERAS_CONFIG_2 ? "2.15.0" : "3.10.0";
}
