/* How a TF.js weights-manifest entry stores its values, both ways: the reader decodes them to
 * float32 as tfjs does, the graph-model writer stores an unchanged weight in its own form again
 * (osh-tfjs-stored.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum
{
  OSH_TFJS_FLOAT32,
  OSH_TFJS_INT32,
  OSH_TFJS_FLOAT16, /* "quantization": {"dtype": "float16"} */
  OSH_TFJS_UINT8,   /* quantized (min + scale · q) when `affine` */
  OSH_TFJS_UINT16,
  OSH_TFJS_BOOL,
} OshTfjsStore;

typedef struct
{
  OshTfjsStore store;
  size_t elem;       /* bytes per value in the shard */
  bool affine;       /* uint8/uint16 quantized: value = q · scale + min */
  bool round;        /* an int32 weight quantized: tfjs rounds the affine value */
  double min, scale; /* as parsed from the manifest (doubles, as tfjs holds them) */
} OshTfjsCodec;

/* The codec of manifest entry `entry` (its "dtype" and "quantization"); false, with *stored
 * set to the dtype name, when it is not one Offshoot reads. */
bool osh_tfjs_codec (const json_t *entry, OshTfjsCodec *c, const char **stored);

/* Value i of the stored bytes `p`, as float32 (tfjs's decoding). */
float osh_tfjs_decode (const OshTfjsCodec *c, const unsigned char *p, int64_t i);

/* The n values `v` in the codec's stored form into `out` (n · elem bytes); false when some value
 * is not held exactly (decoding the bytes would not give its float32 bits back). */
bool osh_tfjs_encode_exact (const OshTfjsCodec *c, const float *v, int64_t n, unsigned char *out);
