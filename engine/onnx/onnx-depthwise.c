/* Depthwise convolution on NCHW data (one input channel per group), the kernel of MobileNets and
 * EfficientNets. Each input plane is first copied into a zero-padded buffer (for stride 2, split
 * into even and odd columns), so that for a row of outputs every tap reads one contiguous,
 * bounds-free run; sixteen outputs then accumulate in a register over all taps. A
 * BatchNormalization folds into the private copy of the weights and a Relu, Clip or swish into
 * the store, as for the packed convolution. This file holds the weights and dispatches; the loops,
 * compiled once per path, are in onnx-depthwise-kernel.c. */
#include "onnx-depthwise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-depthwise-impl.h"

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

void
onnx_depthwise_run (const OnnxDepthwise *d, const float *x, float *y, float *scratch)
{
  OSH_ISA_DISPATCH (osh_isa_current (), onnx_depthwise_run, (d, x, y, scratch));
}
