/* The packed implicit-GEMM convolution (engine/ops/osh-conv-gemm.c) against a plain
 * six-loop convolution written here, over the shapes that take its different paths: pointwise,
 * k×k read through tap pointers, few input channels (kernel rows read in place, or gathered
 * tiles), strides, dilation,
 * asymmetric padding, groups, output channels that do not fill a 32-wide panel, batches,
 * kernels past L2 run panel by panel, channels-first output, a residual added in, a
 * squeeze-excite scale of the input (into the kernel's copy or the input's), and folded
 * BatchNormalization + clamp. Then the executor's step fusion:
 * Conv2D → BatchNormalization → ReLU → Dropout runs as one step and computes what the four
 * steps compute unfused (capturing every layer turns fusion off); likewise ZeroPadding2D before
 * a convolution and the activation after a residual Add. */
#include <math.h>

#include "fusion-check.h"
#include "ops-test.h"
#include "osh-conv-gemm.h"
#include "osh-exec.h"
#include "osh-isa.h"
#include "osh-shapes.h"

typedef struct
{
  const char *name;
  OshConvShape s;
} Case;

/* out (batch, oh, ow, cout) from in (batch, ih, iw, cin) and a Keras (kh, kw, cin/g, cout)
 * kernel, then y·scale + shift, plus res (same layout as out; may be NULL), clamped. */
static void
reference (const OshConvShape *s, const float *in, const float *k, const float *bias,
           const float *scale, const float *shift, const float *res, float lo, float hi, float *out)
{
  int64_t cg = s->cin / s->groups, og = s->cout / s->groups;
  for (int64_t n = 0; n < s->batch; n++)
    for (int64_t oy = 0; oy < s->oh; oy++)
      for (int64_t ox = 0; ox < s->ow; ox++)
        for (int64_t m = 0; m < s->cout; m++)
          {
            double acc = bias ? bias[m] : 0.0;
            int64_t grp = m / og;
            for (int64_t ky = 0; ky < s->kh; ky++)
              for (int64_t kx = 0; kx < s->kw; kx++)
                {
                  int64_t iy = oy * s->sh - s->ph + ky * s->dh,
                          ix = ox * s->sw - s->pw + kx * s->dw;
                  if (iy < 0 || iy >= s->ih || ix < 0 || ix >= s->iw)
                    continue;
                  for (int64_t ci = 0; ci < cg; ci++)
                    acc += (double) in[((n * s->ih + iy) * s->iw + ix) * s->cin + grp * cg + ci]
                           * k[((ky * s->kw + kx) * cg + ci) * s->cout + m];
                }
            float y = (float) acc;
            if (scale)
              y = y * scale[m] + shift[m];
            int64_t o = ((n * s->oh + oy) * s->ow + ox) * s->cout + m;
            if (res)
              y += res[o];
            out[o] = fminf (fmaxf (y, lo), hi);
          }
}

/* With `residual`, a tensor of the output's layout is added in (run_with) before the clamp; with
 * `scaled`, the input's channels are multiplied by a squeeze-excite scale first (run_with scales
 * a copy of the kernel or of the input, whichever is smaller). */
