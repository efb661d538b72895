/* osh-kernels.h — the per-path variants of the kernels compiled once per instruction set
 * (osh-simd.h), for the dispatchers (osh-kernels.c, osh-conv-gemm.c, osh-depthwise.c). */
#pragma once

#include <stdint.h>

#include "osh-epilogue.h"
#include "osh-isa.h"

OSH_ISA_DECLARE (void, osh_vec_epilogue, (const OshEpilogue *e, float *x, int64_t n));
