/* Convolutions: Conv1D, Conv2D (groups, dilation, strides), DepthwiseConv2D,
 * SeparableConv2D, Conv2DTranspose. Data is NHWC (channels_last); kernels are
 * Keras's (kh, kw, in, out).
 *
 * Over 700 lines because the five layer kinds share one geometry and one prepare, and the folds
 * a convolution takes in (absorb) check that geometry; the rules for taking them in live in
 * osh-fused-tail.c (shared with ONNX's Conv), the kernels in osh-conv-gemm.c and osh-depthwise.c. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-conv-gemm.h"
#include "osh-depthwise.h"
#include "osh-fused-tail.h"
#include "osh-op-kernels.h"
#include "osh-op.h"
#include "osh-vec.h"

typedef enum
{
  CONV_PLAIN,
  CONV_DEPTHWISE,
  CONV_SEPARABLE,
  CONV_TRANSPOSE,
} ConvKind;

typedef struct
{
  ConvKind kind;
  int sp;      /* spatial rank: 1 or 2 */
  bool cf;     /* channels_first */
  bool same;   /* padding same (or causal) */
  bool causal; /* Conv1D causal: all padding in front */
  int64_t k[2], s[2], d[2], outpad[2];
  bool has_outpad;
  int64_t groups, dm, filters;
  int64_t cin, cout;
  int64_t in_sp[2], out_sp[2], pad[2];
  int64_t batch;
  bool bias;
  OshAct act;
} ConvGeom;

/* Position of the channel axis and the first spatial axis of a rank sp+2 tensor. */
static int
chan_axis (const ConvGeom *g)
{
  return g->cf ? 1 : g->sp + 1;
}

static int
sp_axis (const ConvGeom *g, int i)
{
  return g->cf ? 2 + i : 1 + i;
}

static int64_t
transpose_out (int64_t in, int64_t k, int64_t s, int64_t d, bool same, int64_t outpad,
               bool has_outpad)
{
  if (in < 0)
    return -1;
  int64_t eff = (k - 1) * d + 1;
  if (!has_outpad)
    return same ? in * s : in * s + (eff - s > 0 ? eff - s : 0);
  int64_t pad = same ? eff / 2 : 0;
  return (in - 1) * s + eff - 2 * pad + outpad;
}

/* The size of dimension d of weight i when the layer holds it with rank `rank`, else -1. */
static int64_t
held_dim (const OshOpCall *c, int i, int rank, int d)
{
  const OshTensor *w = osh_op_weight (c, i);
  return w && w->shape.rank == rank ? w->shape.dim[d] : -1;
}

/* The weights' rule (OshOpWeightsFn) of the five kinds, Keras's layouts: a kernel (kh, kw, cin /
 * groups, filters), a depthwise kernel (kh, kw, cin, depth multiplier) and SeparableConv2D's
 * pointwise one (1, 1, cin · multiplier, filters), Conv2DTranspose's (kh, kw, filters, cin);
 * then the bias of the output channels. What the input does not tell (no call input) and the
 * config does not say is any size. */
static bool
conv_weight_rule (const OshOpCall *c, ConvKind kind, int sp, OshWeightRule *r, OshError *err)
{
  int64_t k[2], groups, dm;
  if (!osh_op_ints (c, "kernel_size", k, sp, 1, 1, err)
      || !osh_op_ints (c, "groups", &groups, 1, 1, 1, err)
      || !osh_op_ints (c, "depth_multiplier", &dm, 1, 1, 1, err))
    return false;
  int rank = sp + 2;
  bool cf = osh_op_channels_first (c);
  int64_t cin = c->n_in > 0 && c->in[0].rank == rank ? c->in[0].dim[cf ? 1 : sp + 1] : -1;
  int64_t filters = osh_config_int (c->layer->config, "filters", -1);
  memset (r, 0, sizeof *r);
  OshShape *kd = &r->shape[0];
  kd->rank = rank;
  for (int i = 0; i < sp; i++)
    kd->dim[i] = k[i];
  r->what[0] = "kernel";
  r->n = 1;
  int64_t cout = filters;
  switch (kind)
    {
    case CONV_PLAIN:
      kd->dim[sp] = cin > 0 ? cin / groups : -1;
      kd->dim[sp + 1] = filters;
      if (cout <= 0)
        cout = held_dim (c, 0, rank, sp + 1);
      break;
    case CONV_DEPTHWISE:
    case CONV_SEPARABLE:
      kd->dim[sp] = cin;
      kd->dim[sp + 1] = -1;
      r->what[0] = "depthwise kernel";
      if (held_dim (c, 0, rank, sp + 1) > 0)
        dm = held_dim (c, 0, rank, sp + 1);
      cout = cin > 0 ? cin * dm : -1;
      if (kind == CONV_DEPTHWISE)
        break;
      r->shape[1] = (OshShape){ .rank = rank, .dim = { 1, 1, 1, 1 } };
      r->shape[1].dim[sp] = cout;
      r->shape[1].dim[sp + 1] = filters;
      r->what[1] = "pointwise kernel";
      r->n = 2;
      cout = filters > 0 ? filters : held_dim (c, 1, rank, sp + 1);
      break;
    case CONV_TRANSPOSE:
      kd->dim[sp] = filters;
      kd->dim[sp + 1] = cin;
      if (cout <= 0)
        cout = held_dim (c, 0, rank, sp);
      break;
    }
  if (osh_config_bool (c->layer->config, "use_bias", true))
    {
      r->shape[r->n] = (OshShape){ .rank = 1, .dim = { cout } };
      r->what[r->n++] = "bias";
    }
  return true;
}

