/* The packed convolution's micro-kernels and loops over tiles (see osh-conv-gemm.c for the
 * method), compiled once per path (osh-simd.h): a panel is two vectors of output channels, a
 * tile as many pixels as leave registers for the weights and the broadcast input (AVX-512: 12
 * × 32 channels in 24 of 32 registers; AVX2: 6 × 16 in 12 of 16). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osh-conv-gemm-impl.h"
#include "osh-op.h"
#include "osh-simd.h"

#define NR (2 * OSH_VW)
#define MR (OSH_VW == 16 ? 12 : 6)

enum
{
  MAX_TAPS = OSH_CONV_GEMM_MAX_TAPS,
  PREFETCH = 128 /* kernel rows read ahead */
};

/* One tile: `mr` pixel rows × one panel. rows[t * MR + r] is pixel r's input for tap t, `len`
 * floats long. Written so that with a constant mr the compiler keeps acc[][] in registers. With
 * `half`, only the panel's first vector of channels is computed (the last panel of 16, 40 or 80
 * channels, whose second vector would be all padding). */
static inline __attribute__ ((always_inline)) void
tile (const int mr, const bool half, const bool far, const char *pf, int64_t pstep, int64_t taps,
      int64_t len, const float *const *rows, const float *B, const float *bias,
      const OshEpilogue *ep, float *out, const float *res, int64_t ldo, int64_t plane, OshLanes n0,
      OshLanes n1)
{
  OshVec acc[MR][2];
  OshVec b0 = OSH_VLOAD (bias), b1 = OSH_VLOAD (bias + OSH_VW);
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++)
    acc[r][0] = b0, acc[r][1] = b1;
  /* A residual is added after the products, its lines asked for now: loaded first, the sums
   * would wait on memory before the first product. */
  if (res && !plane)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        for (int o = 0; o < NR; o += 16)
          __builtin_prefetch (res + r * ldo + o);
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
              __builtin_prefetch (pf);
              __builtin_prefetch (pf + 64);
              pf += pstep;
            }
          else /* the panel streams from memory on its first pass: ask for it ahead of use */
            for (int o = 0; o < NR; o += 16)
              __builtin_prefetch (B + PREFETCH * NR + o);
          OshVec w0 = OSH_VLOAD (B), w1 = OSH_VLOAD (B + OSH_VW);
#pragma GCC unroll 12
          for (int r = 0; r < mr; r++)
            {
              OshVec x = osh_simd_splat (a[r][k]);
              acc[r][0] = osh_simd_fma (x, w0, acc[r][0]);
              if (!half)
                acc[r][1] = osh_simd_fma (x, w1, acc[r][1]);
            }
        }
    }
  /* Channels-first: pixel r of channel m at m * plane + r. */
  if (res && plane)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          acc[r][0] += osh_simd_gather_n (res + r, plane, n0);
          acc[r][1] += osh_simd_gather_n (res + OSH_VW * plane + r, plane, n1);
        }
    }
  else if (res)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          acc[r][0] += osh_simd_load_n (res + r * ldo, n0);
          acc[r][1] += osh_simd_load_n (res + r * ldo + OSH_VW, n1);
        }
    }
  if (plane)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          osh_simd_scatter_n (out + r, plane, osh_epilogue_apply (ep, acc[r][0]), n0);
          osh_simd_scatter_n (out + OSH_VW * plane + r, plane, osh_epilogue_apply (ep, acc[r][1]),
                              n1);
        }
      return;
    }
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++)
    {
      osh_simd_store_n (out + r * ldo, osh_epilogue_apply (ep, acc[r][0]), n0);
      if (!half)
        osh_simd_store_n (out + r * ldo + OSH_VW, osh_epilogue_apply (ep, acc[r][1]), n1);
    }
}

/* The tile for a run-time mr; `pf`, when set, is the start of this tile's share of the next
 * panel, pstep bytes of it per row of the product. Two functions, not one flag: the hot loop of
 * the common case (no pf) stays as compact as it can be. */
