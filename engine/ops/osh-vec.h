/* osh-vec.h — the few vector loops the kernels spend their time in, written with GCC/clang
 * vector extensions so they vectorise at -O2 (which, in GCC 12, leaves such loops scalar).
 * Unaligned pointers are fine; tails are done one element at a time.
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

/* x[i] = sigmoid (x[i]), or x[i] · sigmoid (x[i]) (swish) when `times_x`. */
static inline void
osh_vec_sigmoid (float *x, int64_t n, int times_x)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      OshV16 v = OSH_CV (x + i);
      OshV16 s = 1.0f / (1.0f + osh_v16_exp (-v));
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
