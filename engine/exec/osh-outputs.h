/* osh-outputs.h — how to show a model output: a label with probabilities, a heatmap, or numbers.
 *
 *   OshOutputKind kind = osh_output_classify (&y->shape, g->layout);
 *   if (kind == OSH_OUTPUT_LABEL)
 *     {
 *       OshTopEntry top[5];
 *       int n = osh_output_top_k (y, 0, 5, top, NULL);   // batch row 0, best first
 *       printf ("class %d p=%.3f\n", top[0].index, top[0].p);
 *     }
 *   else if (kind == OSH_OUTPUT_HEATMAP)
 *     {
 *       OshTensor *map = osh_output_heatmap (y, g->layout, 0, OSH_HEATMAP_AUTO, -1, &err);
 *       // map is (H, W); colour it with ui/imaging/osh-heatmap.h
 *     }
 *
 * Rules (DESIGN.md "Run"):
 *  - LABEL: rank 2 (batch, classes) with more than one class. Probabilities are the values
 *    themselves when a row already is a distribution (all in [0, 1], sum within 1e-3 of 1, as
 *    after a softmax layer); otherwise a softmax of the row (logits).
 *  - HEATMAP: rank 4 whose two spatial sizes are both at least 2 (NHWC for channels_last
 *    graphs, NCHW for channels_first/ONNX). One channel → that map. Several channels:
 *    OSH_HEATMAP_AUTO takes the per-pixel maximum over channels (where any class/filter
 *    responds strongly — for a K-class softmax segmentation it is the confidence of the winning
 *    class); OSH_HEATMAP_CHANNEL takes one channel; OSH_HEATMAP_ARGMAX gives the index of the
 *    winning channel per pixel (a class map).
 *  - TENSOR: everything else.
 */
#pragma once

#include <stdbool.h>

#include "osh-graph.h"
#include "osh-tensor.h"

typedef enum
{
  OSH_OUTPUT_TENSOR = 0,
  OSH_OUTPUT_LABEL,
  OSH_OUTPUT_HEATMAP,
} OshOutputKind;

typedef enum
{
  OSH_HEATMAP_AUTO = 0, /* one channel: it; several: per-pixel maximum */
  OSH_HEATMAP_CHANNEL,  /* the channel given */
  OSH_HEATMAP_ARGMAX,   /* per pixel, the index of the largest channel */
} OshHeatmapMode;

typedef struct
{
  int index; /* class index */
  float p;   /* probability */
} OshTopEntry;

/* "label", "heatmap" or "tensor" (the words of `run --json`). */
const char *osh_output_kind_name (OshOutputKind kind);

OshOutputKind osh_output_classify (const OshShape *shape, OshLayout layout);

/* True when `row` (n values) already is a probability distribution. */
bool osh_output_is_distribution (const float *row, int64_t n);

/* Probabilities of batch row `batch` of a rank-2 output into probs[classes]
 * (a softmax unless the row already is a distribution). False on a bad shape or row. */
bool osh_output_probabilities (const OshTensor *t, int64_t batch, float *probs, OshError *err);

/* The k most probable classes of batch row `batch`, best first (ties: lower index first).
 * Returns how many were written (min(k, classes)), 0 on a bad shape or row. */
int osh_output_top_k (const OshTensor *t, int64_t batch, int k, OshTopEntry *out, OshError *err);

/* The (H, W) map of batch item `batch` of a rank-4 output. `channel` is used by
 * OSH_HEATMAP_CHANNEL only. NULL with err set on a bad shape, batch or channel. */
OshTensor *osh_output_heatmap (const OshTensor *t, OshLayout layout, int64_t batch,
                               OshHeatmapMode mode, int64_t channel, OshError *err);

/* The file name (without extension) for graph output `i`: the name the model file gives that
 * output (an ONNX graph output's tensor name; a Keras output layer's path), with every character
 * other than letters, digits, '.', '-' and '_' made '_'; "_<i>" is appended when an earlier
 * output has the same stem. malloc'd; NULL when out of memory. */
char *osh_output_file_stem (const OshGraph *g, int i);