#define TILE_CASE(n, half, far, pf, pstep)                                                         \
  case n:                                                                                          \
    tile (n, half, far, pf, pstep, taps, len, rows, B, bias, ep, out, res, ldo, plane, n0, n1);    \
    break;
#if MR == 12
#define TILE_CASES_7_TO_12(half, far, pf, pstep)                                                   \
  TILE_CASE (7, half, far, pf, pstep)                                                              \
  TILE_CASE (8, half, far, pf, pstep)                                                              \
  TILE_CASE (9, half, far, pf, pstep)                                                              \
  TILE_CASE (10, half, far, pf, pstep)                                                             \
  TILE_CASE (11, half, far, pf, pstep)                                                             \
  TILE_CASE (12, half, far, pf, pstep)
#else
#define TILE_CASES_7_TO_12(half, far, pf, pstep)
#endif
#define TILE_SWITCH(half, far, pf, pstep)                                                          \
  switch (mr)                                                                                      \
    {                                                                                              \
      TILE_CASE (1, half, far, pf, pstep)                                                          \
      TILE_CASE (2, half, far, pf, pstep)                                                          \
      TILE_CASE (3, half, far, pf, pstep)                                                          \
      TILE_CASE (4, half, far, pf, pstep)                                                          \
      TILE_CASE (5, half, far, pf, pstep)                                                          \
      TILE_CASE (6, half, far, pf, pstep)                                                          \
      TILE_CASES_7_TO_12 (half, far, pf, pstep)                                                    \
    default: break;                                                                                \
    }

static void
tile_any (int mr, int64_t taps, int64_t len, const float *const *rows, const float *B,
          const float *bias, const OshEpilogue *ep, float *out, const float *res, int64_t ldo,
          int64_t plane, OshLanes n0, OshLanes n1)
{
  TILE_SWITCH (false, false, NULL, 0)
}

/* A panel with at most one vector of channels left (n1 = 0): half the products. */
static void
tile_half (int mr, int64_t taps, int64_t len, const float *const *rows, const float *B,
           const float *bias, const OshEpilogue *ep, float *out, const float *res, int64_t ldo,
           int64_t plane, OshLanes n0, OshLanes n1)
{
  TILE_SWITCH (true, false, NULL, 0)
}

