/* The ONNX op table, consulted by osh_op_find for ONNX graphs (engine/ops/osh-op.h).
 * One row per op type; the kernels live in engine/onnx/onnx-<family>.c. */
#include <assert.h>

#include "onnx-op-util.h"

/* Loading never fails on what Offshoot cannot run: an op whose shape needs something
 * unsupported (a computed Reshape target, a 3-D convolution) gets unknown output shapes, so
 * the model still opens and draws; preparing a run reports the reason. */
static bool
soft_infer (OshOpInferFn infer, OshOpCall *c, OshError *err)
{
  OshError local = { 0 };
  if (infer (c, &local))
    return true;
  if (local.code == OSH_ERR_UNSUPPORTED)
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
FAMILY (pad) FAMILY (resize) FAMILY (expand)
#undef FAMILY

#define ROW(name, family) { name, family##_infer, family##_prepare, onnx_##family##_run }

const OshOp osh_onnx_ops[] = {
  ROW ("InputLayer", input), /* graph inputs */
  { "Conv", conv_infer, conv_prepare, onnx_conv_run, onnx_conv_absorb },
  ROW ("ConvTranspose", convtr),
  ROW ("BatchNormalization", batchnorm),
  ROW ("Gemm", gemm), ROW ("MatMul", matmul),
  ROW ("MaxPool", pool), ROW ("AveragePool", pool), ROW ("GlobalAveragePool", pool),
  ROW ("GlobalMaxPool", pool),
  ROW ("Softmax", softmax), ROW ("LogSoftmax", softmax),
  ROW ("ReduceMean", reduce), ROW ("ReduceSum", reduce), ROW ("ReduceMax", reduce),
  ROW ("ReduceMin", reduce),
  ROW ("Add", binary), ROW ("Sub", binary), ROW ("Mul", binary), ROW ("Div", binary),
  ROW ("Pow", binary), ROW ("Max", binary), ROW ("Min", binary), ROW ("Sum", binary),
  ROW ("Mean", binary), ROW ("PRelu", binary),
  ROW ("Relu", unary), ROW ("Sigmoid", unary), ROW ("Tanh", unary), ROW ("LeakyRelu", unary),
  ROW ("Elu", unary), ROW ("Selu", unary), ROW ("Celu", unary), ROW ("HardSigmoid", unary),
  ROW ("HardSwish", unary), ROW ("Clip", unary), ROW ("Softplus", unary), ROW ("Softsign", unary),
  ROW ("Exp", unary), ROW ("Log", unary), ROW ("Sqrt", unary), ROW ("Neg", unary),
  ROW ("Abs", unary), ROW ("Reciprocal", unary), ROW ("Floor", unary), ROW ("Ceil", unary),
  ROW ("Round", unary), ROW ("Erf", unary), ROW ("Sin", unary), ROW ("Cos", unary),
  ROW ("Sign", unary), ROW ("ThresholdedRelu", unary), ROW ("Mish", unary), ROW ("Gelu", unary),
  ROW ("Identity", unary), ROW ("Dropout", unary), ROW ("Cast", unary),
  ROW ("Reshape", layout), ROW ("Flatten", layout), ROW ("Squeeze", layout),
  ROW ("Unsqueeze", layout),
  ROW ("Transpose", transpose), ROW ("Concat", concat), ROW ("Split", split),
  ROW ("Slice", slice), ROW ("Gather", gather), ROW ("Shape", shape),
  ROW ("Pad", pad), ROW ("Resize", resize), ROW ("Upsample", resize),
  ROW ("Expand", expand), ROW ("Tile", expand),
};

#define ONNX_OP_COUNT 72
const int osh_onnx_ops_count = ONNX_OP_COUNT;
static_assert (sizeof osh_onnx_ops / sizeof osh_onnx_ops[0] == ONNX_OP_COUNT,
               "ONNX_OP_COUNT must match the rows of osh_onnx_ops");
