/* The HDF5 guard (engine/io/osh-hdf5-guard.h): this test program is its own guard child, as the
 * offshoot binary is. The known HDF5 hang (tests/fuzz/hdf5-guarded) must end in a timeout
 * error, every file there and a child that crashes in an error, and good and bad files must
 * come out exactly as they do without the guard. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osh-hdf5-guard.h"
#include "osh-model.h"
#include "osh-test.h"

static OshGraph *
load_guarded (const char *path, OshError *err)
{
  osh_hdf5_guard_enable ("/proc/self/exe");
  OshGraph *g = osh_model_load (path, err);
  osh_hdf5_guard_enable (NULL);
  return g;
}

static void
test_known_hang (void)
{
  g_autofree char *path = osh_test_fixture ("fuzz/hdf5-guarded/h5-vlen-model-config");
  /* Small, so the suite does not wait: HDF5 spins for minutes on this file. */
  osh_hdf5_guard_set_deadline (1.0);
  OshError err = { 0 };
  OshGraph *g = load_guarded (path, &err);
  osh_hdf5_guard_set_deadline (0);
  g_assert_null (g);
  g_assert_cmpstr (osh_error_code_name (err.code), ==, "timeout");
  g_assert_true (g_str_has_prefix (err.message, path));
  g_assert_nonnull (strstr (err.message,
                            "HDF5 did not finish reading the file within 1 s; the file is "
                            "probably corrupted"));
}

/* Every file that breaks HDF5 itself fails through the guard, with a message naming it. In the
 * sanitizer build some of them abort the child (AddressSanitizer stops on absurd allocation
 * requests that plain malloc refuses), which the guard reports too. */
static void
test_hdf5_breakers (void)
{
  g_autofree char *folder = osh_test_fixture ("fuzz/hdf5-guarded");
  GDir *dir = g_dir_open (folder, 0, NULL);
  g_assert_nonnull (dir);
  osh_hdf5_guard_set_deadline (2.0);
  const char *entry;
  int replayed = 0;
  while ((entry = g_dir_read_name (dir)))
    {
      if (g_str_has_suffix (entry, ".md"))
        continue;
      g_autofree char *path = g_build_filename (folder, entry, NULL);
      OshError err = { 0 };
      g_assert_null (load_guarded (path, &err));
      g_test_message ("%s", err.message);
      g_assert_cmpint (err.code, !=, OSH_OK);
      g_assert_true (g_str_has_prefix (err.message, path));
      replayed++;
    }
  osh_hdf5_guard_set_deadline (0);
  g_dir_close (dir);
  g_assert_cmpint (replayed, >=, 2);
}

/* A model read through the guard is the model read without it, also graph first. */
static void
test_good_files_pass (void)
{
  const char *files[] = { "keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5",
                          "keras3/mnist_cnn.keras", NULL };
  for (int i = 0; files[i]; i++)
    {
      g_autofree char *path = osh_test_corpus (files[i]);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_test_skip ("corpus absent");
          return;
        }
      OshError err = { 0 };
      OshGraph *plain = osh_model_load (path, &err);
      g_assert_nonnull (plain);
      OshGraph *guarded = load_guarded (path, &err);
      g_assert_nonnull (guarded);
      g_assert_cmpint (guarded->n_layers, ==, plain->n_layers);
      g_assert_cmpint (osh_graph_total_params (guarded, NULL), ==,
                       osh_graph_total_params (plain, NULL));
      /* The graph first, then its weights, both through the guard: the same values. */
      osh_hdf5_guard_enable ("/proc/self/exe");
      OshGraph *first = osh_model_load_graph (path, &err);
      g_assert_nonnull (first);
      g_assert_cmpint (osh_graph_total_params (first, NULL), ==,
                       osh_graph_total_params (plain, NULL));
      g_assert_true (osh_model_load_weights (first, &err));
      osh_hdf5_guard_enable (NULL);
      for (int l = 0; l < plain->n_layers; l++)
        for (int w = 0; w < plain->layers[l].n_weights; w++)
          {
            const OshTensor *a = first->layers[l].weights[w].value;
            const OshTensor *b = plain->layers[l].weights[w].value;
            g_assert_true (osh_shape_equal (&a->shape, &b->shape));
            g_assert_cmpmem (a->data, osh_tensor_numel (a) * 4, b->data, osh_tensor_numel (b) * 4);
          }
      osh_graph_free (first);
      osh_graph_free (plain);
      osh_graph_free (guarded);
    }
}

/* The child's error reaches the caller unchanged (and the file is read only once). */
static void
test_errors_pass_through (void)
{
  g_autofree char *dir = g_dir_make_tmp ("osh-guard-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bad.h5", NULL);
  static const char bytes[] = "\x89HDF\r\n\x1a\n and then nothing an HDF5 library could use";
  g_assert_true (g_file_set_contents (path, bytes, sizeof bytes - 1, NULL));
  OshError plain = { 0 }, guarded = { 0 };
  g_assert_null (osh_model_load (path, &plain));
  g_assert_null (load_guarded (path, &guarded));
  g_assert_cmpint (guarded.code, ==, plain.code);
  g_assert_cmpstr (guarded.message, ==, plain.message);
  g_assert_true (g_str_has_prefix (guarded.message, path));
  unlink (path);
  rmdir (dir);
}

/* A child that dies of a signal (as HDF5 may on a hostile file) is an error, not a crash. */
static void
test_crashing_child (void)
{
  g_autofree char *dir = g_dir_make_tmp ("osh-guard-XXXXXX", NULL);
  g_autofree char *script = g_build_filename (dir, "crash.sh", NULL);
  g_assert_true (g_file_set_contents (script, "#!/bin/sh\nkill -SEGV $$\n", -1, NULL));
  g_assert_cmpint (chmod (script, 0700), ==, 0);
  g_autofree char *model =
      osh_test_corpus ("keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5");
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("corpus absent");
      return;
    }
  osh_hdf5_guard_enable (script);
  OshError err = { 0 };
  OshGraph *g = osh_model_load (model, &err);
  osh_hdf5_guard_enable (NULL);
  g_assert_null (g);
  g_assert_cmpstr (osh_error_code_name (err.code), ==, "format");
  g_assert_true (g_str_has_prefix (err.message, model));
  g_assert_nonnull (strstr (err.message, "HDF5 crashed reading the file (signal 11"));
  unlink (script);
  rmdir (dir);
}

int
main (int argc, char **argv)
{
  int status = osh_hdf5_guard_child_main (argc, argv);
  if (status >= 0)
    return status;
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/robustness/hdf5-guard/known-hang-times-out", test_known_hang);
  g_test_add_func ("/robustness/hdf5-guard/hdf5-breakers-fail-cleanly", test_hdf5_breakers);
  g_test_add_func ("/robustness/hdf5-guard/good-files-pass", test_good_files_pass);
  g_test_add_func ("/robustness/hdf5-guard/errors-pass-through", test_errors_pass_through);
  g_test_add_func ("/robustness/hdf5-guard/crashing-child", test_crashing_child);
  return g_test_run ();
}
