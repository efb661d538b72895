/* ONNX element-wise ops: unary (Relu, Sigmoid, Clip, Cast, ...) and broadcasting n-ary
 * (Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean, PRelu). Layout does not matter here.
 * Over 700 lines because the folds that read these ops' prepared params (clamp, affine, the
 * hard-swish pair) live beside the params they read; splitting them off would export the
 * Unary and Binary structs to a second file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"
#include "osh-kernels.h"
#include "osh-vec.h"

typedef enum
{
  U_RELU,
  U_SIGMOID,
  U_TANH,
  U_LEAKY,
  U_ELU,
  U_SELU,
  U_CELU,
  U_HSIG,
  U_HSWISH,
  U_CLIP,
  U_SOFTPLUS,
  U_SOFTSIGN,
  U_EXP,
  U_LOG,
  U_SQRT,
  U_NEG,
  U_ABS,
  U_RECIP,
  U_FLOOR,
  U_CEIL,
  U_ROUND,
  U_ERF,
  U_SIN,
  U_COS,
  U_SIGN,
  U_THRELU,
  U_MISH,
  U_GELU,
  U_COPY,
  U_TRUNC,
  U_BOOL, /* Cast to bool: any non-zero value is true */
  U_HALF, /* Cast to float16: the value float16 holds, computed on in float32 */
  U_COUNT
} UnaryKind;

static const struct
{
  const char *name;
  UnaryKind kind;
} unary_names[] = {
  { "Relu", U_RELU },         { "Sigmoid", U_SIGMOID },
  { "Tanh", U_TANH },         { "LeakyRelu", U_LEAKY },
  { "Elu", U_ELU },           { "Selu", U_SELU },
  { "Celu", U_CELU },         { "HardSigmoid", U_HSIG },
  { "HardSwish", U_HSWISH },  { "Clip", U_CLIP },
  { "Softplus", U_SOFTPLUS }, { "Softsign", U_SOFTSIGN },
  { "Exp", U_EXP },           { "Log", U_LOG },
  { "Sqrt", U_SQRT },         { "Neg", U_NEG },
  { "Abs", U_ABS },           { "Reciprocal", U_RECIP },
  { "Floor", U_FLOOR },       { "Ceil", U_CEIL },
  { "Round", U_ROUND },       { "Erf", U_ERF },
  { "Sin", U_SIN },           { "Cos", U_COS },
  { "Sign", U_SIGN },         { "ThresholdedRelu", U_THRELU },
  { "Mish", U_MISH },         { "Gelu", U_GELU },
  { "Identity", U_COPY },     { "Dropout", U_COPY },
  { "Cast", U_COPY },
};

typedef struct
{
  UnaryKind kind;
  float a, b;        /* alpha/beta, clip bounds */
  bool clip_runtime; /* Clip bounds are runtime tensors */
  OshAct act;        /* the Keras activation computing the same thing, or OSH_ACT_COUNT */
} Unary;

/* The activations ONNX and Keras share run through one implementation (osh_act_apply in
 * engine/ops/activation.c); only ONNX's parameterised forms (Selu, HardSigmoid with other
 * constants) and the plain math ops stay here. */
