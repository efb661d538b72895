/* osh-weights-by-offset.h — a .keras or .h5 read whose weights come from the HDF5 guard's map.
 *
 * With the guard on (osh-hdf5-guard.h), a child program reads the file with HDF5 first. When
 * asked, it also sends back where each weight it bound lies in the file: a weight map, one
 * place per weight in the order the reader bound them (layer index, weight name, shape, offset
 * of the contiguous little-endian float32 values from the start of the archive, or -1). The
 * parent then builds the graph from config.json (zip and JSON only) or, for a .h5, from the
 * model_config attribute the child sends with the map, and takes every weight straight from
 * the file's bytes, borrowing them from the mapping where it can: it makes no HDF5 call at all.
 * Anything the map cannot give for certain (a chunked or float16 dataset, a compressed
 * model.weights.h5, a map that does not fit the graph) makes the caller read the file with
 * HDF5 as before.
 *
 * The child runs HDF5 on hostile bytes, so its message is not trusted: counts, names, ranks
 * and sizes are bounded when it is decoded, and every place is checked to lie inside the
 * stored model.weights.h5 before a byte of it is read.
 *
 *   OshWeightMap map = { 0 };
 *   osh_hdf5_guard_check_map (path, format, mode, data, size, fd, &map, &err);
 *   OshGraph *g = osh_keras3_read_by_offsets (path, data, size, &map, mode, borrow, &err);
 *   osh_weight_map_clear (&map);   // g NULL with err clear: read it with HDF5 instead
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osh-formats.h"
#include "osh-graph.h"

/* Weight names: "vars/<i>" in a .keras, the stored names ("block1_conv1/kernel:0") in a .h5;
 * a longer one leaves the map incomplete. */
#define OSH_WEIGHT_MAP_NAME_MAX 256
/* Places in one map: a bound on what the parent accepts from the child, far above real models
 * (EfficientNetB7: about 1,000 weights). */
#define OSH_WEIGHT_MAP_MAX_PLACES (1 << 18)
/* A .h5's model_config sent with the map: a larger one leaves the map incomplete. */
#define OSH_WEIGHT_MAP_MAX_CONFIG (INT64_C (32) << 20)
/* The largest encoded map: every place at its largest, and the three strings. */
#define OSH_WEIGHT_MAP_MAX_BYTES                                                                   \
  (4                                                                                               \
   + (int64_t) OSH_WEIGHT_MAP_MAX_PLACES                                                           \
         * (4 + 1 + OSH_WEIGHT_MAP_NAME_MAX + 1 + 8 * OSH_MAX_RANK + 8)                            \
   + 3 * 4 + OSH_WEIGHT_MAP_MAX_CONFIG + 2 * 4096)

typedef struct
{
  int32_t layer; /* index in the graph built from config.json */
  char name[OSH_WEIGHT_MAP_NAME_MAX];
  OshShape shape;
  int64_t offset; /* of the float32 values in the archive's bytes, or -1 */
} OshWeightPlace;

typedef struct OshWeightMap
{
  OshWeightPlace *places;
  size_t n, capacity;
  /* A .h5's model_config, keras_version and backend attributes (malloc'd; NULL when absent,
   * and always for a .keras). */
  char *config, *version, *backend;
  /* Set when some weight's place cannot be told (a weight bound from an extracted copy). */
  bool incomplete;
} OshWeightMap;

/* The next weight the reader bound, at `offset` in the archive (-1: not known, which leaves the
 * map incomplete unless the weight is empty); false only when out of memory. */
bool osh_weight_map_add (OshWeightMap *map, int layer, const char *name, const OshShape *shape,
                         int64_t offset);
void osh_weight_map_clear (OshWeightMap *map);

/* Keeps a copy of the .h5 attributes (any may be NULL); false when out of memory. */
bool osh_weight_map_set_h5_attrs (OshWeightMap *map, const char *config, const char *version,
                                  const char *backend);

/* The map as the child sends it (little-endian, as both ends run on the same machine):
 *   u32 count, then per place: i32 layer, u8 name length, the name, u8 rank, rank × i64
 *   sizes, i64 offset; then config, version and backend, each a u32 length (0xffffffff:
 *   absent; version and backend at most 4095 bytes) and its bytes.
 * malloc'd; NULL when out of memory. */
void *osh_weight_map_encode (const OshWeightMap *map, size_t *size_out);
/* Parses what the child sent into `map` (cleared first); false with err (OSH_ERR_FORMAT naming
 * `name`) on anything malformed: truncated, trailing bytes, counts or sizes over the limits. */
bool osh_weight_map_decode (const char *name, const void *msg, size_t size, OshWeightMap *map,
                            OshError *err);

/* A tensor of shape `s` whose values are the `numel` float32 at `at` in `image` (checked by the
 * caller to lie inside it): borrowed from `borrow` when it holds them 16-byte aligned, else a
 * copy. An empty shape gives a tensor without data, as the HDF5 reader does. */
OshTensor *osh_tensor_from_image (const OshShape *s, const void *image, size_t at,
                                  OshMapping *borrow, OshError *err);

/* The .keras `data` read with the weights at the places of `map` (osh_hdf5_guard_check_map),
 * with `mode` OSH_READ_ALL (the archive's checksum is then computed) or OSH_READ_ALL_VERIFIED.
 * NULL with err clear when the map cannot serve (see above): the caller reads with HDF5.
 * NULL with err set on a real error (config.json, checksum, out of memory). On success,
 * g->meta holds OSH_META_WEIGHTS_BY_OFFSET. */
OshGraph *osh_keras3_read_by_offsets (const char *name, const void *data, size_t size,
                                      const OshWeightMap *map, OshReadMode mode, OshMapping *borrow,
                                      OshError *err);

/* The same for a .h5 (`mode` OSH_READ_ALL): the graph from map->config, as osh_h5_read_mode
 * builds it. */
OshGraph *osh_h5_read_by_offsets (const char *name, const void *data, size_t size,
                                  const OshWeightMap *map, OshMapping *borrow, OshError *err);

/* Set in g->meta by osh_keras3_read_by_offsets: the weights came from the guard's map. */
#define OSH_META_WEIGHTS_BY_OFFSET "weights_by_offset"

/* The pieces of the .keras reader (osh-keras3-read.c) this needs. The graph config.json
 * describes, with where model.weights.h5 is stored in `data` (*weights_len 0 when it is absent
 * or compressed); no HDF5. */
OshGraph *osh_keras3_read_config (const char *name, const void *data, size_t size,
                                  size_t *weights_at, size_t *weights_len, OshError *err);
/* The guard child's read (OSH_READ_CHECK) that also fills `map`. */
OshGraph *osh_keras3_read_check_map (const char *name, const void *data, size_t size,
                                     OshWeightMap *map, OshError *err);
/* And the .h5 reader's (osh-h5-read.c): the same for a .h5; the graph of a model_config
 * attribute with its keras_version and backend; the legacy kernel conversions and the weight
 * checks once every weight is bound. */
OshGraph *osh_h5_read_check_map (const char *name, const void *data, size_t size, OshWeightMap *map,
                                 OshError *err);
OshGraph *osh_h5_config_graph (const char *name, const char *config_text, const char *version,
                               const char *backend, OshError *err);
bool osh_h5_finish_weights (OshGraph *g, const char *name, const char *version, const char *backend,
                            OshError *err);
