/* A save that fails half-way through writing (the disk fills up; here: a file-size limit,
 * RLIMIT_FSIZE, makes write() fail with EFBIG after 64 KiB) leaves the existing file exactly as
 * it was and no temporary file behind, in every export format. */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "osh-model.h"
#include "osh-test.h"

static char *
read_all (const char *path, gsize *len)
{
  char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, len, NULL));
  return data;
}

static int
count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  int n = 0;
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n;
}

static void
test_interrupted_save (void)
{
  /* The old file: a small model; the new one: a bigger model that cannot be written. */
  g_autofree char *small_path =
      osh_test_corpus ("keras2/face_classification/tiny_XCEPTION_KDEF.hdf5");
  g_autofree char *big_path =
      osh_test_corpus ("keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5");
  if (!g_file_test (small_path, G_FILE_TEST_EXISTS) || !g_file_test (big_path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("corpus absent");
      return;
    }
  OshError err = { 0 };
  OshGraph *small = osh_model_load (small_path, &err);
  g_assert_nonnull (small);
  OshGraph *big = osh_model_load (big_path, &err);
  g_assert_nonnull (big);
  g_autofree char *dir = g_dir_make_tmp ("osh-interrupted-XXXXXX", NULL);
  const char *names[] = { "m.h5", "m.keras", "model.json", "m.onnx" };
  int expected_entries = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_assert_true (osh_model_save (small, path, &err));
      expected_entries += strcmp (names[i], "model.json") == 0 ? 2 : 1; /* model.json + its shard */
      gsize before_len, after_len;
      g_autofree char *before = read_all (path, &before_len);

      struct rlimit old, limit;
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old), ==, 0);
      limit = old;
      limit.rlim_cur = 64 * 1024;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      bool saved = osh_model_save (big, path, &err);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);

      g_assert_false (saved);
      g_test_message ("%s: %s", names[i], err.message);
      g_assert_cmpstr (osh_error_code_name (err.code), ==, "io");
      g_assert_nonnull (strstr (err.message, names[i]) ? err.message
                                                       : strstr (err.message, "shard"));
      g_autofree char *after = read_all (path, &after_len);
      g_assert_cmpmem (before, before_len, after, after_len);
      g_assert_cmpint (count_entries (dir), ==, expected_entries);
    }
  /* The limit lifted, the same saves succeed and replace the old files. */
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_assert_true (osh_model_save (big, path, &err));
    }
  g_assert_cmpint (count_entries (dir), ==, expected_entries);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *entry;
  while ((entry = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      g_unlink (path);
    }
  g_dir_close (d);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  osh_graph_free (small);
  osh_graph_free (big);
}

int
main (int argc, char **argv)
{
  /* Past the limit the kernel sends SIGXFSZ, which would end the process; ignored, write()
   * fails with EFBIG instead, as it does on a full disk with ENOSPC. */
  signal (SIGXFSZ, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/robustness/save/interrupted-write-keeps-target", test_interrupted_save);
  return g_test_run ();
}
