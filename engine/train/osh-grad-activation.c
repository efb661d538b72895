/* The activations of head layers, forward and backward (a Conv2D's or Dense's own, and
 * Activation, ReLU, LeakyReLU and Softmax layers), by Keras's names. */
#include <math.h>
#include <string.h>

#include "osh-grad.h"
#include "osh-vec.h"

bool
osh_grad_parse_activation (const char *name, OshActKind *act, float *alpha, float *cap)
{
  *alpha = 0.0f;
  *cap = 0.0f;
  static const struct
  {
    const char *name;
    OshActKind act;
    float alpha, cap;
  } table[] = {
    { "linear", OSH_ACT_LINEAR, 0, 0 },   { "relu", OSH_ACT_RELU, 0, 0 },
    { "relu6", OSH_ACT_RELU, 0, 6 },      { "leaky_relu", OSH_ACT_RELU, 0.2f, 0 },
    { "sigmoid", OSH_ACT_SIGMOID, 0, 0 }, { "swish", OSH_ACT_SWISH, 0, 0 },
    { "silu", OSH_ACT_SWISH, 0, 0 },      { "tanh", OSH_ACT_TANH, 0, 0 },
    { "softmax", OSH_ACT_SOFTMAX, 0, 0 },
  };
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (strcmp (name, table[i].name) == 0)
      {
        *act = table[i].act;
        *alpha = table[i].alpha;
        *cap = table[i].cap;
        return true;
      }
  return false;
}

static float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

void
osh_grad_activate (OshActKind act, float alpha, float cap, const float *x, float *y, int64_t n,
                   int64_t last)
{
  switch (act)
    {
    case OSH_ACT_LINEAR:
      if (y != x)
        memcpy (y, x, (size_t) n * sizeof *y);
      break;
    case OSH_ACT_RELU: /* branch-free: a scalar loop mispredicts about every other sign */
      osh_vec_relu (y, x, n, cap > 0.0f ? cap : INFINITY, 0.0f, alpha);
      break;
    case OSH_ACT_SIGMOID:
      for (int64_t i = 0; i < n; i++)
        y[i] = sigmoidf (x[i]);
      break;
    case OSH_ACT_SWISH:
      for (int64_t i = 0; i < n; i++)
        y[i] = x[i] * sigmoidf (x[i]);
      break;
    case OSH_ACT_TANH:
      for (int64_t i = 0; i < n; i++)
        y[i] = tanhf (x[i]);
      break;
    case OSH_ACT_SOFTMAX:
      for (int64_t r = 0; r < n; r += last)
        {
          float m = x[r];
          for (int64_t j = 1; j < last; j++)
            m = x[r + j] > m ? x[r + j] : m;
          double sum = 0;
          for (int64_t j = 0; j < last; j++)
            sum += y[r + j] = expf (x[r + j] - m);
          for (int64_t j = 0; j < last; j++)
            y[r + j] = (float) (y[r + j] / sum);
        }
      break;
    }
}

/* dx = dy · slope (or dx += it with `add`): slope 1 above 0, alpha below, 0 from the cap on. */
static void
relu_backward (float alpha, float cap, const float *x, const float *dy, float *dx, int64_t n,
               bool add)
{
  float top = cap > 0.0f ? cap : INFINITY;
  const OshVec vtop = osh_simd_splat (top), valpha = osh_simd_splat (alpha);
  const OshVec one = osh_simd_splat (1.0f), zero = { 0 };
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    {
      OshVec v = OSH_VLOAD (x + i);
      OshVec slope = osh_simd_select (v >= vtop, zero, osh_simd_select (v > zero, one, valpha));
      OshVec d = OSH_VLOAD (dy + i) * slope;
      OSH_VREF (dx + i) = add ? OSH_VLOAD (dx + i) + d : d;
    }
  for (; i < n; i++)
    {
      float slope = x[i] >= top ? 0.0f : x[i] > 0 ? 1.0f : alpha;
      dx[i] = add ? dx[i] + dy[i] * slope : dy[i] * slope;
    }
}

void
osh_grad_activate_backward (OshActKind act, float alpha, float cap, const float *x, const float *y,
                            const float *dy, float *dx, int64_t n, int64_t last)
{
  switch (act)
    {
    case OSH_ACT_LINEAR:
      if (dx != dy)
        memcpy (dx, dy, (size_t) n * sizeof *dx);
      break;
    case OSH_ACT_RELU: relu_backward (alpha, cap, x, dy, dx, n, false); break;
    case OSH_ACT_SIGMOID:
      for (int64_t i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    case OSH_ACT_SWISH:
      for (int64_t i = 0; i < n; i++)
        {
          float s = sigmoidf (x[i]);
          dx[i] = dy[i] * (s + x[i] * s * (1.0f - s));
        }
      break;
    case OSH_ACT_TANH:
      for (int64_t i = 0; i < n; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case OSH_ACT_SOFTMAX:
      for (int64_t r = 0; r < n; r += last)
        {
          double dot = 0;
          for (int64_t j = 0; j < last; j++)
            dot += (double) dy[r + j] * y[r + j];
          for (int64_t j = 0; j < last; j++)
            dx[r + j] = y[r + j] * (float) (dy[r + j] - dot);
        }
      break;
    }
}

void
osh_grad_activate_backward_add (OshActKind act, float alpha, float cap, const float *x,
                                const float *y, float *dy, float *dx, int64_t n, int64_t last,
                                bool store)
{
  if (store)
    osh_grad_activate_backward (act, alpha, cap, x, y, dy, dx, n, last);
  else if (act == OSH_ACT_RELU) /* one pass, dy left as it is */
    relu_backward (alpha, cap, x, dy, dx, n, true);
  else
    {
      osh_grad_activate_backward (act, alpha, cap, x, y, dy, dy, n, last);
      osh_vec_add (dx, dy, n);
    }
}
