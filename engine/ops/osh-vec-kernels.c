/* The element-wise epilogue over an array, compiled once per path (osh-simd.h); osh-kernels.c
 * calls the current path's. */
#include "osh-kernels.h"
#include "osh-simd.h"

void
OSH_ISA_FN (osh_vec_epilogue) (const OshEpilogue *e, float *x, int64_t n)
{
  int64_t i = 0;
  for (; i + OSH_VW <= n; i += OSH_VW)
    OSH_VREF (x + i) = osh_epilogue_apply (e, OSH_VLOAD (x + i));
  if (i < n)
    {
      OshLanes tail = osh_simd_lanes (n - i);
      osh_simd_store_n (x + i, osh_epilogue_apply (e, osh_simd_load_n (x + i, tail)), tail);
    }
}