static void
check_case (const Case *c, bool fold, bool planar, bool residual, bool scaled)
{
  OshConvShape s = c->s;
  s.planar_out = planar;
  int64_t nin = s.batch * s.ih * s.iw * s.cin, nout = s.batch * s.oh * s.ow * s.cout;
  int64_t nk = s.kh * s.kw * (s.cin / s.groups) * s.cout;
  float *in = g_new (float, nin), *k = g_new (float, nk), *bias = g_new (float, s.cout);
  float *scale = g_new (float, s.cout), *shift = g_new (float, s.cout);
  float *want = g_new (float, nout), *got = g_new (float, nout);
  float *res = residual ? g_new (float, nout) : NULL,
        *res_out = residual ? g_new (float, nout) : NULL;
  int64_t opix = s.oh * s.ow;
  for (int64_t i = 0; residual && i < nout; i++)
    res[i] = 2.0f * ot_pattern (i, 6);
  for (int64_t n = 0; residual && n < s.batch; n++) /* the same values in the output's layout */
    for (int64_t p = 0; p < opix; p++)
      for (int64_t m = 0; m < s.cout; m++)
        res_out[planar ? (n * s.cout + m) * opix + p : (n * opix + p) * s.cout + m] =
            res[(n * opix + p) * s.cout + m];
  for (int64_t i = 0; i < nin; i++)
    in[i] = ot_pattern (i, 1);
  float *se = scaled ? g_new (float, s.cin) : NULL, *in_se = scaled ? g_new (float, nin) : NULL;
  for (int64_t i = 0; scaled && i < s.cin; i++)
    se[i] = 0.25f + 2.0f * fabsf (ot_pattern (i, 7));
  for (int64_t i = 0; scaled && i < nin; i++)
    in_se[i] = in[i] * se[i % s.cin];
  for (int64_t i = 0; i < nout; i++)
    got[i] = NAN; /* every output must be written */
  for (int64_t i = 0; i < nk; i++)
    k[i] = ot_pattern (i, 2);
  for (int64_t i = 0; i < s.cout; i++)
    bias[i] = ot_pattern (i, 3), scale[i] = 0.5f + fabsf (ot_pattern (i, 4)),
    shift[i] = ot_pattern (i, 5);
  OshConvGemm *cg = osh_conv_gemm_new (&s, k, osh_kernel_strides_keras (&s), bias);
  if (osh_test_packed_conv ())
    {
      g_assert_nonnull (cg); /* every case here is one the fast kernel takes */
    }
  if (!cg)
    {
      g_test_skip ("no packed kernel on the baseline path (it keeps im2col and OpenBLAS)");
      goto out;
    }
  float lo = -INFINITY, hi = INFINITY;
  if (fold)
    {
      osh_conv_gemm_fold_affine (cg, scale, shift);
      OshEpilogue relu6 = { OSH_EPILOGUE_CLAMP, 0.0f, 6.0f },
                  relu1 = { OSH_EPILOGUE_CLAMP, 0.0f, 1.0f };
      g_assert_true (osh_conv_gemm_set_epilogue (cg, &relu6));
      g_assert_false (osh_conv_gemm_set_epilogue (cg, &relu1)); /* one epilogue only */
      lo = 0.0f, hi = 6.0f;
    }
  float *work = scaled ? g_new (float, osh_conv_gemm_work_floats (cg)) : NULL;
  OshConvGemmExtras x = { .scale = se, .work = work, .residual = res_out };
  osh_conv_gemm_run_with (cg, in, &x, got, 2);
  reference (&s, scaled ? in_se : in, k, bias, fold ? scale : NULL, shift, res, lo, hi, want);
  double worst = 0, peak = 1;
  for (int64_t n = 0; n < s.batch; n++)
    for (int64_t p = 0; p < opix; p++)
      for (int64_t m = 0; m < s.cout; m++)
        {
          float w = want[(n * opix + p) * s.cout + m];
          float g = planar ? got[(n * s.cout + m) * opix + p] : got[(n * opix + p) * s.cout + m];
          double d = fabs (w - g);
          worst = isnan (d) ? INFINITY : fmax (worst, d); /* an unwritten output is NaN */
          peak = fmax (peak, fabs (w));
        }
  if (!(worst <= 1e-4 * peak)) /* NaN too */
    g_error ("%s%s%s%s%s: max |diff| %g against max |ref| %g", c->name, fold ? " folded" : "",
             planar ? " planar" : "", residual ? " residual" : "", scaled ? " scaled" : "", worst,
             peak);
  g_free (work);
out:
  g_free (se), g_free (in_se);
  osh_conv_gemm_free (cg);
  g_free (in), g_free (k), g_free (bias), g_free (scale), g_free (shift), g_free (want),
      g_free (got), g_free (res), g_free (res_out);
}

#define SHAPE(b, ih, iw, cin, oh, ow, cout, kh, kw, sh, sw, dh, dw, ph, pw, groups)                \
  {                                                                                                \
    b, ih, iw, cin, oh, ow, cout, kh, kw, sh, sw, dh, dw, ph, pw, groups, false                    \
  }

