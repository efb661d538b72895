/* A TF.js graph model's node list → the graph IR (see osh-tfgraph.h for the mapping). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-limits.h"
#include "osh-tfgraph.h"

typedef struct
{
  const char *path;
  OshGraph *g;
  const json_t *nodes; /* modelTopology.node */
  json_t *by_name;     /* node name → index in `nodes` */
  json_t *const_of;    /* tensor name → index in consts (a Const, or an Identity of one) */
  json_t *made;        /* node name → IR node index */
  OshTfConst *consts;
  int n_consts;
  OshError *err;
} Reader;

/* ---- attributes ---- */

static int
b64_value (int ch)
{
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  return ch == '+' || ch == '-' ? 62 : ch == '/' || ch == '_' ? 63 : -1;
}

/* TF.js stores attribute strings (padding, data_format, fused_ops) base64-encoded. */
static json_t *
b64_string (const char *text)
{
  size_t n = strlen (text);
  char *out = malloc (n + 1);
  if (!out)
    return NULL;
  size_t len = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++)
    {
      int v = b64_value ((unsigned char) text[i]);
      if (v < 0)
        continue; /* '=' padding */
      acc = (acc << 6) | (unsigned) v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[len++] = (char) ((acc >> bits) & 0xff);
        }
    }
  json_t *s = json_stringn (out, len);
  free (out);
  return s ? s : json_string ("");
}

/* Older converters write a string attribute as its bytes ({"s": [86, 65, 76, 73, 68]}). */
static json_t *
bytes_string (const json_t *list)
{
  size_t n = json_array_size (list);
  char *out = malloc (n + 1);
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++)
    out[i] = (char) json_integer_value (json_array_get (list, i));
  json_t *s = json_stringn (out, n);
  free (out);
  return s ? s : json_string ("");
}

static json_t *
string_attr (const json_t *v)
{
  return json_is_string (v) ? b64_string (json_string_value (v)) : bytes_string (v);
}

/* ... and a type as its DataType number ({"type": 1}): the names of tensorflow's types.proto. */
static json_t *
type_attr (const json_t *v)
{
  static const char *const names[] = {
    [1] = "DT_FLOAT", [2] = "DT_DOUBLE",  [3] = "DT_INT32",  [4] = "DT_UINT8",
    [5] = "DT_INT16", [6] = "DT_INT8",    [7] = "DT_STRING", [9] = "DT_INT64",
    [10] = "DT_BOOL", [17] = "DT_UINT16", [19] = "DT_HALF",  [22] = "DT_UINT32",
  };
  if (json_is_string (v))
    return json_incref ((json_t *) v);
  json_int_t t = json_integer_value (v);
  if (t > 0 && t < (json_int_t) (sizeof names / sizeof *names) && names[t])
    return json_string (names[t]);
  return json_null ();
}

static json_t *
int_value (const json_t *v)
{
  if (json_is_integer (v))
    return json_integer (json_integer_value (v));
  const char *s = json_string_value (v);
  return json_integer (s ? strtoll (s, NULL, 10) : 0);
}

static json_t *
shape_value (const json_t *shape)
{
  json_t *dims = json_array ();
  size_t i;
  const json_t *d;
  json_array_foreach (json_object_get (shape, "dim"), i, d)
    {
      json_t *size = int_value (json_object_get (d, "size"));
      json_array_append_new (dims, json_integer_value (size) < 0 ? json_null () : size);
      if (json_integer_value (size) < 0)
        json_decref (size);
    }
  return dims;
}

/* One attribute value: {"i": "2"}, {"f": 0.5}, {"s": "U0FNRQ=="}, {"b": true},
 * {"type": "DT_FLOAT"}, {"shape": {...}}, {"list": {"i": [...]}}; strings as bytes and types
 * as numbers (older converters) read the same. */
static json_t *
attr_value (const json_t *a)
{
  const json_t *v;
  if ((v = json_object_get (a, "i")))
    return int_value (v);
  if ((v = json_object_get (a, "f")))
    return json_real (json_number_value (v));
  if ((v = json_object_get (a, "b")))
    return json_boolean (json_is_true (v));
  if ((v = json_object_get (a, "s")) && (json_is_string (v) || json_is_array (v)))
    return string_attr (v);
  if ((v = json_object_get (a, "type")))
    return type_attr (v);
  if ((v = json_object_get (a, "shape")))
    return shape_value (v);
  if ((v = json_object_get (a, "list")))
    {
      json_t *list = json_array ();
      const char *kind;
      const json_t *items;
      json_object_foreach ((json_t *) v, kind, items)
        {
          size_t i;
          const json_t *item;
          json_array_foreach (items, i, item)
            {
              if (strcmp (kind, "i") == 0)
                json_array_append_new (list, int_value (item));
              else if (strcmp (kind, "f") == 0)
                json_array_append_new (list, json_real (json_number_value (item)));
              else if (strcmp (kind, "s") == 0)
                json_array_append_new (list, string_attr (item));
              else if (strcmp (kind, "b") == 0)
                json_array_append_new (list, json_boolean (json_is_true (item)));
              else if (strcmp (kind, "type") == 0)
                json_array_append_new (list, type_attr (item));
            }
        }
      return list;
    }
  return json_null ();
}

