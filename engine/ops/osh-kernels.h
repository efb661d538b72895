/* osh-kernels.h — the per-path variants of the kernels compiled once per instruction set
 * (osh-simd.h), for the dispatchers (osh-kernels.c, osh-conv-gemm.c, osh-depthwise.c). */
#pragma once

#include <stdint.h>

#include "osh-epilogue.h"
#include "osh-isa.h"
#include "osh-op.h"

OSH_ISA_DECLARE (void, osh_vec_epilogue, (const OshEpilogue *e, float *x, int64_t n));

/* Output rows [begin, end) of a channels-last pooling: window w over `ch` channels. */
typedef struct
{
  const OshWindow2D *w;
  int64_t ch;
  bool max;
  const float *in;
  float *out;
} OshPoolJob;
OSH_ISA_DECLARE (void, osh_pool_rows, (const OshPoolJob *j, int64_t begin, int64_t end));
