/* Keras model configs (Keras 1, 2 and 3 JSON) → graph IR.
 *
 * Over 700 lines because the three generations are one reader: Keras 1 names are normalised,
 * then Sequential and Functional models (nested, shared layers, cycles reported) are built by
 * one recursive pass whose call parsing, reference resolving and model building share Ctx;
 * the weight checks after reading are at the end. */
#include "osh-keras-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-json.h"
#include "osh-limits.h"
#include "osh-op.h" /* each op's rule for its weights */

typedef struct
{
  const char *layer; /* borrowed from the JSON */
  int node;
  int tensor;
  bool keras3_call; /* a keras_history inside a Keras 3 call's args (see resolve) */
} CallRef;

typedef struct
{
  OshGraph *g;
  const char *src;
  OshError *err;
  const char *backend; /* for Keras 1 "dim_ordering": "default" */
  bool keras3;         /* the config has Keras 3's "module" keys */
  /* Per layer index: the nodes that call it in order, and how many outputs a call has. */
  int **nodes_of;
  int *n_nodes_of;
  int *n_out;
  int cap;
} Ctx;

static bool
ctx_reserve (Ctx *c)
{
  int need = c->g->n_layers;
  if (need <= c->cap)
    return true;
  int cap = need * 2 + 16;
  int **no = realloc (c->nodes_of, (size_t) cap * sizeof *no);
  if (no)
    c->nodes_of = no;
  int *nn = realloc (c->n_nodes_of, (size_t) cap * sizeof *nn);
  if (nn)
    c->n_nodes_of = nn;
  int *nout = realloc (c->n_out, (size_t) cap * sizeof *nout);
  if (nout)
    c->n_out = nout;
  if (!no || !nn || !nout)
    return osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->src);
  for (int i = c->cap; i < cap; i++)
    {
      c->nodes_of[i] = NULL;
      c->n_nodes_of[i] = 0;
      c->n_out[i] = 1;
    }
  c->cap = cap;
  return true;
}

static int
add_node (Ctx *c, int layer, const OshRef *in, int n_in, const json_t *kwargs)
{
  int n_out = c->n_out[layer];
  if (c->g->layers[layer].is_model && c->g->layers[layer].n_outputs > n_out)
    n_out = c->g->layers[layer].n_outputs;
  int node = osh_graph_add_node (c->g, layer, in, n_in, n_out, c->err);
  if (node < 0)
    return -1;
  int *v = realloc (c->nodes_of[layer], (size_t) (c->n_nodes_of[layer] + 1) * sizeof (int));
  if (!v)
    {
      osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->src);
      return -1;
    }
  c->nodes_of[layer] = v;
  v[c->n_nodes_of[layer]++] = node;
  if (kwargs && json_is_object (kwargs) && json_object_size (kwargs) > 0)
    c->g->nodes[node].kwargs = json_incref ((json_t *) kwargs); /* shared: see the header */
  return node;
}

/* ---- Keras 1 → Keras 2 names ---- */

static void
rename_key (json_t *cfg, const char *from, const char *to)
{
  json_t *v = json_object_get (cfg, from);
  if (!v)
    return;
  if (!json_object_get (cfg, to))
    json_object_set (cfg, to, v);
  json_object_del (cfg, from);
}

static const char *const keras1_classes[][2] = {
  { "Convolution1D", "Conv1D" },
  { "Convolution2D", "Conv2D" },
  { "Convolution3D", "Conv3D" },
  { "AtrousConvolution1D", "Conv1D" },
  { "AtrousConvolution2D", "Conv2D" },
  { "Deconvolution2D", "Conv2DTranspose" },
  { "SeparableConvolution2D", "SeparableConv2D" },
};

static const char *const keras1_merge_modes[][2] = {
  { "sum", "Add" },     { "concat", "Concatenate" }, { "mul", "Multiply" },
  { "ave", "Average" }, { "max", "Maximum" },        { "dot", "Dot" },
};

static const char *const keras1_keys[][2] = {
  { "nb_filter", "filters" },
  { "border_mode", "padding" },
  { "subsample", "strides" },
  { "subsample_length", "strides" },
  { "filter_length", "kernel_size" },
  { "atrous_rate", "dilation_rate" },
  { "pool_length", "pool_size" },
  { "init", "kernel_initializer" },
  { "inner_init", "recurrent_initializer" },
  { "inner_activation", "recurrent_activation" },
  { "W_regularizer", "kernel_regularizer" },
  { "U_regularizer", "recurrent_regularizer" },
  { "b_regularizer", "bias_regularizer" },
  { "W_constraint", "kernel_constraint" },
  { "U_constraint", "recurrent_constraint" },
  { "b_constraint", "bias_constraint" },
  { "dropout_W", "dropout" },
  { "dropout_U", "recurrent_dropout" },
  { "beta_init", "beta_initializer" },
  { "gamma_init", "gamma_initializer" },
  { "concat_axis", "axis" },
};

