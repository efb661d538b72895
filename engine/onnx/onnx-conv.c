/* ONNX Conv and ConvTranspose on NCHW data (1-D and 2-D), through cblas_sgemm:
 * per image and group, out[M/g, OH*OW] = W[M/g, C/g*kh*kw] × cols[C/g*kh*kw, OH*OW], where
 * cols is the image itself for 1×1 stride-1 unpadded kernels and an im2col copy otherwise.
 * Depthwise convolutions (one input channel per group) use a direct kernel instead.
 *
 * Over 700 lines because the geometry (Conv and ConvTranspose, auto_pad, output_shape), the
 * repacking for channels-last data and the planar kernels belong together; the folds themselves
 * are the fused tail's (engine/ops/osh-fused-tail.c, shared with Keras's convolutions). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-depthwise.h"
#include "onnx-op-util.h"
#include "osh-conv-gemm.h"
#include "osh-depthwise.h"
#include "osh-fused-tail.h"

typedef struct
{
  int64_t n, c, h, w; /* input */
  int64_t m, oh, ow;  /* output channels and size */
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t pt, pl; /* leading pads (trailing ones follow from the sizes) */
  int64_t group;
  int64_t oph, opw; /* ConvTranspose output_padding */
  bool pointwise;   /* 1×1, stride 1, no padding: no im2col */
  bool depthwise;
  bool nhwc;       /* switched to channels-last input and output (layout pass) */
  bool planar_in;  /* with nhwc: the input stays channels-first (a stem, stem_reads_planar) */
  OshShape dw_out; /* with tail.then_dw: the depthwise output's (logical NCHW) shape */
  /* The kernels, with what absorb folded in: tail.gemm, the packed kernel (channels-last input)
   * when the weights are constant; tail.other, the planar depthwise kernel (OnnxDepthwise) for
   * constant weights; tail.dw, the shared NHWC depthwise kernel once switched to channels-last. */
  OshFusedTail tail;
} Geometry;

/* Reads the spatial attributes of a conv-like op for spatial rank 1 or 2 into 2-D form. */
static bool
read_window (const OshOpCall *c, int spatial, const int64_t *kernel, Geometry *g, int64_t pads[4],
             OshError *err)
{
  int64_t v[4];
  g->kh = spatial == 2 ? kernel[0] : 1;
  g->kw = kernel[spatial - 1];
  g->sh = g->sw = g->dh = g->dw = 1;
  int n = onnx_attr_ints (c, "strides", v, 2);
  if (n == spatial)
    g->sh = spatial == 2 ? v[0] : 1, g->sw = v[spatial - 1];
  else if (n != 0)
    return osh_fail (err, OSH_ERR_FORMAT, "strides should have %d values", spatial);
  n = onnx_attr_ints (c, "dilations", v, 2);
  if (n == spatial)
    g->dh = spatial == 2 ? v[0] : 1, g->dw = v[spatial - 1];
  else if (n != 0)
    return osh_fail (err, OSH_ERR_FORMAT, "dilations should have %d values", spatial);
  memset (pads, 0, 4 * sizeof *pads); /* top, left, bottom, right */
  n = onnx_attr_ints (c, "pads", v, 4);
  if (n == 2 * spatial)
    {
      if (spatial == 2)
        pads[0] = v[0], pads[1] = v[1], pads[2] = v[2], pads[3] = v[3];
      else
        pads[1] = v[0], pads[3] = v[1];
    }
  else if (n != 0)
    return osh_fail (err, OSH_ERR_FORMAT, "pads should have %d values", 2 * spatial);
  if (g->kh < 1 || g->kw < 1 || g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1)
    return osh_fail (err, OSH_ERR_FORMAT, "kernel, strides and dilations must be positive");
  for (int i = 0; i < 4; i++)
    if (pads[i] < 0)
      return osh_fail (err, OSH_ERR_FORMAT, "pads must not be negative");
  return true;
}

