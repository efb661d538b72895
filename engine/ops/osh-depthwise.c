/* Depthwise convolution on channels-last data: see osh-depthwise.h. Per output row, the pixels
 * whose taps all fall inside the image horizontally run up to 8 at a time without bounds checks
 * (3 or 5 taps wide at stride 1 or 2, each input column loaded once for every pixel it feeds);
 * the few border pixels one at a time with 4 vectors of channels side by side, checking each
 * tap; rows outside the image are skipped per row. This file
 * holds the weights and dispatches; the loops, compiled once per path, are in
 * osh-depthwise-kernel.c. */
#include "osh-depthwise.h"

#include <stdint.h>
#include <stdlib.h>

#include "osh-depthwise-impl.h"

OshDepthwise *
osh_depthwise_new (const OshDepthwiseShape *s, const float *kernel, int64_t tap_stride,
                   int64_t chan_stride, const float *bias)
{
  int64_t taps = s->kh * s->kw;
  if (s->c < 1 || taps < 1 || s->oh < 1 || s->ow < 1)
    return NULL;
  OshDepthwise *d = calloc (1, sizeof *d);
  if (!d || !(d->w = malloc ((size_t) ((taps + 1) * s->c) * sizeof (float))))
    {
      free (d);
      return NULL;
    }
  d->s = *s;
  d->bias = d->w + taps * s->c;
  d->ep = osh_epilogue_none ();
  for (int64_t t = 0; t < taps; t++)
    for (int64_t ch = 0; ch < s->c; ch++)
      d->w[t * s->c + ch] = kernel[t * tap_stride + ch * chan_stride];
  for (int64_t ch = 0; ch < s->c; ch++)
    d->bias[ch] = bias ? bias[ch] : 0.0f;
  return d;
}

bool
osh_depthwise_fold_affine (OshDepthwise *d, const float *scale, const float *shift)
{
  if (d->ep.kind != OSH_EPILOGUE_NONE)
    return false;
  int64_t c = d->s.c, taps = d->s.kh * d->s.kw;
  for (int64_t t = 0; t < taps; t++)
    for (int64_t ch = 0; ch < c; ch++)
      d->w[t * c + ch] *= scale[ch];
  for (int64_t ch = 0; ch < c; ch++)
    d->bias[ch] = d->bias[ch] * scale[ch] + shift[ch];
  return true;
}

bool
osh_depthwise_set_epilogue (OshDepthwise *d, const OshEpilogue *e)
{
  if (d->ep.kind != OSH_EPILOGUE_NONE)
    return false;
  d->ep = *e;
  return true;
}

bool
osh_depthwise_has_epilogue (const OshDepthwise *d)
{
  return d->ep.kind != OSH_EPILOGUE_NONE;
}

void
osh_depthwise_free (OshDepthwise *d)
{
  if (!d)
    return;
  free (d->w);
  free (d);
}

void
osh_depthwise_run (const OshDepthwise *d, const float *in, float *out, float *means, int threads)
{
  OSH_ISA_DISPATCH (osh_isa_current (), osh_depthwise_run, (d, in, out, means, threads));
}

bool
osh_depthwise_fed_ok (const OshDepthwise *d)
{
  return d->s.batch == 1 && d->s.kh <= OSH_DEPTHWISE_MAX_KH;
}

void
osh_depthwise_run_fed (const OshDepthwise *d, OshDepthwiseFeed feed, void *arg, float *out,
                       float *means, int threads)
{
  OSH_ISA_DISPATCH (osh_isa_current (), osh_depthwise_run_fed, (d, feed, arg, out, means, threads));
}

OshDepthwise *
osh_depthwise_copy (const OshDepthwise *d)
{
  OshDepthwise *c = osh_depthwise_new (&d->s, d->w, d->s.c, 1, d->bias);
  if (c)
    c->ep = d->ep;
  return c;
}
