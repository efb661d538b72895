/* onnx-op-util.h — private helpers of the ONNX ops (engine/onnx/onnx-*.c).
 *
 * An ONNX node's inputs are "slots" (osh-onnx.h): each is a runtime tensor (one of the node's
 * inputs), a constant (one of the layer's weights: an initializer or a Constant) or absent.
 * Ops read shapes and, for parameters that decide shapes (Reshape's shape, Slice's starts...),
 * constant values through these helpers; kernels read data through onnx_slot_data. */
#pragma once

#include <math.h>

#include "osh-onnx.h"
#include "osh-op.h"

typedef struct
{
  bool present;
  const OshShape *shape;
  const float *value; /* constants only: known when preparing */
  int tensor;         /* index into the node's runtime inputs, or -1 */
} OnnxSlot;

int onnx_n_slots (const OshOpCall *c);
/* Slot i (absent when i is past the end). */
OnnxSlot onnx_slot (const OshOpCall *c, int i);
/* Slot i's data while running. */
const float *onnx_slot_data (const OshOpCall *c, const float *const *in, int i);

/* Fails unless slot i is present (and, with `constant`, a constant). */
bool onnx_need (const OshOpCall *c, int i, bool constant, const char *what, OshError *err);

int64_t onnx_attr_int (const OshOpCall *c, const char *key, int64_t fallback);
float onnx_attr_float (const OshOpCall *c, const char *key, float fallback);
const char *onnx_attr_str (const OshOpCall *c, const char *key, const char *fallback);
/* Up to `max` ints of a list attribute; returns how many (0 when absent), -1 when malformed. */
int onnx_attr_ints (const OshOpCall *c, const char *key, int64_t *out, int max);
/* The auto_pad attribute as osh_op_window's padding mode; VALID zeroes `pads` (top, left,
 * bottom, right), NOTSET keeps them. */
OshPadMode onnx_auto_pad (const OshOpCall *c, int64_t pads[4]);
/* The model's opset for the default domain (13 when unknown). */
int onnx_opset (const OshOpCall *c);

/* Normalises a possibly negative axis for `rank`; fails when out of range. */
bool onnx_axis (int64_t axis, int rank, int *out, OshError *err);

/* numpy broadcasting of n shapes into `out`; fails naming the shapes. */
bool onnx_broadcast (const OshShape *const *shapes, int n, OshShape *out, OshError *err);
/* Strides (in elements) of `s` as seen from broadcast shape `to`: 0 on broadcast axes. */
void onnx_broadcast_strides (const OshShape *s, const OshShape *to, int64_t *strides);

/* Elements of `s` (of its axes [from, to)); -1 when a size is open. */
int64_t onnx_numel (const OshShape *s);
int64_t onnx_numel_range (const OshShape *s, int from, int to);
/* C-order strides (in elements) of `s`. */
void onnx_strides (const OshShape *s, int64_t *strides);
/* Advances the multi-index `idx` over the first `axes` axes of `s` in C order (wrapping). */
void onnx_next_index (int64_t *idx, const OshShape *s, int axes);

/* The op families (one file each); osh-onnx-ops.c maps op types onto them. */
#define ONNX_FAMILY(f)                                                                             \
  bool onnx_##f##_infer (OshOpCall *c, OshError *err);                                             \
  bool onnx_##f##_prepare (OshOpCall *c, OshError *err);                                           \
  void onnx_##f##_run (const OshOpCall *c, const float *const *in, float *const *out,              \
                       float *scratch);
ONNX_FAMILY (unary)  /* onnx-elementwise.c: Relu, Sigmoid, Clip, Cast, Identity, ... */
ONNX_FAMILY (binary) /* onnx-elementwise.c: Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean, PRelu */
ONNX_FAMILY (conv)   /* onnx-conv.c: Conv */
ONNX_FAMILY (convtr) /* onnx-conv.c: ConvTranspose */
/* onnx-norm.c: the per-channel scale and shift (`ch` of each) a prepared BatchNormalization step
 * computes, when its statistics are constants and it has one output. */
bool onnx_batchnorm_affine (const OshOpCall *c, int64_t ch, const float **scale,
                            const float **shift);

/* onnx-conv.c: Conv takes in a BatchNormalization, Relu, Clip, Sigmoid or SiLU that follows it. */
bool onnx_conv_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind);
/* onnx-elementwise.c: a broadcasting op takes in a Relu or Clip that follows it. */
bool onnx_binary_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind);
/* onnx-elementwise.c, from the step's category and prepared params: when `next` adds, subtracts,
 * multiplies or divides the one tensor it reads by a constant of one value per channel of
 * `channels` (or one value in all; with `channels` 1, only that), the y·scale[ch] + shift[ch] it
 * amounts to (a division as a multiplication by the reciprocal). Folds the step took in itself
 * are not part of it. */