/* Fills the geometry of a Conv (transpose = false) or ConvTranspose from shapes and attributes. */
static bool
geometry (const OshOpCall *c, bool transpose, Geometry *g, OshError *err)
{
  if (!onnx_need (c, 0, false, "X", err) || !onnx_need (c, 1, false, "W", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape, *w = onnx_slot (c, 1).shape;
  int spatial = x->rank - 2;
  if (spatial < 1 || spatial > 2 || w->rank != x->rank)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "only 1-D and 2-D convolutions are supported (input "
                     "rank %d, weight rank %d)",
                     x->rank, w->rank);
  memset (g, 0, sizeof *g);
  g->n = x->dim[0];
  g->c = x->dim[1];
  g->h = spatial == 2 ? x->dim[2] : 1;
  g->w = x->dim[x->rank - 1];
  g->group = onnx_attr_int (c, "group", 1);
  if (g->group < 1 || (g->c >= 0 && g->c % g->group != 0))
    return osh_fail (err, OSH_ERR_SHAPE, "group %lld does not divide %lld input channels",
                     (long long) g->group, (long long) g->c);
  int64_t kernel[2];
  int nk = onnx_attr_ints (c, "kernel_shape", kernel, 2);
  if (nk == 0)
    for (int i = 0; i < spatial; i++)
      kernel[i] = w->dim[2 + i];
  else if (nk != spatial)
    return osh_fail (err, OSH_ERR_FORMAT, "kernel_shape should have %d values", spatial);
  int64_t pads[4];
  if (!read_window (c, spatial, kernel, g, pads, err))
    return false;
  if (!transpose)
    {
      g->m = w->dim[0];
      if ((g->c >= 0 && w->dim[1] * g->group != g->c) || g->m % g->group != 0)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "weight has %lld input channels per group; the input "
                         "has %lld channels in %lld groups",
                         (long long) w->dim[1], (long long) g->c, (long long) g->group);
      OshPadMode mode = onnx_auto_pad (c, pads);
      g->oh = osh_op_window (g->h, g->kh, g->sh, g->dh, mode, false, &pads[0], &pads[2]);
      g->ow = osh_op_window (g->w, g->kw, g->sw, g->dw, mode, false, &pads[1], &pads[3]);
    }
  else
    {
      if (w->dim[0] != g->c && g->c >= 0)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "ConvTranspose weight has %lld input channels, the "
                         "input %lld",
                         (long long) w->dim[0], (long long) g->c);
      g->m = w->dim[1] * g->group;
      int64_t op[2] = { 0, 0 }, os[2];
      int n = onnx_attr_ints (c, "output_padding", op, 2);
      if (n == spatial)
        g->oph = spatial == 2 ? op[0] : 0, g->opw = op[spatial - 1];
      int64_t full_h = g->sh * (g->h - 1) + g->oph + (g->kh - 1) * g->dh + 1;
      int64_t full_w = g->sw * (g->w - 1) + g->opw + (g->kw - 1) * g->dw + 1;
      if (onnx_attr_ints (c, "output_shape", os, 2) == spatial)
        {
          /* Total padding follows from the requested size; SAME_UPPER-style split. */
          g->oh = spatial == 2 ? os[0] : 1;
          g->ow = os[spatial - 1];
          int64_t th = full_h - g->oh, tw = full_w - g->ow;
          bool lower = strcmp (onnx_attr_str (c, "auto_pad", "NOTSET"), "SAME_LOWER") == 0;
          pads[0] = lower ? (th + 1) / 2 : th / 2;
          pads[1] = lower ? (tw + 1) / 2 : tw / 2;
        }
      else
        {
          const char *ap = onnx_attr_str (c, "auto_pad", "NOTSET");
          if (strncmp (ap, "SAME", 4) == 0)
            {
              g->oh = g->h * g->sh;
              g->ow = g->w * g->sw;
              int64_t th = full_h - g->oh, tw = full_w - g->ow;
              bool lower = strcmp (ap, "SAME_LOWER") == 0;
              pads[0] = lower ? (th + 1) / 2 : th / 2;
              pads[1] = lower ? (tw + 1) / 2 : tw / 2;
            }
          else
            {
              g->oh = full_h - pads[0] - pads[2];
              g->ow = full_w - pads[1] - pads[3];
            }
        }
    }
  g->pt = pads[0];
  g->pl = pads[1];
  /* An open input size (-1) leaves the output size open, unless output_shape gives it. */
  int64_t given[2];
  bool fixed = transpose && onnx_attr_ints (c, "output_shape", given, 2) == spatial;
  if (g->h < 0 && !fixed)
    g->oh = -1;
  if (g->w < 0 && !fixed)
    g->ow = -1;
  if ((g->oh < 1 && g->h >= 0) || (g->ow < 1 && g->w >= 0))
    return osh_fail (err, OSH_ERR_SHAPE, "the output would be empty (%lld×%lld)", (long long) g->oh,
                     (long long) g->ow);
  g->pointwise = !transpose && g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0
                 && g->pl == 0 && g->oh == g->h && g->ow == g->w;
  g->depthwise = !transpose && g->group == g->c && g->group > 1;
  OnnxSlot b = onnx_slot (c, 2);
  if (b.present && (b.shape->rank != 1 || b.shape->dim[0] != g->m))
    return osh_fail (err, OSH_ERR_SHAPE, "bias should have %lld values", (long long) g->m);
  return true;
}

