/* osh-fused-tail.h — what a convolution step has taken in from the steps around it, and the
 * one set of rules for taking more: per-channel affine maps (a BatchNormalization), an
 * epilogue (ReLU, Clip, sigmoid, SiLU ...), a residual sum, a squeeze-excite scale of the input,
 * a depthwise convolution streamed from a 1×1 one, the means of the output. Every convolution
 * front end (Keras's conv.c, ONNX's onnx-conv.c) embeds one in its params and asks it; what a
 * step amounts to is read by the front end's dialect (OshTailRead), what may be taken and how
 * it goes into the kernels is decided here.
 *
 *   osh_fused_tail_init (&t, channels);
 *   t.gemm = osh_conv_gemm_new (...);                 // the kernel the folds go into
 *   osh_fused_tail_take_next (&t, next, kind, read);  // a BatchNormalization, then a ReLU
 *   fresh = osh_conv_gemm_new (...);                  // repacked (channels-last, say):
 *   osh_fused_tail_replay (&t, fresh, NULL);          // the same folds again
 *   osh_fused_tail_clear (&t);
 */
#pragma once

#include "osh-conv-gemm.h"
#include "osh-depthwise.h"
#include "osh-epilogue.h"
#include "osh-op.h"

/* A front end's own kernel the folds may go into (ONNX's planar depthwise): how to fold into
 * it and free it. */
typedef struct
{
  void (*fold_affine) (void *k, const float *scale, const float *shift);
  bool (*set_epilogue) (void *k, const OshEpilogue *e);
  bool (*has_epilogue) (const void *k);
  void (*free) (void *k);
} OshTailKernelClass;

typedef struct
{
  /* The kernel folds go into, the first of these that is set; the tail owns them. */
  OshConvGemm *gemm; /* the packed implicit-GEMM kernel */
  OshDepthwise *dw;  /* the channels-last depthwise kernel */
  void *other;       /* a front end's own kernel, of class other_class */
  const OshTailKernelClass *other_class;
  OshDepthwise *then_dw; /* a depthwise convolution fed row by row from the 1×1 `gemm`: what
                            follows folds into it */
  int64_t then_dw_channels;
  int scale_in;    /* -1, or which input is a per-channel scale of the other (OSH_FUSE_SCALE) */
  int residual_in; /* -1, or the input added to the output before the epilogue */
  bool means_out;  /* out[1] gets the output's mean per channel (OSH_FUSE_MEAN) */
  bool folded;     /* something after the convolution was taken in */
  /* What went into the kernel, in order, for osh_fused_tail_replay. */
  int64_t channels; /* output channels: the length of each scale and shift */
  float *affine;    /* n_affine pairs: `channels` scales, then `channels` shifts */
  int n_affine;
  OshEpilogue epilogue;
  bool has_epilogue;
} OshFusedTail;

/* What a following step amounts to, as its dialect reads it. */
typedef enum
{
  OSH_TAIL_NOTHING,  /* nothing a kernel can take in */
  OSH_TAIL_AFFINE,   /* x · scale[ch] + shift[ch], written into the given arrays */
  OSH_TAIL_EPILOGUE, /* an element-wise function (osh-epilogue.h) */
} OshTailWhat;

/* Reads step `next`, offered as `kind`, over `ch` channels: an affine map into scale and shift
 * (room for ch floats each), or an epilogue into *e. */
typedef OshTailWhat (*OshTailRead) (const OshOpCall *next, OshFuseKind kind, int64_t ch,
                                    float *scale, float *shift, OshEpilogue *e);

void osh_fused_tail_init (OshFusedTail *t, int64_t channels);
/* Frees the kernels and the record. */
void osh_fused_tail_clear (OshFusedTail *t);
/* True when nothing after the convolution was taken in and no input was folded: the kernels
 * may be made again from the weights alone. */
bool osh_fused_tail_empty (const OshFusedTail *t);
/* True when nothing more may go in (the means are of the output as it stands). */
bool osh_fused_tail_closed (const OshFusedTail *t);

/* A step after the convolution, read by `read`: an affine map or an epilogue into the kernel
 * (into then_dw once a depthwise convolution is streamed). An affine map comes before an
 * epilogue and the residual, never after them. */
bool osh_fused_tail_take_next (OshFusedTail *t, const OshOpCall *next, OshFuseKind kind,
                               OshTailRead read);
/* A residual sum (OSH_CAT_SUM) after the packed kernel, added before its epilogue: c reads the
 * other operand as a new last input. */
bool osh_fused_tail_take_residual (OshFusedTail *t, OshOpCall *c, const OshOpCall *sum);
/* The squeeze-excite product x · s before the packed kernel, s one value per input channel
 * (`cin` of them on axis `chan_axis` of a rank-4 s): each run scales a copy of the kernel or of
 * x, whichever is smaller, instead of a step writing the product. Returns the floats of work
 * memory the run needs, 0 when refused. */
int64_t osh_fused_tail_take_scale (OshFusedTail *t, const OshOpCall *c, const OshOpCall *mul,
                                   int chan_axis, int64_t cin);
/* True when the 1×1 packed kernel may feed a depthwise convolution row by row (nothing about
 * its input or output taken in that the fed run cannot do). */
bool osh_fused_tail_can_stream (const OshFusedTail *t);
/* Takes `dw` (owned from now on) as the depthwise convolution `next` fed from the packed kernel,
 * its output of `channels` channels. */
void osh_fused_tail_take_stream (OshFusedTail *t, OshOpCall *c, const OshOpCall *next,
                                 OshDepthwise *dw, int64_t channels);
/* The global average pooling of the output `out` (rank 4, channels on `chan_axis`), written as
 * a second output by a kernel that `sums` as it stores. */
bool osh_fused_tail_take_mean (OshFusedTail *t, const OshOpCall *pool, const OshShape *out,
                               int chan_axis, bool sums);
/* Folds what went in (affine maps, then the epilogue) into a kernel made again: gemm, or dw when
 * gemm is NULL. False when the kernel refuses. */
bool osh_fused_tail_replay (const OshFusedTail *t, OshConvGemm *gemm, OshDepthwise *dw);