static const Case cases[] = {
  { "pointwise 64->96", SHAPE (1, 9, 7, 64, 9, 7, 96, 1, 1, 1, 1, 1, 1, 0, 0, 1) },
  /* A map larger than the kernel: a squeeze-excite scale goes into a copy of the kernel. */
  { "pointwise 16->24 on 24x20", SHAPE (1, 24, 20, 16, 24, 20, 24, 1, 1, 1, 1, 1, 1, 0, 0, 1) },
  { "3x3 same 32->40", SHAPE (1, 11, 13, 32, 11, 13, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
  { "3x3 stride 2 asymmetric pad", SHAPE (1, 12, 10, 24, 6, 5, 33, 3, 3, 2, 2, 1, 1, 0, 1, 1) },
  /* Few input channels: a tap is a whole kernel row, read in place or copied at the border. */
  { "7x7 stride 2 rgb (kernel rows)", SHAPE (1, 20, 18, 3, 10, 9, 64, 7, 7, 2, 2, 1, 1, 3, 3, 1) },
  { "3x3 stride 2 rgb, padded after (kernel rows)",
    SHAPE (1, 14, 14, 3, 7, 7, 32, 3, 3, 2, 2, 1, 1, 0, 0, 1) },
  /* Few channels per group, or dilated: each tile gathered first. */
  { "3x3 groups 2 of 3 channels (gathered)",
    SHAPE (1, 9, 9, 6, 9, 9, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2) },
  { "3x3 dilated rgb (gathered)", SHAPE (1, 11, 10, 3, 7, 6, 40, 3, 3, 1, 1, 2, 2, 0, 0, 1) },
  { "dilated 3x3 d2", SHAPE (1, 12, 12, 16, 12, 12, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1) },
  { "1x5 kernel valid", SHAPE (1, 6, 17, 20, 6, 13, 17, 1, 5, 1, 1, 1, 1, 0, 0, 1) },
  { "groups 2", SHAPE (1, 8, 8, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2) },
  { "batch 3, 13 pixels", SHAPE (3, 1, 13, 48, 1, 13, 80, 1, 1, 1, 1, 1, 1, 0, 0, 1) },
  { "one pixel (squeeze-excite)", SHAPE (1, 1, 1, 96, 1, 1, 24, 1, 1, 1, 1, 1, 1, 0, 0, 1) },
  { "one pixel, 4 outputs", SHAPE (1, 1, 1, 96, 1, 1, 4, 1, 1, 1, 1, 1, 1, 0, 0, 1) },
  /* 49 pixels: blocks of 10, 10, 10, 10 and 9 rather than 4 × 12 and 1. */
  { "7x7 map, balanced blocks", SHAPE (1, 7, 7, 64, 7, 7, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1) },
  /* A kernel past 1 MB is run panel by panel, each tile asking for a share of the next panel;
   * 35 pixels are blocks of 11, 12 and 12; two images and two groups wrap "the next panel". */
  { "1x1 512->640, panel by panel", SHAPE (1, 5, 7, 512, 5, 7, 640, 1, 1, 1, 1, 1, 1, 0, 0, 1) },
  { "3x3 groups 2, 2 images, panel by panel",
    SHAPE (2, 4, 5, 256, 4, 5, 320, 3, 3, 1, 1, 1, 1, 1, 1, 2) },
};

static void
test_kernel (gconstpointer data)
{
  const Case *c = data;
  for (int fold = 0; fold < 2; fold++)
    for (int planar = 0; planar < 2; planar++)
      for (int residual = 0; residual < 2; residual++)
        for (int scaled = 0; scaled < 1 + (c->s.batch == 1 && c->s.groups == 1); scaled++)
          check_case (c, fold, planar, residual, scaled);
}

/* A channels-first input read as it is (planar_in, a stem's colours): the same numbers as the
 * reference on its channels-last copy, plain and with an affine map and ReLU6 folded in. Only
 * the AVX-512 path has this form, up to one panel of 32 outputs; elsewhere the kernel is refused
 * and the case skips. */
static const Case planar_in_cases[] = {
  /* MobileNetV3's stem, 19 columns: one whole block of 16 pixels and a part of one */
  { "stem 3x3 stride 2 pad 1", SHAPE (1, 38, 37, 3, 19, 19, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1) },
  /* 24 outputs: the second block of 16 channels half empty; no padding */
  { "3x3 stride 2 unpadded, 24 out", SHAPE (1, 15, 33, 3, 7, 16, 24, 3, 3, 2, 2, 1, 1, 0, 0, 1) },
  { "5x5 stride 1 one channel, 2 images",
    SHAPE (2, 9, 21, 1, 9, 21, 24, 5, 5, 1, 1, 1, 1, 2, 2, 1) },
  { "3x3 row dilation 2, 4 channels", SHAPE (1, 12, 18, 4, 8, 9, 16, 3, 3, 1, 2, 2, 1, 0, 1, 1) },
};

static void
test_planar_in (gconstpointer data)
{
  const Case *c = data;
  OshConvShape s = c->s;
  s.planar_in = true;
  int64_t pix = s.ih * s.iw, nin = s.batch * pix * s.cin, nout = s.batch * s.oh * s.ow * s.cout;
  int64_t nk = s.kh * s.kw * s.cin * s.cout;
  float *in = g_new (float, nin), *planar = g_new (float, nin), *k = g_new (float, nk);
  float *bias = g_new (float, s.cout), *scale = g_new (float, s.cout);
  float *shift = g_new (float, s.cout), *want = g_new (float, nout), *got = g_new (float, nout);
  for (int64_t i = 0; i < nin; i++)
    in[i] = ot_pattern (i, 1);
  for (int64_t n = 0; n < s.batch; n++)
    for (int64_t p = 0; p < pix; p++)
      for (int64_t ci = 0; ci < s.cin; ci++)
        planar[(n * s.cin + ci) * pix + p] = in[(n * pix + p) * s.cin + ci];
  for (int64_t i = 0; i < nk; i++)
    k[i] = ot_pattern (i, 2);
  for (int64_t i = 0; i < s.cout; i++)
    bias[i] = ot_pattern (i, 3), scale[i] = 0.5f + fabsf (ot_pattern (i, 4)),
    shift[i] = ot_pattern (i, 5);
  for (int fold = 0; fold < 2; fold++)
    {
      OshConvGemm *cg = osh_conv_gemm_new (&s, k, osh_kernel_strides_keras (&s), bias);
      if (osh_isa_current () == OSH_ISA_AVX512)
        g_assert_nonnull (cg); /* every case here is one it takes */
      if (!cg)
        {
          g_test_skip ("a channels-first input is read as it is on the AVX-512 path only");
          break;
        }
      float lo = -INFINITY, hi = INFINITY;
      if (fold)
        {
          osh_conv_gemm_fold_affine (cg, scale, shift);
          OshEpilogue relu6 = osh_epilogue_clamp (0.0f, 6.0f);
          g_assert_true (osh_conv_gemm_set_epilogue (cg, &relu6));
          lo = 0.0f, hi = 6.0f;
        }
      for (int64_t i = 0; i < nout; i++)
        got[i] = NAN; /* every output must be written */
      osh_conv_gemm_run (cg, planar, got, 2);
      reference (&s, in, k, bias, fold ? scale : NULL, shift, NULL, lo, hi, want);
      double worst = 0, peak = 1;
      for (int64_t i = 0; i < nout; i++)
        {
          worst = isnan (got[i]) ? INFINITY : fmax (worst, fabs (want[i] - got[i]));
          peak = fmax (peak, fabs (want[i]));
        }
      if (worst > 1e-4 * peak)
        g_error ("%s%s planar input: max |diff| %g against max |ref| %g", c->name,
                 fold ? " folded" : "", worst, peak);
      osh_conv_gemm_free (cg);
    }
  g_free (in), g_free (planar), g_free (k), g_free (bias), g_free (scale), g_free (shift),
      g_free (want), g_free (got);
}

/* Conv2D → BatchNormalization → ReLU(6) → Dropout: one step when fused, same numbers. */
static void
test_fusion (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 10, 9, 24]}", 0);
  int c = ot_add (g, -1, "conv", "Conv2D",
                  "{\"filters\": 40, \"kernel_size\": 3, \"padding\": \"same\"}", 1, x);
  ot_weight (g, c, 4, (int64_t[]){ 3, 3, 24, 40 });
  ot_weight (g, c, 1, (int64_t[]){ 40 });
  int b = ot_add (g, -1, "bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, c);
  add_batchnorm (g, b, 40);
  int r = ot_add (g, -1, "relu", "ReLU", "{\"max_value\": 6.0}", 1, b);
  int d = ot_add (g, -1, "drop", "Dropout", "{\"rate\": 0.5}", 1, r);
  ot_io (g, -1, x, d);
  double lo, hi;
  const char *const folded[] = { "BatchNormalization", "ReLU", "Dropout", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  g_assert_cmpfloat (lo, ==, 0.0); /* the clamp did something on both sides */
  g_assert_cmpfloat (hi, ==, 6.0);
  osh_graph_free (g);
}

/* EfficientNet's stride-2 blocks: ZeroPadding2D → DepthwiseConv2D (valid) → BatchNormalization →
 * swish, and ZeroPadding2D → Conv2D (valid) → BatchNormalization → swish. */
static void
test_fusion_padding (void)
{
  for (int depthwise = 0; depthwise < 2; depthwise++)
    {
      OshGraph *g = osh_graph_new ();
      int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 13, 12, 32]}", 0);
      int z = ot_add (g, -1, "pad", "ZeroPadding2D", "{\"padding\": [[0, 1], [2, 1]]}", 1, x);
      int c = depthwise
                  ? ot_add (g, -1, "dw", "DepthwiseConv2D",
                            "{\"kernel_size\": 5, \"strides\": 2, \"padding\": \"valid\"}", 1, z)
                  : ot_add (g, -1, "conv", "Conv2D",
                            "{\"filters\": 32, \"kernel_size\": 3, \"strides\": 2, "
                            "\"padding\": \"valid\", \"use_bias\": false}",
                            1, z);
      ot_weight (g, c, 4,
                 (int64_t[]){ depthwise ? 5 : 3, depthwise ? 5 : 3, 32, depthwise ? 1 : 32 });
      if (depthwise)
        ot_weight (g, c, 1, (int64_t[]){ 32 });
      int b = ot_add (g, -1, "bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, c);
      add_batchnorm (g, b, 32);
      int a = ot_add (g, -1, "act", "Activation", "{\"activation\": \"swish\"}", 1, b);
      ot_io (g, -1, x, a);
      double lo, hi;
      const char *const folded[] = { "ZeroPadding2D", "BatchNormalization", "Activation", NULL };
      check_fused (g, folded, &lo, &hi, 1);
      g_assert_cmpfloat (lo, <, 0.0); /* swish dips below zero */
      osh_graph_free (g);
    }
}

/* ResNet's residual: Add (input, Conv2D (input)) → Activation (relu), the activation folded
 * into the Add. */
static void
test_fusion_residual (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 7, 9, 48]}", 0);
  int c = ot_add (g, -1, "conv", "Conv2D",
                  "{\"filters\": 48, \"kernel_size\": 3, \"padding\": \"same\"}", 1, x);
  ot_weight (g, c, 4, (int64_t[]){ 3, 3, 48, 48 });
  ot_weight (g, c, 1, (int64_t[]){ 48 });
  int a = ot_add (g, -1, "add", "Add", NULL, 2, x, c);
  int r = ot_add (g, -1, "relu", "Activation", "{\"activation\": \"relu\"}", 1, a);
  ot_io (g, -1, x, r);
  double lo, hi;
  const char *const folded[] = { "Activation", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, >, 0.0);
  osh_graph_free (g);
}

