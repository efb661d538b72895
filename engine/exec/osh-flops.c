/* Per-layer FLOPs from a count-only schedule (osh-flops.h). */
#include "osh-flops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-plan-internal.h"
#include "osh-shapes.h"

static bool
layer_flops (const OshGraph *g, int64_t batch, const OshShape *shapes, int n_shapes,
             double *per_layer, double *total, OshError *err)
{
  if (per_layer)
    memset (per_layer, 0, (size_t) g->n_layers * sizeof *per_layer);
  if (total)
    *total = 0;
  OshExecOptions opt = osh_exec_options_default ();
  opt.batch = batch > 0 ? batch : 1;
  opt.input_shapes = shapes;
  opt.n_input_shapes = n_shapes;
  OshPlan *p = osh_plan_schedule (g, &opt, true, err);
  if (!p)
    return false;
  /* A specialised copy (ONNX with fixed sizes) keeps the graph's layer numbering. */
  for (int s = 0; per_layer && s < p->n_steps; s++)
    {
      int l = p->steps[s].call.layer - p->g->layers;
      if (l >= 0 && l < g->n_layers)
        per_layer[l] += p->steps[s].call.flops;
    }
  if (total)
    *total = p->flops;
  osh_plan_free (p);
  return true;
}

bool
osh_graph_layer_flops (const OshGraph *g, int64_t batch, double *per_layer, double *total,
                       OshError *err)
{
  return layer_flops (g, batch, NULL, 0, per_layer, total, err);
}

int
osh_graph_proposed_input_shapes (const OshGraph *g, int64_t batch, OshShape *shapes, int max)
{
  for (int i = 0; i < g->n_inputs && i < max; i++)
    {
      OshRef r = g->inputs[i];
      const OshNode *n = r.node >= 0 && r.node < g->n_nodes ? &g->nodes[r.node] : NULL;
      shapes[i] = n && n->shapes && r.index < n->n_outputs ? n->shapes[r.index] : (OshShape){ 0 };
      for (int d = 0; d < shapes[i].rank; d++)
        if (shapes[i].dim[d] < 0)
          shapes[i].dim[d] = d == 0 ? (batch > 0 ? batch : 1) : OSH_FLOPS_OPEN_SIDE;
    }
  return g->n_inputs;
}

bool
osh_graph_layer_flops_proposed (const OshGraph *g, int64_t batch, double *per_layer, double *total,
                                char *sizes, size_t size, OshError *err)
{
  if (sizes && size)
    sizes[0] = '\0';
  if (!osh_graph_open_inputs (g))
    return layer_flops (g, batch, NULL, 0, per_layer, total, err);
  OshShape *shapes = calloc ((size_t) (g->n_inputs ? g->n_inputs : 1), sizeof *shapes);
  if (!shapes)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory for %d input shapes", g->n_inputs);
  int n = osh_graph_proposed_input_shapes (g, batch, shapes, g->n_inputs);
  size_t used = 0;
  for (int i = 0; sizes && i < n; i++)
    for (int d = 0; d < shapes[i].rank && used + 1 < size; d++)
      used += (size_t) snprintf (sizes + used, size - used, "%s%lld",
                                 d   ? "×"
                                 : i ? "; "
                                     : "",
                                 (long long) shapes[i].dim[d]);
  bool ok = layer_flops (g, batch, shapes, n, per_layer, total, err);
  free (shapes);
  return ok;
}
