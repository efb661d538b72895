/* osh-flops.h — how much work each layer is, without preparing a runnable plan.
 *
 * The count is the plan's own: every op's prepare counts its FLOPs (multiply-adds count two)
 * from the concrete shapes, and this runs those prepares in count-only mode, which skips what
 * costs time (packing convolution weights). So the sum is exactly osh_plan_flops of a plan at
 * the same batch, and a click in the window can ask for it.
 *
 *   double *per_layer = calloc (g->n_layers, sizeof (double)), total;
 *   if (!osh_graph_layer_flops (g, 1, per_layer, &total, &err))
 *     ...  // e.g. OSH_ERR_UNSUPPORTED "layer 'lambda_1' (Lambda): ..."
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"

/* FLOPs of one run at `batch` (0 means 1) of every layer of `g`: per_layer (g->n_layers
 * entries, may be NULL) gets each layer's, all its calls added (a nested model's work is on
 * its own layers; the layer that calls it gets 0), and *total (may be NULL) their sum. Only
 * the layers the outputs need count. Fails as osh_plan_new fails (a layer without a kernel,
 * shapes that do not fit, an ONNX model with open input sizes). */
bool osh_graph_layer_flops (const OshGraph *g, int64_t batch, double *per_layer, double *total,
                            OshError *err);

/* The size given to an open input size beyond the batch when nothing else says one (the CLI's
 * --input-shape example, a summary's FLOPs): a common detector and segmenter input side. */
#define OSH_FLOPS_OPEN_SIDE 640

/* The full shape of every graph input for one run at `batch` (0 means 1) when no size is given:
 * the declared sizes, an open batch `batch`, any other open size OSH_FLOPS_OPEN_SIDE. Fills
 * shapes[0 .. min(n_inputs, max)) and returns the number of inputs. */
int osh_graph_proposed_input_shapes (const OshGraph *g, int64_t batch, OshShape *shapes, int max);

/* osh_graph_layer_flops for any model: one with open input sizes is counted at
 * osh_graph_proposed_input_shapes, and `sizes` (may be NULL; `size` bytes) says at which
 * ("1×3×640×640", inputs joined by "; "); it is "" when every size is the model's own. */
bool osh_graph_layer_flops_proposed (const OshGraph *g, int64_t batch, double *per_layer,
                                     double *total, char *sizes, size_t size, OshError *err);