static OshAct
shared_activation (const Unary *u)
{
  const float selu_a = 1.6732632423543772f, selu_g = 1.0507009873554805f;
  switch (u->kind)
    {
    case U_COPY: return (OshAct){ OSH_ACT_LINEAR, 0 };
    case U_RELU: return (OshAct){ OSH_ACT_RELU, 0 };
    case U_SIGMOID: return (OshAct){ OSH_ACT_SIGMOID, 0 };
    case U_TANH: return (OshAct){ OSH_ACT_TANH, 0 };
    case U_LEAKY: return (OshAct){ OSH_ACT_LEAKY_RELU, u->a };
    case U_ELU: return u->a != 0 ? (OshAct){ OSH_ACT_ELU, u->a } : (OshAct){ OSH_ACT_RELU, 0 };
    case U_SELU:
      return u->a == selu_a && u->b == selu_g ? (OshAct){ OSH_ACT_SELU, 0 }
                                              : (OshAct){ OSH_ACT_COUNT, 0 };
    case U_HSIG:
      return u->a == 0.2f && u->b == 0.5f ? (OshAct){ OSH_ACT_HARD_SIGMOID_K2, 0 }
                                          : (OshAct){ OSH_ACT_COUNT, 0 };
    case U_HSWISH: return (OshAct){ OSH_ACT_HARD_SWISH, 0 };
    case U_SOFTPLUS: return (OshAct){ OSH_ACT_SOFTPLUS, 0 };
    case U_SOFTSIGN: return (OshAct){ OSH_ACT_SOFTSIGN, 0 };
    case U_EXP: return (OshAct){ OSH_ACT_EXPONENTIAL, 0 };
    case U_MISH: return (OshAct){ OSH_ACT_MISH, 0 };
    case U_GELU: return (OshAct){ u->a != 0 ? OSH_ACT_GELU_TANH : OSH_ACT_GELU, 0 };
    default: return (OshAct){ OSH_ACT_COUNT, 0 };
    }
}

bool
onnx_unary_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "X", err))
    return false;
  for (int i = 0; i < c->n_out; i++)
    c->out[i] = *onnx_slot (c, 0).shape; /* Dropout's mask has X's shape too */
  return true;
}

/* ONNX TensorProto data types that hold integers (Cast truncates toward zero for them). */
static bool
is_integer_type (int64_t t)
{
  return (t >= 2 && t <= 7) || t == 9 || t == 12 || t == 13;
}

bool
onnx_unary_prepare (OshOpCall *c, OshError *err)
{
  Unary *u = calloc (1, sizeof *u);
  if (!u)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = u;
  u->kind = U_COUNT;
  for (size_t i = 0; i < sizeof unary_names / sizeof unary_names[0]; i++)
    if (strcmp (unary_names[i].name, c->layer->class_name) == 0)
      u->kind = unary_names[i].kind;
  switch (u->kind)
    {
    case U_LEAKY: u->a = onnx_attr_float (c, "alpha", 0.01f); break;
    case U_ELU:
    case U_CELU:
    case U_THRELU: u->a = onnx_attr_float (c, "alpha", 1.0f); break;
    case U_SELU:
      u->a = onnx_attr_float (c, "alpha", 1.67326319217681884765625f);
      u->b = onnx_attr_float (c, "gamma", 1.05070102214813232421875f);
      break;
    case U_HSIG:
      u->a = onnx_attr_float (c, "alpha", 0.2f);
      u->b = onnx_attr_float (c, "beta", 0.5f);
      break;
    case U_CLIP:
      u->a = onnx_attr_float (c, "min", -INFINITY);
      u->b = onnx_attr_float (c, "max", INFINITY);
      for (int i = 1; i <= 2; i++)
        {
          OnnxSlot s = onnx_slot (c, i);
          if (s.present && s.value)
            *(i == 1 ? &u->a : &u->b) = s.value[0];
          else if (s.present)
            u->clip_runtime = true;
        }
      break;
    case U_COPY:
      if (strcmp (c->layer->class_name, "Cast") == 0 && onnx_attr_int (c, "to", 1) == 9)
        u->kind = U_BOOL;
      else if (strcmp (c->layer->class_name, "Cast") == 0
               && is_integer_type (onnx_attr_int (c, "to", 1)))
        u->kind = U_TRUNC;
      else if (strcmp (c->layer->class_name, "Cast") == 0 && onnx_attr_int (c, "to", 1) == 10)
        u->kind = U_HALF;
      break;
    case U_GELU:
      u->a = strcmp (onnx_attr_str (c, "approximate", "none"), "tanh") == 0;
      if (!u->a && strcmp (onnx_attr_str (c, "approximate", "none"), "none") != 0)
        return osh_fail (err, OSH_ERR_UNSUPPORTED, "Gelu approximate=\"%s\"",
                         onnx_attr_str (c, "approximate", ""));
      break;
    case U_COUNT:
      return osh_fail (err, OSH_ERR_UNSUPPORTED, "no element-wise kernel for %s",
                       c->layer->class_name);
    default: break;
    }
  u->act = shared_activation (u);
  c->flops = (double) onnx_numel (&c->out[0]);
  return true;
}

