/* cli-data.c — reading a class-folder or picture-and-mask data folder (cli-data.h). */
#include "cli-data.h"

#include <stdio.h>
#include <string.h>

static void
example_free (gpointer p)
{
  OshCliExample *e = p;
  g_free (e->picture);
  g_free (e->mask);
  g_free (e);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static GPtrArray *
sorted_entries (const char *dir, OshError *err)
{
  GError *error = NULL;
  GDir *d = g_dir_open (dir, 0, &error);
  if (!d)
    {
      osh_fail (err, OSH_ERR_IO, "%s: %s", dir, error->message);
      g_error_free (error);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (const char *n; (n = g_dir_read_name (d));)
    if (n[0] != '.')
      g_ptr_array_add (names, g_strdup (n));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_strings);
  return names;
}

static bool
is_picture (const char *name)
{
  static const char *const ext[] = { ".png", ".jpg", ".jpeg", ".bmp", ".gif" };
  size_t len = strlen (name);
  for (size_t i = 0; i < G_N_ELEMENTS (ext); i++)
    if (len > strlen (ext[i]) && g_ascii_strcasecmp (name + len - strlen (ext[i]), ext[i]) == 0)
      return true;
  return false;
}

static bool
is_mask_name (const char *name)
{
  const char *dot = strrchr (name, '.');
  return dot && dot - name >= 5
         && (strncmp (dot - 5, "-mask", 5) == 0 || strncmp (dot - 5, "_mask", 5) == 0);
}

/* The mask beside a picture, or NULL. */
static char *
mask_of (const char *dir, const char *name)
{
  const char *dot = strrchr (name, '.');
  static const char *const tails[] = { "-mask", "_mask" };
  for (size_t t = 0; t < G_N_ELEMENTS (tails); t++)
    {
      char *m = g_strdup_printf ("%.*s%s%s", (int) (dot - name), name, tails[t], dot);
      char *path = g_build_filename (dir, m, NULL);
      g_free (m);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return path;
      g_free (path);
    }
  return NULL;
}

bool
osh_cli_read_data (const char *dir, OshCliData *data, OshError *err)
{
  data->examples = g_ptr_array_new_with_free_func (example_free);
  data->classes = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *names = sorted_entries (dir, err);
  if (!names)
    return false;
  GString *orphans = g_string_new (NULL);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      char *path = g_build_filename (dir, n, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          GPtrArray *files = sorted_entries (path, err);
          if (!files)
            {
              g_free (path);
              g_ptr_array_unref (names);
              g_string_free (orphans, TRUE);
              return false;
            }
          bool any = false;
          for (guint j = 0; j < files->len; j++)
            any = any || is_picture (files->pdata[j]);
          if (!any)
            {
              osh_fail (err, OSH_ERR_USAGE, "%s: an empty class folder (no pictures)", path);
              g_free (path);
              g_ptr_array_unref (files);
              g_ptr_array_unref (names);
              g_string_free (orphans, TRUE);
              return false;
            }
          int label = (int) data->classes->len;
          g_ptr_array_add (data->classes, g_strdup (n));
          for (guint j = 0; j < files->len; j++)
            if (is_picture (files->pdata[j]))
              {
                OshCliExample *e = g_new0 (OshCliExample, 1);
                e->picture = g_build_filename (path, files->pdata[j], NULL);
                e->label = label;
                g_ptr_array_add (data->examples, e);
              }
          g_ptr_array_unref (files);
        }
      else if (is_picture (n) && !is_mask_name (n))
        {
          char *mask = mask_of (dir, n);
          if (!mask)
            g_string_append_printf (orphans, "%s%s", orphans->len ? ", " : "", n);
          else
            {
              OshCliExample *e = g_new0 (OshCliExample, 1);
              e->picture = g_strdup (path);
              e->mask = mask;
              e->label = -1;
              g_ptr_array_add (data->examples, e);
            }
        }
      g_free (path);
    }
  g_ptr_array_unref (names);
  if (orphans->len && data->examples->len)
    fprintf (stderr, "offshoot: skipped pictures without a mask: %s\n", orphans->str);
  g_string_free (orphans, TRUE);
  bool classes = data->classes->len > 0;
  for (guint i = 0; i < data->examples->len; i++)
    if ((((OshCliExample *) data->examples->pdata[i])->label >= 0) != classes)
      return osh_fail (err, OSH_ERR_USAGE,
                       "%s: holds both class folders and pictures with masks; use one layout", dir);
  if (data->examples->len == 0)
    return osh_fail (err, OSH_ERR_USAGE,
                     "%s: no training data (expected a folder per class, or pictures with "
                     "NAME-mask.png beside them)",
                     dir);
  return true;
}

void
osh_cli_data_clear (OshCliData *data)
{
  if (data->examples)
    g_ptr_array_unref (data->examples);
  if (data->classes)
    g_ptr_array_unref (data->classes);
  data->examples = data->classes = NULL;
}
