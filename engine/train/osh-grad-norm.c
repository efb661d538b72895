/* BatchNormalization in a head, forward and backward: batch statistics while training (the
 * moving ones updated as Keras does), the moving statistics when frozen or evaluating. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-grad.h"
#include "osh-simd.h"

/* Rows (examples × pixels) outer, channels inner: the data's own order, so each pass streams
 * through memory once, in vectors across the channels. Per-channel sums are taken in float over
 * blocks of SUM_BLOCK rows, then added up in double: vectorised, float rounding over 64 rows
 * only. */
enum
{
  SUM_BLOCK = 64
};

/* sum[c] += Σ_r a[r·C + c] (and sum2[c] += Σ_r a[r·C + c]·b[r·C + c] when b is given); with
 * `shift`, a[r·C + c] − shift[c] squared instead. acc: 2·C floats of scratch. */
static void
channel_sums (const float *a, const float *b, const float *shift, int64_t rows, int64_t C,
              double *sum, double *sum2, float *acc)
{
  float *acc2 = acc + C;
  for (int64_t r0 = 0; r0 < rows; r0 += SUM_BLOCK)
    {
      memset (acc, 0, (size_t) (2 * C) * sizeof *acc);
      int64_t r1 = r0 + SUM_BLOCK < rows ? r0 + SUM_BLOCK : rows;
      for (int64_t r = r0; r < r1; r++)
        {
          const float *ar = a + r * C, *br = b ? b + r * C : NULL;
          int64_t c = 0;
          for (; c + OSH_VW <= C; c += OSH_VW)
            {
              OshVec v = OSH_VLOAD (ar + c);
              if (shift)
                {
                  v -= OSH_VLOAD (shift + c);
                  v *= v;
                }
              OSH_VREF (acc + c) += v;
              if (br)
                OSH_VREF (acc2 + c) += v * OSH_VLOAD (br + c);
            }
          for (; c < C; c++)
            {
              float v = shift ? (ar[c] - shift[c]) * (ar[c] - shift[c]) : ar[c];
              acc[c] += v;
              if (br)
                acc2[c] += v * br[c];
            }
        }
      for (int64_t c = 0; c < C; c++)
        {
          sum[c] += acc[c];
          if (sum2)
            sum2[c] += acc2[c];
        }
    }
}

void
osh_grad_bn_forward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int64_t C = in->shape.dim[in->shape.rank - 1], rows = batch * in->numel / C;
  const float *gamma = gl->wt[0].w, *beta = gl->wt[1].w, *x = in->x;
  float *mm = gl->wt[2].w, *mv = gl->wt[3].w;
  /* scratch: the sums (2·C doubles), then 2·C floats for channel_sums, the scale and shift */
  double *sum = calloc ((size_t) (2 * C), sizeof *sum), *sq = sum ? sum + C : NULL;
  float *f = malloc ((size_t) (4 * C) * sizeof *f), *scale = f ? f + 2 * C : NULL,
        *shift = f ? f + 3 * C : NULL;
  if (!sum || !f)
    {
      free (sum);
      free (f);
      return;
    }
  if (training && !gl->frozen)
    {
      channel_sums (x, NULL, NULL, rows, C, sum, NULL, f);
      for (int64_t c = 0; c < C; c++)
        gl->mean[c] = (float) (sum[c] / (double) rows);
      channel_sums (x, NULL, gl->mean, rows, C, sq, NULL, f);
      for (int64_t c = 0; c < C; c++)
        {
          double var = sq[c] / (double) rows; /* biased, as Keras 3 uses for both */
          mm[c] = (float) (mm[c] * gl->momentum + sum[c] / (double) rows * (1.0 - gl->momentum));
          mv[c] = (float) (mv[c] * gl->momentum + var * (1.0 - gl->momentum));
          gl->inv_std[c] = (float) (1.0 / sqrt (var + gl->eps));
        }
    }
  else
    for (int64_t c = 0; c < C; c++)
      {
        gl->mean[c] = mm[c];
        gl->inv_std[c] = (float) (1.0 / sqrt ((double) mv[c] + gl->eps));
      }
  for (int64_t c = 0; c < C; c++)
    {
      scale[c] = gamma ? gamma[c] : 1.0f;
      shift[c] = beta ? beta[c] : 0.0f;
    }
  for (int64_t r = 0; r < rows; r++)
    {
      const float *xr = x + r * C;
      float *xh = gl->aux + r * C, *y = out->x + r * C;
      int64_t c = 0;
      for (; c + OSH_VW <= C; c += OSH_VW)
        {
          OshVec v = (OSH_VLOAD (xr + c) - OSH_VLOAD (gl->mean + c)) * OSH_VLOAD (gl->inv_std + c);
          OSH_VREF (xh + c) = v;
          OSH_VREF (y + c) = v * OSH_VLOAD (scale + c) + OSH_VLOAD (shift + c);
        }
      for (; c < C; c++)
        {
          xh[c] = (xr[c] - gl->mean[c]) * gl->inv_std[c];
          y[c] = xh[c] * scale[c] + shift[c];
        }
    }
  free (sum);
  free (f);
}

void
osh_grad_bn_backward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int64_t C = in->shape.dim[in->shape.rank - 1], rows = batch * in->numel / C;
  const float *gamma = gl->wt[0].w, *dy = out->dx, *xh = gl->aux;
  bool batch_stats = training && !gl->frozen;
  double *sdy = calloc ((size_t) (2 * C), sizeof *sdy), *sdyx = sdy ? sdy + C : NULL;
  float *k = malloc ((size_t) (5 * C) * sizeof *k), *mdy = k ? k + C : NULL,
        *mdyx = k ? k + 2 * C : NULL, *acc = k ? k + 3 * C : NULL;
  if (!sdy || !k)
    {
      free (sdy);
      free (k);
      return;
    }
  channel_sums (dy, xh, NULL, rows, C, sdy, sdyx, acc);
  for (int64_t c = 0; c < C; c++)
    {
      if (gl->wt[0].g)
        gl->wt[0].g[c] = (float) sdyx[c];
      if (gl->wt[1].g)
        gl->wt[1].g[c] = (float) sdy[c];
      k[c] = (gamma ? gamma[c] : 1.0f) * gl->inv_std[c];
      /* With batch statistics the mean and variance depend on x too:
       * dx = k·(dy − mean(dy) − x̂·mean(dy·x̂)); with moving ones dx = k·dy. */
      mdy[c] = batch_stats ? (float) (sdy[c] / (double) rows) : 0.0f;
      mdyx[c] = batch_stats ? (float) (sdyx[c] / (double) rows) : 0.0f;
    }
  if (in->dx)
    for (int64_t r = 0; r < rows; r++)
      {
        const float *dyr = dy + r * C, *xr = xh + r * C;
        float *dx = in->dx + r * C;
        int64_t c = 0;
        for (; c + OSH_VW <= C; c += OSH_VW)
          {
            OshVec d = OSH_VLOAD (k + c)
                       * (OSH_VLOAD (dyr + c) - OSH_VLOAD (mdy + c)
                          - OSH_VLOAD (xr + c) * OSH_VLOAD (mdyx + c));
            OSH_VREF (dx + c) = in->fresh ? d : OSH_VLOAD (dx + c) + d;
          }
        for (; c < C; c++)
          {
            float d = k[c] * (dyr[c] - mdy[c] - xr[c] * mdyx[c]);
            dx[c] = in->fresh ? d : dx[c] + d;
          }
      }
  free (sdy);
  free (k);
}
