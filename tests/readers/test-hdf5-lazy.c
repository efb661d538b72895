/* HDF5 is loaded on the first HDF5 call (osh-hdf5-lazy.h), not at start-up.
 *
 * - Neither `offshoot` nor this program (which links the same engine) depends on libhdf5: the
 *   loader's trace of their libraries (what ldd prints) names none.
 * - This process reads a .keras's graph, a TF.js model and an ONNX model without libhdf5 in
 *   /proc/self/maps; reading a .h5 maps it.
 * - With OSH_HDF5_LIBRARY naming a missing file, the reader, the writer and the CLI (through
 *   the HDF5 guard's child) fail with an error that names the library and dlopen's reason,
 *   while a .keras's graph still opens. */
#include <glib/gstdio.h>
#include <string.h>

#include "osh-hdf5-lazy.h"
#include "osh-model.h"
#include "osh-test.h"

#define MISSING_LIBRARY "/nonexistent/libhdf5-for-offshoot-tests.so"

static bool
hdf5_mapped (void)
{
  char *maps = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  bool mapped = strstr (maps, "libhdf5") != NULL;
  g_free (maps);
  return mapped;
}

/* Runs `argv` with `env` (NULL: ours); its exit status, stdout and stderr. */
static int
run (const char *const *argv, char **env, char **out, char **err_text)
{
  int status = -1;
  GError *error = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, out, err_text, &status,
                     &error))
    g_error ("cannot run %s: %s", argv[0], error->message);
  return status;
}

/* The shared libraries `program` needs, as the dynamic loader resolves them (ldd's trace mode:
 * nothing of the program runs). */
