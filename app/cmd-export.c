/* offshoot export MODEL [EDITS] [--input-shape D,D,...] -o OUT — writes MODEL (with any heads
 * attached) in the format OUT's name implies; --input-shape fixes open input sizes first, as
 * `run` and `bench` fix them for a run (a graph model whose Shape reads its open height and
 * width has no ONNX form until they are sizes). */
#include <stdio.h>
#include <string.h>

#include "cli-edits.h"
#include "cli.h"
#include "osh-model.h"
#include "osh-shapes.h"

static int export_model (int argc, char **argv, OshCliEdits *edits);

int
osh_cmd_export (int argc, char **argv)
{
  OshError err = { 0 };
  OshCliEdits edits;
  if (!osh_cli_parse_edits (&argc, argv, &edits, &err))
    return osh_cli_report (argv[0], &err);
  int status = export_model (argc, argv, &edits);
  osh_cli_edits_clear (&edits);
  return status;
}

static int
export_model (int argc, char **argv, OshCliEdits *edits)
{
  const char *model = NULL, *out = NULL;
  OshShape shapes[8];
  int n_shapes = 0, taken;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if ((taken = osh_cli_input_shape_option (argc, argv, &i, shapes, &n_shapes,
                                               (int) G_N_ELEMENTS (shapes))))
        {
          if (taken != 1)
            return taken;
        }
      else if (strcmp (a, "-o") == 0 || strcmp (a, "--output") == 0)
        {
          if (++i >= argc)
            return osh_cli_usage_error (argv[0], "%s needs a file name", a);
          out = argv[i];
        }
      else if (strncmp (a, "--output=", 9) == 0)
        out = a + 9;
      else if (strcmp (a, "--json") == 0)
        continue; /* osh_cli_json_mode */
      else if (a[0] == '-' && a[1] != '\0')
        return osh_cli_usage_error (argv[0], "unknown option '%s'", a);
      else if (!model)
        model = a;
      else
        return osh_cli_usage_error (argv[0], "one MODEL only ('%s' and '%s' given)", model, a);
    }
  if (!model)
    return osh_cli_usage_error (argv[0], "no MODEL given (a model file or @default)");
  if (!out)
    return osh_cli_usage_error (argv[0], "missing -o OUT (.keras, .h5, model.json or .onnx)");
  OshFormat format = osh_format_from_name (out);
  if (format == OSH_FORMAT_UNKNOWN)
    return osh_cli_usage_error (
        argv[0], "cannot tell the format of '%s' (use .keras, .h5, .json or .onnx)", out);

  OshError err = { 0 };
  OshGraph *g = osh_cli_load_model (model, &err);
  if (g && n_shapes && !osh_graph_open_inputs (g))
    {
      osh_graph_free (g);
      return osh_cli_usage_error (argv[0], "--input-shape: %s has no open input sizes", model);
    }
  /* Fixed before the edits, so heads are built for these sizes too. */
  if (!g || (n_shapes && !osh_graph_specialize (g, shapes, n_shapes, &err))
      || !osh_cli_run_edits (edits, &g, &err))
    {
      osh_graph_free (g);
      return osh_cli_report (argv[0], &err);
    }
  bool ok = osh_model_save (g, out, &err);
  if (!ok && err.code == OSH_ERR_USAGE && !n_shapes && osh_graph_open_inputs (g))
    {
      /* The writer needs sizes the file leaves open: say how to give them. */
      char example[160], message[sizeof err.message + sizeof example + 64];
      osh_cli_example_shape (g, example, sizeof example);
      snprintf (message, sizeof message, "%s (--input-shape, e.g. --input-shape %s)", err.message,
                example);
      g_strlcpy (err.message, message, sizeof err.message);
    }
  if (ok)
    {
      int64_t trainable = 0, params = osh_graph_total_params (g, &trainable);
      if (osh_cli_json_mode ())
        osh_cli_print_json (json_pack ("{s:s, s:s, s:i, s:I, s:I}", "output", out, "format",
                                       osh_format_name (format), "layers", g->n_layers,
                                       "total_params", (json_int_t) params, "trainable_params",
                                       (json_int_t) trainable));
      else
        printf ("Wrote %s (%s, %d layers, %lld parameters)\n", out, osh_format_name (format),
                g->n_layers, (long long) params);
    }
  osh_graph_free (g);
  return ok ? OSH_EXIT_OK : osh_cli_report (argv[0], &err);
}
