/* osh-epilogue.h — the elementwise function a kernel applies to its results before storing them,
 * so a folded ReLU, ReLU6, Clip, sigmoid or swish costs no pass over memory of its own.
 *
 *   OshEpilogue e = osh_epilogue_none ();
 *   e.kind = OSH_EPILOGUE_CLAMP, e.lo = 0.0f, e.hi = 6.0f;       // ReLU6
 *   v = osh_epilogue_apply (&e, v);                               // 16 lanes
 */
#pragma once

#include <math.h>
#include <stdbool.h>

#include "osh-vec.h"

typedef enum
{
  OSH_EPILOGUE_NONE,
  OSH_EPILOGUE_CLAMP,   /* min (max (x, lo), hi) */
  OSH_EPILOGUE_SIGMOID, /* 1 / (1 + e^-x) */
  OSH_EPILOGUE_SWISH,   /* x · sigmoid (x) */
} OshEpilogueKind;

typedef struct
{
  OshEpilogueKind kind;
  float lo, hi;
} OshEpilogue;

static inline OshEpilogue
osh_epilogue_none (void)
{
  return (OshEpilogue){ OSH_EPILOGUE_NONE, -INFINITY, INFINITY };
}

static inline __attribute__ ((always_inline)) OshV16
osh_epilogue_apply (const OshEpilogue *e, OshV16 v)
{
  switch (e->kind)
    {
    case OSH_EPILOGUE_CLAMP:
      {
        OshV16 lo = (OshV16){ 0 } + e->lo, hi = (OshV16){ 0 } + e->hi;
        OshV16i below = v < lo, above = v > hi;
        OshV16i bits = ((OshV16i) v & ~below) | ((OshV16i) lo & below);
        return (OshV16) ((bits & ~above) | ((OshV16i) hi & above));
      }
    case OSH_EPILOGUE_SIGMOID:
      return osh_v16_sigmoid (v);
    case OSH_EPILOGUE_SWISH: /* as osh_vec_sigmoid computes it */
      return osh_v16_swish (v);
    case OSH_EPILOGUE_NONE:
    default:
      return v;
    }
}