#define CONV_WEIGHTS(fn, kind, sp)                                                                 \
  bool fn (const OshOpCall *c, OshWeightRule *rule, OshError *err)                                 \
  {                                                                                                \
    return conv_weight_rule (c, kind, sp, rule, err);                                              \
  }

CONV_WEIGHTS (osh_conv1d_weights, CONV_PLAIN, 1)
CONV_WEIGHTS (osh_conv2d_weights, CONV_PLAIN, 2)
CONV_WEIGHTS (osh_depthwise2d_weights, CONV_DEPTHWISE, 2)
CONV_WEIGHTS (osh_separable2d_weights, CONV_SEPARABLE, 2)
CONV_WEIGHTS (osh_transpose2d_weights, CONV_TRANSPOSE, 2)

static bool
conv_geom (const OshOpCall *c, ConvKind kind, int sp, ConvGeom *g, OshError *err)
{
  memset (g, 0, sizeof *g);
  g->kind = kind;
  g->sp = sp;
  g->cf = osh_op_channels_first (c);
  if (!osh_op_need (c, 1, sp + 2, sp + 2, err))
    return false;
  if (!osh_op_padding (c, &g->same, err))
    return false;
  const char *p = osh_config_string (c->layer->config, "padding", "valid");
  g->causal = strcmp (p, "causal") == 0;
  if (!osh_op_ints (c, "kernel_size", g->k, sp, 1, 1, err)
      || !osh_op_ints (c, "strides", g->s, sp, 1, 1, err)
      || !osh_op_ints (c, "dilation_rate", g->d, sp, 1, 1, err)
      || !osh_op_ints (c, "groups", &g->groups, 1, 1, 1, err)
      || !osh_op_ints (c, "depth_multiplier", &g->dm, 1, 1, 1, err))
    return false;
  const json_t *op = json_object_get (c->layer->config, "output_padding");
  g->has_outpad = kind == CONV_TRANSPOSE && op && !json_is_null (op);
  if (g->has_outpad && !osh_op_ints (c, "output_padding", g->outpad, sp, 0, 0, err))
    return false;
  const OshShape *in = &c->in[0];
  g->batch = in->dim[0];
  g->cin = in->dim[chan_axis (g)];
  for (int i = 0; i < sp; i++)
    g->in_sp[i] = in->dim[sp_axis (g, i)];
  g->bias = osh_config_bool (c->layer->config, "use_bias", true);
  if (!osh_act_from_config (c, &g->act, err))
    return false;

  /* Output channels: the weights decide when present, once they fit the rule. */
  int64_t filters = osh_config_int (c->layer->config, "filters", -1);
  int nw = c->layer->n_weights;
  if (kind == CONV_PLAIN && g->cin > 0 && g->cin % g->groups)
    return osh_fail (err, OSH_ERR_SHAPE, "%lld input channels do not split into %lld groups",
                     (long long) g->cin, (long long) g->groups);
  if (kind == CONV_PLAIN && filters > 0 && filters % g->groups)
    return osh_fail (err, OSH_ERR_SHAPE, "%lld filters do not split into %lld groups",
                     (long long) filters, (long long) g->groups);
  OshWeightRule rule;
  if (nw > 0 && !conv_weight_rule (c, kind, sp, &rule, err))
    return false;
  for (int i = 0; nw > 0 && i < rule.n; i++)
    if (!osh_op_check_weight (c, i, rule.shape[i].rank, rule.shape[i].dim, rule.what[i], err))
      return false;
  switch (kind)
    {
    case CONV_PLAIN: g->cout = nw > 0 ? osh_op_weight (c, 0)->shape.dim[sp + 1] : filters; break;
    case CONV_DEPTHWISE:
    case CONV_SEPARABLE:
      if (nw > 0)
        g->dm = osh_op_weight (c, 0)->shape.dim[sp + 1];
      g->cout = g->cin > 0 ? g->cin * g->dm : -1;
      if (kind == CONV_SEPARABLE)
        g->cout = nw > 0 ? osh_op_weight (c, 1)->shape.dim[sp + 1] : filters;
      break;
    case CONV_TRANSPOSE: g->cout = nw > 0 ? osh_op_weight (c, 0)->shape.dim[sp] : filters; break;
    }
  if (g->cout <= 0 && g->cin >= 0)
    return osh_fail (err, OSH_ERR_FORMAT, "no \"filters\" in the config and no kernel weight");

  for (int i = 0; i < sp; i++)
    {
      if (kind == CONV_TRANSPOSE)
        g->out_sp[i] = transpose_out (g->in_sp[i], g->k[i], g->s[i], g->d[i], g->same, g->outpad[i],
                                      g->has_outpad);
      else
        g->out_sp[i] = osh_op_window_out (g->in_sp[i], g->k[i], g->s[i], g->d[i], g->same);
      if (g->out_sp[i] == 0)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "a %lld-wide input is smaller than the %lld-wide kernel (dilation %lld)",
                         (long long) g->in_sp[i], (long long) g->k[i], (long long) g->d[i]);
      if (g->in_sp[i] > 0 && kind != CONV_TRANSPOSE)
        g->pad[i] = !g->same    ? 0
                    : g->causal ? (g->k[i] - 1) * g->d[i]
                                : osh_op_same_pad (g->in_sp[i], g->k[i], g->s[i], g->d[i]);
    }
  return true;
}

