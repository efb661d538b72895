/* osh-zoo.h — untrained keras.applications architectures, built straight into the graph IR.
 *
 * Layer names, classes, Keras 2 configs, wiring, layer and parameter counts are those of
 * keras.applications (weights=None); weights are seeded-random but non-degenerate
 * (He/Glorot-scaled kernels, BatchNorm statistics near but not at their defaults), so runs
 * and benchmarks compute meaningful numbers.
 *
 *   OshZooOptions o;
 *   osh_zoo_options_init (&o, "EfficientNetB0");        // 224×224×3, top, 1000 classes
 *   o.include_top = false;
 *   OshError err = { 0 };
 *   OshGraph *g = osh_zoo_build ("EfficientNetB0", &o, &err);
 *   if (!g) puts (err.message);
 *   osh_graph_total_params (g, NULL);                     // 4,049,571 without the top
 *   osh_graph_free (g);
 */
#pragma once

#include "osh-graph.h"

typedef struct
{
  bool include_top;
  int64_t height, width, channels; /* the input, channels last */
  int64_t classes;
  const char *classifier_activation; /* "softmax" */
  uint64_t seed;                     /* for the weights */
} OshZooOptions;

/* The names osh_zoo_build accepts, in display order; NULL-terminated. */
const char *const *osh_zoo_names (void);

/* Keras's defaults for `name` (its default input size, top, 1000 classes, seed 1).
 * False (options still set to 224×224×3) when the name is unknown. */
bool osh_zoo_options_init (OshZooOptions *o, const char *name);

/* Builds `name` (case-insensitive, "efficientnetb0" works too). NULL with err set for an
 * unknown name or an input too small for the architecture. */
OshGraph *osh_zoo_build (const char *name, const OshZooOptions *o, OshError *err);
