/* The shared channels-last depthwise kernel (engine/ops/osh-depthwise.c) against a plain loop
 * written here, over the shapes that take its different paths: rows of exactly, more and fewer
 * than 8 output pixels, padding on every side (taps outside the image), strides, dilation, 5×5,
 * channels that do not fill 16 lanes, batches, both weight layouts (Keras tap-major, ONNX
 * channel-major), and a folded BatchNormalization with each epilogue. */
#include <math.h>
#include <string.h>

#include "ops-test.h"
#include "osh-depthwise.h"

typedef struct
{
  const char *name;
  OshDepthwiseShape s;
} Case;

static float
apply (OshEpilogueKind kind, float y)
{
  switch (kind)
    {
    case OSH_EPILOGUE_CLAMP: return fminf (fmaxf (y, 0.0f), 6.0f);
    case OSH_EPILOGUE_SIGMOID: return 1.0f / (1.0f + expf (-y));
    case OSH_EPILOGUE_SWISH: return y / (1.0f + expf (-y));
    default: return y;
    }
}

/* out (batch, oh, ow, c) from in (batch, ih, iw, c) and kernel[(ky·kw + kx)·c + ch]. */
static void
reference (const OshDepthwiseShape *s, const float *in, const float *k, const float *bias,
           const float *scale, const float *shift, OshEpilogueKind kind, float *out)
{
  for (int64_t n = 0; n < s->batch; n++)
    for (int64_t oy = 0; oy < s->oh; oy++)
      for (int64_t ox = 0; ox < s->ow; ox++)
        for (int64_t ch = 0; ch < s->c; ch++)
          {
            double acc = bias[ch];
            for (int64_t ky = 0; ky < s->kh; ky++)
              for (int64_t kx = 0; kx < s->kw; kx++)
                {
                  int64_t iy = oy * s->sh - s->ph + ky * s->dh,
                          ix = ox * s->sw - s->pw + kx * s->dw;
                  if (iy >= 0 && iy < s->ih && ix >= 0 && ix < s->iw)
                    acc += (double) in[((n * s->ih + iy) * s->iw + ix) * s->c + ch]
                           * k[(ky * s->kw + kx) * s->c + ch];
                }
            float y = (float) acc;
            if (scale)
              y = y * scale[ch] + shift[ch];
            out[((n * s->oh + oy) * s->ow + ox) * s->c + ch] = apply (kind, y);
          }
}

/* Fed mode's producer here: copies rows of the stored image, counting what it was asked for. */
typedef struct
{
  const OshDepthwiseShape *s;
  const float *image;
  int calls;
} Feed;

static void
feed_rows (void *arg, int64_t iy, int64_t n, float *rows)
{
  Feed *f = arg;
  g_assert_cmpint (iy, >=, 0);
  g_assert_cmpint (iy + n, <=, f->s->ih);
  memcpy (rows, f->image + iy * f->s->iw * f->s->c,
          (size_t) (n * f->s->iw * f->s->c) * sizeof (float));
  g_atomic_int_inc (&f->calls);
}

/* The means the kernel summed on the way (a squeeze-excite squeeze folded in) against those of
 * the reference output, per image and channel. */
static void
check_means (const OshDepthwiseShape *s, const float *want, const float *means)
{
  int64_t pix = s->oh * s->ow;
  for (int64_t n = 0; n < s->batch; n++)
    for (int64_t ch = 0; ch < s->c; ch++)
      {
        double sum = 0, mag = 0;
        for (int64_t p = 0; p < pix; p++)
          {
            sum += want[(n * pix + p) * s->c + ch];
            mag += fabs (want[(n * pix + p) * s->c + ch]);
          }
        g_assert_cmpfloat (fabs (means[n * s->c + ch] - sum / pix), <=, 1e-5 * (1 + mag / pix));
      }
}