/* Renames Keras 1 classes and config keys in place; returns the (possibly new) class name. */
static const char *
normalise_keras1 (Ctx *c, const char *cls, json_t *cfg)
{
  /* Keras 3's InputLayer says batch_shape where Keras 2 says batch_input_shape. */
  if (strcmp (cls, "InputLayer") == 0)
    rename_key (cfg, "batch_shape", "batch_input_shape");
  if (c->keras3) /* writes none of Keras 1's names (and its own layers may use them) */
    return cls;
  const char *renamed = NULL;
  for (size_t i = 0; i < sizeof keras1_classes / sizeof keras1_classes[0]; i++)
    if (strcmp (cls, keras1_classes[i][0]) == 0)
      renamed = keras1_classes[i][1];
  if (strcmp (cls, "Merge") == 0)
    {
      const char *mode = osh_config_string (cfg, "mode", "");
      for (size_t i = 0; i < sizeof keras1_merge_modes / sizeof keras1_merge_modes[0]; i++)
        if (strcmp (mode, keras1_merge_modes[i][0]) == 0)
          renamed = keras1_merge_modes[i][1];
    }
  if (renamed)
    json_object_set_new (cfg, "keras1_class_name", json_string (cls));

  if (json_object_get (cfg, "output_dim") && strcmp (cls, "Embedding") != 0)
    rename_key (cfg, "output_dim", "units");
  if (strcmp (cls, "Embedding") == 0)
    {
      rename_key (cfg, "init", "embeddings_initializer");
      rename_key (cfg, "W_regularizer", "embeddings_regularizer");
      rename_key (cfg, "W_constraint", "embeddings_constraint");
    }
  if (strcmp (cls, "Dropout") == 0 || strncmp (cls, "SpatialDropout", 14) == 0)
    rename_key (cfg, "p", "rate");
  if (strstr (cls, "Pooling1D"))
    rename_key (cfg, "stride", "strides");
  json_t *bias = json_object_get (cfg, "bias");
  if (json_is_boolean (bias))
    rename_key (cfg, "bias", "use_bias");
  json_t *rows = json_object_get (cfg, "nb_row"), *cols = json_object_get (cfg, "nb_col");
  if (json_is_integer (rows) && json_is_integer (cols) && !json_object_get (cfg, "kernel_size"))
    {
      json_object_set_new (
          cfg, "kernel_size",
          json_pack ("[II]", json_integer_value (rows), json_integer_value (cols)));
      json_object_del (cfg, "nb_row");
      json_object_del (cfg, "nb_col");
    }
  for (size_t i = 0; i < sizeof keras1_keys / sizeof keras1_keys[0]; i++)
    rename_key (cfg, keras1_keys[i][0], keras1_keys[i][1]);
  /* Keras 1 Conv1D sizes were plain ints; Keras 2 accepts both. */
  const char *dim = osh_config_string (cfg, "dim_ordering", NULL);
  if (dim)
    {
      bool first =
          strcmp (dim, "th") == 0
          || (strcmp (dim, "default") == 0 && c->backend && strcmp (c->backend, "theano") == 0);
      if (!json_object_get (cfg, "data_format"))
        json_object_set_new (cfg, "data_format",
                             json_string (first ? "channels_first" : "channels_last"));
      json_object_del (cfg, "dim_ordering");
    }
  return renamed ? renamed : cls;
}

/* ---- calls and references ---- */

/* "layer 'NAME'", or "layer 'NAME' call K" (call >= 0): the place an error names. Written for
 * every call of every layer, so without snprintf; cut to fit `size`. */
static void
describe_call (char *where, size_t size, const char *layer, long call)
{
  char tail[32] = "'";
  if (call >= 0)
    {
      char digits[24];
      int k = 0;
      do
        digits[k++] = (char) ('0' + call % 10);
      while ((call /= 10) > 0);
      char *t = tail + strlen (tail);
      t = stpcpy (t, " call ");
      while (k > 0)
        *t++ = digits[--k];
      *t = '\0';
    }
  size_t name = strlen (layer), head = sizeof "layer '" - 1, rest = strlen (tail);
  if (size <= head + rest)
    {
      *where = '\0';
      return;
    }
  if (name > size - 1 - head - rest)
    name = size - 1 - head - rest;
  memcpy (where, "layer '", head);
  memcpy (where + head, layer, name);
  memcpy (where + head + name, tail, rest + 1);
}

static bool
parse_ref (Ctx *c, const json_t *r, CallRef *out, const char *where)
{
  if (!json_is_array (r) || json_array_size (r) < 3 || !json_is_string (json_array_get (r, 0))
      || !json_is_integer (json_array_get (r, 1)) || !json_is_integer (json_array_get (r, 2)))
    return osh_fail (c->err, OSH_ERR_FORMAT,
                     "%s: %s: expected a tensor reference [layer, node_index, tensor_index]",
                     c->src, where);
  out->layer = json_string_value (json_array_get (r, 0));
  json_int_t node = json_integer_value (json_array_get (r, 1));
  json_int_t tensor = json_integer_value (json_array_get (r, 2));
  if (node < 0 || node > OSH_MAX_NODES || tensor < 0 || tensor > 4096)
    return osh_fail (c->err, OSH_ERR_FORMAT, "%s: %s: reference to '%s' has indices out of range",
                     c->src, where, out->layer);
  out->node = (int) node;
  out->tensor = (int) tensor;
  return true;
}

