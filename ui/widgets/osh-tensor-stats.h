/* osh-tensor-stats.h — summary statistics of a float buffer (weights, activations).
 *
 *   OshTensorStats s;
 *   osh_tensor_stats (t->data, osh_tensor_numel (t), &s);
 *   printf ("min %g max %g mean %g std %g, %lld NaN\n", s.min, s.max, s.mean, s.std,
 *           (long long) s.n_nan);
 *
 * NaN and ±Inf are counted and left out of min/max/mean/std, which describe the finite
 * values (all zero when there are none). The mean and variance use Welford's update, in
 * double, so long buffers of float32 do not lose precision.
 */
#pragma once

#include <stdint.h>

typedef struct
{
  int64_t count;  /* all values */
  int64_t finite; /* values that are neither NaN nor ±Inf */
  int64_t n_nan, n_inf;
  double min, max, mean, std; /* over the finite values; std is the population deviation */
} OshTensorStats;

void osh_tensor_stats (const float *data, int64_t n, OshTensorStats *out);