/* x rounded to the nearest float16 (ties to even, as the current rounding mode does): 11
 * significant bits for normal values, steps of 2^-24 below 2^-14, infinity past 65504. */
static float
to_half_precision (float x)
{
  if (!isfinite (x) || x == 0)
    return x;
  int e;
  frexpf (x, &e);
  int bits = e >= -13 ? 11 - e : 24; /* |x| ≥ 2^-14 is normal in float16 */
  float r = ldexpf (nearbyintf (ldexpf (x, bits)), -bits);
  return fabsf (r) > 65504.0f ? copysignf (INFINITY, x) : r;
}

static inline float
apply (const Unary *u, float x, float lo, float hi)
{
  switch (u->kind)
    {
    case U_CELU: return fmaxf (0, x) + fminf (0, u->a * (expf (x / u->a) - 1));
    case U_SELU: return u->b * (x > 0 ? x : u->a * (expf (x) - 1));
    case U_CLIP: return fminf (fmaxf (x, lo), hi);
    case U_LOG: return logf (x);
    case U_SQRT: return sqrtf (x);
    case U_NEG: return -x;
    case U_ABS: return fabsf (x);
    case U_RECIP: return 1.0f / x;
    case U_FLOOR: return floorf (x);
    case U_CEIL: return ceilf (x);
    case U_ROUND: return nearbyintf (x); /* ties to even, as ONNX says */
    case U_ERF: return erff (x);
    case U_SIN: return sinf (x);
    case U_COS: return cosf (x);
    case U_SIGN: return (float) ((x > 0) - (x < 0));
    case U_THRELU: return x > u->a ? x : 0;
    case U_TRUNC: return truncf (x);
    case U_BOOL: return x != 0;
    case U_HALF: return to_half_precision (x);
    default: break; /* U_COPY, and the shared activations (never called for them) */
    }
  return x;
}

void
onnx_unary_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Unary *u = c->params;
  int64_t n = onnx_numel (&c->out[0]);
  const float *x = onnx_slot_data (c, in, 0);
  float lo = u->a, hi = u->b;
  if (u->clip_runtime)
    {
      const float *a = onnx_slot_data (c, in, 1), *b = onnx_slot_data (c, in, 2);
      lo = a ? a[0] : lo;
      hi = b ? b[0] : hi;
    }
  float *y = out[0];
  if (u->act.kind != OSH_ACT_COUNT)
    {
      memcpy (y, x, (size_t) n * sizeof (float));
      osh_act_apply (&u->act, y, n, 1, c->threads); /* linear (a copy) does nothing more */
    }
  else if (u->kind == U_HSIG)
    {
      /* Any alpha and beta (Keras 2's 0.2 and 0.5 run above): the epilogue kernel of the
       * path this CPU runs, as a convolution applies it. */
      OshEpilogue e = osh_epilogue_hard (false, u->a, u->b, 0.0f, 1.0f);
      memcpy (y, x, (size_t) n * sizeof (float));
      osh_vec_epilogue (&e, y, n);
    }
  else if (u->kind == U_CLIP)
    /* Branch-free, so the compiler vectorizes it (fminf and fmaxf would be library calls). */
    for (int64_t i = 0; i < n; i++)
      {
        float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
      }
  else
    for (int64_t i = 0; i < n; i++)
      y[i] = apply (u, x[i], lo, hi);
  if (c->n_out > 1) /* Dropout's mask: everything kept at inference */
    for (int64_t i = 0; i < n; i++)
      out[1][i] = 1.0f;
}

/* Element by element: the same in any layout. */
OshNhwcFit
onnx_unary_channels_last (OshOpCall *c, bool commit)
{
  (void) c;
  (void) commit;
  return OSH_NHWC_CAN;
}

/* ---- broadcasting n-ary ops ---- */

