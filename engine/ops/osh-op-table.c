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
  return osh_fail (
      err, OSH_ERR_UNSUPPORTED, "class %s cannot run in Offshoot%s", c->layer->class_name,
      strstr (c->layer->class_name, "Lambda") ? " (its Python code is not stored in the model file)"
                                              : "");
}

/* Output shape unknown (rank 0), like any unknown class. */
static bool
unknown_infer (OshOpCall *c, OshError *err)
{
  (void) err;
  memset (c->out, 0, (size_t) c->n_out * sizeof *c->out);
  return true;
}

/* The op table reads as a table, a row a line: clang-format leaves it alone. */
/* clang-format off */
#define SAME osh_same_infer
#define OP(name, infer, prepare, run) { name, infer, prepare, run }
/* A row of the given categories (OshOpCat), folding what follows with `absorb` (or NULL). */
#define OP_AS(name, infer, prepare, run, absorb, cats)                                             \
  { name, infer, prepare, run, absorb, NULL, cats }
#define SHAPE_ONLY(name, infer) { name, infer, refuse, NULL }
#define MERGE_AS(name, cats)                                                                       \
  OP_AS (name, osh_elementwise_infer, osh_elementwise_prepare, osh_elementwise_run,                \
         osh_elementwise_absorb, cats)
