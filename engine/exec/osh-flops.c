/* Per-layer FLOPs from a count-only schedule (osh-flops.h). */
#include "osh-flops.h"

#include <string.h>

#include "osh-plan-internal.h"

bool
osh_graph_layer_flops (const OshGraph *g, int64_t batch, double *per_layer, double *total,
                       OshError *err)
{
  if (per_layer)
    memset (per_layer, 0, (size_t) g->n_layers * sizeof *per_layer);
  if (total)
    *total = 0;
  OshExecOptions opt = osh_exec_options_default ();
  opt.batch = batch > 0 ? batch : 1;
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
