/* The ONNX op table, consulted by osh_op_find for ONNX graphs (engine/ops/osh-op.h).
 * One row per op type; the kernels live in engine/onnx/onnx-<family>.c. */
#include <assert.h>

#include "onnx-op-util.h"

/* True when an input of the call has an open size (-1). */
static bool
open_input (const OshOpCall *c)
{
  for (int i = 0; i < c->n_in; i++)
    for (int d = 0; d < c->in[i].rank; d++)
      if (c->in[i].dim[d] < 0)
        return true;
  return false;
}

/* Loading never fails on what Offshoot cannot run: an op whose shape needs something
 * unsupported (a computed Reshape target, a 3-D convolution) gets unknown output shapes, so
 * the model still opens and draws; preparing a run reports the reason. So does a shape check
 * that open sizes (-1) defeat: the sizes are checked once osh_graph_specialize fixes them. */
static bool
soft_infer (OshOpInferFn infer, OshOpCall *c, OshError *err)
{
  OshError local = { 0 };
  if (infer (c, &local))
    return true;
  if (local.code == OSH_ERR_UNSUPPORTED || (local.code == OSH_ERR_SHAPE && open_input (c)))
    {
      for (int i = 0; i < c->n_out; i++)
        c->out[i].rank = 0;
      return true;
    }
  if (err)
    *err = local;
  return false;
}

