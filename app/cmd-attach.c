/* offshoot attach MODEL EDITS -o OUT [--python SNIPPET.py]: attach heads and save the result,
 * and optionally the Keras code that makes the same edit on the user's own model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-edits.h"
#include "cli.h"
#include "osh-connectivity.h"
#include "osh-model.h"
#include "osh-snippet.h"

static bool
write_snippet (const OshGraph *original, const OshCliEdits *edits, const char *model,
               const char *out, const char *path, OshError *err)
{
  OshSnippetHead *heads = calloc ((size_t) edits->n, sizeof *heads);
  if (!heads)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  for (int i = 0; i < edits->n; i++)
    heads[i] =
        (OshSnippetHead){ edits->items[i].layer, &edits->items[i].spec, edits->items[i].names };
  char *py = osh_snippet_python (original, heads, edits->n, model, out, err);
  free (heads);
  if (!py)
    return false;
  FILE *f = fopen (path, "w");
  bool ok = f && fputs (py, f) >= 0;
  if (f && fclose (f) != 0)
    ok = false;
  free (py);
  return ok || osh_fail (err, OSH_ERR_IO, "%s: cannot write the snippet", path);
}

int
osh_cmd_attach (int argc, char **argv)
{
  OshError err = { 0 };
  OshCliEdits edits;
  if (!osh_cli_parse_edits (&argc, argv, &edits, &err))
    return osh_cli_report (argv[0], &err);
  const char *model = NULL, *out = NULL, *python = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-o") == 0 && i + 1 < argc)
        out = argv[++i];
      else if (strcmp (argv[i], "--python") == 0 && i + 1 < argc)
        python = argv[++i];
      else if (strcmp (argv[i], "--json") == 0)
        continue; /* osh_cli_json_mode */
      else if (argv[i][0] == '-' || model)
        {
          osh_cli_edits_clear (&edits);
          return osh_cli_usage_error (argv[0],
                                      argv[i][0] == '-'
                                          ? "unknown option '%s' (or it needs a value)"
                                          : "unexpected argument '%s'",
                                      argv[i]);
        }
      else
        model = argv[i];
    }
  if (!model || !out || edits.n == 0)
    {
      osh_cli_edits_clear (&edits);
      return osh_cli_usage_error (argv[0], !model ? "no MODEL given (a model file or @default)"
                                           : !out ? "-o OUT is required"
                                                  : "nothing to attach (--attach LAYER=HEAD)");
    }
  OshGraph *original = osh_cli_load_model (model, &err);
  OshGraph *g = original ? osh_graph_copy_sharing (original, &err) : NULL;
  OshConnectivity *c = NULL;
  int status = OSH_EXIT_USAGE;
  if (!g || !osh_cli_run_edits (&edits, &g, &err) || !(c = osh_connectivity_analyze (g, &err)))
    goto done;
  if (!c->connected)
    {
      osh_fail (&err, OSH_ERR_DISCONNECTED,
                "the edited model is disconnected, so it is not saved.\n%s\n\n%s", c->message,
                c->explanation);
      status = osh_cli_report_code (argv[0], &err, OSH_EXIT_MODEL);
      goto cleanup;
    }
  if (python && !write_snippet (original, &edits, model, out, python, &err))
    goto done;
  if (!osh_model_save (g, out, &err))
    goto done;
  json_t *heads = json_array ();
  for (int i = 0; i < edits.n; i++)
    {
      const char *head_out = edits.items[i].names[edits.items[i].spec.n_steps - 1];
      json_array_append_new (heads, json_pack ("{s:s, s:s, s:s}", "layer", edits.items[i].layer,
                                               "head", edits.items[i].head, "output", head_out));
      if (!osh_cli_json_mode ())
        printf ("Attached %s at %s: %s\n", edits.items[i].head, edits.items[i].layer, head_out);
    }
  if (osh_cli_json_mode ())
    osh_cli_print_json (json_pack ("{s:s, s:i, s:o, s:s?}", "output", out, "outputs", g->n_outputs,
                                   "heads", heads, "python", python));
  else
    {
      json_decref (heads);
      printf ("Saved %s (%d outputs)%s%s\n", out, g->n_outputs, python ? "; Keras snippet " : "",
              python ? python : "");
    }
  status = OSH_EXIT_OK;
  goto cleanup;
done:
  status = osh_cli_report (argv[0], &err);
cleanup:
  osh_connectivity_free (c);
  osh_graph_free (g);
  osh_graph_free (original);
  osh_cli_edits_clear (&edits);
  return status;
}
