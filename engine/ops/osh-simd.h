/* osh-simd.h — the vector a kernel is written in, as wide as the instruction set it is compiled
 * for. A kernel source includes this and is compiled once per path (engine/ops/meson.build):
 * with OSH_KERNEL_AVX512 an OshVec is 16 floats, with OSH_KERNEL_AVX2 8, else 4 (the baseline
 * CPU, SSE2 on x86-64). The code is the same; OSH_VW says how many lanes, OSH_ISA_FN (name)
 * gives the path's entry point name_avx512, name_avx2 or name_baseline, which osh-isa.h's
 * OSH_ISA_DISPATCH picks at run time. Only the few operations with no vector-extension form
 * (partial loads and stores, gathers, the fast reciprocal) name intrinsics, each with a plain
 * fallback.
 *
 *   OshVec acc = osh_simd_splat (bias);
 *   acc += OSH_VLOAD (x + i) * w;                     // an FMA with -mfma
 *   osh_simd_store_n (out, osh_epilogue_apply (&ep, acc), valid);
 */
#pragma once

#include <stdint.h>

#include "osh-epilogue.h"

#if defined(OSH_KERNEL_AVX512)
#include <immintrin.h>
#define OSH_VW 16
#define OSH_ISA_FN(name) name##_avx512
#elif defined(OSH_KERNEL_AVX2)
#include <immintrin.h>
#define OSH_VW 8
#define OSH_ISA_FN(name) name##_avx2
#else
#define OSH_VW 4
#define OSH_ISA_FN(name) name##_baseline
#endif

/* Values, kept in registers; memory is read and written through OshVecMem (any alignment, any
 * float array), since an under-aligned type for values costs a micro-kernel a frame pointer. */
typedef float OshVec __attribute__ ((vector_size (OSH_VW * 4)));
typedef int32_t OshVeci __attribute__ ((vector_size (OSH_VW * 4)));
typedef float OshVecMem __attribute__ ((vector_size (OSH_VW * 4), aligned (4), may_alias));

#define OSH_VLOAD(p) ((OshVec) * (const OshVecMem *) (p))
#define OSH_VREF(p) (*(OshVecMem *) (p))

/* x in every lane: one broadcast (written as {0} + x, it would be an add, since 0 + -0 is +0). */
static inline OshVec
osh_simd_splat (float x)
{
#if OSH_VW == 16
  return (OshVec) _mm512_set1_ps (x);
#elif OSH_VW == 8
  return (OshVec) _mm256_set1_ps (x);
#else
  OshVec v;
  for (int l = 0; l < OSH_VW; l++)
    v[l] = x;
  return v;
#endif
}

/* a · b + c, one instruction where there is FMA. Spelled out rather than left to contraction:
 * written as `acc += x * w`, GCC 12 allocates a micro-kernel's registers worse (moves between
 * accumulators, pointers spilled to vector registers: half the speed). */
static inline OshVec
osh_simd_fma (OshVec a, OshVec b, OshVec c)
{
#if OSH_VW == 16
  return (OshVec) _mm512_fmadd_ps ((__m512) a, (__m512) b, (__m512) c);
#elif OSH_VW == 8
  return (OshVec) _mm256_fmadd_ps ((__m256) a, (__m256) b, (__m256) c);
#else
  return a * b + c;
#endif
}

/* The compiler no longer knows the value of v (an empty asm statement): a vector stays in the
 * register it was loaded into instead of being read from memory again at each use, a pointer
 * is stepped as written instead of turned into an offset per use. Costs no instruction. */
#if defined(__x86_64__) || defined(__i386__)
#define OSH_OPAQUE_VEC(v) __asm__("" : "+v"(v))
#elif defined(__aarch64__)
#define OSH_OPAQUE_VEC(v) __asm__("" : "+w"(v))
#else
#define OSH_OPAQUE_VEC(v) ((void) 0)
#endif
#define OSH_OPAQUE_PTR(p) __asm__("" : "+r"(p))

/* 0, 1, 2, … */
static inline OshVeci
osh_simd_iota (void)
{
  OshVeci v;
  for (int l = 0; l < OSH_VW; l++)
    v[l] = l;
  return v;
}

