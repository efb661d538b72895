/* offshoot samples — write the bundled sample images, their masks and labels.txt.
 *
 * The samples live in the data GResource under /io/offshoot/Offshoot/samples/ (made by
 * tools/train-default-model/train.mjs): two held-out images per class of the default model,
 * each with its segmentation mask (NAME-mask.png). */
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
        return osh_cli_usage_error (cmd, "unexpected argument: %s", argv[i]);
    }
  if (!dir)
    return osh_cli_usage_error (cmd, "where to? (-o DIR)");

  char **names =
      g_resources_enumerate_children (SAMPLES_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (!names || !names[0])
    {
      g_strfreev (names);
      fprintf (stderr, "offshoot %s: this build has no bundled samples\n", cmd);
      return OSH_EXIT_USAGE;
    }
  qsort (names, g_strv_length (names), sizeof *names, compare_names);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      fprintf (stderr, "offshoot %s: %s: cannot create the folder: %s\n", cmd, dir,
               g_strerror (errno));
      g_strfreev (names);
      return OSH_EXIT_USAGE;
    }
  int status = OSH_EXIT_OK;
  GString *listing = g_string_new (NULL);
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
          fprintf (stderr, "offshoot %s: %s: %s\n", cmd, target,
                   error ? error->message : "missing from the resources");
          status = OSH_EXIT_USAGE;
        }
      else if (json)
        {
          char *quoted = g_strescape (target, NULL);
          g_string_append_printf (listing, "%s\"%s\"", listing->len ? "," : "", quoted);
          g_free (quoted);
        }
      else
        printf ("wrote %s\n", target);
      g_clear_error (&error);
      g_free (target);
      g_free (path);
      if (bytes)
        g_bytes_unref (bytes);
    }
  if (json && status == OSH_EXIT_OK)
    printf ("{\"files\":[%s]}\n", listing->str);
  g_string_free (listing, TRUE);
  g_strfreev (names);
  return status;
}
