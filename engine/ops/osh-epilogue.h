/* osh-epilogue.h — the elementwise function a kernel applies to its results before storing them,
 * so a folded ReLU, ReLU6, Clip, sigmoid, swish, hard sigmoid or hard swish costs no pass over
 * memory of its own.
 *
 *   OshEpilogue e = osh_epilogue_clamp (0.0f, 6.0f);             // ReLU6
 *   v = osh_epilogue_apply (&e, v);          // in a kernel (osh-simd.h): one vector
 *   osh_vec_epilogue (&e, x, n);             // elsewhere: n floats in place
 */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

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

/* x[i] = e (x[i]) for n floats, with the current path's kernels (osh-isa.h); the tail through
 * a padded vector, so every element is computed the same way. A kernel applies `e` to its own
 * vectors with osh_epilogue_apply (osh-simd.h). */
void osh_vec_epilogue (const OshEpilogue *e, float *x, int64_t n);
