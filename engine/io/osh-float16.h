/* osh-float16.h — IEEE half precision to float, for the readers whose files store float16
 * weights (ONNX initializers, TF.js manifests). */
#pragma once

#include <math.h>
#include <stdint.h>

static inline float
osh_half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0)
    v = ldexpf ((float) mant, -24); /* subnormal */
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = ldexpf ((float) (mant | 0x400), (int) exp - 25);
  return sign ? -v : v;
}
