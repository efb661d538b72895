/* The depthwise convolution's loops over rows and pixels (see osh-depthwise.c), compiled once
 * per path (osh-simd.h): a vector of channels of up to PX pixels at a time. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osh-depthwise-impl.h"
#include "osh-op.h"
#include "osh-simd.h"

#define PX 8 /* output pixels per inner block */

/* The n sums acc[] of channels [c0, c0 + OSH_VW) (the first `lanes` when `partial`) through the
 * epilogue into pixels 0..n-1 of `out`, and added to sums[c0..] when sums is given. */
static inline __attribute__ ((always_inline)) void
store_px (const OshDepthwise *d, const OshVec *acc, int n, int64_t c0, bool partial, OshLanes lanes,
          float *out, float *sums)
{
  int64_t c = d->s.c;
  OshVec total = { 0 };
#pragma GCC unroll 8
  for (int i = 0; i < PX; i++)
    if (i < n)
      {
        OshVec y = osh_epilogue_apply (&d->ep, acc[i]);
        if (partial)
          osh_simd_store_n (out + i * c + c0, y, lanes);
        else
          OSH_VREF (out + i * c + c0) = y;
        total += y;
      }
  if (sums && partial) /* only the channels that exist: the padding lanes hold f (0) */
    osh_simd_store_n (sums + c0, osh_simd_load_n (sums + c0, lanes) + total, lanes);
  else if (sums)
    OSH_VREF (sums + c0) += total;
}

/* n ≤ PX inside pixels (all taps within the row) from output column ox, channels [c0, c0 +
 * OSH_VW), filter rows [ky0, ky1): filter row ky reads the input row rows[ky]. With `partial`, only the first `lanes` channels exist (the
 * channels past the last full vector: AVX-512 leaves 8 of MobileNetV3's 72, 88, 120 and 184),
 * read and written through masks. Each pixel keeps its own sum, so PX chains of multiply-adds
 * run side by side (a pixel at a time, the few last channels took a third of a 3×3 layer's
 * time on 88 channels). The outputs are also added to sums[c0..] when sums is given. */
static inline __attribute__ ((always_inline)) void
block_px (const OshDepthwise *d, const float *const *rows, int64_t ky0, int64_t ky1, int64_t ox,
          int n, int64_t c0, bool partial, OshLanes lanes, float *out, float *sums)
{
  const OshDepthwiseShape *s = &d->s;
  int64_t c = s->c;
  OshVec acc[PX];
  OshVec b = partial ? osh_simd_load_n (d->bias + c0, lanes) : OSH_VLOAD (d->bias + c0);
#pragma GCC unroll 8
  for (int i = 0; i < PX; i++)
    acc[i] = b;
  for (int64_t ky = ky0; ky < ky1; ky++)
    {
      const float *row = rows[ky] + c0;
      const float *w = d->w + ky * s->kw * c + c0;
      for (int64_t kx = 0; kx < s->kw; kx++)
        {
          OshVec wt = partial ? osh_simd_load_n (w + kx * c, lanes) : OSH_VLOAD (w + kx * c);
          int64_t ix0 = ox * s->sw - s->pw + kx * s->dw;
#pragma GCC unroll 8
          for (int i = 0; i < PX; i++)
            {
              int64_t ix = ix0 + i * s->sw;
              if (i < n)
                acc[i] = osh_simd_fma (partial ? osh_simd_load_n (row + ix * c, lanes)
                                               : OSH_VLOAD (row + ix * c),
                                       wt, acc[i]);
            }
        }
    }
  store_px (d, acc, n, c0, partial, lanes, out, sums);
}

/* block_px with a constant pixel count, so its loops unroll without a test per pixel; all
 * OSH_VW channels, or the first `lanes` (`partial`). */