bool onnx_affine_of (const OshOpCall *next, int64_t channels, float *scale, float *shift);
/* The epilogue a HardSwish or HardSigmoid step computes, or a product x · clamp (x·a + b) made
 * one step (onnx-elementwise.c: HardSwish written out, as PaddleOCR does). */
bool onnx_hard_epilogue (const OshOpCall *next, OshEpilogue *e);
/* onnx-elementwise.c, from the step's category and prepared params: the range a Relu or Clip step
 * clamps to; false for other steps and run-time bounds. */
bool onnx_clamp_of (const OshOpCall *next, float *lo, float *hi);
/* onnx-resize.c: the leading (top, left) padding of a prepared Pad step when it pads the two
 * spatial axes of an NCHW tensor with zeros, nothing cropped. */
bool onnx_zero_pad_leading (const OshOpCall *c, int64_t *top, int64_t *left);
/* The layout hooks (OshOpChannelsLastFn) of the ops that can run channels-last. */
OshNhwcFit onnx_conv_channels_last (OshOpCall *c, bool commit);
OshNhwcFit onnx_unary_channels_last (OshOpCall *c, bool commit);
OshNhwcFit onnx_binary_channels_last (OshOpCall *c, bool commit);
OshNhwcFit onnx_pool_channels_last (OshOpCall *c, bool commit);
OshNhwcFit onnx_concat_channels_last (OshOpCall *c, bool commit);
OshNhwcFit onnx_batchnorm_channels_last (OshOpCall *c, bool commit);
OshNhwcFit onnx_resize_channels_last (OshOpCall *c, bool commit);

/* The channels-last view of an NCHW shape of rank ≤ 4 (padded to rank 4 with leading ones):
 * (n, c, h, w) → (n, h, w, c). */
OshShape onnx_nhwc_shape (const OshShape *s);
/* Whether slot i can be read as channels-last memory by a step switched to NHWC: a runtime
 * rank-4 tensor (the executor converts it when needed) or any operand of rank ≤ 4 with one
 * channel or one pixel, whose memory is the same in both layouts. */
bool onnx_slot_nhwc_ready (const OshOpCall *c, int i);
ONNX_FAMILY (pool)      /* onnx-pool.c: MaxPool, AveragePool, Global*Pool */
ONNX_FAMILY (batchnorm) /* onnx-norm.c */
ONNX_FAMILY (softmax)   /* onnx-norm.c: Softmax, LogSoftmax */
ONNX_FAMILY (reduce)    /* onnx-norm.c: ReduceMean, ReduceSum, ReduceMax, ReduceMin */
ONNX_FAMILY (gemm)      /* onnx-matmul.c: Gemm */
ONNX_FAMILY (matmul)    /* onnx-matmul.c: MatMul */
ONNX_FAMILY (layout) /* onnx-shape.c: Reshape, Flatten, Squeeze, Unsqueeze, Identity-like copies */
ONNX_FAMILY (transpose) /* onnx-shape.c */
ONNX_FAMILY (concat)    /* onnx-shape.c */
ONNX_FAMILY (split)     /* onnx-shape.c */
ONNX_FAMILY (slice)     /* onnx-shape.c */
ONNX_FAMILY (gather)    /* onnx-shape.c */
ONNX_FAMILY (shape)     /* onnx-shape.c: Shape */
ONNX_FAMILY (input)     /* onnx-shape.c: graph inputs (InputLayer) */
ONNX_FAMILY (pad)       /* onnx-resize.c: Pad */
ONNX_FAMILY (resize)    /* onnx-resize.c: Resize, Upsample */
ONNX_FAMILY (expand)    /* onnx-resize.c: Expand, Tile */
ONNX_FAMILY (fill)      /* onnx-generate.c: ConstantOfShape */
ONNX_FAMILY (range)     /* onnx-generate.c: Range */
ONNX_FAMILY (qlinear)   /* onnx-quant.c: QuantizeLinear, DequantizeLinear */
ONNX_FAMILY (dynquant)  /* onnx-quant.c: DynamicQuantizeLinear */
ONNX_FAMILY (convint)   /* onnx-quant.c: ConvInteger, QLinearConv */
ONNX_FAMILY (matint)    /* onnx-quant.c: MatMulInteger, QLinearMatMul */
ONNX_FAMILY (argmax)    /* onnx-index.c: ArgMax */
ONNX_FAMILY (topk)      /* onnx-index.c: TopK */
ONNX_FAMILY (gathernd)  /* onnx-index.c: GatherND */
ONNX_FAMILY (onehot)    /* onnx-index.c: OneHot */
ONNX_FAMILY (logic)     /* onnx-logic.c: Equal, Greater…, And, Or, Xor, Not, Where, Mod */
#undef ONNX_FAMILY

/* For a sliding window reading input column ox * stride + offset: the output columns [*lo, *hi)
 * whose column lies inside [0, size), so inner loops run without bounds checks. */
void onnx_valid_range (int64_t n_out, int64_t stride, int64_t offset, int64_t size, int64_t *lo,
                       int64_t *hi);