static void
conv_out_shape (const ConvGeom *g, OshShape *out)
{
  out->rank = g->sp + 2;
  out->dim[0] = g->batch;
  out->dim[chan_axis (g)] = g->cout;
  for (int i = 0; i < g->sp; i++)
    out->dim[sp_axis (g, i)] = g->out_sp[i];
}

static bool
conv_infer (OshOpCall *c, ConvKind kind, int sp, OshError *err)
{
  ConvGeom g;
  if (!conv_geom (c, kind, sp, &g, err))
    return false;
  conv_out_shape (&g, &c->out[0]);
  return true;
}

#define CONV_INFER(fn, kind, sp)                                                                   \
  bool fn (OshOpCall *c, OshError *err);                                                           \
  bool fn (OshOpCall *c, OshError *err) { return conv_infer (c, kind, sp, err); }

CONV_INFER (osh_conv1d_infer, CONV_PLAIN, 1)
CONV_INFER (osh_conv2d_infer, CONV_PLAIN, 2)
CONV_INFER (osh_depthwise2d_infer, CONV_DEPTHWISE, 2)
CONV_INFER (osh_separable2d_infer, CONV_SEPARABLE, 2)
CONV_INFER (osh_transpose2d_infer, CONV_TRANSPOSE, 2)

/* ---- kernels ---- */

#include <cblas.h>

typedef struct
{
  ConvGeom g;
  const float *kernel; /* Keras layout (kh, kw, cin/groups, cout); transpose: (kh, kw, cout, cin) */
  const float *pointwise; /* separable: (1, 1, cin*dm, cout) */
  const float *bias;      /* cout or NULL */
  OshWindow2D w;          /* Conv1D: height 1 */
  int64_t tile;           /* output pixels per im2col tile */
  int64_t mid;            /* separable: channels after the depthwise step */
  OshDepthwise *half_dw;  /* separable: its depthwise half, with depth multiplier 1 */
  OshAct layer_act;       /* the layer's own activation (g.act is what is left after the kernel) */
  /* The kernels what follows folds into: tail.gemm, the packed implicit-GEMM kernel of a plain
   * convolution (or of separable's pointwise half), if it fits; tail.dw, a depthwise one's. */
  OshFusedTail tail;
} ConvParams;

static void
conv_params_free (void *p)
{
  ConvParams *cp = p;
  osh_depthwise_free (cp->half_dw);
  osh_fused_tail_clear (&cp->tail);
  free (cp);
}

/* The packed kernel: the convolution itself, or SeparableConv2D's pointwise half (a 1×1
 * convolution of the depthwise output, `mid` channels on the output's grid); NULL when it does
 * not fit. The layer's own activation goes into it when it can. */
static OshConvGemm *
new_fast (ConvParams *cp)
{
  const ConvGeom *g = &cp->g;
  OshConvShape s = { .batch = g->batch,
                     .ih = cp->w.ih,
                     .iw = cp->w.iw,
                     .cin = g->cin,
                     .oh = cp->w.oh,
                     .ow = cp->w.ow,
                     .cout = g->cout,
                     .kh = cp->w.kh,
                     .kw = cp->w.kw,
                     .sh = cp->w.sh,
                     .sw = cp->w.sw,
                     .dh = cp->w.dh,
                     .dw = cp->w.dw,
                     .ph = cp->w.ph,
                     .pw = cp->w.pw,
                     .groups = g->groups };
  if (g->kind == CONV_SEPARABLE)
    s = (OshConvShape){ .batch = g->batch,
                        .ih = cp->w.oh,
                        .iw = cp->w.ow,
                        .cin = cp->mid,
                        .oh = cp->w.oh,
                        .ow = cp->w.ow,
                        .cout = g->cout,
                        .kh = 1,
                        .kw = 1,
                        .sh = 1,
                        .sw = 1,
                        .dh = 1,
                        .dw = 1,
                        .groups = 1 };
  OshConvGemm *fast = osh_conv_gemm_new (&s, g->kind == CONV_SEPARABLE ? cp->pointwise : cp->kernel,
                                         osh_kernel_strides_keras (&s), cp->bias);
  OshEpilogue e;
  if (fast && osh_act_epilogue (&g->act, &e))
    {
      osh_conv_gemm_set_epilogue (fast, &e);
      cp->g.act.kind = OSH_ACT_LINEAR; /* done in the kernel */
    }
  return fast;
}