/* MobileNet's and EfficientNet's expansion: Conv2D 1×1 → BatchNormalization → swish →
 * (ZeroPadding2D →) DepthwiseConv2D → BatchNormalization → swish is one step, the depthwise
 * convolution fed row by row; stride 1 'same' and the stride-2 padded form, on 1 and 2 threads. */
static void
test_fusion_expand_depthwise (void)
{
  for (int strided = 0; strided < 2; strided++)
    {
      OshGraph *g = osh_graph_new ();
      int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 13, 21, 16]}", 0);
      int e = ot_add (g, -1, "expand", "Conv2D",
                      "{\"filters\": 96, \"kernel_size\": 1, \"use_bias\": false}", 1, x);
      ot_weight (g, e, 4, (int64_t[]){ 1, 1, 16, 96 });
      int b1 = ot_add (g, -1, "bn1", "BatchNormalization", "{\"epsilon\": 0.001}", 1, e);
      add_batchnorm (g, b1, 96);
      int a1 = ot_add (g, -1, "act1", "Activation", "{\"activation\": \"swish\"}", 1, b1);
      int d;
      if (strided)
        {
          int z = ot_add (g, -1, "pad", "ZeroPadding2D", "{\"padding\": [[0, 1], [0, 1]]}", 1, a1);
          d = ot_add (g, -1, "dw", "DepthwiseConv2D",
                      "{\"kernel_size\": 3, \"strides\": 2, \"padding\": \"valid\", "
                      "\"use_bias\": false}",
                      1, z);
        }
      else
        d = ot_add (g, -1, "dw", "DepthwiseConv2D",
                    "{\"kernel_size\": 5, \"padding\": \"same\", \"use_bias\": false}", 1, a1);
      ot_weight (g, d, 4, (int64_t[]){ strided ? 3 : 5, strided ? 3 : 5, 96, 1 });
      int b2 = ot_add (g, -1, "bn2", "BatchNormalization", "{\"epsilon\": 0.001}", 1, d);
      add_batchnorm (g, b2, 96);
      int a2 = ot_add (g, -1, "act2", "Activation", "{\"activation\": \"swish\"}", 1, b2);
      ot_io (g, -1, x, a2);
      double lo, hi;
      const char *const folded[] = { "ZeroPadding2D", "DepthwiseConv2D", "BatchNormalization",
                                     "Activation", NULL };
      check_fused (g, folded, &lo, &hi, 1);
      check_fused (g, folded, &lo, &hi, 2);
      g_assert_cmpfloat (lo, <, 0.0);
      osh_graph_free (g);
    }
}

