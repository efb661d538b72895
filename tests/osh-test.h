/* osh-test.h — helpers shared by the C tests. */
#pragma once

#include <glib.h>
#include <math.h>
#include <stdint.h>

/* A path inside ../shared/corpus (OSH_CORPUS); the test is skipped when the corpus is absent. */
static inline char *
osh_test_corpus (const char *relative)
{
  const char *root = g_getenv ("OSH_CORPUS");
  return g_build_filename (root ? root : "../shared/corpus", relative, NULL);
}

/* The largest |want[i] - got[i]| (a NaN in got counts as infinite, so an unwritten output
 * fails), and in *peak the largest |want[i]|, for a tolerance relative to the reference. */
static inline double
osh_test_worst_diff (const float *want, const float *got, int64_t n, double *peak)
{
  double worst = 0;
  *peak = 0;
  for (int64_t i = 0; i < n; i++)
    {
      worst = fmax (worst, isnan (got[i]) ? INFINITY : fabs (want[i] - got[i]));
      *peak = fmax (*peak, fabs (want[i]));
    }
  return worst;
}

/* A path to a committed fixture under tests/. */
static inline char *
osh_test_fixture (const char *relative)
{
  return g_test_build_filename (G_TEST_DIST, relative, NULL);
}
