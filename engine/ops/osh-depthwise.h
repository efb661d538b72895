/* osh-depthwise.h — depthwise convolution (one filter per channel, depth multiplier 1) on
 * channels-last data, with the kernel repacked at plan time. Each step of the inner loop takes 16
 * channels of 8 neighbouring output pixels, so a filter tap is loaded once per 8 pixels and the
 * sums stay in registers over all taps; bias, a folded BatchNormalization and an epilogue
 * (ReLU, ReLU6, Clip, sigmoid, swish) are applied before the one store. Shared by the Keras
 * (DepthwiseConv2D, SeparableConv2D's first half) and ONNX (Conv with group = channels) ops.
 *
 *   OshDepthwiseShape s = { .batch = 1, .ih = 112, .iw = 112, .c = 32, .oh = 112, .ow = 112,
 *                           .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
 *                           .ph = 1, .pw = 1 };
 *   // Keras's (kh, kw, c, 1) kernel: tap t, channel ch at kernel[t * c + ch]
 *   OshDepthwise *d = osh_depthwise_new (&s, kernel, s.c, 1, bias);
 *   osh_depthwise_fold_affine (d, bn_scale, bn_shift);   // a BatchNormalization after it
 *   OshEpilogue swish = { OSH_EPILOGUE_SWISH, -INFINITY, INFINITY };
 *   osh_depthwise_set_epilogue (d, &swish);               // then its activation
 *   osh_depthwise_run (d, in_nhwc, out_nhwc, NULL, threads);
 *   osh_depthwise_free (d);
 *
 * ONNX's (c, 1, kh, kw) weights are tap_stride 1, chan_stride kh·kw. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-epilogue.h"

typedef struct
{
  int64_t batch, ih, iw, c; /* input, channels-last */
  int64_t oh, ow;           /* output size; it has the input's channels */
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t ph, pw; /* leading padding; the trailing side follows from the sizes */
} OshDepthwiseShape;

typedef struct OshDepthwise OshDepthwise;

/* Copies kernel[t * tap_stride + ch * chan_stride] (tap t = ky·kw + kx) and `bias` (may be NULL);
 * NULL when memory runs out or the shape is empty. */
OshDepthwise *osh_depthwise_new (const OshDepthwiseShape *s, const float *kernel,
                                 int64_t tap_stride, int64_t chan_stride, const float *bias);
/* From now on channel ch is y·scale[ch] + shift[ch]; false once an epilogue is set. */
bool osh_depthwise_fold_affine (OshDepthwise *d, const float *scale, const float *shift);
/* Outputs go through `e`; false when one is set already. */
bool osh_depthwise_set_epilogue (OshDepthwise *d, const OshEpilogue *e);
bool osh_depthwise_has_epilogue (const OshDepthwise *d);
/* `means` (may be NULL) receives the output's mean per image and channel, (batch, c), summed while
 * the results are in registers: a squeeze-excite block's global average pooling folded in. */
void osh_depthwise_run (const OshDepthwise *d, const float *in, float *out, float *means,
                        int threads);

/* Fed mode, for an input that is never stored whole (the 1×1 expansion before a depthwise
 * convolution in MobileNet and EfficientNet blocks): feed (arg, iy, n, rows) writes the n input
 * rows from iy on (each iw × c floats, one after the other) when they are first
 * needed; each row is asked for about once (once per thread's share of output rows), from any of
 * the `threads`. Batch 1 and kernels up to OSH_DEPTHWISE_MAX_KH rows: osh_depthwise_fed_ok. */
#define OSH_DEPTHWISE_MAX_KH 16
typedef void (*OshDepthwiseFeed) (void *arg, int64_t iy, int64_t n, float *rows);
bool osh_depthwise_fed_ok (const OshDepthwise *d);
void osh_depthwise_run_fed (const OshDepthwise *d, OshDepthwiseFeed feed, void *arg, float *out,
                            float *means, int threads);
/* An independent copy (weights, folds and epilogue), NULL when memory runs out. */
OshDepthwise *osh_depthwise_copy (const OshDepthwise *d);
void osh_depthwise_free (OshDepthwise *d);
