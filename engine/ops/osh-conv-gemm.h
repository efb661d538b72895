/* osh-conv-gemm.h — convolution as an implicit matrix product on channels-last data, with the
 * kernel packed once at plan time. No im2col copy: each output pixel's row of the product is read
 * straight from the input, tap by tap; bias and an epilogue (ReLU, ReLU6, Clip, sigmoid, swish)
 * are applied while the result is still in registers. Shared by the Keras (NHWC) and ONNX (NCHW, transposed around the
 * call) convolutions.
 *
 *   OshConvShape s = { .batch = 1, .ih = 56, .iw = 56, .cin = 64, .oh = 56, .ow = 56,
 *                      .cout = 64, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
 *                      .ph = 1, .pw = 1, .groups = 1 };
 *   OshKernelStrides keras = osh_kernel_strides_keras (&s);   // (kh, kw, cin, cout)
 *   OshConvGemm *cg = osh_conv_gemm_new (&s, kernel, keras, bias);
 *   osh_conv_gemm_fold_affine (cg, bn_scale, bn_shift);     // a BatchNormalization after it
 *   OshEpilogue relu = osh_epilogue_clamp (0.0f, INFINITY);
 *   osh_conv_gemm_set_epilogue (cg, &relu);                  // then a ReLU
 *   if (cg) osh_conv_gemm_run (cg, in_nhwc, out_nhwc, threads);
 *   osh_conv_gemm_free (cg);
 *
 * osh_conv_gemm_new returns NULL when this build has no fast kernel for the shape (no AVX-512,
 * or groups too narrow to fill a vector) or memory runs out: callers keep their cblas path. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-epilogue.h"

typedef struct
{
  int64_t batch, ih, iw, cin; /* input, channels-last */
  int64_t oh, ow, cout;       /* output, channels-last */
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t ph, pw; /* leading padding; the trailing side follows from the sizes */
  int64_t groups;
  bool planar_out; /* write the output channels-first, (batch, cout, oh, ow) */
  /* read the input channels-first, (batch, cin, ih, iw), writing channels-last: for a stem's few
   * colour channels (one group, horizontal stride 1 or 2, no horizontal dilation); no extras */
  bool planar_in;
} OshConvShape;

/* Where kernel element (tap ky, kx; input channel ci within its group; output channel m,
 * counted over all groups) lives: ky * ky_ + kx * kx_ + ci * ci_ + m * m_. */
typedef struct
{
  int64_t ky, kx, ci, m;
} OshKernelStrides;

typedef struct OshConvGemm OshConvGemm;

/* Keras (kh, kw, cin / groups, cout) and ONNX (cout, cin / groups, kh, kw) kernel layouts. */
OshKernelStrides osh_kernel_strides_keras (const OshConvShape *s);
OshKernelStrides osh_kernel_strides_onnx (const OshConvShape *s);

/* Packs `kernel` and `bias` (may be NULL). */
OshConvGemm *osh_conv_gemm_new (const OshConvShape *s, const float *kernel, OshKernelStrides ks,
                                const float *bias);
/* From now on output channel m is y·scale[m] + shift[m] (a BatchNormalization folded in). */
void osh_conv_gemm_fold_affine (OshConvGemm *cg, const float *scale, const float *shift);
/* Outputs go through `e` (a ReLU, Clip or swish folded in); false when one is set already. */
bool osh_conv_gemm_set_epilogue (OshConvGemm *cg, const OshEpilogue *e);
/* True once an epilogue is set: an affine step can no longer be folded after it. */
bool osh_conv_gemm_has_epilogue (const OshConvGemm *cg);
void osh_conv_gemm_run (const OshConvGemm *cg, const float *in, float *out, int threads);

/* What a run can take in besides the input (each may be NULL):
 * - scale: in[pixel, ci] · scale[ci] is convolved (a squeeze-excite Multiply folded in): the
 *   packed kernel is copied into `work` with the rows of channel ci scaled, or the input with
 *   its channels scaled when it is the smaller of the two. One group, batch 1; `work` holds
 *   osh_conv_gemm_work_floats (cg) floats.
 * - residual: a tensor of the output's shape and layout added to the sums before the epilogue
 *   (a residual Add folded in, ReLU after it). */
typedef struct
{
  const float *scale;
  float *work;
  const float *residual;
} OshConvGemmExtras;

int64_t osh_conv_gemm_work_floats (const OshConvGemm *cg);
void osh_conv_gemm_run_with (const OshConvGemm *cg, const float *in, const OshConvGemmExtras *x,
                             float *out, int threads);
/* Output pixels [p0, p0 + count) of the one image `in` (row-major over oh × ow), channels-last
 * into `out`, on the calling thread: a consumer making its input a few rows at a time. */
void osh_conv_gemm_run_pixels (const OshConvGemm *cg, const float *in, int64_t p0, int64_t count,
                               float *out);
/* A producer for a fed depthwise convolution (osh_depthwise_run_fed, an OshDepthwiseFeed):
 * writes rows [iy, iy + n) of the convolution's output of image `in`, channels-last.
 *   OshConvGemmRows feed = { cg, in_nhwc };
 *   osh_depthwise_run_fed (dw, osh_conv_gemm_feed_rows, &feed, out, threads); */
typedef struct
{
  const OshConvGemm *cg;
  const float *in;
} OshConvGemmRows;
void osh_conv_gemm_feed_rows (void *rows, int64_t iy, int64_t n, float *out);
void osh_conv_gemm_free (OshConvGemm *cg);
