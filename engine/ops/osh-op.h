/* osh-op.h — the op table: one entry per layer class, each with a shape
 * function, a prepare step (parse the config, check the weights, size the
 * scratch, count FLOPs) and a run step (the kernel).
 *
 * Shape inference (osh-shapes.c) and the executor (osh-exec.c) both go through
 * this table, so a class has exactly one definition of its output shape:
 *
 *   const OshOp *op = osh_op_find (g, "Conv2D");       // NULL: unknown class
 *   OshShape out;
 *   if (!op->infer (&(OshOpCall){ .graph = g, .layer = l, .in = in, .n_in = 1,
 *                                 .out = &out, .n_out = 1 }, &err)) ...
 *
 * How to add an op: see engine/ops/README.md. Errors from these functions say
 * what was expected; the caller prefixes them with the layer's path and class.
 */
#pragma once

#include <stddef.h>

#include "osh-dialect.h"
#include "osh-epilogue.h"
#include "osh-graph.h"

/* One call of an op: set up by the caller, completed by prepare. */
typedef struct OshOpCall
{
  const OshGraph *graph;
  const OshLayer *layer;
  const OshShape *in; /* n_in input shapes (concrete when preparing) */
  int n_in;
  OshShape *out; /* n_out output shapes, written by infer */
  int n_out;
  const json_t *kwargs; /* the call's keyword arguments (TFOpLambda's `y`), may be NULL */
  bool count_only;      /* prepare only checks, sizes and counts FLOPs: it packs nothing and reads
                      no weight values (they may be NULL: osh_model_load_graph); the call never
                      runs (osh_graph_layer_flops) */

  /* Filled by prepare. */
  void *params;                 /* op-specific, released with free_params (or free) */
  void (*free_params) (void *); /* NULL: plain free() */
  size_t scratch;               /* floats of scratch memory the run needs */
  double flops;                 /* multiply-adds count as two */
  int threads;                  /* set by the executor before run */
  bool out_over_last_in; /* out[0] may be the last input's memory (set when folding a residual) */
} OshOpCall;

typedef bool (*OshOpInferFn) (OshOpCall *c, OshError *err);
typedef bool (*OshOpPrepareFn) (OshOpCall *c, OshError *err);
/* Kernels cannot fail: prepare checked everything. `in` and `out` never alias, except out[0] and
 * the last input of a step that set out_over_last_in. */
typedef void (*OshOpRunFn) (const OshOpCall *c, const float *const *in, float *const *out,
                            float *scratch);

/* How the step offered to an OshOpAbsorbFn uses c's output. */
typedef enum
{
  OSH_FUSE_NEXT,     /* `next` reads c's output and nothing else reads it */
  OSH_FUSE_SWISH,    /* `next` is a sigmoid of c's output, and the only other reader multiplies the
                     two (x · sigmoid (x), as ONNX exports write SiLU) */
  OSH_FUSE_PAD,      /* the other way round: `next` is a ZeroPadding2D whose output only c reads;
                     c then reads the unpadded input and treats the border as zeros itself */
  OSH_FUSE_SCALE,    /* the other way round: `next` is a two-input product (squeeze-excite's
                     x · s, s one value per channel) whose output only c reads; c then reads
                     next's two inputs, in next's order, and multiplies itself */
  OSH_FUSE_RESIDUAL, /* `next` adds c's output and a value computed before c (a residual Add);
                        c then also reads that value, as its last input, and adds it itself */
  OSH_FUSE_STREAM,   /* `next` reads c's output and nothing else does, and may have another shape
                      (a depthwise convolution after a 1×1 expansion): c computes next's output,
                      making its own a few rows at a time */
  OSH_FUSE_OPERAND,  /* the other way round: `next` computes one of c's two operands, element by
                       element, from the other one, and only c reads it (x · clip (x + 3, 0, 6),
                       HardSwish written out): c then reads that other operand in both places
                       and computes next itself */
  OSH_FUSE_MEAN,     /* `next` is a global average pooling of c's output, which other steps read too
                    (squeeze-excite's squeeze): c then also writes next's output, as its second */
} OshFuseKind;

/* Folds the prepared step `next` into the prepared step `c` (a BatchNormalization or an
 * activation into the convolution before it): returns true when `c` now computes next's output
 * (for OSH_FUSE_SWISH, the product's) itself, so the executor drops those steps. Only offered
 * when nobody captures c's output and the shapes are equal. */
