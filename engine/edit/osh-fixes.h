/* osh-fixes.h — edits that make a disconnected graph connected.
 *
 *   OshConnectivity *c = osh_connectivity_analyze (g, &err);   // fills c->fixes
 *   const OshFix *fix = osh_fix_find (c, "flatten:efficientnetb7");
 *   OshGraph *fixed = fix ? osh_fix_apply (g, fix, &err) : NULL;  // g is never modified
 *
 * Kinds, in the order they are proposed:
 *  - rewire:LAYER      the consumer LAYER takes its tensor from the same-named layer of the
 *                      model instance that is computed (two instances of a backbone), flattening
 *                      that instance when it is nested; in an ONNX graph, a node reading a tensor
 *                      that nothing produces reads the tensor (or node) of the same name in this
 *                      graph instead ("backbone/x" or "x" -> "x");
 *  - flatten:MODEL     inline the nested MODEL into its owner, so its inner layers are computed
 *                      from the outer inputs (the StackOverflow answer's Model(en.input, ...));
 *  - add-input:PATH    make the foreign root PATH an input of the model;
 *  - drop-branch:NAME  remove the disconnected output NAME and the layers only it uses.
 */
#pragma once

#include "osh-connectivity.h"

typedef enum
{
  OSH_FIX_REWIRE,
  OSH_FIX_FLATTEN,
  OSH_FIX_ADD_INPUT,
  OSH_FIX_DROP_BRANCH,
} OshFixKind;

struct OshFix
{
  char *id;          /* "flatten:efficientnetb7", stable for a given graph */
  char *description; /* one sentence for a button or a report */
  OshFixKind kind;
  int node;   /* rewire: the consuming node; add-input: the root node */
  int input;  /* rewire: which input of `node` */
  int target; /* rewire: the same-named layer; flatten: the model layer; drop-branch: the output */
  int target_output; /* rewire: which output of `target`; -1: the one the input read before */
};

/* Fills c->fixes for the problems found in `c` (called by osh_connectivity_analyze). */
bool osh_fixes_propose (const OshGraph *g, OshConnectivity *c, OshError *err);

const OshFix *osh_fix_find (const OshConnectivity *c, const char *id);

/* A new graph with the fix applied; `g` is untouched, also on failure. */
OshGraph *osh_fix_apply (const OshGraph *g, const OshFix *fix, OshError *err);

/* A new graph where the nested model `model_layer` (called exactly once) is inlined into its
 * owner: its layers keep their names (a name the owner already has gets _1, _2...), its
 * InputLayers are replaced by the call's inputs and consumers of the call read the inner
 * outputs. */
OshGraph *osh_graph_flatten_model (const OshGraph *g, int model_layer, OshError *err);

/* A new graph where every model around the layer at `path` is flattened, outermost first, so
 * that layer ends up at the top level. Inner layers keep their names, except where the outer
 * model has the name already (then _1, _2...). */
OshGraph *osh_graph_flatten_around (const OshGraph *g, const char *path, OshError *err);

/* The same for layer index `layer`; *new_layer (may be NULL) receives its index afterwards. */
OshGraph *osh_graph_flatten_around_layer (const OshGraph *g, int layer, int *new_layer,
                                          OshError *err);

void osh_fixes_free (OshFix *fixes, int n);