static void
tile_far (int mr, const char *pf, int64_t pstep, int64_t taps, int64_t len,
          const float *const *rows, const float *B, const float *bias, const OshEpilogue *ep,
          float *out, const float *res, int64_t ldo, int64_t plane, OshLanes n0, OshLanes n1)
{
  TILE_SWITCH (false, true, pf, pstep)
}
#undef TILE_SWITCH
#undef TILE_CASE
#undef TILE_CASES_7_TO_12

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
      (valid <= OSH_VW && !plane ? tile_half : tile_any) (
          (int) mr, taps, len, rows, B, c->bias + panel * NR, &c->ep, out, res, c->s.cout, plane,
          osh_simd_lanes (valid), osh_simd_lanes (valid - OSH_VW));
      return;
    }
  int64_t next = (panel + 1) % (c->s.groups * c->panels);
  int64_t part = (floats * (int64_t) sizeof (float) + c->blocks - 1) / c->blocks;
  tile_far ((int) mr, (const char *) (packed + next * floats) + share * part,
            (part + c->K - 1) / c->K, taps, len, rows, B, c->bias + panel * NR, &c->ep, out, res,
            c->s.cout, plane, osh_simd_lanes (valid), osh_simd_lanes (valid - OSH_VW));
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
  if (c->pointwise) /* output pixel p reads input pixel p: nothing to work out per pixel */
    {
      for (int64_t r = 0; r < mr; r++)
        rows[r] = img + (p0 + r) * s->cin;
      return;
    }
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
              for (int64_t q = 0, len = s->kw * cg; q < len; q += OSH_VW)
                {
                  OshLanes n = osh_simd_lanes (len - q);
                  osh_simd_store_n (to + q, osh_simd_load_n (src + q, n), n);
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
  float *col = c->gather || c->rowwise ? osh_conv_gemm_alloc_floats (MR * c->K) : NULL;
  if ((c->gather || c->rowwise) && !col)
    return; /* cannot happen for the sizes allowed at plan time; leaves the output unwritten */
  int64_t have = -1; /* the block whose rows are set up */
  /* The item's indices, worked out once and then stepped: divisions per item cost a tenth of
   * a 1×1 convolution's time on 16 input channels. */
  int64_t n_inner = c->block_major ? c->panels : c->blocks;
  int64_t n_outer = c->block_major ? c->blocks : c->panels;
  int64_t inner = begin % n_inner, outer = begin / n_inner % n_outer;
  int64_t rest = begin / (n_inner * n_outer);
  int64_t at = -1, p0 = 0, p1 = 0; /* the block [p0, p1) is block `at` */
  for (int64_t item = begin; item < end; item++)
    {
      int64_t blk = c->block_major ? outer : inner, j = c->block_major ? inner : outer;
      int64_t grp = rest % s->groups, n = rest / s->groups;
      if (blk != at)
        {
          p0 = blk == at + 1 ? p1 : block_start (blk, c->blocks, opix);
          p1 = block_start (blk + 1, c->blocks, opix);
          at = blk;
        }
      int64_t mr = p1 - p0;
      const float *img = job->in + n * s->ih * s->iw * s->cin + grp * c->cg;
      int64_t key = rest * c->blocks + blk;
      if (key != have) /* the rows of a block serve each of its panels */
        tile_rows (c, img, p0, mr, rows, col);
      have = key;
      if (++inner == n_inner && (inner = 0, ++outer == n_outer))
        outer = 0, rest++;
      int64_t m = grp * c->og + j * NR;
      float *o = s->planar_out ? job->out + (n * s->cout + m) * opix + p0
                               : job->out + (n * opix + p0) * s->cout + m;
      const float *res = job->residual ? job->residual + (o - job->out) : NULL;
      panel_tile (c, job->packed, grp, j, mr, rows, o, res, s->planar_out ? opix : 0,
                  c->block_major || item == begin ? -1 : blk);
    }
  free (col);
}

/* A channels-first input with few channels (a stem: 3 colours), written channels-last. The
 * product is turned around: a vector holds OSH_VW neighbouring output pixels of one channel, so
 * each of the K = kh·kw·cin products is one input vector times a broadcast weight, with no
 * transpose of the input and no per-pixel gathering; the OSH_VW × OSH_VW block of results is
 * transposed in registers on the way out. Each output row first copies the input rows it reads
 * with zeros around them, so no tap needs a bounds test; stride 2 takes the even lanes of two
 * loads (one permute per OSH_VW products: splitting each row into even and odd columns up
 * front measured slower). */
typedef struct
{
  const OshConvGemm *c;
  const float *in;
  float *out;
} PlanarJob;

/* Input rows in padded form: row (ci, ky) of output row oy, `len` floats, x at index ix + pw. */
static void
planar_rows (const OshConvGemm *c, const float *img, int64_t oy, float *rows, int64_t len)
{
  const OshConvShape *s = &c->s;
  for (int64_t ci = 0; ci < s->cin; ci++)
    for (int64_t ky = 0; ky < s->kh; ky++)
      {
        float *r = rows + (ci * s->kh + ky) * len;
        int64_t iy = oy * s->sh - s->ph + ky * s->dh;
        if (iy < 0 || iy >= s->ih)
          {
            memset (r, 0, (size_t) len * sizeof *r);
            continue;
          }
        /* zeros only around the copy: the row is written once */
        memset (r, 0, (size_t) s->pw * sizeof *r);
        memcpy (r + s->pw, img + (ci * s->ih + iy) * s->iw, (size_t) s->iw * sizeof *r);
        memset (r + s->pw + s->iw, 0, (size_t) (len - s->pw - s->iw) * sizeof *r);
      }
}

