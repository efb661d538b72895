/* TF.js graph-model writer: a graph of the TF dialect (a graph model read, perhaps with heads
 * attached) as model.json with "format": "graph-model" — the node list in the converter's JSON
 * form (op, inputs, attributes re-encoded: strings base64, ints as decimal strings, types,
 * shapes, lists), the weights as Const nodes named in the weights manifest — and one shard
 * named after the model file beside it (out.json → out.bin, as @vladmandic/human ships its
 * models; not tfjs's "group1-shard1of1.bin", so a model saved next to the converter's output
 * it was read from leaves that output's shards alone).
 *
 * A weight read from the manifest is stored as it was read (OSH_TFGRAPH_STORED_AS: float16,
 * uint8/uint16 quantized with the same min and scale, bool) when that form still holds its
 * float32 values exactly — the same bytes, so tfjs loads the same values and the file keeps its
 * size; a weight Offshoot made or an edit changed is float32. The constants tfjs holds as int32
 * (axes, shapes, indices: OSH_TFGRAPH_INT32_CONSTS) are int32 again. The signature lists the graph's inputs and
 * outputs in order, so the saved model's outputs are the graph's, heads included; the head
 * layers are listed in userDefinedMetadata (OSH_TFGRAPH_HEADS_KEY). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osh-formats.h"
#include "osh-tfgraph.h"
#include "osh-tfjs-stored.h"

typedef struct
{
  const OshGraph *g;
  json_t *nodes;      /* modelTopology.node */
  json_t *manifest;   /* the weights' entries */
  json_t *const_name; /* "<layer>\x1f<weight>" → the Const node's name */
  json_t *written;    /* Const name → index of the layer whose weight it holds */
  FILE *shard;
  const char *shard_path;
  OshError *err;
} Writer;

/* ---- attributes, in the converter's JSON form (the reader's decoding undone) ---- */

static char *
base64 (const char *s, size_t n)
{
  static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = malloc (n / 3 * 4 + 8);
  if (!out)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3)
    {
      unsigned v = (unsigned) (unsigned char) s[i] << 16;
      if (i + 1 < n)
        v |= (unsigned) (unsigned char) s[i + 1] << 8;
      if (i + 2 < n)
        v |= (unsigned char) s[i + 2];
      out[o++] = digits[(v >> 18) & 63];
      out[o++] = digits[(v >> 12) & 63];
      out[o++] = i + 1 < n ? digits[(v >> 6) & 63] : '=';
      out[o++] = i + 2 < n ? digits[v & 63] : '=';
    }
  out[o] = '\0';
  return out;
}

static json_t *
int_string (json_int_t v)
{
  char text[32];
  snprintf (text, sizeof text, "%lld", (long long) v);
  return json_string (text);
}

static bool
is_type (const char *s)
{
  return strncmp (s, "DT_", 3) == 0;
}

/* A string attribute: a type ("DT_FLOAT") as it is, else base64 (as the converter stores
 * padding, data_format, fused_ops). */
static json_t *
string_item (const json_t *v, const char **kind)
{
  const char *s = json_string_value (v);
  if (is_type (s))
    {
      *kind = "type";
      return json_string (s);
    }
  *kind = "s";
  char *b = base64 (s, json_string_length (v));
  json_t *r = b ? json_string (b) : NULL;
  free (b);
  return r;
}

static json_t *
shape_attr (const json_t *dims)
{
  json_t *list = json_array ();
  size_t i;
  const json_t *d;
  json_array_foreach (dims, i, d)
    json_array_append_new (
        list, json_pack ("{s:o}", "size",
                         int_string (json_is_integer (d) ? json_integer_value (d) : -1)));
  return json_pack ("{s:{s:o}}", "shape", "dim", list);
}

