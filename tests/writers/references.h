/* references.h — the independent readers the writer tests ask, each printing JSON:
 *
 *   json_t *s = h5py_summary ("m.h5", false);          // h5_summary.py: attributes, datasets, SHA-256s
 *   json_t *r = tfjs_predict ("model.json", "[[1, 2]]"); // tfjs_predict.mjs: layers, params, outputs
 *
 * A reference that fails or prints no JSON fails the test with its stderr. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* `keras`: PATH is a .keras zip rather than a Keras 2 .h5. */
json_t *h5py_summary (const char *path, bool keras);

/* `input`: JSON inline, {"inputs": [...]} for several inputs, or "@file.json". */
json_t *tfjs_predict (const char *model_json, const char *input);
