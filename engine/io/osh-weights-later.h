/* osh-weights-later.h — the weights of a graph read for its structure first.
 *
 * osh_model_load_graph (osh-model.h) reads a model's graph and every weight's shape, but no
 * values; osh_model_load_weights brings the values in when they are first needed. These are
 * the readers' and osh-model.c's pieces of that. */
#pragma once

#include <stdbool.h>

#include "osh-graph.h"

/* For a reader in OSH_READ_GRAPH mode whose weights failed: drops every weight of `g`, records
 * the error in g->meta (OSH_META_WEIGHTS_ERROR) for osh_model_load_weights to report, clears
 * `err` and returns true: the graph opens. */
bool osh_weights_defer_error (OshGraph *g, OshError *err);

/* True when `g` was read without weight values (OSH_META_WEIGHTS_DEFERRED). */
bool osh_weights_deferred (const OshGraph *g);

/* Moves the weight values of `src` (a full read of the file `dst` was read from) into `dst`,
 * after checking that both have the same layers and weight shapes. */
bool osh_weights_take (OshGraph *dst, OshGraph *src, OshError *err);
