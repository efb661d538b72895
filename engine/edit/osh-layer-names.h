/* osh-layer-names.h — the closest real layer names of a model, for "no layer 'X'" messages. */
#pragma once

#include "osh-graph.h"

/* The error for a layer path `asked` that `g` does not have, naming up to three of g's own
 * layer paths closest to it (edit distance on the whole path and on the last part, so
 * 'efficientnet/block5a_expand_conv' finds 'block5a_expand_conv' in a flat model and the
 * reverse), and how nested layers are named when g nests models. Fills err with
 * OSH_ERR_NOT_FOUND; always returns false. */
bool osh_fail_no_layer (const OshGraph *g, const char *asked, OshError *err);