static void
set_out_shape (OshOpCall *c, const Geometry *g)
{
  const OshShape *x = onnx_slot (c, 0).shape;
  c->out[0] = *x;
  c->out[0].dim[1] = g->m;
  if (x->rank == 4)
    c->out[0].dim[2] = g->oh;
  c->out[0].dim[x->rank - 1] = g->ow;
}

static void
free_geometry (void *p)
{
  Geometry *g = p;
  osh_fused_tail_clear (&g->tail);
  free (g);
}

/* The packed implicit-GEMM kernel reads a channels-last copy of the input and writes the output
 * channels-first; it needs the weights (and bias) at plan time. */
static OshConvGemm *
new_fast (const OshOpCall *c, const Geometry *g, bool planar_out, bool planar_in)
{
  OnnxSlot w = onnx_slot (c, 1), b = onnx_slot (c, 2);
  OshConvShape s = { .batch = g->n,
                     .ih = g->h,
                     .iw = g->w,
                     .cin = g->c,
                     .oh = g->oh,
                     .ow = g->ow,
                     .cout = g->m,
                     .kh = g->kh,
                     .kw = g->kw,
                     .sh = g->sh,
                     .sw = g->sw,
                     .dh = g->dh,
                     .dw = g->dw,
                     .ph = g->pt,
                     .pw = g->pl,
                     .groups = g->group,
                     .planar_out = planar_out,
                     .planar_in = planar_in };
  return osh_conv_gemm_new (&s, w.value, osh_kernel_strides_onnx (&s), b.present ? b.value : NULL);
}

/* The planar depthwise kernel as a kernel the fused tail folds into. */
static void
planar_fold_affine (void *k, const float *scale, const float *shift)
{
  onnx_depthwise_fold_affine (k, scale, shift);
}

static bool
planar_set_epilogue (void *k, const OshEpilogue *e)
{
  return onnx_depthwise_set_epilogue (k, e);
}

static bool
planar_has_epilogue (const void *k)
{
  return onnx_depthwise_has_epilogue (k);
}

static void
planar_free (void *k)
{
  onnx_depthwise_free (k);
}

static const OshTailKernelClass planar_depthwise = {
  planar_fold_affine,
  planar_set_epilogue,
  planar_has_epilogue,
  planar_free,
};

/* The planar depthwise kernel for g, with constant weights w and bias b. */
static OnnxDepthwise *
new_planar (const Geometry *g, OnnxSlot w, OnnxSlot b)
{
  OnnxDepthwiseShape d = { .c = g->c,
                           .m = g->m,
                           .h = g->h,
                           .w = g->w,
                           .oh = g->oh,
                           .ow = g->ow,
                           .kh = g->kh,
                           .kw = g->kw,
                           .sh = g->sh,
                           .sw = g->sw,
                           .dh = g->dh,
                           .dw = g->dw,
                           .pt = g->pt,
                           .pl = g->pl };
  return onnx_depthwise_new (&d, w.value, b.present ? b.value : NULL);
}

static void
prepare_fast (OshOpCall *c, Geometry *g)
{
  OnnxSlot w = onnx_slot (c, 1), b = onnx_slot (c, 2);
  if (!w.value || (b.present && !b.value))
    return;
  if (g->depthwise)
    {
      g->tail.other = new_planar (g, w, b);
      g->tail.other_class = &planar_depthwise;
      return;
    }
  g->tail.gemm = new_fast (c, g, true, false);
}

/* The planar depthwise kernel, when there is one. */
static OnnxDepthwise *
planar (const Geometry *g)
{
  return g->tail.other;
}

/* What an ONNX step after a convolution amounts to: a Relu, Clip, sigmoid (a SiLU pair's, as
 * OSH_FUSE_SWISH), HardSigmoid or HardSwish as an epilogue; an inference BatchNormalization, or
 * an Add, Sub, Mul or Div by a constant per channel, as an affine map. */