typedef bool (*OshOpAbsorbFn) (OshOpCall *c, const OshOpCall *next, OshFuseKind kind);

/* How a step of a channels-first graph (ONNX) fares with channels-last (NHWC) memory. */
typedef enum
{
  OSH_NHWC_NO = 0, /* it reads and writes channels-first only */
  OSH_NHWC_CAN,    /* either layout: worth switching when its inputs are NHWC already */
  OSH_NHWC_GAINS,  /* faster channels-last on its own (a convolution that transposes otherwise) */
  OSH_NHWC_WRITES, /* reads channels-first, writes channels-last (a stem convolution on colours) */
} OshNhwcFit;

/* Asked of a prepared (and fused) step: could it run with every rank-4 runtime input and output
 * in NHWC memory? With `commit` it switches to that and answers the same; OSH_NHWC_NO leaves it
 * as it was. The logical shapes c->in and c->out stay NCHW. The executor converts the inputs
 * that arrive the other way; rank-4 values with one channel or one pixel are the same memory in
 * both layouts and never converted, so a step may accept them (and lower-rank operands of that
 * kind, such as a [C, 1, 1] constant) as they are. */
typedef OshNhwcFit (*OshOpChannelsLastFn) (OshOpCall *c, bool commit);

/* What an op is, as far as fusion cares: each row of a dialect's table declares its categories,
 * so the fusion patterns (engine/exec/osh-plan-fuse.c) and the absorb functions ask "a global
 * mean?", never "GlobalAveragePooling2D or GlobalAveragePool?". A category says what the op may
 * be; what a step really computes (an Activation's function, an ONNX Add of two tensors or of a
 * constant) is still checked on its prepared params, inputs and shapes. */
typedef enum
{
  OSH_CAT_CONV = 1u << 0,        /* a convolution: takes in what follows it (its absorb) */
  OSH_CAT_AFFINE = 1u << 1,      /* a per-channel scale and shift (a normalisation, x·c + d) */
  OSH_CAT_EPILOGUE = 1u << 2,    /* an element-wise activation a kernel can apply in registers */
  OSH_CAT_SIGMOID = 1u << 3,     /* the logistic sigmoid: with a product, SiLU */
  OSH_CAT_ZERO_PAD = 1u << 4,    /* zeros around the spatial borders */
  OSH_CAT_PRODUCT = 1u << 5,     /* an element-wise product of two inputs */
  OSH_CAT_SUM = 1u << 6,         /* an element-wise sum of two inputs (a residual Add) */
  OSH_CAT_GLOBAL_MEAN = 1u << 7, /* global average pooling */
  OSH_CAT_COPY = 1u << 8,        /* its output is its input's data (identity at inference) */
  OSH_CAT_LAYOUT = 1u << 9,      /* converts between memory layouts (the executor's own steps) */
} OshOpCat;

/* The weights a layer's config implies, in the order the layer holds them: each one's shape
 * (-1: any size) and what it is ("kernel", "bias"). The op's one rule for its weights: its
 * infer checks the weights by it, with the input known, and the Keras readers check a file's
 * weights by it before any shape is known (the call's n_in is then 0). */
typedef struct
{
  int n;
  OshShape shape[4];
  const char *what[4];
} OshWeightRule;
/* False (with err) when the config itself cannot be read (a kernel_size that is not sizes). */
typedef bool (*OshOpWeightsFn) (const OshOpCall *c, OshWeightRule *rule, OshError *err);

typedef struct OshOp
{
  const char *name; /* the class name as its dialect spells it */
  OshOpInferFn infer;
  OshOpPrepareFn prepare; /* NULL: no parameters */
  OshOpRunFn run;         /* NULL: the class is known to shape inference but cannot run */
  OshOpAbsorbFn absorb;   /* NULL: never folds what follows */
  OshOpChannelsLastFn channels_last; /* NULL: channels-first only */
  unsigned cats;                     /* OshOpCat bits */
  OshOpWeightsFn weights;            /* NULL: no rule for the weights */
} OshOp;

/* The op for a class of graph `g`, from its dialect's table (Keras's, osh-op-table.c, for a
 * graph without a dialect). */
const OshOp *osh_op_find (const OshGraph *g, const char *class_name);

/* The categories (OshOpCat) of the op call `c` runs, from its graph's dialect's table; 0 for an
 * unknown class. */
