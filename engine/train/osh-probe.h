/* osh-probe.h — linear probes: what each layer's features tell about the classes.
 *
 * Alain & Bengio's probing classifiers: the frozen model runs once per picture, the chosen
 * layers' outputs are captured in the same runs, each is reduced to a vector (flattened when it
 * has at most `flatten_max` values, else global-average pooled over its spatial axes), and a
 * softmax classifier is fitted on each layer's vectors alone. Its accuracy on held-back
 * pictures says how linearly readable the classes are at that layer.
 *
 * The recipe is fixed so numbers compare across layers, models and runs:
 *   split   the examples in a splitmix64-seeded Fisher–Yates order; the last val_split
 *           (floor) validate, the rest train;
 *   scale   each feature standardised with the training rows' mean and standard deviation
 *           (a constant feature becomes 0);
 *   model   logits = x·W + b, W and b start at zero (the loss is convex: no seed needed);
 *   loss    mean cross-entropy over the training rows + l2/2·‖W‖² (b not decayed);
 *   steps   `epochs` full-batch Adam steps (lr, β₁ 0.9, β₂ 0.999, ε 1e-8, PyTorch's update:
 *           w −= lr·m̂/(√v̂ + ε)), so the fit is deterministic and a PyTorch script can repeat
 *           it on the same features.
 * With `hidden` > 0 (`--head mlp`) the probe has one hidden layer instead:
 *   model   logits = relu(x·W1 + b1)·W2 + b2 with `hidden` units (default 64); W1 and W2 start
 *           Glorot-uniform, ±√(6/(fan_in + fan_out)), from a splitmix64 stream seeded with
 *           `seed` (W1 row-major, then W2; u = the top 24 bits of each draw / 2²⁴, w = (2u − 1)·
 *           limit), b1 and b2 at zero; l2 on W1 and W2; the same Adam steps. Such a probe has no
 *           kernel (osh_head_attach_fitted keeps linear probes only).
 * Chance is the share of the largest class among the validation pictures (what always
 * guessing it would score).
 *
 * Memory: layers are captured in groups whose pooled features fit `group_bytes`; each group is
 * one pass over the pictures, so the features of all layers never sit in memory at once when
 * they would not fit. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"
#include "osh-tensor.h"

typedef struct
{
  int epochs;          /* full-batch Adam steps (default 300) */
  double lr;           /* default 0.01 */
  double l2;           /* default 1e-3 */
  double val_split;    /* default 0.2 */
  uint64_t seed;       /* the split's order (default 1) */
  int64_t flatten_max; /* flatten layers with at most this many values (default 256) */
  int64_t group_bytes; /* pooled features per pass (default 256 MiB) */
  int threads;         /* inference threads (default 1) */
  int hidden;          /* 0: the linear probe; > 0: an MLP probe with this many hidden units */
  int mask_positions;  /* mask probes: training positions per picture (default 256) */
} OshProbeOptions;

OshProbeOptions osh_probe_options_default (void);

typedef struct
{
  char *path;       /* the layer's path */
  char *class_name; /* its class */
  int64_t dim;      /* the probe's input size */
  bool pooled;      /* global-average pooled (else flattened) */
  double train_accuracy, val_accuracy;
  double val_loss;
  double val_iou;       /* mask probes: the validation IoU (NaN for class probes) */
  int64_t map_h, map_w; /* mask probes: the layer's map (its features are map_h·map_w·dim) */
  /* The fitted probe on the raw (unscaled) features, the standardisation folded in:
   * logits = x·kernel + bias, kernel dim × n_classes row-major (Keras's Dense kernel). */
  float *kernel, *bias;
} OshProbeLayer;

typedef struct
{
  OshProbeLayer *layers;
  int n_layers;
  int64_t n_train, n_val;
  int n_classes;
  double chance; /* the largest class's share of the validation rows */
  int passes;    /* passes over the pictures (groups of layers) */
} OshProbeResult;

/* Gives the model input for example i (a new tensor of the plan's input shape). */
typedef OshTensor *(*OshProbeInput) (int64_t i, void *user, OshError *err);
/* Called after each layer's probe (may be NULL); returning false cancels. While a pass captures
 * features it is also called after every picture with `done` NULL, `index` the pictures of the
 * pass done and `total` the pictures in it, so a long pass can be followed and cancelled. */