typedef struct
{
  CallRef *refs;
  int n, cap;
  const json_t *kwargs;
} Call;

static bool
call_push (Ctx *c, Call *call, CallRef r)
{
  if (call->n == call->cap)
    {
      int cap = call->cap * 2 + 4;
      CallRef *v = realloc (call->refs, (size_t) cap * sizeof *v);
      if (!v)
        return osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->src);
      call->refs = v;
      call->cap = cap;
    }
  call->refs[call->n++] = r;
  return true;
}

static bool
push_ref (Ctx *c, const json_t *r, Call *call, const char *where)
{
  CallRef ref = { 0 };
  return parse_ref (c, r, &ref, where) && call_push (c, call, ref);
}

/* Keras 3: collects every __keras_tensor__ inside args, in order. */
static bool
collect_keras3 (Ctx *c, const json_t *v, Call *call, const char *where, int depth)
{
  if (depth > OSH_MAX_JSON_DEPTH)
    return osh_fail (c->err, OSH_ERR_LIMIT, "%s: %s: arguments nested too deeply", c->src, where);
  if (json_is_array (v))
    {
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x)
        if (!collect_keras3 (c, x, call, where, depth + 1))
          return false;
      return true;
    }
  if (!json_is_object (v))
    return true;
  const char *cls = osh_config_string (v, "class_name", "");
  if (strcmp (cls, "__keras_tensor__") == 0)
    {
      if (!push_ref (c, json_object_get (json_object_get (v, "config"), "keras_history"), call,
                     where))
        return false;
      call->refs[call->n - 1].keras3_call = true;
      return true;
    }
  return true;
}

/* One entry of "inbound_nodes": Keras 1/2 [[name, node, tensor, {kwargs}], ...] or
 * Keras 3 {"args": [...], "kwargs": {...}}. */
static bool
parse_call (Ctx *c, const json_t *v, Call *call, const char *where)
{
  call->n = 0;
  call->kwargs = NULL;
  if (json_is_object (v))
    {
      call->kwargs = json_object_get (v, "kwargs");
      return collect_keras3 (c, json_object_get (v, "args"), call, where, 0);
    }
  if (!json_is_array (v))
    return osh_fail (c->err, OSH_ERR_FORMAT,
                     "%s: %s: an inbound node is neither a list nor an object", c->src, where);
  if (json_is_string (json_array_get (v, 0)))
    {
      /* Keras 2 writes a TFOpLambda call unwrapped: [layer, node, tensor, {kwargs}]. */
      call->kwargs = json_array_size (v) >= 4 ? json_array_get (v, 3) : NULL;
      return push_ref (c, v, call, where);
    }
  size_t i;
  json_t *r;
  json_array_foreach (v, i, r)
    {
      if (!push_ref (c, r, call, where))
        return false;
      if (i == 0 && json_array_size (r) >= 4)
        call->kwargs = json_array_get (r, 3);
    }
  return true;
}

/* "input_layers"/"output_layers": [[name, node, tensor], ...], a single [name, node, tensor],
 * or Keras 3's dict form {"name": [layer, node, tensor]}. */
static bool
parse_io (Ctx *c, const json_t *v, Call *call, const char *where)
{
  call->n = 0;
  if (!v)
    return true;
  if (json_is_array (v) && json_array_size (v) >= 1 && json_is_string (json_array_get (v, 0)))
    return push_ref (c, v, call, where);
  json_t *x;
  if (json_is_object (v))
    {
      const char *k;
      json_object_foreach ((json_t *) v, k, x)
        if (!push_ref (c, x, call, where))
          return false;
      return true;
    }
  if (!json_is_array (v))
    return osh_fail (c->err, OSH_ERR_FORMAT, "%s: %s: expected a list of tensor references", c->src,
                     where);
  size_t i;
  json_array_foreach (v, i, x)
    if (!push_ref (c, x, call, where))
      return false;
  return true;
}

/* Resolves a reference within `owner`. Returns 1 resolved, 0 not yet (the node does not exist
 * yet), -1 error. */
static int
resolve (Ctx *c, int owner, const CallRef *r, OshRef *out, const char *where)
{
  int layer = osh_graph_find_layer (c->g, owner, r->layer);
  if (layer < 0)
    {
      osh_fail (c->err, OSH_ERR_NOT_FOUND,
                "%s: %s: refers to layer '%s', which is not in this model", c->src, where,
                r->layer);
      return -1;
    }
  int node = r->node;
  const OshLayer *l = &c->g->layers[layer];
  /* A nested model has a node of its own linking its inputs to its outputs in Keras 2, tf.keras
   * and tfjs: node 0 is that one and calls count from 1. Keras 3 keeps the numbering in
   * input_layers/output_layers of a nested Functional (functional_from_config's get_tensor
   * subtracts 1) but not in call arguments (deserialize_node indexes _inbound_nodes as is),
   * and its Sequential is no Functional. */
  bool own_node =
      l->is_model && !r->keras3_call && !(c->keras3 && strcmp (l->class_name, "Sequential") == 0);
  if (own_node)
    {
      if (node == 0)
        {
          if (r->tensor >= l->n_outputs)
            {
              osh_fail (c->err, OSH_ERR_FORMAT, "%s: %s: model '%s' has no output %d", c->src,
                        where, r->layer, r->tensor);
              return -1;
            }
          *out = l->outputs[r->tensor];
          return 1;
        }
      node--;
    }
  if (node >= c->n_nodes_of[layer])
    return 0;
  out->node = c->nodes_of[layer][node];
  out->index = r->tensor;
  return 1;
}

