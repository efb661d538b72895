/* osh-depthwise-impl.h — the depthwise convolution's inside, shared by osh-depthwise.c (weights,
 * dispatch) and the loops compiled once per path (osh-depthwise-kernel.c). */
#pragma once

#include "osh-depthwise.h"
#include "osh-isa.h"

struct OshDepthwise
{
  OshDepthwiseShape s;
  float *w;    /* [tap][channel] */
  float *bias; /* [channel] */
  OshEpilogue ep;
};

OSH_ISA_DECLARE (void, osh_depthwise_run,
                 (const OshDepthwise *d, const float *in, float *out, float *means, int threads));
OSH_ISA_DECLARE (void, osh_depthwise_run_fed,
                 (const OshDepthwise *d, OshDepthwiseFeed feed, void *arg, float *out, float *means,
                  int threads));