/* Legacy PRelu (opset < 7, still written by PyTorch) gives a per-channel slope as (C,) for
 * (N, C, ...) inputs: read it as (C, 1, ..., 1), which broadcasts the modern way. */
static OshShape
effective_shape (const OshOpCall *c, int slot, const OshShape *s)
{
  const OshShape *x = onnx_slot (c, 0).shape;
  if (slot == 1 && strcmp (c->layer->class_name, "PRelu") == 0 && s->rank == 1 && x->rank > 2
      && s->dim[0] == x->dim[1] && s->dim[0] != x->dim[x->rank - 1])
    {
      OshShape e = { .rank = x->rank - 1 };
      e.dim[0] = s->dim[0];
      for (int i = 1; i < e.rank; i++)
        e.dim[i] = 1;
      return e;
    }
  return *s;
}

typedef enum
{
  B_ADD,
  B_SUB,
  B_MUL,
  B_DIV,
  B_POW,
  B_MAX,
  B_MIN,
  B_SUM,
  B_MEAN,
  B_PRELU,
  B_IDIV /* Div of integers (OSH_ONNX_INTEGER_DIVISION): truncates toward zero */
} BinaryKind;

#define NHWC_SLOTS 8 /* operands a channels-last step takes */

typedef struct
{
  BinaryKind kind;
  float scale, shift; /* then · scale + shift: constant products and sums folded in */
  bool pre;           /* a product x · clamp (x · pre_scale + pre_shift) (OSH_FUSE_OPERAND) */
  float pre_scale, pre_shift, pre_lo, pre_hi;
  bool clamp; /* a Relu or Clip folded in: the result is clamped to [lo, hi] */
  float lo, hi;
  bool nhwc;                 /* switched: runs on the channels-last views below */
  OshShape out;              /* channels-last view of the output */
  OshShape slot[NHWC_SLOTS]; /* and of each operand */
} Binary;

bool
onnx_binary_infer (OshOpCall *c, OshError *err)
{
  const OshShape *shapes[16];
  OshShape effective[16];
  int n = 0;
  for (int i = 0; i < onnx_n_slots (c) && n < 16; i++)
    {
      OnnxSlot s = onnx_slot (c, i);
      if (s.present)
        {
          effective[n] = effective_shape (c, i, s.shape);
          shapes[n] = &effective[n];
          n++;
        }
    }
  if (n == 0)
    return osh_fail (err, OSH_ERR_FORMAT, "no inputs");
  if (strcmp (c->layer->class_name, "PRelu") == 0)
    {
      /* The slope broadcasts onto X ("unidirectional"), so the output is X's shape. */
      OshShape b;
      if (!onnx_broadcast (shapes, n, &b, err))
        return false;
      c->out[0] = *shapes[0];
      return true;
    }
  return onnx_broadcast (shapes, n, &c->out[0], err);
}

bool
onnx_binary_prepare (OshOpCall *c, OshError *err)
{
  static const char *const names[] = { "Add", "Sub", "Mul", "Div",  "Pow",
                                       "Max", "Min", "Sum", "Mean", "PRelu" };
  Binary *b = calloc (1, sizeof *b);
  if (!b)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = b;
  int kind = -1;
  for (int i = 0; i < (int) (sizeof names / sizeof names[0]); i++)
    if (strcmp (names[i], c->layer->class_name) == 0)
      kind = i;
  if (kind < 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "no kernel for %s", c->layer->class_name);
  b->kind = (BinaryKind) kind;
  if (b->kind == B_DIV && osh_config_bool (c->layer->config, OSH_ONNX_INTEGER_DIVISION, false))
    b->kind = B_IDIV;
  b->scale = 1.0f;
  c->flops = (double) onnx_numel (&c->out[0]);
  return true;
}

static inline float
combine (BinaryKind k, float a, float b)
{
  switch (k)
    {
    case B_ADD:
    case B_SUM:
    case B_MEAN: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_POW: return powf (a, b);
    case B_MAX: return fmaxf (a, b);
    case B_MIN: return fminf (a, b);
    case B_PRELU: return a >= 0 ? a : a * b;
    case B_IDIV: return truncf (a / b);
    }
  return a;
}

