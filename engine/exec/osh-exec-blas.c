/* The BLAS underneath: a single-thread sgemm yardstick that bench results are read against,
 * and which OpenBLAS kernels run (or should, when OpenBLAS did not recognise the CPU). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osh-exec.h"

/* CPU time of the calling thread: one-thread OpenBLAS computes there, and time the scheduler
 * gives other processes does not count against it. */
static double
thread_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

double
osh_exec_sgemm_gflops (int n, int runs)
{
  if (n < 16)
    n = 16;
  size_t nn = (size_t) n * (size_t) n;
  float *a = malloc (nn * sizeof (float)), *b = malloc (nn * sizeof (float)),
        *c = malloc (nn * sizeof (float));
  double best = 0;
  if (a && b && c)
    {
      for (size_t i = 0; i < nn; i++)
        {
          a[i] = (float) (i % 13) / 13.0f;
          b[i] = (float) (i % 7) / 7.0f;
        }
      openblas_set_num_threads (1);
      double spent = 0;
      /* The first run warms up. Past one timed run, stop once a second of CPU is spent: a real
       * CPU does all runs in a fraction of that, while under an emulator (qemu-user) or valgrind
       * one run takes tens of seconds and more would only repeat the same figure. */
      for (int r = 0; r < (runs > 0 ? runs : 1) + 1 && !(r > 1 && spent > 1000.0); r++)
        {
          double t0 = thread_cpu_ms ();
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                       c, n);
          double ms = thread_cpu_ms () - t0;
          spent += ms;
          double gf = 2.0 * n * n * (double) n / (ms * 1e6);
          if (r > 0 && gf > best)
            best = gf;
        }
    }
  free (a);
  free (b);
  free (c);
  return best;
}

const char *
osh_exec_blas_core_hint (void)
{
  const char *core = openblas_get_corename ();
  if (getenv ("OPENBLAS_CORETYPE") || !core || strcmp (core, "Prescott") != 0)
    return NULL;
#ifdef __x86_64__ /* Prescott is an x86 core name; other CPUs have no such mix-up */
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512bw") && __builtin_cpu_supports ("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}

const char *
osh_exec_blas_core (void)
{
  const char *core = openblas_get_corename ();
  return core ? core : "unknown";
}
