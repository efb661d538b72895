/* osh-connectivity.h — which outputs can be computed from the model's inputs, and why not.
 *
 *   OshError err = { 0 };
 *   OshConnectivity *c = osh_connectivity_analyze (g, &err);
 *   if (c && !c->connected)
 *     {
 *       puts (c->message);      // Keras 2's "Graph disconnected: cannot obtain value ..."
 *       puts (c->explanation);  // output, foreign root, bridge and the fix, in plain words
 *       for (int i = 0; i < c->n_fixes; i++)
 *         printf ("%s: %s\n", c->fixes[i].id, c->fixes[i].description);  // osh-fixes.h
 *     }
 *   osh_connectivity_free (c);
 *
 * The walk treats a call of a nested model as one node (its inputs bind the inner inputs),
 * so an outer node that consumes an inner node directly reaches the nested model's own
 * InputLayer: a FOREIGN ROOT, exactly how Keras decides "Graph disconnected". A BRIDGE is
 * an edge of a disconnected path that leaves a nested model for an outer layer, or that
 * joins the foreign region to layers that also consume computable tensors.
 *
 * The analysis is the same for every dialect and layout; the message is worded as the graph's
 * dialect says (osh-dialect.h: Keras's, or the node and the tensor it cannot get, for ONNX). A
 * tensor that no node produces is an InputLayer marked OSH_INPUT_UNPRODUCED by the reader, so
 * it is a foreign root like Keras's.
 */
#pragma once

#include <stdint.h>

#include "osh-graph.h"

typedef enum
{
  OSH_CONN_COMPUTABLE = 1 << 0,   /* node: its outputs are computable from the inputs */
  OSH_CONN_DISCONNECTED = 1 << 1, /* on a path from an output back to a foreign root */
  OSH_CONN_FOREIGN_ROOT = 1 << 2, /* an InputLayer call that is not a model input */
  OSH_CONN_BRIDGE = 1 << 3,       /* either end of a bridge edge */
  OSH_CONN_UNUSED = 1 << 4,       /* reaches no output */
  OSH_CONN_CYCLE = 1 << 5,        /* part of a cycle */
} OshConnFlag;

typedef struct
{
  int from_node; /* the producer, inside the foreign region */
  int to_node;   /* the consumer, or -1 when the edge is the model output itself */
  int output;    /* the top-level output this bridge was found from */
} OshBridge;

typedef struct OshFix OshFix; /* osh-fixes.h */

typedef struct
{
  bool connected; /* every output computable and no cycle */
  int n_outputs;
  bool *output_ok; /* per top-level output */

  int *foreign_roots; /* node indices, in order of discovery */
  int n_foreign_roots;
  OshBridge *bridges;
  int n_bridges;
  int *unused_layers; /* layer indices; an unused nested model is listed, not its contents */
  int n_unused_layers;
  int *cycle_nodes;
  int n_cycle_nodes;

  uint32_t *node_flags; /* g->n_nodes OshConnFlag bits */
  uint32_t
      *layer_flags; /* g->n_layers: the union of its nodes' flags (UNUSED when no node is used) */

  char *message;     /* Keras 2's message for the first failure, or NULL when connected */
  char *explanation; /* plain language, or NULL when connected */

  OshFix *fixes; /* edits that make the graph connected (osh-fixes.h) */
  int n_fixes;
} OshConnectivity;

/* Analyses `g` (not modified). NULL only when out of memory. */
OshConnectivity *osh_connectivity_analyze (const OshGraph *g, OshError *err);
void osh_connectivity_free (OshConnectivity *c);

/* True when `node` stands for a tensor of the file that nothing produces (OSH_INPUT_UNPRODUCED). */
bool osh_connectivity_is_missing_tensor (const OshGraph *g, int node);

/* The name Offshoot gives output `i`: the path of the layer producing it. Caller frees. */
char *osh_connectivity_output_name (const OshGraph *g, int i);

/* The path of the model instance owning `layer` ("" for the top-level model). Caller frees. */
char *osh_connectivity_instance_path (const OshGraph *g, int layer);

/* How Keras 2 prints a tensor: KerasTensor(type_spec=TensorSpec(shape=..., ...), ...).
 * Caller frees. */
char *osh_keras_tensor_repr (const OshGraph *g, OshRef t);

/* Sets used[n] for every node that `outputs` need (used has g->n_nodes entries, zeroed by the
 * caller); a call of a nested model needs the inner nodes behind its inner outputs. */
bool osh_graph_mark_used (const OshGraph *g, const OshRef *outputs, int n_outputs, bool *used);
