/* osh-topo.h — dependency order of a graph's nodes (inputs before their users;
 * a node calling a nested model after that model's output nodes).
 *
 *   int *order = osh_topo_order (g, &err);   // g->n_nodes node indices, free() it
 */
#pragma once

#include "osh-graph.h"

int *osh_topo_order (const OshGraph *g, OshError *err);