static json_t *
list_attr (const json_t *items)
{
  json_t *list = json_array ();
  const char *kind = NULL;
  size_t i;
  const json_t *v;
  json_array_foreach (items, i, v)
    {
      const char *k = NULL;
      json_t *item = NULL;
      if (json_is_integer (v))
        k = "i", item = int_string (json_integer_value (v));
      else if (json_is_real (v))
        k = "f", item = json_real (json_real_value (v));
      else if (json_is_boolean (v))
        k = "b", item = json_boolean (json_is_true (v));
      else if (json_is_string (v))
        item = string_item (v, &k);
      if (item && (!kind || strcmp (kind, k) == 0))
        {
          kind = k;
          json_array_append_new (list, item);
        }
      else
        json_decref (item);
    }
  if (!kind)
    {
      json_decref (list);
      return json_pack ("{s:{}}", "list");
    }
  return json_pack ("{s:{s:o}}", "list", kind, list);
}

/* One decoded attribute value back in the file's form; NULL for what the reader could not
 * decode (null), which is left out. */
static json_t *
attr_json (const char *key, const json_t *v)
{
  const char *kind;
  if (json_is_boolean (v))
    return json_pack ("{s:b}", "b", json_is_true (v));
  if (json_is_integer (v))
    return json_pack ("{s:o}", "i", int_string (json_integer_value (v)));
  if (json_is_real (v))
    return json_pack ("{s:f}", "f", json_real_value (v));
  if (json_is_string (v))
    {
      json_t *item = string_item (v, &kind);
      return item ? json_pack ("{s:o}", kind, item) : NULL;
    }
  if (json_is_array (v))
    return strcmp (key, "shape") == 0 ? shape_attr (v) : list_attr (v);
  return NULL;
}

static json_t *
node_attrs (const OshLayer *l)
{
  json_t *attrs = json_object ();
  const char *key;
  const json_t *v;
  json_object_foreach (l->config, key, v)
    {
      json_t *a = attr_json (key, v);
      if (a)
        json_object_set_new (attrs, key, a);
    }
  return attrs;
}

/* A Placeholder from the InputLayer the reader made of it: its shape and dtype. */
static json_t *
placeholder_attrs (const OshLayer *l)
{
  bool int32 = strcmp (osh_config_string (l->config, "dtype", "float32"), "int32") == 0;
  json_t *attrs = json_pack ("{s:{s:s}}", "dtype", "type", int32 ? "DT_INT32" : "DT_FLOAT");
  const json_t *shape = json_object_get (l->config, "batch_input_shape");
  if (json_is_array (shape))
    json_object_set_new (attrs, "shape", shape_attr (shape));
  return attrs;
}

/* ---- tensors and constants ---- */

/* The name a node's input uses for output k of `ref`'s node: "name" or "name:k". */
static json_t *
tensor_ref (const OshGraph *g, OshRef ref)
{
  const char *name = g->layers[g->nodes[ref.node].layer].name;
  if (ref.index == 0)
    return json_string (name);
  char *text = malloc (strlen (name) + 16);
  if (!text)
    return NULL;
  sprintf (text, "%s:%d", name, ref.index);
  json_t *r = json_string (text);
  free (text);
  return r;
}

static bool
is_int32_const (const OshGraph *g, const char *name)
{
  size_t i;
  const json_t *v;
  json_array_foreach (json_object_get (g->meta, OSH_TFGRAPH_INT32_CONSTS), i, v)
    if (json_is_string (v) && strcmp (json_string_value (v), name) == 0)
      return true;
  return false;
}

static json_t *
dims_json (const OshShape *s)
{
  json_t *dims = json_array ();
  for (int d = 0; d < s->rank; d++)
    json_array_append_new (dims, json_integer (s->dim[d]));
  return dims;
}

static bool
same_tensor (const OshTensor *a, const OshTensor *b)
{
  if (a->shape.rank != b->shape.rank
      || memcmp (a->shape.dim, b->shape.dim, (size_t) a->shape.rank * sizeof (int64_t)) != 0)
    return false;
  return memcmp (a->data, b->data, (size_t) osh_tensor_numel (a) * sizeof (float)) == 0;
}

/* The Const node holding weight `wi` of layer `li`: its name, made (node, manifest entry,
 * shard bytes) the first time. The reader gives every reader of a Const its own copy under the
 * Const's name: equal values share one Const again; a weight that an edit made differ, or one
 * without a name, gets a name of its own. */
