/* The ONNX op table, consulted by osh_op_find after the Keras table (engine/ops/osh-op.h).
 * Empty for now: the ONNX work adds one entry per ONNX op type here. */
#include <assert.h>

#include "osh-op.h"

const OshOp osh_onnx_ops[] = {
  { "", NULL, NULL, NULL }, /* placeholder so the array is not empty; never matched */
};

#define ONNX_OP_COUNT 0
const int osh_onnx_ops_count = ONNX_OP_COUNT;
static_assert (sizeof osh_onnx_ops / sizeof osh_onnx_ops[0] >= ONNX_OP_COUNT,
               "osh_onnx_ops has fewer entries than ONNX_OP_COUNT");