/* o[i] = combine (o[i], v) for a block, the kind chosen once outside the loop. */
static void
combine_scalar (BinaryKind k, float *o, float v, int64_t n, bool first)
{
  if (first)
    {
      for (int64_t i = 0; i < n; i++)
        o[i] = v;
      return;
    }
  switch (k)
    {
    case B_ADD:
    case B_SUM:
    case B_MEAN:
      for (int64_t i = 0; i < n; i++)
        o[i] += v;
      break;
    case B_MUL:
      for (int64_t i = 0; i < n; i++)
        o[i] *= v;
      break;
    case B_SUB:
      for (int64_t i = 0; i < n; i++)
        o[i] -= v;
      break;
    default:
      for (int64_t i = 0; i < n; i++)
        o[i] = combine (k, o[i], v);
      break;
    }
}

/* o[i] = combine (o[i], x[i]) for a block, the kind chosen once outside the loop. */
static void
combine_vector (BinaryKind k, float *o, const float *x, int64_t n, bool first)
{
  if (first)
    memcpy (o, x, (size_t) n * sizeof (float));
  else if (k == B_MUL)
    for (int64_t i = 0; i < n; i++)
      o[i] *= x[i];
  else if (k == B_ADD || k == B_SUM || k == B_MEAN)
    for (int64_t i = 0; i < n; i++)
      o[i] += x[i];
  else
    for (int64_t i = 0; i < n; i++)
      o[i] = combine (k, o[i], x[i]);
}

/* out = combine (out, x) with x broadcast onto out's shape. */
static void
accumulate (BinaryKind k, float *out, const OshShape *os, const float *x, const OshShape *xs,
            bool first)
{
  int64_t n = onnx_numel (os);
  int64_t xn = onnx_numel (xs);
  if (xn == n)
    {
      combine_vector (k, out, x, n, first);
      return;
    }
  if (xn == 1)
    {
      combine_scalar (k, out, x[0], n, first);
      return;
    }
  int64_t strides[OSH_MAX_RANK], idx[OSH_MAX_RANK] = { 0 };
  onnx_broadcast_strides (xs, os, strides);
  int r = os->rank;
  /* x constant over the trailing axes (a squeeze-excite gate (N, C, 1, 1) on (N, C, H, W), a
   * bias): one value per block, combined by a loop the compiler vectorizes. */
  int keep = r;
  int64_t block = 1;
  while (keep > 0 && strides[keep - 1] == 0)
    block *= os->dim[--keep];
  if (block > 1)
    {
      for (int64_t base = 0; base < n; base += block)
        {
          int64_t off = 0;
          for (int d = 0; d < keep; d++)
            off += idx[d] * strides[d];
          combine_scalar (k, out + base, x[off], block, first);
          onnx_next_index (idx, os, keep);
        }
      return;
    }
  /* Walk the output in order; the innermost axis is a tight loop (channels-last, a
   * squeeze-excite gate is one whole row per pixel). */
  int64_t inner = os->dim[r - 1], inner_stride = strides[r - 1];
  for (int64_t base = 0; base < n; base += inner)
    {
      int64_t off = 0;
      for (int d = 0; d < r - 1; d++)
        off += idx[d] * strides[d];
      float *o = out + base;
      if (inner_stride == 1)
        combine_vector (k, o, x + off, inner, first);
      else if (first)
        for (int64_t i = 0; i < inner; i++)
          o[i] = x[off + i * inner_stride];
      else
        for (int64_t i = 0; i < inner; i++)
          o[i] = combine (k, o[i], x[off + i * inner_stride]);
      onnx_next_index (idx, os, r - 1);
    }
}

/* Channels-last when the output is rank 4 and every operand is an activation or broadcasts
 * along H and W only (a squeeze-excite gate (N, C, 1, 1), a (C, 1, 1) constant): then the op
 * runs unchanged on the channels-last views of the shapes. */
