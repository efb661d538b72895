/* tfgraph-ops.h — the TF ops with kernels of their own (the rest run through a Keras or ONNX
 * op, tfgraph-shadow.h). */
#pragma once

#include "osh-op.h"

/* tfgraph-resize.c: ResizeBilinear, ResizeNearestNeighbor with TF's coordinate rules. */
bool tf_resize_infer (OshOpCall *c, OshError *err);
bool tf_resize_prepare (OshOpCall *c, OshError *err);
void tf_resize_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

/* tfgraph-index.c: ArgMax (the first largest), GatherNd. */
bool tf_argmax_infer (OshOpCall *c, OshError *err);
bool tf_argmax_prepare (OshOpCall *c, OshError *err);
void tf_argmax_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
bool tf_gather_nd_infer (OshOpCall *c, OshError *err);
bool tf_gather_nd_prepare (OshOpCall *c, OshError *err);
void tf_gather_nd_run (const OshOpCall *c, const float *const *in, float *const *out,
                       float *scratch);