/* ---- models ---- */

static bool build_model (Ctx *c, int owner, const char *cls, const json_t *entry, int depth);

static bool
is_model_class (const char *cls, const json_t *cfg)
{
  bool model = strcmp (cls, "Model") == 0 || strcmp (cls, "Functional") == 0
               || strcmp (cls, "Sequential") == 0;
  return model && (json_is_array (cfg) || json_is_array (json_object_get (cfg, "layers")));
}

static const char *
entry_name (const json_t *entry)
{
  const char *n = osh_config_string (entry, "name", NULL);
  if (!n)
    n = osh_config_string (json_object_get (entry, "config"), "name", NULL);
  return n;
}

/* Adds the layer an entry describes (recursing into nested models). Returns its index or -1. */
static int
add_entry_layer (Ctx *c, int owner, const json_t *entry, int index, int depth)
{
  if (!json_is_object (entry))
    {
      osh_fail (c->err, OSH_ERR_FORMAT, "%s: layer #%d of the config is not an object", c->src,
                index);
      return -1;
    }
  const char *cls = osh_config_string (entry, "class_name", NULL);
  const json_t *raw = json_object_get (entry, "config");
  if (!cls)
    {
      osh_fail (c->err, OSH_ERR_FORMAT, "%s: layer #%d of the config has no class_name", c->src,
                index);
      return -1;
    }
  const char *name = entry_name (entry);
  char fallback[96];
  if (!name)
    {
      snprintf (fallback, sizeof fallback, "%s_%d", cls, index + 1);
      name = fallback;
    }
  if (is_model_class (cls, raw))
    {
      /* Its own keys only: its layers become layers of the graph. */
      json_t *cfg = json_is_object (raw) ? json_copy ((json_t *) raw) : json_object ();
      json_object_del (cfg, "layers");
      int l = osh_graph_add_layer (c->g, owner, name, cls, cfg, c->err);
      if (l < 0 || !ctx_reserve (c))
        return -1;
      if (!build_model (c, l, cls, entry, depth + 1))
        {
          osh_error_prefix (c->err, "model '%s': ", name);
          return -1;
        }
      return l;
    }
  json_t *cfg = json_is_object (raw) ? json_incref ((json_t *) raw) : json_object ();
  if (!cfg)
    {
      osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->src);
      return -1;
    }
  const char *cls2 = normalise_keras1 (c, cls, cfg);
  int l = osh_graph_add_layer (c->g, owner, name, cls2, cfg, c->err);
  if (l < 0 || !ctx_reserve (c))
    {
      osh_error_prefix (c->err, "%s: ", c->src);
      return -1;
    }
  return l;
}

static bool
set_io (Ctx *c, int owner, const OshRef *in, int n_in, const OshRef *out, int n_out)
{
  if (osh_graph_set_io (c->g, owner, in, n_in, out, n_out, c->err))
    return true;
  osh_error_prefix (c->err, "%s: ", c->src);
  return false;
}

static bool
build_sequential (Ctx *c, int owner, const json_t *entry, const json_t *layers, int depth)
{
  size_t n = json_array_size (layers);
  OshRef x = { -1, 0 };
  OshRef in = { -1, 0 };
  size_t start = 0;
  const json_t *first = json_array_get (layers, 0);
  if (n > 0 && strcmp (osh_config_string (first, "class_name", ""), "InputLayer") == 0)
    {
      int l = add_entry_layer (c, owner, first, 0, depth);
      if (l < 0 || (x.node = add_node (c, l, NULL, 0, NULL)) < 0)
        return false;
      start = 1;
    }
  else
    {
      /* Keras builds an InputLayer named "<first layer>_input" from the first layer's shape. */
      OshShape s = { 0 };
      bool known = n > 0 && osh_keras_config_input_shape (json_object_get (first, "config"), &s);
      const json_t *bc = json_object_get (entry, "build_config");
      if (!known && json_is_array (json_object_get (bc, "input_shape")))
        {
          json_t *tmp =
              json_pack ("{sO}", "batch_input_shape", json_object_get (bc, "input_shape"));
          known = osh_keras_config_input_shape (tmp, &s);
          json_decref (tmp);
        }
      char name[300];
      const char *first_name = n > 0 ? entry_name (first) : NULL;
      snprintf (name, sizeof name, "%s_input", first_name ? first_name : "sequential");
      json_t *cfg = json_pack ("{ss ss sb}", "name", name, "dtype", "float32", "sparse", 0);
      if (known)
        {
          json_t *dims = json_array ();
          for (int i = 0; i < s.rank; i++)
            json_array_append_new (dims, s.dim[i] < 0 ? json_null () : json_integer (s.dim[i]));
          json_object_set_new (cfg, "batch_input_shape", dims);
        }
      int l = osh_graph_add_layer (c->g, owner, name, "InputLayer", cfg, c->err);
      if (l < 0 || !ctx_reserve (c) || (x.node = add_node (c, l, NULL, 0, NULL)) < 0)
        return false;
    }
  in = x;
  for (size_t i = start; i < n; i++)
    {
      int l = add_entry_layer (c, owner, json_array_get (layers, i), (int) i, depth);
      if (l < 0 || (x.node = add_node (c, l, &x, 1, NULL)) < 0)
        {
          if (l >= 0)
            osh_error_prefix (c->err, "%s: ", c->src);
          return false;
        }
      x.index = 0;
    }
  return set_io (c, owner, &in, 1, &x, 1);
}

