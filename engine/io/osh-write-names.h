/* osh-write-names.h — names the writers give to layers' weights.
 *
 * A weight's stored name depends on where it came from ("conv1_1/kernel:0" in a
 * Keras 2 .h5, "vars/0" in a .keras, "block1/conv/kernel" in TF.js), but each
 * format wants its own convention. The role ("kernel", "moving_mean") is taken
 * from a table of Keras layer classes, then from the stored name:
 *
 *   char role[128];
 *   osh_weight_role (g, conv, 0, role, sizeof role);    // "kernel"
 *   char *h5 = osh_weight_h5_name (g, conv, 0);          // "conv1_1/kernel:0" (kept as stored)
 *   char *js = osh_weight_tfjs_name (g, conv, 0);        // "conv1/kernel"
 *   free (h5); free (js);
 */
#pragma once

#include <stddef.h>

#include "osh-graph.h"

/* The weight's role within its layer ("kernel", "bias", "gamma", ...). */
void osh_weight_role (const OshGraph *g, int layer, int index, char *buf, size_t size);

/* Keras 2 name ("layer/role:0"): the stored name when it already has that form, made a
 * valid HDF5 path (no empty, "." or ".." parts). malloc'd, NULL when out of memory. */
char *osh_weight_h5_name (const OshGraph *g, int layer, int index);

/* TF.js name: "<layer name>/<role>", the name tfjs gives the variable (malloc'd). */
char *osh_weight_tfjs_name (const OshGraph *g, int layer, int index);

/* Keras 3 weights-file key of a layer within its container: the class name in snake
 * case ("BatchNormalization" -> "batch_normalization"); osh_keras3_key numbers repeats. */
void osh_keras3_snake_case (const char *class_name, char *buf, size_t size);

/* The name of a layer's weight `index` in a .keras model.weights.h5, relative to the layer's
 * group: "vars/0", "vars/1", ... (the readers' weight names). */
void osh_keras3_var_name (int index, char *buf, size_t size);

/* Keys of one container's layers, in layer order: "conv2d", "conv2d_1", "dense", ...
 *
 *   OshKeras3Keys keys;
 *   if (!osh_keras3_keys_init (&keys, n_layers)) ...out of memory...
 *   osh_keras3_key (&keys, "Conv2D", key, sizeof key);   // "conv2d", then "conv2d_1"
 *   osh_keras3_keys_clear (&keys);
 */
typedef struct
{
  struct OshKeras3Seen *seen;
  int n, cap;
} OshKeras3Keys;

bool osh_keras3_keys_init (OshKeras3Keys *k, int capacity);
void osh_keras3_key (OshKeras3Keys *k, const char *python_class, char *buf, size_t size);
void osh_keras3_keys_clear (OshKeras3Keys *k);
