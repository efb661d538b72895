/* The BLAS underneath: a single-thread sgemm yardstick that bench results are read against,
 * which OpenBLAS kernels run (or should, when OpenBLAS did not recognise the CPU), and how many
 * of its threads exist. */
#include <cblas.h>
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
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
      osh_exec_blas_enter (1);
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

/* OpenBLAS's pthreads build starts nproc − 1 server threads when it loads, and each spins
 * (sched_yield in a loop) for about 2^28 cycles after it starts and after every threaded call
 * before it sleeps. On a two-core machine that spinner takes the other core: a one-thread run
 * costs twice its time in CPU and, when other work shares the machine, is slowed by a quarter
 * or more. Stopping the servers is the only way out once they exist; OpenBLAS starts them again
 * by itself at its next threaded call. Weak, so another BLAS without the call still links. */
extern int blas_thread_shutdown_ (void) __attribute__ ((weak));

static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int threaded_runs;           /* runs with several threads under way, in any thread */
static bool servers_may_run = true; /* started at load, or since our last threaded run */

void
osh_exec_blas_enter (int threads)
{
  pthread_mutex_lock (&blas_lock);
  if (threads > 1)
    {
      threaded_runs++;
      servers_may_run = true;
      openblas_set_num_threads (threads);
    }
  else if (threaded_runs == 0 && servers_may_run)
    {
      /* Never while another thread's run may be inside a threaded call (a one-thread run beside
       * one leaves the count alone: OpenBLAS serialises its callers anyway). The count first:
       * OpenBLAS 0.3.21 starts its servers again whenever the count is set while they are
       * stopped, so it is set only here, never while they are. */
      openblas_set_num_threads (1);
      if (blas_thread_shutdown_)
        blas_thread_shutdown_ ();
      servers_may_run = false;
    }
  pthread_mutex_unlock (&blas_lock);
}

void
osh_exec_blas_leave (int threads)
{
  if (threads <= 1)
    return;
  pthread_mutex_lock (&blas_lock);
  threaded_runs--;
  pthread_mutex_unlock (&blas_lock);
}

void
osh_exec_blas_quiet (void)
{
  osh_exec_blas_enter (1);
}

int
osh_exec_thread_count (void)
{
  DIR *d = opendir ("/proc/self/task");
  if (!d)
    return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir (d));)
    n += e->d_name[0] != '.';
  closedir (d);
  return n;
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
