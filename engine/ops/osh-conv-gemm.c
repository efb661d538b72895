/* Implicit-GEMM convolution on channels-last data (see osh-conv-gemm.h).
 *
 * The product is out[pixel, m] = bias[m] + sum over taps and input channels of
 * in[tap pixel, ci] * W[tap, ci, m]. The kernel is packed into panels of NR = 32 output channels,
 * K = kh * kw * cin/groups rows each, so the micro-kernel reads it as two vectors per row. A tile
 * of MR = 12 output pixels by one panel keeps 24 accumulators in registers over the whole K and
 * reads the input through one pointer per pixel and tap (a shared zero row stands for padding).
 * The output is written channels-last, or channels-first by scattering each vector over 16 planes.
 * Pixels are cut into blocks of equal size (at most MR). A kernel that fits in L2 is run block
 * by block (each block's output rows written whole); a larger one panel by panel, every pixel
 * block passing over a panel while it is in L2, each asking for a share of the next panel so
 * that it streams in spread over the current one's blocks. Inputs
 * with few channels per group would make a short inner loop per tap, leaving the FMA units idle:
 * with dense rows (one group, no horizontal dilation) a tap is a whole kernel row instead, kw
 * adjacent pixels read as one run (copied, with zeros, only where it crosses the border);
 * otherwise the tile is gathered first (im2col of one tile). */
#include "osh-conv-gemm.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"

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

#ifdef __AVX512F__

#include <immintrin.h>

enum
{
  NR = 32,         /* output channels per panel: two AVX-512 vectors */
  MR = 12,         /* output pixels per tile: 24 accumulators of 32 registers */
  MAX_TAPS = 64,   /* direct mode keeps MR pointers per tap on the stack */
  MIN_DIRECT = 16, /* fewer input channels per group than this: gather the tile first */
  PREFETCH = 128   /* kernel rows read ahead */
};

/* The first min (n, 16) of a vector's lanes; none when n ≤ 0. */
static inline __mmask16
lanes (int64_t n)
{
  return n >= 16 ? 0xffff : n <= 0 ? 0 : (__mmask16) ((1u << n) - 1);
}

struct OshConvGemm
{
  OshConvShape s;
  int64_t cg, og, K, panels, blocks;
  bool gather;       /* im2col one tile at a time instead of reading through tap pointers */
  bool rowwise;      /* a tap is a kernel row: kw · cg adjacent floats */
  int64_t taps, len; /* what the tile's loops run over: taps, each len rows of the panel */
  bool block_major;  /* all panels of a pixel block before the next block */
  OshEpilogue ep;
  float *packed; /* [groups][panels][K][NR] */
  float *bias;   /* [groups][panels][NR] */
  float *zeros;  /* cg zeros: the row of a padding tap */
};