static const char *
json_kind (const json_t *v)
{
  if (!v)
    return "missing";
  switch (json_typeof (v))
    {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: break;
    }
  return "null";
}

/* The graph layer that layer `i`'s pending call waits on: the first reference of that call
 * which names a layer of the model but does not resolve yet; -1 if none. */
static int
waits_on (Ctx *c, int owner, const json_t *layers, const size_t *next, size_t i)
{
  Call call = { 0 };
  OshError ignored = { 0 };
  OshError *saved = c->err;
  c->err = &ignored;
  int found = -1;
  const json_t *inbound = json_object_get (json_array_get (layers, i), "inbound_nodes");
  if (parse_call (c, json_array_get (inbound, next[i]), &call, ""))
    for (int r = 0; r < call.n && found < 0; r++)
      {
        OshRef ref;
        int l = osh_graph_find_layer (c->g, owner, call.refs[r].layer);
        if (l >= 0 && resolve (c, owner, &call.refs[r], &ref, "") == 0)
          found = l;
      }
  c->err = saved;
  free (call.refs);
  return found;
}

/* When the calls left over wait on each other in a ring, says which layers form it (Keras:
 * "... is part of a cycle") and returns true; false when they do not. Each stuck layer waits
 * on at most one other, so walking from each with a visit mark finds a ring in linear time. */
static bool
report_cycle (Ctx *c, int owner, const json_t *layers, const int *index, const size_t *next,
              size_t n)
{
  int *pos = malloc ((size_t) c->g->n_layers * sizeof (int));
  int *wait = malloc ((n ? n : 1) * sizeof (int));
  int *mark = calloc (n ? n : 1, sizeof (int));
  bool found = false;
  if (!pos || !wait || !mark)
    goto out;
  for (int l = 0; l < c->g->n_layers; l++)
    pos[l] = -1;
  for (size_t i = 0; i < n; i++)
    pos[index[i]] = (int) i;
  for (size_t i = 0; i < n; i++)
    {
      bool stuck =
          next[i] < json_array_size (json_object_get (json_array_get (layers, i), "inbound_nodes"));
      int l = stuck ? waits_on (c, owner, layers, next, i) : -1;
      wait[i] = l >= 0 ? pos[l] : -1;
    }
  for (size_t start = 0; start < n && !found; start++)
    {
      int i = (int) start;
      while (i >= 0 && mark[i] == 0)
        {
          mark[i] = (int) start + 1;
          i = wait[i];
        }
      if (i < 0 || mark[i] != (int) start + 1)
        continue; /* the walk ended, or joined an earlier walk */
      char ring[600] = "";
      size_t used = 0;
      int k = i;
      do
        {
          int w =
              snprintf (ring + used, sizeof ring - used, "'%s' → ", c->g->layers[index[k]].name);
          if (w < 0 || (size_t) w >= sizeof ring - used)
            break;
          used += (size_t) w;
          k = wait[k];
        }
      while (k != i);
      snprintf (ring + used, sizeof ring - used, "'%s'", c->g->layers[index[i]].name);
      osh_fail (c->err, OSH_ERR_FORMAT,
                "%s: layer '%s' is part of a cycle: %s (each waits for the next one's output)",
                c->src, c->g->layers[index[i]].name, ring);
      found = true;
    }
out:
  free (pos);
  free (wait);
  free (mark);
  return found;
}

