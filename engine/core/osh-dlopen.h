/* osh-dlopen.h — a shared library loaded on first use rather than linked (HDF5,
 * osh-hdf5-lazy.c; OpenBLAS, osh-blas-lazy.c): its soname found at configure time, or a file
 * an environment variable names instead.
 *
 *   const char *used;
 *   void *h = osh_dlopen_library ("BLAS", "OSH_BLAS_LIBRARY", OSH_BLAS_SONAME, &used, buf, n);
 */
#pragma once

#include <stddef.h>

/* dlopen (RTLD_NOW | RTLD_LOCAL) of the file `env` names when set and not empty, else of
 * `soname`; *used is the name tried. NULL on failure, with "the KIND library NAME cannot be
 * loaded[ (set by the environment)]: dlopen's reason" in `error`. */
void *osh_dlopen_library (const char *kind, const char *env, const char *soname, const char **used,
                          char *error, size_t size);