static OshTailWhat
read_next (const OshOpCall *next, OshFuseKind kind, int64_t ch, float *scale, float *shift,
           OshEpilogue *e)
{
  float lo, hi;
  const float *a, *b;
  if (osh_op_call_is (next, OSH_CAT_SIGMOID))
    {
      *e = osh_epilogue_none ();
      e->kind = kind == OSH_FUSE_SWISH ? OSH_EPILOGUE_SWISH : OSH_EPILOGUE_SIGMOID;
      return OSH_TAIL_EPILOGUE;
    }
  if (kind != OSH_FUSE_NEXT)
    return OSH_TAIL_NOTHING;
  if (onnx_hard_epilogue (next, e))
    return OSH_TAIL_EPILOGUE;
  if (onnx_clamp_of (next, &lo, &hi))
    {
      *e = osh_epilogue_clamp (lo, hi);
      return OSH_TAIL_EPILOGUE;
    }
  if (next->n_out != 1)
    return OSH_TAIL_NOTHING;
  if (onnx_batchnorm_affine (next, ch, &a, &b))
    {
      memcpy (scale, a, (size_t) ch * sizeof (float));
      memcpy (shift, b, (size_t) ch * sizeof (float));
      return OSH_TAIL_AFFINE;
    }
  return onnx_affine_of (next, ch, scale, shift) ? OSH_TAIL_AFFINE : OSH_TAIL_NOTHING;
}

/* Reads through a zero Pad's input: its leading padding adds to ours, reads past the input's end
 * were zeros already. The kernel is made again for the wider window, so only while nothing else
 * is folded (the pad step comes first). */
static bool
absorb_pad (OshOpCall *c, Geometry *g, const OshOpCall *pad)
{
  int64_t top, left;
  OshFusedTail *t = &g->tail;
  if (!osh_fused_tail_empty (t) || g->nhwc || c->in[0].rank != 4 || !(t->gemm || t->other)
      || !onnx_zero_pad_leading (pad, &top, &left))
    return false;
  Geometry before = *g;
  g->pt += top, g->pl += left;
  g->h = pad->in[0].dim[2], g->w = pad->in[0].dim[3];
  g->pointwise = false;
  OnnxSlot w = onnx_slot (c, 1), b = onnx_slot (c, 2);
  if (t->gemm)
    {
      OshConvGemm *fast = new_fast (c, g, true, false);
      if (fast)
        {
          osh_conv_gemm_free (t->gemm);
          t->gemm = fast;
          c->scratch = (size_t) (g->n * g->c * g->h * g->w); /* the input made channels-last */
          return true;
        }
    }
  else
    {
      OnnxDepthwise *d = new_planar (g, w, b);
      if (d)
        {
          onnx_depthwise_free (t->other);
          t->other = d;
          c->scratch = onnx_depthwise_scratch (d);
          return true;
        }
    }
  *g = before; /* out of memory: stay as we were */
  return false;
}

/* Takes in the squeeze-excite Mul before a packed convolution (osh_fused_tail_take_scale). */
static bool
absorb_scale (OshOpCall *c, Geometry *g, const OshOpCall *mul)
{
  if (g->group != 1 || g->n != 1 || g->nhwc)
    return false;
  int64_t work = osh_fused_tail_take_scale (&g->tail, c, mul, 1, g->c);
  if (work > 0)
    c->scratch = (size_t) (g->n * g->c * g->h * g->w + work); /* x made NHWC, then work */
  return work > 0;
}

/* The depthwise kernel shared with Keras, with what absorb folded in; NULL when it cannot. */
static OshDepthwise *
new_depthwise_nhwc (const OshOpCall *c, const Geometry *g)
{
  OnnxSlot w = onnx_slot (c, 1), b = onnx_slot (c, 2);
  if (!g->depthwise || g->m != g->c || !w.value || (b.present && !b.value))
    return NULL;
  OshDepthwiseShape s = { .batch = g->n,
                          .ih = g->h,
                          .iw = g->w,
                          .c = g->c,
                          .oh = g->oh,
                          .ow = g->ow,
                          .kh = g->kh,
                          .kw = g->kw,
                          .sh = g->sh,
                          .sw = g->sw,
                          .dh = g->dh,
                          .dw = g->dw,
                          .ph = g->pt,
                          .pw = g->pl };
  OshDepthwise *d = osh_depthwise_new (&s, w.value, 1, g->kh * g->kw, b.present ? b.value : NULL);
  if (d)
    osh_fused_tail_replay (&g->tail, NULL, d);
  return d;
}