static float *
alloc_floats (int64_t n)
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
  if (s->groups < 1 || s->cin % s->groups || s->cout % s->groups)
    return NULL;
  int64_t cg = s->cin / s->groups, og = s->cout / s->groups, taps = s->kh * s->kw;
  /* Narrow groups would leave most of each 32-wide panel empty, which only a few output pixels
   * (squeeze-excite's 1×1 products, read-bound on the weights anyway) can afford. */
  if (cg < 1 || (og < 16 && s->batch * s->oh * s->ow > 16))
    return NULL;
  if (s->planar_out && s->oh * s->ow > INT32_MAX / 16)
    return NULL; /* the scatter's lane offsets are 32-bit */
  bool rowwise =
      cg < MIN_DIRECT && s->groups == 1 && s->dw == 1 && s->kw * cg >= 8 && s->kh <= MAX_TAPS;
  bool gather = !rowwise && (cg < MIN_DIRECT || taps > MAX_TAPS);
  int64_t K = taps * cg;
  if ((gather || rowwise) && K * MR * (int64_t) sizeof (float) > 256 * 1024)
    return NULL; /* bounds the tile's copies */
  OshConvGemm *c = calloc (1, sizeof *c);
  if (!c)
    return NULL;
  c->s = *s;
  c->cg = cg;
  c->og = og;
  c->K = K;
  c->gather = gather;
  c->rowwise = rowwise;
  c->taps = gather ? 1 : rowwise ? s->kh : taps;
  c->len = gather ? K : rowwise ? s->kw * cg : cg;
  c->panels = (og + NR - 1) / NR;
  c->blocks = (s->oh * s->ow + MR - 1) / MR;
  /* A whole kernel that stays in L2 lets each block's output rows be written whole while they
   * are in cache; a larger one is better read one panel at a time, every block passing over it. */
  c->block_major =
      gather || rowwise || K * c->panels * NR * (int64_t) sizeof (float) <= 1024 * 1024;
  c->ep = osh_epilogue_none ();
  c->packed = alloc_floats (s->groups * c->panels * K * NR);
  c->bias = alloc_floats (s->groups * c->panels * NR);
  c->zeros = alloc_floats (c->len);
  if (!c->packed || !c->bias || !c->zeros)
    {
      osh_conv_gemm_free (c);
      return NULL;
    }
  for (int64_t grp = 0; grp < s->groups; grp++)
    for (int64_t j = 0; j < c->panels; j++)
      {
        float *panel = c->packed + (grp * c->panels + j) * K * NR;
        for (int64_t col = 0; col < NR && j * NR + col < og; col++)
          {
            int64_t m = grp * og + j * NR + col;
            if (bias)
              c->bias[(grp * c->panels + j) * NR + col] = bias[m];
            for (int64_t ky = 0; ky < s->kh; ky++)
              for (int64_t kx = 0; kx < s->kw; kx++)
                for (int64_t ci = 0; ci < cg; ci++)
                  {
                    int64_t k = (ky * s->kw + kx) * cg + ci;
                    panel[k * NR + col] = kernel[ky * ks.ky + kx * ks.kx + ci * ks.ci + m * ks.m];
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
        float *panel = c->packed + (grp * c->panels + j) * c->K * NR;
        float *bias = c->bias + (grp * c->panels + j) * NR;
        for (int64_t col = 0; col < NR && j * NR + col < c->og; col++)
          {
            int64_t m = grp * c->og + j * NR + col;
            bias[col] = bias[col] * scale[m] + shift[m];
            for (int64_t k = 0; k < c->K; k++)
              panel[k * NR + col] *= scale[m];
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

/* One tile: `mr` pixel rows × one panel. rows[t * MR + r] is pixel r's input for tap t, `len`
 * floats long. Written so that with a constant mr the compiler keeps acc[][] in registers. With
 * `half`, only the panel's first 16 channels are computed (the last panel of 16, 40 or 80
 * channels, whose second vector would be all padding). */
static inline __attribute__ ((always_inline)) void
tile (const int mr, const bool half, const bool far, const char *pf, int64_t pstep, int64_t taps,
      int64_t len, const float *const *rows, const float *B, const float *bias,
      const OshEpilogue *ep, float *out, const float *res, int64_t ldo, int64_t plane, __mmask16 m0,
      __mmask16 m1)
{
  __m512 acc[MR][2];
  __m512 b0 = _mm512_load_ps (bias), b1 = _mm512_load_ps (bias + 16);
  /* Channels-first: pixel r of channel c at c * plane + r. */
  __m512i idx =
      _mm512_mullo_epi32 (_mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                          _mm512_set1_epi32 ((int) plane));
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++)
    acc[r][0] = b0, acc[r][1] = b1;
  /* A residual is added after the products, its lines asked for now: loaded first, the sums
   * would wait on memory before the first product. */
  if (res && !plane)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          _mm_prefetch ((const char *) (res + r * ldo), _MM_HINT_T0);
          _mm_prefetch ((const char *) (res + r * ldo + 16), _MM_HINT_T0);
        }
    }
  for (int64_t t = 0; t < taps; t++)
    {
      const float *a[MR];
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        a[r] = rows[t * MR + r];
      for (int64_t k = 0; k < len; k++, B += NR)
        {
          if (far) /* a share of the next panel, so it arrives spread over this one's blocks */
            {
              _mm_prefetch (pf, _MM_HINT_T0);
              _mm_prefetch (pf + 64, _MM_HINT_T0);
              pf += pstep;
            }
          else /* the panel streams from memory on its first pass: ask for it ahead of use */
            {
              _mm_prefetch ((const char *) (B + PREFETCH * NR), _MM_HINT_T0);
              _mm_prefetch ((const char *) (B + PREFETCH * NR + 16), _MM_HINT_T0);
            }
          __m512 w0 = _mm512_load_ps (B), w1 = _mm512_load_ps (B + 16);
#pragma GCC unroll 12
          for (int r = 0; r < mr; r++)
            {
              __m512 x = _mm512_set1_ps (a[r][k]);
              acc[r][0] = _mm512_fmadd_ps (x, w0, acc[r][0]);
              if (!half)
                acc[r][1] = _mm512_fmadd_ps (x, w1, acc[r][1]);
            }
        }
    }
  if (res && plane)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          acc[r][0] += _mm512_mask_i32gather_ps (_mm512_setzero_ps (), m0, idx, res + r, 4);
          acc[r][1] +=
              _mm512_mask_i32gather_ps (_mm512_setzero_ps (), m1, idx, res + 16 * plane + r, 4);
        }
    }
  else if (res)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          acc[r][0] += _mm512_maskz_loadu_ps (m0, res + r * ldo);
          acc[r][1] += _mm512_maskz_loadu_ps (m1, res + r * ldo + 16);
        }
    }
  if (plane)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          __m512 v0 = (__m512) osh_epilogue_apply (ep, (OshV16) acc[r][0]);
          __m512 v1 = (__m512) osh_epilogue_apply (ep, (OshV16) acc[r][1]);
          _mm512_mask_i32scatter_ps (out + r, m0, idx, v0, 4);
          _mm512_mask_i32scatter_ps (out + 16 * plane + r, m1, idx, v1, 4);
        }
      return;
    }
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++)
    {
      _mm512_mask_storeu_ps (out + r * ldo, m0,
                             (__m512) osh_epilogue_apply (ep, (OshV16) acc[r][0]));
      if (!half)
        _mm512_mask_storeu_ps (out + r * ldo + 16, m1,
                               (__m512) osh_epilogue_apply (ep, (OshV16) acc[r][1]));
    }
}

