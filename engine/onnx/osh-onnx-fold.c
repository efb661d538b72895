/* Folding a graph input of an ONNX graph into a constant (see osh-onnx.h). */
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "osh-onnx.h"
#include "osh-graph.h"

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

/* Rewrites node `ni`, whose inputs include the folded input node, so that those inputs become
 * weights: the slot list changes from "t" to "w" and the weight is inserted at its position. */
static bool
fold_into (OshGraph *g, int ni, int input_node, const OshTensor *value, OshError *err)
{
  OshNode *n = &g->nodes[ni];
  OshLayer *l = &g->layers[n->layer];
  json_t *slots = json_object_get (l->config, OSH_ONNX_INPUTS);
  if (!json_is_array (slots))
    return osh_fail (err, OSH_ERR_USAGE, "layer '%s' is not an ONNX node", l->name);
  int t = 0, w = 0, kept = 0;
  for (size_t i = 0; i < json_array_size (slots); i++)
    {
      const char *kind = json_string_value (json_array_get (slots, i));
      if (kind && strcmp (kind, OSH_ONNX_SLOT_WEIGHT) == 0)
        {
          w++;
          continue;
        }
      if (!kind || strcmp (kind, OSH_ONNX_SLOT_TENSOR) != 0)
        continue;
      if (n->inputs[t].node != input_node)
        {
          n->inputs[kept++] = n->inputs[t++];
          continue;
        }
      t++;
      /* Insert a copy of the value as weight number w, keeping the weights in slot order. */
      OshTensor *copy = osh_tensor_copy (value, err);
      if (!copy || !osh_layer_add_weight (g, n->layer, "folded_input", copy, false, err))
        return false;
      l = &g->layers[n->layer];
      OshWeight added = l->weights[l->n_weights - 1];
      memmove (&l->weights[w + 1], &l->weights[w], (size_t) (l->n_weights - 1 - w) * sizeof added);
      l->weights[w++] = added;
      json_array_set_new (slots, i, json_string (OSH_ONNX_SLOT_WEIGHT));
    }
  n->n_inputs = kept;
  return true;
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
  memmove (&g->inputs[input], &g->inputs[input + 1], (size_t) (g->n_inputs - input - 1) * sizeof (OshRef));
  g->n_inputs--;
  return true;
}