unsigned osh_op_call_cats (const OshOpCall *c);
/* True when call `c` runs an op of every category in `cats`. */
bool osh_op_call_is (const OshOpCall *c, unsigned cats);

/* Keras, the IR's own dialect (osh-op-table.c). */
extern const OshDialect osh_keras_dialect;

/* ---- the graph's dialect (osh-dialect.c) ---- */

/* The dialect of `g`: g->dialect, or Keras's when the reader set none. */
const OshDialect *osh_dialect_of (const OshGraph *g);

/* The tensor named `name` by the user: the first output of the layer with that name (a path
 * into nested models where the dialect has them), else a tensor the file names so; { -1, 0 }. */
OshRef osh_dialect_find_tensor (const OshGraph *g, const char *name);

/* The name of tensor `ref` as the file names it (the dialect's), else its layer's path;
 * malloc'd. */
char *osh_dialect_tensor_name (const OshGraph *g, OshRef ref);

/* ---- helpers shared by the op files (osh-op-util.c) ---- */

/* True when the layer works on channels-first data (data_format, Keras 1 dim_ordering "th",
 * or a channels-first graph such as ONNX). */
bool osh_op_channels_first (const OshOpCall *c);

/* How a sliding window is padded along one axis. */
typedef enum
{
  OSH_PAD_EXPLICIT,   /* the given leading and trailing padding (Keras "valid": 0 and 0) */
  OSH_PAD_SAME_UPPER, /* Keras/TF "same", ONNX SAME_UPPER: ceil (in / stride) outputs, the odd
                         padding pixel at the end */
  OSH_PAD_SAME_LOWER, /* ONNX SAME_LOWER: the same, the odd pixel at the start */
} OshPadMode;

/* THE sliding-window rule, along one axis: returns the output size (-1 stays -1, unknown; 0 when
 * the window does not fit). OSH_PAD_EXPLICIT reads *lead and *trail; the SAME modes write them.
 * `ceil` is ONNX's ceil_mode (explicit padding only): the size rounds up, keeping the last
 * window's start inside the input or its leading padding. Every output size and padding of a
 * convolution or pooling (Keras and ONNX ops, the zoo builder, the ONNX export) comes from here. */
int64_t osh_op_window (int64_t in, int64_t k, int64_t stride, int64_t dilation, OshPadMode mode,
                       bool ceil, int64_t *lead, int64_t *trail);
/* Shorthands for Keras: the output size ("same" or "valid"), and the leading padding of "same". */
int64_t osh_op_window_out (int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same);
int64_t osh_op_same_pad (int64_t in, int64_t k, int64_t stride, int64_t dilation);

/* "same" (true) or "valid" (false); anything else fails. */
bool osh_op_padding (const OshOpCall *c, bool *same, OshError *err);

/* Reads `n` ints of config key (int or list) or fills `fallback`; fails on values < min. */
bool osh_op_ints (const OshOpCall *c, const char *key, int64_t *out, int n, int64_t fallback,
                  int64_t min, OshError *err);

/* Zeroed params of `size` bytes for prepare, set as c->params (freed with free); NULL after
 * failing with "out of memory". */
void *osh_op_params (OshOpCall *c, size_t size, OshError *err);

/* The layer's weight `i` when it exists, else NULL. */
const OshTensor *osh_op_weight (const OshOpCall *c, int i);

/* Fails with both shapes in the message unless `w` has `rank` and the given sizes (-1 = any). */
bool osh_op_check_weight (const OshOpCall *c, int i, int rank, const int64_t *dims,
                          const char *what, OshError *err);

/* A shape error naming both shapes: "<what>: (None, 8) and (None, 4)". */
bool osh_op_shape_fail (OshError *err, const char *what, const OshShape *a, const OshShape *b);

/* Keras broadcasting of two shapes (numpy rules; -1 broadcasts like an unknown size). */
bool osh_op_broadcast (const OshShape *a, const OshShape *b, OshShape *out);

/* Splits [0, n) over up to `threads` threads; fn (arg, begin, end). Runs inline for one. */
void osh_parallel_for (int threads, int64_t n, void (*fn) (void *arg, int64_t begin, int64_t end),
                       void *arg);