typedef bool (*OshProbeProgress) (const OshProbeLayer *done, int index, int total, void *user);
/* Called once per layer with its raw (unscaled) features, n rows in split order (the first
 * n_train train), and the labels in that order; may be NULL. For saving them. */
typedef bool (*OshProbeFeatures) (const OshProbeLayer *layer, const float *rows, int64_t n,
                                  const int *labels, void *user, OshError *err);

/* The layers a spec names: "all" (every top-level layer that is not a nested model), "every:K"
 * (every K-th of those, the last always included) or "NAME,NAME,…" (paths). A new array of
 * new strings, NULL-terminated (osh_probe_layers_free); fails naming an unknown layer. */
char **osh_probe_select_layers (const OshGraph *g, const char *spec, OshError *err);
void osh_probe_layers_free (char **layers);

/* Probes `layers` of the single-input model `g` on n examples with labels in 0..n_classes-1. */
bool osh_probe_run (const OshGraph *g, const char *const *layers, int n_layers, int64_t n,
                    const int *labels, int n_classes, OshProbeInput input, void *input_user,
                    const OshProbeOptions *opt, OshProbeProgress progress,
                    OshProbeFeatures features, void *user, OshProbeResult *result, OshError *err);
void osh_probe_result_clear (OshProbeResult *r);
void osh_probe_layer_clear (OshProbeLayer *l);

/* Mask probes (`--masks`): what each layer knows about where the object is. For every layer with
 * a spatial output (rank 4; others are skipped, their numbers NaN) a 1×1 convolution with one
 * filter — a logistic regression on each position's channel vector — with a fixed recipe:
 *   target  the example's mask area-averaged to the layer's height × width (osh_train_area_resize);
 *           a position is foreground when that is at least 0.5;
 *   rows    training: `mask_positions` positions of each training picture drawn with replacement
 *           by a splitmix64 stream seeded with seed + the layer's index (every position when the
 *           map has no more); validation: every position of every validation picture;
 *   fit     channels standardised on the training rows, w and b from zero, mean sigmoid
 *           cross-entropy + l2/2·‖w‖², `epochs` full-batch Adam steps as above;
 *   read    on the validation pictures at the masks' own size, each pixel taking the logit of the
 *           position it falls in (nearest): val_iou = |P ∩ T| / |P ∪ T| with P = logit > 0 and
 *           T = mask ≥ 0.5, val_accuracy the share of pixels right; train_accuracy is the share
 *           of training rows right.
 * r->chance is the IoU of calling every pixel foreground (the masks' foreground share on the
 * validation pictures at their own size), n_classes 2. */
typedef float *(*OshProbeMaskInput) (int64_t i, int *h, int *w, void *user, OshError *err);

/* `features` (may be NULL) gets each layer's maps, n rows of map_h·map_w·dim values
 * (position-major, channels last) in split order, labels NULL. */
bool osh_probe_run_masks (const OshGraph *g, const char *const *layers, int n_layers, int64_t n,
                          OshProbeInput input, OshProbeMaskInput mask, void *input_user,
                          const OshProbeOptions *opt, OshProbeProgress progress,
                          OshProbeFeatures features, void *user, OshProbeResult *r, OshError *err);

/* The examples in split order (the seeded shuffle of the recipe): order[n_train + i] is the
 * i-th validation example. */
void osh_probe_split_order (int64_t *order, int64_t n, uint64_t seed);

/* Fits one probe by the recipe above on rows already in split order; exposed for tests. Fills
 * out's accuracies and its kernel and bias (new arrays, freed by osh_probe_layer_clear). */
bool osh_probe_fit_linear (const float *rows, int64_t n_train, int64_t n_val, int64_t dim,
                           const int *labels, int n_classes, const OshProbeOptions *opt,
                           OshProbeLayer *out, OshError *err);

/* The same with one hidden layer of opt->hidden units (the MLP recipe above); out->kernel and
 * out->bias stay NULL. */
bool osh_probe_fit_mlp (const float *rows, int64_t n_train, int64_t n_val, int64_t dim,
                        const int *labels, int n_classes, const OshProbeOptions *opt,
                        OshProbeLayer *out, OshError *err);

/* The control for probes (Hewitt & Liang's point that a probe may learn the task itself): every
 * weight tensor's values permuted in place by a seeded shuffle. The values' distribution stays,
 * whatever the training put in their arrangement goes. */
bool osh_probe_shuffle_weights (OshGraph *g, uint64_t seed, OshError *err);
