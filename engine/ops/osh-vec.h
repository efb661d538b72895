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