/* The packed kernel with what absorb folded in, writing channels-last; NULL when it cannot. */
static OshConvGemm *
new_fast_nhwc (const OshOpCall *c, const Geometry *g, bool planar_in)
{
  OshConvGemm *fast = g->tail.gemm ? new_fast (c, g, false, planar_in) : NULL;
  if (fast)
    osh_fused_tail_replay (&g->tail, fast, NULL);
  return fast;
}

/* Takes in the depthwise convolution after a 1×1 one (MobileNetV2's and EfficientNet's
 * expansion): its input, 4–6 times as wide as ours, is then made a few rows at a time while the
 * depthwise kernel reads them from cache (osh_depthwise_run_fed), never stored whole. Both run
 * channels-last, so this step is channels-last inside whatever the layout pass decides. */
static bool
absorb_depthwise (OshOpCall *c, Geometry *g, const OshOpCall *next)
{
  const OshOp *op = osh_op_find (next->graph, next->layer->class_name);
  if (!op || !(op->cats & OSH_CAT_CONV) || op->run != onnx_conv_run || !next->params)
    return false;
  const Geometry *d = next->params;
  if (!osh_fused_tail_can_stream (&g->tail) || g->nhwc || g->group != 1 || g->n != 1 || g->kh != 1
      || g->kw != 1 || g->sh != 1 || g->sw != 1 || g->pt != 0 || g->pl != 0 || c->in[0].rank != 4
      || !d->depthwise || d->m != d->c || d->c != g->m || d->h != g->oh
      || d->w != g->ow
      /* its affine maps and epilogue are made again with it; nothing else */
      || d->tail.then_dw || d->tail.scale_in >= 0 || d->tail.residual_in >= 0 || d->tail.means_out)
    return false;
  OshDepthwise *dw = new_depthwise_nhwc (next, d);
  OshConvGemm *fast = dw && osh_depthwise_fed_ok (dw) ? new_fast_nhwc (c, g, false) : NULL;
  if (!fast)
    {
      osh_depthwise_free (dw);
      return false;
    }
  osh_conv_gemm_free (g->tail.gemm);
  g->tail.gemm = fast; /* writes channels-last rows now */
  g->dw_out = next->out[0];
  osh_fused_tail_take_stream (&g->tail, c, next, dw, g->dw_out.dim[1]);
  /* Channels-first (no layout pass): the input made channels-last, then the output. */
  c->scratch = (size_t) (g->n * g->c * g->h * g->w + osh_shape_numel (&next->out[0]));
  return true;
}

/* Folds an inference BatchNormalization (or an Add, Sub, Mul or Div by a constant per channel),
 * then a Relu, Clip, sigmoid or SiLU, into the packed or depthwise kernel; or the
 * squeeze-excite product before it, a residual Add after it, or the depthwise convolution after
 * a 1×1 one; or the means of a depthwise output (the planar kernel sums the planes it has just
 * written, the streamed one each row while it is in registers). */
static bool
absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  Geometry *g = c->params;
  OshFusedTail *t = &g->tail;
  if (osh_fused_tail_closed (t))
    return false;
  switch (kind)
    {
    case OSH_FUSE_MEAN:
      return osh_fused_tail_take_mean (t, next, t->then_dw ? &g->dw_out : &c->out[0], 1,
                                       t->then_dw || (g->depthwise && g->m == g->c && planar (g)));
    case OSH_FUSE_PAD: return absorb_pad (c, g, next);
    case OSH_FUSE_SCALE: return absorb_scale (c, g, next);
    case OSH_FUSE_RESIDUAL: return osh_fused_tail_take_residual (t, c, next);
    case OSH_FUSE_STREAM: return absorb_depthwise (c, g, next);
    case OSH_FUSE_NEXT:
    case OSH_FUSE_SWISH: return osh_fused_tail_take_next (t, next, kind, read_next);
    default: return false;
    }
}

bool
onnx_conv_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  return absorb (c, next, kind);
}

/* Both fast kernels read channels-last (the packed one transposes its input otherwise; the
 * depthwise one has an NHWC form): switched, they skip the transposes and write channels-last
 * too, packed again with what absorb folded into them. */
/* A stem on a few colour channels reads them channels-first better than a transpose makes
 * them channels-last (the packed kernel's planar_in form): nothing but an affine map and an
 * epilogue folded in. The kernel may still refuse (its path, its width: osh_conv_gemm_new), and
 * committing then switches to channels-last as any packed convolution does. */
