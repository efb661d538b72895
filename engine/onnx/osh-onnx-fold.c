/* Folding into constants in an ONNX graph: a graph input (osh_onnx_fold_input) and, once the
 * input sizes are fixed, what is computed from shapes and constants alone (see osh-onnx.h). */
#include <stdlib.h>
#include <string.h>

#include "osh-graph.h"
#include "osh-onnx.h"
#include "osh-op.h"
#include "osh-shapes.h"

/* Rewrites node `ni`, whose inputs include the folded input node, so that those inputs become
 * weights: their slots turn from activations into weights, inserted in slot order. */
static bool
fold_into (OshGraph *g, int ni, int input_node, const OshTensor *value, OshError *err)
{
  OshNode *n = &g->nodes[ni];
  OshLayer *l = &g->layers[n->layer];
  if (!l->slots)
    return osh_fail (err, OSH_ERR_USAGE, "layer '%s' takes no weights as inputs", l->name);
  OshSlotKind *kinds = malloc ((size_t) l->n_slots * sizeof *kinds + 1);
  if (!kinds)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  int n_slots = l->n_slots, w = 0, kept = 0;
  bool ok = true;
  for (int i = 0; ok && i < n_slots; i++)
    {
      OshSlot s = g->layers[n->layer].slots[i];
      kinds[i] = s.kind;
      if (s.kind == OSH_SLOT_WEIGHT)
        w++;
      if (s.kind != OSH_SLOT_ACTIVATION)
        continue;
      if (n->inputs[s.index].node != input_node)
        {
          n->inputs[kept++] = n->inputs[s.index];
          continue;
        }
      /* Insert a copy of the value as weight number w, keeping the weights in slot order. */
      OshTensor *copy = osh_tensor_copy (value, err);
      ok = copy && osh_layer_add_weight (g, n->layer, "folded_input", copy, false, err);
      if (ok)
        {
          l = &g->layers[n->layer];
          OshWeight added = l->weights[l->n_weights - 1];
          memmove (&l->weights[w + 1], &l->weights[w],
                   (size_t) (l->n_weights - 1 - w) * sizeof added);
          l->weights[w++] = added;
          kinds[i] = OSH_SLOT_WEIGHT;
        }
    }
  ok = ok && osh_layer_set_slots (g, n->layer, kinds, n_slots, err);
  free (kinds);
  if (ok)
    n->n_inputs = kept;
  return ok;
}

bool
osh_onnx_fold_input (OshGraph *g, int input, const OshTensor *value, OshError *err)
{
  if (input < 0 || input >= g->n_inputs)
    return osh_fail (err, OSH_ERR_USAGE, "input %d does not exist", input);
  int input_node = g->inputs[input].node;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k].node == input_node)
        {
          if (!fold_into (g, i, input_node, value, err))
            return false;
          break;
        }
  memmove (&g->inputs[input], &g->inputs[input + 1],
           (size_t) (g->n_inputs - input - 1) * sizeof (OshRef));
  g->n_inputs--;
  return true;
}

bool
osh_onnx_eval_constant (const OshGraph *g, const OshLayer *layer, const OshShape *in, int n_in,
                        OshTensor **outs, int n_out, OshError *err)
{
  const OshOp *op = osh_op_find (g, layer->class_name);
  if (!op || !op->run || n_out < 1 || n_out > 16)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "%s cannot be computed ahead", layer->class_name);
  OshShape shapes[16] = { 0 };
  OshOpCall call = {
    .graph = g, .layer = layer, .in = in, .n_in = n_in, .out = shapes, .n_out = n_out
  };
  float *data[16];
  const float *in_data[16] = { 0 }; /* shape-only ops never read their tensor inputs */
  float *scratch = NULL;
  bool ok = n_in <= 16 && op->infer (&call, err) && (!op->prepare || op->prepare (&call, err));
  for (int k = 0; ok && k < n_out; k++)
    {
      ok = shapes[k].rank > 0 || osh_shape_numel (&shapes[k]) == 1;
      outs[k] = ok ? osh_tensor_new (&shapes[k], err) : NULL;
      ok = ok && outs[k];
      data[k] = ok ? outs[k]->data : NULL;
    }
  if (ok && call.scratch)
    ok = (scratch = calloc (call.scratch, sizeof (float))) != NULL;
  if (ok)
    op->run (&call, in_data, data, scratch);
  free (scratch);
  if (call.params)
    (call.free_params ? call.free_params : free) (call.params);
  for (int k = 0; !ok && k < n_out; k++)
    {
      osh_tensor_free (outs[k]);
      outs[k] = NULL;
    }
  return ok
         || osh_fail (err, OSH_ERR_UNSUPPORTED, "%s cannot be computed ahead", layer->class_name);
}