/* The tile for a run-time mr; `pf`, when set, is the start of this tile's share of the next
 * panel, pstep bytes of it per row of the product. Two functions, not one flag: the hot loop of
 * the common case (no pf) stays as compact as it can be. */
#define TILE_CASE(n, half, far, pf, pstep)                                                         \
  case n:                                                                                          \
    tile (n, half, far, pf, pstep, taps, len, rows, B, bias, ep, out, res, ldo, plane, m0, m1);    \
    break;
#define TILE_SWITCH(half, far, pf, pstep)                                                          \
  switch (mr)                                                                                      \
    {                                                                                              \
      TILE_CASE (1, half, far, pf, pstep)                                                          \
      TILE_CASE (2, half, far, pf, pstep)                                                          \
      TILE_CASE (3, half, far, pf, pstep)                                                          \
      TILE_CASE (4, half, far, pf, pstep)                                                          \
      TILE_CASE (5, half, far, pf, pstep)                                                          \
      TILE_CASE (6, half, far, pf, pstep)                                                          \
      TILE_CASE (7, half, far, pf, pstep)                                                          \
      TILE_CASE (8, half, far, pf, pstep)                                                          \
      TILE_CASE (9, half, far, pf, pstep)                                                          \
      TILE_CASE (10, half, far, pf, pstep)                                                         \
      TILE_CASE (11, half, far, pf, pstep)                                                         \
      TILE_CASE (12, half, far, pf, pstep)                                                         \
    default: break;                                                                                \
    }

static void
tile_any (int mr, int64_t taps, int64_t len, const float *const *rows, const float *B,
          const float *bias, const OshEpilogue *ep, float *out, const float *res, int64_t ldo,
          int64_t plane, __mmask16 m0, __mmask16 m1)
{
  TILE_SWITCH (false, false, NULL, 0)
}

/* A panel with at most 16 channels left (m1 empty): half the products. */
static void
tile_half (int mr, int64_t taps, int64_t len, const float *const *rows, const float *B,
           const float *bias, const OshEpilogue *ep, float *out, const float *res, int64_t ldo,
           int64_t plane, __mmask16 m0, __mmask16 m1)
{
  TILE_SWITCH (true, false, NULL, 0)
}

static void
tile_far (int mr, const char *pf, int64_t pstep, int64_t taps, int64_t len,
          const float *const *rows, const float *B, const float *bias, const OshEpilogue *ep,
          float *out, const float *res, int64_t ldo, int64_t plane, __mmask16 m0, __mmask16 m1)
{
  TILE_SWITCH (false, true, pf, pstep)
}
#undef TILE_SWITCH
#undef TILE_CASE