static json_t *
node_config (const json_t *node)
{
  json_t *config = json_object ();
  const char *key;
  const json_t *a;
  json_object_foreach ((json_t *) json_object_get (node, "attr"), key, a)
    {
      if (strcmp (key, "value") == 0) /* a Const's tensor: its data is in the manifest */
        continue;
      json_object_set_new (config, key, attr_value (a));
    }
  return config;
}

/* ---- inputs ---- */

/* "name:1" → ("name", 1); "name" → ("name", 0). Writes the node name into `buf`. */
static int
split_input (const char *in, char *buf, size_t cap)
{
  snprintf (buf, cap, "%s", in);
  char *colon = strrchr (buf, ':');
  if (colon && colon[1] && strspn (colon + 1, "0123456789") == strlen (colon + 1))
    {
      *colon = '\0';
      return atoi (colon + 1);
    }
  return 0;
}

static const char *
node_name (const json_t *node)
{
  return json_string_value (json_object_get (node, "name"));
}

static const char *
node_op (const json_t *node)
{
  const char *op = json_string_value (json_object_get (node, "op"));
  return op ? op : "";
}

/* The inputs of `node` that carry data (control edges "^x" left out). */
static size_t
data_inputs (const json_t *node, const char **out, size_t cap)
{
  size_t n = 0, i;
  const json_t *in;
  json_array_foreach (json_object_get (node, "input"), i, in)
    {
      const char *s = json_string_value (in);
      if (s && *s && s[0] != '^' && n < cap)
        out[n++] = s;
    }
  return n;
}

#define MAX_INPUTS 64

/* ---- the order: producers first (a depth-first walk in file order) ---- */

static int *
node_order (Reader *r, size_t n_nodes)
{
  int *order = malloc ((n_nodes + 1) * sizeof *order);
  unsigned char *state = calloc (n_nodes + 1, 1);
  int *stack = malloc ((n_nodes + 1) * sizeof *stack);
  size_t *next = calloc (n_nodes + 1, sizeof *next);
  size_t n_order = 0;
  bool ok = order && state && stack && next;
  if (!ok)
    osh_fail (r->err, OSH_ERR_NOMEM, "out of memory ordering %zu nodes", n_nodes);
  for (size_t root = 0; ok && root < n_nodes; root++)
    {
      if (state[root])
        continue;
      size_t depth = 0;
      stack[depth++] = (int) root;
      state[root] = 1;
      while (ok && depth)
        {
          int v = stack[depth - 1];
          const char *ins[MAX_INPUTS];
          size_t n_in = data_inputs (json_array_get (r->nodes, (size_t) v), ins, MAX_INPUTS);
          if (next[v] >= n_in)
            {
              state[v] = 2;
              order[n_order++] = v;
              depth--;
              continue;
            }
          char name[512];
          split_input (ins[next[v]++], name, sizeof name);
          const json_t *p = json_object_get (r->by_name, name);
          if (!p)
            continue;
          int pi = (int) json_integer_value (p);
          if (state[pi] == 1)
            ok = osh_fail (r->err, OSH_ERR_FORMAT,
                           "node '%s' (%s) is on a cycle: its input '%s' is computed from its own "
                           "output (control flow such as while loops is not supported)",
                           node_name (json_array_get (r->nodes, (size_t) v)),
                           node_op (json_array_get (r->nodes, (size_t) v)), name);
          else if (state[pi] == 0)
            {
              state[pi] = 1;
              stack[depth++] = pi;
            }
        }
    }
  free (state);
  free (stack);
  free (next);
  if (!ok)
    {
      free (order);
      return NULL;
    }
  return order;
}

/* ---- nodes ---- */