/* Preparing a run checks strictly what loading let pass. */
/* The op table reads as a table, a row a line: clang-format leaves it alone. */
/* clang-format off */
#define FAMILY(f)                                                                                  \
  static bool f##_infer (OshOpCall *c, OshError *err)                                              \
  {                                                                                                \
    return soft_infer (onnx_##f##_infer, c, err);                                                  \
  }                                                                                                \
  static bool f##_prepare (OshOpCall *c, OshError *err)                                            \
  {                                                                                                \
    return onnx_##f##_infer (c, err) && onnx_##f##_prepare (c, err);                               \
  }
FAMILY (unary) FAMILY (binary) FAMILY (conv) FAMILY (convtr) FAMILY (pool) FAMILY (batchnorm)
FAMILY (softmax) FAMILY (reduce) FAMILY (gemm) FAMILY (matmul) FAMILY (layout) FAMILY (transpose)
FAMILY (concat) FAMILY (split) FAMILY (slice) FAMILY (gather) FAMILY (shape) FAMILY (input)
FAMILY (pad) FAMILY (resize) FAMILY (expand) FAMILY (fill) FAMILY (range)
FAMILY (qlinear) FAMILY (dynquant) FAMILY (convint) FAMILY (matint)
FAMILY (argmax) FAMILY (topk) FAMILY (gathernd) FAMILY (onehot) FAMILY (logic)
#undef FAMILY

#define ROW(name, family) { name, family##_infer, family##_prepare, onnx_##family##_run }
/* A row whose op can also run channels-last (OshOpChannelsLastFn). */
#define ROW_NHWC(name, family)                                                                     \
  { name, family##_infer, family##_prepare, onnx_##family##_run, NULL,                             \
    onnx_##family##_channels_last }
/* Channels-last, and folds what follows (OshOpAbsorbFn); of the categories `cats` (OshOpCat). */
#define ROW_FUSING_AS(name, family, cats)                                                          \
  { name, family##_infer, family##_prepare, onnx_##family##_run, onnx_##family##_absorb,           \
    onnx_##family##_channels_last, cats }
#define ROW_FUSING(name, family) ROW_FUSING_AS (name, family, 0)
/* Channels-last, of the categories `cats`. */
#define ROW_NHWC_AS(name, family, cats)                                                            \
  { name, family##_infer, family##_prepare, onnx_##family##_run, NULL,                             \
    onnx_##family##_channels_last, cats }

const OshOp osh_onnx_ops[] = {
  ROW ("InputLayer", input), /* graph inputs */
  ROW_FUSING_AS ("Conv", conv, OSH_CAT_CONV),
  ROW ("ConvTranspose", convtr),
  ROW_NHWC_AS ("BatchNormalization", batchnorm, OSH_CAT_AFFINE),
  ROW ("Gemm", gemm), ROW ("MatMul", matmul),
  ROW_NHWC ("MaxPool", pool), ROW_NHWC ("AveragePool", pool),
  ROW_NHWC_AS ("GlobalAveragePool", pool, OSH_CAT_GLOBAL_MEAN),
  ROW_NHWC ("GlobalMaxPool", pool),
  ROW ("Softmax", softmax), ROW ("LogSoftmax", softmax),
  ROW ("ReduceMean", reduce), ROW ("ReduceSum", reduce), ROW ("ReduceMax", reduce),
  ROW ("ReduceMin", reduce),
  /* by a constant: an affine map; of two tensors: a sum or a product */
  ROW_FUSING_AS ("Add", binary, OSH_CAT_SUM | OSH_CAT_AFFINE),
  ROW_FUSING_AS ("Sub", binary, OSH_CAT_AFFINE),
  ROW_FUSING_AS ("Mul", binary, OSH_CAT_PRODUCT | OSH_CAT_AFFINE),
  ROW_FUSING_AS ("Div", binary, OSH_CAT_AFFINE),
  ROW_FUSING ("Pow", binary), ROW_FUSING ("Max", binary), ROW_FUSING ("Min", binary),
  ROW_FUSING_AS ("Sum", binary, OSH_CAT_SUM), /* of two inputs: an Add */
  ROW_FUSING ("Mean", binary), ROW_FUSING ("PRelu", binary),
  ROW_NHWC_AS ("Relu", unary, OSH_CAT_EPILOGUE),
  ROW_NHWC_AS ("Sigmoid", unary, OSH_CAT_SIGMOID | OSH_CAT_EPILOGUE), ROW_NHWC ("Tanh", unary),
  ROW_NHWC ("LeakyRelu", unary),
  ROW_NHWC ("Elu", unary), ROW_NHWC ("Selu", unary), ROW_NHWC ("Celu", unary),
  ROW_NHWC_AS ("HardSigmoid", unary, OSH_CAT_EPILOGUE),
  ROW_NHWC_AS ("HardSwish", unary, OSH_CAT_EPILOGUE),
  ROW_NHWC_AS ("Clip", unary, OSH_CAT_EPILOGUE), ROW_NHWC ("Softplus", unary),
  ROW_NHWC ("Softsign", unary),
  ROW_NHWC ("Exp", unary), ROW_NHWC ("Log", unary), ROW_NHWC ("Sqrt", unary),
  ROW_NHWC ("Neg", unary),
  ROW_NHWC ("Abs", unary), ROW_NHWC ("Reciprocal", unary), ROW_NHWC ("Floor", unary),
  ROW_NHWC ("Ceil", unary),
  ROW_NHWC ("Round", unary), ROW_NHWC ("Erf", unary), ROW_NHWC ("Sin", unary),
  ROW_NHWC ("Cos", unary),
  ROW_NHWC ("Sign", unary), ROW_NHWC ("ThresholdedRelu", unary), ROW_NHWC ("Mish", unary),
  ROW_NHWC ("Gelu", unary),
  ROW_NHWC_AS ("Identity", unary, OSH_CAT_COPY), ROW_NHWC ("Dropout", unary),
  ROW_NHWC ("Cast", unary),
  ROW ("Reshape", layout), ROW ("Flatten", layout), ROW ("Squeeze", layout),
  ROW ("Unsqueeze", layout),
  ROW ("Transpose", transpose), ROW_NHWC ("Concat", concat), ROW ("Split", split),
  ROW ("Slice", slice), ROW ("Gather", gather), ROW ("Shape", shape),
  { "Pad", pad_infer, pad_prepare, onnx_pad_run, NULL, NULL, OSH_CAT_ZERO_PAD }, /* when constant 0 */ ROW_NHWC ("Resize", resize), ROW_NHWC ("Upsample", resize),
  ROW ("Expand", expand), ROW ("Tile", expand),
  ROW ("ConstantOfShape", fill), ROW ("Range", range),
  ROW ("QuantizeLinear", qlinear), ROW ("DequantizeLinear", qlinear),
  ROW ("DynamicQuantizeLinear", dynquant), ROW ("ConvInteger", convint),
  ROW ("MatMulInteger", matint), ROW ("QLinearConv", convint), ROW ("QLinearMatMul", matint),
  ROW ("ArgMax", argmax), ROW ("TopK", topk), ROW ("GatherND", gathernd), ROW ("OneHot", onehot),
  ROW ("Equal", logic), ROW ("Greater", logic), ROW ("GreaterOrEqual", logic), ROW ("Less", logic),
  ROW ("LessOrEqual", logic), ROW ("And", logic), ROW ("Or", logic), ROW ("Xor", logic),
  ROW ("Not", logic), ROW ("Where", logic), ROW ("Mod", logic),
};
/* clang-format on */

static_assert (sizeof osh_onnx_ops / sizeof osh_onnx_ops[0] == OSH_ONNX_OP_COUNT,
               "OSH_ONNX_OP_COUNT (osh-onnx.h) must match the rows of osh_onnx_ops");
