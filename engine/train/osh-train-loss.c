/* Losses with their gradients and the metrics that go with them, and the area resize that
 * brings a mask to an output's size; the seeded shuffle fit and probe share. */
#include <math.h>

#include "osh-train.h"

#define KERAS_EPSILON 1e-7f /* keras.backend.epsilon(): Keras clips probabilities to it */

double
osh_train_loss (OshLossKind kind, const float *out, const float *logits, const float *targets,
                int64_t batch, int64_t numel, float *dout, OshTrainStats *stats)
{
  double sum = 0;
  int64_t n = batch * numel;
  switch (kind)
    {
    case OSH_LOSS_CCE:
      for (int64_t b = 0; b < batch; b++)
        {
          const float *p = out + b * numel, *y = targets + b * numel;
          int64_t best = 0, truth = 0;
          for (int64_t j = 0; j < numel; j++)
            {
              float q = p[j] < KERAS_EPSILON       ? KERAS_EPSILON
                        : p[j] > 1 - KERAS_EPSILON ? 1 - KERAS_EPSILON
                                                   : p[j];
              sum -= y[j] * log (q);
              /* The clip's gradient is zero outside its range. */
              dout[b * numel + j] = q == p[j] ? -y[j] / q / (float) batch : 0.0f;
              best = p[j] > p[best] ? j : best;
              truth = y[j] > y[truth] ? j : truth;
            }
          stats->correct += best == truth;
          stats->count++;
        }
      return sum / (double) batch;
    case OSH_LOSS_BCE:
      for (int64_t j = 0; j < n; j++)
        {
          /* max(x, 0) − x·z + log(1 + e^−|x|): stable for any logit. */
          float x = logits[j], z = targets[j];
          sum += fmaxf (x, 0) - x * z + log1pf (expf (-fabsf (x)));
          dout[j] = (1.0f / (1.0f + expf (-x)) - z) / (float) n;
          bool a = x > 0, b = z > 0.5f;
          stats->inter += a && b;
          stats->uni += a || b;
        }
      return sum / (double) n;
    case OSH_LOSS_MSE:
    case OSH_LOSS_AUTO:
      for (int64_t j = 0; j < n; j++)
        {
          float d = out[j] - targets[j];
          sum += (double) d * d;
          dout[j] = 2.0f * d / (float) n;
        }
      return sum / (double) n;
    }
  return 0;
}

/* The length of [a0, a1) ∩ [b0, b1). */
static double
overlap (double a0, double a1, double b0, double b1)
{
  double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0;
}

void
osh_train_area_resize (const float *src, int sh, int sw, float *dst, int dh, int dw)
{
  double fy = (double) sh / dh, fx = (double) sw / dw;
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++)
      {
        double y0 = y * fy, y1 = (y + 1) * fy, x0 = x * fx, x1 = (x + 1) * fx, sum = 0, area = 0;
        for (int sy = (int) y0; sy < sh && sy < y1; sy++)
          {
            double wy = overlap (y0, y1, sy, sy + 1);
            for (int sx = (int) x0; sx < sw && sx < x1; sx++)
              {
                double w = wy * overlap (x0, x1, sx, sx + 1);
                sum += w * src[(int64_t) sy * sw + sx];
                area += w;
              }
          }
        dst[(int64_t) y * dw + x] = area > 0 ? (float) (sum / area) : 0.0f;
      }
}

void
osh_train_shuffle (int64_t *v, int64_t n, uint64_t *state)
{
  for (int64_t i = n - 1; i > 0; i--)
    {
      uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      int64_t j = (int64_t) (z % (uint64_t) (i + 1)), tmp = v[i];
      v[i] = v[j];
      v[j] = tmp;
    }
}
