/* osh-heads-fitted.h — a classifier head whose weights were fitted elsewhere (a probe).
 *
 * `classifier:N` (osh-heads.h) attached at `path`, or a lone Dense(N, softmax) when the layer's
 * output is already a vector, then its Dense kernel and bias replaced by the given ones:
 * the head computes softmax(pool(x)·kernel + bias), the probe `offshoot probe` fits
 * (engine/train/osh-probe.h) as a layer of the model. */
#pragma once

#include <stdbool.h>

#include "osh-heads.h"

/* kernel is dim × n_classes row-major, bias n_classes. `pooled` says the features were the
 * spatial mean per channel (a GlobalAveragePooling2D goes first); otherwise the layer's output
 * must already be a vector of `dim` values. `spec` receives the head's spec and `names` its
 * layers' names as osh_head_attach gives them (spec->n_steps). g is never modified. */
OshGraph *osh_head_attach_fitted (const OshGraph *g, const char *path, bool pooled, long dim,
                                  int n_classes, const float *kernel, const float *bias,
                                  OshHeadSpec *spec, char **names, OshError *err);
