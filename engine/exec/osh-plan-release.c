/* release_packed_weights (osh-exec.h): a plan that packs the convolution kernels (osh-conv-gemm.h,
 * osh-depthwise.h) holds a second copy of nearly every weight, so a caller that will not need
 * the graph's own tensors again lets the plan drop them.
 *
 * Weights read in place from a model file's mapping (OshTensor.borrowed) free memory only when
 * the mapping's last borrower goes, so half a release frees nothing: before planning, the
 * weights of every layer that is not a convolution (normalisations, dense layers: a few MB, read
 * in place by their steps) become owned copies; after planning, the convolutions that run from
 * their packed copies drop theirs. When every convolution packed, the mapping goes with them. */
#include <stdlib.h>

#include "osh-op-kernels.h"
#include "osh-plan-internal.h"

static bool
is_conv_layer (const OshGraph *g, const OshLayer *l)
{
  const OshOp *op = osh_op_find (g, l->class_name);
  return op && op->run == osh_conv_run;
}

bool
osh_plan_own_unpacked_weights (OshGraph *g, OshError *err)
{
  for (int i = 0; i < g->n_layers; i++)
    {
      OshLayer *l = &g->layers[i];
      if (l->n_weights == 0 || is_conv_layer (g, l))
        continue;
      for (int w = 0; w < l->n_weights; w++)
        {
          OshTensor *t = l->weights[w].value;
          if (!t || !t->borrowed)
            continue;
          OshTensor *own = osh_tensor_copy (t, err);
          if (!own)
            return false;
          osh_tensor_free (t);
          l->weights[w].value = own;
        }
    }
  return true;
}

void
osh_plan_release_packed (OshPlan *p, OshGraph *g)
{
  /* Per layer: 1 while every remaining step of it runs from its own copies, 0 otherwise. A
   * convolution step fusion dropped went into another convolution (a depthwise one streamed
   * after its 1×1 expansion), which copied its kernel. */
  signed char *can = malloc ((size_t) g->n_layers + 1);
  if (!can)
    return; /* nothing released: the plan is as good */
  for (int i = 0; i < g->n_layers; i++)
    can[i] = is_conv_layer (g, &g->layers[i]);
  for (int s = 0; s < p->n_steps; s++)
    {
      const Step *st = &p->steps[s];
      int layer = g->nodes[st->node].layer;
      if (!osh_conv_holds_weights (st->op, &st->call))
        can[layer] = 0;
    }
  for (int i = 0; i < g->n_layers; i++)
    {
      OshLayer *l = &g->layers[i];
      for (int w = 0; can[i] && w < l->n_weights; w++)
        {
          OshTensor *t = l->weights[w].value;
          if (!t || !t->data)
            continue;
          /* The shape stays (parameter counts, summaries), as a graph read without its values. */
          OshTensor *shape_only = calloc (1, sizeof *shape_only);
          if (!shape_only)
            break;
          shape_only->shape = t->shape;
          osh_tensor_free (t);
          l->weights[w].value = shape_only;
        }
    }
  free (can);
}

bool
osh_plan_check_weights (const OshGraph *g, OshError *err)
{
  for (int i = 0; i < g->n_layers; i++)
    for (int w = 0; w < g->layers[i].n_weights; w++)
      {
        const OshTensor *t = g->layers[i].weights[w].value;
        if (t && !t->data && osh_shape_numel (&t->shape) > 0)
          {
            char *path = osh_plan_layer_path (g, i);
            osh_fail (err, OSH_ERR_USAGE,
                      "layer '%s': weight '%s' has no values (not read yet, or released by "
                      "an earlier plan's release_packed_weights)",
                      path ? path : g->layers[i].name, g->layers[i].weights[w].name);
            free (path);
            return false;
          }
      }
  return true;
}