static bool
add_placeholder (Reader *r, const json_t *node, const char *name)
{
  json_t *config = node_config (node);
  json_t *shape = json_object_get (config, "shape");
  json_object_set (config, "batch_input_shape", json_is_array (shape) ? shape : json_null ());
  const char *dtype = osh_config_string (config, "dtype", "DT_FLOAT");
  json_object_set_new (config, "dtype",
                       json_string (strcmp (dtype, "DT_INT32") == 0 ? "int32" : "float32"));
  json_object_set_new (config, OSH_TFGRAPH_OP, json_string ("Placeholder"));
  int layer = osh_graph_add_layer (r->g, -1, name, "InputLayer", config, r->err);
  int made = layer >= 0 ? osh_graph_add_node (r->g, layer, NULL, 0, 1, r->err) : -1;
  if (made >= 0)
    json_object_set_new (r->made, name, json_integer (made));
  return made >= 0;
}

/* An input that no node computes and the manifest does not hold (a head wired to a tensor of
 * another graph, a node deleted by hand): an InputLayer that is not a graph input
 * (OSH_INPUT_UNPRODUCED), so the file opens and the connectivity analysis (offshoot check)
 * explains it and proposes its fixes, as for ONNX. One per missing tensor. */
static int
dangling_root (Reader *r, const char *tensor)
{
  const json_t *m = json_object_get (r->made, tensor);
  if (m)
    return (int) json_integer_value (m);
  int layer = osh_graph_add_layer (r->g, -1, tensor, "InputLayer",
                                   json_pack ("{s:n, s:s, s:b, s:s}", "batch_input_shape", "dtype",
                                              "float32", OSH_INPUT_UNPRODUCED, 1, OSH_TFGRAPH_OP,
                                              "Placeholder"),
                                   r->err);
  int made = layer >= 0 ? osh_graph_add_node (r->g, layer, NULL, 0, 1, r->err) : -1;
  if (made >= 0)
    json_object_set_new (r->made, tensor, json_integer (made));
  return made;
}

/* How many outputs node `index` has: what its readers use, at least what its op makes. */
static int
output_count (Reader *r, const json_t *node, const json_t *config, const int *uses)
{
  int n = 1;
  const char *op = node_op (node);
  if (strcmp (op, "Split") == 0 || strcmp (op, "SplitV") == 0)
    n = (int) osh_config_int (config, "num_split", 1);
  else if (strcmp (op, "Unpack") == 0)
    n = (int) osh_config_int (config, "num", 1);
  else if (strcmp (op, "TopKV2") == 0)
    n = 2;
  (void) r;
  return *uses > n ? *uses : n;
}

/* True when Const `name` holds integers (axes, sizes, indices: DT_INT32, DT_INT64, DT_BOOL), not
 * learned values: float weights, however quantized in the manifest, are DT_FLOAT. */
static bool
integer_const (const Reader *r, const char *name)
{
  const json_t *i = json_object_get (r->by_name, name);
  const json_t *node = i ? json_array_get (r->nodes, (size_t) json_integer_value (i)) : NULL;
  const json_t *attr = json_object_get (node, "attr");
  const char *type = json_string_value (json_object_get (json_object_get (attr, "dtype"), "type"));
  return type && strcmp (type, "DT_FLOAT") != 0 && strcmp (type, "DT_HALF") != 0;
}

static bool
add_op (Reader *r, const json_t *node, const char *name, int n_uses)
{
  const char *ins[MAX_INPUTS];
  size_t n_in = data_inputs (node, ins, MAX_INPUTS);
  if (json_array_size (json_object_get (node, "input")) > MAX_INPUTS)
    return osh_fail (r->err, OSH_ERR_LIMIT, "node '%s' has more than %d inputs", name, MAX_INPUTS);
  OshSlotKind kinds[MAX_INPUTS];
  OshRef refs[MAX_INPUTS];
  int n_refs = 0;
  json_t *config = node_config (node);
  int layer = osh_graph_add_layer (r->g, -1, name, node_op (node), config, r->err);
  if (layer < 0)
    return false;
  for (size_t i = 0; i < n_in; i++)
    {
      char src[512];
      int k = split_input (ins[i], src, sizeof src);
      const json_t *c = json_object_get (r->const_of, ins[i]);
      if (!c && k == 0)
        c = json_object_get (r->const_of, src);
      if (c)
        {
          OshTfConst *tc = &r->consts[json_integer_value (c)];
          OshTensor *copy = osh_tensor_copy (tc->value, r->err);
          if (!copy || !osh_layer_add_weight (r->g, layer, tc->name, copy, true, r->err))
            return false;
          OshLayer *l = &r->g->layers[layer];
          l->weights[l->n_weights - 1].index = integer_const (r, tc->name);
          kinds[i] = OSH_SLOT_WEIGHT;
          continue;
        }
      const json_t *m = json_object_get (r->made, src);
      int producer = m ? (int) json_integer_value (m) : dangling_root (r, k ? ins[i] : src);
      if (producer < 0)
        return false;
      if (!m)
        k = 0;
      if (k >= r->g->nodes[producer].n_outputs)
        return osh_fail (r->err, OSH_ERR_FORMAT, "node '%s' reads output %d of '%s', which has %d",
                         name, k, src, r->g->nodes[producer].n_outputs);
      kinds[i] = OSH_SLOT_ACTIVATION;
      refs[n_refs++] = (OshRef){ producer, k };
    }
  if (!osh_layer_set_slots (r->g, layer, kinds, (int) n_in, r->err))
    return false;
  int n_out = output_count (r, node, r->g->layers[layer].config, &n_uses);
  int made = osh_graph_add_node (r->g, layer, refs, n_refs, n_out, r->err);
  if (made < 0)
    return false;
  json_object_set_new (r->made, name, json_integer (made));
  return true;
}