/* The first min (n, OSH_VW) lanes of a vector, none when n ≤ 0, for the partial loads and
 * stores below: with AVX-512 a mask register (a micro-kernel carrying two of them keeps its
 * general registers for pointers), else the count. */
#if OSH_VW == 16
typedef __mmask16 OshLanes;
static inline OshLanes
osh_simd_lanes (int64_t n)
{
  return n >= 16 ? 0xffff : n <= 0 ? 0 : (__mmask16) ((1u << n) - 1);
}
#else
typedef int64_t OshLanes;
static inline OshLanes
osh_simd_lanes (int64_t n)
{
  return n >= OSH_VW ? OSH_VW : n <= 0 ? 0 : n;
}
#endif

/* p[0, n) into the first n lanes (n from osh_simd_lanes), zeros after; reads nothing past p + n. */
static inline OshVec
osh_simd_load_n (const float *p, OshLanes n)
{
#if OSH_VW == 16
  return (OshVec) _mm512_maskz_loadu_ps (n, p);
#else
  if (n >= OSH_VW) /* the common case, and a masked access is slow on some CPUs */
    return OSH_VLOAD (p);
#if OSH_VW == 8
  return (OshVec) _mm256_maskload_ps (p, (__m256i) (osh_simd_iota () < (int32_t) n));
#else
  OshVec v = { 0 };
  for (int64_t l = 0; l < n; l++)
    v[l] = p[l];
  return v;
#endif
#endif
}

/* The first n lanes of v into p[0, n); writes nothing past it. */
static inline void
osh_simd_store_n (float *p, OshVec v, OshLanes n)
{
#if OSH_VW == 16
  _mm512_mask_storeu_ps (p, n, (__m512) v);
#else
  if (n >= OSH_VW)
    OSH_VREF (p) = v;
  else
#if OSH_VW == 8
    _mm256_maskstore_ps (p, (__m256i) (osh_simd_iota () < (int32_t) n), (__m256) v);
#else
    for (int64_t l = 0; l < n; l++)
      p[l] = v[l];
#endif
#endif
}

/* p[l · stride] for the first n lanes, zeros after (a channels-first residual). */
static inline OshVec
osh_simd_gather_n (const float *p, int64_t stride, OshLanes n)
{
#if OSH_VW == 16
  __m512i idx = _mm512_mullo_epi32 ((__m512i) osh_simd_iota (), _mm512_set1_epi32 ((int) stride));
  return (OshVec) _mm512_mask_i32gather_ps (_mm512_setzero_ps (), n, idx, p, 4);
#else
  OshVec v = { 0 };
  for (int64_t l = 0; l < n; l++)
    v[l] = p[l * stride];
  return v;
#endif
}

/* The first n lanes of v to p[l · stride] (a channels-first output). */
static inline void
osh_simd_scatter_n (float *p, int64_t stride, OshVec v, OshLanes n)
{
#if OSH_VW == 16
  __m512i idx = _mm512_mullo_epi32 ((__m512i) osh_simd_iota (), _mm512_set1_epi32 ((int) stride));
  _mm512_mask_i32scatter_ps (p, n, idx, (__m512) v, 4);
#else
  for (int64_t l = 0; l < n; l++)
    p[l * stride] = v[l];
#endif
}

/* take ? a : b, lane by lane (take from a comparison: all ones or all zeros) */
static inline OshVec
osh_simd_select (OshVeci take, OshVec a, OshVec b)
{
  return (OshVec) (((OshVeci) a & take) | ((OshVeci) b & ~take));
}

/* min (max (v, lo), hi); NaN stays NaN */
static inline OshVec
osh_simd_clamp (OshVec v, float lo, float hi)
{
  OshVec vlo = osh_simd_splat (lo), vhi = osh_simd_splat (hi);
#if OSH_VW == 16
  /* max and min return their second operand when either is NaN: one instruction a side, where
   * the select below is a compare and two masked moves (a 1×1 convolution with few input
   * channels spent a tenth of its time here). */
  v = (OshVec) _mm512_max_ps ((__m512) vlo, (__m512) v);
  return (OshVec) _mm512_min_ps ((__m512) vhi, (__m512) v);
#elif OSH_VW == 8
  v = (OshVec) _mm256_max_ps ((__m256) vlo, (__m256) v);
  return (OshVec) _mm256_min_ps ((__m256) vhi, (__m256) v);
#else
  v = osh_simd_select (v < vlo, vlo, v);
  return osh_simd_select (v > vhi, vhi, v);
#endif
}

