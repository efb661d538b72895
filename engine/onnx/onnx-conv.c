/* ONNX Conv and ConvTranspose on NCHW data (1-D and 2-D), through cblas_sgemm:
 * per image and group, out[M/g, OH*OW] = W[M/g, C/g*kh*kw] × cols[C/g*kh*kw, OH*OW], where
 * cols is the image itself for 1×1 stride-1 unpadded kernels and an im2col copy otherwise.
 * Depthwise convolutions (one input channel per group) use a direct kernel instead.
 *
 * Over 700 lines because Conv's folds (absorb) must be replayed when the layout pass repacks the
 * kernel for channels-last data, so geometry, folds and repacking stay in one file. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-depthwise.h"
#include "onnx-op-util.h"
#include "osh-conv-gemm.h"
#include "osh-depthwise.h"

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
  OshConvGemm *fast;      /* packed kernel (channels-last input), when weights are constant */
  OnnxDepthwise *dw_fast; /* depthwise with constant weights, padded-row kernel */
  OshDepthwise *dw_nhwc;  /* depthwise switched to channels-last: the shared NHWC kernel */
  OshDepthwise *then_dw;  /* a depthwise convolution fed row by row from this 1×1 one */
  bool nhwc;              /* switched to channels-last input and output (layout pass) */
  int scale_in;           /* -1, or which of two inputs is a per-channel scale (OSH_FUSE_SCALE) */
  int residual_in;        /* -1, or the input added to the output (OSH_FUSE_RESIDUAL) */
  OshShape dw_out;        /* with then_dw: the depthwise output's (logical NCHW) shape */
  bool means_out;         /* out[1] gets the output's mean per channel (OSH_FUSE_MEAN) */
  /* What absorb folded in, replayed when the kernel is packed again for NHWC data. */
  float *affine; /* n_affine pairs of m scales then m shifts */
  int n_affine;
  OshEpilogue epilogue;
  bool has_epilogue;
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
  osh_conv_gemm_free (g->fast);
  onnx_depthwise_free (g->dw_fast);
  osh_depthwise_free (g->dw_nhwc);
  osh_depthwise_free (g->then_dw);
  free (g->affine);
  free (g);
}

/* The packed implicit-GEMM kernel reads a channels-last copy of the input and writes the output
 * channels-first; it needs the weights (and bias) at plan time. */
static OshConvGemm *
new_fast (const OshOpCall *c, const Geometry *g, bool planar_out)
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
                     .planar_out = planar_out };
  return osh_conv_gemm_new (&s, w.value, osh_kernel_strides_onnx (&s), b.present ? b.value : NULL);
}

static void
prepare_fast (OshOpCall *c, Geometry *g)
{
  OnnxSlot w = onnx_slot (c, 1), b = onnx_slot (c, 2);
  if (!w.value || (b.present && !b.value))
    return;
  if (g->depthwise)
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
      g->dw_fast = onnx_depthwise_new (&d, w.value, b.present ? b.value : NULL);
      return;
    }
  g->fast = new_fast (c, g, true);
}

/* The epilogue a Relu, Clip or sigmoid step (or a SiLU pair) amounts to. */
static bool
epilogue_of (const OshOpCall *next, OshFuseKind kind, OshEpilogue *e)
{
  float lo, hi;
  if (osh_op_call_is (next, OSH_CAT_SIGMOID))
    {
      *e = osh_epilogue_none ();
      e->kind = kind == OSH_FUSE_SWISH ? OSH_EPILOGUE_SWISH : OSH_EPILOGUE_SIGMOID;
      return true;
    }
  if (kind == OSH_FUSE_NEXT && onnx_hard_epilogue (next, e))
    return true;
  if (kind != OSH_FUSE_NEXT || !onnx_clamp_of (next, &lo, &hi))
    return false;
  *e = osh_epilogue_clamp (lo, hi);
  return true;
}

/* Takes in the squeeze-excite Mul before a packed convolution, x · s with s one value per input
 * channel, by scaling a copy of the kernel each run (osh_conv_gemm_run_scaled): worth it while
 * the kernel is smaller than x, where the product would be a whole pass over x. */
