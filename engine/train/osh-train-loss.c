/* Losses with their gradients and the metrics that go with them, and the area resize that
 * brings a mask to an output's size; the seeded shuffle fit and probe share. */
#include <math.h>
#include <string.h>

#include "osh-train.h"

#define KERAS_EPSILON 1e-7f /* keras.backend.epsilon(): Keras clips probabilities to it */

/* Accuracy by argmax per row, and on a map the per-class counts of mean IoU. */
static void
count_rows (const float *p, const float *y, int64_t rows, int64_t c, bool map, OshTrainStats *stats)
{
  if (map && c <= OSH_TRAIN_MAX_CLASSES && stats->n_classes < c)
    stats->n_classes = (int) c;
  for (int64_t r = 0; r < rows; r++)
    {
      int64_t best = 0, truth = 0;
      for (int64_t j = 1; j < c; j++)
        {
          best = p[r * c + j] > p[r * c + best] ? j : best;
          truth = y[r * c + j] > y[r * c + truth] ? j : truth;
        }
      stats->correct += best == truth;
      stats->count++;
      if (map && c <= OSH_TRAIN_MAX_CLASSES)
        {
          stats->class_inter[best] += best == truth;
          stats->class_union[best]++;
          stats->class_union[truth] += best != truth;
        }
    }
}

static double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

/* Keras's Dice: 1 − 2·Σyp / (Σy + Σp + ε) over everything, p the sigmoid of the logits; its
 * gradient by the logits ADDED into dout. */
static double
dice (const float *logits, const float *y, int64_t n, float *dout)
{
  double inter = 0, sum = 0;
  for (int64_t j = 0; j < n; j++)
    {
      double p = sigmoid (logits[j]);
      inter += y[j] * p;
      sum += y[j] + p;
    }
  sum += KERAS_EPSILON;
  for (int64_t j = 0; j < n; j++)
    {
      double p = sigmoid (logits[j]);
      double by_p = -(2.0 * y[j] * sum - 2.0 * inter) / (sum * sum);
      dout[j] += (float) (by_p * p * (1.0 - p));
    }
  return 1.0 - 2.0 * inter / sum;
}

static double
bce (const float *logits, const float *targets, int64_t n, float *dout, OshTrainStats *stats)
{
  double sum = 0;
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
}

double
osh_train_loss (OshLossKind kind, const float *out, const float *logits, const float *targets,
                int64_t batch, int64_t numel, int64_t channels, float *dout, OshTrainStats *stats)
{
  double sum = 0;
  int64_t n = batch * numel, c = channels > 0 ? channels : numel, rows = n / c;
  bool map = c != numel;
  switch (kind)
    {
    case OSH_LOSS_CCE:
      for (int64_t r = 0; r < rows; r++)
        for (int64_t j = r * c; j < (r + 1) * c; j++)
          {
            float q = out[j] < KERAS_EPSILON       ? KERAS_EPSILON
                      : out[j] > 1 - KERAS_EPSILON ? 1 - KERAS_EPSILON
                                                   : out[j];
            sum -= targets[j] * log (q);
            /* The clip's gradient is zero outside its range. */
            dout[j] = q == out[j] ? -targets[j] / q / (float) rows : 0.0f;
          }
      count_rows (out, targets, rows, c, map, stats);
      return sum / (double) rows;
    case OSH_LOSS_SOFTMAX_CE:
      for (int64_t r = 0; r < rows; r++)
        {
          const float *z = logits + r * c, *y = targets + r * c;
          double top = z[0], total = 0, ysum = 0;
          for (int64_t j = 1; j < c; j++)
            top = fmax (top, z[j]);
          for (int64_t j = 0; j < c; j++)
            total += exp (z[j] - top), ysum += y[j];
          double lse = top + log (total);
          for (int64_t j = 0; j < c; j++)
            {
              sum += y[j] * (lse - z[j]);
              dout[r * c + j] = (float) ((exp (z[j] - lse) * ysum - y[j]) / (double) rows);
            }
        }
      count_rows (logits, targets, rows, c, map, stats);
      return sum / (double) rows;
    case OSH_LOSS_BCE: return bce (logits, targets, n, dout, stats);
    case OSH_LOSS_DICE:
      bce (logits, targets, n, dout, stats); /* for the IoU counts */
      memset (dout, 0, (size_t) n * sizeof *dout);
      return dice (logits, targets, n, dout);
    case OSH_LOSS_BCE_DICE:
      sum = bce (logits, targets, n, dout, stats);
      return sum + dice (logits, targets, n, dout);
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

double
osh_train_stats_metric (OshLossKind kind, const OshTrainStats *s, const char **name)
{
  if (kind == OSH_LOSS_BCE || kind == OSH_LOSS_DICE || kind == OSH_LOSS_BCE_DICE)
    {
      *name = "iou";
      /* Nothing over 0.5 in the output or the target: they agree. */
      return s->uni ? (double) s->inter / (double) s->uni : 1.0;
    }
  if (s->n_classes > 0)
    {
      double total = 0;
      int classes = 0;
      for (int k = 0; k < s->n_classes; k++)
        if (s->class_union[k] > 0)
          total += (double) s->class_inter[k] / (double) s->class_union[k], classes++;
      *name = "mean_iou";
      return classes ? total / classes : NAN;
    }
  if (s->count > 0)
    {
      *name = "accuracy";
      return (double) s->correct / (double) s->count;
    }
  *name = NULL;
  return NAN;
}

void
osh_train_stats_add (OshTrainStats *a, const OshTrainStats *b)
{
  a->correct += b->correct, a->count += b->count, a->inter += b->inter, a->uni += b->uni;
  if (b->n_classes > a->n_classes)
    a->n_classes = b->n_classes;
  for (int k = 0; k < b->n_classes; k++)
    a->class_inter[k] += b->class_inter[k], a->class_union[k] += b->class_union[k];
}

static const char *const loss_names[] = {
  [OSH_LOSS_AUTO] = "auto",
  [OSH_LOSS_CCE] = "cce",
  [OSH_LOSS_BCE] = "bce",
  [OSH_LOSS_MSE] = "mse",
  [OSH_LOSS_SOFTMAX_CE] = "softmax-ce",
  [OSH_LOSS_DICE] = "dice",
  [OSH_LOSS_BCE_DICE] = "bce-dice",
};

const char *
osh_train_loss_name (OshLossKind kind)
{
  return kind >= 0 && kind < (int) (sizeof loss_names / sizeof *loss_names) ? loss_names[kind]
                                                                            : "?";
}

bool
osh_train_loss_parse (const char *name, OshLossKind *kind)
{
  for (int k = 0; k < (int) (sizeof loss_names / sizeof *loss_names); k++)
    if (strcmp (name, loss_names[k]) == 0)
      {
        *kind = (OshLossKind) k;
        return true;
      }
  return false;
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
