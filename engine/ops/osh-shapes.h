/* osh-shapes.h — output shapes of every node, inferred from layer configs.
 *
 *   if (!osh_graph_infer_shapes (g, &err)) ...   // fills g->nodes[i].shapes
 *
 * Layers whose class is unknown get shapes of rank 0 and do not fail here;
 * running them does. */
#pragma once

#include "osh-graph.h"

bool osh_graph_infer_shapes (OshGraph *g, OshError *err);

/* True when a graph input leaves sizes beyond the batch open in the graph's own terms (ONNX
 * symbolic sizes: inference takes them as 1 until osh_graph_specialize fixes them). Keras None
 * sizes are not counted: they are -1 in the shapes already. */
bool osh_graph_open_inputs (const OshGraph *g);

/* Fixes those open input sizes to `shapes` (n of them) and folds what became constant; the shapes
 * are inferred again. OSH_ERR_USAGE when the graph has none to fix. */
bool osh_graph_specialize (OshGraph *g, const OshShape *shapes, int n, OshError *err);

/* Output k of node n as a user should read it: for an ONNX graph with symbolic input sizes,
 * which inference takes as 1, the sizes that follow them are -1 (None); else the shape itself. */
const OshShape *osh_node_shown_shape (const OshNode *n, int k);