/* Panel j of group grp over one tile of mr pixels whose rows are set up (tile_rows): the lanes
 * a panel past the group's last output channel leaves empty, its packed kernel (from `packed`:
 * c->packed or a scaled copy) and bias. With share < 0 the tile reads its own panel ahead (its
 * first pass over it); else it asks for part `share` of c->blocks of the next panel, so that
 * panel arrives spread over this one's blocks instead of stalling the next panel's first. */
static void
panel_tile (const OshConvGemm *c, const float *packed, int64_t grp, int64_t j, int64_t mr,
            const float *const *rows, float *out, const float *res, int64_t plane, int64_t share)
{
  int64_t valid = c->og - j * NR, panel = grp * c->panels + j, floats = c->K * NR;
  int64_t taps = c->taps, len = c->len;
  const float *B = packed + panel * floats;
  if (share < 0)
    {
      (valid <= 16 && !plane ? tile_half : tile_any) (
          (int) mr, taps, len, rows, B, c->bias + panel * NR, &c->ep, out, res, c->s.cout, plane,
          lanes (valid), lanes (valid - 16));
      return;
    }
  int64_t next = (panel + 1) % (c->s.groups * c->panels);
  int64_t part = (floats * (int64_t) sizeof (float) + c->blocks - 1) / c->blocks;
  tile_far ((int) mr, (const char *) (packed + next * floats) + share * part,
            (part + c->K - 1) / c->K, taps, len, rows, B, c->bias + panel * NR, &c->ep, out, res,
            c->s.cout, plane, lanes (valid), lanes (valid - 16));
}

/* Where block b of `blocks` over n pixels starts: blocks of equal size (49 pixels: 10, 10, 10,
 * 10, 9), since a last block of a pixel or two would cost nearly a whole tile's kernel traffic
 * for little work, and run at the FMA latency rather than its throughput. */
static inline int64_t
block_start (int64_t b, int64_t blocks, int64_t n)
{
  return b * n / blocks;
}

typedef struct
{
  const OshConvGemm *c;
  const float *packed; /* c->packed, or a scaled copy */
  const float *in;
  const float *residual; /* or NULL */
  float *out;
} Job;

/* Pixel r's kernel rows when rowwise: a pointer per kernel row into the image when the whole
 * window is inside it (most pixels: no test per row), else each row checked, those crossing
 * the border copied with zeros into `to` (kh rows of len floats). */
static void
pixel_kernel_rows (const OshConvGemm *c, const float *img, int64_t oy, int64_t ox, int64_t r,
                   const float **rows, float *to)
{
  const OshConvShape *s = &c->s;
  int64_t iy0 = oy * s->sh - s->ph, ix0 = ox * s->sw - s->pw, step = s->dh * s->iw * s->cin;
  const float *base = img + (iy0 * s->iw + ix0) * s->cin;
  bool cols_inside = ix0 >= 0 && ix0 + s->kw <= s->iw;
  if (cols_inside && iy0 >= 0 && iy0 + (s->kh - 1) * s->dh < s->ih)
    {
      for (int64_t ky = 0; ky < s->kh; ky++)
        rows[ky * MR + r] = base + ky * step;
      return;
    }
  for (int64_t ky = 0; ky < s->kh; ky++, to += c->len)
    {
      int64_t iy = iy0 + ky * s->dh;
      if (iy < 0 || iy >= s->ih)
        rows[ky * MR + r] = c->zeros;
      else if (cols_inside)
        rows[ky * MR + r] = base + ky * step;
      else /* across the border: padding as zeros */
        {
          for (int64_t kx = 0; kx < s->kw; kx++)
            {
              int64_t ix = ix0 + kx;
              const float *src =
                  ix >= 0 && ix < s->iw ? img + (iy * s->iw + ix) * s->cin : c->zeros;
              for (int64_t ci = 0; ci < c->cg; ci++)
                to[kx * c->cg + ci] = src[ci];
            }
          rows[ky * MR + r] = to;
        }
    }
}

/* Rows of a tile for pixels [p0, p0 + mr): one pointer per pixel and tap into the image (or the
 * zero row; a kernel row's run when rowwise, copied into `col` at the border), or, when
 * gathering, the pixels' whole input rows copied into `col`. */
