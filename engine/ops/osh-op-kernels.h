/* osh-op-kernels.h — private: the functions the op table (osh-op-table.c) points at,
 * one group per op family file. */
#pragma once

#include "osh-op.h"

/* shape-same.c, reshape.c */
bool osh_same_infer (OshOpCall *c, OshError *err);
bool osh_input_infer (OshOpCall *c, OshError *err);
bool osh_input_prepare (OshOpCall *c, OshError *err);
void osh_copy_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
bool osh_reshape_infer (OshOpCall *c, OshError *err);
bool osh_flatten_infer (OshOpCall *c, OshError *err);
bool osh_permute_infer (OshOpCall *c, OshError *err);
bool osh_flatten_prepare (OshOpCall *c, OshError *err);
bool osh_permute_prepare (OshOpCall *c, OshError *err);
bool osh_repeat_vector_infer (OshOpCall *c, OshError *err);

/* conv.c */
bool osh_conv1d_infer (OshOpCall *c, OshError *err);
bool osh_conv2d_infer (OshOpCall *c, OshError *err);
bool osh_depthwise2d_infer (OshOpCall *c, OshError *err);
bool osh_separable2d_infer (OshOpCall *c, OshError *err);
bool osh_transpose2d_infer (OshOpCall *c, OshError *err);
/* Their weights' rule (OshOpWeightsFn). */
bool osh_conv1d_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err);
bool osh_conv2d_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err);
bool osh_depthwise2d_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err);
bool osh_separable2d_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err);
bool osh_transpose2d_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err);

/* dense.c */
bool osh_dense_infer (OshOpCall *c, OshError *err);
bool osh_dense_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err);

/* pool.c */
bool osh_maxpool1d_infer (OshOpCall *c, OshError *err);
bool osh_maxpool2d_infer (OshOpCall *c, OshError *err);
bool osh_avgpool1d_infer (OshOpCall *c, OshError *err);
bool osh_avgpool2d_infer (OshOpCall *c, OshError *err);
bool osh_global_pool_infer (OshOpCall *c, OshError *err);
bool osh_global_pool_prepare (OshOpCall *c, OshError *err);

/* resize.c */
bool osh_zeropad2d_infer (OshOpCall *c, OshError *err);
bool osh_crop2d_infer (OshOpCall *c, OshError *err);
bool osh_upsample2d_infer (OshOpCall *c, OshError *err);
bool osh_resizing_infer (OshOpCall *c, OshError *err);

/* merge.c */
bool osh_elementwise_infer (OshOpCall *c, OshError *err);
bool osh_concat_infer (OshOpCall *c, OshError *err);
bool osh_concat_prepare (OshOpCall *c, OshError *err);

/* prepare and run functions, by family */
bool osh_conv1d_prepare (OshOpCall *c, OshError *err);
bool osh_conv2d_prepare (OshOpCall *c, OshError *err);
bool osh_depthwise2d_prepare (OshOpCall *c, OshError *err);
bool osh_separable2d_prepare (OshOpCall *c, OshError *err);
bool osh_transpose2d_prepare (OshOpCall *c, OshError *err);
void osh_conv_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
/* Conv1D, Conv2D and DepthwiseConv2D fold a BatchNormalization and an activation that follow
 * them (OshOpAbsorbFn). */
bool osh_conv_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind);
/* True when a prepared (and fused) convolution step runs from its own packed copies only, never
 * reading its layer's weight tensors again (osh_plan_new's release_packed_weights). */
bool osh_conv_holds_weights (const OshOp *op, const OshOpCall *c);

bool osh_dense_prepare (OshOpCall *c, OshError *err);
void osh_dense_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

bool osh_batchnorm_prepare (OshOpCall *c, OshError *err);
bool osh_batchnorm_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err);
bool osh_layernorm_prepare (OshOpCall *c, OshError *err);
bool osh_normalization_prepare (OshOpCall *c, OshError *err);
bool osh_rescaling_prepare (OshOpCall *c, OshError *err);
bool osh_tfop_infer (OshOpCall *c, OshError *err);
bool osh_tfop_prepare (OshOpCall *c, OshError *err);
void osh_affine_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
bool osh_affine_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind);

bool osh_act_layer_prepare (OshOpCall *c, OshError *err);
void osh_act_layer_run (const OshOpCall *c, const float *const *in, float *const *out,
                        float *scratch);

bool osh_maxpool1d_prepare (OshOpCall *c, OshError *err);
bool osh_maxpool2d_prepare (OshOpCall *c, OshError *err);
bool osh_avgpool1d_prepare (OshOpCall *c, OshError *err);
bool osh_avgpool2d_prepare (OshOpCall *c, OshError *err);
void osh_pool_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
void osh_global_pool_run (const OshOpCall *c, const float *const *in, float *const *out,
                          float *scratch);

bool osh_edge_prepare (OshOpCall *c, OshError *err);
bool osh_upsample2d_prepare (OshOpCall *c, OshError *err);
bool osh_resizing_prepare (OshOpCall *c, OshError *err);
void osh_edge_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
void osh_resize_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

bool osh_elementwise_prepare (OshOpCall *c, OshError *err);
void osh_elementwise_run (const OshOpCall *c, const float *const *in, float *const *out,
                          float *scratch);
/* Add, Subtract, Multiply... fold the activation that follows them (OshOpAbsorbFn). */
bool osh_elementwise_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind);
void osh_concat_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

void osh_flatten_run (const OshOpCall *c, const float *const *in, float *const *out,
                      float *scratch);
void osh_permute_run (const OshOpCall *c, const float *const *in, float *const *out,
                      float *scratch);
void osh_repeat_vector_run (const OshOpCall *c, const float *const *in, float *const *out,
                            float *scratch);
