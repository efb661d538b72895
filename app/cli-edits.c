/* The EDITS arguments: parsing --attach/--attach-mode and applying them (see cli-edits.h). */
#include "cli-edits.h"

#include <stdlib.h>
#include <string.h>

void
osh_cli_edits_clear (OshCliEdits *edits)
{
  for (int i = 0; i < edits->n; i++)
    {
      OshCliAttach *a = &edits->items[i];
      free (a->layer);
      free (a->head);
      for (int k = 0; a->names && k < a->spec.n_steps; k++)
        free (a->names[k]);
      free (a->names);
    }
  free (edits->items);
  *edits = (OshCliEdits){ 0 };
}

static bool
add_attach (OshCliEdits *edits, const char *arg, OshError *err)
{
  const char *eq = strchr (arg, '=');
  if (!eq || eq == arg || !eq[1])
    return osh_fail (err, OSH_ERR_USAGE,
                     "--attach '%s': expected LAYER=HEAD, e.g. "
                     "block5a_expand_conv=seg",
                     arg);
  OshCliAttach *items = realloc (edits->items, (size_t) (edits->n + 1) * sizeof *items);
  if (!items)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  edits->items = items;
  OshCliAttach *a = &items[edits->n];
  *a = (OshCliAttach){ strndup (arg, (size_t) (eq - arg)), strdup (eq + 1) };
  edits->n++;
  if (!a->layer || !a->head)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  return osh_head_parse (a->head, &a->spec, err);
}

bool
osh_cli_parse_edits (int *argc, char **argv, OshCliEdits *edits, OshError *err)
{
  *edits = (OshCliEdits){ 0 };
  int out = 1;
  bool ok = true;
  for (int i = 1; i < *argc; i++)
    {
      const char *a = argv[i];
      if (ok && strcmp (a, "--attach") == 0)
        {
          if (i + 1 >= *argc)
            ok = osh_fail (err, OSH_ERR_USAGE, "--attach needs LAYER=HEAD");
          else
            ok = add_attach (edits, argv[++i], err);
        }
      else if (ok && strncmp (a, "--attach=", 9) == 0)
        ok = add_attach (edits, a + 9, err);
      else if (ok && (strcmp (a, "--attach-mode") == 0 || strncmp (a, "--attach-mode=", 14) == 0))
        {
          const char *mode = a[13] == '=' ? a + 14 : (i + 1 < *argc ? argv[++i] : "");
          if (strcmp (mode, "keras") == 0)
            edits->mode = OSH_ATTACH_KERAS;
          else if (strcmp (mode, "connected") == 0)
            edits->mode = OSH_ATTACH_CONNECTED;
          else
            ok = osh_fail (err, OSH_ERR_USAGE, "--attach-mode is 'keras' or 'connected', not '%s'",
                           mode);
        }
      else
        argv[out++] = argv[i];
    }
  *argc = out;
  argv[out] = NULL;
  if (!ok)
    osh_cli_edits_clear (edits);
  return ok;
}

bool
osh_cli_run_edits (OshCliEdits *edits, OshGraph **g, OshError *err)
{
  for (int i = 0; i < edits->n; i++)
    {
      OshCliAttach *a = &edits->items[i];
      a->names = calloc ((size_t) a->spec.n_steps, sizeof *a->names);
      if (!a->names)
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      OshGraph *next = osh_head_attach (*g, a->layer, &a->spec, edits->mode, a->names, err);
      if (!next)
        {
          free (a->names);
          a->names = NULL;
          return false;
        }
      osh_graph_free (*g);
      *g = next;
    }
  return true;
}

bool
osh_cli_apply_edits (int *argc, char **argv, OshGraph **g, OshError *err)
{
  OshCliEdits edits;
  if (!osh_cli_parse_edits (argc, argv, &edits, err))
    return false;
  bool ok = osh_cli_run_edits (&edits, g, err);
  osh_cli_edits_clear (&edits);
  return ok;
}
