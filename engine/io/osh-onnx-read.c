/* ONNX ModelProto → graph IR (see osh-onnx.h for the mapping).
 *
 * Over 700 lines because reading protobuf safely is one job with many parts: tensors of every
 * element type and external data, attributes, the tensor-name map, the node order, constants
 * folded at load, dangling tensors and the graph inputs, each checked against the file's sizes. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "osh-float16.h"
#include "osh-formats.h"
#include "osh-onnx.h"
#include "osh-op.h"

/* ---- a string → value map for tensor names (open addressing, grows at 50 % load) ---- */

typedef struct
{
  const char *key;
  OshRef ref;          /* a tensor produced by a node, or */
  OshTensor *constant; /* a constant value (initializer or Constant node), not owned */
} Entry;

typedef struct
{
  Entry *slots;
  size_t cap, used;
} NameMap;

static uint64_t
hash_name (const char *s)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

static Entry *
map_find (const NameMap *m, const char *key)
{
  if (!m->cap)
    return NULL;
  for (size_t i = hash_name (key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
    {
      if (!m->slots[i].key)
        return NULL;
      if (strcmp (m->slots[i].key, key) == 0)
        return &m->slots[i];
    }
}

static Entry *
map_put (NameMap *m, const char *key, OshError *err)
{
  if ((m->used + 1) * 2 > m->cap)
    {
      size_t cap = m->cap ? m->cap * 2 : 256;
      Entry *slots = calloc (cap, sizeof *slots);
      if (!slots)
        {
          osh_fail (err, OSH_ERR_NOMEM, "out of memory indexing tensor names");
          return NULL;
        }
      for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
          {
            size_t j = hash_name (m->slots[i].key) & (cap - 1);
            while (slots[j].key)
              j = (j + 1) & (cap - 1);
            slots[j] = m->slots[i];
          }
      free (m->slots);
      m->slots = slots;
      m->cap = cap;
    }
  size_t i = hash_name (key) & (m->cap - 1);
  while (m->slots[i].key && strcmp (m->slots[i].key, key) != 0)
    i = (i + 1) & (m->cap - 1);
  if (!m->slots[i].key)
    m->used++;
  m->slots[i] = (Entry){ .key = key, .ref = { -1, 0 } };
  return &m->slots[i];
}

/* ---- tensors ---- */

static float
bfloat_to_float (uint16_t b)
{
  uint32_t bits = (uint32_t) b << 16;
  float v;
  memcpy (&v, &bits, sizeof v);
  return v;
}

static size_t
elem_size (int32_t type)
{
  switch (type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
    default: return 0;
    }
}

/* Element i of little-endian raw bytes of `type`, as float. */
static float
raw_value (const uint8_t *p, int32_t type)
{
  switch (type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
      {
        float v;
        memcpy (&v, p, 4);
        return v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      {
        double v;
        memcpy (&v, p, 8);
        return (float) v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
      {
        int32_t v;
        memcpy (&v, p, 4);
        return (float) v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
      {
        uint32_t v;
        memcpy (&v, p, 4);
        return (float) v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      {
        int64_t v;
        memcpy (&v, p, 8);
        return (float) v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
      {
        uint64_t v;
        memcpy (&v, p, 8);
        return (float) v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
      {
        uint16_t v;
        memcpy (&v, p, 2);
        return osh_half_to_float (v);
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
      {
        uint16_t v;
        memcpy (&v, p, 2);
        return bfloat_to_float (v);
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
      {
        int16_t v;
        memcpy (&v, p, 2);
        return (float) v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
      {
        uint16_t v;
        memcpy (&v, p, 2);
        return (float) v;
      }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return (float) (int8_t) *p;
    default: return (float) *p; /* UINT8, BOOL */
    }
}

/* Reads an external-data tensor's bytes from a file beside the model. */
static uint8_t *
read_external (const char *model_name, const Onnx__TensorProto *t, size_t want, OshError *err)
{
  const char *location = NULL;
  long long offset = 0, length = -1;
  for (size_t i = 0; i < t->n_external_data; i++)
    {
      const Onnx__StringStringEntryProto *e = t->external_data[i];
      if (!e->key || !e->value)
        continue;
      if (strcmp (e->key, "location") == 0)
        location = e->value;
      else if (strcmp (e->key, "offset") == 0)
        offset = strtoll (e->value, NULL, 10);
      else if (strcmp (e->key, "length") == 0)
        length = strtoll (e->value, NULL, 10);
    }
  if (!location || !*location || location[0] == '/' || strstr (location, ".."))
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "initializer '%s': external data location '%s' is not a file name "
                "beside the model",
                t->name ? t->name : "", location ? location : "");
      return NULL;
    }
  if (offset < 0 || (length >= 0 && (size_t) length != want))
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "initializer '%s': external data offset %lld / length %lld do not "
                "fit the %zu bytes its shape needs",
                t->name ? t->name : "", offset, length, want);
      return NULL;
    }
  const char *slash = strrchr (model_name, '/');
  size_t dir_len = slash ? (size_t) (slash - model_name + 1) : 0;
  char *path = malloc (dir_len + strlen (location) + 1);
  uint8_t *bytes = malloc (want ? want : 1);
  if (!path || !bytes)
    {
      free (path);
      free (bytes);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory reading external data");
      return NULL;
    }
  memcpy (path, model_name, dir_len);
  strcpy (path + dir_len, location);
  FILE *f = fopen (path, "rb");
  bool ok = f && fseek (f, offset, SEEK_SET) == 0 && fread (bytes, 1, want, f) == want;
  if (!ok)
    osh_fail (err, OSH_ERR_IO,
              "initializer '%s': cannot read %zu bytes at offset %lld of external "
              "data file %s%s%s",
              t->name ? t->name : "", want, offset, path, f ? "" : ": ", f ? "" : strerror (errno));
  if (f)
    fclose (f);
  free (path);
  if (!ok)
    {
      free (bytes);
      return NULL;
    }
  return bytes;
}

/* Any numeric TensorProto → a float32 OshTensor. */
static OshTensor *
convert_tensor (const char *model_name, const Onnx__TensorProto *t, OshError *err)
{
  const char *name = t->name ? t->name : "";
  OshShape shape = { 0 };
  if (t->n_dims > OSH_MAX_RANK)
    {
      osh_fail (err, OSH_ERR_LIMIT, "tensor '%s': rank %zu is over the limit of %d", name,
                t->n_dims, OSH_MAX_RANK);
      return NULL;
    }
  shape.rank = (int) t->n_dims;
  for (size_t i = 0; i < t->n_dims; i++)
    shape.dim[i] = t->dims[i];
  OshTensor *out = osh_tensor_new (&shape, err);
  if (!out)
    {
      osh_error_prefix (err, "tensor '%s': ", name);
      return NULL;
    }
  size_t n = (size_t) osh_tensor_numel (out);
  int32_t type = t->data_type;
  size_t esize = elem_size (type);
  if (!esize)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED, "tensor '%s': data type %d is not numeric", name, type);
      goto fail;
    }
  const uint8_t *raw = NULL;
  uint8_t *external = NULL;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    {
      if (!(external = read_external (model_name, t, n * esize, err)))
        goto fail;
      raw = external;
    }
  else if (t->has_raw_data)
    {
      if (t->raw_data.len != n * esize)
        {
          osh_fail (err, OSH_ERR_FORMAT, "tensor '%s': %zu bytes of raw data, its shape needs %zu",
                    name, t->raw_data.len, n * esize);
          goto fail;
        }
      raw = t->raw_data.data;
    }
  if (raw)
    {
      for (size_t i = 0; i < n; i++)
        out->data[i] = raw_value (raw + i * esize, type);
      free (external);
      return out;
    }
  /* Typed fields: which one holds the values depends on the type. */
  size_t have;
  switch (type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = t->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = t->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = t->n_int64_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: have = t->n_uint64_data; break;
    default: have = t->n_int32_data; break;
    }
  if (have != n)
    {
      osh_fail (err, OSH_ERR_FORMAT, "tensor '%s': %zu values stored, its shape needs %zu", name,
                have, n);
      goto fail;
    }
  for (size_t i = 0; i < n; i++)
    switch (type)
      {
      case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: out->data[i] = t->float_data[i]; break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: out->data[i] = (float) t->double_data[i]; break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: out->data[i] = (float) t->int64_data[i]; break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
      case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: out->data[i] = (float) t->uint64_data[i]; break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        out->data[i] = osh_half_to_float ((uint16_t) t->int32_data[i]);
        break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        out->data[i] = bfloat_to_float ((uint16_t) t->int32_data[i]);
        break;
      default: out->data[i] = (float) t->int32_data[i]; break;
      }
  return out;
fail:
  osh_tensor_free (out);
  return NULL;
}

/* ---- attributes ---- */

static json_t *
tensor_json (const char *model_name, const Onnx__TensorProto *t, OshError *err)
{
  OshTensor *v = convert_tensor (model_name, t, err);
  if (!v)
    return NULL;
  json_t *dims = json_array (), *data = json_array ();
  for (int i = 0; i < v->shape.rank; i++)
    json_array_append_new (dims, json_integer (v->shape.dim[i]));
  for (int64_t i = 0; i < osh_tensor_numel (v); i++)
    json_array_append_new (data, json_real (v->data[i]));
  osh_tensor_free (v);
  return json_pack ("{s:o, s:o, s:i}", "dims", dims, "data", data, "data_type", t->data_type);
}

static json_t *
attribute_json (const char *model_name, const Onnx__AttributeProto *a, OshError *err)
{
  json_t *list;
  switch (a->type)
    {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return json_real (a->f);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return json_integer (a->i);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
      return json_stringn_nocheck ((const char *) a->s.data, a->s.len);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
      list = json_array ();
      for (size_t i = 0; i < a->n_floats; i++)
        json_array_append_new (list, json_real (a->floats[i]));
      return list;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      list = json_array ();
      for (size_t i = 0; i < a->n_ints; i++)
        json_array_append_new (list, json_integer (a->ints[i]));
      return list;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
      list = json_array ();
      for (size_t i = 0; i < a->n_strings; i++)
        json_array_append_new (
            list, json_stringn_nocheck ((const char *) a->strings[i].data, a->strings[i].len));
      return list;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
      if (a->t)
        return tensor_json (model_name, a->t, err);
      break;
    default: break;
    }
  /* Graphs (If/Loop bodies), sparse tensors and type protos: kept as a marker so the layer
   * still loads and draws; running it reports the op as unsupported. */
  return json_pack ("{s:s, s:i}", "unsupported_attribute_type", "onnx", "type", (int) a->type);
}

/* ---- the graph ---- */

typedef struct
{
  const char *model_name;
  const Onnx__GraphProto *graph;
  OshGraph *g;
  NameMap tensors;   /* name → producing node output, or constant */
  NameMap types;     /* name → its ONNX element type (in ref.node; 0 unknown), see infer_types */
  OshTensor **owned; /* constants we converted, freed at the end */
  size_t n_owned, cap_owned;
} Reader;

static bool
own_constant (Reader *r, OshTensor *t, OshError *err)
{
  if (r->n_owned == r->cap_owned)
    {
      size_t cap = r->cap_owned ? r->cap_owned * 2 : 64;
      OshTensor **p = realloc (r->owned, cap * sizeof *p);
      if (!p)
        {
          osh_tensor_free (t);
          return osh_fail (err, OSH_ERR_NOMEM, "out of memory holding constants");
        }
      r->owned = p;
      r->cap_owned = cap;
    }
  r->owned[r->n_owned++] = t;
  return true;
}

static bool
add_constant (Reader *r, const char *name, OshTensor *t, OshError *err)
{
  if (!t || !own_constant (r, t, err))
    return false;
  Entry *e = map_put (&r->tensors, name, err);
  if (!e)
    return false;
  e->constant = t;
  return true;
}

/* A Constant node's value, from whichever value_* attribute it has. */
static OshTensor *
constant_value (Reader *r, const Onnx__NodeProto *n, OshError *err)
{
  for (size_t i = 0; i < n->n_attribute; i++)
    {
      const Onnx__AttributeProto *a = n->attribute[i];
      if (!a->name)
        continue;
      if (strcmp (a->name, "value") == 0 && a->t)
        return convert_tensor (r->model_name, a->t, err);
      OshShape s = { 0 };
      OshTensor *t = NULL;
      if (strcmp (a->name, "value_float") == 0 || strcmp (a->name, "value_int") == 0)
        {
          if ((t = osh_tensor_new (&s, err)))
            t->data[0] = strcmp (a->name, "value_float") == 0 ? a->f : (float) a->i;
          return t;
        }
      if (strcmp (a->name, "value_floats") == 0 || strcmp (a->name, "value_ints") == 0)
        {
          bool floats = strcmp (a->name, "value_floats") == 0;
          s.rank = 1;
          s.dim[0] = (int64_t) (floats ? a->n_floats : a->n_ints);
          if ((t = osh_tensor_new (&s, err)))
            for (int64_t k = 0; k < s.dim[0]; k++)
              t->data[k] = floats ? a->floats[k] : (float) a->ints[k];
          return t;
        }
    }
  osh_fail (err, OSH_ERR_UNSUPPORTED, "Constant node '%s' has no numeric value attribute",
            n->name ? n->name : "");
  return NULL;
}

static json_t *
shape_json (const Onnx__ValueInfoProto *v)
{
  json_t *dims = json_array ();
  const Onnx__TypeProto *type = v->type;
  if (type && type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && type->tensor_type
      && type->tensor_type->shape)
    {
      const Onnx__TensorShapeProto *s = type->tensor_type->shape;
      for (size_t i = 0; i < s->n_dim; i++)
        {
          const Onnx__TensorShapeProto__Dimension *d = s->dim[i];
          json_array_append_new (
              dims, d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                        ? json_integer (d->dim_value)
                        : json_null ());
        }
    }
  return dims;
}

/* A unique layer name: the node's own name when it has a free one, else "<op>_<index>". */
static char *
layer_name (const OshGraph *g, const Onnx__NodeProto *n, size_t index)
{
  char buf[512];
  if (n->name && *n->name && strlen (n->name) < 400 && osh_graph_find_layer (g, -1, n->name) < 0)
    return strdup (n->name);
  snprintf (buf, sizeof buf, "%.200s_%zu", n->op_type ? n->op_type : "node", index);
  for (int k = 1; osh_graph_find_layer (g, -1, buf) >= 0; k++)
    snprintf (buf, sizeof buf, "%.200s_%zu_%d", n->op_type ? n->op_type : "node", index, k);
  return strdup (buf);
}

/* A node whose inputs are all constants (PyTorch exports compute Resize scales and Reshape
 * targets this way) is computed once here and its outputs become constants: shapes then stay
 * static and the graph shows the layers that matter. False when it cannot be folded. */
static bool
fold_constant_node (Reader *r, const Onnx__NodeProto *n, const char *class_name, json_t *config,
                    const OshSlotKind *kinds, OshTensor **weights, const char **weight_names,
                    int n_weights)
{
  if (n_weights == 0 || n_weights > 64 || n->n_output == 0 || n->n_output > 16 || n->n_input > 64)
    return false;
  OshWeight w[64];
  for (int i = 0; i < n_weights; i++)
    w[i] = (OshWeight){ (char *) weight_names[i], weights[i], false, false };
  OshSlot slots[64];
  for (size_t i = 0, k = 0; i < n->n_input; i++)
    slots[i] = (OshSlot){ kinds[i], kinds[i] == OSH_SLOT_WEIGHT ? (int) k++ : -1 };
  OshLayer layer = { .name = (char *) class_name,
                     .class_name = (char *) class_name,
                     .config = config,
                     .owner = -1,
                     .weights = w,
                     .n_weights = n_weights,
                     .slots = slots,
                     .n_slots = (int) n->n_input };
  OshError e = { 0 };
  OshTensor *outs[16] = { 0 };
  bool ok = osh_onnx_eval_constant (r->g, &layer, NULL, 0, outs, (int) n->n_output, &e);
  for (size_t k = 0; k < n->n_output; k++)
    {
      if (ok && n->output[k] && *n->output[k])
        {
          ok = add_constant (r, n->output[k], outs[k], &e);
          outs[k] = NULL;
        }
      osh_tensor_free (outs[k]);
    }
  return ok;
}

/* A node input that nothing produces (the nodes are read producers first, see node_order): a
 * dangling tensor. It becomes an InputLayer that is not a graph input (OSH_INPUT_UNPRODUCED), so
 * the file loads and the connectivity analysis explains it like Keras's foreign inputs. */
static Entry *
dangling_root (Reader *r, const char *tensor, OshError *err)
{
  const Onnx__GraphProto *gp = r->graph;
  json_t *shape = json_null ();
  for (size_t i = 0; i < gp->n_value_info; i++)
    if (gp->value_info[i]->name && strcmp (gp->value_info[i]->name, tensor) == 0)
      {
        json_decref (shape);
        shape = shape_json (gp->value_info[i]);
      }
  char name[600];
  snprintf (name, sizeof name, "%.500s", tensor);
  for (int k = 1; osh_graph_find_layer (r->g, -1, name) >= 0; k++)
    snprintf (name, sizeof name, "%.500s (missing %d)", tensor, k);
  int layer = osh_graph_add_layer (r->g, -1, name, "InputLayer",
                                   json_pack ("{s:o, s:s, s:b, s:[s]}", "batch_input_shape", shape,
                                              "dtype", "float32", OSH_INPUT_UNPRODUCED, 1,
                                              OSH_ONNX_OUTPUT_NAMES, tensor),
                                   err);
  int root = layer >= 0 ? osh_graph_add_node (r->g, layer, NULL, 0, 1, err) : -1;
  Entry *e = root >= 0 ? map_put (&r->tensors, tensor, err) : NULL;
  if (e)
    e->ref = (OshRef){ root, 0 };
  return e;
}

#define NONE_REF ((OshRef){ -1, 0 })

/* A graph output that is a constant (an initializer or a Constant node's value, as a TF graph
 * model's Fill exports): an Identity of that value, named after the output, so the output is
 * the tensor as ONNX Runtime gives it. The value is the layer's weight "<name> (value)": the
 * output keeps the tensor's own name. */
static OshRef
constant_output (Reader *r, const char *tensor, const OshTensor *value, OshError *err)
{
  char name[600], weight[620];
  snprintf (name, sizeof name, "%.500s", tensor);
  for (int k = 1; osh_graph_find_layer (r->g, -1, name) >= 0; k++)
    snprintf (name, sizeof name, "%.500s (constant %d)", tensor, k);
  snprintf (weight, sizeof weight, "%.500s (value)", tensor);
  int layer = osh_graph_add_layer (r->g, -1, name, "Identity",
                                   json_pack ("{s:[s]}", OSH_ONNX_OUTPUT_NAMES, tensor), err);
  OshTensor *copy = layer >= 0 ? osh_tensor_copy (value, err) : NULL;
  OshSlotKind slot = OSH_SLOT_WEIGHT;
  int node = -1;
  if (copy && osh_layer_add_weight (r->g, layer, weight, copy, true, err)
      && osh_layer_set_slots (r->g, layer, &slot, 1, err))
    node = osh_graph_add_node (r->g, layer, NULL, 0, 1, err);
  return (OshRef){ node, 0 };
}

static int32_t
type_of (const Reader *r, const char *name)
{
  const Entry *e = name && *name ? map_find (&r->types, name) : NULL;
  return e ? e->ref.node : 0;
}

/* ONNX element types that hold integers (Div truncates for them). */
static bool
integer_type (int32_t t)
{
  return (t >= 2 && t <= 7) || t == 12 || t == 13;
}

static bool
add_node (Reader *r, const Onnx__NodeProto *n, size_t index, OshError *err)
{
  OshGraph *g = r->g;
  if (!n->op_type || !*n->op_type)
    return osh_fail (err, OSH_ERR_FORMAT, "node %zu has no op_type", index);
  if (strcmp (n->op_type, "Constant") == 0 && (!n->domain || !*n->domain) && n->n_output == 1)
    return add_constant (r, n->output[0], constant_value (r, n, err), err);

  char class_name[300];
  if (n->domain && *n->domain && strcmp (n->domain, "ai.onnx") != 0)
    snprintf (class_name, sizeof class_name, "%.100s:%.180s", n->domain, n->op_type);
  else
    snprintf (class_name, sizeof class_name, "%.280s", n->op_type);

  json_t *config = json_object ();
  for (size_t i = 0; i < n->n_attribute; i++)
    {
      const Onnx__AttributeProto *a = n->attribute[i];
      json_t *v = a->name ? attribute_json (r->model_name, a, err) : NULL;
      if (!v)
        {
          json_decref (config);
          if (a->name)
            osh_error_prefix (err, "node %zu (%s) attribute '%s': ", index, n->op_type, a->name);
          else
            osh_fail (err, OSH_ERR_FORMAT, "node %zu (%s): an attribute has no name", index,
                      n->op_type);
          return false;
        }
      json_object_set_new (config, a->name, v);
    }
  /* Values are float32 in the engine: what depends on the element type is recorded. */
  if (strcmp (class_name, "QuantizeLinear") == 0 && n->n_input > 2)
    json_object_set_new (config, OSH_ONNX_ZERO_POINT_TYPE, json_integer (type_of (r, n->input[2])));
  if (strcmp (class_name, "Div") == 0 && n->n_output == 1
      && integer_type (type_of (r, n->output[0])))
    json_object_set_new (config, OSH_ONNX_INTEGER_DIVISION, json_true ());
  json_t *out_names = json_array ();
  OshSlotKind *slots = calloc (n->n_input + 1, sizeof *slots);
  OshRef *inputs = calloc (n->n_input + 1, sizeof *inputs);
  OshTensor **weights = calloc (n->n_input + 1, sizeof *weights);
  const char **weight_names = calloc (n->n_input + 1, sizeof *weight_names);
  int n_inputs = 0, n_weights = 0;
  char *name = layer_name (g, n, index);
  bool ok = slots && inputs && weights && weight_names && name;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory reading node %zu", index);
  for (size_t i = 0; ok && i < n->n_input; i++)
    {
      const char *in = n->input[i] ? n->input[i] : "";
      if (!*in)
        {
          slots[i] = OSH_SLOT_ABSENT;
          continue;
        }
      Entry *e = map_find (&r->tensors, in);
      if (!e && !(e = dangling_root (r, in, err)))
        ok = false;
      else if (e->constant)
        {
          slots[i] = OSH_SLOT_WEIGHT;
          weight_names[n_weights] = in;
          weights[n_weights] = osh_tensor_copy (e->constant, err);
          ok = weights[n_weights++] != NULL;
        }
      else
        {
          slots[i] = OSH_SLOT_ACTIVATION;
          inputs[n_inputs++] = e->ref;
        }
    }
  for (size_t i = 0; i < n->n_output; i++)
    json_array_append_new (out_names, json_string_nocheck (n->output[i] ? n->output[i] : ""));
  json_object_set_new (config, OSH_ONNX_OUTPUT_NAMES, out_names);
  if (ok && n_inputs == 0
      && fold_constant_node (r, n, class_name, config, slots, weights, weight_names, n_weights))
    {
      json_decref (config);
      free (slots);
      for (int w = 0; w < n_weights; w++)
        osh_tensor_free (weights[w]);
      free (weights);
      free (weight_names);
      free (inputs);
      free (name);
      return true;
    }

  int layer = -1, node = -1;
  if (ok && n->n_output == 0)
    ok = osh_fail (err, OSH_ERR_FORMAT, "node %zu ('%s', %s) has no outputs", index, name,
                   n->op_type);
  if (ok)
    {
      layer = osh_graph_add_layer (g, -1, name, class_name, config, err);
      config = NULL;
      ok = layer >= 0;
    }
  for (int w = 0; ok && w < n_weights; w++)
    {
      ok = osh_layer_add_weight (g, layer, weight_names[w], weights[w], true, err);
      weights[w] = NULL;
      /* int64 constants are shapes, axes and indices, never learned: parameter counts leave
       * them out, as a graph model's int32 constants (quantized weights and int32 biases stay) */
      if (ok)
        g->layers[layer].weights[g->layers[layer].n_weights - 1].index =
            type_of (r, weight_names[w]) == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    }
  if (ok)
    ok = osh_layer_set_slots (g, layer, slots, (int) n->n_input, err);
  if (ok)
    ok = (node = osh_graph_add_node (g, layer, inputs, n_inputs, (int) n->n_output, err)) >= 0;
  for (size_t i = 0; ok && i < n->n_output; i++)
    {
      if (!n->output[i] || !*n->output[i])
        continue;
      Entry *e = map_put (&r->tensors, n->output[i], err);
      ok = e != NULL;
      if (e)
        e->ref = (OshRef){ node, (int32_t) i };
    }
  json_decref (config);
  for (int w = 0; w < n_weights; w++)
    osh_tensor_free (weights[w]);
  free (slots);
  free (weights);
  free (weight_names);
  free (inputs);
  free (name);
  return ok;
}

/* The order to read the nodes in: producers before their users. ONNX asks files for that
 * order, but converters append nodes at the end (float16 Casts) and ONNX Runtime sorts them, so
 * Offshoot sorts too: a depth-first walk in file order, which keeps a sorted file's order. Only
 * a real cycle is refused, naming a node on it. */
typedef struct
{
  size_t node, next_input;
} Visit;

static size_t *
node_order (const Onnx__GraphProto *gp, OshError *err)
{
  NameMap producer = { 0 };
  size_t *order = malloc ((gp->n_node + 1) * sizeof *order);
  uint8_t *state = calloc (gp->n_node + 1, 1); /* 0 not seen, 1 on the walk's path, 2 done */
  Visit *stack = malloc ((gp->n_node + 1) * sizeof *stack);
  bool ok = order && state && stack;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory ordering %zu nodes", gp->n_node);
  for (size_t i = 0; ok && i < gp->n_node; i++)
    for (size_t k = 0; ok && k < gp->node[i]->n_output; k++)
      {
        const char *out = gp->node[i]->output[k];
        Entry *e = out && *out ? map_put (&producer, out, err) : NULL;
        ok = !out || !*out || e;
        if (e)
          e->ref = (OshRef){ (int) i, (int32_t) k };
      }
  size_t n_order = 0;
  for (size_t root = 0; ok && root < gp->n_node; root++)
    {
      if (state[root])
        continue;
      size_t depth = 0;
      stack[depth++] = (Visit){ root, 0 };
      state[root] = 1;
      while (ok && depth)
        {
          size_t v = stack[depth - 1].node;
          const Onnx__NodeProto *n = gp->node[v];
          if (stack[depth - 1].next_input == n->n_input)
            {
              state[v] = 2;
              order[n_order++] = v;
              depth--;
              continue;
            }
          const char *in = n->input[stack[depth - 1].next_input++];
          const Entry *e = in && *in ? map_find (&producer, in) : NULL;
          if (!e)
            continue;
          size_t p = (size_t) e->ref.node;
          if (state[p] == 1)
            ok = osh_fail (err, OSH_ERR_FORMAT,
                           "node %zu ('%s', %s) is on a cycle: its input '%s' is computed from "
                           "its own output (an ONNX graph must be acyclic)",
                           v, n->name ? n->name : "", n->op_type ? n->op_type : "", in);
          else if (state[p] == 0)
            {
              state[p] = 1;
              stack[depth++] = (Visit){ p, 0 };
            }
        }
    }
  free (producer.slots);
  free (state);
  free (stack);
  if (!ok)
    {
      free (order);
      return NULL;
    }
  return order;
}

static bool
set_type (Reader *r, const char *name, int32_t type, OshError *err)
{
  Entry *e = name && *name ? map_put (&r->types, name, err) : NULL;
  if (e)
    e->ref.node = type;
  return !name || !*name || e;
}

static int64_t
int_attribute (const Onnx__NodeProto *n, const char *key, int64_t fallback)
{
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && strcmp (n->attribute[i]->name, key) == 0)
      return n->attribute[i]->i;
  return fallback;
}

/* The element type of output k of node n, from its op and its inputs' types (0 unknown). */
static int32_t
output_type (const Reader *r, const Onnx__NodeProto *n, size_t k)
{
  static const char *const int64_ops[] = { "Shape", "Size", "NonZero", "ArgMax", "ArgMin" };
  static const char *const bool_ops[] = {
    "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN"
  };
  const char *op = n->op_type;
  for (size_t i = 0; i < sizeof int64_ops / sizeof *int64_ops; i++)
    if (strcmp (op, int64_ops[i]) == 0)
      return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  for (size_t i = 0; i < sizeof bool_ops / sizeof *bool_ops; i++)
    if (strcmp (op, bool_ops[i]) == 0)
      return ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
  if (strcmp (op, "Cast") == 0)
    return (int32_t) int_attribute (n, "to", 0);
  if (strcmp (op, "Constant") == 0 || strcmp (op, "ConstantOfShape") == 0)
    {
      for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->t)
          return n->attribute[i]->t->data_type;
      for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strncmp (n->attribute[i]->name, "value_int", 9) == 0)
          return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
      return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    }
  if (strcmp (op, "DynamicQuantizeLinear") == 0)
    return k == 1 ? ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT : ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
  if (strcmp (op, "ConvInteger") == 0 || strcmp (op, "MatMulInteger") == 0)
    return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
  if (strcmp (op, "DequantizeLinear") == 0)
    return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  if (strcmp (op, "QuantizeLinear") == 0)
    return n->n_input > 2 && type_of (r, n->input[2]) ? type_of (r, n->input[2])
                                                      : ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
  /* Shape ops and arithmetic keep their (first) data input's type. */
  return n->n_input > 0 ? type_of (r, n->input[0]) : 0;
}

/* Element types of every tensor, in node order (the engine computes in float32; integer
 * division and a quantizer's range still depend on the type). */
static bool
infer_types (Reader *r, const size_t *order, OshError *err)
{
  const Onnx__GraphProto *gp = r->graph;
  bool ok = true;
  for (size_t i = 0; ok && i < gp->n_initializer; i++)
    ok = set_type (r, gp->initializer[i]->name, gp->initializer[i]->data_type, err);
  for (size_t i = 0; ok && i < gp->n_input; i++)
    {
      const Onnx__TypeProto *t = gp->input[i]->type;
      if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type
          && !map_find (&r->types, gp->input[i]->name ? gp->input[i]->name : ""))
        ok = set_type (r, gp->input[i]->name, t->tensor_type->elem_type, err);
    }
  for (size_t i = 0; ok && i < gp->n_node; i++)
    {
      const Onnx__NodeProto *n = gp->node[order[i]];
      for (size_t k = 0; ok && n->op_type && k < n->n_output; k++)
        ok = set_type (r, n->output[k], output_type (r, n, k), err);
    }
  return ok;
}

static bool
read_graph (Reader *r, const Onnx__ModelProto *model, OshError *err)
{
  const Onnx__GraphProto *gp = model->graph;
  OshGraph *g = r->g;
  for (size_t i = 0; i < gp->n_initializer; i++)
    {
      const Onnx__TensorProto *t = gp->initializer[i];
      if (!t->name || !*t->name)
        return osh_fail (err, OSH_ERR_FORMAT, "initializer %zu has no name", i);
      if (!add_constant (r, t->name, convert_tensor (r->model_name, t, err), err))
        {
          osh_error_prefix (err, "initializer %zu: ", i);
          return false;
        }
    }
  OshRef *refs = calloc (gp->n_input + gp->n_output + 1, sizeof *refs);
  if (!refs)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  int n_in = 0;
  bool ok = true;
  for (size_t i = 0; ok && i < gp->n_input; i++)
    {
      const Onnx__ValueInfoProto *v = gp->input[i];
      if (!v->name || !*v->name)
        ok = osh_fail (err, OSH_ERR_FORMAT, "graph input %zu has no name", i);
      else if (map_find (&r->tensors, v->name))
        continue; /* an initializer listed as an input too (IR version < 4): a weight */
      int layer = ok ? osh_graph_add_layer (g, -1, v->name, "InputLayer",
                                            json_pack ("{s:o, s:s}", "batch_input_shape",
                                                       shape_json (v), "dtype", "float32"),
                                            err)
                     : -1;
      int node = layer >= 0 ? osh_graph_add_node (g, layer, NULL, 0, 1, err) : -1;
      Entry *e = node >= 0 ? map_put (&r->tensors, v->name, err) : NULL;
      ok = e != NULL;
      if (ok)
        refs[n_in++] = e->ref = (OshRef){ node, 0 };
    }
  size_t *order = ok ? node_order (gp, err) : NULL;
  ok = ok && order && infer_types (r, order, err);
  for (size_t i = 0; ok && i < gp->n_node; i++)
    ok = add_node (r, gp->node[order[i]], order[i], err);
  free (order);
  int n_out = 0;
  for (size_t i = 0; ok && i < gp->n_output; i++)
    {
      const char *name = gp->output[i]->name ? gp->output[i]->name : "";
      Entry *e = map_find (&r->tensors, name);
      OshRef ref = e && e->constant ? constant_output (r, name, e->constant, err) : NONE_REF;
      if (!e)
        ok = osh_fail (err, OSH_ERR_FORMAT, "graph output '%s' is not produced by any node", name);
      else if (e->constant && ref.node < 0)
        ok = false;
      else
        refs[gp->n_input + (size_t) n_out++] = e->constant ? ref : e->ref;
    }
  if (ok)
    ok = osh_graph_set_io (g, -1, refs, n_in, refs + gp->n_input, n_out, err);
  free (refs);
  return ok;
}

int
osh_onnx_tensor_type (const void *data, size_t size)
{
  Onnx__TensorProto *t = onnx__tensor_proto__unpack (NULL, size, data);
  if (!t)
    return -1;
  int type = t->data_type;
  onnx__tensor_proto__free_unpacked (t, NULL);
  return type;
}

OshTensor *
osh_onnx_tensor_read (const char *name, const void *data, size_t size, OshError *err)
{
  Onnx__TensorProto *t = onnx__tensor_proto__unpack (NULL, size, data);
  if (!t)
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s: not a serialized ONNX TensorProto", name);
      return NULL;
    }
  OshTensor *out = convert_tensor (name, t, err);
  if (!out)
    osh_error_prefix (err, "%s: ", name);
  onnx__tensor_proto__free_unpacked (t, NULL);
  return out;
}