static bool
stem_reads_planar (const Geometry *g)
{
  const OshFusedTail *t = &g->tail;
  return t->gemm && !t->then_dw && t->scale_in < 0 && t->residual_in < 0 && g->group == 1
         && g->c <= 4 && g->sw <= 2 && g->dw == 1;
}

OshNhwcFit
onnx_conv_channels_last (OshOpCall *c, bool commit)
{
  Geometry *g = c->params;
  OshFusedTail *t = &g->tail;
  /* Under 16 channels the NHWC depthwise kernel runs its scalar tail only (7× slower than the
   * planar one on 8 channels): those stay channels-first. */
  bool can = onnx_slot (c, 0).tensor == 0 && c->in[0].rank == 4
             && (t->gemm || (g->depthwise && g->m == g->c && g->c >= 16 && onnx_slot (c, 1).value));
  if (!can)
    return OSH_NHWC_NO;
  if (g->nhwc)
    return g->planar_in ? OSH_NHWC_WRITES : OSH_NHWC_GAINS;
  if (!commit)
    return stem_reads_planar (g) ? OSH_NHWC_WRITES : OSH_NHWC_GAINS;
  OshConvGemm *stem = stem_reads_planar (g) ? new_fast_nhwc (c, g, true) : NULL;
  if (stem)
    {
      osh_conv_gemm_free (t->gemm);
      t->gemm = stem;
      g->planar_in = true;
    }
  else if (t->then_dw)
    ; /* channels-last inside already */
  else if (t->gemm)
    {
      OshConvGemm *fast = new_fast_nhwc (c, g, false);
      if (!fast)
        return OSH_NHWC_NO;
      osh_conv_gemm_free (t->gemm);
      t->gemm = fast;
    }
  else
    {
      if (!(t->dw = new_depthwise_nhwc (c, g)))
        return OSH_NHWC_NO;
      if (t->other)
        t->other_class->free (t->other);
      t->other = NULL;
    }
  g->nhwc = true;
  c->scratch = t->scale_in >= 0 ? (size_t) osh_conv_gemm_work_floats (t->gemm) : 0;
  return g->planar_in ? OSH_NHWC_WRITES : OSH_NHWC_GAINS;
}

static bool
prepare (OshOpCall *c, bool transpose, OshError *err)
{
  Geometry *g = calloc (1, sizeof *g);
  if (!g)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = g;
  c->free_params = free_geometry;
  osh_fused_tail_init (&g->tail, 0);
  if (!geometry (c, transpose, g, err))
    return false;
  osh_fused_tail_init (&g->tail, g->m);
  int64_t cg = g->c / g->group, mg = g->m / g->group;
  if (!transpose && !c->count_only)
    prepare_fast (c, g);
  if (g->tail.gemm)
    {
      c->scratch = (size_t) (g->n * g->c * g->h * g->w);
      c->flops = 2.0 * (double) g->n * (double) g->m * (double) (cg * g->kh * g->kw)
                 * (double) (g->oh * g->ow);
    }
  else if (transpose)
    {
      c->scratch = (size_t) (mg * g->kh * g->kw * g->h * g->w);
      c->flops = 2.0 * (double) g->n * (double) g->c * (double) mg
                 * (double) (g->kh * g->kw * g->h * g->w);
    }
  else
    {
      c->scratch = planar (g)                     ? onnx_depthwise_scratch (planar (g))
                   : g->pointwise || g->depthwise ? 0
                                                  : (size_t) (cg * g->kh * g->kw * g->oh * g->ow);
      c->flops = 2.0 * (double) g->n * (double) g->m * (double) (cg * g->kh * g->kw)
                 * (double) (g->oh * g->ow);
    }
  return true;
}

bool
onnx_conv_infer (OshOpCall *c, OshError *err)
{
  Geometry g;
  if (!geometry (c, false, &g, err))
    return false;
  set_out_shape (c, &g);
  return true;
}

bool
onnx_conv_prepare (OshOpCall *c, OshError *err)
{
  return prepare (c, false, err);
}

/* cols[(ci*kh + ky)*kw + kx][oy*ow + ox] = x[ci][oy*sh - pt + ky*dh][ox*sw - pl + kx*dw]:
 * whole runs are copied, bounds are handled once per row, not per element. */
