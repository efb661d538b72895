/* Implicit-GEMM convolution on channels-last data (see osh-conv-gemm.h).
 *
 * The product is out[pixel, m] = bias[m] + sum over taps and input channels of
 * in[tap pixel, ci] * W[tap, ci, m]. The kernel is packed into panels of NR output channels (two
 * vectors of the path the plan chose, osh-isa.h: 32 with AVX-512, 16 with AVX2), K = kh * kw *
 * cin/groups rows each, so the micro-kernel reads it as two vectors per row. A tile of MR output
 * pixels (12 with AVX-512, 6 with AVX2) by one panel keeps its accumulators in registers over the
 * whole K and
 * reads the input through one pointer per pixel and tap (a shared zero row stands for padding).
 * The output is written channels-last, or channels-first by scattering each vector over its planes.
 * Pixels are cut into blocks of equal size (at most MR). A kernel that fits in L2 is run block
 * by block (each block's output rows written whole); a larger one panel by panel, every pixel
 * block passing over a panel while it is in L2, each asking for a share of the next panel so
 * that it streams in spread over the current one's blocks. Inputs
 * with few channels per group would make a short inner loop per tap, leaving the FMA units idle:
 * with dense rows (one group, no horizontal dilation) a tap is a whole kernel row instead, kw
 * adjacent pixels read as one run (copied, with zeros, only where it crosses the border);
 * otherwise the tile is gathered first (im2col of one tile). A channels-first input of a few
 * colour planes (planar_in, AVX-512 only) is read as it is by a kernel turned around: a vector
 * of neighbouring pixels times a broadcast weight, transposed in registers on the way out, so an
 * ONNX stem needs no transpose of its input. This file packs and dispatches; the
 * kernels, compiled once per path, are in osh-conv-gemm-kernel.c. */
#include "osh-conv-gemm.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osh-conv-gemm-impl.h"

OshKernelStrides
osh_kernel_strides_keras (const OshConvShape *s)
{
  int64_t cg = s->cin / s->groups;
  return (
      OshKernelStrides){ .ky = s->kw * cg * s->cout, .kx = cg * s->cout, .ci = s->cout, .m = 1 };
}

OshKernelStrides
osh_kernel_strides_onnx (const OshConvShape *s)
{
  int64_t cg = s->cin / s->groups;
  return (OshKernelStrides){ .ky = s->kw, .kx = 1, .ci = s->kh * s->kw, .m = cg * s->kh * s->kw };
}

enum
{
  MIN_DIRECT = 16, /* fewer input channels per group than this: gather the tile first */
};

float *
osh_conv_gemm_alloc_floats (int64_t n)
{
  size_t bytes = ((size_t) n * sizeof (float) + 63) & ~(size_t) 63;
  float *p = aligned_alloc (64, bytes ? bytes : 64);
  if (p)
    memset (p, 0, bytes);
  return p;
}

OshConvGemm *
osh_conv_gemm_new (const OshConvShape *s, const float *kernel, OshKernelStrides ks,
                   const float *bias)
{
  /* The baseline path keeps the callers' im2col and OpenBLAS, whose own kernels are chosen
   * for the CPU at run time: faster there than 4-lane products. */
  OshIsa isa = osh_isa_current ();
  if (isa == OSH_ISA_BASELINE || s->groups < 1 || s->cin % s->groups || s->cout % s->groups)
    return NULL;
  int64_t vw = isa == OSH_ISA_AVX512 ? 16 : 8, nr = 2 * vw, mr = vw == 16 ? 12 : 6;
  int64_t cg = s->cin / s->groups, og = s->cout / s->groups, taps = s->kh * s->kw;
  /* Narrow groups would leave most of each 32-wide panel empty, which only a few output pixels
   * (squeeze-excite's 1×1 products, read-bound on the weights anyway) can afford. */
  if (cg < 1 || (og < vw && s->batch * s->oh * s->ow > 16))
    return NULL;
  if (s->planar_out && s->oh * s->ow > INT32_MAX / vw)
    return NULL; /* the scatter's lane offsets are 32-bit */
  /* AVX2's 8 × 8 blocks measured slower than its channels-last kernel after the transpose
   * (stem of MobileNetV3-Small: 0.36 ms against 0.30), so only AVX-512 reads planar; and only
   * up to one panel of outputs (16 or 32 channels: MobileNetV3's, V2's and EfficientNet's
   * stems gain 0.04-0.09 ms), since full panels keep the channels-last kernel busy (ResNet's 7×7
   * stem to 64 channels: 2.20 ms planar against 2.05 with the transpose). */
  if (s->planar_in
      && (isa != OSH_ISA_AVX512 || s->cout > nr || s->planar_out || s->groups != 1 || s->sw < 1
          || s->sw > 2 || s->dw != 1
          || s->cin * s->kh * (s->iw + (s->ow + vw) * s->sw + s->kw + vw) > 1024 * 1024))
    return NULL;
  bool rowwise = cg < MIN_DIRECT && s->groups == 1 && s->dw == 1 && s->kw * cg >= 8
                 && s->kh <= OSH_CONV_GEMM_MAX_TAPS;
  bool gather = !rowwise && (cg < MIN_DIRECT || taps > OSH_CONV_GEMM_MAX_TAPS);
  int64_t K = taps * cg;
  if ((gather || rowwise) && K * mr * (int64_t) sizeof (float) > 256 * 1024)
    return NULL; /* bounds the tile's copies */
  OshConvGemm *c = calloc (1, sizeof *c);
  if (!c)
    return NULL;
  c->s = *s;
  c->isa = isa;
  c->nr = nr;
  c->mr = mr;
  c->cg = cg;
  c->og = og;
  c->K = K;
  c->gather = gather;
  c->rowwise = rowwise;
  c->pointwise = !gather && s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0
                 && s->pw == 0 && s->ih == s->oh && s->iw == s->ow;
  c->taps = gather ? 1 : rowwise ? s->kh : taps;
  c->len = gather ? K : rowwise ? s->kw * cg : cg;
  c->panels = (og + nr - 1) / nr;
  c->blocks = (s->oh * s->ow + mr - 1) / mr;
  /* A whole kernel that stays in L2 lets each block's output rows be written whole while they
   * are in cache; a larger one is better read one panel at a time, every block passing over it. */
  c->block_major =
      gather || rowwise || K * c->panels * nr * (int64_t) sizeof (float) <= 1024 * 1024;
  c->ep = osh_epilogue_none ();
  c->packed = osh_conv_gemm_alloc_floats (s->groups * c->panels * K * nr);
  c->bias = osh_conv_gemm_alloc_floats (s->groups * c->panels * nr);
  c->zeros = osh_conv_gemm_alloc_floats (c->len);
  if (!c->packed || !c->bias || !c->zeros)
    {
      osh_conv_gemm_free (c);
      return NULL;
    }
  for (int64_t grp = 0; grp < s->groups; grp++)
    for (int64_t j = 0; j < c->panels; j++)
      {
        float *panel = c->packed + (grp * c->panels + j) * K * nr;
        for (int64_t col = 0; col < nr && j * nr + col < og; col++)
          {
            int64_t m = grp * og + j * nr + col;
            if (bias)
              c->bias[(grp * c->panels + j) * nr + col] = bias[m];
            for (int64_t ky = 0; ky < s->kh; ky++)
              for (int64_t kx = 0; kx < s->kw; kx++)
                for (int64_t ci = 0; ci < cg; ci++)
                  {
                    int64_t k = (ky * s->kw + kx) * cg + ci;
                    panel[k * nr + col] = kernel[ky * ks.ky + kx * ks.kx + ci * ks.ci + m * ks.m];
                  }
          }
      }
  return c;
}

