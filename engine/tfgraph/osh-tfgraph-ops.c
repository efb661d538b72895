/* The TF op table, consulted by osh_op_find for TF.js graph models (engine/ops/osh-op.h). A row
 * per TF op: most run as the Keras layer or ONNX node with the same semantics (tfgraph-shadow.c
 * and tfgraph-translate.c); what has no counterpart has a kernel of its own (tfgraph-resize.c,
 * tfgraph-index.c, tfgraph-elementwise.c). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-index.h"
#include "tfgraph-ops.h"
#include "tfgraph-shadow.h"

/* Loading never fails on what Offshoot cannot run (as ONNX's table): an op whose translation
 * or shape needs something unsupported gets unknown output shapes, so the model opens and
 * draws; preparing a run reports the reason. */
static bool
soft (bool (*infer) (OshOpCall *, OshError *), OshOpCall *c, OshError *err)
{
  OshError local = { 0 };
  if (infer (c, &local))
    return true;
  bool open = false;
  for (int i = 0; i < c->n_in; i++)
    for (int d = 0; d < c->in[i].rank; d++)
      open |= c->in[i].dim[d] < 0;
  if (local.code == OSH_ERR_UNSUPPORTED || local.code == OSH_ERR_SHAPE || open
      || local.code == OSH_ERR_FORMAT)
    {
      for (int i = 0; i < c->n_out; i++)
        c->out[i].rank = 0;
      return true;
    }
  if (err)
    *err = local;
  return false;
}

static bool
soft_infer (OshOpCall *c, OshError *err)
{
  return soft (tf_infer, c, err);
}

#define SOFT(f)                                                                                    \
  static bool soft_##f (OshOpCall *c, OshError *err) { return soft (tf_##f, c, err); }
SOFT (resize_infer)
SOFT (argmax_infer)
SOFT (gather_nd_infer)
SOFT (topk_infer)
SOFT (onehot_infer)
SOFT (ew_infer)
SOFT (like_infer)
SOFT (fill_infer)
#undef SOFT

/* The op table reads as a table, a row a line: clang-format leaves it alone. */
/* clang-format off */
#define ROW(name) { name, soft_infer, tf_prepare, tf_run }
const OshOp osh_tfgraph_ops[] = {
  ROW ("InputLayer"), /* Placeholder */
  ROW ("Identity"), ROW ("StopGradient"), ROW ("Cast"), ROW ("Shape"),
  /* convolutions, pooling, normalisation: Keras layers */
  ROW ("Conv2D"), ROW ("_FusedConv2D"), ROW ("DepthwiseConv2dNative"),
  ROW ("FusedDepthwiseConv2dNative"), ROW ("Conv2DBackpropInput"),
  ROW ("MatMul"), ROW ("_FusedMatMul"), ROW ("MaxPool"), ROW ("AvgPool"),
  ROW ("FusedBatchNorm"), ROW ("FusedBatchNormV3"),
  /* element-wise: ONNX nodes */
  ROW ("Relu"), ROW ("Relu6"), ROW ("Elu"), ROW ("Selu"), ROW ("LeakyRelu"), ROW ("Prelu"),
  ROW ("Sigmoid"), ROW ("Tanh"), ROW ("Softplus"), ROW ("Softmax"), ROW ("LogSoftmax"),
  ROW ("Exp"), ROW ("Log"), ROW ("Sqrt"), ROW ("Rsqrt"), ROW ("Square"), ROW ("Neg"),
  ROW ("Abs"), ROW ("Floor"), ROW ("Ceil"), ROW ("Round"), ROW ("Reciprocal"), ROW ("Sign"),
  ROW ("Erf"),
  ROW ("Add"), ROW ("AddV2"), ROW ("BiasAdd"), ROW ("AddN"), ROW ("Sub"), ROW ("Mul"),
  ROW ("RealDiv"), ROW ("Div"), ROW ("Maximum"), ROW ("Minimum"), ROW ("Pow"),
  ROW ("FloorDiv"), ROW ("SquaredDifference"),
  /* reductions and shapes: ONNX nodes */
  ROW ("Mean"), ROW ("Sum"), ROW ("Max"), ROW ("Min"),
  ROW ("ConcatV2"), ROW ("Reshape"), ROW ("Squeeze"), ROW ("ExpandDims"), ROW ("Transpose"),
  ROW ("Slice"), ROW ("StridedSlice"), ROW ("Pack"), ROW ("Unpack"), ROW ("Split"),
  ROW ("SplitV"), ROW ("GatherV2"), ROW ("Pad"), ROW ("PadV2"), ROW ("MirrorPad"),
  ROW ("Range"),
  /* tfgraph-resize.c */
  { "ResizeBilinear", soft_resize_infer, tf_resize_prepare, tf_resize_run },
  { "ResizeNearestNeighbor", soft_resize_infer, tf_resize_prepare, tf_resize_run },
  /* tfgraph-index.c */
  { "ArgMax", soft_argmax_infer, tf_argmax_prepare, onnx_argmax_run },
  { "GatherNd", soft_gather_nd_infer, tf_gather_nd_prepare, onnx_gathernd_run },
  { "TopKV2", soft_topk_infer, tf_topk_prepare, onnx_topk_run },
  { "OneHot", soft_onehot_infer, tf_onehot_prepare, onnx_onehot_run },
  /* tfgraph-elementwise.c */
#define EW(name) { name, soft_ew_infer, tf_ew_prepare, onnx_logic_run }
  EW ("Equal"), EW ("NotEqual"), EW ("Greater"), EW ("GreaterEqual"), EW ("Less"),
  EW ("LessEqual"), EW ("LogicalAnd"), EW ("LogicalOr"), EW ("LogicalNot"), EW ("FloorMod"),
  EW ("Select"), EW ("SelectV2"),
#undef EW
  { "ZerosLike", soft_like_infer, tf_like_prepare, tf_like_run },
  { "OnesLike", soft_like_infer, tf_like_prepare, tf_like_run },
  { "Fill", soft_fill_infer, tf_fill_prepare, tf_fill_run },
};
/* clang-format on */

static_assert (sizeof osh_tfgraph_ops / sizeof osh_tfgraph_ops[0] == OSH_TFGRAPH_OP_COUNT,
               "OSH_TFGRAPH_OP_COUNT (osh-tfgraph.h) must match the rows of osh_tfgraph_ops");

bool
osh_tfgraph_check_runnable (const OshGraph *g, OshError *err)
{
  char text[1024] = "";
  size_t len = 0;
  int kinds = 0, nodes = 0;
  for (int i = 0; i < g->n_layers; i++)
    {
      const char *op = g->layers[i].class_name;
      if (osh_op_find (g, op))
        continue;
      nodes++;
      bool seen = false;
      for (int j = 0; j < i && !seen; j++)
        seen = strcmp (g->layers[j].class_name, op) == 0;
      if (seen)
        continue;
      int count = 0;
      for (int j = i; j < g->n_layers; j++)
        count += strcmp (g->layers[j].class_name, op) == 0;
      kinds++;
      if (len < sizeof text - 64)
        len += (size_t) snprintf (text + len, sizeof text - len, "%s%s (%d node%s)",
                                  kinds > 1 ? ", " : "", op, count, count == 1 ? "" : "s");
    }
  if (!kinds)
    return true;
  return osh_fail (err, OSH_ERR_UNSUPPORTED,
                   "the graph model uses %d TensorFlow op%s Offshoot has no kernel for, in %d "
                   "node%s: %s",
                   kinds, kinds == 1 ? "" : "s", nodes, nodes == 1 ? "" : "s", text);
}