#define MERGE(name) MERGE_AS (name, 0)
#define CONV(name, family)                                                                         \
  { name, osh_##family##_infer, osh_##family##_prepare, osh_conv_run, osh_conv_absorb, NULL,      \
    OSH_CAT_CONV, osh_##family##_weights }
#define ACT(name)                                                                                  \
  OP_AS (name, SAME, osh_act_layer_prepare, osh_act_layer_run, NULL, OSH_CAT_EPILOGUE)
#define AFFINE(name, infer, prepare)                                                               \
  OP_AS (name, infer, prepare, osh_affine_run, osh_affine_absorb, OSH_CAT_AFFINE)
#define COPY(name) OP_AS (name, SAME, NULL, osh_copy_run, NULL, OSH_CAT_COPY)

static const OshOp keras_ops[] = {
  OP ("InputLayer", osh_input_infer, osh_input_prepare, osh_copy_run),
  /* conv.c */
  CONV ("Conv1D", conv1d),
  CONV ("Conv2D", conv2d),
  CONV ("DepthwiseConv2D", depthwise2d),
  CONV ("SeparableConv2D", separable2d),
  { "Conv2DTranspose", osh_transpose2d_infer, osh_transpose2d_prepare, osh_conv_run, NULL, NULL,
    OSH_CAT_CONV, osh_transpose2d_weights },
  /* dense.c */
  { "Dense", osh_dense_infer, osh_dense_prepare, osh_dense_run, NULL, NULL, 0, osh_dense_weights },
  /* norm.c */
  { "BatchNormalization", SAME, osh_batchnorm_prepare, osh_affine_run, osh_affine_absorb, NULL,
    OSH_CAT_AFFINE, osh_batchnorm_weights },
  OP ("LayerNormalization", SAME, osh_layernorm_prepare, osh_affine_run),
  AFFINE ("Normalization", SAME, osh_normalization_prepare),
  AFFINE ("Rescaling", SAME, osh_rescaling_prepare),
  /* Keras 2's TFOpLambda for `x + c`, `x - c`, `x * c`, `x / c` with a number c */
  AFFINE ("TFOpLambda", osh_tfop_infer, osh_tfop_prepare),
  /* activation.c: an Activation or a ReLU is an epilogue when its config makes it element-wise
   * (osh_act_layer_elementwise) */
  ACT ("Activation"),
  ACT ("ReLU"),
  ACT ("LeakyReLU"),
  OP ("PReLU", SAME, osh_act_layer_prepare, osh_act_layer_run),
  ACT ("ELU"),
  OP ("ThresholdedReLU", SAME, osh_act_layer_prepare, osh_act_layer_run),
  OP ("Softmax", SAME, osh_act_layer_prepare, osh_act_layer_run),
  /* identity at inference (shape-same.c) */
  COPY ("Dropout"),
  COPY ("SpatialDropout1D"),
  COPY ("SpatialDropout2D"),
  COPY ("SpatialDropout3D"),
  COPY ("GaussianNoise"),
  COPY ("GaussianDropout"),
  COPY ("AlphaDropout"),
  COPY ("ActivityRegularization"),
  /* pool.c */
  OP ("MaxPooling1D", osh_maxpool1d_infer, osh_maxpool1d_prepare, osh_pool_run),
  OP ("MaxPooling2D", osh_maxpool2d_infer, osh_maxpool2d_prepare, osh_pool_run),
  OP ("AveragePooling1D", osh_avgpool1d_infer, osh_avgpool1d_prepare, osh_pool_run),
  OP ("AveragePooling2D", osh_avgpool2d_infer, osh_avgpool2d_prepare, osh_pool_run),
  OP_AS ("GlobalAveragePooling1D", osh_global_pool_infer, osh_global_pool_prepare,
         osh_global_pool_run, NULL, OSH_CAT_GLOBAL_MEAN),
  OP_AS ("GlobalAveragePooling2D", osh_global_pool_infer, osh_global_pool_prepare,
         osh_global_pool_run, NULL, OSH_CAT_GLOBAL_MEAN),
  OP ("GlobalMaxPooling1D", osh_global_pool_infer, osh_global_pool_prepare, osh_global_pool_run),
  OP ("GlobalMaxPooling2D", osh_global_pool_infer, osh_global_pool_prepare, osh_global_pool_run),
  /* resize.c */
  OP_AS ("ZeroPadding2D", osh_zeropad2d_infer, osh_edge_prepare, osh_edge_run, NULL,
         OSH_CAT_ZERO_PAD),
  OP ("Cropping2D", osh_crop2d_infer, osh_edge_prepare, osh_edge_run),
  OP ("UpSampling2D", osh_upsample2d_infer, osh_upsample2d_prepare, osh_resize_run),
  OP ("Resizing", osh_resizing_infer, osh_resizing_prepare, osh_resize_run),
  /* merge.c */
  MERGE_AS ("Add", OSH_CAT_SUM),
  MERGE ("Subtract"),
  MERGE_AS ("Multiply", OSH_CAT_PRODUCT),
  MERGE ("Average"),
  MERGE ("Maximum"),
  MERGE ("Minimum"),
  OP ("Concatenate", osh_concat_infer, osh_concat_prepare, osh_concat_run),
  /* reshape.c */
  /* the data as it is: a copy where the shape stays the same */
  OP_AS ("Reshape", osh_reshape_infer, NULL, osh_copy_run, NULL, OSH_CAT_COPY),
  OP ("Flatten", osh_flatten_infer, osh_flatten_prepare, osh_flatten_run),
  OP ("Permute", osh_permute_infer, osh_permute_prepare, osh_permute_run),
  OP ("RepeatVector", osh_repeat_vector_infer, NULL, osh_repeat_vector_run),
  /* Known classes that hold Python code: shapes unknown, running refused with a reason. */
  SHAPE_ONLY ("Lambda", unknown_infer),
};
/* clang-format on */

/* Like ggml's op tables: adding a class without counting it here fails the build. */
#define KERAS_OP_COUNT 51
static_assert (sizeof keras_ops / sizeof keras_ops[0] == KERAS_OP_COUNT,
               "keras_ops changed: update KERAS_OP_COUNT (and engine/ops/README.md)");

/* Keras is the IR's own dialect: layer paths, Keras code and configs, Keras's wording. */
const OshDialect osh_keras_dialect = {
  .name = "keras",
  .title = "Keras",
  .ops = keras_ops,
  .n_ops = KERAS_OP_COUNT,
  .nested_paths = true,
  .keras_writable = true,
  .wording = OSH_WORDING_KERAS,
};

const OshOp *
osh_op_find (const OshGraph *g, const char *class_name)
{
  if (!class_name)
    return NULL;
  /* Dialects share class names with different meanings (ONNX's Reshape, Flatten, Softmax):
   * a graph only ever uses its own dialect's table. */
  const OshDialect *d = osh_dialect_of (g);
  for (int i = 0; i < d->n_ops; i++)
    if (strcmp (d->ops[i].name, class_name) == 0)
      return &d->ops[i];
  return NULL;
}

unsigned
osh_op_call_cats (const OshOpCall *c)
{
  const OshOp *op = c->layer ? osh_op_find (c->graph, c->layer->class_name) : NULL;
  return op ? op->cats : 0;
}

bool
osh_op_call_is (const OshOpCall *c, unsigned cats)
{
  return (osh_op_call_cats (c) & cats) == cats;
}
