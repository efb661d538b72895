/* osh-layer-names.c — suggestions for a layer path that is not in the model. */
#include "osh-layer-names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osh-strbuf.h"

#define MAX_SUGGESTIONS 3

/* Levenshtein distance, one row at a time; names are short (paths under a few hundred bytes). */
static int
edit_distance (const char *a, const char *b)
{
  size_t na = strlen (a), nb = strlen (b);
  int *row = malloc ((nb + 1) * sizeof *row);
  if (!row)
    return INT32_MAX;
  for (size_t j = 0; j <= nb; j++)
    row[j] = (int) j;
  for (size_t i = 1; i <= na; i++)
    {
      int diagonal = row[0];
      row[0] = (int) i;
      for (size_t j = 1; j <= nb; j++)
        {
          int above = row[j];
          int best = diagonal + (a[i - 1] != b[j - 1]);
          if (above + 1 < best)
            best = above + 1;
          if (row[j - 1] + 1 < best)
            best = row[j - 1] + 1;
          row[j] = best;
          diagonal = above;
        }
    }
  int d = row[nb];
  free (row);
  return d;
}

static const char *
last_part (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash ? slash + 1 : path;
}

/* How far `path` (a layer of the model) is from what was asked: the whole paths, or the last
 * parts (the layer's own name) when the nesting is what differs. */
static int
distance (const char *asked, const char *path)
{
  int whole = edit_distance (asked, path);
  int own = edit_distance (last_part (asked), last_part (path));
  /* The same own name under a different nesting is a near miss, ranked just after exact
   * spellings of the whole path. */
  if (strcmp (asked, path) != 0 && own == 0)
    return 1;
  return whole < own + 2 ? whole : own + 2;
}

bool
osh_fail_no_layer (const OshGraph *g, const char *asked, OshError *err)
{
  int best[MAX_SUGGESTIONS], best_d[MAX_SUGGESTIONS], n = 0, nested = -1;
  for (int l = 0; l < g->n_layers; l++)
    {
      if (nested < 0 && g->layers[l].owner >= 0 && !g->layers[l].is_model
          && strcmp (g->layers[l].class_name, "InputLayer") != 0)
        nested = l;
      char *path = osh_graph_layer_path (g, l);
      if (!path)
        continue;
      int d = distance (asked, path);
      free (path);
      /* Insert into the sorted list of the closest (earlier layers win ties). */
      int at = n;
      while (at > 0 && best_d[at - 1] > d)
        at--;
      if (at >= MAX_SUGGESTIONS)
        continue;
      if (n < MAX_SUGGESTIONS)
        n++;
      for (int k = n - 1; k > at; k--)
        best[k] = best[k - 1], best_d[k] = best_d[k - 1];
      best[at] = l, best_d[at] = d;
    }
  OshStrbuf b = { 0 };
  osh_strbuf_printf (&b, "no layer '%s' in the model", asked);
  for (int k = 0; k < n; k++)
    {
      char *path = osh_graph_layer_path (g, best[k]);
      osh_strbuf_printf (&b, "%s'%s'", k == 0 ? "; the closest: " : ", ", path ? path : "?");
      free (path);
    }
  if (nested >= 0)
    {
      char *path = osh_graph_layer_path (g, nested);
      osh_strbuf_printf (&b, " (nested layers are named by path, like '%s')", path ? path : "?");
      free (path);
    }
  char *text = osh_strbuf_steal (&b);
  osh_fail (err, OSH_ERR_NOT_FOUND, "%s", text ? text : "no such layer in the model");
  free (text);
  return false;
}
