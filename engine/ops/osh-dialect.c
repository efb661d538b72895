/* A graph's dialect (osh-dialect.h) and the lookups every dialect answers the same way: generic
 * code names layers and tensors through these, never through a format's own functions. */
#include <stdlib.h>

#include "osh-op.h"

const OshDialect *
osh_dialect_of (const OshGraph *g)
{
  return g && g->dialect ? g->dialect : &osh_keras_dialect;
}

OshRef
osh_dialect_find_tensor (const OshGraph *g, const char *name)
{
  const OshDialect *d = osh_dialect_of (g);
  int layer = d->nested_paths ? osh_graph_find_path (g, name) : osh_graph_find_layer (g, -1, name);
  int node = layer >= 0 ? osh_graph_layer_first_node (g, layer) : -1;
  if (node >= 0)
    return (OshRef){ node, 0 };
  return d->find_tensor ? d->find_tensor (g, name) : (OshRef){ -1, 0 };
}

char *
osh_dialect_tensor_name (const OshGraph *g, OshRef ref)
{
  const OshDialect *d = osh_dialect_of (g);
  if (ref.node < 0 || ref.node >= g->n_nodes)
    return NULL;
  return d->tensor_name ? d->tensor_name (g, ref)
                        : osh_graph_layer_path (g, g->nodes[ref.node].layer);
}
