/* osh-keras-config.h — a Keras model config (JSON) → the graph IR, for every Keras reader.
 *
 * Accepts the Keras 1, Keras 2 / tf.keras and Keras 3 forms of Sequential and Functional
 * (Model) configs, nested models at any depth, shared layers and several inputs/outputs:
 *
 *   json_t *mc = json_loads (text, 0, NULL);   // {"class_name": "Functional", "config": {...}}
 *   OshGraph *g = osh_keras_config_to_graph (mc, "tensorflow", "model.h5", &err);
 *   ...bind weights by position, then for each layer:
 *   if (!osh_keras_check_weights (g, layer, "model.h5", &err)) ...
 *
 * What the IR gets, so that every other part reads one dialect:
 *  - layer configs use Keras 2 key names: Keras 1 keys are renamed (output_dim→units,
 *    nb_filter→filters, nb_row/nb_col→kernel_size, border_mode→padding, subsample→strides,
 *    dim_ordering th/tf→data_format channels_first/channels_last, init→kernel_initializer, ...)
 *    and Keras 1 classes too (Convolution2D→Conv2D, Merge(mode=sum)→Add, ...); Keras 3's
 *    InputLayer `batch_shape` becomes `batch_input_shape`. The original class is kept in
 *    config["keras1_class_name"] when it was renamed.
 *  - a Sequential model becomes an InputLayer + a chain; the synthesized InputLayer is named
 *    "<first layer>_input" like Keras names it, and g->class_name stays "Sequential".
 *  - a nested model is a layer with is_model set whose config is the model's config without
 *    its "layers" (the IR owns those). */
#pragma once

#include <jansson.h>

#include "osh-graph.h"

/* `model_config` is the whole {"class_name", "config", ...} object. `backend` (may be NULL) is
 * the file's Keras backend: Keras 1's dim_ordering "default" means channels_first on theano.
 * `name` is for messages. The graph has no weights yet; readers add them and g->meta.
 * The layers' configs and call arguments are not copied but shared with `model_config` (a
 * thousand-layer config is copied in milliseconds) and normalised in place: the caller reads
 * only the model's own keys afterwards (its version, backend) and then frees it. */
OshGraph *osh_keras_config_to_graph (json_t *model_config, const char *backend, const char *name,
                                     OshError *err);

/* The input shape a layer config declares (batch_input_shape, batch_shape, input_shape with
 * a None batch prepended, or input_dim); false when it declares none. Batch None is -1. */
bool osh_keras_config_input_shape (const json_t *config, OshShape *out);

/* Checks the weights bound to `layer` against what its config implies, by the op's own rule
 * (OshOp.weights: convolution kernels kh×kw×?×filters, Dense ?×units, BatchNormalization
 * statistics, biases; the rule its shape inference checks by), and marks BatchNormalization
 * moving statistics non-trainable. A mismatch is an OSH_ERR_SHAPE error naming the layer and
 * both shapes; a units or filters that is not a number, OSH_ERR_FORMAT. Classes without a rule
 * pass. */
bool osh_keras_check_weights (OshGraph *g, int layer, const char *name, OshError *err);
/* The same for every layer of the graph; also marks Normalization statistics (mean, variance,
 * count) non-trainable, as Keras does. */
bool osh_keras_check_all_weights (OshGraph *g, const char *name, OshError *err);

/* Copies the string members `keys` (NULL-terminated) of `from` into g->meta. */
void osh_keras_copy_meta (OshGraph *g, const json_t *from, const char *const *keys);

/* Parses JSON text with the depth and size limits; NULL with an error naming `name`. */
json_t *osh_keras_parse_json (const char *text, size_t size, const char *name, const char *what,
                              OshError *err);