/* OSH_VW output pixels from padded row position p (stride sw: 1 or 2). */
static inline OshVec
planar_pixels (const float *p, int64_t sw)
{
  if (sw == 1)
    return OSH_VLOAD (p);
#if OSH_VW == 16
  const OshVeci even = { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30 };
#elif OSH_VW == 8
  const OshVeci even = { 0, 2, 4, 6, 8, 10, 12, 14 };
#else
  const OshVeci even = { 0, 2, 4, 6 };
#endif
  return __builtin_shuffle (OSH_VLOAD (p), OSH_VLOAD (p + OSH_VW), even);
}

/* v[i][j] becomes v[j][i]: log2 (OSH_VW) rounds of interleaving the halves of rows i and
 * i + OSH_VW / 2 into rows 2i and 2i + 1 (a two-source permute each with AVX-512). */
static inline __attribute__ ((always_inline)) void
planar_transpose (OshVec v[OSH_VW])
{
#if OSH_VW == 16
  const OshVeci lo = { 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23 };
  const OshVeci hi = { 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31 };
#elif OSH_VW == 8
  const OshVeci lo = { 0, 8, 1, 9, 2, 10, 3, 11 };
  const OshVeci hi = { 4, 12, 5, 13, 6, 14, 7, 15 };
#else
  const OshVeci lo = { 0, 4, 1, 5 };
  const OshVeci hi = { 2, 6, 3, 7 };
#endif
  for (int round = 1; round < OSH_VW; round *= 2)
    {
      OshVec t[OSH_VW];
#pragma GCC unroll 16
      for (int i = 0; i < OSH_VW / 2; i++)
        {
          t[2 * i] = __builtin_shuffle (v[i], v[i + OSH_VW / 2], lo);
          t[2 * i + 1] = __builtin_shuffle (v[i], v[i + OSH_VW / 2], hi);
        }
#pragma GCC unroll 16
      for (int i = 0; i < OSH_VW; i++)
        v[i] = t[i];
    }
}

/* Channels [m0, m0 + OSH_VW) of output pixels [ox0, ox0 + OSH_VW) of one row. */
static inline __attribute__ ((always_inline)) void
planar_block (const OshConvGemm *c, const float *rows, int64_t len, int64_t ox0, const float *B,
              const float *bias, float *out, int64_t pixels, int64_t channels)
{
  const OshConvShape *s = &c->s;
  OshVec acc[OSH_VW];
  for (int m = 0; m < OSH_VW; m++)
    acc[m] = osh_simd_splat (bias[m]);
  for (int64_t ky = 0; ky < s->kh; ky++)
    for (int64_t kx = 0; kx < s->kw; kx++)
      for (int64_t ci = 0; ci < s->cin; ci++, B += c->nr)
        {
          OshVec x = planar_pixels (rows + (ci * s->kh + ky) * len + ox0 * s->sw + kx, s->sw);
#pragma GCC unroll 16
          for (int m = 0; m < OSH_VW; m++)
            acc[m] = osh_simd_fma (x, osh_simd_splat (B[m]), acc[m]);
        }
  for (int m = 0; m < OSH_VW; m++)
    acc[m] = osh_epilogue_apply (&c->ep, acc[m]);
  planar_transpose (acc);
  OshLanes n = osh_simd_lanes (channels);
  for (int64_t l = 0; l < pixels; l++)
    osh_simd_store_n (out + l * s->cout, acc[l], n);
}

