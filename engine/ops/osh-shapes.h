/* osh-shapes.h — output shapes of every node, inferred from layer configs.
 *
 *   if (!osh_graph_infer_shapes (g, &err)) ...   // fills g->nodes[i].shapes
 *
 * Layers whose class is unknown get shapes of rank 0 and do not fail here;
 * running them does. */
#pragma once

#include "osh-graph.h"

bool osh_graph_infer_shapes (OshGraph *g, OshError *err);

/* True when a graph input leaves a size beyond the batch open (-1 in its shape: a Keras None, an
 * ONNX symbolic size). */
bool osh_graph_open_inputs (const OshGraph *g);

/* Fixes the sizes of the graph inputs to `shapes` (n of them, one per input, batch included),
 * checking the sizes the graph declares (a contradiction is OSH_ERR_USAGE naming both), infers
 * the shapes again and folds the subgraphs that became constant through the dialect's
 * fold_constants (ONNX: Shape -> Slice -> Concat -> Reshape targets). Without shapes it fails
 * with OSH_ERR_USAGE naming the first open input. `g` may be left half-changed on failure. */
bool osh_graph_specialize (OshGraph *g, const OshShape *shapes, int n, OshError *err);

/* Fixes the open batch of every input to `batch` (its other sizes must be known, else it fails
 * as osh_graph_specialize without shapes), then infers and folds as osh_graph_specialize: what
 * a plan of that batch does when it is given no input shapes. */
bool osh_graph_specialize_batch (OshGraph *g, int64_t batch, OshError *err);

/* True when `g` must be specialized before it runs: its dialect folds constant subgraphs once
 * the sizes are fixed, and an input has open sizes past the batch, or a Shape node reads an open
 * size (the batch included: a run knows its batch). A Keras graph runs with open sizes as they
 * are (the executor takes them from the input shapes it is given). */
bool osh_graph_needs_specialize (const OshGraph *g);
