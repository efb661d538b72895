/* osh-isa.h — which instruction set the kernels run with, chosen at run time.
 *
 * The binary targets the baseline x86-64 CPU; the hot kernels (packed convolution, depthwise,
 * epilogues) are compiled once more per wider instruction set from the same source (osh-simd.h)
 * and picked here once per process: the widest the CPU has, or the one OFFSHOOT_ISA names
 * (avx512, avx2, baseline) to test or time a path. Objects that pack data for a path (a packed
 * convolution) keep the path they were made for.
 *
 *   OshError err = { 0 };
 *   if (!osh_isa_check_env (&err))        // OFFSHOOT_ISA names a path this CPU lacks
 *     fprintf (stderr, "%s\n", err.message);
 *   printf ("kernels: %s\n", osh_isa_name (osh_isa_current ()));
 */
#pragma once

#include <stdbool.h>

#include "osh-error.h"

typedef enum
{
  OSH_ISA_BASELINE, /* x86-64 (SSE2), or any other CPU: the portable code */
  OSH_ISA_AVX2,     /* AVX2 + FMA, 8 lanes */
  OSH_ISA_AVX512,   /* AVX-512 F/BW/DQ/VL, 16 lanes */
  OSH_ISA_COUNT
} OshIsa;

/* "baseline", "avx2", "avx512". */
const char *osh_isa_name (OshIsa isa);
/* Whether this CPU (and its OS) can run the path, and this build has it. */
bool osh_isa_supported (OshIsa isa);
/* The widest supported path. */
OshIsa osh_isa_best (void);
/* The path kernels take now: osh_isa_force's, else OFFSHOOT_ISA's when valid, else the best. */
OshIsa osh_isa_current (void);
/* False, with a message naming the paths this CPU has, when OFFSHOOT_ISA is set to an unknown
 * path or one the CPU lacks (osh_isa_current then takes the best). */
bool osh_isa_check_env (OshError *err);
/* Makes `isa` the current path (tests looping over paths); false when unsupported. */
bool osh_isa_force (OshIsa isa, OshError *err);

/* A kernel entry point compiled for each path (osh-simd.h's OSH_ISA_FN): its three prototypes,
 * and a call of the one for `isa`. Without the wider paths in the build (not x86-64), only the
 * baseline exists. */
#define OSH_ISA_DECLARE(ret, name, params)                                                         \
  ret name##_baseline params;                                                                      \
  ret name##_avx2 params;                                                                          \
  ret name##_avx512 params
#ifdef OSH_HAVE_ISA_KERNELS
#define OSH_ISA_DISPATCH(isa, name, args)                                                          \
  ((isa) == OSH_ISA_AVX512 ? name##_avx512 args                                                    \
   : (isa) == OSH_ISA_AVX2 ? name##_avx2 args                                                      \
                           : name##_baseline args)
#else
#define OSH_ISA_DISPATCH(isa, name, args) ((void) (isa), name##_baseline args)
#endif