static void
tile_rows (const OshConvGemm *c, const float *img, int64_t p0, int64_t mr, const float **rows,
           float *col)
{
  const OshConvShape *s = &c->s;
  int64_t cg = c->cg;
  /* Pixel p0's row and column once, then stepped: a 64-bit division per pixel cost more than
   * the copies on a 3-channel stem. */
  int64_t oy = p0 / s->ow, ox = p0 % s->ow;
  for (int64_t r = 0; r < mr; r++, ox = ox + 1 < s->ow ? ox + 1 : (oy++, 0))
    {
      float *dst = col ? col + r * c->K : NULL;
      if (c->rowwise)
        {
          pixel_kernel_rows (c, img, oy, ox, r, rows, dst);
          continue;
        }
      for (int64_t ky = 0, t = 0; ky < s->kh; ky++)
        {
          int64_t iy = oy * s->sh - s->ph + ky * s->dh, ix0 = ox * s->sw - s->pw;
          bool inside = iy >= 0 && iy < s->ih;
          if (dst && inside && s->dw == 1 && s->groups == 1 && ix0 >= 0 && ix0 + s->kw <= s->iw)
            {
              /* A kernel row reads kw adjacent pixels: one copy, a few vectors long (a call to
               * memcpy per row cost as much as the products on a 3-channel stem). */
              const float *src = img + (iy * s->iw + ix0) * s->cin;
              float *to = dst + t * cg;
              for (int64_t q = 0, len = s->kw * cg; q < len; q += 16)
                {
                  __mmask16 m = lanes (len - q);
                  _mm512_mask_storeu_ps (to + q, m, _mm512_maskz_loadu_ps (m, src + q));
                }
              t += s->kw;
              continue;
            }
          for (int64_t kx = 0; kx < s->kw; kx++, t++)
            {
              int64_t ix = ix0 + kx * s->dw;
              const float *src =
                  inside && ix >= 0 && ix < s->iw ? img + (iy * s->iw + ix) * s->cin : c->zeros;
              if (dst)
                for (int64_t ci = 0; ci < cg; ci++)
                  dst[t * cg + ci] = src[ci];
              else
                rows[t * MR + r] = src;
            }
        }
      if (c->gather)
        rows[r] = dst;
    }
}

/* Items are (image, group, block, panel) when block-major (a gathered tile then serves every
 * panel), else (image, group, panel, block), so one panel stays in L2 across the blocks. */
static void
run_items (void *arg, int64_t begin, int64_t end)
{
  const Job *job = arg;
  const OshConvGemm *c = job->c;
  const OshConvShape *s = &c->s;
  int64_t opix = s->oh * s->ow;
  const float *rows[MAX_TAPS * MR];
  float *col = c->gather || c->rowwise ? alloc_floats (MR * c->K) : NULL;
  if ((c->gather || c->rowwise) && !col)
    return; /* cannot happen for the sizes allowed at plan time; leaves the output unwritten */
  int64_t have = -1; /* the block whose rows are set up */
  for (int64_t item = begin; item < end; item++)
    {
      int64_t blk, j, rest;
      if (c->block_major)
        j = item % c->panels, rest = item / c->panels, blk = rest % c->blocks;
      else
        blk = item % c->blocks, rest = item / c->blocks, j = rest % c->panels;
      rest = item / (c->panels * c->blocks);
      int64_t grp = rest % s->groups, n = rest / s->groups;
      int64_t p0 = block_start (blk, c->blocks, opix);
      int64_t mr = block_start (blk + 1, c->blocks, opix) - p0;
      const float *img = job->in + n * s->ih * s->iw * s->cin + grp * c->cg;
      int64_t key = rest * c->blocks + blk;
      if (key != have) /* the rows of a block serve each of its panels */
        tile_rows (c, img, p0, mr, rows, col);
      have = key;
      int64_t m = grp * c->og + j * NR;
      float *o = s->planar_out ? job->out + (n * s->cout + m) * opix + p0
                               : job->out + (n * opix + p0) * s->cout + m;
      const float *res = job->residual ? job->residual + (o - job->out) : NULL;
      panel_tile (c, job->packed, grp, j, mr, rows, o, res, s->planar_out ? opix : 0,
                  c->block_major || item == begin ? -1 : blk);
    }
  free (col);
}

void
osh_conv_gemm_run (const OshConvGemm *c, const float *in, float *out, int threads)
{
  osh_conv_gemm_run_with (c, in, NULL, out, threads);
}

