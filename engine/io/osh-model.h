/* osh-model.h — opening and saving model files, whatever their format.
 *
 *   OshError err = { 0 };
 *   OshGraph *g = osh_model_load ("fer2013_mini_XCEPTION.hdf5", &err);
 *   if (!g) { puts (err.message); return 2; }
 *   osh_model_save (g, "copy.keras", &err);      // format chosen by the name
 *
 * Formats are recognised by content first (zip, HDF5 and protobuf magic, JSON),
 * then by extension. The input file is never modified; saving writes a
 * temporary file beside the target and renames it into place.
 */
#pragma once

#include <stddef.h>

#include "osh-graph.h"

typedef enum
{
  OSH_FORMAT_UNKNOWN = 0,
  OSH_FORMAT_KERAS3, /* .keras zip */
  OSH_FORMAT_H5,     /* Keras 1/2, tf.keras .h5/.hdf5 */
  OSH_FORMAT_TFJS,   /* TF.js layers model.json + shards */
  OSH_FORMAT_ONNX,   /* .onnx */
} OshFormat;

/* Guesses the format from the first bytes, falling back on the file name. */
OshFormat osh_format_detect (const char *name, const void *head, size_t head_size);
OshFormat osh_format_from_name (const char *name);
const char *osh_format_name (OshFormat f); /* "keras3", "keras-h5", "tfjs", "onnx" */

/* Reads and type-checks a model (weights included) and infers shapes. A model that names no
 * classes takes those of a labels.txt beside it (osh-class-names.h); so does load_graph. */
OshGraph *osh_model_load (const char *path, OshError *err);

/* The graph first: the model's layers, connections, inferred shapes and every weight's shape
 * (so parameter counts), without reading weight values (tensor data stays NULL). Enough to
 * draw or summarise a model; anything that needs values calls osh_model_load_weights first.
 * A file whose weights are damaged still opens this way; loading its weights then fails.
 * ONNX files are read whole. */
OshGraph *osh_model_load_graph (const char *path, OshError *err);

/* Reads the weight values of a graph from osh_model_load_graph (a full, guarded read of the
 * same file); does nothing for a graph that has them. On failure `g` is unchanged. */
bool osh_model_load_weights (OshGraph *g, OshError *err);

/* The second half of osh_model_load_weights, for a window that reads on a worker thread and
 * swaps on its own: moves the weight values of `full` (osh_model_load of the same file) into
 * `g` after checking that both have the same layers and weight shapes. */
bool osh_model_take_weights (OshGraph *g, OshGraph *full, OshError *err);

/* The same from memory; `name` is used for format detection and messages.
 * TF.js models need their shards beside model.json, so only self-contained
 * formats (.keras, .h5, .onnx) load from memory. */
OshGraph *osh_model_load_bytes (const char *name, const void *data, size_t size, OshError *err);

/* NULL, or a warning when the loaded weights hold NaN or Inf (a model that diverged in
 * training still opens, to be looked at; its outputs will not be finite):
 * "layer 'fc' weight 'fc/kernel:0' holds 2 NaN/Inf values (1 layer in all)". */
const char *osh_model_weights_warning (const OshGraph *g);

/* NULL, or why the weights of a graph from osh_model_load_graph cannot be read (the graph
 * opened, osh_model_load_weights will fail with this). */
const char *osh_model_weights_error (const OshGraph *g);

/* True for a graph from osh_model_load_graph whose weight values are not read yet (nor failed
 * to be: a graph whose weights could not be read stays pending, with osh_model_weights_error). */
bool osh_model_weights_pending (const OshGraph *g);

/* Whether `g` can be written as format `f`; when not, false with the reason (no file name in
 * it): a dialect that refuses saving, a TF.js graph model as anything but TF.js or ONNX (ops
 * with no ONNX form are found only when writing, and named then), an ONNX graph
 * as anything but ONNX. The window offers only the formats this allows. */
bool osh_model_can_save (const OshGraph *g, OshFormat f, OshError *err);

/* Writes `g` in the format the name implies (.keras, .h5/.hdf5, .json, .onnx); fails early with
 * osh_model_can_save's reason. */
bool osh_model_save (const OshGraph *g, const char *path, OshError *err);
