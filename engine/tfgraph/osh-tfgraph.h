/* osh-tfgraph.h — how TF.js graph models (converted TensorFlow graphs) sit in the IR.
 *
 * A TF.js graph model's model.json has "format": "graph-model", a node list
 * (modelTopology.node: name, op, inputs, attrs) and a weights manifest naming the Const nodes'
 * values. One TF node becomes one layer with one node:
 *  - class_name is the TF op ("Conv2D", "_FusedConv2D", "AddV2", ...); a Placeholder is an
 *    "InputLayer" with "batch_input_shape" (null for -1 sizes) and "tf_op": "Placeholder";
 *  - config holds the attributes by name, decoded: strings (base64 in the file) as strings,
 *    ints, floats, bools, types ("DT_FLOAT") and lists as JSON; shapes as lists of sizes;
 *  - Const nodes (and Identity of a Const) are no layers: a node reading one gets its value as
 *    a weight (named after the Const), and the layer's slots (OshSlot) say for every input in
 *    the op's order whether it is a tensor or a weight, as ONNX layers do;
 *  - "name:1" reads output 1 of node "name"; "^name" (a control edge) is left out.
 * The graph's dialect is osh_tfgraph_dialect, its layout channels-last (NHWC, TF's). The
 * layer names keep TF's '/'-separated name scopes; the app groups boxes by them.
 *
 * The ops run on the engine's existing kernels: each row of the op table (osh-tfgraph-ops.c)
 * translates the TF node into the Keras layer or ONNX node with the same semantics (a
 * Conv2D into Keras's Conv2D, an AddV2 into ONNX's broadcasting Add) and calls that op (see
 * tfgraph-shadow.h).
 */
#pragma once

#include "osh-graph.h"
#include "osh-op.h"

/* The dialect of TF.js graph models (osh-tfgraph-dialect.c), set by the reader. */
extern const OshDialect osh_tfgraph_dialect;

/* The op table (osh-tfgraph-ops.c). */
#define OSH_TFGRAPH_OP_COUNT 94
extern const OshOp osh_tfgraph_ops[OSH_TFGRAPH_OP_COUNT];

/* A Const node's value from the weights manifest. */
typedef struct
{
  const char *name;
  OshTensor *value;
} OshTfConst;

/* The graph of a model.json document `doc` whose "format" is "graph-model", with the Const
 * values `consts` (taken over, freed here, also on failure). `path` names the file in
 * messages. Ops Offshoot has no kernel for still load (their shapes unknown); running lists
 * them all (osh_tfgraph_check_runnable). */
OshGraph *osh_tfgraph_build (const char *path, const json_t *doc, OshTfConst *consts, int n_consts,
                             OshError *err);

/* Fails, naming every op of `g` the table has no row for and how many nodes use it, when
 * there is one. */
bool osh_tfgraph_check_runnable (const OshGraph *g, OshError *err);

/* Config key of an InputLayer made from a TF node: the op it came from ("Placeholder"). */
#define OSH_TFGRAPH_OP "tf_op"

/* g->meta key: the names of the constants tfjs holds as int32 (axes, shapes, indices), which
 * the IR holds as floats like every value; the graph-model writer stores them as int32 again.
 * The reader fills it from the manifest's dtypes, head lowering adds its own. */
#define OSH_TFGRAPH_INT32_CONSTS "tf_int32_consts"

/* g->meta key: how the manifest stored each constant that is not plain float32 or int32 —
 * {name: {"dtype", "quantization"}} as read (float16, uint8/uint16 quantized, bool), so the
 * graph-model writer stores a weight no edit changed in its own form again. */
#define OSH_TFGRAPH_STORED_AS "tf_stored_as"

/* model.json's userDefinedMetadata key listing the head layers Offshoot attached (its
 * OSH_META_HEADS), so a saved graph model still shows them as heads when opened again. */
#define OSH_TFGRAPH_HEADS_KEY "offshoot_heads"

/* The dialect's lower_keras_layer (tfgraph-lower-heads.c): a head step as TF nodes on *x. */
bool osh_tfgraph_lower_keras_layer (OshGraph *g, const OshLayer *layer, const OshShape *in,
                                    const OshShape *out, OshRef *x, OshError *err);

/* The graph (this dialect) as an ONNX graph (osh-onnx.h's form) that the ONNX writer saves:
 * TF's NHWC inputs and outputs and names kept, each node written as the op Offshoot runs it on
 * (tfgraph-to-onnx.c). Fails naming every op with no ONNX form. */
OshGraph *osh_tfgraph_to_onnx (const OshGraph *g, OshError *err);
