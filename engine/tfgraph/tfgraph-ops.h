/* tfgraph-ops.h — the TF ops with kernels of their own (the rest run through a Keras or ONNX
 * op, tfgraph-shadow.h). */
#pragma once

#include "osh-op.h"

/* tfgraph-resize.c: ResizeBilinear, ResizeNearestNeighbor with TF's coordinate rules. */
bool tf_resize_infer (OshOpCall *c, OshError *err);
bool tf_resize_prepare (OshOpCall *c, OshError *err);
void tf_resize_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

/* tfgraph-index.c: ArgMax (the first largest), GatherNd, TopKV2, OneHot, read as TF has them and
 * run by ONNX's kernels (onnx_argmax_run, onnx_gathernd_run, onnx_topk_run, onnx_onehot_run). */
bool tf_argmax_infer (OshOpCall *c, OshError *err);
bool tf_argmax_prepare (OshOpCall *c, OshError *err);
bool tf_gather_nd_infer (OshOpCall *c, OshError *err);
bool tf_gather_nd_prepare (OshOpCall *c, OshError *err);
bool tf_topk_infer (OshOpCall *c, OshError *err);
bool tf_topk_prepare (OshOpCall *c, OshError *err);
bool tf_onehot_infer (OshOpCall *c, OshError *err);
bool tf_onehot_prepare (OshOpCall *c, OshError *err);

/* tfgraph-elementwise.c: comparisons, logic, FloorMod, Select(V2) on ONNX's logic kernel
 * (onnx_logic_run); ZerosLike, OnesLike; Fill. */
bool tf_ew_infer (OshOpCall *c, OshError *err);
bool tf_ew_prepare (OshOpCall *c, OshError *err);
bool tf_like_infer (OshOpCall *c, OshError *err);
bool tf_like_prepare (OshOpCall *c, OshError *err);
void tf_like_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
bool tf_fill_infer (OshOpCall *c, OshError *err);
bool tf_fill_prepare (OshOpCall *c, OshError *err);
void tf_fill_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