static const char *
const_for (Writer *w, int li, int wi)
{
  const OshLayer *l = &w->g->layers[li];
  const OshWeight *wt = &l->weights[wi];
  char key[1200];
  snprintf (key, sizeof key, "%d\x1f%d", li, wi);
  const json_t *known = json_object_get (w->const_name, key);
  if (known)
    return json_string_value (known);
  char name[1100];
  snprintf (name, sizeof name, "%.1000s", wt->name && *wt->name ? wt->name : l->name);
  for (int k = 1;; k++)
    {
      const json_t *holder = json_object_get (w->written, name);
      if (!holder)
        break;
      int hl = (int) json_integer_value (json_object_get (holder, "layer"));
      int hw = (int) json_integer_value (json_object_get (holder, "weight"));
      if (same_tensor (w->g->layers[hl].weights[hw].value, wt->value))
        {
          json_object_set_new (w->const_name, key, json_string (name));
          return json_string_value (json_object_get (w->const_name, key));
        }
      snprintf (name, sizeof name, "%.1000s/value_%d", wt->name && *wt->name ? wt->name : l->name,
                k);
    }
  const OshTensor *t = wt->value;
  int64_t n = osh_tensor_numel (t);
  bool int32 = is_int32_const (w->g, name);
  /* The manifest's own form (float16, quantized, bool) when it still holds the values exactly,
   * else float32 (int32 for the integer constants). */
  const json_t *as = json_object_get (json_object_get (w->g->meta, OSH_TFGRAPH_STORED_AS), name);
  OshTfjsCodec codec = { .store = int32 ? OSH_TFJS_INT32 : OSH_TFJS_FLOAT32, .elem = 4 };
  unsigned char *bytes = NULL;
  const char *stored;
  if (as && osh_tfjs_codec (as, &codec, &stored) && (bytes = malloc ((size_t) n * codec.elem + 1))
      && osh_tfjs_encode_exact (&codec, t->data, n, bytes))
    int32 = codec.store == OSH_TFJS_INT32 || codec.round;
  else
    {
      as = NULL;
      codec = (OshTfjsCodec){ .store = int32 ? OSH_TFJS_INT32 : OSH_TFJS_FLOAT32, .elem = 4 };
      free (bytes);
      if ((bytes = malloc ((size_t) n * 4 + 1)))
        for (int64_t i = 0; i < n; i++)
          {
            int32_t v = int32 ? (int32_t) lrintf (t->data[i]) : 0;
            memcpy (bytes + 4 * i, int32 ? (const void *) &v : (const void *) &t->data[i], 4);
          }
    }
  if (!bytes)
    {
      osh_fail (w->err, OSH_ERR_NOMEM, "out of memory writing weight '%s'", name);
      return NULL;
    }
  json_t *dims = json_array ();
  for (int d = 0; d < t->shape.rank; d++)
    json_array_append_new (dims, json_pack ("{s:o}", "size", int_string (t->shape.dim[d])));
  const char *dt = codec.store == OSH_TFJS_BOOL && !codec.affine ? "DT_BOOL"
                   : int32                                       ? "DT_INT32"
                                                                 : "DT_FLOAT";
  json_array_append_new (w->nodes,
                         json_pack ("{s:s, s:s, s:{s:{s:{s:s, s:{s:o}}}, s:{s:s}}}", "name", name,
                                    "op", "Const", "attr", "value", "tensor", "dtype", dt,
                                    "tensorShape", "dim", dims, "dtype", "type", dt));
  json_t *entry = json_pack ("{s:s, s:o, s:s}", "name", name, "shape", dims_json (&t->shape),
                             "dtype", int32 ? "int32" : "float32");
  if (as)
    {
      json_object_set (entry, "dtype", json_object_get (as, "dtype"));
      if (json_object_get (as, "quantization"))
        json_object_set (entry, "quantization", json_object_get (as, "quantization"));
    }
  json_array_append_new (w->manifest, entry);
  size_t size = (size_t) n * codec.elem;
  bool ok = size == 0 || fwrite (bytes, 1, size, w->shard) == size;
  free (bytes);
  if (!ok)
    {
      osh_fail (w->err, OSH_ERR_IO, "%s: cannot write the weights: %s", w->shard_path,
                strerror (errno));
      return NULL;
    }
  json_object_set_new (w->written, name, json_pack ("{s:i, s:i}", "layer", li, "weight", wi));
  json_object_set_new (w->const_name, key, json_string (name));
  return json_string_value (json_object_get (w->const_name, key));
}

