/* osh-keras3-config-weights.h — a Keras 3 graph's weight shapes from its config alone. */
#pragma once

#include <stdbool.h>

#include "osh-graph.h"

/* Gives every layer of `g` (read from a .keras config.json, shapes inferred, no weights yet) the
 * weights Keras 3 builds for it, as shapes without values (data NULL), named vars/0, vars/1, ...
 * as in model.weights.h5. False when some layer's cannot be told for certain (a class without a
 * rule here, an input shape not known): then `g` may hold some of them and is to be dropped; err
 * is set only when out of memory. */
bool osh_keras3_config_weights (OshGraph *g, OshError *err);
