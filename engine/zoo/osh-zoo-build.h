/* osh-zoo-build.h — private: a small Keras-like layer API the zoo architectures are written in.
 *
 * Each call adds one layer (Keras 2 config keys, so the writers can save it), one node calling
 * it, and seeded-random weights of the right shapes; it returns the new tensor with its shape.
 * After a failure every later call is a no-op, so an architecture is straight-line code and
 * checks `b->failed` once at the end:
 *
 *   OshZooBuilder b;
 *   osh_zoo_builder_init (&b, 42, &err);
 *   OshZt x = osh_zoo_input (&b, "input_1", 224, 224, 3);
 *   x = osh_zoo_conv (&b, x, "conv1", 64, 7, 2, "same", true, "linear");
 *   x = osh_zoo_bn (&b, x, "conv1_bn", 3, 1.001e-5);
 *   return osh_zoo_builder_finish (&b, "resnet50", input, x);   // the graph, or NULL
 *
 * A NULL layer name takes Keras's automatic name ("conv2d", "conv2d_1", ...).
 */
#pragma once

#include "osh-graph.h"

typedef struct
{
  int node;       /* the node that produced it (output 0) */
  int rank;       /* without the batch dimension */
  int64_t dim[3]; /* (H, W, C), or (C) for rank 1 */
} OshZt;

typedef struct
{
  OshGraph *g;
  OshError *err;
  bool failed;
  uint64_t rng;
  json_t *auto_names; /* class prefix -> count, for Keras's automatic names */
  json_t *conv_init;  /* kernel initializer config for convolutions (NULL: GlorotUniform) */
  json_t *dense_init; /* the same for Dense */
} OshZooBuilder;

void osh_zoo_builder_init (OshZooBuilder *b, uint64_t seed, OshError *err);
/* Sets the model's inputs/outputs, infers nothing else, and hands the graph over (NULL on
 * failure, the builder's error filled). */
OshGraph *osh_zoo_builder_finish (OshZooBuilder *b, const char *model_name, OshZt input,
                                  OshZt output);
/* Records a failure (for the architectures' own checks) and returns false. */
bool osh_zoo_fail (OshZooBuilder *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

OshZt osh_zoo_input (OshZooBuilder *b, const char *name, int64_t h, int64_t w, int64_t c);

/* padding "same" or "valid"; activation a Keras name ("linear", "relu", "swish", ...). */
OshZt osh_zoo_conv (OshZooBuilder *b, OshZt x, const char *name, int64_t filters, int kernel,
                    int stride, const char *padding, bool use_bias, const char *activation);
/* The same with a rectangular kernel (InceptionV3's 1×7 and 7×1), a dilation-free Conv2D. */
OshZt osh_zoo_conv_rect (OshZooBuilder *b, OshZt x, const char *name, int64_t filters, int kh,
                         int kw, int stride, const char *padding, bool use_bias,
                         const char *activation);
OshZt osh_zoo_dwconv (OshZooBuilder *b, OshZt x, const char *name, int kernel, int stride,
                      const char *padding, bool use_bias);
OshZt osh_zoo_sepconv (OshZooBuilder *b, OshZt x, const char *name, int64_t filters, int kernel,
                       const char *padding, bool use_bias);
OshZt osh_zoo_dense (OshZooBuilder *b, OshZt x, const char *name, int64_t units,
                     const char *activation);

OshZt osh_zoo_bn (OshZooBuilder *b, OshZt x, const char *name, int axis, double epsilon,
                  double momentum);
/* The same without gamma (scale=False, as InceptionV3 uses it). */
OshZt osh_zoo_bn_unscaled (OshZooBuilder *b, OshZt x, const char *name, int axis, double epsilon,
                           double momentum);
OshZt osh_zoo_activation (OshZooBuilder *b, OshZt x, const char *name, const char *activation);
/* ReLU layer (max_value <= 0 means none). */
OshZt osh_zoo_relu (OshZooBuilder *b, OshZt x, const char *name, double max_value);

OshZt osh_zoo_zeropad (OshZooBuilder *b, OshZt x, const char *name, int top, int bottom, int left,
                       int right);
/* kind "MaxPooling2D" or "AveragePooling2D". */
OshZt osh_zoo_pool (OshZooBuilder *b, OshZt x, const char *kind, const char *name, int pool,
                    int stride, const char *padding);
OshZt osh_zoo_global_pool (OshZooBuilder *b, OshZt x, const char *kind, const char *name,
                           bool keepdims);
OshZt osh_zoo_flatten (OshZooBuilder *b, OshZt x, const char *name);
OshZt osh_zoo_dropout (OshZooBuilder *b, OshZt x, const char *name, double rate,
                       bool spatial_noise);
OshZt osh_zoo_reshape (OshZooBuilder *b, OshZt x, const char *name, int rank,
                       const int64_t *target);
/* TFOpLambda: what Keras 2 records for `x + 3.0` ("__operators__.add") or `x * y`
 * ("math.multiply") on a symbolic tensor; named "tf.<function>", "tf.<function>_1", ... */
OshZt osh_zoo_tfop (OshZooBuilder *b, OshZt x, const char *function, double y);
OshZt osh_zoo_rescaling (OshZooBuilder *b, OshZt x, const char *name, double scale, double offset);
/* Normalization with ImageNet statistics as its (non-trainable) mean and variance. */
OshZt osh_zoo_normalization (OshZooBuilder *b, OshZt x, const char *name);

/* kind "Add", "Multiply" or "Concatenate" (channel axis). */
OshZt osh_zoo_merge (OshZooBuilder *b, const char *kind, const char *name, const OshZt *xs, int n);

/* Keras's _make_divisible / EfficientNet's round_filters: the nearest multiple of `divisor`,
 * at least `divisor`, never more than 10 % below `v`. */
int64_t osh_zoo_make_divisible (double v, int divisor);

/* Keras's imagenet_utils.correct_pad for a stride-2 kernel on an input of unknown size. */
OshZt osh_zoo_correct_pad (OshZooBuilder *b, OshZt x, const char *name, int kernel);
