/* osh-formats.h — the per-format readers and writers behind osh-model.h.
 * Internal to the engine: callers use osh_model_load / osh_model_save. */
#pragma once

#include <stddef.h>

#include "osh-graph.h"

/* How much of a model file a reader reads.
 * - OSH_READ_ALL: the graph and every weight's values.
 * - OSH_READ_GRAPH: the graph and every weight's shape, no values (tensor data stays NULL).
 *   TF.js shards are not opened; a .keras whose model.weights.h5 HDF5 cannot open (truncated)
 *   still gives its graph, the error recorded in g->meta under OSH_META_WEIGHTS_ERROR (loading
 *   the weights later fails with it). Everything else fails as in OSH_READ_ALL.
 * - OSH_READ_CHECK: what the HDF5 guard's child does: everything HDF5 is asked for in
 *   OSH_READ_ALL (chunked and filtered data decoded), but contiguous data only checked to lie
 *   inside the file, not copied, and no zip checksum (the parent checks it).
 * - OSH_READ_ALL_VERIFIED: OSH_READ_ALL of a .keras whose checksum the caller has verified
 *   already (osh_keras3_verify_weights, run while the guard's child reads the file). */
typedef enum
{
  OSH_READ_ALL = 0,
  OSH_READ_GRAPH,
  OSH_READ_CHECK,
  OSH_READ_ALL_VERIFIED,
} OshReadMode;

#define OSH_META_WEIGHTS_ERROR "weights_error"
#define OSH_META_WEIGHTS_DEFERRED "weights_deferred"
/* Set with OSH_META_WEIGHTS_DEFERRED when the weight shapes came from the config alone
 * (osh_keras3_read_structure), not from the file's HDF5 headers. */
#define OSH_META_WEIGHTS_FROM_CONFIG "weights_from_config"

/* `name` names the source in messages. */
OshGraph *osh_keras3_read (const char *name, const void *data, size_t size, OshError *err);
OshGraph *osh_h5_read (const char *name, const void *data, size_t size, OshError *err);
/* With `borrow` (the mapping `data` lies in, osh-file-bytes.h), OSH_READ_ALL leaves the
 * contiguous float32 weights that sit 16-byte aligned in the bytes where they are: the tensors
 * borrow them (osh-tensor.h) instead of copying. NULL: every weight is copied. */
OshGraph *osh_keras3_read_mode (const char *name, const void *data, size_t size, OshReadMode mode,
                                OshMapping *borrow, OshError *err);
OshGraph *osh_h5_read_mode (const char *name, const void *data, size_t size, OshReadMode mode,
                            OshMapping *borrow, OshError *err);
/* OSH_READ_GRAPH of a .keras without HDF5, so without the guard's child: the graph from
 * config.json (zip and JSON only), each weight's shape from its layer's config and inferred
 * input shape (osh-keras3-config-weights.h), model.weights.h5 only checked to be stored whole
 * (its superblock's end of file inside the entry). NULL with err clear whenever that cannot
 * tell everything for certain (a class without a rule there, a compressed or truncated
 * model.weights.h5, any error): the caller then reads the file as before, through the guard,
 * and fails as before. */
OshGraph *osh_keras3_read_structure (const char *name, const void *data, size_t size,
                                     OshError *err);
/* The CRC-32 of a .keras archive's model.weights.h5, when it is stored uncompressed (as the
 * reader uses it in place), computed straight on `data` and compared with the central
 * directory's; true also when it is not stored so (the reader then extracts it through
 * libzip, which checks it). Touches no HDF5: safe on hostile bytes. */
bool osh_keras3_verify_weights (const char *name, const void *data, size_t size, OshError *err);
/* TF.js reads its shards relative to the directory of `path`. */
OshGraph *osh_tfjs_read (const char *path, const void *data, size_t size, OshError *err);
OshGraph *osh_tfjs_read_mode (const char *path, const void *data, size_t size, OshReadMode mode,
                              OshError *err);
OshGraph *osh_onnx_read (const char *name, const void *data, size_t size, OshError *err);

/* Writers write to `tmp_path`; osh_model_save renames it into place. */
bool osh_keras3_write (const OshGraph *g, const char *tmp_path, OshError *err);
bool osh_h5_write (const OshGraph *g, const char *tmp_path, OshError *err);
/* TF.js writes model.json to tmp_path and its shard beside `final_path`. */
bool osh_tfjs_write (const OshGraph *g, const char *tmp_path, const char *final_path,
                     OshError *err);
/* ONNX: a graph of another dialect is converted first; a dialect's own conversion refusing the
 * graph names `final_path`, as osh_model_can_save's answer does. */
bool osh_onnx_write (const OshGraph *g, const char *tmp_path, const char *final_path,
                     OshError *err);
/* A graph of the TF dialect (a TF.js graph model read) as a graph model: model.json to
 * tmp_path, its shard beside `final_path` (osh-tfjs-graph-write.c). */
bool osh_tfjs_graph_write (const OshGraph *g, const char *tmp_path, const char *final_path,
                           OshError *err);