/* Denormal inputs and results flushed to zero (FTZ and DAZ) from now on, on the calling thread;
 * returns what to give osh_fp_restore. A product or sum near 1e-38 otherwise takes a microcode
 * assist of ~100 cycles: EfficientNetB7 with random weights ran 30 times slower. TensorFlow's
 * CPU kernels flush denormals too, so results stay Keras's. */
unsigned osh_fp_flush_denormals (void);
void osh_fp_restore (unsigned saved);

/* ---- activations (activation.c), also used fused by Conv/Dense ---- */
typedef enum
{
  OSH_ACT_LINEAR = 0,
  OSH_ACT_RELU,
  OSH_ACT_RELU6,
  OSH_ACT_ELU,
  OSH_ACT_SELU,
  OSH_ACT_GELU,
  OSH_ACT_GELU_TANH,
  OSH_ACT_SIGMOID,
  OSH_ACT_HARD_SIGMOID_K2, /* Keras 2 / tfjs: clip(0.2x + 0.5, 0, 1) */
  OSH_ACT_HARD_SIGMOID_K3, /* Keras 3: relu6(x + 3) / 6 */
  OSH_ACT_SWISH,
  OSH_ACT_HARD_SWISH,
  OSH_ACT_TANH,
  OSH_ACT_SOFTMAX, /* along the last axis */
  OSH_ACT_SOFTPLUS,
  OSH_ACT_SOFTSIGN,
  OSH_ACT_EXPONENTIAL,
  OSH_ACT_LEAKY_RELU, /* alpha 0.2 (Keras 3) / 0.3 (Keras 2) */
  OSH_ACT_MISH,
  OSH_ACT_LOG_SOFTMAX,
  OSH_ACT_COUNT
} OshActKind;

typedef struct
{
  OshActKind kind;
  float alpha;
} OshAct;

/* Parses an activation name (or a {"class_name", "config"} object) for layer `c`. */
bool osh_act_parse (const OshOpCall *c, const json_t *value, OshAct *act, OshError *err);
/* The layer's `activation` config key (absent → linear). */
bool osh_act_from_config (const OshOpCall *c, OshAct *act, OshError *err);
/* Applies in place on `rows` rows of `cols` floats (softmax works per row). */
void osh_act_apply (const OshAct *act, float *x, int64_t rows, int64_t cols, int threads);
/* ---- resizing (resize.c): THE kernel of Keras's UpSampling2D and Resizing and ONNX's Resize,
 * whose coordinate rules differ only in the taps each front end makes when preparing ---- */

/* The source row (or column) of an output one, and for linear resizing the next one and its
 * weight: out = in[i0] + (in[i1] - in[i0]) · w. */
typedef struct
{
  int64_t i0, i1;
  float w;
} OshResizeTap;

typedef struct
{
  OshResizeTap *y, *x; /* oh and ow taps */
  int64_t ih, iw, oh, ow;
  bool linear; /* else nearest: i0 only */
} OshResizeTaps;

bool osh_resize_taps_init (OshResizeTaps *t, int64_t ih, int64_t iw, int64_t oh, int64_t ow,
                           bool linear, OshError *err);
void osh_resize_taps_clear (OshResizeTaps *t);
/* `images` images of ih × iw pixels, each pixel `ch` adjacent floats (NHWC: the channels;
 * planar NCHW: 1, with an image per channel), resized to oh × ow. */
void osh_resize_apply (const OshResizeTaps *t, const float *src, float *dst, int64_t images,
                       int64_t ch);

/* THE softmax (or log-softmax) of data seen as [outer, len, inner] along `len`, for Keras's
 * activation and layer and ONNX's Softmax/LogSoftmax; y may be x. */
void osh_softmax (const float *x, float *y, int64_t outer, int64_t len, int64_t inner,
                  bool log_form);
/* What an activation layer step computes, when it is one activation applied element by element
 * (Activation other than softmax, ReLU without threshold or slope, max_value none or 6). */
bool osh_act_layer_elementwise (const OshOpCall *c, OshAct *act);
/* The epilogue a prepared Multiply step computes when both its inputs are one value x and it
 * folded in a step computing a function of x (x · hard_sigmoid (x)). */
bool osh_merge_epilogue (const OshOpCall *c, OshEpilogue *e);
/* The epilogue (osh-epilogue.h) an activation amounts to, if it has one: ReLU, ReLU6, sigmoid,
 * swish, hard sigmoid, hard swish. */