static bool
absorb_scale (OshOpCall *c, Geometry *g, const OshOpCall *mul)
{
  if (!osh_op_call_is (mul, OSH_CAT_PRODUCT) || mul->n_in != 2 || !g->fast || g->group != 1
      || g->n != 1 || g->nhwc || g->scale_in >= 0 || c->in[0].rank != 4)
    return false;
  int64_t work = osh_conv_gemm_work_floats (g->fast);
  if (work >= g->h * g->w * g->c)
    return false;
  for (int k = 0; k < 2; k++)
    {
      const OshShape *x = &mul->in[k], *sc = &mul->in[1 - k];
      if (osh_shape_equal (x, &c->in[0]) && sc->rank == 4 && sc->dim[0] == 1 && sc->dim[1] == g->c
          && sc->dim[2] == 1 && sc->dim[3] == 1)
        {
          g->scale_in = 1 - k;
          c->scratch = (size_t) (g->n * g->c * g->h * g->w + work); /* x made NHWC, then work */
          return true;
        }
    }
  return false;
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
  for (int i = 0; d && i < g->n_affine; i++)
    {
      const float *scale = g->affine + (size_t) i * 2 * (size_t) g->m;
      osh_depthwise_fold_affine (d, scale, scale + g->m);
    }
  if (d && g->has_epilogue)
    osh_depthwise_set_epilogue (d, &g->epilogue);
  return d;
}

/* The packed kernel with what absorb folded in, writing channels-last; NULL when it cannot. */
static OshConvGemm *
new_fast_nhwc (const OshOpCall *c, const Geometry *g)
{
  OshConvGemm *fast = g->fast ? new_fast (c, g, false) : NULL;
  for (int i = 0; fast && i < g->n_affine; i++)
    {
      const float *scale = g->affine + (size_t) i * 2 * (size_t) g->m;
      osh_conv_gemm_fold_affine (fast, scale, scale + g->m);
    }
  if (fast && g->has_epilogue)
    osh_conv_gemm_set_epilogue (fast, &g->epilogue);
  return fast;
}

/* The per-channel scale and shift of an inference BatchNormalization step over `m` channels,
 * as that step prepared them. */
static bool
batchnorm_of (const OshOpCall *next, int64_t m, float *scale, float *shift)
{
  const float *a, *b;
  if (!onnx_batchnorm_affine (next, m, &a, &b))
    return false;
  memcpy (scale, a, (size_t) m * sizeof (float));
  memcpy (shift, b, (size_t) m * sizeof (float));
  return true;
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
  if (!g->fast || g->nhwc || g->group != 1 || g->n != 1 || g->kh != 1 || g->kw != 1 || g->sh != 1
      || g->sw != 1 || g->pt != 0 || g->pl != 0 || g->scale_in >= 0 || g->residual_in >= 0
      || c->in[0].rank != 4 || !d->depthwise || d->m != d->c || d->c != g->m || d->h != g->oh
      || d->w != g->ow || d->n_affine || d->has_epilogue)
    return false;
  OshDepthwise *dw = new_depthwise_nhwc (next, d);
  OshConvGemm *fast = dw && osh_depthwise_fed_ok (dw) ? new_fast_nhwc (c, g) : NULL;
  if (!fast)
    {
      osh_depthwise_free (dw);
      return false;
    }
  osh_conv_gemm_free (g->fast);
  g->fast = fast; /* writes channels-last rows now */
  g->then_dw = dw;
  g->dw_out = next->out[0];
  c->flops += next->flops;
  /* Channels-first (no layout pass): the input made channels-last, then the output. */
  c->scratch = (size_t) (g->n * g->c * g->h * g->w + osh_shape_numel (&next->out[0]));
  return true;
}

/* After absorb_depthwise, a BatchNormalization and an activation (or a SiLU) fold into the
 * depthwise part. */
