/* onnx-depthwise.h — private to engine/onnx: the depthwise convolution kernel of onnx-conv.c.
 *
 *   OnnxDepthwiseShape s = { .c = 32, .m = 32, .h = 112, .w = 112, .oh = 112, .ow = 112,
 *                            .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
 *                            .pt = 1, .pl = 1 };
 *   OnnxDepthwise *d = onnx_depthwise_new (&s, weights, bias);  // NULL: shape not handled
 *   onnx_depthwise_run (d, x_image, y_image, scratch);          // onnx_depthwise_scratch floats
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osh-epilogue.h"

typedef struct
{
  int64_t c, m; /* input channels (= groups) and output channels (a multiple of c) */
  int64_t h, w, oh, ow, kh, kw, sh, sw, dh, dw;
  int64_t pt, pl; /* leading padding */
} OnnxDepthwiseShape;

typedef struct OnnxDepthwise OnnxDepthwise;

/* Copies the (m, 1, kh, kw) weights and the bias (may be NULL). */
OnnxDepthwise *onnx_depthwise_new (const OnnxDepthwiseShape *s, const float *weights,
                                   const float *bias);
size_t onnx_depthwise_scratch (const OnnxDepthwise *d);
/* Output channel k becomes y·scale[k] + shift[k] (a BatchNormalization folded in). */
void onnx_depthwise_fold_affine (OnnxDepthwise *d, const float *scale, const float *shift);
/* Outputs go through `e`; false when one is set already. */
bool onnx_depthwise_set_epilogue (OnnxDepthwise *d, const OshEpilogue *e);
bool onnx_depthwise_has_epilogue (const OnnxDepthwise *d);
/* One image: x (c, h, w) → y (m, oh, ow). */
void onnx_depthwise_run (const OnnxDepthwise *d, const float *x, float *y, float *scratch);
void onnx_depthwise_free (OnnxDepthwise *d);