static bool
is_graph_output (const OshGraph *g, int node)
{
  for (int o = 0; o < g->n_outputs; o++)
    if (g->outputs[o].node == node)
      return true;
  return false;
}

/* Node `ni` (one output, read by other nodes only) computed now: its value goes into every
 * consumer as a weight. False (nothing changed) when it cannot be computed ahead. */
static bool
fold_node (OshGraph *g, int ni, OshError *err)
{
  OshNode *n = &g->nodes[ni];
  const OshLayer *l = &g->layers[n->layer];
  if (n->n_outputs != 1 || is_graph_output (g, ni) || strcmp (l->class_name, "InputLayer") == 0)
    return false;
  OshShape in[16];
  for (int i = 0; i < n->n_inputs && i < 16; i++)
    in[i] = g->nodes[n->inputs[i].node].shapes[n->inputs[i].index];
  OshTensor *value = NULL;
  OshError quiet = { 0 };
  if (n->n_inputs > 16 || !osh_onnx_eval_constant (g, l, in, n->n_inputs, &value, 1, &quiet))
    return false;
  bool ok = true;
  for (int c = ni + 1; ok && c < g->n_nodes; c++)
    for (int k = 0; ok && k < g->nodes[c].n_inputs; k++)
      if (g->nodes[c].inputs[k].node == ni)
        {
          ok = fold_into (g, c, ni, value, err);
          break;
        }
  osh_tensor_free (value);
  return ok;
}

static bool
shape_known (const OshShape *s)
{
  for (int d = 0; d < s->rank; d++)
    if (s->dim[d] < 0)
      return false;
  return s->rank > 0;
}

/* One pass in node order (an evaluation order, so whole chains fold); *folded counts the nodes
 * computed ahead. */
static bool
fold_pass (OshGraph *g, int *folded, OshError *err)
{
  for (int i = 0; i < g->n_nodes; i++)
    {
      const OshNode *node = &g->nodes[i];
      bool shape_op =
          strcmp (g->layers[node->layer].class_name, "Shape") == 0 && node->n_inputs == 1
          && shape_known (&g->nodes[node->inputs[0].node].shapes[node->inputs[0].index]);
      bool used = false;
      for (int c = i + 1; !used && c < g->n_nodes; c++)
        for (int k = 0; !used && k < g->nodes[c].n_inputs; k++)
          used = g->nodes[c].inputs[k].node == i;
      if (used && (shape_op || node->n_inputs == 0))
        {
          OshError e = { 0 };
          if (fold_node (g, i, &e))
            (*folded)++;
          else if (e.code != OSH_OK)
            return osh_fail (err, e.code, "%s", e.message);
        }
    }
  return true;
}

bool
osh_onnx_fold_constants (OshGraph *g, OshError *err)
{
  /* A fold makes later shapes known (a Resize to a folded size), and a Shape of those folds in
   * the next pass (a second interpolate-to-size further down), so passes repeat until nothing
   * more folds; each pass removes the folded nodes' uses, so this ends. */
  for (int pass = 0; pass <= g->n_nodes; pass++)
    {
      int folded = 0;
      if (!fold_pass (g, &folded, err))
        return false;
      if (!folded)
        return true;
      if (!osh_graph_infer_shapes (g, err))
        return false;
    }
  return true;
}