/* ---- nodes ---- */

static bool
write_node (Writer *w, int ni)
{
  const OshGraph *g = w->g;
  const OshNode *n = &g->nodes[ni];
  const OshLayer *l = &g->layers[n->layer];
  bool placeholder = strcmp (l->class_name, "InputLayer") == 0;
  if (placeholder && osh_config_bool (l->config, OSH_INPUT_UNPRODUCED, false))
    return osh_fail (w->err, OSH_ERR_UNSUPPORTED,
                     "'%s' is read but no node computes it: the graph is disconnected "
                     "(offshoot check explains it and fixes it)",
                     l->name);
  json_t *inputs = json_array ();
  if (l->n_slots > 0)
    for (int s = 0; s < l->n_slots; s++)
      {
        const OshSlot *slot = &l->slots[s];
        if (slot->kind == OSH_SLOT_ACTIVATION && slot->index < n->n_inputs)
          json_array_append_new (inputs, tensor_ref (g, n->inputs[slot->index]));
        else if (slot->kind == OSH_SLOT_WEIGHT && slot->index < l->n_weights)
          {
            const char *c = const_for (w, n->layer, slot->index);
            if (!c)
              {
                json_decref (inputs);
                return false;
              }
            json_array_append_new (inputs, json_string (c));
          }
      }
  else
    {
      for (int i = 0; i < n->n_inputs; i++)
        json_array_append_new (inputs, tensor_ref (g, n->inputs[i]));
      for (int i = 0; i < l->n_weights; i++)
        {
          const char *c = const_for (w, n->layer, i);
          if (!c)
            {
              json_decref (inputs);
              return false;
            }
          json_array_append_new (inputs, json_string (c));
        }
    }
  json_t *node = json_pack ("{s:s, s:s, s:o, s:o}", "name", l->name, "op",
                            placeholder ? "Placeholder" : l->class_name, "input", inputs, "attr",
                            placeholder ? placeholder_attrs (l) : node_attrs (l));
  if (!node)
    return osh_fail (w->err, OSH_ERR_NOMEM, "out of memory writing node '%s'", l->name);
  json_array_append_new (w->nodes, node);
  return true;
}

/* signature.inputs / .outputs: "<tensor>:<k>" in the graph's order. */
static json_t *
signature_part (const OshGraph *g, const OshRef *refs, int n)
{
  json_t *part = json_object ();
  for (int i = 0; i < n; i++)
    {
      const OshNode *node = &g->nodes[refs[i].node];
      const OshLayer *l = &g->layers[node->layer];
      char *name = malloc (strlen (l->name) + 16);
      if (!name)
        continue;
      sprintf (name, "%s:%d", l->name, refs[i].index);
      bool int32 = strcmp (l->class_name, "InputLayer") == 0
                   && strcmp (osh_config_string (l->config, "dtype", "float32"), "int32") == 0;
      json_t *entry =
          json_pack ("{s:s, s:s}", "name", name, "dtype", int32 ? "DT_INT32" : "DT_FLOAT");
      if (node->shapes && refs[i].index < node->n_outputs && node->shapes[refs[i].index].rank > 0)
        {
          json_t *dims = json_array ();
          const OshShape *s = &node->shapes[refs[i].index];
          for (int d = 0; d < s->rank; d++)
            json_array_append_new (dims, json_pack ("{s:o}", "size", int_string (s->dim[d])));
          json_object_set_new (entry, "tensorShape", json_pack ("{s:o}", "dim", dims));
        }
      json_object_set_new (part, name, entry);
      free (name);
    }
  return part;
}

