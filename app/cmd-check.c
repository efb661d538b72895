/* offshoot check MODEL [EDITS] [--json] [--fix ID [-o OUT]]: the connectivity report.
 * Exit 1 when the (edited, or fixed) model is disconnected. */
#include <stdlib.h>
#include <string.h>

#include "cli-edits.h"
#include "cli.h"
#include "osh-connectivity.h"
#include "osh-fixes.h"
#include "osh-model.h"

static json_t *
path_array_nodes (const OshGraph *g, const int *nodes, int n)
{
  json_t *a = json_array ();
  for (int i = 0; i < n; i++)
    {
      char *p = osh_graph_layer_path (g, g->nodes[nodes[i]].layer);
      json_array_append_new (a, json_string (p ? p : ""));
      free (p);
    }
  return a;
}

static json_t *
report_json (const OshGraph *g, const OshConnectivity *c)
{
  json_t *outs = json_array (), *unused = json_array (), *bridges = json_array (),
         *fixes = json_array ();
  for (int o = 0; o < c->n_outputs; o++)
    if (!c->output_ok[o])
      {
        char *name = osh_connectivity_output_name (g, o);
        json_array_append_new (outs, json_string (name ? name : ""));
        free (name);
      }
  for (int i = 0; i < c->n_unused_layers; i++)
    {
      char *p = osh_graph_layer_path (g, c->unused_layers[i]);
      json_array_append_new (unused, json_string (p ? p : ""));
      free (p);
    }
  for (int i = 0; i < c->n_bridges; i++)
    {
      char *from = osh_graph_layer_path (g, g->nodes[c->bridges[i].from_node].layer);
      char *to = c->bridges[i].to_node < 0
                     ? strdup ("(model output)")
                     : osh_graph_layer_path (g, g->nodes[c->bridges[i].to_node].layer);
      json_array_append_new (
          bridges, json_pack ("{s:s, s:s}", "from", from ? from : "", "to", to ? to : ""));
      free (from);
      free (to);
    }
  for (int i = 0; i < c->n_fixes; i++)
    json_array_append_new (fixes, json_pack ("{s:s, s:s}", "id", c->fixes[i].id, "description",
                                             c->fixes[i].description));
  return json_pack ("{s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "connected", c->connected, "message",
                    c->message ? json_string (c->message) : json_null (), "disconnected_outputs",
                    outs, "foreign_roots",
                    path_array_nodes (g, c->foreign_roots, c->n_foreign_roots), "bridges", bridges,
                    "unused_layers", unused, "fixes", fixes);
}

static void
print_list (const char *title, const json_t *items, const char *key)
{
  if (json_array_size (items) == 0)
    return;
  printf ("%s:", title);
  size_t i;
  const json_t *v;
  json_array_foreach (items, i, v)
    {
      if (key)
        printf ("\n  %s -> %s", json_string_value (json_object_get (v, "from")),
                json_string_value (json_object_get (v, key)));
      else
        printf ("%s %s", i ? "," : "", json_string_value (v));
    }
  printf ("\n");
}

static void
print_report (const json_t *r, const OshConnectivity *c)
{
  if (c->connected)
    printf ("Connected: every output can be computed from the model's inputs.\n");
  else
    printf ("%s\n\n%s\n\n", c->message, c->explanation);
  print_list ("Disconnected outputs", json_object_get (r, "disconnected_outputs"), NULL);
  print_list ("Foreign roots", json_object_get (r, "foreign_roots"), NULL);
  print_list ("Bridges", json_object_get (r, "bridges"), "to");
  print_list ("Unused layers", json_object_get (r, "unused_layers"), NULL);
  for (int i = 0; i < c->n_fixes; i++)
    printf ("%s  %-28s %s\n", i ? "" : "Fixes (offshoot check MODEL --fix ID -o OUT):\n",
            c->fixes[i].id, c->fixes[i].description);
}

int
osh_cmd_check (int argc, char **argv)
{
  OshError err = { 0 };
  OshCliEdits edits;
  if (!osh_cli_parse_edits (&argc, argv, &edits, &err))
    return osh_cli_report (argv[0], &err);
  const char *model = NULL, *fix_id = NULL, *out = NULL;
  bool json = false;
  int status = OSH_EXIT_USAGE;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--json") == 0)
        json = true;
      else if (strcmp (argv[i], "--fix") == 0 && i + 1 < argc)
        fix_id = argv[++i];
      else if (strcmp (argv[i], "-o") == 0 && i + 1 < argc)
        out = argv[++i];
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
  if (!model || (out && !fix_id))
    {
      osh_cli_edits_clear (&edits);
      return osh_cli_usage_error (argv[0], model ? "-o needs --fix ID"
                                                 : "no MODEL given (a model file or @default)");
    }
  OshGraph *g = osh_cli_load_model (model, &err);
  OshConnectivity *c = NULL;
  if (!g || !osh_cli_run_edits (&edits, &g, &err) || !(c = osh_connectivity_analyze (g, &err)))
    goto fail;
  if (fix_id)
    {
      const OshFix *fix = osh_fix_find (c, fix_id);
      if (!fix)
        {
          osh_fail (&err, OSH_ERR_USAGE, "no fix '%s' for this model%s", fix_id,
                    c->n_fixes ? " (see the list without --fix)" : ": it is connected");
          goto fail;
        }
      OshGraph *fixed = osh_fix_apply (g, fix, &err);
      if (!fixed)
        goto fail;
      osh_graph_free (g);
      g = fixed;
      osh_connectivity_free (c);
      if (!(c = osh_connectivity_analyze (g, &err)) || (out && !osh_model_save (g, out, &err)))
        goto fail;
      if (!json)
        printf ("Applied %s%s%s.\n", fix_id, out ? "; saved " : "", out ? out : "");
    }
  json_t *r = report_json (g, c);
  if (json)
    {
      char *text = json_dumps (r, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      printf ("%s\n", text ? text : "null");
      free (text);
    }
  else
    print_report (r, c);
  json_decref (r);
  status = c->connected ? OSH_EXIT_OK : OSH_EXIT_MODEL;
  osh_connectivity_free (c);
  osh_graph_free (g);
  osh_cli_edits_clear (&edits);
  return status;
fail:
  status = osh_cli_report (argv[0], &err);
  osh_connectivity_free (c);
  osh_graph_free (g);
  osh_cli_edits_clear (&edits);
  return status;
}
