/* osh-tensor-stats.c — min/max/mean/std and NaN/Inf counts in one pass. */
#include "osh-tensor-stats.h"

#include <math.h>

void
osh_tensor_stats (const float *data, int64_t n, OshTensorStats *out)
{
  *out = (OshTensorStats){ .count = n > 0 ? n : 0 };
  double mean = 0, m2 = 0;
  for (int64_t i = 0; i < n; i++)
    {
      float v = data[i];
      if (isnan (v))
        {
          out->n_nan++;
          continue;
        }
      if (isinf (v))
        {
          out->n_inf++;
          continue;
        }
      if (out->finite == 0 || v < out->min)
        out->min = v;
      if (out->finite == 0 || v > out->max)
        out->max = v;
      out->finite++;
      double d = v - mean;
      mean += d / (double) out->finite;
      m2 += d * (v - mean);
    }
  out->mean = mean;
  out->std = out->finite > 0 ? sqrt (m2 / (double) out->finite) : 0;
}