/* The shared channels-last depthwise kernel, for depth multiplier 1 (SeparableConv2D's depthwise
 * half has no bias of its own); NULL otherwise. */
static OshDepthwise *
new_depthwise (const ConvParams *cp)
{
  const ConvGeom *g = &cp->g;
  if (g->dm != 1)
    return NULL;
  OshDepthwiseShape s = { .batch = g->batch,
                          .ih = cp->w.ih,
                          .iw = cp->w.iw,
                          .c = g->cin,
                          .oh = cp->w.oh,
                          .ow = cp->w.ow,
                          .kh = cp->w.kh,
                          .kw = cp->w.kw,
                          .sh = cp->w.sh,
                          .sw = cp->w.sw,
                          .dh = cp->w.dh,
                          .dw = cp->w.dw,
                          .ph = cp->w.ph,
                          .pw = cp->w.pw };
  return osh_depthwise_new (&s, cp->kernel, g->cin, 1, g->kind == CONV_DEPTHWISE ? cp->bias : NULL);
}

/* Reads through a ZeroPadding2D's input: its leading padding adds to ours; reads past the
 * input's end were zeros already. The kernel is made again from the weights, so only while
 * nothing else is folded (the pad step runs first). */
static bool
absorb_pad (ConvParams *cp, const OshOpCall *pad)
{
  int64_t top, left;
  OshFusedTail *t = &cp->tail;
  bool plain = cp->g.kind == CONV_PLAIN && t->gemm;
  bool dw = cp->g.kind == CONV_DEPTHWISE && t->dw;
  if (cp->g.cf || cp->g.sp != 2 || !(plain || dw) || !osh_fused_tail_empty (t)
      || !osh_zero_padding_leading (pad, &top, &left))
    return false;
  OshWindow2D before = cp->w;
  OshAct act = cp->g.act;
  cp->w.ph += top;
  cp->w.pw += left;
  cp->w.ih = pad->in[0].dim[1];
  cp->w.iw = pad->in[0].dim[2];
  if (plain)
    {
      cp->g.act = cp->layer_act; /* new_fast takes it again */
      OshConvGemm *fast = new_fast (cp);
      if (fast)
        {
          osh_conv_gemm_free (t->gemm);
          t->gemm = fast;
          return true;
        }
    }
  else
    {
      OshDepthwise *d = new_depthwise (cp);
      if (d)
        {
          osh_depthwise_free (t->dw);
          t->dw = d;
          return true;
        }
    }
  cp->w = before, cp->g.act = act; /* out of memory: stay as we were */
  return false;
}

/* Takes in the squeeze-excite Multiply before a packed convolution (osh_fused_tail_take_scale). */
static bool
absorb_scale (OshOpCall *c, ConvParams *cp, const OshOpCall *mul)
{
  const ConvGeom *g = &cp->g;
  if (g->kind != CONV_PLAIN || g->cf || g->groups != 1 || g->batch != 1)
    return false;
  int64_t work = osh_fused_tail_take_scale (&cp->tail, c, mul, 3, g->cin);
  if ((size_t) work > c->scratch)
    c->scratch = (size_t) work;
  return work > 0;
}

/* Takes in the depthwise convolution after a 1×1 one (MobileNet's and EfficientNet's expansion):
 * its input, 4–6 times as wide as ours, is then made a few rows at a time while the depthwise
 * kernel reads them from cache, and never goes to memory whole. */
static bool
absorb_depthwise (OshOpCall *c, ConvParams *cp, const OshOpCall *next)
{
  const ConvGeom *g = &cp->g;
  const OshOp *op = osh_op_find (next->graph, next->layer->class_name);
  const ConvParams *np = next->params;
  if (!op || op->run != osh_conv_run || !np || np->g.kind != CONV_DEPTHWISE || !np->tail.dw
      || np->g.act.kind != OSH_ACT_LINEAR
      || !osh_depthwise_fed_ok (np->tail.dw)
      /* its window, which may read through a folded ZeroPadding2D onto our output */
      || c->out[0].rank != 4 || np->w.ih != c->out[0].dim[1] || np->w.iw != c->out[0].dim[2]
      || np->g.cin != c->out[0].dim[3])
    return false;
  if (g->kind != CONV_PLAIN || !osh_fused_tail_can_stream (&cp->tail) || g->cf || g->groups != 1
      || g->batch != 1 || cp->w.kh != 1 || cp->w.kw != 1 || cp->w.sh != 1 || cp->w.sw != 1
      || cp->w.ph != 0 || cp->w.pw != 0 || g->act.kind != OSH_ACT_LINEAR)
    return false;
  OshDepthwise *dw = osh_depthwise_copy (np->tail.dw);
  if (!dw)
    return false;
  osh_fused_tail_take_stream (&cp->tail, c, next, dw, c->out[0].dim[3]);
  return true;
}