static void
block_n (const OshDepthwise *d, const float *const *rows, int64_t ky0, int64_t ky1, int64_t ox,
         int n, bool partial, OshLanes lanes, int64_t c0, float *out, float *sums)
{
  switch (n * 2 + partial)
    {
#define CASE(k)                                                                                    \
  case 2 * k: block_px (d, rows, ky0, ky1, ox, k, c0, false, lanes, out, sums); break;             \
  case 2 * k + 1: block_px (d, rows, ky0, ky1, ox, k, c0, true, lanes, out, sums); break;
      CASE (1)
      CASE (2)
      CASE (3)
      CASE (4)
      CASE (5)
      CASE (6)
      CASE (7)
      CASE (8)
#undef CASE
    default: break;
    }
}

/* block_px for inside pixels of a kernel KW wide at stride SW (compile-time constants), no
 * dilation: each input column of a filter row is loaded once and multiplied into every pixel
 * whose window covers it (a 3×3 at stride 1: 10 loads for 24 products instead of 24), and the
 * loops unroll whole. With loads per product halved and no address arithmetic per tap, a 3×3
 * layer runs about twice as fast as through block_px. */
static inline __attribute__ ((always_inline)) void
block_fixed (const int KW, const int SW, const OshDepthwise *d, const float *const *rows,
             int64_t ky0, int64_t ky1, int64_t ox, int n, int64_t c0, bool partial, OshLanes lanes,
             float *out, float *sums)
{
  const OshDepthwiseShape *s = &d->s;
  int64_t c = s->c;
  OshVec acc[PX];
  OshVec b = partial ? osh_simd_load_n (d->bias + c0, lanes) : OSH_VLOAD (d->bias + c0);
#pragma GCC unroll 8
  for (int i = 0; i < PX; i++)
    acc[i] = b;
  for (int64_t ky = ky0; ky < ky1; ky++)
    {
      const float *row = rows[ky] + (ox * SW - s->pw) * c + c0;
      const float *w = d->w + ky * KW * c + c0;
      OshVec wt[5]; /* KW ≤ 5; a KW-long array would be a VLA, kept on the stack */
#pragma GCC unroll 5
      for (int kx = 0; kx < KW; kx++)
        wt[kx] = partial ? osh_simd_load_n (w + kx * c, lanes) : OSH_VLOAD (w + kx * c);
      /* Column j feeds pixel i through tap kx = j - i·SW. Its pointer is stepped and hidden
       * from GCC, which otherwise keeps an offset register per column (spilled, then moved back
       * one by one on an FMA port), and x is pinned in a register, not read again by each
       * product: 28×28×88 3×3 0.033 → 0.024 ms. */
      const float *p = row;
#pragma GCC unroll 24
      for (int j = 0; j < (PX - 1) * SW + KW; j++)
        {
          if (j > (n - 1) * SW + KW - 1)
            continue;
          OshVec x = partial ? osh_simd_load_n (p, lanes) : OSH_VLOAD (p);
          OSH_OPAQUE_VEC (x);
          p += c;
          OSH_OPAQUE_PTR (p);
#pragma GCC unroll 8
          for (int i = 0; i < PX; i++)
            {
              int kx = j - i * SW;
              if (i < n && kx >= 0 && kx < KW)
                acc[i] = osh_simd_fma (x, wt[kx], acc[i]);
            }
        }
    }
  store_px (d, acc, n, c0, partial, lanes, out, sums);
}

/* block_fixed for a run-time pixel count, 3 or 5 taps wide at stride 1 or 2. */
static void
block_fixed_n (const OshDepthwise *d, const float *const *rows, int64_t ky0, int64_t ky1,
               int64_t ox, int n, bool partial, OshLanes lanes, int64_t c0, float *out, float *sums)
{
  int shape = (d->s.kw == 5) * 2 + (d->s.sw == 2);
  switch ((n * 4 + shape) * 2 + partial)
    {
/* clang-format off */
#define ONE(k, shape, kw, sw, part)                                                                \
  case (k * 4 + shape) * 2 + part:                                                                 \
    block_fixed (kw, sw, d, rows, ky0, ky1, ox, k, c0, part, lanes, out, sums);                    \
    break;
#define CASE(k)                                                                                    \
  ONE (k, 0, 3, 1, 0) ONE (k, 0, 3, 1, 1) ONE (k, 1, 3, 2, 0) ONE (k, 1, 3, 2, 1)                  \
  ONE (k, 2, 5, 1, 0) ONE (k, 2, 5, 1, 1) ONE (k, 3, 5, 2, 0) ONE (k, 3, 5, 2, 1)
      CASE (1) CASE (2) CASE (3) CASE (4) CASE (5) CASE (6) CASE (7) CASE (8)
#undef CASE
#undef ONE
      /* clang-format on */
    default: break;
    }
}

