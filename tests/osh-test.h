/* osh-test.h — helpers shared by the C tests. */
#pragma once

#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "osh-exec.h"
#include "osh-isa.h"

/* The kernel tests also run with OFFSHOOT_ISA set to each path (tests/meson.build); on a CPU
 * without that path the run is skipped (TAP's empty plan) rather than quietly run on another. */
__attribute__ ((constructor)) static void
osh_test_skip_missing_isa (void)
{
  OshError err = { 0 };
  if (!osh_isa_check_env (&err))
    {
      printf ("1..0 # SKIP %s\n", err.message);
      exit (0);
    }
}

/* Whether plans get the packed convolution and the folds built on it (not on the baseline
 * path, which keeps im2col and OpenBLAS). */
static inline bool
osh_test_packed_conv (void)
{
  return osh_isa_current () != OSH_ISA_BASELINE;
}

/* The corpus folder: OSH_CORPUS when set, else the build's (meson -Dcorpus, by default
 * ../shared/corpus), given to the tests as OSH_CORPUS_DEFAULT. */
static inline const char *
osh_test_corpus_root (void)
{
  const char *root = g_getenv ("OSH_CORPUS");
  if (!root || !*root)
    root = g_getenv ("OSH_CORPUS_DEFAULT");
  return root && *root ? root : "../shared/corpus";
}

/* A path inside the corpus. Callers check that it exists and skip when it does not; see
 * osh_test_corpus_or_skip. */
static inline char *
osh_test_corpus (const char *relative)
{
  return g_build_filename (osh_test_corpus_root (), relative, NULL);
}

/* A path inside the corpus, or NULL after g_test_skip with a one-line reason when the file is
 * absent (a clone without the corpus). */
static inline char *
osh_test_corpus_or_skip (const char *relative)
{
  char *path = osh_test_corpus (relative);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return path;
  g_autofree char *reason =
      g_strdup_printf ("corpus absent: no %s (set OSH_CORPUS to the corpus folder)", path);
  g_test_skip (reason);
  g_free (path);
  return NULL;
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

/* Two plans of g (its shapes inferred): as it runs, folds and all, on `threads` (*fused), and
 * with every layer on its own (*plain; capturing all layers turns the folds off): the reference
 * a fold must match. */
static inline void
osh_test_fused_and_plain (const OshGraph *g, int threads, OshPlan **fused, OshPlan **plain)
{
  OshError err = { 0 };
  OshExecOptions opt = osh_exec_options_default (), all = opt;
  opt.threads = threads;
  all.capture_all = true;
  *fused = osh_plan_new (g, &opt, &err);
  g_assert_cmpstr (err.message, ==, "");
  *plain = osh_plan_new (g, &all, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_nonnull (*fused);
  g_assert_nonnull (*plain);
}

/* A path to a committed fixture under tests/. */
static inline char *
osh_test_fixture (const char *relative)
{
  return g_test_build_filename (G_TEST_DIST, relative, NULL);
}
