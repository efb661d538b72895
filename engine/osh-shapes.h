/* osh-shapes.h — output shapes of every node, inferred from layer configs.
 *
 *   if (!osh_graph_infer_shapes (g, &err)) ...   // fills g->nodes[i].shapes
 *
 * Layers whose class is unknown get shapes of rank 0 and do not fail here;
 * running them does. */
#pragma once

#include "osh-graph.h"

bool osh_graph_infer_shapes (OshGraph *g, OshError *err);

/* Output k of node n as a user should read it: for an ONNX graph with symbolic input sizes,
 * which inference takes as 1, the sizes that follow them are -1 (None); else the shape itself. */
const OshShape *osh_node_shown_shape (const OshNode *n, int k);