static char *
loaded_libraries (const char *program)
{
  char **env = g_environ_setenv (g_get_environ (), "LD_TRACE_LOADED_OBJECTS", "1", TRUE);
  const char *argv[] = { program, NULL };
  char *out = NULL;
  int status = run (argv, env, &out, NULL);
  g_strfreev (env);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

static void
test_not_linked (void)
{
  const char *programs[] = { g_getenv ("OSH_BINARY"), "/proc/self/exe" };
  for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
    {
      g_assert_nonnull (programs[i]);
      char *libraries = loaded_libraries (programs[i]);
      /* A cross build's programs run under an emulator (meson's exe wrapper; qemu-user through
       * binfmt_misc for the programs a test starts): the host's loader then traces the
       * emulator's own libraries. */
      if (!strstr (libraries, "libzip") && g_getenv ("MESON_EXE_WRAPPER"))
        {
          g_free (libraries);
          g_test_skip ("under an emulator the loader's trace lists the emulator's libraries");
          return;
        }
      /* The trace did list libraries: libzip is linked by both. Neither HDF5 nor OpenBLAS (also
       * loaded on first use, osh-blas-lazy.h). */
      g_assert_nonnull (strstr (libraries, "libzip"));
      if (strstr (libraries, "libhdf5") || strstr (libraries, "libopenblas"))
        g_error ("%s needs libhdf5 or libopenblas at start-up:\n%s", programs[i], libraries);
      g_free (libraries);
    }
}

/* Writes seed.keras from the committed .h5 with `offshoot export`, in another process so that
 * this one has not loaded HDF5 yet. */
static char *
make_keras (const char *dir)
{
  char *h5 = osh_test_fixture ("edit/fixtures/seed/model.h5");
  char *keras = g_build_filename (dir, "seed.keras", NULL);
  const char *argv[] = { g_getenv ("OSH_BINARY"), "export", h5, "-o", keras, NULL };
  char *out = NULL, *err_text = NULL;
  int status = run (argv, NULL, &out, &err_text);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("offshoot export failed: %s", err_text);
  g_free (out);
  g_free (err_text);
  g_free (h5);
  return keras;
}

static void
test_mapped_only_for_hdf5 (void)
{
  g_assert_false (hdf5_mapped ());
  char *dir = g_dir_make_tmp ("osh-hdf5-lazy-XXXXXX", NULL);
  char *keras = make_keras (dir);
  OshError err = { 0 };

  /* A .keras's graph comes from its config.json. */
  OshGraph *graph = osh_model_load_graph (keras, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_cmpint (graph->n_layers, >, 3);
  g_assert_false (hdf5_mapped ());

  /* TF.js and ONNX never touch HDF5, weights included. */
  const char *others[] = { "edit/fixtures/seed/model.json",
                           "onnx/fixtures/mobilenet_v3_small_x025.onnx" };
  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    {
      char *path = osh_test_fixture (others[i]);
      OshGraph *g = osh_model_load (path, &err);
      g_assert_cmpstr (err.message, ==, "");
      g_assert_true (osh_graph_total_params (g, NULL) > 0);
      g_assert_false (hdf5_mapped ());
      osh_graph_free (g);
      g_free (path);
    }

  /* A .h5 loads the library, and reads the same model as the .keras made from it. */
  char *h5 = osh_test_fixture ("edit/fixtures/seed/model.h5");
  OshGraph *full = osh_model_load (h5, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_true (hdf5_mapped ());
  g_assert_cmpint (full->n_layers, ==, graph->n_layers);
  g_assert_cmpint (osh_graph_total_params (full, NULL), ==, osh_graph_total_params (graph, NULL));
  g_assert_true (osh_model_load_weights (graph, &err));
  g_assert_cmpstr (err.message, ==, "");

  osh_graph_free (full);
  osh_graph_free (graph);
  g_free (h5);
  g_remove (keras);
  g_rmdir (dir);
  g_free (keras);
  g_free (dir);
}

static void
assert_names_missing_library (const char *message)
{
  if (!strstr (message, "the HDF5 library " MISSING_LIBRARY " cannot be loaded")
      || !strstr (message, "cannot open shared object file"))
    g_error ("the error does not say which library is missing and why: %s", message);
}

/* In a child process (g_test_trap_subprocess) whose environment names a missing library. */
static void
missing_library_in_child (void)
{
  OshError err = { 0 };
  g_assert_false (osh_hdf5_load (&err));
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  assert_names_missing_library (err.message);

  /* The reader: the file, the library and why, not a damaged file. */
  memset (&err, 0, sizeof err);
  char *h5 = osh_test_fixture ("edit/fixtures/seed/model.h5");
  g_assert_null (osh_model_load (h5, &err));
  assert_names_missing_library (err.message);
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (err.message, h5));
  g_assert_null (strstr (err.message, "damaged"));

  /* The writer: a TF.js model (read without HDF5) saved as .h5. */
  memset (&err, 0, sizeof err);
  char *json = osh_test_fixture ("edit/fixtures/seed/model.json");
  OshGraph *g = osh_model_load (json, &err);
  g_assert_cmpstr (err.message, ==, "");
  char *dir = g_dir_make_tmp ("osh-hdf5-lazy-XXXXXX", NULL);
  char *out = g_build_filename (dir, "seed.h5", NULL);
  g_assert_false (osh_model_save (g, out, &err));
  assert_names_missing_library (err.message);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_false (hdf5_mapped ());

  osh_graph_free (g);
  g_rmdir (dir);
  g_free (out);
  g_free (dir);
  g_free (json);
  g_free (h5);
}

static void
test_missing_library (void)
{
  if (g_test_subprocess ())
    {
      missing_library_in_child ();
      return;
    }
  /* The child inherits the environment; this process has loaded HDF5 or reads the variable
   * only when it does, after it is gone again. */
  g_setenv ("OSH_HDF5_LIBRARY", MISSING_LIBRARY, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("OSH_HDF5_LIBRARY");
  g_test_trap_assert_passed ();
}

/* The CLI reads a .h5 in the guard's child first: its error reaches the user as is. */
static void
test_missing_library_cli (void)
{
  char **env = g_environ_setenv (g_get_environ (), "OSH_HDF5_LIBRARY", MISSING_LIBRARY, TRUE);
  char *h5 = osh_test_fixture ("edit/fixtures/seed/model.h5");
  const char *argv[] = { g_getenv ("OSH_BINARY"), "inspect", h5, NULL };
  char *out = NULL, *err_text = NULL;
  int status = run (argv, env, &out, &err_text);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  assert_names_missing_library (err_text);
  g_strfreev (env);
  g_free (out);
  g_free (err_text);
  g_free (h5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/readers/hdf5-lazy/not-linked", test_not_linked);
  g_test_add_func ("/readers/hdf5-lazy/mapped-only-for-hdf5", test_mapped_only_for_hdf5);
  g_test_add_func ("/readers/hdf5-lazy/missing-library", test_missing_library);
  g_test_add_func ("/readers/hdf5-lazy/missing-library-cli", test_missing_library_cli);
  return g_test_run ();
}