/* EfficientNet's input: Rescaling → Normalization (per RGB channel) is one affine step, run as
 * one vectorised stretch over the pixels. */
static void
test_fusion_affine (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 5, 7, 3]}", 0);
  int r =
      ot_add (g, -1, "rescale", "Rescaling", "{\"scale\": 0.00392156862, \"offset\": 0.5}", 1, x);
  int n = ot_add (
      g, -1, "norm", "Normalization",
      "{\"axis\": -1, \"mean\": [0.485, 0.456, 0.406], \"variance\": [0.052, 0.05, 0.0506]}", 1, r);
  ot_io (g, -1, x, n);
  double lo, hi;
  const char *const folded[] = { "Normalization", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  g_assert_cmpfloat (hi - lo, >, 0.01); /* the inputs' spread survives both maps */
  osh_graph_free (g);
}

/* A 1×1 projection of x (32 channels) to 48. */
static int
add_shortcut (OshGraph *g, int x)
{
  int c = ot_add (g, -1, "short", "Conv2D", "{\"filters\": 48, \"kernel_size\": 1}", 1, x);
  ot_weight (g, c, 4, (int64_t[]){ 1, 1, 32, 48 });
  ot_weight (g, c, 1, (int64_t[]){ 48 });
  return c;
}

/* ResNet's bottleneck end: Conv2D → BatchNormalization → Add (shortcut) → ReLU, the Add and the
 * ReLU folded into the convolution when the shortcut is ready before it (an identity shortcut,
 * or a projection computed first); a shortcut computed after the convolution leaves the Add. */