/* One border pixel ox (some taps fall outside the row), every channel: EDGE vectors of channels
 * at a time, so their sums are independent chains (a pixel at a time per vector, each sum waited
 * on the one before: a 1-pixel block ran at the FMA latency). */
enum
{
  EDGE = 4
};
static void
edge_px (const OshDepthwise *d, const float *const *rows, int64_t ky0, int64_t ky1, int64_t ox,
         float *out, float *sums)
{
  const OshDepthwiseShape *s = &d->s;
  int64_t c = s->c;
  for (int64_t c0 = 0; c0 < c; c0 += EDGE * OSH_VW)
    {
      OshLanes lanes[EDGE];
      OshVec acc[EDGE];
#pragma GCC unroll 4
      for (int g = 0; g < EDGE; g++)
        {
          lanes[g] = osh_simd_lanes (c - c0 - g * OSH_VW);
          acc[g] = osh_simd_load_n (d->bias + c0 + g * OSH_VW, lanes[g]);
        }
      for (int64_t ky = ky0; ky < ky1; ky++)
        for (int64_t kx = 0; kx < s->kw; kx++)
          {
            int64_t ix = ox * s->sw - s->pw + kx * s->dw;
            if (ix < 0 || ix >= s->iw)
              continue;
            const float *p = rows[ky] + ix * c + c0;
            const float *w = d->w + (ky * s->kw + kx) * c + c0;
#pragma GCC unroll 4
            for (int g = 0; g < EDGE; g++)
              acc[g] = osh_simd_fma (osh_simd_load_n (p + g * OSH_VW, lanes[g]),
                                     osh_simd_load_n (w + g * OSH_VW, lanes[g]), acc[g]);
          }
#pragma GCC unroll 4
      for (int g = 0; g < EDGE; g++)
        {
          OshVec y = osh_epilogue_apply (&d->ep, acc[g]);
          osh_simd_store_n (out + c0 + g * OSH_VW, y, lanes[g]);
          if (sums)
            osh_simd_store_n (sums + c0 + g * OSH_VW,
                              osh_simd_load_n (sums + c0 + g * OSH_VW, lanes[g]) + y, lanes[g]);
        }
    }
}

/* Output row oy from the input rows rows[ky] (filter rows [ky0, ky1) fall inside the image),
 * its sum per channel added to `sums` (may be NULL). */
static void
out_row (const OshDepthwise *d, const float *const *rows, int64_t ky0, int64_t ky1, float *orow,
         float *sums)
{
  const OshDepthwiseShape *s = &d->s;
  int64_t c = s->c, full = c / OSH_VW * OSH_VW;
  /* Columns whose taps all fall inside the row: lo ≤ ox < hi. */
  int64_t lo = (s->pw + s->sw - 1) / s->sw, last = s->iw - 1 - (s->kw - 1) * s->dw + s->pw;
  int64_t hi = last < 0 ? 0 : last / s->sw + 1;
  hi = hi > s->ow ? s->ow : hi;
  lo = lo > hi ? hi : lo;
  bool fixed = (s->kw == 3 || s->kw == 5) && (s->sw == 1 || s->sw == 2) && s->dw == 1;
  OshLanes all = osh_simd_lanes (OSH_VW), rest = osh_simd_lanes (c - full);
  /* The border pixels one at a time, all channels together; the inside pixels without checks
   * in blocks of equal size up to PX (26 as 7, 7, 6, 6 rather than 8, 8, 8, 2, whose last
   * block would wait on the FMA latency). */
  for (int64_t ox = 0; ox < lo; ox++)
    edge_px (d, rows, ky0, ky1, ox, orow + ox * c, sums);
  int64_t blocks = (hi - lo + PX - 1) / PX;
  for (int64_t b = 0; b < blocks; b++)
    {
      int64_t ox = lo + b * (hi - lo) / blocks, px = lo + (b + 1) * (hi - lo) / blocks - ox;
      float *o = orow + ox * c;
      if (fixed)
        {
          for (int64_t c0 = 0; c0 < full; c0 += OSH_VW)
            block_fixed_n (d, rows, ky0, ky1, ox, (int) px, false, all, c0, o, sums);
          if (full < c)
            block_fixed_n (d, rows, ky0, ky1, ox, (int) px, true, rest, full, o, sums);
          continue;
        }
      for (int64_t c0 = 0; c0 < full; c0 += OSH_VW)
        block_n (d, rows, ky0, ky1, ox, (int) px, false, all, c0, o, sums);
      if (full < c)
        block_n (d, rows, ky0, ky1, ox, (int) px, true, rest, full, o, sums);
    }
  for (int64_t ox = hi; ox < s->ow; ox++)
    edge_px (d, rows, ky0, ky1, ox, orow + ox * c, sums);
}

