/* osh-class-names.c — reading, keeping and choosing class names (osh-class-names.h). */
#include "osh-class-names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osh-file-bytes.h"

static char *
trimmed_copy (const char *start, const char *end)
{
  while (start < end && (*start == ' ' || *start == '\t' || *start == '\r'))
    start++;
  while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
    end--;
  char *s = malloc ((size_t) (end - start) + 1);
  if (s)
    {
      memcpy (s, start, (size_t) (end - start));
      s[end - start] = '\0';
    }
  return s;
}

char **
osh_class_names_parse (const char *text, bool skip_comments, int *n)
{
  *n = 0;
  size_t lines = 1;
  for (const char *p = text; *p; p++)
    lines += *p == '\n';
  char **names = calloc (lines + 1, sizeof *names);
  if (!names)
    return NULL;
  bool header = skip_comments;
  int count = 0;
  for (const char *p = text; *p;)
    {
      const char *end = strchr (p, '\n');
      if (!end)
        end = p + strlen (p);
      header = header && *p == '#';
      if (!header)
        {
          names[count] = trimmed_copy (p, end);
          if (!names[count])
            {
              osh_class_names_free (names);
              return NULL;
            }
          count++;
        }
      p = *end ? end + 1 : end;
    }
  while (count > 0 && names[count - 1][0] == '\0')
    {
      free (names[--count]);
      names[count] = NULL;
    }
  *n = count;
  return names;
}

char **
osh_class_names_read (const char *path, int *n, OshError *err)
{
  OshFileBytes *b = osh_file_bytes_open (path, OSH_FILE_BYTES_MAPPED, err);
  if (!b)
    return NULL;
  char **names = osh_class_names_parse (b->data, false, n);
  osh_file_bytes_close (b);
  if (!names)
    osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory reading class names", path);
  return names;
}

void
osh_class_names_free (char **names)
{
  if (!names)
    return;
  for (char **p = names; *p; p++)
    free (*p);
  free (names);
}

char **
osh_class_names_get (const OshGraph *g, int *n)
{
  *n = 0;
  const json_t *list = json_object_get (g->meta, OSH_META_CLASS_NAMES);
  size_t size = json_array_size (list);
  if (size == 0)
    return NULL;
  char **names = calloc (size + 1, sizeof *names);
  for (size_t i = 0; names && i < size; i++)
    {
      const char *s = json_string_value (json_array_get (list, i));
      names[i] = strdup (s ? s : "");
      if (!names[i])
        {
          osh_class_names_free (names);
          return NULL;
        }
    }
  *n = names ? (int) size : 0;
  return names;
}

void
osh_class_names_set (OshGraph *g, const char *const *names, int n)
{
  if (n <= 0)
    {
      json_object_del (g->meta, OSH_META_CLASS_NAMES);
      return;
    }
  json_t *list = json_array ();
  for (int i = 0; i < n; i++)
    json_array_append_new (list, json_string (names[i]));
  json_object_set_new (g->meta, OSH_META_CLASS_NAMES, list);
}

void
osh_class_names_take_beside (OshGraph *g, const char *model_path)
{
  if (json_array_size (json_object_get (g->meta, OSH_META_CLASS_NAMES)) > 0)
    return;
  const char *slash = strrchr (model_path, '/');
  int dir_len = slash ? (int) (slash - model_path) + 1 : 0;
  char *path = malloc ((size_t) dir_len + sizeof "labels.txt");
  if (!path)
    return;
  snprintf (path, (size_t) dir_len + sizeof "labels.txt", "%.*slabels.txt", dir_len, model_path);
  OshError ignored = { 0 };
  int n = 0;
  char **names = access (path, R_OK) == 0 ? osh_class_names_read (path, &n, &ignored) : NULL;
  osh_class_names_set (g, (const char *const *) names, n);
  osh_class_names_free (names);
  free (path);
}

const char *const *
osh_class_names_for_output (const char *const *names, int n, int64_t n_classes,
                            const char *const *imagenet, int n_imagenet, char **warning)
{
  *warning = NULL;
  if (n > 0 && n == n_classes)
    return names;
  if (n == 0)
    return n_classes == 1000 && n_imagenet == 1000 ? imagenet : NULL;
  /* Names for another output (or another model) would label this one wrongly. */
  char buf[160];
  snprintf (buf, sizeof buf, "%d class names for %lld classes: the names are not used", n,
            (long long) n_classes);
  *warning = strdup (buf);
  return NULL;
}
