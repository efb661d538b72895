/* Placeholder shape inference: leaves every output shape unknown (rank 0)
 * until the per-op shape functions land. */
#include "osh-shapes.h"

#include <stdlib.h>

bool
osh_graph_infer_shapes (OshGraph *g, OshError *err)
{
  for (int i = 0; i < g->n_nodes; i++)
    {
      OshNode *n = &g->nodes[i];
      if (!n->shapes)
        n->shapes = calloc ((size_t) n->n_outputs, sizeof (OshShape));
      if (!n->shapes)
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory for shapes");
    }
  return true;
}
