/* The OpenBLAS functions the project calls, on a library loaded at the first call
 * (osh-blas-lazy.h). Each is defined with <cblas.h>'s prototype in view, so a signature that
 * drifts from the installed header does not compile. */
#include "osh-blas-lazy.h"

#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "osh-blas-soname.h"
#include "osh-dlopen.h"

/* OpenBLAS's own, not in <cblas.h>: stops its thread servers (osh-exec-blas.c). */
int blas_thread_shutdown_ (void);

static struct
{
  void (*cblas_sgemm) (const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE,
                       const enum CBLAS_TRANSPOSE, const blasint, const blasint, const blasint,
                       const float, const float *, const blasint, const float *, const blasint,
                       const float, float *, const blasint);
  void (*cblas_sgemv) (const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const blasint,
                       const blasint, const float, const float *, const blasint, const float *,
                       const blasint, const float, float *, const blasint);
  void (*openblas_set_num_threads) (int);
  char *(*openblas_get_corename) (void);
  int (*blas_thread_shutdown_) (void); /* optional: NULL in a build without it */
} real;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[OSH_ERROR_MESSAGE_MAX - 64];

static void
load (void)
{
  const char *used;
  void *handle = osh_dlopen_library ("BLAS", "OSH_BLAS_LIBRARY", OSH_BLAS_SONAME, &used, load_error,
                                     sizeof load_error);
  if (!handle)
    return;
  static const struct
  {
    const char *name;
    void **slot;
  } symbols[] = {
    { "cblas_sgemm", (void **) &real.cblas_sgemm },
    { "cblas_sgemv", (void **) &real.cblas_sgemv },
    { "openblas_set_num_threads", (void **) &real.openblas_set_num_threads },
    { "openblas_get_corename", (void **) &real.openblas_get_corename },
  };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
    if (!(*symbols[i].slot = dlsym (handle, symbols[i].name)))
      {
        snprintf (load_error, sizeof load_error, "the BLAS library %s has no function %s", used,
                  symbols[i].name);
        return;
      }
  real.blas_thread_shutdown_ = (int (*) (void)) dlsym (handle, "blas_thread_shutdown_");
  loaded = true;
}

/* Loads on the first call, from whichever thread; afterwards only reads what load() wrote. */
static bool
ready (void)
{
  pthread_once (&load_once, load);
  return loaded;
}

bool
osh_blas_load (OshError *err)
{
  if (ready ())
    return true;
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "%s", load_error);
}

void
cblas_sgemm (const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta,
             const enum CBLAS_TRANSPOSE tb, const blasint m, const blasint n, const blasint k,
             const float alpha, const float *a, const blasint lda, const float *b,
             const blasint ldb, const float beta, float *c, const blasint ldc)
{
  if (ready ())
    real.cblas_sgemm (order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void
cblas_sgemv (const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE trans, const blasint m,
             const blasint n, const float alpha, const float *a, const blasint lda, const float *x,
             const blasint incx, const float beta, float *y, const blasint incy)
{
  if (ready ())
    real.cblas_sgemv (order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

void
openblas_set_num_threads (int num_threads)
{
  if (ready ())
    real.openblas_set_num_threads (num_threads);
}

char *
openblas_get_corename (void)
{
  return ready () ? real.openblas_get_corename () : NULL;
}

int
blas_thread_shutdown_ (void)
{
  return ready () && real.blas_thread_shutdown_ ? real.blas_thread_shutdown_ () : 0;
}