/* The filter rows [*ky0, *ky1) of output row oy that fall inside the image, and its first input
 * row (top + ky·dh is filter row ky's). */
static int64_t
row_window (const OshDepthwiseShape *s, int64_t oy, int64_t *ky0, int64_t *ky1)
{
  int64_t top = oy * s->sh - s->ph;
  *ky0 = top >= 0 ? 0 : (-top + s->dh - 1) / s->dh;
  *ky1 = s->kh;
  while (*ky1 > *ky0 && top + (*ky1 - 1) * s->dh >= s->ih)
    (*ky1)--;
  return top;
}

typedef struct
{
  const OshDepthwise *d;
  const float *in;
  float *out;
  OshDepthwiseFeed feed; /* fed mode: rows come from feed (arg, iy, row) */
  void *arg;
  double *total;        /* the output's sum per image and channel, or NULL */
  pthread_mutex_t lock; /* for adding to it */
} Job;

/* A thread's sums of image n's channels, added to the job's total and cleared. */
static void
flush_sums (Job *j, int64_t n, float *sums)
{
  int64_t c = j->d->s.c;
  pthread_mutex_lock (&j->lock);
  for (int64_t ch = 0; ch < c; ch++)
    j->total[n * c + ch] += sums[ch];
  pthread_mutex_unlock (&j->lock);
  memset (sums, 0, (size_t) c * sizeof (float));
}

/* Zeroed room for one row's sums per channel when the job sums, else NULL. When memory runs out
 * for it, the first mean becomes NaN, which `run` reports, rather than a wrong number. */
static float *
new_sums (Job *j)
{
  float *sums = j->total ? calloc ((size_t) j->d->s.c, sizeof (float)) : NULL;
  if (j->total && !sums)
    {
      pthread_mutex_lock (&j->lock);
      j->total[0] = NAN;
      pthread_mutex_unlock (&j->lock);
    }
  return sums;
}

static void
image_rows (void *arg, int64_t begin, int64_t end)
{
  Job *j = arg;
  const OshDepthwiseShape *s = &j->d->s;
  const float *rows[OSH_DEPTHWISE_MAX_KH];
  float *sums = new_sums (j);
  for (int64_t r = begin; r < end; r++)
    {
      int64_t n = r / s->oh, ky0, ky1, top = row_window (s, r % s->oh, &ky0, &ky1);
      for (int64_t ky = ky0; ky < ky1; ky++)
        rows[ky] = j->in + ((n * s->ih + top + ky * s->dh) * s->iw) * s->c;
      out_row (j->d, rows, ky0, ky1, j->out + r * s->ow * s->c, sums);
      if (sums && (r + 1 == end || (r + 1) / s->oh != n))
        flush_sums (j, n, sums);
    }
  free (sums);
}