void
osh_conv_gemm_run_pixels (const OshConvGemm *c, const float *in, int64_t p0, int64_t count,
                          float *out)
{
  const OshConvShape *s = &c->s;
  const float *rows[MAX_TAPS * MR];
  float *col = c->gather || c->rowwise ? alloc_floats (MR * c->K) : NULL;
  if ((c->gather || c->rowwise) && !col)
    {
      for (int64_t i = 0; i < count * s->cout; i++)
        out[i] = NAN; /* out of memory mid-run: visible, not garbage */
      return;
    }
  int64_t blocks = (count + MR - 1) / MR;
  for (int64_t grp = 0; grp < s->groups; grp++)
    for (int64_t b = 0; b < blocks; b++)
      {
        int64_t p = p0 + block_start (b, blocks, count);
        int64_t mr = p0 + block_start (b + 1, blocks, count) - p;
        tile_rows (c, in + grp * c->cg, p, mr, rows, col);
        for (int64_t j = 0; j < c->panels; j++)
          panel_tile (c, c->packed, grp, j, mr, rows,
                      out + (p - p0) * s->cout + grp * c->og + j * NR, NULL, 0, -1);
      }
  free (col);
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
  return c->s.groups * c->panels * c->K * NR + 16; /* room to align to 64 bytes */
}

void
osh_conv_gemm_run_with (const OshConvGemm *c, const float *in, const OshConvGemmExtras *x,
                        float *out, int threads)
{
  Job job = { c, c->packed, in, x ? x->residual : NULL, out };
  if (x && x->scale)
    {
      float *packed = (float *) (((uintptr_t) x->work + 63) & ~(uintptr_t) 63);
      for (int64_t j = 0; j < c->s.groups * c->panels; j++)
        for (int64_t k = 0; k < c->K; k++)
          {
            const float *src = c->packed + (j * c->K + k) * NR;
            float *dst = packed + (j * c->K + k) * NR;
            __m512 f = _mm512_set1_ps (x->scale[k % c->cg]); /* row k: tap k / cg, channel k % cg */
            _mm512_store_ps (dst, _mm512_mul_ps (_mm512_load_ps (src), f));
            _mm512_store_ps (dst + 16, _mm512_mul_ps (_mm512_load_ps (src + 16), f));
          }
      job.packed = packed;
    }
  int64_t items = c->s.batch * c->s.groups * c->panels * c->blocks;
  osh_parallel_for (threads, items, run_items, &job);
}

#else /* no AVX-512: callers keep their cblas path */

struct OshConvGemm
{
  int unused;
};

OshConvGemm *
osh_conv_gemm_new (const OshConvShape *s, const float *kernel, OshKernelStrides ks,
                   const float *bias)
{
  (void) s, (void) kernel, (void) ks, (void) bias;
  return NULL;
}

void
osh_conv_gemm_fold_affine (OshConvGemm *c, const float *scale, const float *shift)
{
  (void) c, (void) scale, (void) shift;
}

bool
osh_conv_gemm_set_epilogue (OshConvGemm *c, const OshEpilogue *e)
{
  (void) c, (void) e;
  return false;
}

bool
osh_conv_gemm_has_epilogue (const OshConvGemm *c)
{
  (void) c;
  return true;
}

void
osh_conv_gemm_run (const OshConvGemm *c, const float *in, float *out, int threads)
{
  (void) c, (void) in, (void) out, (void) threads;
}

void
osh_conv_gemm_run_pixels (const OshConvGemm *c, const float *in, int64_t p0, int64_t count,
                          float *out)
{
  (void) c, (void) in, (void) p0, (void) count, (void) out;
}

void
osh_conv_gemm_feed_rows (void *rows, int64_t iy, int64_t n, float *out)
{
  (void) rows, (void) iy, (void) n, (void) out;
}

int64_t
osh_conv_gemm_work_floats (const OshConvGemm *c)
{
  (void) c;
  return 0;
}

void
osh_conv_gemm_run_with (const OshConvGemm *c, const float *in, const OshConvGemmExtras *x,
                        float *out, int threads)
{
  (void) c, (void) in, (void) x, (void) out, (void) threads;
}

void
osh_conv_gemm_free (OshConvGemm *c)
{
  free (c);
}

#endif