OshNhwcFit
onnx_binary_channels_last (OshOpCall *c, bool commit)
{
  Binary *b = c->params;
  int n = onnx_n_slots (c);
  if (c->out[0].rank != 4 || n > NHWC_SLOTS)
    return OSH_NHWC_NO;
  for (int i = 0; i < n; i++)
    {
      OnnxSlot s = onnx_slot (c, i);
      OshShape e = s.present ? effective_shape (c, i, s.shape) : (OshShape){ 0 };
      if (s.present && (e.rank > 4 || !onnx_slot_nhwc_ready (c, i)))
        return OSH_NHWC_NO;
      if (commit && s.present)
        b->slot[i] = onnx_nhwc_shape (&e);
    }
  if (commit)
    {
      b->out = onnx_nhwc_shape (&c->out[0]);
      b->nhwc = true;
    }
  return OSH_NHWC_CAN;
}

/* The prepared params of step c when it runs this file's unary (binary) kernel, else NULL: what a
 * step computes is read from its params, made from its attributes at plan time. */
static const Unary *
unary_of (const OshOpCall *c)
{
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  return op && op->run == onnx_unary_run ? c->params : NULL;
}

static const Binary *
binary_of (const OshOpCall *c)
{
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  return op && op->run == onnx_binary_run ? c->params : NULL;
}

/* x · z where z = clamp (x · a + b) comes from a broadcasting step by a constant (with its own
 * folds), or from a HardSigmoid of any alpha and beta (torchvision's MobileNetV3 writes hard swish
 * so): the product computes z itself, one pass instead of two. */
static bool
absorb_operand (const OshOpCall *c, Binary *b, const OshOpCall *z)
{
  const Binary *zb = binary_of (z);
  const Unary *zu = unary_of (z);
  float s0, t0;
  if (b->kind != B_MUL || b->pre || b->clamp || b->scale != 1.0f || b->shift != 0.0f
      || onnx_numel (&c->out[0]) != onnx_numel (&z->out[0]) || c->n_in != 2)
    return false;
  if (zu && zu->kind == U_HSIG)
    {
      b->pre = true;
      b->pre_scale = zu->a, b->pre_shift = zu->b;
      b->pre_lo = 0.0f, b->pre_hi = 1.0f;
      return true;
    }
  if (!zb || !onnx_affine_of (z, 1, &s0, &t0))
    return false;
  b->pre = true;
  b->pre_scale = s0 * zb->scale;
  b->pre_shift = t0 * zb->scale + zb->shift;
  b->pre_lo = zb->clamp ? zb->lo : -INFINITY;
  b->pre_hi = zb->clamp ? zb->hi : INFINITY;
  return true;
}

bool
onnx_clamp_of (const OshOpCall *next, float *lo, float *hi)
{
  const Unary *u = unary_of (next);
  if (!u || !osh_op_call_is (next, OSH_CAT_EPILOGUE))
    return false;
  if (u->kind == U_RELU)
    {
      *lo = 0.0f, *hi = INFINITY;
      return true;
    }
  if (u->kind != U_CLIP || u->clip_runtime)
    return false;
  *lo = u->a, *hi = u->b;
  return true;
}