/* What a Keras step after a convolution amounts to: a BatchNormalization's scale and shift, or
 * an activation with an epilogue (a product x · f(x) made one step included: Keras 2's
 * hard_swish written out). */
static OshTailWhat
read_next (const OshOpCall *next, OshFuseKind kind, int64_t ch, float *scale, float *shift,
           OshEpilogue *e)
{
  const float *a, *b;
  OshAct act;
  if (kind != OSH_FUSE_NEXT)
    return OSH_TAIL_NOTHING;
  if (osh_affine_channels (next, ch, &a, &b))
    {
      memcpy (scale, a, (size_t) ch * sizeof *scale);
      memcpy (shift, b, (size_t) ch * sizeof *shift);
      return OSH_TAIL_AFFINE;
    }
  if (osh_merge_epilogue (next, e)
      || (osh_act_layer_elementwise (next, &act) && osh_act_epilogue (&act, e)))
    return OSH_TAIL_EPILOGUE;
  return OSH_TAIL_NOTHING;
}

static bool
conv_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  ConvParams *cp = c->params;
  OshFusedTail *t = &cp->tail;
  if (osh_fused_tail_closed (t))
    return false;
  if (kind == OSH_FUSE_PAD)
    return absorb_pad (cp, next);
  if (kind == OSH_FUSE_SCALE)
    return absorb_scale (c, cp, next);
  /* The rest comes after the kernel: channels-last, with no activation left to apply after it. */
  if (cp->g.cf || cp->g.act.kind != OSH_ACT_LINEAR)
    return false;
  if (kind == OSH_FUSE_MEAN)
    return !osh_op_channels_first (next)
           && osh_fused_tail_take_mean (t, next, &c->out[0], 3, t->dw || t->then_dw);
  if (kind == OSH_FUSE_STREAM)
    return !t->then_dw && absorb_depthwise (c, cp, next);
  if (kind == OSH_FUSE_RESIDUAL)
    return osh_fused_tail_take_residual (t, c, next);
  if (kind != OSH_FUSE_NEXT || osh_fused_tail_take_next (t, next, kind, read_next))
    return kind == OSH_FUSE_NEXT;
  /* An activation with no epilogue, applied after the product as the layer's own is. */
  OshAct act;
  OshEpilogue e;
  if (t->then_dw || (!t->gemm && !t->dw) || !osh_act_layer_elementwise (next, &act)
      || osh_act_epilogue (&act, &e))
    return false;
  cp->g.act = act;
  t->folded = true;
  return true;
}

bool
osh_conv_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  return conv_absorb (c, next, kind);
}

static bool
conv_prepare (OshOpCall *c, ConvKind kind, int sp, OshError *err)
{
  ConvParams *cp = calloc (1, sizeof *cp);
  if (!cp)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing a convolution");
  c->params = cp;
  c->free_params = conv_params_free;
  osh_fused_tail_init (&cp->tail, 0);
  if (!conv_geom (c, kind, sp, &cp->g, err))
    return false;
  const ConvGeom *g = &cp->g;
  cp->tail.channels = g->cout;
  cp->layer_act = g->act;
  if (c->layer->n_weights == 0)
    return osh_fail (err, OSH_ERR_SHAPE, "the layer has no weights");
  cp->kernel = osh_op_weight (c, 0)->data;
  if (kind == CONV_SEPARABLE)
    cp->pointwise = osh_op_weight (c, 1)->data;
  cp->bias = g->bias ? osh_op_weight (c, kind == CONV_SEPARABLE ? 2 : 1)->data : NULL;
  cp->w = osh_op_window2d (sp, g->k, g->s, g->d, g->pad, g->in_sp, g->out_sp);
  if (kind == CONV_TRANSPOSE)
    {
      /* The forward convolution's padding for an input of the output's size. */
      cp->w.ph = g->same && sp == 2 ? osh_op_same_pad (cp->w.oh, cp->w.kh, cp->w.sh, cp->w.dh) : 0;
      cp->w.pw = g->same ? osh_op_same_pad (cp->w.ow, cp->w.kw, cp->w.sw, cp->w.dw) : 0;
    }
  int64_t kk = cp->w.kh * cp->w.kw;
  int64_t pixels = g->batch * cp->w.oh * cp->w.ow;
  int64_t in_pixels = g->batch * cp->w.ih * cp->w.iw;
  /* cblas takes int sizes. */
  if (pixels > INT_MAX || in_pixels > INT_MAX || kk * g->cin > INT_MAX || kk * g->cout > INT_MAX)
    return osh_fail (err, OSH_ERR_LIMIT, "the convolution is too large for one matrix product");
  switch (kind)
    {
    case CONV_PLAIN:
      {
        int64_t K = kk * (g->cin / g->groups);
        bool direct = kk == 1 && cp->w.sh == 1 && cp->w.sw == 1 && g->groups == 1;
        cp->tile = (1 << 20) / (K ? K : 1);
        cp->tile = cp->tile < 256 ? 256 : cp->tile;
        cp->tile = cp->tile > cp->w.oh * cp->w.ow ? cp->w.oh * cp->w.ow : cp->tile;
        c->scratch = direct ? 0 : (size_t) (cp->tile * K);
        c->flops = 2.0 * pixels * K * g->cout;
        cp->tail.gemm = c->count_only ? NULL : new_fast (cp);
        if (cp->tail.gemm)
          c->scratch = 0;
        break;
      }
    case CONV_DEPTHWISE:
      c->flops = 2.0 * pixels * kk * g->cout;
      cp->tail.dw = c->count_only ? NULL : new_depthwise (cp);
      break;
    case CONV_SEPARABLE:
      cp->half_dw = c->count_only ? NULL : new_depthwise (cp);
      cp->mid = g->cin * g->dm;
      cp->tail.gemm = c->count_only ? NULL : new_fast (cp);
      c->scratch = (size_t) (pixels * cp->mid);
      c->flops = 2.0 * pixels * (kk * cp->mid + cp->mid * g->cout);
      break;
    case CONV_TRANSPOSE:
      c->scratch = (size_t) (in_pixels * kk * g->cout);
      c->flops = 2.0 * in_pixels * g->cin * kk * g->cout;
      break;
    }
  if (g->cf) /* room for the channels-last copies of the input and the output */
    c->scratch += (size_t) (in_pixels * g->cin + pixels * g->cout);
  return true;
}