void
osh_conv_gemm_fold_affine (OshConvGemm *c, const float *scale, const float *shift)
{
  const OshConvShape *s = &c->s;
  for (int64_t grp = 0; grp < s->groups; grp++)
    for (int64_t j = 0; j < c->panels; j++)
      {
        float *panel = c->packed + (grp * c->panels + j) * c->K * c->nr;
        float *bias = c->bias + (grp * c->panels + j) * c->nr;
        for (int64_t col = 0; col < c->nr && j * c->nr + col < c->og; col++)
          {
            int64_t m = grp * c->og + j * c->nr + col;
            bias[col] = bias[col] * scale[m] + shift[m];
            for (int64_t k = 0; k < c->K; k++)
              panel[k * c->nr + col] *= scale[m];
          }
      }
}

bool
osh_conv_gemm_set_epilogue (OshConvGemm *c, const OshEpilogue *e)
{
  if (osh_conv_gemm_has_epilogue (c))
    return false;
  c->ep = *e;
  return true;
}

bool
osh_conv_gemm_has_epilogue (const OshConvGemm *c)
{
  return c->ep.kind != OSH_EPILOGUE_NONE;
}

void
osh_conv_gemm_free (OshConvGemm *c)
{
  if (!c)
    return;
  free (c->packed);
  free (c->bias);
  free (c->zeros);
  free (c);
}

void
osh_conv_gemm_run (const OshConvGemm *c, const float *in, float *out, int threads)
{
  osh_conv_gemm_run_with (c, in, NULL, out, threads);
}

void
osh_conv_gemm_run_with (const OshConvGemm *c, const float *in, const OshConvGemmExtras *x,
                        float *out, int threads)
{
  if (c->s.planar_in) /* no extras: the planner does not offer them (osh-conv-gemm.h) */
    OSH_ISA_DISPATCH (c->isa, osh_conv_gemm_run_planar_in, (c, in, out, threads));
  else
    OSH_ISA_DISPATCH (c->isa, osh_conv_gemm_run_with, (c, in, x, out, threads));
}

void
osh_conv_gemm_run_pixels (const OshConvGemm *c, const float *in, int64_t p0, int64_t count,
                          float *out)
{
  OSH_ISA_DISPATCH (c->isa, osh_conv_gemm_run_pixels, (c, in, p0, count, out));
}

void
osh_conv_gemm_feed_rows (void *rows, int64_t iy, int64_t n, float *out)
{
  const OshConvGemmRows *r = rows;
  int64_t ow = r->cg->s.ow;
  osh_conv_gemm_run_pixels (r->cg, r->in, iy * ow, n * ow, out);
}

int64_t
osh_conv_gemm_work_floats (const OshConvGemm *c)
{
  int64_t copy = osh_conv_gemm_scales_input (c) ? c->s.ih * c->s.iw * c->s.cin
                                                : c->s.groups * c->panels * c->K * c->nr;
  return copy + 16; /* room to align to 64 bytes */
}
