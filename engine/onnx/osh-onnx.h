/* osh-onnx.h — how ONNX graphs sit in the IR (shared by the ONNX reader, writer and ops).
 *
 * One ONNX node becomes one layer with one node:
 *  - class_name is the op type ("Conv", "Relu", ...); ops outside the default domain are
 *    "domain:Op";
 *  - config holds the attributes by name (ints, floats, strings and lists as JSON; tensor
 *    attributes as {"dims": [...], "data": [...]}) plus "onnx_output_names", the node's output
 *    tensor names as the file has them;
 *  - initializer and Constant inputs become the layer's weights (named as the file names
 *    them), tensor inputs the node's inputs; the layer's typed slots (OshSlot, osh-graph.h) say
 *    for every input in the op's order which it is, or that it is absent;
 *  - Graph inputs become InputLayer layers with "batch_input_shape" (null for symbolic sizes).
 *    A tensor that a node reads but nothing produces (not a graph input, an initializer or a
 *    node output) becomes an InputLayer too, marked OSH_INPUT_UNPRODUCED (osh-graph.h) and left
 *    out of the graph inputs: the graph loads, and the connectivity analysis reports it as a
 *    foreign root. A graph output that is a constant (an initializer, a Constant's value)
 *    becomes an Identity layer of that value (weight "<name> (value)") under the output's name.
 * The graph's dialect is osh_onnx_dialect and its layout OSH_LAYOUT_CHANNELS_FIRST; g->meta holds
 * "onnx_ir_version", "onnx_opset" (the default domain's version) and "onnx_producer".
 */
#pragma once

#include <stddef.h>

#include "osh-graph.h"
#include "osh-op.h"

/* The dialect of ONNX graphs (osh-onnx-dialect.c): set by the reader and the exporter. */
extern const OshDialect osh_onnx_dialect;

/* The ONNX op table (osh-onnx-ops.c), reached through osh_onnx_dialect. */
#define OSH_ONNX_OP_COUNT 96
extern const OshOp osh_onnx_ops[OSH_ONNX_OP_COUNT];

/* ---- Keras layers as ONNX nodes (osh-onnx-lower.c): one rule per layer class, for the
 * exporter and for heads ---- */

/* A Keras tensor on the ONNX side. */
typedef struct
{
  OshRef ref;     /* the ONNX tensor */
  bool nchw;      /* a 4-D Keras tensor, held NCHW */
  OshShape shape; /* its Keras (channels-last) shape */
} OshOnnxValue;

typedef struct
{
  OshGraph *o;  /* the ONNX graph the nodes go into */
  bool keras3;  /* hard_sigmoid as Keras 3 defines it (relu6 (x + 3) / 6), not 0.2x + 0.5 */
  bool as_head; /* name nodes after the layer, weights trainable (see osh-onnx-lower.c) */
  int counter;  /* numbers the exporter's node names */
  OshError *err;
} OshOnnxLowering;

/* Appends the nodes computing Keras layer `l` on its n_in inputs; out->shape is the layer's
 * Keras output shape, given, and out->ref (and nchw) are set. OSH_ERR_UNSUPPORTED, naming the
 * layer, for a layer with no ONNX form. */
bool osh_onnx_lower_layer (OshOnnxLowering *c, const OshLayer *l, const OshOnnxValue *in, int n_in,
                           OshOnnxValue *out);
/* A Transpose of 4-D x to NCHW (to_nchw) or back to NHWC, named after `base`. */
OshRef osh_onnx_lower_transpose (OshOnnxLowering *c, const char *base, OshRef x, bool to_nchw);
/* The dialect's lower_keras_layer: a head step, as_head, on *x. */
bool osh_onnx_lower_keras_layer (OshGraph *g, const OshLayer *layer, const OshShape *in,
                                 const OshShape *out, OshRef *x, OshError *err);

#define OSH_ONNX_OUTPUT_NAMES "onnx_output_names"
/* A QuantizeLinear's, QLinearConv's or QLinearMatMul's config: the ONNX element type of its
 * output zero point (2 uint8, 3 int8), which decides the range it saturates to; the reader
 * records it. */
#define OSH_ONNX_ZERO_POINT_TYPE "onnx_zero_point_type"
/* A Div's config: true when it divides integers (shape arithmetic: 45 / 2 is 22), which
 * truncates toward zero as ONNX Runtime's integer division does. */
#define OSH_ONNX_INTEGER_DIVISION "onnx_integer_division"

/* The ONNX element type (TensorProto.DataType: 1 float, 7 int64, ...) of a serialized
 * TensorProto, or -1 when the bytes are not one. */
int osh_onnx_tensor_type (const void *data, size_t size);

/* Turns graph input `input` (an index into g->inputs) into a constant with `value`: every
 * node that read it gets it as a weight instead, as if it had been an initializer. Used to fix
 * shape parameters (Reshape's shape, Slice's starts) that a model takes as inputs. */
bool osh_onnx_fold_input (OshGraph *g, int input, const OshTensor *value, OshError *err);

/* A Keras-family graph as an ONNX graph (opset 13) computing the same outputs from the same
 * NHWC inputs; OSH_ERR_UNSUPPORTED names the first layer that has no ONNX form yet. */
OshGraph *osh_onnx_from_keras (const OshGraph *keras, OshError *err);

/* A serialized TensorProto (the conformance suite's input_0.pb / output_0.pb) as float32. */
OshTensor *osh_onnx_tensor_read (const char *name, const void *data, size_t size, OshError *err);

/* The ONNX name of tensor `ref` (a graph input's name, the stored output name, or
 * "<node>_output_<i>" for one without); malloc'd, NULL when `ref` is not a tensor of `g`. */
char *osh_onnx_tensor_name (const OshGraph *g, OshRef ref);
/* True when input `slot` of ONNX op `op` is typed int64 (shapes, axes, indices, pads); every
 * other tensor Offshoot writes is float. */
bool osh_onnx_int64_input (const char *op, size_t slot);

/* The tensor whose ONNX name is `name`, or { -1, 0 }. */
OshRef osh_onnx_find_tensor (const OshGraph *g, const char *name);

/* Runs `layer` (an ONNX op whose data inputs are all weights; `in` gives the shapes of its
 * tensor inputs for ops that read only shapes, like Shape) and returns its n_out outputs as new
 * tensors in outs. False when the op cannot be computed this way. */
bool osh_onnx_eval_constant (const OshGraph *g, const OshLayer *layer, const OshShape *in, int n_in,
                             OshTensor **outs, int n_out, OshError *err);

/* The dialect's fold_constants, once osh_graph_specialize fixed the symbolic input sizes: folds
 * Shape of a tensor whose shape is now known, and every node computed only from constants after
 * that, so Reshape targets computed from shapes (Shape -> Slice -> Concat -> Reshape) become
 * constants and the graph runs. */
bool osh_onnx_fold_constants (OshGraph *g, OshError *err);
