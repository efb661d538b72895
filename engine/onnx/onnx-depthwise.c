/* Depthwise convolution on NCHW data (one input channel per group), the kernel of MobileNets and
 * EfficientNets. Each input plane is first copied into a zero-padded buffer (for stride 2, split
 * into even and odd columns), so that for a row of outputs every tap reads one contiguous,
 * bounds-free run; sixteen outputs then accumulate in a register over all taps. A
 * BatchNormalization folds into the private copy of the weights and a Relu, Clip or swish into
 * the store, as for the packed convolution. */
#include "onnx-depthwise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

struct OnnxDepthwise
{
  int64_t c, m, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  int64_t rows, width; /* padded buffer: rows × width (× 2 halves for stride 2) */
  float *weights;      /* m × kh × kw, then m biases */
  OshEpilogue ep;
};

OnnxDepthwise *
onnx_depthwise_new (const OnnxDepthwiseShape *s, const float *weights, const float *bias)
{
  /* Stride 1 with any dilation, or stride 2 without: other cases keep the general kernel. */
  if (s->m % s->c || !(s->sw == 1 || (s->sw == 2 && s->dw == 1)))
    return NULL;
  OnnxDepthwise *d = calloc (1, sizeof *d);
  if (!d)
    return NULL;
  d->c = s->c, d->m = s->m, d->h = s->h, d->w = s->w, d->oh = s->oh, d->ow = s->ow;
  d->kh = s->kh, d->kw = s->kw, d->sh = s->sh, d->sw = s->sw, d->dh = s->dh, d->dw = s->dw;
  d->pt = s->pt, d->pl = s->pl;
  d->ep = osh_epilogue_none ();
  int64_t ow16 = (s->ow + 15) / 16 * 16;
  d->rows = (s->oh - 1) * s->sh + (s->kh - 1) * s->dh + 1;
  /* Every padded column an output row can read, plus a vector of slack. */
  d->width = s->sw == 1 ? ow16 + (s->kw - 1) * s->dw + 16 : ow16 + s->kw / 2 + 16;
  int64_t taps = s->kh * s->kw;
  d->weights = malloc ((size_t) (s->m * (taps + 1)) * sizeof (float));
  if (!d->weights)
    {
      free (d);
      return NULL;
    }
  memcpy (d->weights, weights, (size_t) (s->m * taps) * sizeof (float));
  for (int64_t k = 0; k < s->m; k++)
    d->weights[s->m * taps + k] = bias ? bias[k] : 0.0f;
  return d;
}

size_t
onnx_depthwise_scratch (const OnnxDepthwise *d)
{
  /* Stride 2: even and odd halves, and one padded row of twice the width to split. */
  return (size_t) (d->sw == 2 ? 2 * (d->rows + 1) * d->width : d->rows * d->width);
}

void
onnx_depthwise_fold_affine (OnnxDepthwise *d, const float *scale, const float *shift)
{
  int64_t taps = d->kh * d->kw;
  for (int64_t k = 0; k < d->m; k++)
    {
      for (int64_t t = 0; t < taps; t++)
        d->weights[k * taps + t] *= scale[k];
      float *b = &d->weights[d->m * taps + k];
      *b = *b * scale[k] + shift[k];
    }
}

bool
onnx_depthwise_set_epilogue (OnnxDepthwise *d, const OshEpilogue *e)
{
  if (onnx_depthwise_has_epilogue (d))
    return false;
  d->ep = *e;
  return true;
}

bool
onnx_depthwise_has_epilogue (const OnnxDepthwise *d)
{
  return d->ep.kind != OSH_EPILOGUE_NONE;
}

void
onnx_depthwise_free (OnnxDepthwise *d)
{
  if (!d)
    return;
  free (d->weights);
  free (d);
}

/* Padded row r (counted from the top padding) of `plane` into dst[0, n): zeros, the input row
 * shifted right by the left padding, zeros. */
static void
padded_row (const OnnxDepthwise *d, const float *plane, int64_t r, float *dst, int64_t n)
{
  int64_t y = r - d->pt, lead = d->pl < n ? d->pl : n;
  int64_t len = y >= 0 && y < d->h ? (d->w < n - lead ? d->w : n - lead) : 0;
  memset (dst, 0, (size_t) lead * sizeof *dst);
  if (len > 0)
    memcpy (dst + lead, plane + y * d->w, (size_t) len * sizeof *dst);
  memset (dst + lead + len, 0, (size_t) (n - lead - len) * sizeof *dst);
}

static void
fill (const OnnxDepthwise *d, const float *plane, float *buf)
{
  int64_t half = d->rows * d->width;
  for (int64_t r = 0; r < d->rows; r++)
    {
      float *row = buf + r * d->width;
      if (d->sw == 1)
        {
          padded_row (d, plane, r, row, d->width);
          continue;
        }
      /* Stride 2: the padded row, twice as wide, in the scratch's tail, split into even and odd
       * columns. */
      float *wide = buf + 2 * half, *odd = row + half;
      padded_row (d, plane, r, wide, 2 * d->width);
      int64_t i = 0;
#ifdef __AVX512F__
      const __m512i even_lanes =
          _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      const __m512i odd_lanes = _mm512_add_epi32 (even_lanes, _mm512_set1_epi32 (1));
      for (; i + 16 <= d->width; i += 16)
        {
          __m512 a = _mm512_loadu_ps (wide + 2 * i), b = _mm512_loadu_ps (wide + 2 * i + 16);
          _mm512_storeu_ps (row + i, _mm512_permutex2var_ps (a, even_lanes, b));
          _mm512_storeu_ps (odd + i, _mm512_permutex2var_ps (a, odd_lanes, b));
        }
#endif
      for (; i < d->width; i++)
        row[i] = wide[2 * i], odd[i] = wide[2 * i + 1];
    }
}

void
onnx_depthwise_run (const OnnxDepthwise *d, const float *x, float *y, float *scratch)
{
  int64_t taps = d->kh * d->kw, mult = d->m / d->c, half = d->rows * d->width;
  for (int64_t k = 0; k < d->m; k++)
    {
      if (k % mult == 0)
        fill (d, x + (k / mult) * d->h * d->w, scratch);
      const float *wk = d->weights + k * taps;
      float bias = d->weights[d->m * taps + k];
      float *out = y + k * d->oh * d->ow;
      for (int64_t oy = 0; oy < d->oh; oy++)
        for (int64_t ox = 0; ox < d->ow; ox += 16)
          {
            OshV16 acc = (OshV16){ 0 } + bias;
            for (int64_t ky = 0; ky < d->kh; ky++)
              {
                const float *row = scratch + (oy * d->sh + ky * d->dh) * d->width;
                for (int64_t kx = 0; kx < d->kw; kx++)
                  {
                    const float *src =
                        d->sw == 1 ? row + ox + kx * d->dw : row + (kx & 1) * half + ox + kx / 2;
                    acc += OSH_CV (src) * wk[ky * d->kw + kx];
                  }
              }
            acc = osh_epilogue_apply (&d->ep, acc);
            float *o = out + oy * d->ow + ox;
            if (ox + 16 <= d->ow)
              OSH_V (o) = acc;
            else
#ifdef __AVX512F__
              _mm512_mask_storeu_ps (o, (__mmask16) ((1u << (d->ow - ox)) - 1), (__m512) acc);
#else
              for (int64_t i = 0; i < d->ow - ox; i++)
                o[i] = acc[i];
#endif
          }
    }
}
