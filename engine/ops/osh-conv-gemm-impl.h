/* osh-conv-gemm-impl.h — the packed convolution's inside, shared by the plan-time code
 * (osh-conv-gemm.c: packing, dispatch) and the micro-kernels compiled once per path
 * (osh-conv-gemm-kernel.c). The packing depends on the path: panels of nr = two vectors of
 * output channels, tiles of mr pixels (as many accumulators as the path has registers for). */
#pragma once

#include "osh-conv-gemm.h"
#include "osh-isa.h"

enum
{
  OSH_CONV_GEMM_MAX_TAPS = 64 /* direct mode keeps mr pointers per tap on the stack */
};

struct OshConvGemm
{
  OshConvShape s;
  OshIsa isa;     /* the path it was packed for */
  int64_t nr, mr; /* that path's panel width and tile height */
  int64_t cg, og, K, panels, blocks;
  bool gather;       /* im2col one tile at a time instead of reading through tap pointers */
  bool rowwise;      /* a tap is a kernel row: kw · cg adjacent floats */
  bool pointwise;    /* 1×1, stride 1, no padding, read in place: pixel p's row is input pixel p */
  int64_t taps, len; /* what the tile's loops run over: taps, each len rows of the panel */
  bool block_major;  /* all panels of a pixel block before the next block */
  OshEpilogue ep;
  float *packed; /* [groups][panels][K][nr] */
  float *bias;   /* [groups][panels][nr] */
  float *zeros;  /* len zeros: the row of a padding tap */
};

/* Whether a squeeze-excite scale (OshConvGemmExtras.scale) is applied to a copy of the input
 * rather than of the packed kernel: whichever is smaller. */
static inline bool
osh_conv_gemm_scales_input (const OshConvGemm *c)
{
  return c->s.ih * c->s.iw * c->s.cin < c->s.groups * c->panels * c->K * c->nr;
}

/* n floats, zeroed, 64-byte aligned; NULL when memory runs out. */
float *osh_conv_gemm_alloc_floats (int64_t n);

OSH_ISA_DECLARE (void, osh_conv_gemm_run_with,
                 (const OshConvGemm *c, const float *in, const OshConvGemmExtras *x, float *out,
                  int threads));
OSH_ISA_DECLARE (void, osh_conv_gemm_run_planar_in,
                 (const OshConvGemm *c, const float *in, float *out, int threads));
OSH_ISA_DECLARE (void, osh_conv_gemm_run_pixels,
                 (const OshConvGemm *c, const float *in, int64_t p0, int64_t count, float *out));