static bool
absorb_after_depthwise (Geometry *g, const OshOpCall *next, OshFuseKind kind)
{
  OshEpilogue e;
  if (epilogue_of (next, kind, &e))
    return osh_depthwise_set_epilogue (g->then_dw, &e);
  int64_t ch = g->dw_out.dim[1];
  float *scale = malloc ((size_t) ch * 2 * sizeof *scale);
  bool ok = scale && kind == OSH_FUSE_NEXT
            && (batchnorm_of (next, ch, scale, scale + ch)
                || onnx_affine_of (next, ch, scale, scale + ch))
            && osh_depthwise_fold_affine (g->then_dw, scale, scale + ch);
  free (scale);
  return ok;
}

/* Takes in the global average pooling of a depthwise output (squeeze-excite's squeeze, read
 * beside the output itself), as Keras's DepthwiseConv2D does: the shared NHWC depthwise kernel
 * sums each row while it is in registers. The planar kernel sums the planes it has just
 * written. (n, c) means are the pooling's (n, c, 1, 1) output in either layout. */
static bool
absorb_mean (OshOpCall *c, Geometry *g, const OshOpCall *pool)
{
  const OshShape *o = g->then_dw ? &g->dw_out : &c->out[0];
  bool dw = g->then_dw || (g->depthwise && g->m == g->c && g->dw_fast);
  if (!osh_op_call_is (pool, OSH_CAT_GLOBAL_MEAN) || pool->n_in != 1 || !dw || o->rank != 4
      || !osh_shape_equal (&pool->in[0], o)
      || osh_shape_numel (&pool->out[0]) != o->dim[0] * o->dim[1])
    return false;
  g->means_out = true;
  return true;
}

/* Folds an inference BatchNormalization (or an Add, Sub, Mul or Div by a constant per channel),
 * then a Relu, Clip, sigmoid or SiLU, into the packed or depthwise kernel; or the
 * squeeze-excite product before it, a residual Add after it, or the depthwise convolution after
 * a 1×1 one. */
static bool
absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  Geometry *g = c->params;
  if (g->means_out) /* the means are of the output as it stands */
    return false;
  if (kind == OSH_FUSE_MEAN)
    return absorb_mean (c, g, next);
  if (g->then_dw)
    return absorb_after_depthwise (g, next, kind);
  if (kind == OSH_FUSE_STREAM)
    return absorb_depthwise (c, g, next);
  if (kind == OSH_FUSE_SCALE)
    return absorb_scale (c, g, next);
  if (kind == OSH_FUSE_RESIDUAL)
    {
      /* Added before the epilogue: only while there is none, and no BatchNormalization after. */
      if (!osh_op_call_is (next, OSH_CAT_SUM) || !g->fast || g->residual_in >= 0
          || osh_conv_gemm_has_epilogue (g->fast))
        return false;
      g->residual_in = c->n_in;
      c->out_over_last_in = true; /* each tile reads its residual before storing there */
      return true;
    }
  if (!g->fast && !g->dw_fast)
    return false;
  OshEpilogue e;
  if (epilogue_of (next, kind, &e))
    {
      if (!(g->fast ? osh_conv_gemm_set_epilogue (g->fast, &e)
                    : onnx_depthwise_set_epilogue (g->dw_fast, &e)))
        return false;
      g->epilogue = e;
      g->has_epilogue = true;
      return true;
    }
  if (kind != OSH_FUSE_NEXT || next->n_out != 1
      || (g->fast ? osh_conv_gemm_has_epilogue (g->fast) || g->residual_in >= 0
                  : onnx_depthwise_has_epilogue (g->dw_fast)))
    return false;
  size_t pair = (size_t) g->m * 2;
  float *all = realloc (g->affine, (size_t) (g->n_affine + 1) * pair * sizeof *all);
  if (!all)
    return false;
  g->affine = all;
  float *scale = all + (size_t) g->n_affine * pair, *shift = scale + g->m;
  if (!batchnorm_of (next, g->m, scale, shift) && !onnx_affine_of (next, g->m, scale, shift))
    return false;
  if (g->fast)
    osh_conv_gemm_fold_affine (g->fast, scale, shift);
  else
    onnx_depthwise_fold_affine (g->dw_fast, scale, shift);
  g->n_affine++; /* kept for channels_last */
  return true;
}

bool
onnx_conv_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  return absorb (c, next, kind);
}

