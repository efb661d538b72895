/* The element-wise kernels' entry points: each calls the current path's variant (osh-isa.h). */
#include "osh-kernels.h"

#include "osh-vec.h"

void
osh_vec_epilogue (const OshEpilogue *e, float *x, int64_t n)
{
  OSH_ISA_DISPATCH (osh_isa_current (), osh_vec_epilogue, (e, x, n));
}

void
osh_vec_sigmoid (float *x, int64_t n, int times_x)
{
  OshEpilogue e = osh_epilogue_none ();
  e.kind = times_x ? OSH_EPILOGUE_SWISH : OSH_EPILOGUE_SIGMOID;
  osh_vec_epilogue (&e, x, n);
}
