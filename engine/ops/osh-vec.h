/* osh-vec.h — the few vector loops the kernels spend their time in, written in osh-simd.h's
 * vectors so they vectorise at -O2 (which, in GCC 12, leaves such loops scalar). Compiled where
 * they are used: in the baseline code of the engine that is 4 lanes (SSE2), the native width,
 * since wider vector-extension comparisons fall back to scalar code there. Unaligned pointers
 * are fine; tails are done one element at a time.
 *
 *   osh_vec_madd (acc, x, w, n);   // acc[i] += x[i] * w[i]
 */
#pragma once

#include <stdint.h>

#include "osh-simd.h"

/* acc[i] += x[i] * w[i] */
static inline void
osh_vec_madd (float *restrict acc, const float *restrict x, const float *restrict w, int64_t n)
{
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    OSH_VREF (acc + i) += OSH_VLOAD (x + i) * OSH_VLOAD (w + i);
  for (; i < n; i++)
    acc[i] += x[i] * w[i];
}

/* y[i] = x[i] * s[i] + b[i] */
static inline void
osh_vec_affine (float *restrict y, const float *restrict x, const float *restrict s,
                const float *restrict b, int64_t n)
{
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    OSH_VREF (y + i) = OSH_VLOAD (x + i) * OSH_VLOAD (s + i) + OSH_VLOAD (b + i);
  for (; i < n; i++)
    y[i] = x[i] * s[i] + b[i];
}

/* acc[i] += x[i] */
static inline void
osh_vec_add (float *restrict acc, const float *restrict x, int64_t n)
{
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    OSH_VREF (acc + i) += OSH_VLOAD (x + i);
  for (; i < n; i++)
    acc[i] += x[i];
}

/* acc[i] *= x[i] */
static inline void
osh_vec_mul (float *restrict acc, const float *restrict x, int64_t n)
{
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    OSH_VREF (acc + i) *= OSH_VLOAD (x + i);
  for (; i < n; i++)
    acc[i] *= x[i];
}

/* x[i] = min (max (x[i], lo), hi) */
static inline void
osh_vec_clamp (float *x, int64_t n, float lo, float hi)
{
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    OSH_VREF (x + i) = osh_simd_clamp (OSH_VLOAD (x + i), lo, hi);
  for (; i < n; i++)
    x[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}

/* acc[i] = x[i] > acc[i] ? x[i] : acc[i] (a NaN in x leaves acc) */
static inline void
osh_vec_max (float *restrict acc, const float *restrict x, int64_t n)
{
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    {
      OshVec a = OSH_VLOAD (acc + i), v = OSH_VLOAD (x + i);
      OSH_VREF (acc + i) = osh_simd_select (v > a, v, a);
    }
  for (; i < n; i++)
    acc[i] = x[i] > acc[i] ? x[i] : acc[i];
}

/* Keras's ReLU in full: y = x ≥ max ? max : x ≥ threshold ? x : slope · (x - threshold). Plain
 * ReLU, ReLU6 and LeakyReLU are special cases. y may be x. Branch-free: the sign of an activation
 * is unpredictable, and a scalar loop mispredicts about every other element. */
static inline void
osh_vec_relu (float *y, const float *x, int64_t n, float max, float threshold, float slope)
{
  const OshVec vmax = osh_simd_splat (max), vthr = osh_simd_splat (threshold);
  const OshVec vslope = osh_simd_splat (slope);
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    {
      OshVec v = OSH_VLOAD (x + i);
      /* A zero slope gives 0 even at -inf, as Keras's relu does (0 · -inf would be NaN). */
      OshVec below = { 0 };
      if (slope != 0.0f)
        below = vslope * (v - vthr);
      OSH_VREF (y + i) = osh_simd_select (v >= vmax, vmax, osh_simd_select (v >= vthr, v, below));
    }
  for (; i < n; i++)
    {
      float v = x[i];
      y[i] = v >= max ? max : v >= threshold ? v : slope == 0.0f ? 0.0f : slope * (v - threshold);
    }
}

/* x[i] = sigmoid (x[i]), or x[i] · sigmoid (x[i]) (swish) when `times_x`: the epilogue kernel
 * of the current path (osh-isa.h). */
void osh_vec_sigmoid (float *x, int64_t n, int times_x);