static bool
build_functional (Ctx *c, int owner, const json_t *cfg, int depth)
{
  const json_t *layers = json_object_get (cfg, "layers");
  size_t n = json_array_size (layers);
  int *index = calloc (n ? n : 1, sizeof (int));
  size_t *next = calloc (n ? n : 1, sizeof (size_t));
  Call call = { 0 };
  OshRef *refs = NULL;
  bool ok = false;
  char where[400];
  if (!index || !next)
    {
      osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->src);
      goto out;
    }
  for (size_t i = 0; i < n; i++)
    if ((index[i] = add_entry_layer (c, owner, json_array_get (layers, i), (int) i, depth)) < 0)
      goto out;

  /* How many outputs each layer's calls have: the largest tensor index anyone asks for. */
  for (size_t i = 0; i < n; i++)
    {
      const json_t *inbound = json_object_get (json_array_get (layers, i), "inbound_nodes");
      if (inbound && !json_is_array (inbound))
        {
          osh_fail (c->err, OSH_ERR_FORMAT,
                    "%s: layer '%s': 'inbound_nodes' is %s, expected a list of calls", c->src,
                    c->g->layers[index[i]].name, json_kind (inbound));
          goto out;
        }
      size_t k;
      json_t *v;
      describe_call (where, sizeof where, c->g->layers[index[i]].name, -1);
      json_array_foreach (inbound, k, v)
        {
          if (!parse_call (c, v, &call, where))
            goto out;
          for (int r = 0; r < call.n; r++)
            {
              int l = osh_graph_find_layer (c->g, owner, call.refs[r].layer);
              if (l >= 0 && call.refs[r].tensor + 1 > c->n_out[l])
                c->n_out[l] = call.refs[r].tensor + 1;
            }
        }
    }
  const char *io_keys[2] = { "input_layers", "output_layers" };
  for (int k = 0; k < 2; k++)
    {
      if (!parse_io (c, json_object_get (cfg, io_keys[k]), &call, io_keys[k]))
        goto out;
      for (int r = 0; r < call.n; r++)
        {
          int l = osh_graph_find_layer (c->g, owner, call.refs[r].layer);
          if (l >= 0 && call.refs[r].tensor + 1 > c->n_out[l])
            c->n_out[l] = call.refs[r].tensor + 1;
        }
    }

  /* InputLayers exist before anything calls them. */
  for (size_t i = 0; i < n; i++)
    {
      const json_t *inbound = json_object_get (json_array_get (layers, i), "inbound_nodes");
      if (strcmp (c->g->layers[index[i]].class_name, "InputLayer") == 0
          && json_array_size (inbound) == 0 && add_node (c, index[i], NULL, 0, NULL) < 0)
        goto out;
    }

  /* Calls are made in passes: a shared layer's later call may use layers listed after it. */
  bool progress = true, pending = true;
  while (progress && pending)
    {
      progress = pending = false;
      for (size_t i = 0; i < n; i++)
        {
          const json_t *inbound = json_object_get (json_array_get (layers, i), "inbound_nodes");
          while (next[i] < json_array_size (inbound))
            {
              describe_call (where, sizeof where, c->g->layers[index[i]].name, (long) next[i]);
              if (!parse_call (c, json_array_get (inbound, next[i]), &call, where))
                goto out;
              OshRef *nr = realloc (refs, (size_t) (call.n + 1) * sizeof *nr);
              if (!nr)
                {
                  osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->src);
                  goto out;
                }
              refs = nr;
              int ready = 1;
              for (int r = 0; r < call.n && ready == 1; r++)
                ready = resolve (c, owner, &call.refs[r], &refs[r], where);
              if (ready < 0)
                goto out;
              if (ready == 0)
                {
                  pending = true;
                  break;
                }
              if (add_node (c, index[i], refs, call.n, call.kwargs) < 0)
                {
                  osh_error_prefix (c->err, "%s: ", c->src);
                  goto out;
                }
              next[i]++;
              progress = true;
            }
        }
    }
  if (pending)
    {
      if (report_cycle (c, owner, layers, index, next, n))
        goto out;
      for (size_t i = 0; i < n; i++)
        if (next[i]
            < json_array_size (json_object_get (json_array_get (layers, i), "inbound_nodes")))
          {
            osh_fail (c->err, OSH_ERR_FORMAT,
                      "%s: layer '%s': call %zu uses a tensor that no layer of the model produces "
                      "(a missing layer, a node index out of range, or a cycle)",
                      c->src, c->g->layers[index[i]].name, next[i]);
            goto out;
          }
    }

  OshRef *io[2] = { NULL, NULL };
  int n_io[2] = { 0, 0 };
  for (int k = 0; k < 2; k++)
    {
      if (!parse_io (c, json_object_get (cfg, io_keys[k]), &call, io_keys[k]))
        goto out_io;
      io[k] = calloc ((size_t) call.n + 1, sizeof (OshRef));
      if (!io[k])
        {
          osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->src);
          goto out_io;
        }
      for (int r = 0; r < call.n; r++)
        {
          int got = resolve (c, owner, &call.refs[r], &io[k][r], io_keys[k]);
          if (got == 0)
            osh_fail (c->err, OSH_ERR_FORMAT, "%s: %s: layer '%s' has no call %d", c->src,
                      io_keys[k], call.refs[r].layer, call.refs[r].node);
          if (got <= 0)
            goto out_io;
        }
      n_io[k] = call.n;
    }
  ok = set_io (c, owner, io[0], n_io[0], io[1], n_io[1]);
out_io:
  free (io[0]);
  free (io[1]);
out:
  free (index);
  free (next);
  free (call.refs);
  free (refs);
  return ok;
}