/* 2^f for f in [0, 1): a degree-5 polynomial fitted for least maximum relative error
 * (tools/reference/exp2-fit.py; 1.6e-7 in float arithmetic). */
static inline OshVec
osh_simd_exp2_unit (OshVec f)
{
  OshVec p = f * 1.877572737e-03f + 8.989344351e-03f;
  p = p * f + 5.582631752e-02f;
  p = p * f + 2.401536107e-01f;
  p = p * f + 6.931530833e-01f;
  return p * f + 9.999999404e-01f;
}

/* 1 / (1 + e^-v), times v when `times_v` (swish). Folded into every convolution of an
 * EfficientNet, so each instruction counts: e^-v = 2^z with z = -v·log2 e, split into its floor
 * n and the fraction f = z - n, 2^f from the polynomial. With AVX-512, reduce gives f in one step
 * and scalef applies n, so v is clamped below at -87 only (where 2^z would overflow); elsewhere
 * 2^n is made in the exponent bits, so v is clamped to ±87 (beyond, e^-v is below float's
 * resolution next to 1). The reciprocal is an estimate refined by one Newton step (cheaper than
 * a division); the portable path divides. About 5e-7 relative in all. */
static inline OshVec
osh_simd_sigmoid (OshVec v, int times_v)
{
#if OSH_VW == 16
  __m512 x = _mm512_max_ps (_mm512_set1_ps (-87.0f), (__m512) v); /* v second: NaN stays NaN */
  __m512 z = _mm512_mul_ps (x, _mm512_set1_ps (-1.44269504088896341f));
  __m512 f = _mm512_reduce_ps (z, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 d = _mm512_add_ps (_mm512_scalef_ps ((__m512) osh_simd_exp2_unit ((OshVec) f), z),
                            _mm512_set1_ps (1.0f));
  __m512 y = _mm512_rcp14_ps (d);
  __m512 newton = _mm512_fnmadd_ps (d, y, _mm512_set1_ps (2.0f));
  return (OshVec) _mm512_mul_ps (times_v ? _mm512_mul_ps ((__m512) v, y) : y, newton);
#else
  OshVec x = osh_simd_clamp (v, -87.0f, 87.0f);
  OshVec z = x * -1.44269504088896341f;
#if OSH_VW == 8
  OshVec n = (OshVec) _mm256_floor_ps ((__m256) z);
#else
  const float magic = 12582912.0f; /* 1.5 · 2^23: adding it rounds to an integer */
  OshVec n = (z + magic) - magic;
  n = osh_simd_select (n > z, n - 1.0f, n);
#endif
  OshVeci e = (__builtin_convertvector(n, OshVeci) + 127) << 23;
  OshVec d = osh_simd_exp2_unit (z - n) * (OshVec) e + 1.0f;
#if OSH_VW == 8
  OshVec y = (OshVec) _mm256_rcp_ps ((__m256) d);
  y = y * (2.0f - d * y);
#else
  OshVec y = 1.0f / d;
#endif
  if (times_v)
    y *= v;
  return y;
#endif
}

static inline __attribute__ ((always_inline)) OshVec
osh_epilogue_apply (const OshEpilogue *e, OshVec v)
{
  switch (e->kind)
    {
    case OSH_EPILOGUE_CLAMP: return osh_simd_clamp (v, e->lo, e->hi);
    case OSH_EPILOGUE_SIGMOID: return osh_simd_sigmoid (v, 0);
    case OSH_EPILOGUE_SWISH: return osh_simd_sigmoid (v, 1);
    case OSH_EPILOGUE_HARD_SIGMOID:
    case OSH_EPILOGUE_HARD_SWISH:
      {
        OshVec z = osh_simd_clamp (v * e->a + e->b, e->lo, e->hi);
        if (e->kind == OSH_EPILOGUE_HARD_SWISH)
          z = z * v + e->c;
        return z;
      }
    case OSH_EPILOGUE_NONE:
    default: return v;
    }
}
