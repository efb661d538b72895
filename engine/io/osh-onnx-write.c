/* Graph IR → ONNX ModelProto, for graphs whose layers are ONNX ops (see osh-onnx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "osh-formats.h"
#include "osh-onnx.h"
#include "osh-tfgraph.h"

/* Everything the message points to is allocated from this arena and freed at once. */
typedef struct
{
  void **ptrs;
  size_t n, cap;
  bool failed;
} Arena;

static void *
arena_alloc (Arena *a, size_t size)
{
  if (a->failed)
    return NULL;
  if (a->n == a->cap)
    {
      size_t cap = a->cap ? a->cap * 2 : 1024;
      void **p = realloc (a->ptrs, cap * sizeof *p);
      if (!p)
        {
          a->failed = true;
          return NULL;
        }
      a->ptrs = p;
      a->cap = cap;
    }
  void *mem = calloc (1, size ? size : 1);
  if (!mem)
    {
      a->failed = true;
      return NULL;
    }
  return a->ptrs[a->n++] = mem;
}

static char *
arena_strdup (Arena *a, const char *s)
{
  char *c = arena_alloc (a, strlen (s) + 1);
  if (c)
    strcpy (c, s);
  return c;
}

static void
arena_free (Arena *a)
{
  for (size_t i = 0; i < a->n; i++)
    free (a->ptrs[i]);
  free (a->ptrs);
}

/* The ONNX name of a tensor (osh_onnx_tensor_name), in the arena. */
static char *
tensor_name (Arena *a, const OshGraph *g, OshRef ref)
{
  char *name = osh_onnx_tensor_name (g, ref);
  char *c = name ? arena_strdup (a, name) : NULL;
  free (name);
  return c;
}

static Onnx__ValueInfoProto *
value_info (Arena *a, const char *name, const OshShape *shape, json_t *dims_json)
{
  Onnx__ValueInfoProto *v = arena_alloc (a, sizeof *v);
  Onnx__TypeProto *type = arena_alloc (a, sizeof *type);
  Onnx__TypeProto__Tensor *tt = arena_alloc (a, sizeof *tt);
  Onnx__TensorShapeProto *sp = arena_alloc (a, sizeof *sp);
  if (!v || !type || !tt || !sp)
    return NULL;
  onnx__value_info_proto__init (v);
  onnx__type_proto__init (type);
  onnx__type_proto__tensor__init (tt);
  onnx__tensor_shape_proto__init (sp);
  v->name = arena_strdup (a, name);
  v->type = type;
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tt;
  tt->has_elem_type = true;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  int rank = dims_json ? (int) json_array_size (dims_json) : shape ? shape->rank : -1;
  if (rank < 0 || (shape && !dims_json && rank == 0))
    return v; /* shape unknown: leave it out */
  tt->shape = sp;
  sp->n_dim = (size_t) rank;
  sp->dim = arena_alloc (a, (size_t) rank * sizeof *sp->dim);
  for (int i = 0; sp->dim && i < rank; i++)
    {
      Onnx__TensorShapeProto__Dimension *d = arena_alloc (a, sizeof *d);
      if (!d)
        return NULL;
      onnx__tensor_shape_proto__dimension__init (d);
      int64_t size = dims_json ? (json_is_integer (json_array_get (dims_json, (size_t) i))
                                      ? json_integer_value (json_array_get (dims_json, (size_t) i))
                                      : -1)
                               : shape->dim[i];
      if (size >= 0)
        {
          d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
          d->dim_value = size;
        }
      else
        {
          d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
          d->dim_param = arena_strdup (a, i == 0 ? "batch" : "unk");
        }
      sp->dim[i] = d;
    }
  return v;
}

/* A TensorProto with the name, type and dims of `t`, values still to fill. */
static Onnx__TensorProto *
tensor_header (Arena *a, const char *name, const OshTensor *t, int32_t type)
{
  Onnx__TensorProto *p = arena_alloc (a, sizeof *p);
  if (!p)
    return NULL;
  onnx__tensor_proto__init (p);
  p->name = arena_strdup (a, name);
  p->has_data_type = true;
  p->data_type = type;
  p->n_dims = (size_t) t->shape.rank;
  p->dims = arena_alloc (a, (size_t) t->shape.rank * sizeof (int64_t));
  for (int i = 0; p->dims && i < t->shape.rank; i++)
    p->dims[i] = t->shape.dim[i];
  return p;
}

