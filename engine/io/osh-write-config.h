/* osh-write-config.h — the Keras model config of a graph, as the writers store it.
 *
 *   OshWriteScope scope;
 *   if (!osh_write_scope_init (&scope, g, &err)) return false;
 *   json_t *cfg = osh_write_model_config (&scope, OSH_KERAS_CONFIG_2, &err);
 *   // {"class_name": "Model", "config": {"name": ..., "layers": [...],
 *   //   "input_layers": [["input_1", 0, 0]], "output_layers": [["predictions", 0, 0]]}}
 *   char *text = json_dumps (cfg, JSON_COMPACT);
 *   json_decref (cfg);
 *   osh_write_scope_clear (&scope);
 *
 * The scope is what Keras's Model(inputs, outputs) would save: the layers and calls the
 * outputs need, plus the model inputs. Layers an edit left dangling are not written, so
 * Keras and tfjs find exactly the weights their rebuilt model has.
 *
 * OSH_KERAS_CONFIG_2 is the Keras 2 / tf.keras / TF.js form: `inbound_nodes` as lists of
 * [layer, node_index, tensor_index, kwargs], InputLayer `batch_input_shape`, dtype policies
 * written as plain dtype names. OSH_KERAS_CONFIG_3 is the Keras 3 `.keras` form: `module`,
 * `registered_name`, `build_config`, and `inbound_nodes` as {"args", "kwargs"} with
 * `__keras_tensor__` entries. Nested models are layers with their own config. A model is
 * written as Sequential when its class says so and its graph is still a plain chain.
 * Layer configs are written as stored in layer->config, plus `name` and `trainable`.
 *
 * Fails (OSH_ERR_DISCONNECTED) when a layer takes a tensor from another model's graph:
 * Keras could not rebuild that model from its config.
 */
#pragma once

#include <jansson.h>

#include "osh-graph.h"

typedef enum
{
  OSH_KERAS_CONFIG_2,
  OSH_KERAS_CONFIG_3,
} OshKerasConfigStyle;

typedef struct
{
  const OshGraph *g;
  bool *layer_kept; /* per layer: written */
  bool *node_kept;  /* per node: written */
} OshWriteScope;

bool osh_write_scope_init (OshWriteScope *s, const OshGraph *g, OshError *err);
void osh_write_scope_clear (OshWriteScope *s);

json_t *osh_write_model_config (const OshWriteScope *s, OshKerasConfigStyle style, OshError *err);

/* True when the model `owner` (-1 = top level) would be written as a Sequential. */
bool osh_write_is_sequential (const OshWriteScope *s, int owner);

/* The keras_version a writer stores: the source's when it has the same major version. */
const char *osh_write_keras_version (const OshGraph *g, OshKerasConfigStyle style);