static void
test_fusion_residual_conv (void)
{
  for (int variant = 0; variant < 3; variant++)
    {
      OshGraph *g = osh_graph_new ();
      int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 9, 11, 32]}", 0);
      int early = -1;
      if (variant == 1) /* projection shortcut computed before the main branch */
        early = add_shortcut (g, x);
      int c = ot_add (g, -1, "conv", "Conv2D",
                      "{\"filters\": 48, \"kernel_size\": 3, \"padding\": \"same\"}", 1, x);
      ot_weight (g, c, 4, (int64_t[]){ 3, 3, 32, 48 });
      ot_weight (g, c, 1, (int64_t[]){ 48 });
      int b = ot_add (g, -1, "bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, c);
      add_batchnorm (g, b, 48);
      if (variant != 1) /* variant 0: computed after the conv; 2: the same, summed the other way */
        early = add_shortcut (g, x);
      int a = variant == 2 ? ot_add (g, -1, "add", "Add", NULL, 2, early, b)
                           : ot_add (g, -1, "add", "Add", NULL, 2, b, early);
      int r = ot_add (g, -1, "relu", "Activation", "{\"activation\": \"relu\"}", 1, a);
      ot_io (g, -1, x, r);
      double lo, hi;
      const char *const folded[] = { variant == 1 ? "Add" : "BatchNormalization", "Activation",
                                     NULL };
      check_fused (g, folded, &lo, &hi, 1);
      g_assert_cmpfloat (lo, ==, 0.0);
      g_assert_cmpfloat (hi, >, 0.0);
      osh_graph_free (g);
    }
}