bool
onnx_affine_of (const OshOpCall *next, int64_t channels, float *scale, float *shift)
{
  const Binary *b = binary_of (next);
  if (!b || !osh_op_call_is (next, OSH_CAT_AFFINE)
      || b->kind > B_DIV /* B_IDIV truncates: not a product */ || onnx_n_slots (next) != 2
      || next->n_in != 1 || next->n_out != 1)
    return false;
  OnnxSlot x = onnx_slot (next, 0), k = onnx_slot (next, 1);
  if (b->kind == B_ADD || b->kind == B_MUL) /* they commute: the constant may come first */
    if (x.value && !k.value && k.present)
      {
        OnnxSlot t = x;
        x = k, k = t;
      }
  if (!x.present || x.value || !k.value || !osh_shape_equal (x.shape, &next->out[0]))
    return false;
  /* One value, or one per channel: (C, 1, ..., 1) aligned on axis 1 of x. */
  int64_t n = onnx_numel (k.shape);
  bool per_channel = n == channels && channels > 1 && x.shape->rank >= 2
                     && x.shape->dim[1] == channels && k.shape->rank <= x.shape->rank;
  for (int d = 0; per_channel && d < k.shape->rank; d++)
    {
      int axis = x.shape->rank - k.shape->rank + d;
      per_channel = k.shape->dim[d] == (axis == 1 ? channels : 1);
    }
  if (n != 1 && !per_channel)
    return false;
  for (int64_t ch = 0; ch < channels; ch++)
    {
      float v = k.value[n == 1 ? 0 : ch];
      scale[ch] = b->kind == B_MUL ? v : b->kind == B_DIV ? 1.0f / v : 1.0f;
      shift[ch] = b->kind == B_ADD ? v : b->kind == B_SUB ? -v : 0.0f;
    }
  return true;
}

bool
onnx_hard_epilogue (const OshOpCall *next, OshEpilogue *e)
{
  const OshOp *op = osh_op_find (next->graph, next->layer->class_name);
  if (!op)
    return false;
  if (op->run == onnx_unary_run && next->params)
    {
      const Unary *u = next->params;
      if (u->kind == U_HSWISH)
        *e = osh_epilogue_hard (true, 1.0f / 6.0f, 0.5f, 0.0f, 1.0f);
      else if (u->kind == U_HSIG)
        *e = osh_epilogue_hard (false, u->a, u->b, 0.0f, 1.0f);
      return u->kind == U_HSWISH || u->kind == U_HSIG;
    }
  const Binary *b = next->params;
  if (op->run != onnx_binary_run || !b || !b->pre || b->clamp || !(b->scale > 0.0f))
    return false;
  /* x · clamp (x·a + c, lo, hi) · s + t is x · clamp (x·a·s + c·s, lo·s, hi·s) + t for s > 0. */
  float s = b->scale;
  *e = osh_epilogue_hard (true, b->pre_scale * s, b->pre_shift * s, b->pre_lo * s, b->pre_hi * s);
  e->c = b->shift;
  return true;
}

/* A residual Add followed by a Relu (ResNet), or a product followed by a division and an affine
 * by constants (x · clip (x + 3, 0, 6) / 6 · a + b, as PaddleOCR writes HardSwish), becomes one
 * step: the rest runs on the results while they are still in registers. */
bool
onnx_binary_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  Binary *b = c->params;
  float lo, hi, scale, shift;
  if (kind == OSH_FUSE_OPERAND)
    return absorb_operand (c, b, next);
  if (kind != OSH_FUSE_NEXT || b->clamp)
    return false;
  if (onnx_clamp_of (next, &lo, &hi))
    {
      b->clamp = true;
      b->lo = lo;
      b->hi = hi;
      return true;
    }
  if (!onnx_affine_of (next, 1, &scale, &shift))
    return false;
  b->scale *= scale;
  b->shift = b->shift * scale + shift;
  return true;
}

/* One pass of y = clamp (u op v) where each operand is the output's size (stride 1) or one
 * value (stride 0); inlined for each constant kind and pair of strides, so each loop vectorizes. */
static inline __attribute__ ((always_inline)) void
pair_loop (BinaryKind k, const float *restrict u, int64_t su, const float *restrict v, int64_t sv,
           float *restrict y, int64_t n, const Binary *b)
{
  float lo = b->clamp ? b->lo : -INFINITY, hi = b->clamp ? b->hi : INFINITY;
  float scale = b->scale, shift = b->shift;
  for (int64_t i = 0; i < n; i++)
    {
      float a = u[i * su], c = v[i * sv];
      float r = k == B_MUL ? a * c : k == B_SUB ? a - c : k == B_DIV ? a / c : a + c;
      r = r * scale + shift;
      r = r < lo ? lo : r;
      y[i] = r > hi ? hi : r;
    }
}

