/* osh-vec.h — the few vector loops the kernels spend their time in, written with GCC/clang
 * vector extensions so they vectorise at -O2 (which, in GCC 12, leaves such loops scalar).
 * Unaligned pointers are fine; tails are done one element at a time. These are compiled once, for
 * the baseline CPU (memory-bound loops: a 16-float vector is four SSE ones); the kernels compiled
 * per instruction set use osh-simd.h.
 *
 *   osh_vec_madd (acc, x, w, n);   // acc[i] += x[i] * w[i]
 */
#pragma once

#include <stdint.h>

typedef float OshV16 __attribute__ ((vector_size (64), aligned (4), may_alias));

#define OSH_V(p) (*(OshV16 *) (p))
#define OSH_CV(p) (*(const OshV16 *) (p))

/* acc[i] += x[i] * w[i] */
static inline void
osh_vec_madd (float *restrict acc, const float *restrict x, const float *restrict w, int64_t n)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    OSH_V (acc + i) += OSH_CV (x + i) * OSH_CV (w + i);
  for (; i < n; i++)
    acc[i] += x[i] * w[i];
}

/* y[i] = x[i] * s[i] + b[i] */
static inline void
osh_vec_affine (float *restrict y, const float *restrict x, const float *restrict s,
                const float *restrict b, int64_t n)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    OSH_V (y + i) = OSH_CV (x + i) * OSH_CV (s + i) + OSH_CV (b + i);
  for (; i < n; i++)
    y[i] = x[i] * s[i] + b[i];
}

/* acc[i] += x[i] */
static inline void
osh_vec_add (float *restrict acc, const float *restrict x, int64_t n)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    OSH_V (acc + i) += OSH_CV (x + i);
  for (; i < n; i++)
    acc[i] += x[i];
}

/* acc[i] *= x[i] */
static inline void
osh_vec_mul (float *restrict acc, const float *restrict x, int64_t n)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    OSH_V (acc + i) *= OSH_CV (x + i);
  for (; i < n; i++)
    acc[i] *= x[i];
}

typedef int32_t OshV16i __attribute__ ((vector_size (64), aligned (4), may_alias));

/* take ? a : b, lane by lane (take from a comparison: all ones or all zeros) */
static inline OshV16
osh_v16_select (OshV16i take, OshV16 a, OshV16 b)
{
  return (OshV16) (((OshV16i) a & take) | ((OshV16i) b & ~take));
}

/* min (max (v, lo), hi); NaN stays NaN */
static inline OshV16
osh_v16_clamp (OshV16 v, float lo, float hi)
{
  OshV16 vlo = (OshV16){ 0 } + lo, vhi = (OshV16){ 0 } + hi;
  v = osh_v16_select (v < vlo, vlo, v);
  return osh_v16_select (v > vhi, vhi, v);
}

/* x[i] = min (max (x[i], lo), hi) */
static inline void
osh_vec_clamp (float *x, int64_t n, float lo, float hi)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    OSH_V (x + i) = osh_v16_clamp (OSH_CV (x + i), lo, hi);
  for (; i < n; i++)
    x[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}

/* acc[i] = x[i] > acc[i] ? x[i] : acc[i] (a NaN in x leaves acc) */
static inline void
osh_vec_max (float *restrict acc, const float *restrict x, int64_t n)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      OshV16 a = OSH_CV (acc + i), v = OSH_CV (x + i);
      OSH_V (acc + i) = osh_v16_select (v > a, v, a);
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
  const OshV16 vmax = (OshV16){ 0 } + max, vthr = (OshV16){ 0 } + threshold;
  const OshV16 vslope = (OshV16){ 0 } + slope;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      OshV16 v = OSH_CV (x + i);
      /* A zero slope gives 0 even at -inf, as Keras's relu does (0 · -inf would be NaN). */
      OshV16 below = { 0 };
      if (slope != 0.0f)
        below = vslope * (v - vthr);
      OSH_V (y + i) = osh_v16_select (v >= vmax, vmax, osh_v16_select (v >= vthr, v, below));
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
