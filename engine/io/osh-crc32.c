/* CRC-32 (zip's, zlib's crc32) of large buffers: carry-less multiplication folding 64 bytes a
 * step where the CPU has PCLMULQDQ (every x86-64 since 2010), zlib otherwise and for the ends.
 * The folding constants and the final Barrett reduction are those of Intel's "Fast CRC
 * Computation for Generic Polynomials Using PCLMULQDQ Instruction" (2009) for the reflected
 * polynomial 0xEDB88320; verified against zlib by tests/readers/test-weights-in-place.c. */
#include "osh-crc32.h"

#include <zlib.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define CLMUL __attribute__ ((target ("pclmul,sse4.1")))

/* x·k folded over the 128 bits that follow: (x.lo × k.lo) ^ (x.hi × k.hi) ^ next. */
CLMUL static inline __m128i
fold (__m128i x, __m128i k, __m128i next)
{
  return _mm_xor_si128 (
      _mm_xor_si128 (_mm_clmulepi64_si128 (x, k, 0x00), _mm_clmulepi64_si128 (x, k, 0x11)), next);
}

/* `len` >= 64, a multiple of 16; `crc` as zlib's crc32 takes and returns it. */
CLMUL static uint32_t
crc32_clmul (uint32_t crc, const unsigned char *p, size_t len)
{
  const __m128i k1k2 = _mm_set_epi64x (0x1c6e41596, 0x154442bd4);
  const __m128i k3k4 = _mm_set_epi64x (0x0ccaa009e, 0x1751997d0);
  const __m128i k5 = _mm_set_epi64x (0, 0x163cd6124);
  const __m128i poly = _mm_set_epi64x (0x1f7011641, 0x1db710641);
  const __m128i mask32 = _mm_set_epi32 (0, 0, 0, -1);
  __m128i x1 = _mm_loadu_si128 ((const __m128i *) p);
  __m128i x2 = _mm_loadu_si128 ((const __m128i *) (p + 16));
  __m128i x3 = _mm_loadu_si128 ((const __m128i *) (p + 32));
  __m128i x4 = _mm_loadu_si128 ((const __m128i *) (p + 48));
  x1 = _mm_xor_si128 (x1, _mm_cvtsi32_si128 ((int) ~crc));
  p += 64;
  len -= 64;
  for (; len >= 64; p += 64, len -= 64)
    {
      x1 = fold (x1, k1k2, _mm_loadu_si128 ((const __m128i *) p));
      x2 = fold (x2, k1k2, _mm_loadu_si128 ((const __m128i *) (p + 16)));
      x3 = fold (x3, k1k2, _mm_loadu_si128 ((const __m128i *) (p + 32)));
      x4 = fold (x4, k1k2, _mm_loadu_si128 ((const __m128i *) (p + 48)));
    }
  x1 = fold (x1, k3k4, x2);
  x1 = fold (x1, k3k4, x3);
  x1 = fold (x1, k3k4, x4);
  for (; len >= 16; p += 16, len -= 16)
    x1 = fold (x1, k3k4, _mm_loadu_si128 ((const __m128i *) p));
  /* 128 bits to 64, then to 32, then the Barrett reduction to the remainder. */
  x1 = _mm_xor_si128 (_mm_srli_si128 (x1, 8), _mm_clmulepi64_si128 (k3k4, x1, 0x01));
  __m128i x = _mm_and_si128 (x1, mask32);
  x1 = _mm_xor_si128 (_mm_srli_si128 (x1, 4), _mm_clmulepi64_si128 (x, k5, 0x00));
  x = _mm_and_si128 (x1, mask32);
  x = _mm_and_si128 (_mm_clmulepi64_si128 (x, poly, 0x10), mask32);
  x1 = _mm_xor_si128 (x1, _mm_clmulepi64_si128 (x, poly, 0x00));
  return ~(uint32_t) _mm_extract_epi32 (x1, 1);
}
#endif

uint32_t
osh_crc32 (uint32_t crc, const void *data, size_t len)
{
  const unsigned char *p = data;
#if defined(__x86_64__)
  if (len >= 64 && __builtin_cpu_supports ("pclmul") && __builtin_cpu_supports ("sse4.1"))
    {
      size_t bulk = len & ~(size_t) 15;
      crc = crc32_clmul (crc, p, bulk);
      p += bulk;
      len -= bulk;
    }
#endif
  return (uint32_t) crc32_z (crc, p, len);
}