static void
check_case (const Case *c, bool onnx_layout, bool fold, OshEpilogueKind kind)
{
  const OshDepthwiseShape *s = &c->s;
  int64_t taps = s->kh * s->kw;
  int64_t nin = s->batch * s->ih * s->iw * s->c, nout = s->batch * s->oh * s->ow * s->c;
  float *in = g_new (float, nin), *k = g_new (float, taps * s->c), *k2 = g_new (float, taps * s->c);
  float *bias = g_new (float, s->c), *scale = g_new (float, s->c), *shift = g_new (float, s->c);
  float *want = g_new (float, nout), *got = g_new (float, nout);
  float *means = g_new (float, s->batch * s->c);
  for (int64_t i = 0; i < nin; i++)
    in[i] = ot_pattern (i, 1) * 4.0f;
  for (int64_t t = 0; t < taps; t++)
    for (int64_t ch = 0; ch < s->c; ch++)
      {
        k[t * s->c + ch] = ot_pattern (t * s->c + ch, 2);
        k2[ch * taps + t] = k[t * s->c + ch]; /* ONNX (c, 1, kh, kw) */
      }
  for (int64_t i = 0; i < s->c; i++)
    bias[i] = ot_pattern (i, 3), scale[i] = 0.5f + fabsf (ot_pattern (i, 4)),
    shift[i] = ot_pattern (i, 5);
  OshDepthwise *d = onnx_layout ? osh_depthwise_new (s, k2, 1, taps, bias)
                                : osh_depthwise_new (s, k, s->c, 1, bias);
  g_assert_nonnull (d);
  if (fold)
    g_assert_true (osh_depthwise_fold_affine (d, scale, shift));
  OshEpilogue e = { kind, -INFINITY, INFINITY };
  if (kind == OSH_EPILOGUE_CLAMP)
    e.lo = 0.0f, e.hi = 6.0f;
  if (kind != OSH_EPILOGUE_NONE)
    {
      g_assert_true (osh_depthwise_set_epilogue (d, &e));
      g_assert_true (osh_depthwise_has_epilogue (d));
      g_assert_false (osh_depthwise_set_epilogue (d, &e));          /* one epilogue only */
      g_assert_false (osh_depthwise_fold_affine (d, scale, shift)); /* nothing after it */
    }
  for (int64_t i = 0; i < nout; i++)
    got[i] = NAN; /* every output must be written */
  osh_depthwise_run (d, in, got, means, 2);
  reference (s, in, k, bias, fold ? scale : NULL, shift, kind, want);
  double peak, worst = osh_test_worst_diff (want, got, nout, &peak);
  if (worst > 1e-5 * fmax (1, peak))
    g_error ("%s%s%s epilogue %d: max |diff| %g against max |ref| %g", c->name,
             onnx_layout ? " (onnx weights)" : "", fold ? " folded" : "", kind, worst, peak);
  check_means (s, want, means);
  /* Fed mode gives the same numbers, asking for each input row about once per thread. */
  for (int threads = 1; osh_depthwise_fed_ok (d) && threads <= 2; threads++)
    {
      Feed f = { s, in, 0 };
      for (int64_t i = 0; i < nout; i++)
        got[i] = NAN;
      osh_depthwise_run_fed (d, feed_rows, &f, got, threads == 2 ? means : NULL, threads);
      worst = osh_test_worst_diff (want, got, nout, &peak);
      if (worst > 1e-5 * fmax (1, peak))
        g_error ("%s fed on %d threads: max |diff| %g against max |ref| %g", c->name, threads,
                 worst, peak);
      if (threads == 2)
        check_means (s, want, means);
      g_assert_cmpint (f.calls, <=, s->ih * threads);
    }
  osh_depthwise_free (d);
  g_free (in), g_free (k), g_free (k2), g_free (bias), g_free (scale), g_free (shift),
      g_free (want), g_free (got), g_free (means);
}

#define SHAPE(b, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw)                                \
  {                                                                                                \
    b, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw                                           \
  }