/* Both fast kernels read channels-last (the packed one transposes its input otherwise; the
 * depthwise one has an NHWC form): switched, they skip the transposes and write channels-last
 * too, packed again with what absorb folded into them. */
OshNhwcFit
onnx_conv_channels_last (OshOpCall *c, bool commit)
{
  Geometry *g = c->params;
  /* Under 16 channels the NHWC depthwise kernel runs its scalar tail only (7× slower than the
   * planar one on 8 channels): those stay channels-first. */
  bool can = onnx_slot (c, 0).tensor == 0 && c->in[0].rank == 4
             && (g->fast || (g->depthwise && g->m == g->c && g->c >= 16 && onnx_slot (c, 1).value));
  if (!can)
    return OSH_NHWC_NO;
  if (!commit || g->nhwc)
    return OSH_NHWC_GAINS;
  if (g->then_dw)
    ; /* channels-last inside already */
  else if (g->fast)
    {
      OshConvGemm *fast = new_fast_nhwc (c, g);
      if (!fast)
        return OSH_NHWC_NO;
      osh_conv_gemm_free (g->fast);
      g->fast = fast;
    }
  else
    {
      if (!(g->dw_nhwc = new_depthwise_nhwc (c, g)))
        return OSH_NHWC_NO;
      onnx_depthwise_free (g->dw_fast);
      g->dw_fast = NULL;
    }
  g->nhwc = true;
  c->scratch = g->scale_in >= 0 ? (size_t) osh_conv_gemm_work_floats (g->fast) : 0;
  return OSH_NHWC_GAINS;
}

static bool
prepare (OshOpCall *c, bool transpose, OshError *err)
{
  Geometry *g = calloc (1, sizeof *g);
  if (!g)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = g;
  c->free_params = free_geometry;
  if (!geometry (c, transpose, g, err))
    return false;
  g->scale_in = g->residual_in = -1;
  int64_t cg = g->c / g->group, mg = g->m / g->group;
  if (!transpose)
    prepare_fast (c, g);
  if (g->fast)
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
      c->scratch = g->dw_fast                     ? onnx_depthwise_scratch (g->dw_fast)
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
  if (g->then_dw)
    {
      const OshShape *o = &g->dw_out;
      OshConvGemmRows feed = { g->fast, x };
      float *y = out[0];
      if (!g->nhwc)
        {
          osh_op_to_channels_last (x, scratch, g->n, g->c, g->h * g->w);
          feed.in = scratch;
          y = scratch + g->n * g->c * g->h * g->w;
        }
      osh_depthwise_run_fed (g->then_dw, osh_conv_gemm_feed_rows, &feed, y,
                             g->means_out ? out[1] : NULL, c->threads);
      if (!g->nhwc)
        osh_op_to_channels_first (y, out[0], o->dim[0], o->dim[1], o->dim[2] * o->dim[3]);
      return;
    }
  if (g->fast)
    {
      /* After folds: x and a squeeze-excite scale in the Mul's order in place of the input, a
       * residual last; both in the output's layout. */
      const float *xs = g->scale_in >= 0 ? in[1 - g->scale_in] : x;
      OshConvGemmExtras extras = { .scale = g->scale_in >= 0 ? in[g->scale_in] : NULL,
                                   .work = scratch,
                                   .residual = g->residual_in >= 0 ? in[g->residual_in] : NULL };
      if (!g->nhwc)
        {
          osh_op_to_channels_last (xs, scratch, g->n, g->c, g->h * g->w);
          xs = scratch;
          extras.work = scratch + g->n * g->c * g->h * g->w;
        }
      osh_conv_gemm_run_with (g->fast, xs, &extras, out[0], c->threads);
      return;
    }
  if (g->nhwc)
    {
      osh_depthwise_run (g->dw_nhwc, x, out[0], g->means_out ? out[1] : NULL, c->threads);
      return;
    }
  for (int64_t n = 0; n < g->n; n++)
    {
      const float *xn = x + n * g->c * g->h * g->w;
      float *yn = out[0] + n * g->m * p;
      if (g->dw_fast)
        {
          onnx_depthwise_run (g->dw_fast, xn, yn, scratch); /* bias included */
          if (g->means_out)
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
