/* The ONNX dialect: what an ONNX graph (NCHW ops, flat node names, tensor names of the file)
 * tells the generic code through its OshDialect (osh-dialect.h). The ONNX reader and the
 * Keras → ONNX exporter set it on the graphs they make. */
#include "osh-dialect.h"
#include "osh-onnx.h"
#include "osh-op.h"

const OshDialect osh_onnx_dialect = {
  .name = "onnx",
  .title = "ONNX",
  .own_format = ".onnx",
  .ops = osh_onnx_ops,
  .n_ops = OSH_ONNX_OP_COUNT,
  .nested_paths = false,
  .keras_writable = false,
  .channels_last_pass = true,
  .wording = OSH_WORDING_NODE_INPUT,
  .find_tensor = osh_onnx_find_tensor,
  .tensor_name = osh_onnx_tensor_name,
  .lower_keras_layer = osh_onnx_lower_keras_layer,
  .fold_constants = osh_onnx_fold_constants,
};