/* A Const's value, found by its node name in the manifest; an Identity of a constant is that
 * constant too (TF.js's converter leaves some). */
static bool
note_constant (Reader *r, const json_t *node, const char *name, bool *is_const)
{
  const char *op = node_op (node);
  *is_const = false;
  if (strcmp (op, "Const") == 0)
    {
      for (int i = 0; i < r->n_consts; i++)
        if (strcmp (r->consts[i].name, name) == 0)
          {
            json_object_set_new (r->const_of, name, json_integer (i));
            *is_const = true;
            return true;
          }
      return osh_fail (r->err, OSH_ERR_FORMAT,
                       "Const node '%s' has no value in the weights manifest", name);
    }
  const char *ins[2];
  if (strcmp (op, "Identity") == 0 && data_inputs (node, ins, 2) == 1)
    {
      const json_t *c = json_object_get (r->const_of, ins[0]);
      if (c)
        {
          json_object_set (r->const_of, name, (json_t *) c);
          *is_const = true;
        }
    }
  return true;
}

/* The outputs: the signature's, in its order, else every node nothing reads. */
static bool
set_outputs (Reader *r, const json_t *doc, const int *uses, size_t n_nodes)
{
  OshGraph *g = r->g;
  OshRef *outs = malloc ((n_nodes + 1) * sizeof *outs);
  OshRef *ins = malloc ((n_nodes + 1) * sizeof *ins);
  int n_out = 0, n_ins = 0;
  if (!outs || !ins)
    {
      free (outs);
      free (ins);
      return osh_fail (r->err, OSH_ERR_NOMEM, "out of memory");
    }
  bool ok = true;
  const json_t *sig = json_object_get (json_object_get (doc, "signature"), "outputs");
  const char *key;
  const json_t *v;
  json_object_foreach ((json_t *) sig, key, v)
    {
      const char *tensor = osh_config_string (v, "name", key);
      char src[512];
      int k = split_input (tensor, src, sizeof src);
      const json_t *m = json_object_get (r->made, src);
      if (!m || k >= g->nodes[json_integer_value (m)].n_outputs)
        {
          ok = osh_fail (r->err, OSH_ERR_FORMAT,
                         "the signature's output '%s' is not computed by any node", tensor);
          break;
        }
      outs[n_out++] = (OshRef){ (int) json_integer_value (m), k };
    }
  for (size_t i = 0; ok && !json_object_size (sig) && i < n_nodes; i++)
    {
      const json_t *node = json_array_get (r->nodes, i);
      const json_t *m = json_object_get (r->made, node_name (node));
      if (m && !uses[i] && strcmp (node_op (node), "Placeholder") != 0)
        outs[n_out++] = (OshRef){ (int) json_integer_value (m), 0 };
    }
  for (int n = 0; ok && n < g->n_nodes; n++)
    if (strcmp (g->layers[g->nodes[n].layer].class_name, "InputLayer") == 0
        && !osh_config_bool (g->layers[g->nodes[n].layer].config, OSH_INPUT_UNPRODUCED, false))
      ins[n_ins++] = (OshRef){ n, 0 };
  if (ok && n_out == 0)
    ok = osh_fail (r->err, OSH_ERR_FORMAT, "the graph computes nothing (no node is an output)");
  ok = ok && osh_graph_set_io (g, -1, ins, n_ins, outs, n_out, r->err);
  free (outs);
  free (ins);
  return ok;
}

