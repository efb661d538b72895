/* The TF graph dialect: what a TF.js graph model (TensorFlow ops, NHWC, '/'-scoped node names)
 * tells the generic code through its OshDialect (osh-dialect.h). */
#include "osh-dialect.h"
#include "osh-onnx.h"
#include "osh-tfgraph.h"

/* Heads are Keras layers; in a TF graph a class name is a TF op ("Conv2D" with TF's attrs), so
 * a head cannot be added as it is, and no lowering to TF ops exists yet. */
static bool
refuse_heads (OshGraph *g, const OshLayer *layer, const OshShape *in, const OshShape *out,
              OshRef *x, OshError *err)
{
  (void) g;
  (void) in;
  (void) out;
  (void) x;
  return osh_fail (err, OSH_ERR_UNSUPPORTED,
                   "heads cannot be attached to a TF.js graph model yet (the head's %s has no TF "
                   "op form); open the Keras model it was converted from, or an ONNX conversion "
                   "of it (tf2onnx), to attach heads",
                   layer->class_name);
}

const OshDialect osh_tfgraph_dialect = {
  .name = "tfgraph",
  .title = "TF.js graph model",
  .own_format = NULL,
  .ops = osh_tfgraph_ops,
  .n_ops = OSH_TFGRAPH_OP_COUNT,
  .nested_paths = false,
  .keras_writable = false,
  .channels_last_pass = false,
  .wording = OSH_WORDING_NODE_INPUT,
  .lower_keras_layer = refuse_heads,
  /* Shape of a now-known size and what follows from constants alone: the same folding as
   * ONNX's, through this dialect's table. */
  .fold_constants = osh_onnx_fold_constants,
  .check_runnable = osh_tfgraph_check_runnable,
  .save_refusal = "saving a TF.js graph model is not supported yet (Offshoot opens, inspects, "
                  "draws and runs it)",
};