/* out[p, :] = bias, so the product can accumulate onto it (beta = 1). */
static void
fill_bias (float *out, int64_t rows, int64_t cols, const float *bias)
{
  if (!bias)
    {
      memset (out, 0, (size_t) (rows * cols) * sizeof (float));
      return;
    }
  for (int64_t r = 0; r < rows; r++)
    memcpy (out + r * cols, bias, (size_t) cols * sizeof (float));
}

/* Rows [p0, p0 + m) of the im2col matrix of image `img` for group `grp`: one row per output
 * pixel, (ky, kx, ci) along the row — exactly the kernel's (kh, kw, cin) order. */
static void
im2col (const ConvParams *cp, const float *img, int64_t grp, int64_t p0, int64_t m, float *col)
{
  const ConvGeom *g = &cp->g;
  const OshWindow2D *w = &cp->w;
  int64_t cg = g->cin / g->groups;
  int64_t K = w->kh * w->kw * cg;
  /* Without groups or dilation a kernel row reads kw adjacent pixels: one copy. */
  bool rows = g->groups == 1 && w->dw == 1;
  for (int64_t r = 0; r < m; r++)
    {
      int64_t p = p0 + r, oy = p / w->ow, ox = p % w->ow;
      float *row = col + r * K;
      int64_t ix0 = ox * w->sw - w->pw;
      for (int64_t ky = 0; ky < w->kh; ky++)
        {
          int64_t iy = oy * w->sh - w->ph + ky * w->dh;
          float *dst = row + ky * w->kw * cg;
          if (iy < 0 || iy >= w->ih)
            {
              memset (dst, 0, (size_t) (w->kw * cg) * sizeof (float));
              continue;
            }
          const float *line = img + iy * w->iw * g->cin + grp * cg;
          if (rows && ix0 >= 0 && ix0 + w->kw <= w->iw)
            {
              memcpy (dst, line + ix0 * g->cin, (size_t) (w->kw * cg) * sizeof (float));
              continue;
            }
          for (int64_t kx = 0; kx < w->kw; kx++)
            {
              int64_t ix = ix0 + kx * w->dw;
              if (ix < 0 || ix >= w->iw)
                memset (dst + kx * cg, 0, (size_t) cg * sizeof (float));
              else
                memcpy (dst + kx * cg, line + ix * g->cin, (size_t) cg * sizeof (float));
            }
        }
    }
}

typedef struct
{
  const ConvParams *cp;
  const float *img;
  int64_t grp, p0;
  float *col;
} Im2colJob;

static void
im2col_job (void *arg, int64_t begin, int64_t end)
{
  const Im2colJob *j = arg;
  int64_t K = j->cp->w.kh * j->cp->w.kw * (j->cp->g.cin / j->cp->g.groups);
  im2col (j->cp, j->img, j->grp, j->p0 + begin, end - begin, j->col + begin * K);
}