static Onnx__TensorProto *
tensor_proto_int64 (Arena *a, const char *name, const OshTensor *t)
{
  Onnx__TensorProto *p = tensor_header (a, name, t, ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
  if (!p)
    return NULL;
  size_t n = (size_t) osh_tensor_numel (t);
  p->n_int64_data = n;
  p->int64_data = arena_alloc (a, n * sizeof (int64_t));
  for (size_t i = 0; p->int64_data && i < n; i++)
    p->int64_data[i] = (int64_t) t->data[i];
  return p;
}

static Onnx__TensorProto *
tensor_proto (Arena *a, const char *name, const OshTensor *t)
{
  Onnx__TensorProto *p = tensor_header (a, name, t, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  if (!p)
    return NULL;
  size_t n = (size_t) osh_tensor_numel (t);
  p->has_raw_data = true;
  p->raw_data.len = n * sizeof (float);
  p->raw_data.data = arena_alloc (a, p->raw_data.len);
  if (p->raw_data.data)
    memcpy (p->raw_data.data, t->data, p->raw_data.len); /* little-endian hosts only */
  return p;
}

static bool
attribute (Arena *a, const char *key, json_t *v, Onnx__AttributeProto **out)
{
  Onnx__AttributeProto *at = arena_alloc (a, sizeof *at);
  if (!at)
    return false;
  onnx__attribute_proto__init (at);
  at->name = arena_strdup (a, key);
  at->has_type = true;
  if (json_is_integer (v) || json_is_boolean (v))
    {
      at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
      at->has_i = true;
      at->i = json_is_boolean (v) ? json_is_true (v) : json_integer_value (v);
    }
  else if (json_is_real (v))
    {
      at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
      at->has_f = true;
      at->f = (float) json_real_value (v);
    }
  else if (json_is_string (v))
    {
      at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
      at->has_s = true;
      at->s.len = json_string_length (v);
      at->s.data = (uint8_t *) arena_strdup (a, json_string_value (v));
    }
  else if (json_is_array (v))
    {
      size_t n = json_array_size (v);
      bool all_int = true, all_str = n > 0;
      for (size_t i = 0; i < n; i++)
        {
          all_int &= json_is_integer (json_array_get (v, i));
          all_str &= json_is_string (json_array_get (v, i));
        }
      if (all_str)
        {
          at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
          at->n_strings = n;
          at->strings = arena_alloc (a, n * sizeof *at->strings);
          for (size_t i = 0; at->strings && i < n; i++)
            {
              json_t *e = json_array_get (v, i);
              at->strings[i].len = json_string_length (e);
              at->strings[i].data = (uint8_t *) arena_strdup (a, json_string_value (e));
            }
        }
      else if (all_int)
        {
          at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
          at->n_ints = n;
          at->ints = arena_alloc (a, n * sizeof *at->ints);
          for (size_t i = 0; at->ints && i < n; i++)
            at->ints[i] = json_integer_value (json_array_get (v, i));
        }
      else
        {
          at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
          at->n_floats = n;
          at->floats = arena_alloc (a, n * sizeof *at->floats);
          for (size_t i = 0; at->floats && i < n; i++)
            at->floats[i] = (float) json_number_value (json_array_get (v, i));
        }
    }
  else if (json_is_object (v) && json_is_array (json_object_get (v, "dims")))
    {
      json_t *dims = json_object_get (v, "dims"), *data = json_object_get (v, "data");
      OshShape s = { .rank = (int) json_array_size (dims) };
      for (int i = 0; i < s.rank && i < OSH_MAX_RANK; i++)
        s.dim[i] = json_integer_value (json_array_get (dims, (size_t) i));
      OshTensor *t = osh_tensor_new (&s, NULL);
      if (!t)
        return false;
      for (size_t i = 0; i < json_array_size (data) && (int64_t) i < osh_tensor_numel (t); i++)
        t->data[i] = (float) json_number_value (json_array_get (data, i));
      at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
      at->t = tensor_proto (a, key, t);
      osh_tensor_free (t);
    }
  else
    return false;
  *out = at;
  return true;
}

static bool
is_onnx_graph (const OshGraph *g, OshError *err)
{
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      if (l->owner >= 0 || l->is_model)
        return osh_fail (err, OSH_ERR_UNSUPPORTED,
                         "layer '%s': nested models cannot be written to "
                         "ONNX yet",
                         l->name);
      if (strcmp (l->class_name, "InputLayer") != 0 && !l->slots)
        return osh_fail (err, OSH_ERR_UNSUPPORTED,
                         "layer '%s' (%s) is a Keras layer: converting Keras models to ONNX is not "
                         "implemented yet, only ONNX graphs are written back",
                         l->name, l->class_name);
    }
  return true;
}

static Onnx__NodeProto *
node_proto (Arena *a, const OshGraph *g, int node_index, Onnx__TensorProto ***inits,
            size_t *n_inits)
{
  const OshNode *n = &g->nodes[node_index];
  const OshLayer *l = &g->layers[n->layer];
  Onnx__NodeProto *np = arena_alloc (a, sizeof *np);
  if (!np)
    return NULL;
  onnx__node_proto__init (np);
  np->name = arena_strdup (a, l->name);
  const char *colon = strchr (l->class_name, ':');
  if (colon)
    {
      np->domain = arena_alloc (a, (size_t) (colon - l->class_name) + 1);
      if (np->domain)
        memcpy (np->domain, l->class_name, (size_t) (colon - l->class_name));
      np->op_type = arena_strdup (a, colon + 1);
    }
  else
    np->op_type = arena_strdup (a, l->class_name);

  np->n_input = (size_t) l->n_slots;
  np->input = arena_alloc (a, np->n_input * sizeof (char *));
  for (size_t i = 0; np->input && i < np->n_input; i++)
    {
      OshSlot s = l->slots[i];
      if (s.kind == OSH_SLOT_ACTIVATION && s.index < n->n_inputs)
        np->input[i] = tensor_name (a, g, n->inputs[s.index]);
      else if (s.kind == OSH_SLOT_WEIGHT && s.index < l->n_weights)
        {
          /* Initializer names (the weights' own) are made unique per layer: weights are copied
           * per layer. */
          char buf[1100];
          if (*l->weights[s.index].name)
            snprintf (buf, sizeof buf, "%.500s::%.500s", l->name, l->weights[s.index].name);
          else
            snprintf (buf, sizeof buf, "%.500s::input_%zu", l->name, i);
          np->input[i] = arena_strdup (a, buf);
          const OshTensor *value = l->weights[s.index].value;
          (*inits)[(*n_inits)++] = osh_onnx_int64_input (np->op_type, i)
                                       ? tensor_proto_int64 (a, buf, value)
                                       : tensor_proto (a, buf, value);
        }
      else
        np->input[i] = arena_strdup (a, "");
    }
  np->n_output = (size_t) n->n_outputs;
  np->output = arena_alloc (a, np->n_output * sizeof (char *));
  for (int i = 0; np->output && i < n->n_outputs; i++)
    np->output[i] = tensor_name (a, g, (OshRef){ node_index, i });

  const char *key;
  json_t *v;
  np->attribute = arena_alloc (a, json_object_size (l->config) * sizeof *np->attribute);
  json_object_foreach (l->config, key, v)
    {
      if (strncmp (key, "onnx_", 5) == 0 || !np->attribute)
        continue;
      if (attribute (a, key, v, &np->attribute[np->n_attribute]))
        np->n_attribute++;
    }
  return np;
}

static bool write_onnx_graph (const OshGraph *g, const char *tmp_path, OshError *err);

bool
osh_onnx_write (const OshGraph *g, const char *tmp_path, const char *final_path, OshError *err)
{
  if (g->dialect == &osh_onnx_dialect)
    return write_onnx_graph (g, tmp_path, err);
  /* A Keras-family model or a dialect that also exports to ONNX (a TF graph model) is
   * converted first. */
  const OshDialect *d = osh_dialect_of (g);
  OshGraph *converted = d->to_onnx ? d->to_onnx (g, err) : osh_onnx_from_keras (g, err);
  if (!converted && d->to_onnx)
    osh_error_prefix (err, "%s: ", final_path);
  if (!converted)
    return false;
  bool ok = write_onnx_graph (converted, tmp_path, err);
  osh_graph_free (converted);
  return ok;
}

static bool
write_onnx_graph (const OshGraph *g, const char *tmp_path, OshError *err)
{
  if (!is_onnx_graph (g, err))
    return false;
  Arena a = { 0 };
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  onnx__model_proto__init (&model);
  onnx__graph_proto__init (&graph);
  onnx__operator_set_id_proto__init (&opset);
  model.has_ir_version = true;
  model.ir_version = osh_config_int (g->meta, "onnx_ir_version", 8);
  if (model.ir_version <= 0)
    model.ir_version = 8;
  model.producer_name = "offshoot";
  /* The attached heads and the class names, as the Keras writers keep them in the config: a
   * saved model still shows which layers were attached and names its classes (read back by
   * osh-onnx-read.c), each a JSON array in metadata_props. */
  static const char *const meta_keys[] = { OSH_META_HEADS, OSH_META_CLASS_NAMES };
  Onnx__StringStringEntryProto entries[2], *props[2];
  model.metadata_props = props;
  for (int k = 0; k < 2; k++)
    {
      const json_t *list = json_object_get (g->meta, meta_keys[k]);
      char *text = json_array_size (list) > 0 ? json_dumps (list, JSON_COMPACT) : NULL;
      Onnx__StringStringEntryProto *e = &entries[model.n_metadata_props];
      onnx__string_string_entry_proto__init (e);
      e->key = (char *) meta_keys[k];
      e->value = text ? arena_strdup (&a, text) : NULL;
      free (text);
      if (e->value)
        props[model.n_metadata_props++] = e;
    }
  opset.domain = "";
  opset.has_version = true;
  opset.version = osh_config_int (g->meta, "onnx_opset", 13);
  Onnx__OperatorSetIdProto *opsets[1] = { &opset };
  model.n_opset_import = 1;
  model.opset_import = opsets;
  model.graph = &graph;
  graph.name = g->name ? g->name : "offshoot";

  size_t total_weights = 0;
  for (int i = 0; i < g->n_layers; i++)
    total_weights += (size_t) g->layers[i].n_weights;
  graph.node = arena_alloc (&a, (size_t) g->n_nodes * sizeof *graph.node);
  graph.initializer = arena_alloc (&a, total_weights * sizeof *graph.initializer);
  graph.input = arena_alloc (&a, (size_t) g->n_inputs * sizeof *graph.input);
  graph.output = arena_alloc (&a, (size_t) g->n_outputs * sizeof *graph.output);
  for (int i = 0; !a.failed && i < g->n_inputs; i++)
    {
      const OshLayer *l = &g->layers[g->nodes[g->inputs[i].node].layer];
      graph.input[graph.n_input++] =
          value_info (&a, l->name, NULL, json_object_get (l->config, "batch_input_shape"));
    }
  for (int i = 0; !a.failed && i < g->n_nodes; i++)
    if (strcmp (g->layers[g->nodes[i].layer].class_name, "InputLayer") != 0)
      graph.node[graph.n_node++] = node_proto (&a, g, i, &graph.initializer, &graph.n_initializer);
  for (int i = 0; !a.failed && i < g->n_outputs; i++)
    {
      const OshNode *n = &g->nodes[g->outputs[i].node];
      char *name = tensor_name (&a, g, g->outputs[i]);
      graph.output[graph.n_output++] = value_info (
          &a, name ? name : "", n->shapes ? &n->shapes[g->outputs[i].index] : NULL, NULL);
    }
  bool ok = !a.failed;
  for (size_t i = 0; ok && i < graph.n_node; i++)
    ok = graph.node[i] != NULL;
  if (!ok)
    {
      arena_free (&a);
      return osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory building the ONNX message", tmp_path);
    }
  size_t size = onnx__model_proto__get_packed_size (&model);
  uint8_t *buf = malloc (size ? size : 1);
  if (!buf)
    {
      arena_free (&a);
      return osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for %zu bytes", tmp_path, size);
    }
  onnx__model_proto__pack (&model, buf);
  arena_free (&a);
  FILE *f = fopen (tmp_path, "wb");
  ok = f && fwrite (buf, 1, size, f) == size;
  if (f && fclose (f) != 0)
    ok = false;
  free (buf);
  if (!ok)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot write the ONNX file", tmp_path);
  return true;
}
