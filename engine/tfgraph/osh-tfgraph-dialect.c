/* The TF graph dialect: what a TF.js graph model (TensorFlow ops, NHWC, '/'-scoped node names)
 * tells the generic code through its OshDialect (osh-dialect.h). */
#include "osh-dialect.h"
#include "osh-onnx.h"
#include "osh-tfgraph.h"

const OshDialect osh_tfgraph_dialect = {
  .name = "tfgraph",
  .title = "TF.js graph model",
  /* Saved as a graph model again (engine/io/osh-tfjs-graph-write.c). */
  .own_format = ".json",
  .ops = osh_tfgraph_ops,
  .n_ops = OSH_TFGRAPH_OP_COUNT,
  .nested_paths = false,
  .keras_writable = false,
  .channels_last_pass = false,
  .wording = OSH_WORDING_NODE_INPUT,
  /* Heads are Keras layers; here they become TF nodes (Conv2D, BiasAdd, FusedBatchNormV3...). */
  .lower_keras_layer = osh_tfgraph_lower_keras_layer,
  /* Shape of a now-known size and what follows from constants alone: the same folding as
   * ONNX's, through this dialect's table. */
  .fold_constants = osh_onnx_fold_constants,
  .check_runnable = osh_tfgraph_check_runnable,
  /* Each node as the op Offshoot runs it on (tfgraph-to-onnx.c). */
  .to_onnx = osh_tfgraph_to_onnx,
};