static void
conv_plain_run (const ConvParams *cp, const float *in, float *out, float *col, int threads)
{
  const ConvGeom *g = &cp->g;
  int64_t cg = g->cin / g->groups, og = g->cout / g->groups;
  int64_t K = cp->w.kh * cp->w.kw * cg;
  int64_t opix = cp->w.oh * cp->w.ow;
  fill_bias (out, g->batch * opix, g->cout, cp->bias);
  if (cp->w.kh * cp->w.kw == 1 && cp->w.sh == 1 && cp->w.sw == 1 && g->groups == 1)
    {
      /* 1×1, stride 1: NHWC already is the (pixels, cin) matrix. */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) (g->batch * opix),
                   (int) g->cout, (int) g->cin, 1.0f, in, (int) g->cin, cp->kernel, (int) g->cout,
                   1.0f, out, (int) g->cout);
      return;
    }
  for (int64_t n = 0; n < g->batch; n++)
    {
      const float *img = in + n * cp->w.ih * cp->w.iw * g->cin;
      float *o = out + n * opix * g->cout;
      for (int64_t p0 = 0; p0 < opix; p0 += cp->tile)
        {
          int64_t m = opix - p0 < cp->tile ? opix - p0 : cp->tile;
          for (int64_t grp = 0; grp < g->groups; grp++)
            {
              Im2colJob job = { cp, img, grp, p0, col };
              osh_parallel_for (m * K < 65536 ? 1 : threads, m, im2col_job, &job);
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) m, (int) og, (int) K,
                           1.0f, col, (int) K, cp->kernel + grp * og, (int) g->cout, 1.0f,
                           o + p0 * g->cout + grp * og, (int) g->cout);
            }
        }
    }
}

typedef struct
{
  const ConvParams *cp;
  const float *in;
  float *out;
  const float *bias;
} DwJob;

/* Depthwise, direct: each output pixel accumulates its kh·kw input pixels, channels innermost
 * so the compiler vectorises along them. */
static void
dw_rows (void *arg, int64_t begin, int64_t end)
{
  const DwJob *j = arg;
  const ConvParams *cp = j->cp;
  const ConvGeom *g = &cp->g;
  int64_t cin = g->cin, dm = g->dm, cout = cin * dm; /* separable: the depthwise part */
  for (int64_t row = begin; row < end; row++)
    {
      int64_t n = row / cp->w.oh, oy = row % cp->w.oh;
      const float *img = j->in + n * cp->w.ih * cp->w.iw * cin;
      float *orow = j->out + row * cp->w.ow * cout;
      for (int64_t ox = 0; ox < cp->w.ow; ox++)
        {
          float *acc = orow + ox * cout;
          if (j->bias)
            memcpy (acc, j->bias, (size_t) cout * sizeof (float));
          else
            memset (acc, 0, (size_t) cout * sizeof (float));
          for (int64_t ky = 0; ky < cp->w.kh; ky++)
            {
              int64_t iy = oy * cp->w.sh - cp->w.ph + ky * cp->w.dh;
              if (iy < 0 || iy >= cp->w.ih)
                continue;
              for (int64_t kx = 0; kx < cp->w.kw; kx++)
                {
                  int64_t ix = ox * cp->w.sw - cp->w.pw + kx * cp->w.dw;
                  if (ix < 0 || ix >= cp->w.iw)
                    continue;
                  const float *restrict src = img + (iy * cp->w.iw + ix) * cin;
                  const float *restrict w = cp->kernel + (ky * cp->w.kw + kx) * cin * dm;
                  for (int64_t ci = 0; ci < cin; ci++)
                    for (int64_t m = 0; m < dm; m++)
                      acc[ci * dm + m] += src[ci] * w[ci * dm + m];
                }
            }
        }
    }
}

static void
depthwise_run (const ConvParams *cp, const float *in, float *out, const float *bias, int threads)
{
  DwJob j = { cp, in, out, bias };
  int64_t rows = cp->g.batch * cp->w.oh;
  if (rows * cp->w.ow * cp->g.cin * cp->g.dm * cp->w.kh * cp->w.kw < 100000)
    threads = 1;
  osh_parallel_for (threads, rows, dw_rows, &j);
}

static void
transpose_conv_run (const ConvParams *cp, const float *in, float *out, float *cols)
{
  const ConvGeom *g = &cp->g;
  int64_t kk = cp->w.kh * cp->w.kw, cout = g->cout;
  int64_t ipix = g->batch * cp->w.ih * cp->w.iw;
  /* cols[p, (ky, kx, co)] = sum_ci in[p, ci] · kernel[(ky, kx, co), ci] */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) ipix, (int) (kk * cout), (int) g->cin,
               1.0f, in, (int) g->cin, cp->kernel, (int) g->cin, 0.0f, cols, (int) (kk * cout));
  fill_bias (out, g->batch * cp->w.oh * cp->w.ow, cout, cp->bias);
  for (int64_t p = 0; p < ipix; p++)
    {
      int64_t n = p / (cp->w.ih * cp->w.iw), iy = p / cp->w.iw % cp->w.ih, ix = p % cp->w.iw;
      const float *src = cols + p * kk * cout;
      for (int64_t ky = 0; ky < cp->w.kh; ky++)
        {
          int64_t oy = iy * cp->w.sh - cp->w.ph + ky * cp->w.dh;
          if (oy < 0 || oy >= cp->w.oh)
            continue;
          for (int64_t kx = 0; kx < cp->w.kw; kx++)
            {
              int64_t ox = ix * cp->w.sw - cp->w.pw + kx * cp->w.dw;
              if (ox < 0 || ox >= cp->w.ow)
                continue;
              float *restrict dst = out + ((n * cp->w.oh + oy) * cp->w.ow + ox) * cout;
              osh_vec_add (dst, src + (ky * cp->w.kw + kx) * cout, cout);
            }
        }
    }
}

