/* Max and average pooling over channels-last rows (pool.c's osh_pool_channels_last), compiled
 * once per path (osh-simd.h) so each CPU sums a whole vector register of channels at a time. */
#include <math.h>

#include "osh-kernels.h"
#include "osh-simd.h"

void
OSH_ISA_FN (osh_pool_rows) (const OshPoolJob *j, int64_t begin, int64_t end)
{
  const OshWindow2D *w = j->w;
  int64_t ch = j->ch;
  for (int64_t row = begin; row < end; row++)
    {
      int64_t n = row / w->oh, oy = row % w->oh;
      const float *img = j->in + n * w->ih * w->iw * ch;
      for (int64_t ox = 0; ox < w->ow; ox++)
        {
          float *restrict o = j->out + (row * w->ow + ox) * ch;
          int64_t y0 = oy * w->sh - w->ph, x0 = ox * w->sw - w->pw;
          int64_t y1 = y0 + w->kh, x1 = x0 + w->kw;
          y0 = y0 < 0 ? 0 : y0;
          x0 = x0 < 0 ? 0 : x0;
          y1 = y1 > w->ih ? w->ih : y1;
          x1 = x1 > w->iw ? w->iw : x1;
          /* Keras averages over the window's real pixels only. */
          float inv = 1.0f / (float) ((y1 - y0) * (x1 - x0));
          int64_t c = 0;
          /* A vector of channels at a time, summed in a register over the whole window. */
          for (; c + OSH_VW <= ch; c += OSH_VW)
            {
              OshVec acc = osh_simd_splat (j->max ? -INFINITY : 0.0f);
              for (int64_t y = y0; y < y1; y++)
                for (int64_t x = x0; x < x1; x++)
                  {
                    OshVec v = OSH_VLOAD (img + (y * w->iw + x) * ch + c);
                    if (j->max)
                      acc = osh_simd_select (v > acc, v, acc);
                    else
                      acc += v;
                  }
              if (!j->max)
                acc *= inv;
              OSH_VREF (o + c) = acc;
            }
          for (; c < ch; c++)
            {
              float acc = j->max ? -INFINITY : 0.0f;
              for (int64_t y = y0; y < y1; y++)
                for (int64_t x = x0; x < x1; x++)
                  {
                    float v = img[(y * w->iw + x) * ch + c];
                    acc = j->max ? (v > acc ? v : acc) : acc + v;
                  }
              o[c] = j->max ? acc : acc * inv;
            }
        }
    }
}
