/* onnx-depthwise-impl.h — the NCHW depthwise convolution's inside, shared by onnx-depthwise.c
 * (weights, dispatch) and the loops compiled once per path (onnx-depthwise-kernel.c). */
#pragma once

#include "onnx-depthwise.h"
#include "osh-isa.h"

struct OnnxDepthwise
{
  int64_t c, m, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  int64_t rows, width; /* padded buffer: rows × width (× 2 halves for stride 2) */
  float *weights;      /* m × kh × kw, then m biases */
  OshEpilogue ep;
};

OSH_ISA_DECLARE (void, onnx_depthwise_run,
                 (const OnnxDepthwise *d, const float *x, float *y, float *scratch));
