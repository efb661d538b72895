/* osh-dialect.h — what a graph's dialect decides, so generic code never asks "is this ONNX?".
 *
 * Keras layers (NHWC), ONNX ops (NCHW) and TensorFlow graph ops (TF.js graph models, NHWC,
 * engine/tfgraph/) are dialects of the one IR. The reader sets g->dialect; NULL is Keras, the IR's own dialect (its op table is
 * engine/ops/osh-op-table.c). Shapes, exec, edit and app read a graph's dialect through
 * osh_dialect_of (osh-op.h) and call its hooks; a hook left NULL means "as Keras does it".
 *
 *   const OshDialect *d = osh_dialect_of (g);
 *   OshRef t = d->find_tensor ? d->find_tensor (g, name) : (OshRef){ -1, 0 };
 *
 * A new dialect is one OshDialect value beside its reader (engine/onnx/osh-onnx-dialect.c is
 * the example); nothing generic changes.
 */
#pragma once

#include <stdbool.h>

#include "osh-error.h"
#include "osh-graph.h"

struct OshOp;

/* How "Graph disconnected" is worded for a graph of this dialect. */
typedef enum
{
  OSH_WORDING_KERAS,      /* Keras 2's message: the first tensor its graph walk cannot obtain */
  OSH_WORDING_NODE_INPUT, /* the first node (file order) reading a tensor nothing computes */
} OshDisconnectWording;

struct OshDialect
{
  const char *name;  /* "keras", "onnx": shown by inspect */
  const char *title; /* "Keras", "ONNX": in messages */
  /* The one file format a graph of this dialect is saved as (".onnx"); NULL: every Keras
   * format (.keras, .h5, TF.js model.json) and .onnx through the exporter. */
  const char *own_format;

  /* The op table, searched by class name (op type). */
  const struct OshOp *ops;
  int n_ops;

  /* Layer names with '/' are paths into nested models ("efficientnetb7/block5a_expand_conv");
   * false: names are flat and may hold '/' ("/layer2/layer2.1/relu_1/Relu"). */
  bool nested_paths;
  /* Edits can be written as Keras code and the graph as a Keras config (.keras, .h5, TF.js);
   * when false, own_format is set. */
  bool keras_writable;
  /* The executor may keep rank-4 values channels-last between steps that can work that way,
   * converting at the graph's channels-first edges (osh-plan-layout). */
  bool channels_last_pass;
  OshDisconnectWording wording;

  /* The tensor a user names when no layer has that name (a file's tensor name); { -1, 0 } when
   * none. NULL: only layers are named. */
  OshRef (*find_tensor) (const OshGraph *g, const char *name);
  /* The tensor's name as the file names it, malloc'd. NULL: its layer's path. */
  char *(*tensor_name) (const OshGraph *g, OshRef ref);

  /* Appends to `g` the nodes that compute Keras layer `layer` (a head step: its class, config
   * and weights in Keras's layout) on tensor *x, whose shape with channels last is `in`, giving
   * `out` (channels last too); *x becomes the result. NULL: the Keras layer is added to the
   * graph as it is. */
  bool (*lower_keras_layer) (OshGraph *g, const OshLayer *layer, const OshShape *in,
                             const OshShape *out, OshRef *x, OshError *err);

  /* Folds what became constant once osh_graph_specialize fixed the input sizes (ONNX: Shape of
   * a tensor whose shape is now known, and every node computed from constants alone after it);
   * the shapes are inferred again after. NULL: nothing to fold (Keras runs open sizes as they
   * are). */
  bool (*fold_constants) (OshGraph *g, OshError *err);

  /* Before a run is planned: fails naming every op of `g` that has no kernel (TF graphs hold
   * many ops Offshoot lacks; one error listing them beats one per attempt). NULL: the plan
   * reports the first such layer. */
  bool (*check_runnable) (const OshGraph *g, OshError *err);

  /* Why a graph of this dialect cannot be saved in any format (a sentence), or NULL. */
  const char *save_refusal;

  /* Also exports to ONNX (.onnx) beside own_format: the graph as an ONNX graph, a new graph the
   * caller frees, or NULL with the reason (an op with no ONNX form, sizes left open). The ONNX
   * writer converts with it, and osh_model_can_save asks it, so the two answer alike. NULL:
   * own_format only (Keras, whose own_format is NULL, exports through osh_onnx_from_keras). */
  OshGraph *(*to_onnx) (const OshGraph *g, OshError *err);
};