#define PAIR_STRIDES(k)                                                                            \
  (su && sv ? pair_loop (k, u, 1, v, 1, y, n, b)                                                   \
   : su     ? pair_loop (k, u, 1, v, 0, y, n, b)                                                   \
            : pair_loop (k, u, 0, v, 1, y, n, b))

/* Two operands, each of the output's size or a single value (a residual Add, x · 6, x + 3): one
 * pass, the clamp folded in. */
static bool
run_pair (const OshOpCall *c, const Binary *b, const float *const *in, float *y)
{
  int64_t n = onnx_numel (&c->out[0]);
  if (onnx_n_slots (c) != 2 || !onnx_slot (c, 0).present || !onnx_slot (c, 1).present)
    return false;
  int64_t nu = onnx_numel (onnx_slot (c, 0).shape), nv = onnx_numel (onnx_slot (c, 1).shape);
  bool su = nu == n, sv = nv == n;
  if (!(su || nu == 1) || !(sv || nv == 1) || !(su || sv))
    return false;
  const float *u = onnx_slot_data (c, in, 0), *v = onnx_slot_data (c, in, 1);
  if (b->pre)
    {
      /* Both operands are x now (OSH_FUSE_OPERAND): y = x · clamp (x · a + b), then the folds;
       * a vector at a time, since GCC leaves the scalar loop unvectorised. */
      float lo = b->clamp ? b->lo : -INFINITY, hi = b->clamp ? b->hi : INFINITY;
      int64_t i = 0;
      for (; i + OSH_VW <= n; i += OSH_VW)
        {
          OshVec x = OSH_VLOAD (u + i);
          OshVec z = osh_simd_clamp (x * b->pre_scale + b->pre_shift, b->pre_lo, b->pre_hi);
          OSH_VREF (y + i) = osh_simd_clamp ((x * z) * b->scale + b->shift, lo, hi);
        }
      for (; i < n; i++)
        {
          float z = u[i] * b->pre_scale + b->pre_shift;
          z = z < b->pre_lo ? b->pre_lo : z;
          z = z > b->pre_hi ? b->pre_hi : z;
          float r = (u[i] * z) * b->scale + b->shift;
          r = r < lo ? lo : r;
          y[i] = r > hi ? hi : r;
        }
      return true;
    }
  switch (b->kind)
    {
    case B_ADD:
    case B_SUM: PAIR_STRIDES (B_ADD); return true;
    case B_SUB: PAIR_STRIDES (B_SUB); return true;
    case B_MUL: PAIR_STRIDES (B_MUL); return true;
    case B_DIV: PAIR_STRIDES (B_DIV); return true;
    default: return false;
    }
}
#undef PAIR_STRIDES

void
onnx_binary_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Binary *b = c->params;
  BinaryKind k = b->kind;
  if (run_pair (c, b, in, out[0]))
    return;
  const OshShape *os = b->nhwc ? &b->out : &c->out[0];
  int used = 0;
  for (int i = 0; i < onnx_n_slots (c); i++)
    {
      OnnxSlot s = onnx_slot (c, i);
      if (!s.present)
        continue;
      OshShape shape = b->nhwc ? b->slot[i] : effective_shape (c, i, s.shape);
      accumulate (k, out[0], os, onnx_slot_data (c, in, i), &shape, used == 0);
      used++;
    }
  if (k == B_MEAN && used > 1)
    {
      int64_t n = onnx_numel (&c->out[0]);
      for (int64_t i = 0; i < n; i++)
        out[0][i] /= (float) used;
    }
  if (b->clamp || b->scale != 1.0f || b->shift != 0.0f)
    {
      /* Branch-free, as the Clip kernel, so it vectorizes. */
      float lo = b->clamp ? b->lo : -INFINITY, hi = b->clamp ? b->hi : INFINITY, *y = out[0];
      int64_t n = onnx_numel (&c->out[0]);
      for (int64_t i = 0; i < n; i++)
        {
          float v = y[i] * b->scale + b->shift;
          v = v < lo ? lo : v;
          y[i] = v > hi ? hi : v;
        }
    }
}
