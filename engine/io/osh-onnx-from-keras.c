/* Keras graph → ONNX graph (in the IR form of osh-onnx.h), so Keras models export to .onnx.
 *
 * Keras computes channels-last; ONNX convolutions are channels-first. The model keeps Keras's
 * NHWC inputs and outputs (the same image tensor works for both), a Transpose after each image
 * input turns it NCHW, and every 4-D tensor inside stays NCHW. This file walks the graph; each
 * layer becomes ONNX nodes by the ONNX dialect's rule for its class (osh_onnx_lower_layer in
 * engine/onnx/osh-onnx-lower.c), the same rule heads attached to ONNX graphs use. */
#include <stdlib.h>
#include <string.h>

#include "osh-fixes.h" /* osh_graph_flatten_model */
#include "osh-onnx.h"
#include "osh-op.h"

typedef struct
{
  const OshGraph *k;  /* the Keras graph (nested models flattened) */
  OshOnnxLowering lw; /* the ONNX graph being built (lw.o) and how its nodes are made */
  OshOnnxValue *map;  /* per Keras (node, output): off[node] + index */
  int64_t *off;
  OshError *err;
} Conv;

/* The graph input keeps Keras's shape; 4-D images are transposed to NCHW right away. */
static OshRef
add_input (Conv *c, const char *base, const OshOnnxValue *out)
{
  json_t *dims = json_array ();
  for (int i = 0; i < out->shape.rank; i++)
    json_array_append_new (dims,
                           out->shape.dim[i] < 0 ? json_null () : json_integer (out->shape.dim[i]));
  int layer = osh_graph_add_layer (c->lw.o, -1, base, "InputLayer",
                                   json_pack ("{s:o, s:s, s:s}", "batch_input_shape", dims, "dtype",
                                              "float32", "data_format", "channels_last"),
                                   c->err);
  int node = layer >= 0 ? osh_graph_add_node (c->lw.o, layer, NULL, 0, 1, c->err) : -1;
  if (node < 0)
    return (OshRef){ -1, 0 };
  OshRef r = { node, 0 };
  return out->nchw ? osh_onnx_lower_transpose (&c->lw, base, r, true) : r;
}

/* Keras node ni as ONNX nodes: the layer's rule (osh_onnx_lower_layer) on its inputs. */
static bool
convert_node (Conv *c, int ni)
{
  const OshNode *n = &c->k->nodes[ni];
  const OshLayer *l = &c->k->layers[n->layer];
  OshOnnxValue *out = &c->map[c->off[ni]];
  out->shape = n->shapes ? n->shapes[0] : (OshShape){ 0 };
  out->nchw = out->shape.rank == 4;
  if (n->n_outputs != 1)
    return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "layer '%s' has several outputs", l->name);
  if (!strcmp (l->class_name, "InputLayer"))
    return (out->ref = add_input (c, l->name, out)).node >= 0;
  OshOnnxValue in[64];
  if (n->n_inputs > 64)
    return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "layer '%s' has over 64 inputs", l->name);
  for (int i = 0; i < n->n_inputs; i++)
    in[i] = c->map[c->off[n->inputs[i].node] + n->inputs[i].index];
  return osh_onnx_lower_layer (&c->lw, l, in, n->n_inputs, out);
}

