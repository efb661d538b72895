/* osh-epilogue.h — the elementwise function a kernel applies to its results before storing them,
 * so a folded ReLU, ReLU6, Clip, sigmoid, swish, hard sigmoid or hard swish costs no pass over
 * memory of its own.
 *
 *   OshEpilogue e = osh_epilogue_clamp (0.0f, 6.0f);             // ReLU6
 *   v = osh_epilogue_apply (&e, v);                               // 16 lanes
 */
#pragma once

#include <math.h>
#include <stdbool.h>

#include "osh-vec.h"

typedef enum
{
  OSH_EPILOGUE_NONE,
  OSH_EPILOGUE_CLAMP,        /* min (max (x, lo), hi) */
  OSH_EPILOGUE_SIGMOID,      /* 1 / (1 + e^-x) */
  OSH_EPILOGUE_SWISH,        /* x · sigmoid (x) */
  OSH_EPILOGUE_HARD_SIGMOID, /* min (max (x · a + b, lo), hi) */
  OSH_EPILOGUE_HARD_SWISH,   /* x · min (max (x · a + b, lo), hi) + c */
} OshEpilogueKind;

typedef struct
{
  OshEpilogueKind kind;
  float lo, hi;
  float a, b; /* the hard kinds' line */
  float c;    /* added after a hard swish (0 for Keras's; an affine after it, folded in) */
} OshEpilogue;

static inline OshEpilogue
osh_epilogue_none (void)
{
  return (OshEpilogue){ OSH_EPILOGUE_NONE, -INFINITY, INFINITY, 1.0f, 0.0f, 0.0f };
}

/* min (max (x, lo), hi): ReLU, ReLU6, Clip. */
static inline OshEpilogue
osh_epilogue_clamp (float lo, float hi)
{
  OshEpilogue e = osh_epilogue_none ();
  e.kind = OSH_EPILOGUE_CLAMP, e.lo = lo, e.hi = hi;
  return e;
}

/* min (max (x · a + b, lo), hi), times x when `times_x`: Keras's hard_sigmoid (a = 1/6, or 0.2
 * in Keras 2, b = 1/2, [0, 1]) and hard_swish, and the same written out op by op. */
static inline OshEpilogue
osh_epilogue_hard (bool times_x, float a, float b, float lo, float hi)
{
  return (OshEpilogue){
    times_x ? OSH_EPILOGUE_HARD_SWISH : OSH_EPILOGUE_HARD_SIGMOID, lo, hi, a, b, 0.0f
  };
}

static inline __attribute__ ((always_inline)) OshV16
osh_epilogue_apply (const OshEpilogue *e, OshV16 v)
{
  switch (e->kind)
    {
    case OSH_EPILOGUE_CLAMP: return osh_v16_clamp (v, e->lo, e->hi);
    case OSH_EPILOGUE_SIGMOID: return osh_v16_sigmoid (v);
    case OSH_EPILOGUE_SWISH: /* as osh_vec_sigmoid computes it */ return osh_v16_swish (v);
    case OSH_EPILOGUE_HARD_SIGMOID:
    case OSH_EPILOGUE_HARD_SWISH:
      {
        OshV16 z = osh_v16_clamp (v * e->a + e->b, e->lo, e->hi);
        if (e->kind == OSH_EPILOGUE_HARD_SWISH)
          z = z * v + e->c;
        return z;
      }
    case OSH_EPILOGUE_NONE:
    default: return v;
    }
}

/* x[i] = e (x[i]) for n floats; the tail through a padded vector, so every element is computed
 * the same way. */
static inline void
osh_vec_epilogue (const OshEpilogue *e, float *x, int64_t n)
{
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    OSH_V (x + i) = osh_epilogue_apply (e, OSH_CV (x + i));
  if (i < n)
    {
      OshV16 t = { 0 };
      for (int64_t k = i; k < n; k++)
        t[k - i] = x[k];
      t = osh_epilogue_apply (e, t);
      for (int64_t k = i; k < n; k++)
        x[k] = t[k - i];
    }
}
