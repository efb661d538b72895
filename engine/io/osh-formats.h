/* osh-formats.h — the per-format readers and writers behind osh-model.h.
 * Internal to the engine: callers use osh_model_load / osh_model_save. */
#pragma once

#include <stddef.h>

#include "osh-graph.h"

/* `name` names the source in messages. */
OshGraph *osh_keras3_read (const char *name, const void *data, size_t size, OshError *err);
OshGraph *osh_h5_read (const char *name, const void *data, size_t size, OshError *err);
/* TF.js reads its shards relative to the directory of `path`. */
OshGraph *osh_tfjs_read (const char *path, const void *data, size_t size, OshError *err);
OshGraph *osh_onnx_read (const char *name, const void *data, size_t size, OshError *err);

/* Writers write to `tmp_path`; osh_model_save renames it into place. */
bool osh_keras3_write (const OshGraph *g, const char *tmp_path, OshError *err);
bool osh_h5_write (const OshGraph *g, const char *tmp_path, OshError *err);
/* TF.js writes model.json to tmp_path and its shard beside `final_path`. */
bool osh_tfjs_write (const OshGraph *g, const char *tmp_path, const char *final_path,
                     OshError *err);
bool osh_onnx_write (const OshGraph *g, const char *tmp_path, OshError *err);