static bool
build_model (Ctx *c, int owner, const char *cls, const json_t *entry, int depth)
{
  if (depth > OSH_MAX_NESTING)
    return osh_fail (c->err, OSH_ERR_LIMIT, "%s: models nested more than %d deep", c->src,
                     OSH_MAX_NESTING);
  const json_t *cfg = json_object_get (entry, "config");
  if (strcmp (cls, "Sequential") == 0)
    {
      /* Keras 1 and early Keras 2 store the layer list directly as the config. */
      const json_t *layers = json_is_array (cfg) ? cfg : json_object_get (cfg, "layers");
      if (!json_is_array (layers))
        return osh_fail (c->err, OSH_ERR_FORMAT, "%s: the Sequential config has no list of layers",
                         c->src);
      return build_sequential (c, owner, entry, layers, depth);
    }
  if (!json_is_array (json_object_get (cfg, "layers")))
    return osh_fail (c->err, OSH_ERR_FORMAT,
                     "%s: the %s config has no list of layers ('config.layers' is %s)", c->src, cls,
                     json_kind (json_object_get (cfg, "layers")));
  return build_functional (c, owner, cfg, depth);
}

OshGraph *
osh_keras_config_to_graph (json_t *model_config, const char *backend, const char *name,
                           OshError *err)
{
  const char *cls = osh_config_string (model_config, "class_name", NULL);
  const json_t *cfg = json_object_get (model_config, "config");
  bool model_class = cls
                     && (strcmp (cls, "Model") == 0 || strcmp (cls, "Functional") == 0
                         || strcmp (cls, "Sequential") == 0);
  if (!model_class || !cfg)
    {
      osh_fail (
          err, OSH_ERR_FORMAT,
          "%s: the model config is not a Keras Sequential or Functional model (class_name '%s')",
          name, cls ? cls : "(missing)");
      return NULL;
    }
  OshGraph *g = osh_graph_new ();
  if (!g)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return NULL;
    }
  Ctx c = { .g = g,
            .src = name,
            .err = err,
            .backend = backend,
            .keras3 = json_object_get (model_config, "module") != NULL };
  g->class_name = strdup (cls);
  const char *model_name = json_is_object (cfg) ? osh_config_string (cfg, "name", NULL) : NULL;
  g->name =
      strdup (model_name ? model_name : (strcmp (cls, "Sequential") == 0 ? "sequential" : "model"));
  bool ok = g->class_name && g->name && build_model (&c, -1, cls, model_config, 0);
  for (int i = 0; i < c.cap; i++)
    free (c.nodes_of[i]);
  free (c.nodes_of);
  free (c.n_nodes_of);
  free (c.n_out);
  if (!ok)
    {
      if (!g->class_name || !g->name)
        osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      osh_graph_free (g);
      return NULL;
    }
  for (int i = 0; i < g->n_layers; i++)
    if (strcmp (osh_config_string (g->layers[i].config, "data_format", ""), "channels_first") == 0)
      g->layout = OSH_LAYOUT_CHANNELS_FIRST;
  /* The heads Offshoot attached before saving (osh-graph.h). */
  const json_t *heads = json_object_get (cfg, OSH_META_HEADS);
  if (json_is_array (heads))
    json_object_set_new (g->meta, OSH_META_HEADS, json_deep_copy (heads));
  /* The class names saved with the model (osh-class-names.h). */
  const json_t *names = json_object_get (cfg, OSH_META_CLASS_NAMES);
  if (json_is_array (names))
    json_object_set_new (g->meta, OSH_META_CLASS_NAMES, json_deep_copy (names));
  return g;
}

bool
osh_keras_config_input_shape (const json_t *config, OshShape *out)
{
  const json_t *v = json_object_get (config, "batch_input_shape");
  if (!json_is_array (v))
    v = json_object_get (config, "batch_shape");
  int skip = 0;
  if (!json_is_array (v) && json_is_array (json_object_get (config, "input_shape")))
    {
      v = json_object_get (config, "input_shape");
      skip = 1; /* a None batch goes in front */
    }
  if (!json_is_array (v))
    {
      json_int_t dim = json_integer_value (json_object_get (config, "input_dim"));
      if (dim <= 0)
        return false;
      *out = osh_shape_make (2, (int64_t[]){ -1, dim });
      return true;
    }
  size_t n = json_array_size (v);
  if (n + (size_t) skip > OSH_MAX_RANK)
    return false;
  OshShape s = { .rank = (int) n + skip };
  if (skip)
    s.dim[0] = -1;
  for (size_t i = 0; i < n; i++)
    {
      const json_t *d = json_array_get (v, i);
      json_int_t x = json_is_integer (d) ? json_integer_value (d) : -1;
      s.dim[i + (size_t) skip] = x < 0 || x > OSH_MAX_DIM ? -1 : x;
    }
  *out = s;
  return true;
}

/* ---- weight checks ---- */

static bool
mismatch (OshError *err, const char *src, const OshGraph *g, int layer, int w, const char *expected)
{
  char got[128];
  osh_shape_format (&g->layers[layer].weights[w].value->shape, got, sizeof got);
  return osh_fail (err, OSH_ERR_SHAPE,
                   "%s: layer '%s' (%s): weight %d '%s' has shape %s, the config implies %s", src,
                   g->layers[layer].name, g->layers[layer].class_name, w,
                   g->layers[layer].weights[w].name, got, expected);
}