/* Fed mode: input rows are made on demand into a ring, each once per chunk of output rows, so
 * they are still in cache when read. A missing row is made together with the next few, enough
 * for about 48 pixels, since a producer is more efficient on more pixels at once; the ring holds
 * what one output row needs (`span` rows) plus such a run. */
static void
fed_rows (void *arg, int64_t begin, int64_t end)
{
  Job *j = arg;
  const OshDepthwiseShape *s = &j->d->s;
  int64_t span = (s->kh - 1) * s->dh + 1, row_floats = s->iw * s->c;
  int64_t run = (48 + s->iw - 1) / s->iw, slots = span + run;
  float *ring = malloc ((size_t) (slots * row_floats) * sizeof (float) + 64);
  int64_t *held = malloc ((size_t) slots * sizeof *held); /* the input row in each slot, or -1 */
  if (!ring || !held)
    {
      /* Out of memory mid-run (kernels cannot fail): NaN, which `run` reports, not garbage. */
      for (int64_t i = begin * s->ow * s->c; i < end * s->ow * s->c; i++)
        j->out[i] = NAN;
      free (ring), free (held);
      return;
    }
  float *base = (float *) (((uintptr_t) ring + 63) & ~(uintptr_t) 63);
  for (int64_t k = 0; k < slots; k++)
    held[k] = -1;
  float *sums = new_sums (j);
  const float *rows[OSH_DEPTHWISE_MAX_KH];
  for (int64_t oy = begin; oy < end; oy++)
    {
      int64_t ky0, ky1, top = row_window (s, oy, &ky0, &ky1);
      for (int64_t ky = ky0; ky < ky1; ky++)
        {
          int64_t iy = top + ky * s->dh, slot = iy % slots;
          if (held[slot] != iy)
            {
              /* Rows iy.. up to the run, the image's end or the ring's end (no wrapping). */
              int64_t n = run;
              n = n > s->ih - iy ? s->ih - iy : n;
              n = n > slots - slot ? slots - slot : n;
              j->feed (j->arg, iy, n, base + slot * row_floats);
              for (int64_t k = 0; k < n; k++)
                held[slot + k] = iy + k;
            }
          rows[ky] = base + slot * row_floats;
        }
      out_row (j->d, rows, ky0, ky1, j->out + oy * s->ow * s->c, sums);
    }
  if (sums)
    flush_sums (j, 0, sums);
  free (sums);
  free (ring);
  free (held);
}

static int
threads_for (const OshDepthwise *d, int threads)
{
  return d->s.batch * d->s.oh * d->s.ow * d->s.c * d->s.kh * d->s.kw < 100000 ? 1 : threads;
}

/* Runs job j over `rows` output rows, then turns its sums into `means` (when given). */
static void
run_job (Job *j, int64_t rows, void (*fn) (void *, int64_t, int64_t), float *means, int threads)
{
  const OshDepthwiseShape *s = &j->d->s;
  int64_t n = s->batch * s->c;
  j->total = means ? calloc ((size_t) n, sizeof (double)) : NULL;
  if (means && !j->total)
    {
      for (int64_t i = 0; i < n; i++)
        means[i] = NAN; /* out of memory mid-run: visible, not garbage */
      means = NULL;
    }
  pthread_mutex_init (&j->lock, NULL);
  osh_parallel_for (threads_for (j->d, threads), rows, fn, j);
  pthread_mutex_destroy (&j->lock);
  for (int64_t i = 0; means && i < n; i++)
    means[i] = (float) (j->total[i] / (double) (s->oh * s->ow));
  free (j->total);
}

void
OSH_ISA_FN (osh_depthwise_run) (const OshDepthwise *d, const float *in, float *out, float *means,
                                int threads)
{
  Job j = { d, in, out, NULL, NULL, NULL };
  run_job (&j, d->s.batch * d->s.oh, image_rows, means, threads);
}

void
OSH_ISA_FN (osh_depthwise_run_fed) (const OshDepthwise *d, OshDepthwiseFeed feed, void *arg,
                                    float *out, float *means, int threads)
{
  Job j = { d, NULL, out, feed, arg, NULL };
  run_job (&j, d->s.oh, fed_rows, means, threads);
}
