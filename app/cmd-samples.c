/* offshoot samples — write the bundled sample images, their masks, labels.txt and the tour's
 * model.
 *
 * The samples live in the data GResource under /io/offshoot/Offshoot/samples/ (made by
 * tools/train-default-model/train.mjs): two held-out images per class of the default model,
 * each with its segmentation mask (NAME-mask.png), and model.h5, the README tour's classifier
 * around a nested backbone (tests/edit/fixtures/seed). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cli.h"

#define SAMPLES_RESOURCE "/io/offshoot/Offshoot/samples"

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
osh_cmd_samples (int argc, char **argv)
{
  const char *cmd = argv[0], *dir = NULL;
  bool json = false;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-o") == 0 && i + 1 < argc)
        dir = argv[++i];
      else if (strcmp (argv[i], "--json") == 0)
        json = true;
      else
        return osh_cli_usage_error (cmd,
                                    argv[i][0] == '-' ? "unknown option '%s' (or it needs a value)"
                                                      : "unexpected argument '%s'",
                                    argv[i]);
    }
  if (!dir)
    return osh_cli_usage_error (cmd, "where to? (-o DIR)");

  char **names =
      g_resources_enumerate_children (SAMPLES_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (!names || !names[0])
    {
      g_strfreev (names);
      OshError err = { 0 };
      osh_fail (&err, OSH_ERR_IO, "this build has no bundled samples");
      return osh_cli_report (cmd, &err);
    }
  qsort (names, g_strv_length (names), sizeof *names, compare_names);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      OshError err = { 0 };
      osh_fail (&err, OSH_ERR_IO, "%s: cannot create the folder: %s", dir, g_strerror (errno));
      g_strfreev (names);
      return osh_cli_report (cmd, &err);
    }
  int status = OSH_EXIT_OK, pictures = 0, masks = 0;
  json_t *files = json_array ();
  for (char **n = names; *n && status == OSH_EXIT_OK; n++)
    {
      char *path = g_build_filename (SAMPLES_RESOURCE, *n, NULL);
      GBytes *bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      char *target = g_build_filename (dir, *n, NULL);
      GError *error = NULL;
      gsize size = 0;
      const char *data = bytes ? g_bytes_get_data (bytes, &size) : NULL;
      if (!bytes || !g_file_set_contents (target, data, (gssize) size, &error))
        {
          OshError err = { 0 };
          osh_fail (&err, OSH_ERR_IO, "%s: %s", target,
                    error ? error->message : "missing from the resources");
          status = osh_cli_report (cmd, &err);
        }
      else
        {
          json_array_append_new (files, json_string (target));
          masks += g_str_has_suffix (*n, "-mask.png");
          pictures += g_str_has_suffix (*n, ".png") && !g_str_has_suffix (*n, "-mask.png");
        }
      g_clear_error (&error);
      g_free (target);
      g_free (path);
      if (bytes)
        g_bytes_unref (bytes);
    }
  if (status == OSH_EXIT_OK && json)
    osh_cli_print_json (json_pack ("{s:s, s:O}", "folder", dir, "files", files));
  else if (status == OSH_EXIT_OK)
    printf ("Wrote %zu files to %s: model.h5 (a classifier around a nested backbone, the tour's "
            "model), %d pictures with %d masks, labels.txt\n",
            json_array_size (files), dir, pictures, masks);
  json_decref (files);
  g_strfreev (names);
  return status;
}
