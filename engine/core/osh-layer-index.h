/* osh-layer-index.h — private to osh-graph.c: a hash of (owner, name) → layer index, so that
 * building and grouping a graph of a thousand layers does not compare names a million times.
 *
 * osh-graph.c keeps it in step with every change of a name or an owner (adding and renaming
 * layers; nothing removes a layer in place: edits build a new graph). Lookups only read it. */
#pragma once

#include "osh-graph.h"

/* Enters layer `layer` of g (building the index over layers 0..layer when there is none yet).
 * On running out of memory the index is dropped and lookups fall back to a scan. */
void osh_layer_index_add (OshGraph *g, int layer);

/* Rebuilds the index over every layer of g (after a rename). */
void osh_layer_index_rebuild (OshGraph *g);

/* The layer `name` of `owner` as entered: its index, -1 when absent, -2 when g has no index. */
int osh_layer_index_find (const OshGraph *g, int owner, const char *name);

void osh_layer_index_free (struct OshLayerIndex *index);
