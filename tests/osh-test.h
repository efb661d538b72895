/* osh-test.h — helpers shared by the C tests. */
#pragma once

#include <glib.h>

/* A path inside ../shared/corpus (OSH_CORPUS); the test is skipped when the corpus is absent. */
static inline char *
osh_test_corpus (const char *relative)
{
  const char *root = g_getenv ("OSH_CORPUS");
  return g_build_filename (root ? root : "../shared/corpus", relative, NULL);
}

/* A path to a committed fixture under tests/. */
static inline char *
osh_test_fixture (const char *relative)
{
  return g_test_build_filename (G_TEST_DIST, relative, NULL);
}