static const Case cases[] = {
  { "3x3 same, 32 channels, 19 wide", SHAPE (1, 9, 19, 32, 9, 19, 3, 3, 1, 1, 1, 1, 1, 1) },
  { "3x3 stride 2, asymmetric pad", SHAPE (1, 12, 20, 48, 6, 10, 3, 3, 2, 2, 1, 1, 0, 0) },
  { "5x5 stride 2 same", SHAPE (1, 14, 14, 16, 7, 7, 5, 5, 2, 2, 1, 1, 1, 1) },
  { "5x5 same, 24 wide", SHAPE (1, 6, 24, 32, 6, 24, 5, 5, 1, 1, 1, 1, 2, 2) },
  { "3x3 valid", SHAPE (1, 10, 18, 16, 8, 16, 3, 3, 1, 1, 1, 1, 0, 0) },
  { "dilated 2", SHAPE (1, 12, 17, 16, 12, 17, 3, 3, 1, 1, 2, 2, 2, 2) },
  { "20 channels (tail of 4)", SHAPE (1, 7, 11, 20, 7, 11, 3, 3, 1, 1, 1, 1, 1, 1) },
  { "3 channels only", SHAPE (1, 5, 9, 3, 5, 9, 3, 3, 1, 1, 1, 1, 1, 1) },
  { "batch 3, 7x7 map", SHAPE (3, 7, 7, 64, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1) },
  { "kernel larger than the input", SHAPE (1, 2, 3, 16, 2, 3, 5, 5, 1, 1, 1, 1, 2, 2) },
  { "1x7 kernel, wide pad", SHAPE (1, 4, 10, 16, 4, 12, 1, 7, 1, 1, 1, 1, 0, 4) },
  { "5x5 dilated 3 on a 5-wide map", SHAPE (1, 23, 5, 16, 23, 5, 5, 5, 1, 1, 3, 3, 6, 6) },
  { "3x3 stride 2 on a 7-wide map", SHAPE (1, 19, 7, 32, 10, 4, 3, 3, 2, 2, 1, 1, 1, 1) },
  /* MobileNetV3-Small's: channels past the last 16 (the masked blocks), 26 inside pixels cut
   * into blocks of 7 and 6, 3×3 and 5×5 at strides 1 and 2 (the fixed-width blocks). */
  { "3x3 same, 88 channels, 28 wide", SHAPE (1, 5, 28, 88, 5, 28, 3, 3, 1, 1, 1, 1, 1, 1) },
  { "3x3 stride 2, 72 channels, 30 wide", SHAPE (1, 6, 30, 72, 3, 15, 3, 3, 2, 2, 1, 1, 0, 1) },
  { "5x5 stride 2, 104 channels", SHAPE (1, 9, 27, 104, 5, 14, 5, 5, 2, 2, 1, 1, 2, 2) },
  { "5x5 same, 40 channels, 14 wide", SHAPE (1, 6, 14, 40, 6, 14, 5, 5, 1, 1, 1, 1, 2, 2) },
  { "5x5 same, 8 channels", SHAPE (1, 5, 12, 8, 5, 12, 5, 5, 1, 1, 1, 1, 2, 2) },
};

static void
test_kernel (gconstpointer data)
{
  const Case *c = data;
  const OshEpilogueKind kinds[] = { OSH_EPILOGUE_NONE, OSH_EPILOGUE_CLAMP, OSH_EPILOGUE_SIGMOID,
                                    OSH_EPILOGUE_SWISH };
  for (int layout = 0; layout < 2; layout++)
    for (int fold = 0; fold < 2; fold++)
      for (size_t k = 0; k < G_N_ELEMENTS (kinds); k++)
        check_case (c, layout, fold, kinds[k]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_strdup_printf ("/ops/depthwise/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_kernel);
      g_free (path);
    }
  return g_test_run ();
}
