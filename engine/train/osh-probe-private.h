/* osh-probe-private.h — what the probe files share: the capture passes with a per-kind
 * reduction and fit (class probes in osh-probe.c, mask probes in osh-probe-masks.c). */
#pragma once

#include "osh-probe.h"

typedef struct
{
  /* Floats one example keeps for a layer whose output (batch 1) has shape s (0: the layer
   * cannot be probed this way and is skipped); may set l->pooled and l->dim. */
  int64_t (*size) (void *ctx, const OshShape *s, OshProbeLayer *l);
  /* The activation a as those floats. */
  void (*reduce) (void *ctx, const float *a, const OshShape *s, const OshProbeLayer *l, float *dst);
  /* Fits layer `index` on the n examples' floats (split order, `size` each). */
  bool (*fit) (void *ctx, int index, const float *feat, int64_t size, const OshShape *s,
               OshProbeLayer *l, OshError *err);
  void *ctx;
} OshProbeKind;

/* Captures `layers` in groups under opt->group_bytes, one pass over the pictures (in `order`)
 * per group, and fits each layer as its group's pass ends. Fills r->layers (paths, classes,
 * the fits) and r->passes; a skipped layer's accuracies are NaN. */
bool osh_probe_capture (const OshGraph *g, const char *const *layers, int n_layers, int64_t n,
                        const int64_t *order, OshProbeInput input, void *input_user,
                        const OshProbeOptions *opt, OshProbeProgress progress, void *user,
                        const OshProbeKind *kind, OshProbeResult *r, OshError *err);

/* PyTorch's Adam update of n values at step t (from 1). */
void osh_probe_adam_step (float *w, float *m, float *v, const float *g, int64_t n, int t,
                          double lr);

/* The recipe's random stream, and 0..n-1 in its seeded order. */
uint64_t osh_probe_splitmix64 (uint64_t *state);
void osh_probe_seeded_order (int64_t *v, int64_t n, uint64_t seed);