/* A shape as the rule gives it, open sizes as "?" and one dimension as (n,): "(3, 3, ?, 4)". */
static void
format_expected (const OshShape *s, char *out, size_t size)
{
  size_t at = (size_t) snprintf (out, size, "(");
  for (int d = 0; d < s->rank && at < size; d++)
    {
      char dim[24];
      if (s->dim[d] < 0)
        snprintf (dim, sizeof dim, "?");
      else
        snprintf (dim, sizeof dim, "%lld", (long long) s->dim[d]);
      at += (size_t) snprintf (out + at, size - at, "%s%s", d ? ", " : "", dim);
    }
  if (at < size)
    snprintf (out + at, size - at, s->rank == 1 ? ",)" : ")");
}

bool
osh_keras_check_weights (OshGraph *g, int layer, const char *src, OshError *err)
{
  OshLayer *l = &g->layers[layer];
  const char *cls = l->class_name;
  const json_t *cfg = l->config;
  char expected[160];
  for (int w = 0; w < l->n_weights; w++)
    if (strstr (l->weights[w].name, "moving_") || strstr (l->weights[w].name, "running_"))
      l->weights[w].trainable = false;
  /* gamma?, beta?, moving_mean, moving_variance: the last two are statistics. */
  if (strcmp (cls, "BatchNormalization") == 0 && l->n_weights >= 2)
    l->weights[l->n_weights - 1].trainable = l->weights[l->n_weights - 2].trainable = false;

  /* The sizes the rule reads from the config must be numbers. */
  static const char *const size_keys[] = { "units", "filters" };
  for (size_t i = 0; i < sizeof size_keys / sizeof size_keys[0]; i++)
    {
      const json_t *v = json_object_get (cfg, size_keys[i]);
      if (v && !json_is_number (v))
        return osh_fail (err, OSH_ERR_FORMAT,
                         "%s: layer '%s' (%s): config '%s' is %s, expected a whole number", src,
                         l->name, cls, size_keys[i], json_kind (v));
    }

  /* The op's own rule for its weights (the one its shape inference checks by), before any
   * shape is known; a config the rule cannot read is left to shape inference to report. */
  const OshOp *op = osh_op_find (g, cls);
  OshWeightRule rule;
  OshOpCall call = { .graph = g, .layer = l };
  OshError ignored = { 0 };
  if (!op || !op->weights || l->n_weights == 0 /* a config-only file */
      || !op->weights (&call, &rule, &ignored))
    return true;
  if (l->n_weights != rule.n)
    {
      char list[160] = "";
      for (int i = 0; i < rule.n; i++)
        snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                  i == 0            ? ""
                  : i == rule.n - 1 ? " and "
                                    : ", ",
                  rule.what[i]);
      return osh_fail (err, OSH_ERR_SHAPE,
                       "%s: layer '%s' (%s) has %d weights, the config implies %d (%s)", src,
                       l->name, cls, l->n_weights, rule.n, list);
    }
  for (int w = 0; w < rule.n; w++)
    {
      const OshShape *have = &l->weights[w].value->shape, *want = &rule.shape[w];
      bool ok = have->rank == want->rank;
      for (int d = 0; ok && d < want->rank; d++)
        ok = want->dim[d] < 0 || have->dim[d] == want->dim[d];
      if (!ok)
        {
          format_expected (want, expected, sizeof expected);
          return mismatch (err, src, g, layer, w, expected);
        }
    }
  return true;
}

/* Normalization's mean, variance and count are statistics that adapt() computes: Keras makes
 * them non-trainable, so the counts of a saved and reread model match the model's own. */
static void
mark_normalization_statistics (OshLayer *l)
{
  if (strcmp (l->class_name, "Normalization") == 0)
    for (int w = 0; w < l->n_weights; w++)
      l->weights[w].trainable = false;
}

bool
osh_keras_check_all_weights (OshGraph *g, const char *name, OshError *err)
{
  for (int i = 0; i < g->n_layers; i++)
    {
      if (!osh_keras_check_weights (g, i, name, err))
        return false;
      mark_normalization_statistics (&g->layers[i]);
    }
  return true;
}

void
osh_keras_copy_meta (OshGraph *g, const json_t *from, const char *const *keys)
{
  for (; *keys; keys++)
    if (json_is_string (json_object_get (from, *keys)))
      json_object_set (g->meta, *keys, json_object_get (from, *keys));
}

json_t *
osh_keras_parse_json (const char *text, size_t size, const char *name, const char *what,
                      OshError *err)
{
  if ((int64_t) size > OSH_MAX_JSON_BYTES)
    {
      osh_fail (err, OSH_ERR_LIMIT, "%s: %s is %zu bytes, over the limit of %lld", name, what, size,
                (long long) OSH_MAX_JSON_BYTES);
      return NULL;
    }
  /* osh_json_parse accepts what json_loadb (JSON_DECODE_ANY | JSON_ALLOW_NUL) accepts, ~4x
   * faster (osh-json.h); the column it names counts bytes. */
  OshJsonError je;
  json_t *v = osh_json_parse (text, size, &je);
  if (!v)
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s: %s is not valid JSON (line %d, column %d: %s)", name,
                what, je.line, je.column, je.text);
      return NULL;
    }
  if (!json_is_object (v))
    {
      json_decref (v);
      osh_fail (err, OSH_ERR_FORMAT, "%s: %s is JSON but not an object", name, what);
      return NULL;
    }
  return v;
}