OshGraph *
osh_onnx_read (const char *name, const void *data, size_t size, OshError *err)
{
  Onnx__ModelProto *model = onnx__model_proto__unpack (NULL, size, data);
  if (!model)
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "%s: not a valid ONNX file (the protobuf message could not be "
                "decoded from its %zu bytes)",
                name, size);
      return NULL;
    }
  if (!model->graph)
    {
      onnx__model_proto__free_unpacked (model, NULL);
      osh_fail (err, OSH_ERR_FORMAT, "%s: the ONNX model has no graph", name);
      return NULL;
    }
  Reader r = { .model_name = name, .graph = model->graph, .g = osh_graph_new () };
  bool ok = r.g != NULL;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  if (ok)
    {
      r.g->layout = OSH_LAYOUT_CHANNELS_FIRST;
      r.g->dialect = &osh_onnx_dialect;
      r.g->class_name = strdup ("onnx");
      r.g->name =
          strdup (model->graph->name && *model->graph->name ? model->graph->name : "onnx_model");
      int64_t opset = 0;
      for (size_t i = 0; i < model->n_opset_import; i++)
        {
          const Onnx__OperatorSetIdProto *o = model->opset_import[i];
          if (!o->domain || !*o->domain || strcmp (o->domain, "ai.onnx") == 0)
            opset = o->version;
        }
      json_object_set_new (r.g->meta, "onnx_ir_version", json_integer (model->ir_version));
      json_object_set_new (r.g->meta, "onnx_opset", json_integer (opset));
      json_object_set_new (r.g->meta, "onnx_producer",
                           json_string_nocheck (model->producer_name ? model->producer_name : ""));
      for (size_t i = 0; i < model->n_metadata_props; i++)
        {
          const Onnx__StringStringEntryProto *e = model->metadata_props[i];
          bool ours = e->key && e->value
                      && (strcmp (e->key, OSH_META_HEADS) == 0
                          || strcmp (e->key, OSH_META_CLASS_NAMES) == 0);
          json_t *list = ours ? json_loads (e->value, 0, NULL) : NULL;
          if (json_is_array (list)) /* anything else is ignored, as Keras ignores the key */
            json_object_set (r.g->meta, e->key, list);
          json_decref (list);
        }
      ok = read_graph (&r, model, err);
      if (!ok)
        osh_error_prefix (err, "%s: ", name);
    }
  for (size_t i = 0; i < r.n_owned; i++)
    osh_tensor_free (r.owned[i]);
  free (r.owned);
  free (r.tensors.slots);
  free (r.types.slots);
  onnx__model_proto__free_unpacked (model, NULL);
  if (!ok)
    {
      osh_graph_free (r.g);
      return NULL;
    }
  return r.g;
}