static void
im2col (const Geometry *g, int64_t channels, const float *x, float *cols)
{
  for (int64_t ci = 0; ci < channels; ci++)
    for (int64_t ky = 0; ky < g->kh; ky++)
      for (int64_t kx = 0; kx < g->kw; kx++)
        {
          float *row = cols + ((ci * g->kh + ky) * g->kw + kx) * g->oh * g->ow;
          const float *plane = x + ci * g->h * g->w;
          int64_t off = kx * g->dw - g->pl, lo, hi;
          onnx_valid_range (g->ow, g->sw, off, g->w, &lo, &hi);
          for (int64_t oy = 0; oy < g->oh; oy++)
            {
              int64_t iy = oy * g->sh - g->pt + ky * g->dh;
              float *r = row + oy * g->ow;
              if (iy < 0 || iy >= g->h)
                {
                  memset (r, 0, (size_t) g->ow * sizeof *r);
                  continue;
                }
              const float *src = plane + iy * g->w + off;
              memset (r, 0, (size_t) lo * sizeof *r);
              if (g->sw == 1)
                memcpy (r + lo, src + lo, (size_t) (hi - lo) * sizeof *r);
              else
                for (int64_t ox = lo; ox < hi; ox++)
                  r[ox] = src[ox * g->sw];
              memset (r + hi, 0, (size_t) (g->ow - hi) * sizeof *r);
            }
        }
}

/* One output plane per channel, accumulated tap by tap over whole rows: the inner loop has no
 * bounds checks and vectorizes for stride 1. */
static void
depthwise (const Geometry *g, const float *x, const float *w, float *y)
{
  int64_t mult = g->m / g->c;
  for (int64_t oc = 0; oc < g->m; oc++)
    {
      const float *plane = x + (oc / mult) * g->h * g->w;
      const float *k = w + oc * g->kh * g->kw;
      float *out = y + oc * g->oh * g->ow;
      memset (out, 0, (size_t) (g->oh * g->ow) * sizeof *out);
      for (int64_t ky = 0; ky < g->kh; ky++)
        for (int64_t kx = 0; kx < g->kw; kx++)
          {
            float wt = k[ky * g->kw + kx];
            int64_t off = kx * g->dw - g->pl, lo, hi;
            onnx_valid_range (g->ow, g->sw, off, g->w, &lo, &hi);
            for (int64_t oy = 0; oy < g->oh; oy++)
              {
                int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                if (iy < 0 || iy >= g->h)
                  continue;
                const float *src = plane + iy * g->w + off;
                float *o = out + oy * g->ow;
                if (g->sw == 1)
                  for (int64_t ox = lo; ox < hi; ox++)
                    o[ox] += wt * src[ox];
                else
                  for (int64_t ox = lo; ox < hi; ox++)
                    o[ox] += wt * src[ox * g->sw];
              }
          }
    }
}

static void
add_bias (const Geometry *g, const float *bias, float *y)
{
  if (!bias)
    return;
  int64_t plane = g->oh * g->ow;
  for (int64_t oc = 0; oc < g->m; oc++)
    for (int64_t i = 0; i < plane; i++)
      y[oc * plane + i] += bias[oc];
}

/* means[ch] = the mean of plane ch of y (ch planes of `size` values). */
static void
plane_means (const float *y, float *means, int64_t ch, int64_t size)
{
  for (int64_t k = 0; k < ch; k++)
    {
      float sum = 0.0f;
      for (int64_t i = 0; i < size; i++)
        sum += y[k * size + i];
      means[k] = sum / (float) size;
    }
}