bool osh_act_epilogue (const OshAct *act, OshEpilogue *e);
/* Leading (top, left) padding of a prepared channels-last ZeroPadding2D step. */
bool osh_zero_padding_leading (const OshOpCall *c, int64_t *top, int64_t *left);
/* ---- the per-channel affine map (norm.c), shared by Keras's and ONNX's normalisations ---- */
typedef struct
{
  int64_t outer, ch, inner;   /* the data as (outer, ch, inner): channels-last has inner 1,
                                 channels-first (batch, ch, pixels) has outer = batch */
  const float *scale, *shift; /* y = x·scale[ch] + shift[ch], */
  float lo, hi;               /* then clamped to [lo, hi] (infinite: no clamp) */
} OshAffineMap;

/* Applies `m` from x to y, split over up to `threads` threads when large. */
void osh_affine_map_run (const OshAffineMap *m, const float *x, float *y, int threads);
/* Inference BatchNormalization as a map: scale = gamma / sqrt (var + eps), shift = beta -
 * mean·scale, for `ch` channels (gamma NULL: 1, beta NULL: 0). */
void osh_batchnorm_coefficients (int64_t ch, const float *gamma, const float *beta,
                                 const float *mean, const float *var, float eps, float *scale,
                                 float *shift);
/* Per-channel scale and shift of a prepared BatchNormalization step whose channels are the last
 * axis, with `ch` channels. */
bool osh_affine_channels (const OshOpCall *c, int64_t ch, const float **scale, const float **shift);
/* min (max (x·scale + shift, lo), hi), the same for every channel, when the prepared step is a
 * per-channel affine map (BatchNormalization, Rescaling, TFOpLambda's x + c, ...) of that form,
 * a folded ReLU included (lo, hi infinite without). */
bool osh_affine_uniform_clamp (const OshOpCall *c, float *scale, float *shift, float *lo,
                               float *hi);
/* Keras 2 hard_sigmoid or Keras 3 hard_sigmoid for this graph (keras_version in meta). */
bool osh_op_keras3 (const OshGraph *g);
/* True when UpSampling2D(bilinear) samples without half-pixel centres: tfjs models and Keras
 * before 2.4 (TF 1's resize_bilinear); Keras 2.4+ and 3 use TF 2's half-pixel resize. */
bool osh_op_legacy_bilinear (const OshGraph *g);

/* Checks one input (two or more for `min_inputs` > 1) of rank within [min_rank, max_rank]. */
bool osh_op_need (const OshOpCall *c, int min_inputs, int min_rank, int max_rank, OshError *err);

/* Normalises a possibly negative axis against `rank`; -1 when out of range. */
int osh_op_axis (int64_t axis, int rank);

/* A 1-D or 2-D sliding window seen as 2-D (1-D: height 1), for conv and pooling kernels. */
typedef struct
{
  int64_t kh, kw, sh, sw, dh, dw, ph, pw, ih, iw, oh, ow;
} OshWindow2D;

/* `sp` (1 or 2) entries each of kernel, stride, dilation (NULL = 1), leading pad, input and
 * output sizes. */
OshWindow2D osh_op_window2d (int sp, const int64_t *k, const int64_t *s, const int64_t *d,
                             const int64_t *pad, const int64_t *in, const int64_t *out);

/* Channels-first layers run their NHWC kernels between these two transposes:
 * (batch, ch, pixels) ↔ (batch, pixels, ch). */
void osh_op_to_channels_last (const float *in, float *out, int64_t batch, int64_t ch,
                              int64_t pixels);
void osh_op_to_channels_first (const float *in, float *out, int64_t batch, int64_t ch,
                               int64_t pixels);

/* ---- pooling kernels on channels-last data (pool.c), shared by Keras and ONNX ---- */

/* Max, or average over the window's real pixels (Keras's rule; ONNX's without
 * count_include_pad), of (batch, w->ih, w->iw, ch) into (batch, w->oh, w->ow, ch); dilation 1. */
void osh_pool_channels_last (const OshWindow2D *w, int64_t batch, int64_t ch, bool max,
                             const float *in, float *out, int threads);
/* Global max or average over `pixels` of (batch, pixels, ch), or channels-first
 * (batch, ch, pixels), into (batch, ch). */
void osh_global_pool (const float *in, float *out, int64_t batch, int64_t ch, int64_t pixels,
                      bool channels_first, bool max);
