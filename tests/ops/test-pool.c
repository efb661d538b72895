/* The channels-last pooling kernel (engine/ops/pool.c, shared by Keras and ONNX) against a plain
 * loop written here, with channel counts that take its 16-wide path and its tail (the tfjs
 * fixtures have 3 channels): max and average (over the window's real pixels, as Keras averages
 * with 'same' padding), strides, padding on both sides, 1 and 2 threads. */
#include <math.h>

#include "ops-test.h"
#include "osh-op.h"

typedef struct
{
  const char *name;
  int64_t batch, ih, iw, ch, k, s, pad, oh, ow;
} Case;

static const Case cases[] = {
  { "3x3 stride 1 same, 40 channels", 1, 9, 11, 40, 3, 1, 1, 9, 11 },
  { "3x3 stride 2 same, 48 channels", 2, 9, 10, 48, 3, 2, 1, 5, 5 },
  { "2x2 stride 2 valid, 19 channels", 1, 8, 7, 19, 2, 2, 0, 4, 3 },
  { "3x3 stride 2 valid, 16 channels", 1, 7, 7, 16, 3, 2, 0, 3, 3 },
};

static void
test_pool (gconstpointer data)
{
  const Case *c = data;
  int64_t k[2] = { c->k, c->k }, s[2] = { c->s, c->s }, pad[2] = { c->pad, c->pad };
  int64_t in_sp[2] = { c->ih, c->iw }, out_sp[2] = { c->oh, c->ow };
  OshWindow2D w = osh_op_window2d (2, k, s, NULL, pad, in_sp, out_sp);
  int64_t n_in = c->batch * c->ih * c->iw * c->ch, n_out = c->batch * c->oh * c->ow * c->ch;
  float *in = g_new (float, n_in), *out = g_new (float, n_out);
  for (int64_t i = 0; i < n_in; i++)
    in[i] = ot_pattern (i, 3);
  for (int max = 0; max < 2; max++)
    for (int threads = 1; threads <= 2; threads++)
      {
        osh_pool_channels_last (&w, c->batch, c->ch, max, in, out, threads);
        double worst = 0;
        for (int64_t n = 0; n < c->batch; n++)
          for (int64_t oy = 0; oy < c->oh; oy++)
            for (int64_t ox = 0; ox < c->ow; ox++)
              for (int64_t ch = 0; ch < c->ch; ch++)
                {
                  double acc = max ? -INFINITY : 0;
                  int count = 0;
                  for (int64_t ky = 0; ky < c->k; ky++)
                    for (int64_t kx = 0; kx < c->k; kx++)
                      {
                        int64_t iy = oy * c->s - c->pad + ky, ix = ox * c->s - c->pad + kx;
                        if (iy < 0 || iy >= c->ih || ix < 0 || ix >= c->iw)
                          continue;
                        double v = in[((n * c->ih + iy) * c->iw + ix) * c->ch + ch];
                        acc = max ? fmax (acc, v) : acc + v;
                        count++;
                      }
                  double want = max ? acc : acc / count;
                  double got = out[((n * c->oh + oy) * c->ow + ox) * c->ch + ch];
                  worst = fmax (worst, fabs (got - want));
                }
        g_assert_cmpfloat (worst, <=, 1e-6);
      }
  g_free (in);
  g_free (out);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_strdup_printf ("/ops/pool-kernel/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_pool);
      g_free (path);
    }
  return g_test_run ();
}
