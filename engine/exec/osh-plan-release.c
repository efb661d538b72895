/* release_packed_weights (osh-exec.h): a plan that packs the convolution kernels (osh-conv-gemm.h,
 * osh-depthwise.h) holds a second copy of nearly every weight, so a caller that will not need
 * the graph's own tensors again lets the plan drop them.
 *
 * Weights read in place from a model file's mapping (OshTensor.borrowed) would free memory
 * only when the mapping's last borrower goes; osh_tensor_free_for_good gives a borrower's pages
 * back at once (a hole punched in the file's copy in memory). Before planning, the weights of
 * every layer that is not a convolution (normalisations, dense layers: a few MB, read in place
 * by their steps) become owned copies. While planning, a convolution's kernel goes as soon as
 * its step has packed it, when nothing can read it again: its layer is called once (not a
 * shared layer, not inside a model called twice), no layout pass will prepare it anew and no
 * zero padding before it will be fused into it (which packs the kernel again). So
 * the original and the packed copy of all of B7's kernels are never in memory together (558 →
 * ~330 MiB peak for a run). After planning, the other convolutions that run from their packed
 * copies drop theirs too. */
#include <stdlib.h>

#include "osh-op-kernels.h"
#include "osh-plan-internal.h"

static bool
is_conv_layer (const OshGraph *g, const OshLayer *l)
{
  const OshOp *op = osh_op_find (g, l->class_name);
  return op && op->run == osh_conv_run;
}

/* The shape stays (parameter counts, summaries), as a graph read without its values. */
static void
give_up_values (OshLayer *l)
{
  for (int w = 0; w < l->n_weights; w++)
    {
      OshTensor *t = l->weights[w].value;
      if (!t || !t->data)
        continue;
      OshTensor *shape_only = calloc (1, sizeof *shape_only);
      if (!shape_only)
        return;
      shape_only->shape = t->shape;
      osh_tensor_free_for_good (t);
      l->weights[w].value = shape_only;
    }
}

/* Layers whose single node is prepared once: each model layer they sit in is called once. */
static signed char *
called_once (const OshGraph *g)
{
  int *calls = calloc ((size_t) g->n_layers + 1, sizeof *calls);
  signed char *once = calloc ((size_t) g->n_layers + 1, 1);
  if (!calls || !once)
    {
      free (calls);
      free (once);
      return NULL;
    }
  for (int n = 0; n < g->n_nodes; n++)
    calls[g->nodes[n].layer]++;
  for (int i = 0; i < g->n_layers; i++)
    {
      once[i] = calls[i] == 1;
      for (int o = g->layers[i].owner, depth = 0; once[i] && o >= 0 && depth <= g->n_layers;
           o = g->layers[o].owner, depth++)
        once[i] = calls[o] == 1;
    }
  free (calls);
  return once;
}

static bool
own_unpacked_weights (OshGraph *g, OshError *err)
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

bool
osh_plan_start_release (OshPlan *p, const OshExecOptions *opt, OshError *err)
{
  OshGraph *g = (OshGraph *) p->g;
  if (!own_unpacked_weights (g, err))
    return false;
  /* Without it (out of memory, a layout pass), the kernels all go after planning instead. */
  if (osh_plan_wants_layout_pass (g, opt) || !(p->release_early = called_once (g)))
    return true;
  for (int i = 0; i < g->n_layers; i++)
    p->release_early[i] = p->release_early[i] && is_conv_layer (g, &g->layers[i]);
  return true;
}

/* Fusion may pack the kernel again: with a zero padding before it taken in (osh-plan-fuse.c). */
static bool
reads_padding (const OshPlan *p, const Step *st)
{
  for (int i = 0; i < st->call.n_in; i++)
    {
      const OshGraph *g = p->g;
      const OshOp *op =
          osh_op_find (g, g->layers[g->nodes[p->vals[st->in_vals[i]].node].layer].class_name);
      if (op && (op->cats & OSH_CAT_ZERO_PAD))
        return true;
    }
  return false;
}

void
osh_plan_release_step (OshPlan *p, const Step *st)
{
  int layer = p->g->nodes[st->node].layer;
  if (p->release_early && p->release_early[layer] && osh_conv_holds_weights (st->op, &st->call)
      && !reads_padding (p, st))
    give_up_values (&((OshGraph *) p->g)->layers[layer]);
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
    if (can[i])
      give_up_values (&g->layers[i]);
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