static void
planar_items (void *arg, int64_t begin, int64_t end)
{
  const PlanarJob *job = arg;
  const OshConvGemm *c = job->c;
  const OshConvShape *s = &c->s;
  /* Room for the last block's reads: OSH_VW pixels at stride sw past the row, and a second
   * vector for stride 2. */
  int64_t len = (s->ow + OSH_VW) * s->sw + s->kw + OSH_VW;
  len = len > s->iw + s->pw ? len : s->iw + s->pw;
  float *rows = osh_conv_gemm_alloc_floats (s->cin * s->kh * len);
  if (!rows)
    return; /* cannot happen for the sizes allowed at plan time; leaves the output unwritten */
  for (int64_t item = begin; item < end; item++)
    {
      int64_t n = item / s->oh, oy = item % s->oh;
      planar_rows (c, job->in + n * s->cin * s->ih * s->iw, oy, rows, len);
      float *orow = job->out + (n * s->oh + oy) * s->ow * s->cout;
      for (int64_t ox0 = 0; ox0 < s->ow; ox0 += OSH_VW)
        for (int64_t m0 = 0; m0 < s->cout; m0 += OSH_VW)
          {
            int64_t j = m0 / c->nr, col = m0 % c->nr;
            planar_block (c, rows, len, ox0, c->packed + j * c->K * c->nr + col,
                          c->bias + j * c->nr + col, orow + ox0 * s->cout + m0,
                          s->ow - ox0 < OSH_VW ? s->ow - ox0 : OSH_VW,
                          s->cout - m0 < OSH_VW ? s->cout - m0 : OSH_VW);
          }
    }
  free (rows);
}

void
OSH_ISA_FN (osh_conv_gemm_run_planar_in) (const OshConvGemm *c, const float *in, float *out,
                                          int threads)
{
  PlanarJob job = { c, in, out };
  osh_parallel_for (threads, c->s.batch * c->s.oh, planar_items, &job);
}

void
OSH_ISA_FN (osh_conv_gemm_run_pixels) (const OshConvGemm *c, const float *in, int64_t p0,
                                       int64_t count, float *out)
{
  const OshConvShape *s = &c->s;
  const float *rows[MAX_TAPS * MR];
  float *col = c->gather || c->rowwise ? osh_conv_gemm_alloc_floats (MR * c->K) : NULL;
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
OSH_ISA_FN (osh_conv_gemm_run_with) (const OshConvGemm *c, const float *in,
                                     const OshConvGemmExtras *x, float *out, int threads)
{
  Job job = { c, c->packed, in, x ? x->residual : NULL, out };
  if (x && x->scale && osh_conv_gemm_scales_input (c))
    {
      /* Fewer input values than kernel ones (late squeeze-excite blocks: 7×7 pixels, a kernel
       * of 576 × 96): the input is scaled into the work memory, once, and read from there. */
      float *scaled = (float *) (((uintptr_t) x->work + 63) & ~(uintptr_t) 63);
      int64_t cin = c->s.cin;
      for (int64_t p = 0; p < c->s.ih * c->s.iw; p++)
        for (int64_t ci = 0; ci < cin; ci += OSH_VW)
          {
            OshLanes n = osh_simd_lanes (cin - ci);
            osh_simd_store_n (
                scaled + p * cin + ci,
                osh_simd_load_n (in + p * cin + ci, n) * osh_simd_load_n (x->scale + ci, n), n);
          }
      job.in = scaled;
    }
  else if (x && x->scale)
    {
      float *packed = (float *) (((uintptr_t) x->work + 63) & ~(uintptr_t) 63);
      for (int64_t j = 0; j < c->s.groups * c->panels; j++)
        for (int64_t k = 0; k < c->K; k++)
          {
            const float *src = c->packed + (j * c->K + k) * NR;
            float *dst = packed + (j * c->K + k) * NR;
            float f = x->scale[k % c->cg]; /* row k: tap k / cg, channel k % cg */
            OSH_VREF (dst) = OSH_VLOAD (src) * f;
            OSH_VREF (dst + OSH_VW) = OSH_VLOAD (src + OSH_VW) * f;
          }
      job.packed = packed;
    }
  int64_t items = c->s.batch * c->s.groups * c->panels * c->blocks;
  osh_parallel_for (threads, items, run_items, &job);
}
