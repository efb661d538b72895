/* The Keras-family op table and the class-name lookup (which then tries the ONNX table). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op-kernels.h"
#include "osh-op.h"

/* Known to shape inference, but with no kernel yet: running fails with a clear message. */
static bool
refuse (OshOpCall *c, OshError *err)
{
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "class %s has no kernel in Offshoot yet",
                   c->layer->class_name);
}

#define SAME osh_same_infer
#define OP(name, infer, prepare, run) { name, infer, prepare, run }
#define SHAPE_ONLY(name, infer) { name, infer, refuse, NULL }

static const OshOp keras_ops[] = {
  OP ("InputLayer", osh_input_infer, osh_input_prepare, osh_copy_run),
  SHAPE_ONLY ("Conv1D", osh_conv1d_infer),
  SHAPE_ONLY ("Conv2D", osh_conv2d_infer),
  SHAPE_ONLY ("DepthwiseConv2D", osh_depthwise2d_infer),
  SHAPE_ONLY ("SeparableConv2D", osh_separable2d_infer),
  SHAPE_ONLY ("Conv2DTranspose", osh_transpose2d_infer),
  SHAPE_ONLY ("Dense", osh_dense_infer),
  SHAPE_ONLY ("BatchNormalization", SAME),
  SHAPE_ONLY ("LayerNormalization", SAME),
  SHAPE_ONLY ("Normalization", SAME),
  SHAPE_ONLY ("Rescaling", SAME),
  SHAPE_ONLY ("Activation", SAME),
  SHAPE_ONLY ("ReLU", SAME),
  SHAPE_ONLY ("LeakyReLU", SAME),
  SHAPE_ONLY ("PReLU", SAME),
  SHAPE_ONLY ("ELU", SAME),
  SHAPE_ONLY ("ThresholdedReLU", SAME),
  SHAPE_ONLY ("Softmax", SAME),
  OP ("Dropout", SAME, NULL, osh_copy_run),
  OP ("SpatialDropout1D", SAME, NULL, osh_copy_run),
  OP ("SpatialDropout2D", SAME, NULL, osh_copy_run),
  OP ("SpatialDropout3D", SAME, NULL, osh_copy_run),
  OP ("GaussianNoise", SAME, NULL, osh_copy_run),
  OP ("GaussianDropout", SAME, NULL, osh_copy_run),
  OP ("AlphaDropout", SAME, NULL, osh_copy_run),
  OP ("ActivityRegularization", SAME, NULL, osh_copy_run),
  SHAPE_ONLY ("MaxPooling1D", osh_maxpool1d_infer),
  SHAPE_ONLY ("MaxPooling2D", osh_maxpool2d_infer),
  SHAPE_ONLY ("AveragePooling1D", osh_avgpool1d_infer),
  SHAPE_ONLY ("AveragePooling2D", osh_avgpool2d_infer),
  SHAPE_ONLY ("GlobalAveragePooling1D", osh_global_pool_infer),
  SHAPE_ONLY ("GlobalAveragePooling2D", osh_global_pool_infer),
  SHAPE_ONLY ("GlobalMaxPooling1D", osh_global_pool_infer),
  SHAPE_ONLY ("GlobalMaxPooling2D", osh_global_pool_infer),
  SHAPE_ONLY ("ZeroPadding2D", osh_zeropad2d_infer),
  SHAPE_ONLY ("Cropping2D", osh_crop2d_infer),
  SHAPE_ONLY ("UpSampling2D", osh_upsample2d_infer),
  SHAPE_ONLY ("Resizing", osh_resizing_infer),
  SHAPE_ONLY ("Add", osh_elementwise_infer),
  SHAPE_ONLY ("Subtract", osh_elementwise_infer),
  SHAPE_ONLY ("Multiply", osh_elementwise_infer),
  SHAPE_ONLY ("Average", osh_elementwise_infer),
  SHAPE_ONLY ("Maximum", osh_elementwise_infer),
  SHAPE_ONLY ("Minimum", osh_elementwise_infer),
  SHAPE_ONLY ("Concatenate", osh_concat_infer),
  OP ("Reshape", osh_reshape_infer, NULL, osh_copy_run),
  SHAPE_ONLY ("Flatten", osh_flatten_infer),
  SHAPE_ONLY ("Permute", osh_permute_infer),
  SHAPE_ONLY ("RepeatVector", osh_repeat_vector_infer),
};

/* Like ggml's op tables: adding a class without counting it here fails the build. */
#define KERAS_OP_COUNT 49
static_assert (sizeof keras_ops / sizeof keras_ops[0] == KERAS_OP_COUNT,
               "keras_ops changed: update KERAS_OP_COUNT (and engine/ops/README.md)");

const OshOp *
osh_op_find (const OshGraph *g, const char *class_name)
{
  if (!class_name)
    return NULL;
  /* ONNX and Keras share class names with different meanings (Reshape, Flatten, Softmax):
   * an ONNX graph only ever uses the ONNX table. */
  bool onnx = g && g->class_name && strcmp (g->class_name, "onnx") == 0;
  for (int i = 0; !onnx && i < KERAS_OP_COUNT; i++)
    if (strcmp (keras_ops[i].name, class_name) == 0)
      return &keras_ops[i];
  for (int i = 0; onnx && i < osh_onnx_ops_count; i++)
    if (strcmp (osh_onnx_ops[i].name, class_name) == 0)
      return &osh_onnx_ops[i];
  return NULL;
}