static void
conv_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const ConvParams *cp = c->params;
  const ConvGeom *g = &cp->g;
  int64_t opix = cp->w.oh * cp->w.ow, ipix = cp->w.ih * cp->w.iw;
  int64_t pixels = g->batch * opix;
  const OshFusedTail *t = &cp->tail;
  const float *x = in[t->scale_in == 0 ? 1 : 0];
  float *y = out[0], *means = t->means_out ? out[1] : NULL;
  if (g->cf)
    {
      osh_op_to_channels_last (x, scratch, g->batch, g->cin, ipix);
      x = scratch;
      y = scratch + g->batch * ipix * g->cin;
      scratch = y + pixels * g->cout;
    }
  switch (g->kind)
    {
    case CONV_PLAIN:
      if (t->then_dw)
        {
          OshConvGemmRows feed = { t->gemm, x };
          osh_depthwise_run_fed (t->then_dw, osh_conv_gemm_feed_rows, &feed, y, means, c->threads);
        }
      else if (t->gemm)
        {
          OshConvGemmExtras extras = {
            .scale = t->scale_in >= 0 ? in[t->scale_in] : NULL,
            .work = scratch,
            .residual = t->residual_in >= 0 ? in[t->residual_in] : NULL,
          };
          osh_conv_gemm_run_with (t->gemm, x, &extras, y, c->threads);
        }
      else
        conv_plain_run (cp, x, y, scratch, c->threads);
      break;
    case CONV_DEPTHWISE:
      if (t->dw)
        osh_depthwise_run (t->dw, x, y, means, c->threads);
      else
        depthwise_run (cp, x, y, cp->bias, c->threads);
      break;
    case CONV_SEPARABLE:
      if (cp->half_dw)
        osh_depthwise_run (cp->half_dw, x, scratch, NULL, c->threads);
      else
        depthwise_run (cp, x, scratch, NULL, c->threads);
      if (t->gemm)
        {
          OshConvGemmExtras extras = { .residual =
                                           t->residual_in >= 0 ? in[t->residual_in] : NULL };
          osh_conv_gemm_run_with (t->gemm, scratch, &extras, y, c->threads);
          break;
        }
      fill_bias (y, pixels, g->cout, cp->bias);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) pixels, (int) g->cout,
                   (int) cp->mid, 1.0f, scratch, (int) cp->mid, cp->pointwise, (int) g->cout, 1.0f,
                   y, (int) g->cout);
      break;
    case CONV_TRANSPOSE: transpose_conv_run (cp, x, y, scratch); break;
    }
  osh_act_apply (&g->act, y, pixels, g->cout, c->threads);
  if (g->cf)
    osh_op_to_channels_first (y, out[0], g->batch, g->cout, opix);
}

bool
osh_conv_holds_weights (const OshOp *op, const OshOpCall *c)
{
  if (!op || op->run != osh_conv_run) /* another op's params are not a ConvParams */
    return false;
  const ConvParams *cp = c->params;
  const OshFusedTail *t = cp ? &cp->tail : NULL;
  if (!cp || cp->g.cf)
    return false;
  switch (cp->g.kind)
    {
    case CONV_PLAIN: return t->gemm != NULL; /* then_dw is a copy too */
    case CONV_DEPTHWISE: return t->dw != NULL;
    case CONV_SEPARABLE: return cp->half_dw && t->gemm;
    case CONV_TRANSPOSE: return false;
    }
  return false;
}

#define CONV_OP(prep, kind, sp)                                                                    \
  bool prep (OshOpCall *c, OshError *err);                                                         \
  bool prep (OshOpCall *c, OshError *err) { return conv_prepare (c, kind, sp, err); }

CONV_OP (osh_conv1d_prepare, CONV_PLAIN, 1)
CONV_OP (osh_conv2d_prepare, CONV_PLAIN, 2)
CONV_OP (osh_depthwise2d_prepare, CONV_DEPTHWISE, 2)
CONV_OP (osh_separable2d_prepare, CONV_SEPARABLE, 2)
CONV_OP (osh_transpose2d_prepare, CONV_TRANSPOSE, 2)

void osh_conv_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

void
osh_conv_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  conv_run (c, in, out, scratch);
}