/* "<dir>/<stem of final_path>.bin" and its file name alone (malloc'd). */
static char *
shard_path (const char *final_path, const char **file)
{
  const char *slash = strrchr (final_path, '/');
  const char *base = slash ? slash + 1 : final_path;
  const char *dot = strrchr (base, '.');
  size_t stem = dot && dot > base ? (size_t) (dot - final_path) : strlen (final_path);
  char *p = malloc (stem + 8);
  if (!p)
    return NULL;
  snprintf (p, stem + 8, "%.*s.bin", (int) stem, final_path);
  *file = p + (base - final_path);
  return p;
}

bool
osh_tfjs_graph_write (const OshGraph *g, const char *tmp_path, const char *final_path,
                      OshError *err)
{
  const char *shard_file = NULL;
  char *shard = shard_path (final_path, &shard_file);
  size_t tmp_n = shard ? strlen (shard) + 32 : 0;
  char *shard_tmp = shard ? malloc (tmp_n) : NULL;
  Writer w = { .g = g,
               .nodes = json_array (),
               .manifest = json_array (),
               .const_name = json_object (),
               .written = json_object (),
               .err = err };
  bool ok = shard_tmp && w.nodes && w.manifest && w.const_name && w.written;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  if (ok)
    {
      snprintf (shard_tmp, tmp_n, "%s.tmp-%ld", shard, (long) getpid ());
      w.shard_path = shard_tmp;
      if (!(w.shard = fopen (shard_tmp, "wb")))
        ok = osh_fail (err, OSH_ERR_IO, "%s: cannot create: %s", shard_tmp, strerror (errno));
    }
  for (int ni = 0; ok && ni < g->n_nodes; ni++)
    if (g->layers[g->nodes[ni].layer].owner < 0)
      ok = write_node (&w, ni);
  if (w.shard && fclose (w.shard) != 0 && ok)
    ok = osh_fail (err, OSH_ERR_IO, "%s: cannot write: %s", shard_tmp, strerror (errno));
  char *text = NULL;
  if (ok)
    {
      json_t *doc = json_pack (
          "{s:s, s:s, s:s, s:{s:O, s:{}, s:{}}, s:[{s:[s], s:O}], s:{s:o, s:o}}", "format",
          "graph-model", "generatedBy", "Offshoot", "convertedBy", "Offshoot", "modelTopology",
          "node", w.nodes, "library", "versions", "weightsManifest", "paths", shard_file, "weights",
          w.manifest, "signature", "inputs", signature_part (g, g->inputs, g->n_inputs), "outputs",
          signature_part (g, g->outputs, g->n_outputs));
      const json_t *heads = json_object_get (g->meta, OSH_META_HEADS);
      if (doc && json_array_size (heads))
        json_object_set_new (doc, "userDefinedMetadata",
                             json_pack ("{s:O}", OSH_TFGRAPH_HEADS_KEY, heads));
      text = doc ? json_dumps (doc, JSON_COMPACT) : NULL;
      json_decref (doc);
      FILE *f = text ? fopen (tmp_path, "wb") : NULL;
      if (!text)
        ok = osh_fail (err, OSH_ERR_NOMEM, "out of memory writing model.json");
      else if (!f)
        ok = osh_fail (err, OSH_ERR_IO, "%s: cannot create: %s", tmp_path, strerror (errno));
      else
        {
          ok = fwrite (text, 1, strlen (text), f) == strlen (text);
          ok = fclose (f) == 0 && ok;
          if (!ok)
            osh_fail (err, OSH_ERR_IO, "%s: cannot write: %s", tmp_path, strerror (errno));
        }
    }
  /* The shard goes into place just before osh_model_save renames model.json. */
  if (ok && rename (shard_tmp, shard) != 0)
    ok = osh_fail (err, OSH_ERR_IO, "%s: cannot rename the finished shard into place: %s", shard,
                   strerror (errno));
  if (!ok && shard_tmp)
    unlink (shard_tmp);
  free (text);
  json_decref (w.nodes);
  json_decref (w.manifest);
  json_decref (w.const_name);
  json_decref (w.written);
  free (shard);
  free (shard_tmp);
  return ok;
}
