/* osh-shapes.h — output shapes of every node, inferred from layer configs.
 *
 *   if (!osh_graph_infer_shapes (g, &err)) ...   // fills g->nodes[i].shapes
 *
 * Layers whose class is unknown get shapes of rank 0 and do not fail here;
 * running them does. */
#pragma once

#include "osh-graph.h"

bool osh_graph_infer_shapes (OshGraph *g, OshError *err);