/* Squeeze-excite before a 1×1 convolution: Multiply (x, sigmoid (Conv2D (GAP (x)))) → Conv2D →
 * BatchNormalization. The Multiply is folded into the convolution (either input order): on a
 * large map the kernel's copy is scaled, on a map smaller than the kernel the input's. */
static void
test_fusion_scale (void)
{
  for (int variant = 0; variant < 3; variant++)
    {
      bool swapped = variant == 1, small = variant == 2;
      int64_t hw = small ? 2 : 12, ch = small ? 64 : 48;
      char input[96], shape[64], excite[96];
      g_snprintf (input, sizeof input, "{\"batch_input_shape\": [null, %d, %d, %d]}", (int) hw,
                  (int) hw, (int) ch);
      g_snprintf (shape, sizeof shape, "{\"target_shape\": [1, 1, %d]}", (int) ch);
      g_snprintf (excite, sizeof excite,
                  "{\"filters\": %d, \"kernel_size\": 1, \"activation\": \"sigmoid\"}", (int) ch);
      OshGraph *g = osh_graph_new ();
      int x = ot_add (g, -1, "in", "InputLayer", input, 0);
      int q = ot_add (g, -1, "squeeze", "GlobalAveragePooling2D", NULL, 1, x);
      int r = ot_add (g, -1, "reshape", "Reshape", shape, 1, q);
      int e = ot_add (g, -1, "excite", "Conv2D", excite, 1, r);
      ot_weight (g, e, 4, (int64_t[]){ 1, 1, ch, ch });
      ot_weight (g, e, 1, (int64_t[]){ ch });
      int m = swapped ? ot_add (g, -1, "scale", "Multiply", NULL, 2, e, x)
                      : ot_add (g, -1, "scale", "Multiply", NULL, 2, x, e);
      int c = ot_add (g, -1, "project", "Conv2D",
                      "{\"filters\": 40, \"kernel_size\": 1, \"use_bias\": false}", 1, m);
      ot_weight (g, c, 4, (int64_t[]){ 1, 1, ch, 40 });
      int b = ot_add (g, -1, "bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, c);
      add_batchnorm (g, b, 40);
      ot_io (g, -1, x, b);
      double lo, hi;
      const char *const folded[] = { "Multiply", NULL };
      check_fused (g, folded, &lo, &hi, 1);
      OshError err = { 0 };
      OshExecOptions opt = osh_exec_options_default ();
      OshPlan *p = osh_plan_new (g, &opt, &err);
      bool has_multiply = false;
      for (int i = 0; i < osh_plan_n_steps (p); i++)
        {
          OshPlanStep st;
          g_assert_true (osh_plan_step (p, i, &st));
          has_multiply |= strcmp (st.class_name, "Multiply") == 0;
        }
      if (osh_test_packed_conv ())
        {
          g_assert_false (has_multiply);
        }
      osh_plan_free (p);
      osh_graph_free (g);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_strdup_printf ("/ops/conv-gemm/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_kernel);
      g_free (path);
    }
  for (size_t i = 0; i < G_N_ELEMENTS (planar_in_cases); i++)
    {
      char *path = g_strdup_printf ("/ops/conv-gemm/planar-in/%s", planar_in_cases[i].name);
      g_test_add_data_func (path, &planar_in_cases[i], test_planar_in);
      g_free (path);
    }
  g_test_add_func ("/ops/conv-gemm/fusion", test_fusion);
  g_test_add_func ("/ops/conv-gemm/fusion-padding", test_fusion_padding);
  g_test_add_func ("/ops/conv-gemm/fusion-residual", test_fusion_residual);
  g_test_add_func ("/ops/conv-gemm/fusion-scale", test_fusion_scale);
  g_test_add_func ("/ops/conv-gemm/fusion-affine", test_fusion_affine);
  g_test_add_func ("/ops/conv-gemm/fusion-expand-depthwise", test_fusion_expand_depthwise);
  g_test_add_func ("/ops/conv-gemm/fusion-residual-conv", test_fusion_residual_conv);
  return g_test_run ();
}