static bool
read_nodes (Reader *r, const json_t *doc)
{
  size_t n_nodes = json_array_size (r->nodes);
  if (n_nodes > (size_t) OSH_MAX_LAYERS)
    return osh_fail (r->err, OSH_ERR_LIMIT, "%zu nodes: over the limit of %d", n_nodes,
                     OSH_MAX_LAYERS);
  int *uses = calloc (n_nodes + 1, sizeof *uses); /* 1 + the highest output index read */
  if (!uses)
    return osh_fail (r->err, OSH_ERR_NOMEM, "out of memory");
  bool ok = true;
  for (size_t i = 0; ok && i < n_nodes; i++)
    {
      const json_t *node = json_array_get (r->nodes, i);
      const char *name = node_name (node);
      if (!json_is_object (node) || !name || !*name
          || !json_is_string (json_object_get (node, "op")))
        ok = osh_fail (r->err, OSH_ERR_FORMAT, "node %zu has no name or no op", i);
      else if (json_object_get (r->by_name, name))
        ok = osh_fail (r->err, OSH_ERR_FORMAT, "two nodes are named '%s'", name);
      else
        json_object_set_new (r->by_name, name, json_integer ((json_int_t) i));
    }
  for (size_t i = 0; ok && i < n_nodes; i++)
    {
      const char *ins[MAX_INPUTS];
      size_t n_in = data_inputs (json_array_get (r->nodes, i), ins, MAX_INPUTS);
      for (size_t k = 0; k < n_in; k++)
        {
          char src[512];
          int idx = split_input (ins[k], src, sizeof src);
          const json_t *p = json_object_get (r->by_name, src);
          if (p && idx + 1 > uses[json_integer_value (p)])
            uses[json_integer_value (p)] = idx + 1;
        }
    }
  int *order = ok ? node_order (r, n_nodes) : NULL;
  ok = ok && order;
  for (size_t i = 0; ok && i < n_nodes; i++)
    {
      const json_t *node = json_array_get (r->nodes, (size_t) order[i]);
      const char *name = node_name (node);
      bool is_const;
      ok = note_constant (r, node, name, &is_const);
      /* A NoOp only gathers control edges (the converter's output_control_node), which the IR
       * drops: it computes nothing, so it is neither a layer nor an output. */
      if (!ok || is_const || strcmp (node_op (node), "NoOp") == 0)
        continue;
      ok = strcmp (node_op (node), "Placeholder") == 0 ? add_placeholder (r, node, name)
                                                       : add_op (r, node, name, uses[order[i]]);
    }
  ok = ok && set_outputs (r, doc, uses, n_nodes);
  free (order);
  free (uses);
  return ok;
}

OshGraph *
osh_tfgraph_build (const char *path, const json_t *doc, OshTfConst *consts, int n_consts,
                   OshError *err)
{
  const json_t *topology = json_object_get (doc, "modelTopology");
  Reader r = { .path = path,
               .g = osh_graph_new (),
               .nodes = json_object_get (topology, "node"),
               .by_name = json_object (),
               .const_of = json_object (),
               .made = json_object (),
               .consts = consts,
               .n_consts = n_consts,
               .err = err };
  bool ok = r.g && r.by_name && r.const_of && r.made;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  else if (!json_is_array (r.nodes))
    ok = osh_fail (err, OSH_ERR_FORMAT,
                   "a TF.js graph model without a node list ('modelTopology': {'node': [...]})");
  if (ok)
    {
      OshGraph *g = r.g;
      g->layout = OSH_LAYOUT_CHANNELS_LAST;
      g->dialect = &osh_tfgraph_dialect;
      g->class_name = strdup ("graph-model");
      g->name = strdup ("graph_model");
      const json_t *by = json_object_get (doc, "convertedBy");
      if (json_is_string (by))
        json_object_set (g->meta, "converted_by", (json_t *) by);
      /* The heads Offshoot attached before saving (osh-tfjs-graph-write.c). */
      const json_t *heads =
          json_object_get (json_object_get (doc, "userDefinedMetadata"), OSH_TFGRAPH_HEADS_KEY);
      if (json_is_array (heads))
        json_object_set_new (g->meta, OSH_META_HEADS, json_deep_copy (heads));
      ok = g->class_name && g->name && read_nodes (&r, doc);
    }
  if (!ok)
    osh_error_prefix (err, "%s: ", path);
  json_decref (r.by_name);
  json_decref (r.const_of);
  json_decref (r.made);
  for (int i = 0; i < n_consts; i++)
    osh_tensor_free (consts[i].value);
  if (!ok)
    {
      osh_graph_free (r.g);
      return NULL;
    }
  return r.g;
}
