/* The NCHW depthwise convolution's loops (see onnx-depthwise.c), compiled once per path
 * (osh-simd.h): a vector of adjacent outputs of one row at a time. */
#include <string.h>

#include "onnx-depthwise-impl.h"
#include "osh-simd.h"

/* The even and odd lanes of two vectors side by side (a stride-2 row split in two). */
#if OSH_VW == 16
#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#elif OSH_VW == 8
#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14
#define ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15
#else
#define EVEN_LANES 0, 2, 4, 6
#define ODD_LANES 1, 3, 5, 7
#endif

/* Padded row r (counted from the top padding) of `plane` into dst[0, n): zeros, the input row
 * shifted right by the left padding, zeros. */
static void
padded_row (const OnnxDepthwise *d, const float *plane, int64_t r, float *dst, int64_t n)
{
  int64_t y = r - d->pt, lead = d->pl < n ? d->pl : n;
  int64_t len = y >= 0 && y < d->h ? (d->w < n - lead ? d->w : n - lead) : 0;
  memset (dst, 0, (size_t) lead * sizeof *dst);
  if (len > 0)
    memcpy (dst + lead, plane + y * d->w, (size_t) len * sizeof *dst);
  memset (dst + lead + len, 0, (size_t) (n - lead - len) * sizeof *dst);
}

static void
fill (const OnnxDepthwise *d, const float *plane, float *buf)
{
  int64_t half = d->rows * d->width;
  for (int64_t r = 0; r < d->rows; r++)
    {
      float *row = buf + r * d->width;
      if (d->sw == 1)
        {
          padded_row (d, plane, r, row, d->width);
          continue;
        }
      /* Stride 2: the padded row, twice as wide, in the scratch's tail, split into even and odd
       * columns. */
      float *wide = buf + 2 * half, *odd = row + half;
      padded_row (d, plane, r, wide, 2 * d->width);
      int64_t i = 0;
      for (; i + OSH_VW <= d->width; i += OSH_VW)
        {
          OshVec a = OSH_VLOAD (wide + 2 * i), b = OSH_VLOAD (wide + 2 * i + OSH_VW);
          OSH_VREF (row + i) = __builtin_shufflevector (a, b, EVEN_LANES);
          OSH_VREF (odd + i) = __builtin_shufflevector (a, b, ODD_LANES);
        }
      for (; i < d->width; i++)
        row[i] = wide[2 * i], odd[i] = wide[2 * i + 1];
    }
}

void
OSH_ISA_FN (onnx_depthwise_run) (const OnnxDepthwise *d, const float *x, float *y, float *scratch)
{
  int64_t taps = d->kh * d->kw, mult = d->m / d->c, half = d->rows * d->width;
  for (int64_t k = 0; k < d->m; k++)
    {
      if (k % mult == 0)
        fill (d, x + (k / mult) * d->h * d->w, scratch);
      const float *wk = d->weights + k * taps;
      float bias = d->weights[d->m * taps + k];
      float *out = y + k * d->oh * d->ow;
      for (int64_t oy = 0; oy < d->oh; oy++)
        for (int64_t ox = 0; ox < d->ow; ox += OSH_VW)
          {
            OshVec acc = osh_simd_splat (bias);
            for (int64_t ky = 0; ky < d->kh; ky++)
              {
                const float *row = scratch + (oy * d->sh + ky * d->dh) * d->width;
                for (int64_t kx = 0; kx < d->kw; kx++)
                  {
                    const float *src =
                        d->sw == 1 ? row + ox + kx * d->dw : row + (kx & 1) * half + ox + kx / 2;
                    acc = osh_simd_fma (OSH_VLOAD (src), osh_simd_splat (wk[ky * d->kw + kx]), acc);
                  }
              }
            acc = osh_epilogue_apply (&d->ep, acc);
            float *o = out + oy * d->ow + ox;
            osh_simd_store_n (o, acc, osh_simd_lanes (d->ow - ox));
          }
    }
}
