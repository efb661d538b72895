/* osh-graph-rebuild.h — a new graph from an old one with layers and nodes removed and tensors
 * redirected; the edits that remove things (flatten, drop a branch) are built on it.
 *
 *   OshRebuild r;
 *   osh_rebuild_init (&r, g);                  // keep everything, same owners
 *   r.drop_node[call] = true;                  // remove a call ...
 *   r.redirect[call] = model->outputs;         // ... and read the inner outputs instead
 *   OshGraph *out = osh_rebuild_run (&r, g->outputs, g->n_outputs, &err);
 *   osh_rebuild_clear (&r);
 *
 * Nodes are re-added in an order where every input exists (a topological order), so the
 * result is valid whatever order the source had. A reference to a removed node is an error.
 */
#pragma once

#include "osh-graph.h"

typedef struct
{
  const OshGraph *g;
  bool *drop_layer; /* n_layers */
  int *owner;       /* n_layers: the new owner, as an index into g->layers (-1 = top level) */
  bool *drop_node;  /* n_nodes */
  const OshRef **redirect; /* n_nodes: NULL, or where each output of that node now comes from */
  char **rename;           /* n_layers: NULL, or the layer's new name (config "name" follows) */
  int *layer_map;          /* n_layers, filled by osh_rebuild_run: new index, or -1 if dropped */
} OshRebuild;

bool osh_rebuild_init (OshRebuild *r, const OshGraph *g, OshError *err);
void osh_rebuild_clear (OshRebuild *r);

/* Follows redirections until a tensor that stays. */
OshRef osh_rebuild_resolve (const OshRebuild *r, OshRef t);

/* The new graph whose top-level outputs are `outputs` (old references); inputs are g's. */
OshGraph *osh_rebuild_run (const OshRebuild *r, const OshRef *outputs, int n_outputs,
                           OshError *err);
