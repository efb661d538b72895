/* osh-fit-data.c — reading a class-folder or picture-and-mask data folder (osh-fit-data.h). */
#include "osh-fit-data.h"

#include <string.h>

static void
example_free (gpointer p)
{
  OshFitExample *e = p;
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

/* The mask of picture `name` in `dir`: NAME-mask.EXT or NAME_mask.EXT beside it, else
 * MASKS/NAME.EXT or MASKS/NAME.png in the parallel folder `masks` (may be NULL); NULL when none. */
static char *
mask_of (const char *dir, const char *name, const char *masks)
{
  const char *dot = strrchr (name, '.');
  int stem = (int) (dot - name);
  char *tries[4] = { g_strdup_printf ("%s/%.*s-mask%s", dir, stem, name, dot),
                     g_strdup_printf ("%s/%.*s_mask%s", dir, stem, name, dot),
                     masks ? g_strdup_printf ("%s/%s", masks, name) : NULL,
                     masks ? g_strdup_printf ("%s/%.*s.png", masks, stem, name) : NULL };
  char *found = NULL;
  for (size_t t = 0; t < G_N_ELEMENTS (tries); t++)
    {
      if (!found && tries[t] && g_file_test (tries[t], G_FILE_TEST_IS_REGULAR))
        found = tries[t];
      else
        g_free (tries[t]);
    }
  return found;
}

static void
add_example (OshFitData *data, const char *dir, const char *name, char *mask, int label)
{
  OshFitExample *e = g_new0 (OshFitExample, 1);
  e->picture = g_build_filename (dir, name, NULL);
  e->mask = mask;
  e->label = label;
  g_ptr_array_add (data->examples, e);
}

/* Whether the mask NAME-mask.EXT (or NAME_mask.EXT) in `names` has a picture NAME.* there. */
static bool
mask_has_picture (GPtrArray *names, const char *mask)
{
  size_t stem = (size_t) (strrchr (mask, '.') - mask) - 5;
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      if (n != mask && is_picture (n) && !is_mask_name (n) && strncmp (n, mask, stem) == 0
          && n[stem] == '.')
        return true;
    }
  return false;
}

/* The pictures directly in `dir` that have a mask (the others are listed in `orphans`, masks
 * without a picture in `lonely`). */
static bool
read_loose (const char *dir, const char *masks, OshFitData *data, GString *orphans, GString *lonely,
            OshError *err)
{
  GPtrArray *names = sorted_entries (dir, err);
  if (!names)
    return false;
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      if (is_picture (n) && is_mask_name (n) && !mask_has_picture (names, n))
        g_string_append_printf (lonely, "%s%s", lonely->len ? ", " : "", n);
      char *path = g_build_filename (dir, n, NULL);
      if (is_picture (n) && !is_mask_name (n) && !g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          char *mask = mask_of (dir, n, masks);
          if (!mask)
            g_string_append_printf (orphans, "%s%s", orphans->len ? ", " : "", n);
          else
            add_example (data, dir, n, mask, -1);
        }
      g_free (path);
    }
  g_ptr_array_unref (names);
  return true;
}

/* A class folder: its pictures, each with its mask when it has one (beside it, or in
 * MASKS/CLASS/). */
static bool
read_class (const char *path, const char *name, const char *masks, OshFitData *data, OshError *err)
{
  GPtrArray *files = sorted_entries (path, err);
  if (!files)
    return false;
  bool any = false;
  for (guint j = 0; j < files->len; j++)
    any = any || (is_picture (files->pdata[j]) && !is_mask_name (files->pdata[j]));
  if (!any)
    {
      g_ptr_array_unref (files);
      return osh_fail (err, OSH_ERR_USAGE, "%s: an empty class folder (no pictures)", path);
    }
  int label = (int) data->classes->len;
  g_ptr_array_add (data->classes, g_strdup (name));
  char *class_masks = masks ? g_build_filename (masks, name, NULL) : NULL;
  for (guint j = 0; j < files->len; j++)
    if (is_picture (files->pdata[j]) && !is_mask_name (files->pdata[j]))
      add_example (data, path, files->pdata[j], mask_of (path, files->pdata[j], class_masks),
                   label);
  g_free (class_masks);
  g_ptr_array_unref (files);
  return true;
}

bool
osh_fit_data_read (const char *dir, OshFitData *data, OshError *err)
{
  data->examples = g_ptr_array_new_with_free_func (example_free);
  data->classes = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *names = sorted_entries (dir, err);
  if (!names)
    return false;
  char *masks = g_build_filename (dir, "masks", NULL);
  if (!g_file_test (masks, G_FILE_TEST_IS_DIR))
    g_clear_pointer (&masks, g_free);
  GString *orphans = g_string_new (NULL), *lonely = g_string_new (NULL);
  bool ok = true, loose = false;
  for (guint i = 0; i < names->len && ok; i++)
    {
      const char *n = names->pdata[i];
      char *path = g_build_filename (dir, n, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        ;
      else if (masks && strcmp (n, "masks") == 0)
        ; /* the parallel masks folder, not a class */
      else if (masks && strcmp (n, "images") == 0)
        ok = read_loose (path, masks, data, orphans, lonely, err), loose = true;
      else
        ok = read_class (path, n, masks, data, err);
      g_free (path);
    }
  if (ok && !loose)
    ok = read_loose (dir, masks, data, orphans, lonely, err);
  g_ptr_array_unref (names);
  g_free (masks);
  data->skipped_pictures = g_string_free (orphans, !(ok && orphans->len && data->examples->len));
  data->skipped_masks = g_string_free (lonely, !(ok && lonely->len));
  if (!ok)
    return false;
  bool classes = data->classes->len > 0;
  for (guint i = 0; i < data->examples->len; i++)
    if ((((OshFitExample *) data->examples->pdata[i])->label >= 0) != classes)
      return osh_fail (err, OSH_ERR_USAGE,
                       "%s: holds both class folders and pictures with masks; use one layout", dir);
  if (data->examples->len == 0)
    return osh_fail (err, OSH_ERR_USAGE,
                     "%s: no training data (expected a folder per class, or pictures with "
                     "NAME-mask.png beside them or in a masks/ folder)",
                     dir);
  return true;
}

void
osh_fit_data_clear (OshFitData *data)
{
  if (data->examples)
    g_ptr_array_unref (data->examples);
  if (data->classes)
    g_ptr_array_unref (data->classes);
  g_clear_pointer (&data->skipped_pictures, g_free);
  g_clear_pointer (&data->skipped_masks, g_free);
  data->examples = data->classes = NULL;
}

int
osh_fit_data_count_class (const OshFitData *data, int c)
{
  int n = 0;
  for (guint i = 0; i < data->examples->len; i++)
    n += ((const OshFitExample *) data->examples->pdata[i])->label == c;
  return n;
}

int
osh_fit_data_count_masks (const OshFitData *data)
{
  int n = 0;
  for (guint i = 0; i < data->examples->len; i++)
    n += ((const OshFitExample *) data->examples->pdata[i])->mask != NULL;
  return n;
}
