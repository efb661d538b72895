/* Keras 3's optimizers as its apply() runs them: the gradients clipped, the weights decayed,
 * then SGD's or Adam's update at the learning rate the schedule gives for this step
 * (osh-train.h has the formulas). */
#include <math.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "osh-grad.h"
#include "osh-simd.h"

static double
base_rate (const OshTrainOptions *o)
{
  if (o->learning_rate > 0)
    return o->learning_rate;
  return o->optimizer == OSH_OPTIM_SGD ? 0.01 : 0.001;
}

/* CosineDecay's decay from `from` at `step` of `steps` (the step already capped). */
static double
cosine (const OshTrainOptions *o, double from, double step, double steps)
{
  double decayed = (1.0 - o->alpha) * 0.5 * (1.0 + cos (M_PI * step / steps)) + o->alpha;
  return from * decayed;
}

double
osh_train_learning_rate (const OshTrainOptions *o, int64_t step)
{
  double lr = base_rate (o);
  if (o->schedule != OSH_SCHEDULE_COSINE || o->decay_steps < 1)
    return lr;
  double s = (double) step, steps = (double) o->decay_steps;
  if (o->warmup_target <= 0)
    return cosine (o, lr, fmin (s, steps), steps);
  double warm = (double) o->warmup_steps;
  if (s < warm)
    return (o->warmup_target - lr) * (s / warm) + lr;
  return cosine (o, o->warmup_target, fmin (s, steps + warm) - warm, steps);
}

bool
osh_train_options_check (const OshTrainOptions *o, OshError *err)
{
  if ((o->clipnorm > 0) + (o->clipvalue > 0) + (o->global_clipnorm > 0) > 1)
    return osh_fail (
        err, OSH_ERR_USAGE,
        "only one of clipnorm, clipvalue and global_clipnorm can be set (as in Keras)");
  if (o->clipnorm < 0 || o->clipvalue < 0 || o->global_clipnorm < 0)
    return osh_fail (err, OSH_ERR_USAGE, "a clipping bound must be positive");
  if (o->schedule == OSH_SCHEDULE_COSINE && o->decay_steps < 1)
    return osh_fail (err, OSH_ERR_USAGE, "the cosine schedule needs decay_steps of at least 1");
  if (o->alpha < 0 || o->alpha > 1)
    return osh_fail (err, OSH_ERR_USAGE, "the cosine schedule's alpha is a fraction in 0..1");
  if (o->warmup_target > 0 && o->warmup_steps < 1)
    return osh_fail (err, OSH_ERR_USAGE, "a warmup target needs warmup_steps of at least 1");
  return true;
}

static double
sum_of_squares (const OshTrainParam *p)
{
  double s = 0;
  for (int64_t j = 0; j < p->n; j++)
    s += (double) p->g[j] * p->g[j];
  return s;
}

static void
scale (OshTrainParam *p, float by)
{
  for (int64_t j = 0; j < p->n; j++)
    p->g[j] *= by;
}

static void
clip (const OshTrainOptions *o, OshTrainParam *params, int n)
{
  if (o->clipnorm > 0)
    for (int i = 0; i < n; i++)
      {
        /* Keras: g·c / max(‖g‖, c), the norm over the whole weight. */
        double norm = sqrt (sum_of_squares (&params[i]));
        if (norm > o->clipnorm)
          scale (&params[i], (float) (o->clipnorm / norm));
      }
  else if (o->global_clipnorm > 0)
    {
      double total = 0;
      for (int i = 0; i < n; i++)
        total += sum_of_squares (&params[i]);
      double norm = sqrt (total);
      if (norm > o->global_clipnorm)
        for (int i = 0; i < n; i++)
          scale (&params[i], (float) (o->global_clipnorm / norm));
    }
  else if (o->clipvalue > 0)
    {
      float c = (float) o->clipvalue;
      for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < params[i].n; j++)
          params[i].g[j] = fminf (fmaxf (params[i].g[j], -c), c);
    }
}

/* Adam's update of OSH_VW weights from j: the scalar loop's operations lane by lane (square
 * root and division are correctly rounded either way, so the numbers are the same), four at a
 * time where SSE has the square root; the scalar sqrtf is most of a step's cost otherwise. */
static void
adam_lanes (OshTrainParam *p, int64_t j, float alpha, float eps, float c1, float c2)
{
  OshVec g = OSH_VLOAD (p->g + j), m = OSH_VLOAD (p->m + j), v = OSH_VLOAD (p->v + j);
  m += (g - m) * c1;
  v += (g * g - v) * c2;
#if defined(__SSE__) && OSH_VW == 4
  OshVec root = (OshVec) _mm_sqrt_ps ((__m128) v);
#else
  OshVec root;
  for (int l = 0; l < OSH_VW; l++)
    root[l] = sqrtf (v[l]);
#endif
  OSH_VREF (p->m + j) = m;
  OSH_VREF (p->v + j) = v;
  OSH_VREF (p->w + j) = OSH_VLOAD (p->w + j) - alpha * m / (root + eps);
}

void
osh_train_optimizer_step (const OshTrainOptions *o, OshTrainParam *params, int n_params,
                          int64_t step)
{
  /* Keras evaluates the schedule at `iterations`, the steps done before this one. */
  double lr = osh_train_learning_rate (o, step - 1);
  clip (o, params, n_params);
  double wd = o->weight_decay >= 0              ? o->weight_decay
              : o->optimizer == OSH_OPTIM_ADAMW ? 0.004
                                                : 0.0;
  if (wd > 0)
    {
      float keep = (float) (wd * lr);
      for (int i = 0; i < n_params; i++)
        for (int64_t j = 0; j < params[i].n; j++)
          params[i].w[j] -= params[i].w[j] * keep;
    }
  if (o->optimizer == OSH_OPTIM_SGD)
    {
      float flr = (float) lr, mu = (float) o->momentum;
      for (int i = 0; i < n_params; i++)
        {
          OshTrainParam *p = &params[i];
          for (int64_t j = 0; j < p->n; j++)
            {
              if (mu == 0.0f)
                {
                  p->w[j] -= flr * p->g[j];
                  continue;
                }
              p->m[j] = mu * p->m[j] - flr * p->g[j];
              p->w[j] += o->nesterov ? mu * p->m[j] - flr * p->g[j] : p->m[j];
            }
        }
      return;
    }
  double b1 = o->beta_1, b2 = o->beta_2;
  float alpha =
      (float) (lr * sqrt (1.0 - pow (b2, (double) step)) / (1.0 - pow (b1, (double) step)));
  float eps = (float) o->epsilon, c1 = (float) (1.0 - b1), c2 = (float) (1.0 - b2);
  for (int i = 0; i < n_params; i++)
    {
      OshTrainParam *p = &params[i];
      int64_t j = 0;
      for (; j + OSH_VW <= p->n; j += OSH_VW)
        adam_lanes (p, j, alpha, eps, c1, c2);
      for (; j < p->n; j++)
        {
          float g = p->g[j];
          p->m[j] += (g - p->m[j]) * c1;
          p->v[j] += (g * g - p->v[j]) * c2;
          p->w[j] -= alpha * p->m[j] / (sqrtf (p->v[j]) + eps);
        }
    }
}