void
onnx_conv_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const Geometry *g = c->params;
  const float *x = onnx_slot_data (c, in, 0), *w = onnx_slot_data (c, in, 1);
  const float *bias = onnx_slot_data (c, in, 2);
  int64_t cg = g->c / g->group, mg = g->m / g->group, k = cg * g->kh * g->kw, p = g->oh * g->ow;
  const OshFusedTail *t = &g->tail;
  if (t->then_dw)
    {
      const OshShape *o = &g->dw_out;
      OshConvGemmRows feed = { t->gemm, x };
      float *y = out[0];
      if (!g->nhwc)
        {
          osh_op_to_channels_last (x, scratch, g->n, g->c, g->h * g->w);
          feed.in = scratch;
          y = scratch + g->n * g->c * g->h * g->w;
        }
      osh_depthwise_run_fed (t->then_dw, osh_conv_gemm_feed_rows, &feed, y,
                             t->means_out ? out[1] : NULL, c->threads);
      if (!g->nhwc)
        osh_op_to_channels_first (y, out[0], o->dim[0], o->dim[1], o->dim[2] * o->dim[3]);
      return;
    }
  if (t->gemm)
    {
      /* After folds: x and a squeeze-excite scale in the Mul's order in place of the input, a
       * residual last; both in the output's layout. */
      const float *xs = t->scale_in >= 0 ? in[1 - t->scale_in] : x;
      OshConvGemmExtras extras = { .scale = t->scale_in >= 0 ? in[t->scale_in] : NULL,
                                   .work = scratch,
                                   .residual = t->residual_in >= 0 ? in[t->residual_in] : NULL };
      if (!g->nhwc)
        {
          osh_op_to_channels_last (xs, scratch, g->n, g->c, g->h * g->w);
          xs = scratch;
          extras.work = scratch + g->n * g->c * g->h * g->w;
        }
      osh_conv_gemm_run_with (t->gemm, xs, &extras, out[0], c->threads);
      return;
    }
  if (g->nhwc)
    {
      osh_depthwise_run (t->dw, x, out[0], t->means_out ? out[1] : NULL, c->threads);
      return;
    }
  for (int64_t n = 0; n < g->n; n++)
    {
      const float *xn = x + n * g->c * g->h * g->w;
      float *yn = out[0] + n * g->m * p;
      if (planar (g))
        {
          onnx_depthwise_run (planar (g), xn, yn, scratch); /* bias included */
          if (t->means_out)
            plane_means (yn, out[1] + n * g->m, g->m, p);
          continue;
        }
      if (g->depthwise)
        depthwise (g, xn, w, yn);
      else
        for (int64_t grp = 0; grp < g->group; grp++)
          {
            const float *xg = xn + grp * cg * g->h * g->w;
            const float *cols = xg;
            if (!g->pointwise)
              {
                im2col (g, cg, xg, scratch);
                cols = scratch;
              }
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) mg, (int) p, (int) k,
                         1.0f, w + grp * mg * k, (int) k, cols, (int) p, 0.0f, yn + grp * mg * p,
                         (int) p);
          }
      add_bias (g, bias, yn);
    }
}

bool
onnx_convtr_infer (OshOpCall *c, OshError *err)
{
  Geometry g;
  if (!geometry (c, true, &g, err))
    return false;
  set_out_shape (c, &g);
  return true;
}

bool
onnx_convtr_prepare (OshOpCall *c, OshError *err)
{
  return prepare (c, true, err);
}

void
onnx_convtr_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const Geometry *g = c->params;
  const float *x = onnx_slot_data (c, in, 0), *w = onnx_slot_data (c, in, 1);
  const float *bias = onnx_slot_data (c, in, 2);
  int64_t cg = g->c / g->group, mg = g->m / g->group, hw = g->h * g->w, p = g->oh * g->ow;
  int64_t rows = mg * g->kh * g->kw;
  memset (out[0], 0, (size_t) (g->n * g->m * p) * sizeof (float));
  for (int64_t n = 0; n < g->n; n++)
    for (int64_t grp = 0; grp < g->group; grp++)
      {
        /* cols[mg*kh*kw, h*w] = W_g^T × x_g, then scatter-add (col2im) into the output. */
        const float *xg = x + (n * g->c + grp * cg) * hw;
        const float *wg = w + grp * cg * rows;
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) rows, (int) hw, (int) cg, 1.0f,
                     wg, (int) rows, xg, (int) hw, 0.0f, scratch, (int) hw);
        float *yg = out[0] + (n * g->m + grp * mg) * p;
        for (int64_t oc = 0; oc < mg; oc++)
          for (int64_t ky = 0; ky < g->kh; ky++)
            for (int64_t kx = 0; kx < g->kw; kx++)
              {
                const float *row = scratch + ((oc * g->kh + ky) * g->kw + kx) * hw;
                float *plane = yg + oc * p;
                for (int64_t iy = 0; iy < g->h; iy++)
                  {
                    int64_t oy = iy * g->sh - g->pt + ky * g->dh;
                    if (oy < 0 || oy >= g->oh)
                      continue;
                    for (int64_t ix = 0; ix < g->w; ix++)
                      {
                        int64_t ox = ix * g->sw - g->pl + kx * g->dw;
                        if (ox >= 0 && ox < g->ow)
                          plane[oy * g->ow + ox] += row[iy * g->w + ix];
                      }
                  }
              }
      }
  for (int64_t n = 0; n < g->n; n++)
    add_bias (g, bias, out[0] + n * g->m * p);
}
