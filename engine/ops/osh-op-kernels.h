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
bool osh_repeat_vector_infer (OshOpCall *c, OshError *err);

/* conv.c */
bool osh_conv1d_infer (OshOpCall *c, OshError *err);
bool osh_conv2d_infer (OshOpCall *c, OshError *err);
bool osh_depthwise2d_infer (OshOpCall *c, OshError *err);
bool osh_separable2d_infer (OshOpCall *c, OshError *err);
bool osh_transpose2d_infer (OshOpCall *c, OshError *err);

/* dense.c */
bool osh_dense_infer (OshOpCall *c, OshError *err);

/* pool.c */
bool osh_maxpool1d_infer (OshOpCall *c, OshError *err);
bool osh_maxpool2d_infer (OshOpCall *c, OshError *err);
bool osh_avgpool1d_infer (OshOpCall *c, OshError *err);
bool osh_avgpool2d_infer (OshOpCall *c, OshError *err);
bool osh_global_pool_infer (OshOpCall *c, OshError *err);

/* resize.c */
bool osh_zeropad2d_infer (OshOpCall *c, OshError *err);
bool osh_crop2d_infer (OshOpCall *c, OshError *err);
bool osh_upsample2d_infer (OshOpCall *c, OshError *err);
bool osh_resizing_infer (OshOpCall *c, OshError *err);

/* merge.c */
bool osh_elementwise_infer (OshOpCall *c, OshError *err);
bool osh_concat_infer (OshOpCall *c, OshError *err);