OshGraph *
osh_onnx_from_keras (const OshGraph *keras, OshError *err)
{
  /* Nested models are inlined first: ONNX graphs are flat. */
  OshGraph *k = osh_graph_copy (keras, err);
  for (int i = 0; k && i < k->n_layers; i++)
    if (k->layers[i].is_model && k->layers[i].owner < 0 && osh_graph_layer_first_node (k, i) >= 0)
      {
        OshGraph *flat = osh_graph_flatten_model (k, i, err);
        osh_graph_free (k);
        k = flat;
        i = -1;
      }
  if (!k)
    return NULL;
  Conv c = { .k = k,
             .lw = { .o = osh_graph_new (),
                     .keras3 = k->format && !strcmp (k->format, "keras3"),
                     .err = err },
             .err = err };
  c.off = calloc ((size_t) k->n_nodes + 1, sizeof *c.off);
  int64_t total = 0;
  for (int i = 0; c.off && i < k->n_nodes; i++)
    {
      c.off[i] = total;
      total += k->nodes[i].n_outputs;
    }
  c.map = calloc ((size_t) total + 1, sizeof *c.map);
  bool ok = c.lw.o && c.off && c.map;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory converting to ONNX");
  if (ok)
    {
      c.lw.o->class_name = strdup ("onnx");
      c.lw.o->name = strdup (k->name ? k->name : "model");
      c.lw.o->layout = OSH_LAYOUT_CHANNELS_FIRST;
      c.lw.o->dialect = &osh_onnx_dialect;
      json_object_set_new (c.lw.o->meta, "onnx_opset", json_integer (13));
      json_object_set_new (c.lw.o->meta, "onnx_ir_version", json_integer (8));
      const json_t *heads = json_object_get (k->meta, OSH_META_HEADS);
      if (heads)
        json_object_set_new (c.lw.o->meta, OSH_META_HEADS, json_deep_copy (heads));
      const json_t *names = json_object_get (k->meta, OSH_META_CLASS_NAMES);
      if (json_array_size (names) > 0)
        json_object_set_new (c.lw.o->meta, OSH_META_CLASS_NAMES, json_deep_copy (names));
    }
  /* Nodes in dependency order: a node is ready once its inputs are converted. */
  bool *done = ok ? calloc ((size_t) k->n_nodes + 1, sizeof *done) : NULL;
  int remaining = k->n_nodes;
  while (ok && done && remaining > 0)
    {
      int progress = 0;
      for (int i = 0; ok && i < k->n_nodes; i++)
        {
          if (done[i])
            continue;
          bool ready = !k->layers[k->nodes[i].layer].is_model;
          for (int j = 0; ready && j < k->nodes[i].n_inputs; j++)
            ready = done[k->nodes[i].inputs[j].node];
          if (!ready)
            continue;
          ok = convert_node (&c, i);
          done[i] = true;
          remaining--;
          progress++;
        }
      if (ok && !progress)
        break; /* what is left is not reachable from the inputs; the writer does not need it */
    }
  OshRef ins[64], outs[OSH_MAX_RANK * 8];
  int n_in = 0, n_out = 0;
  for (int i = 0; ok && i < k->n_inputs && i < 64; i++)
    {
      OshRef r = c.map[c.off[k->inputs[i].node]].ref;
      /* The graph input is the InputLayer node, before its Transpose. */
      while (strcmp (c.lw.o->layers[c.lw.o->nodes[r.node].layer].class_name, "InputLayer") != 0)
        r = c.lw.o->nodes[r.node].inputs[0];
      ins[n_in++] = r;
    }
  for (int i = 0; ok && i < k->n_outputs && i < 64; i++)
    {
      if (!done[k->outputs[i].node])
        ok =
            osh_fail (err, OSH_ERR_DISCONNECTED, "output %d cannot be computed from the inputs", i);
      else
        {
          const OshOnnxValue *t = &c.map[c.off[k->outputs[i].node] + k->outputs[i].index];
          OshRef r = t->ref;
          char *path = osh_graph_layer_path (k, k->nodes[k->outputs[i].node].layer);
          if (t->nchw)
            r = osh_onnx_lower_transpose (&c.lw, path ? path : "output", r, false);
          /* Name the output tensor after the Keras output layer. */
          if (r.node >= 0)
            {
              json_t *names = json_object_get (c.lw.o->layers[c.lw.o->nodes[r.node].layer].config,
                                               OSH_ONNX_OUTPUT_NAMES);
              json_array_set_new (names, 0, json_string (path ? path : "output"));
            }
          free (path);
          ok = r.node >= 0;
          outs[n_out++] = r;
        }
    }
  if (ok)
    ok = osh_graph_set_io (c.lw.o, -1, ins, n_in, outs, n_out, err);
  free (done);
  free (c.map);
  free (c.off);
  osh_graph_free (k);
  if (!ok)
    {
      osh_graph_free (c.lw.o);
      return NULL;
    }
  return c.lw.o;
}
