/* Every input a fuzzer ever crashed a reader with is kept under tests/fuzz/regressions/<reader>/
 * and replayed here (under the sanitizer build in CI): it must load or fail with a message,
 * never crash, hang or leak. */
#include <string.h>

#include "osh-fuzz-targets.h"
#include "osh-test.h"

static void
replay (gconstpointer data)
{
  const OshFuzzTarget *target = data;
  g_autofree char *dir_path = osh_test_fixture ("fuzz/regressions");
  g_autofree char *folder = g_build_filename (dir_path, target->name, NULL);
  GDir *dir = g_dir_open (folder, 0, NULL);
  g_assert_nonnull (dir);
  int replayed = 0;
  const char *entry;
  while ((entry = g_dir_read_name (dir)))
    {
      if (entry[0] == '.' || g_str_has_suffix (entry, ".md"))
        continue;
      g_autofree char *path = g_build_filename (folder, entry, NULL);
      g_autofree char *bytes = NULL;
      gsize size = 0;
      g_assert_true (g_file_get_contents (path, &bytes, &size, NULL));
      OshError err = { 0 };
      if (!target->feed ((const unsigned char *) bytes, size, &err))
        {
          g_assert_cmpint (err.code, !=, OSH_OK);
          g_assert_cmpstr (err.message, !=, "");
        }
      replayed++;
    }
  g_dir_close (dir);
  g_test_message ("%s: %d inputs replayed", target->name, replayed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int i = 0; i < osh_fuzz_targets_count; i++)
    {
      g_autofree char *path =
          g_strdup_printf ("/robustness/fuzz-regressions/%s", osh_fuzz_targets[i].name);
      g_test_add_data_func (path, &osh_fuzz_targets[i], replay);
    }
  return g_test_run ();
}
