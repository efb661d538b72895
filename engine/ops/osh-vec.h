/* osh-vec.h — the few vector loops the kernels spend their time in, written with GCC/clang
 * vector extensions so they vectorise at -O2 (which, in GCC 12, leaves such loops scalar).
 * Unaligned pointers are fine; tails are done one element at a time.
 *
 *   osh_vec_madd (acc, x, w, n);   // acc[i] += x[i] * w[i]
 */
#pragma once

#include <stdint.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

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

/* e^x on 16 lanes: n = round (x / ln 2), e^x = 2^n · e^r with |r| ≤ ln 2 / 2 and e^r from
 * Cephes's degree-6 polynomial; relative error about 2e-7, inputs clamped to ±87. */
static inline OshV16
osh_v16_exp (OshV16 x)
{
  const OshV16 hi = (OshV16){ 0 } + 87.0f, lo = (OshV16){ 0 } - 87.0f;
  OshV16i over = x > hi, under = x < lo;
  x = (OshV16) (((OshV16i) x & ~over) | ((OshV16i) hi & over));
  x = (OshV16) (((OshV16i) x & ~under) | ((OshV16i) lo & under));
  const float magic = 12582912.0f; /* 1.5 · 2^23: adding it rounds to an integer */
  OshV16 n = (x * 1.44269504088896341f + magic) - magic;
  OshV16 r = x - n * 0.693359375f - n * -2.12194440e-4f;
  OshV16 p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  OshV16i e = (__builtin_convertvector(n, OshV16i) + 127) << 23;
  return p * (OshV16) e;
}

/* 2^f for f in [0, 1): a degree-5 polynomial fitted for least maximum relative error
 * (tools/reference/exp2-fit.py; 1.6e-7 in float arithmetic). */
#ifdef __AVX512F__
static inline __m512
osh_m512_exp2_unit (__m512 f)
{
  __m512 p =
      _mm512_fmadd_ps (f, _mm512_set1_ps (1.877572737e-03f), _mm512_set1_ps (8.989344351e-03f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (5.582631752e-02f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (2.401536107e-01f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (6.931530833e-01f));
  return _mm512_fmadd_ps (p, f, _mm512_set1_ps (9.999999404e-01f));
}

/* 1 / (1 + e^-v), times v when `times_v` (swish). Folded into every convolution of an
 * EfficientNet, so each instruction counts: e^-v = 2^z with z = -v·log2 e; reduce gives the
 * fraction f = z - floor (z) in one step and scalef applies floor (z) itself, so the integer
 * part is never formed. The reciprocal is a 14-bit estimate refined by one Newton step (cheaper
 * than a division here). v is clamped below at -87 only: there 2^z would overflow and make the
 * Newton step inf · 0; large positive v gives 2^z = 0, which is exact enough. About 5e-7 relative
 * in all; the rounding of z costs under 1e-8 absolute. */
static inline __m512
osh_m512_sigmoid (__m512 v, int times_v)
{
  __m512 x = _mm512_max_ps (_mm512_set1_ps (-87.0f), v); /* v second: a NaN stays NaN */
  __m512 z = _mm512_mul_ps (x, _mm512_set1_ps (-1.44269504088896341f));
  __m512 f = _mm512_reduce_ps (z, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 d = _mm512_add_ps (_mm512_scalef_ps (osh_m512_exp2_unit (f), z), _mm512_set1_ps (1.0f));
  __m512 y = _mm512_rcp14_ps (d);
  __m512 newton = _mm512_fnmadd_ps (d, y, _mm512_set1_ps (2.0f));
  return _mm512_mul_ps (times_v ? _mm512_mul_ps (v, y) : y, newton);
}
#endif

/* 1 / (1 + e^-x) on 16 lanes. */
static inline OshV16
osh_v16_sigmoid (OshV16 v)
{
#ifdef __AVX512F__
  return (OshV16) osh_m512_sigmoid ((__m512) v, 0);
#else
  return 1.0f / (1.0f + osh_v16_exp (-v));
#endif
}

/* x · sigmoid (x) on 16 lanes. */
static inline OshV16
osh_v16_swish (OshV16 v)
{
#ifdef __AVX512F__
  return (OshV16) osh_m512_sigmoid ((__m512) v, 1);
#else
  return v / (1.0f + osh_v16_exp (-v));
#endif
}

/* x[i] = sigmoid (x[i]), or x[i] · sigmoid (x[i]) (swish) when `times_x`. */
static inline void
osh_vec_sigmoid (float *x, int64_t n, int times_x)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      OshV16 v = OSH_CV (x + i);
      OSH_V (x + i) = times_x ? osh_v16_swish (v) : osh_v16_sigmoid (v);
    }
  for (; i < n; i++)
    {
      float s = 1.0f / (1.0f + __builtin_expf (-x[i]));
      x[i] = times_x ? x[i] * s : s;
    }
}
