/* osh-limits.h — safety limits checked before any allocation driven by file contents.
 * Exceeding one is an OSH_ERR_LIMIT error naming the limit, never a crash. */
#pragma once

#define OSH_MAX_RANK 8                           /* tensor rank */
#define OSH_MAX_ELEMENTS (INT64_C (1) << 32)     /* elements in one tensor (16 GiB of float32) */
#define OSH_MAX_DIM (INT64_C (1) << 31)          /* one dimension */
#define OSH_MAX_LAYERS 200000                    /* layers in a graph, nested included */
#define OSH_MAX_NODES 400000                     /* nodes (layer calls) in a graph */
#define OSH_MAX_NESTING 64                       /* depth of models nested in models */
#define OSH_MAX_JSON_BYTES (INT64_C (256) << 20) /* one JSON document (config.json, model.json) */
#define OSH_MAX_JSON_DEPTH 512                   /* nesting of one JSON document */
#define OSH_MAX_ZIP_ENTRY (INT64_C (8) << 30)    /* one uncompressed zip entry */
#define OSH_MAX_ZIP_RATIO 1000                   /* uncompressed / compressed size of a zip entry */
