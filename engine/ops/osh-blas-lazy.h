/* osh-blas-lazy.h — OpenBLAS loaded on the first BLAS call, not when the program starts.
 *
 * Debian builds OpenBLAS with its symbols bound at load: 16,000 relocations, three quarters of
 * what the dynamic loader did before `offshoot render` or `inspect` could start, though neither
 * multiplies a matrix. So nothing links it: osh-blas-lazy.c defines the few OpenBLAS functions
 * the project calls (with <cblas.h>'s prototypes in view) and the first call of any of them
 * dlopen()s the library whose soname the build found (-Dblas_soname overrides it) and resolves
 * them all. The kernels call cblas_sgemm exactly as if it were linked.
 *
 * cblas_sgemm cannot fail, so whoever is about to compute asks first (osh_plan_new does; the
 * trainer and the probes plan before they multiply):
 *
 *   if (!osh_blas_load (err))   // "the BLAS library libopenblas.so.0 cannot be loaded: ..."
 *     return NULL;
 *
 * Without the library the functions do nothing (openblas_get_corename answers NULL). The
 * environment variable OSH_BLAS_LIBRARY replaces the library (a name or a path), e.g. to test a
 * missing one. Loading is done once per process, whichever thread calls first. */
#pragma once

#include <stdbool.h>

#include "osh-error.h"

/* Loads OpenBLAS if not done yet; false with err when it is missing or lacks a function the
 * project calls (the same answer on every call). */
bool osh_blas_load (OshError *err);
