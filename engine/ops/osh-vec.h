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

/* acc[i] = x[i] > acc[i] ? x[i] : acc[i] (a NaN in x leaves acc) */
static inline void
osh_vec_max (float *restrict acc, const float *restrict x, int64_t n)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      OshV16 a = OSH_CV (acc + i), v = OSH_CV (x + i);
      OshV16i take = v > a;
      OSH_V (acc + i) = (OshV16) (((OshV16i) v & take) | ((OshV16i) a & ~take));
    }
  for (; i < n; i++)
    acc[i] = x[i] > acc[i] ? x[i] : acc[i];
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
  OshV16i e = (__builtin_convertvector (n, OshV16i) + 127) << 23;
  return p * (OshV16) e;
}

/* 1 / (1 + e^-x) on 16 lanes. A vector division costs more than the exponential (one per 10–16
 * cycles), so with AVX-512: e^-x = 2^n · 2^f with n = round (-x·log2 e), f from a two-part
 * log2 e (exact enough at |x| = 87), 2^f by a degree-5 minimax polynomial on [-1/2, 1/2]
 * (2.4e-7 relative), n applied by scalef, and the reciprocal a 14-bit estimate refined by one
 * Newton step. About 2.5e-7 relative in all. */
static inline OshV16
osh_v16_sigmoid (OshV16 v)
{
#ifdef __AVX512F__
  const float log2e_hi = 1.44269502162933349609375f, log2e_lo = 1.925963033500011079e-8f;
  __m512 x = _mm512_min_ps (_mm512_max_ps ((__m512) v, _mm512_set1_ps (-87.0f)),
                            _mm512_set1_ps (87.0f));
  __m512 n = _mm512_roundscale_ps (_mm512_mul_ps (x, _mm512_set1_ps (-log2e_hi)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_fnmadd_ps (x, _mm512_set1_ps (log2e_hi), -n);
  f = _mm512_fnmadd_ps (x, _mm512_set1_ps (log2e_lo), f);
  __m512 p = _mm512_fmadd_ps (f, _mm512_set1_ps (1.327644451521337e-3f), _mm512_set1_ps (9.67553723603487e-3f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (5.550713464617729e-2f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (2.4022120237350464e-1f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (6.931469440460205e-1f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (1.0000001192092896f));
  __m512 d = _mm512_add_ps (_mm512_scalef_ps (p, n), _mm512_set1_ps (1.0f));
  __m512 y = _mm512_rcp14_ps (d);
  return (OshV16) _mm512_mul_ps (y, _mm512_fnmadd_ps (d, y, _mm512_set1_ps (2.0f)));
#else
  return 1.0f / (1.0f + osh_v16_exp (-v));
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
      OshV16 s = osh_v16_sigmoid (v);
      if (times_x)
        s *= v;
      OSH_V (x + i) = s;
    }
  for (; i < n; i++)
    {
      float s = 1.0f / (1.0f + __builtin_expf (-x[i]));
      x[i] = times_x ? x[i] * s : s;
    }
}
