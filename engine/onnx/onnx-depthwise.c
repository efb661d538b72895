/* Depthwise convolution on NCHW data (one input channel per group), the kernel of MobileNets and
 * EfficientNets. Each input plane is first copied into a zero-padded buffer (for stride 2, split
 * into even and odd columns), so that for a row of outputs every tap reads one contiguous,
 * bounds-free run; sixteen outputs then accumulate in a register over all taps. A
 * BatchNormalization folds into the private copy of the weights and a Relu/Clip into the store,
 * as for the packed convolution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-depthwise.h"
#include "osh-vec.h"

typedef int32_t OshI16 __attribute__ ((vector_size (64), aligned (4), may_alias));

struct OnnxDepthwise
{
  int64_t c, m, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
  int64_t rows, width; /* padded buffer: rows × width (× 2 halves for stride 2) */
  float *weights;      /* m × kh × kw, then m biases */
  float lo, hi;
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
  d->lo = -INFINITY, d->hi = INFINITY;
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
  return (size_t) (d->rows * d->width * (d->sw == 2 ? 2 : 1));
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
onnx_depthwise_set_clamp (OnnxDepthwise *d, float lo, float hi)
{
  if (onnx_depthwise_clamped (d))
    return false;
  d->lo = lo, d->hi = hi;
  return true;
}

bool
onnx_depthwise_clamped (const OnnxDepthwise *d)
{
  return d->lo != -INFINITY || d->hi != INFINITY;
}

void
onnx_depthwise_free (OnnxDepthwise *d)
{
  if (!d)
    return;
  free (d->weights);
  free (d);
}

/* Padded row r, column col (both counted from the padding's corner) of `plane`, or 0. */
static inline float
padded (const OnnxDepthwise *d, const float *plane, int64_t r, int64_t col)
{
  int64_t y = r - d->pt, x = col - d->pl;
  return y >= 0 && y < d->h && x >= 0 && x < d->w ? plane[y * d->w + x] : 0.0f;
}

static void
fill (const OnnxDepthwise *d, const float *plane, float *buf)
{
  int64_t half = d->rows * d->width;
  for (int64_t r = 0; r < d->rows; r++)
    {
      float *row = buf + r * d->width;
      if (d->sw == 1)
        for (int64_t col = 0; col < d->width; col++)
          row[col] = padded (d, plane, r, col);
      else
        for (int64_t i = 0; i < d->width; i++)
          {
            row[i] = padded (d, plane, r, 2 * i);
            row[half + i] = padded (d, plane, r, 2 * i + 1);
          }
    }
}

static inline OshV16
clamp (OshV16 v, OshV16 lo, OshV16 hi)
{
  OshI16 below = v < lo, above = v > hi;
  OshI16 bits = ((OshI16) v & ~below) | ((OshI16) lo & below);
  return (OshV16) ((bits & ~above) | ((OshI16) hi & above));
}

void
onnx_depthwise_run (const OnnxDepthwise *d, const float *x, float *y, float *scratch)
{
  int64_t taps = d->kh * d->kw, mult = d->m / d->c, half = d->rows * d->width;
  OshV16 lo = (OshV16){ 0 } + d->lo, hi = (OshV16){ 0 } + d->hi;
  bool clamped = onnx_depthwise_clamped (d);
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
                    const float *src = d->sw == 1 ? row + ox + kx * d->dw
                                                  : row + (kx & 1) * half + ox + kx / 2;
                    acc += OSH_CV (src) * wk[ky * d->kw + kx];
                  }
              }
            if (clamped)
              acc = clamp (acc, lo, hi);
            float *o = out + oy * d->ow + ox;
            if (ox + 16 <= d->ow)
              OSH_V (o) = acc;
            else
              for (int64_t i = 0; i < d->ow - ox; i++)
                o[i] = acc[i];
          }
    }
}
