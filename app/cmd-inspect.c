/* offshoot inspect MODEL [--input-shape D,D,...] [--weights] [--json] — the layers of a model,
 * their output shapes and parameters, printed like Keras's model.summary(), or as the JSON
 * document of DESIGN.md. Weight values are read only with --weights (a NaN/Inf check). A model whose inputs leave sizes open (Keras None, ONNX symbolic sizes) is shown at
 * the given input shapes (osh_graph_specialize); without them the sizes that follow the open ones
 * read None, and a note says so. */
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "osh-flops.h"
#include "osh-model.h"
#include "osh-shapes.h"

/* A shape as JSON: an array with null for unknown sizes; null when nothing is inferred. */
static json_t *
shape_json (const OshShape *s)
{
  if (s->rank == 0)
    return json_null ();
  json_t *a = json_array ();
  for (int i = 0; i < s->rank; i++)
    json_array_append_new (a, s->dim[i] < 0 ? json_null () : json_integer (s->dim[i]));
  return a;
}

static const OshShape *
ref_shape (const OshGraph *g, OshRef r)
{
  static const OshShape none = { 0 };
  const OshNode *n = &g->nodes[r.node];
  return n->shapes && r.index < n->n_outputs ? &n->shapes[r.index] : &none;
}

/* The first output shape of a layer's first call (Keras's layer.output_shape). */
static const OshShape *
layer_shape (const OshGraph *g, int layer)
{
  int node = osh_graph_layer_first_node (g, layer);
  if (node < 0)
    return ref_shape (g, (OshRef){ 0, 1 << 30 });
  return ref_shape (g, (OshRef){ node, 0 });
}

static json_t *
io_json (const OshGraph *g, const OshRef *refs, int n)
{
  json_t *a = json_array ();
  for (int i = 0; i < n; i++)
    {
      char *name = osh_graph_layer_path (g, g->nodes[refs[i].node].layer);
      json_array_append_new (
          a, json_pack ("{s:s, s:o}", "name", name, "shape", shape_json (ref_shape (g, refs[i]))));
      free (name);
    }
  return a;
}

/* The layers that feed `layer`, over all its calls, in order. */
static json_t *
inbound_json (const OshGraph *g, int layer)
{
  json_t *a = json_array ();
  for (int n = 0; n < g->n_nodes; n++)
    if (g->nodes[n].layer == layer)
      for (int i = 0; i < g->nodes[n].n_inputs; i++)
        {
          int from = g->nodes[g->nodes[n].inputs[i].node].layer;
          json_array_append_new (a, json_string (g->layers[from].name));
        }
  return a;
}

static json_t *
layers_json (const OshGraph *g, int owner)
{
  json_t *a = json_array ();
  for (int i = 0; i < g->n_layers; i++)
    {
      if (g->layers[i].owner != owner)
        continue;
      int64_t trainable = 0;
      json_t *l = json_pack ("{s:s, s:s, s:o, s:o, s:I, s:I}", "name", g->layers[i].name,
                             "class_name", g->layers[i].class_name, "inbound", inbound_json (g, i),
                             "output_shape", shape_json (layer_shape (g, i)), "params",
                             (json_int_t) osh_graph_layer_params (g, i, &trainable),
                             "trainable_params", (json_int_t) trainable);
      if (g->layers[i].is_model)
        json_object_set_new (l, "layers", layers_json (g, i));
      json_array_append_new (a, l);
    }
  return a;
}

/* The run plan's count, when the model can be planned (no Lambda, weights present); a model
 * with open input sizes is counted at the proposed sizes, which `at` names ("" otherwise). A
 * model that cannot run shows none. */
static bool
count_flops (const OshGraph *g, double *flops, char *at, size_t size)
{
  OshError err = { 0 };
  return osh_graph_layer_flops_proposed (g, 1, NULL, flops, at, size, &err);
}

static int
print_json (const OshGraph *g)
{
  int64_t trainable = 0;
  int64_t total = osh_graph_total_params (g, &trainable);
  json_t *doc = json_pack (
      "{s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:I}", "format", g->format ? g->format : "", "name",
      g->name ? g->name : "", "class_name", g->class_name ? g->class_name : "", "inputs",
      io_json (g, g->inputs, g->n_inputs), "outputs", io_json (g, g->outputs, g->n_outputs),
      "layers", layers_json (g, -1), "total_params", (json_int_t) total, "trainable_params",
      (json_int_t) trainable, "non_trainable_params", (json_int_t) (total - trainable));
  if (json_is_true (json_object_get (g->meta, "weights_absent")))
    json_object_set_new (doc, "weights_absent", json_true ());
  if (osh_model_weights_warning (g))
    json_object_set_new (doc, "non_finite_weights", json_string (osh_model_weights_warning (g)));
  if (osh_model_weights_error (g))
    json_object_set_new (doc, "weights_error", json_string (osh_model_weights_error (g)));
  double flops;
  char at[160];
  if (count_flops (g, &flops, at, sizeof at))
    {
      json_object_set_new (doc, "flops", json_real (flops));
      if (*at)
        json_object_set_new (doc, "flops_input_shapes", json_string (at));
    }
  char *text = json_dumps (doc, JSON_INDENT (1) | JSON_PRESERVE_ORDER);
  json_decref (doc);
  if (!text)
    return OSH_EXIT_USAGE;
  puts (text);
  free (text);
  return OSH_EXIT_OK;
}

/* 1234567 → "1,234,567" */
static void
format_count (int64_t n, char *buf, size_t size)
{
  char digits[32];
  snprintf (digits, sizeof digits, "%lld", (long long) n);
  size_t len = strlen (digits), o = 0;
  for (size_t i = 0; i < len && o + 2 < size; i++)
    {
      if (i > 0 && digits[i - 1] != '-' && (len - i) % 3 == 0)
        buf[o++] = ',';
      buf[o++] = digits[i];
    }
  buf[o] = '\0';
}

static void
print_rule (char c, int width)
{
  for (int i = 0; i < width; i++)
    putchar (c);
  putchar ('\n');
}

static int
print_table (const OshGraph *g)
{
  printf ("Model: \"%s\" (%s, %s)\n", g->name ? g->name : "", g->class_name ? g->class_name : "",
          g->format ? g->format : "");
  /* The first column is as wide as the longest "name (class)". */
  int w = 30;
  for (int i = 0; i < g->n_layers; i++)
    if (g->layers[i].owner == -1)
      {
        int n = (int) (strlen (g->layers[i].name) + strlen (g->layers[i].class_name) + 3);
        w = n > w ? (n < 100 ? n : 100) : w;
      }
  int rule = w + 26 + 12 + 20;
  print_rule ('_', rule);
  printf ("%-*s  %-24s %12s  %s\n", w, "Layer (type)", "Output Shape", "Param #", "Connected to");
  print_rule ('=', rule);
  for (int i = 0; i < g->n_layers; i++)
    {
      if (g->layers[i].owner != -1)
        continue;
      char title[300], shape[128], params[32];
      snprintf (title, sizeof title, "%s (%s)", g->layers[i].name, g->layers[i].class_name);
      const OshShape *s = layer_shape (g, i);
      if (s->rank == 0)
        snprintf (shape, sizeof shape, "?");
      else
        osh_shape_format (s, shape, sizeof shape);
      format_count (osh_graph_layer_params (g, i, NULL), params, sizeof params);
      json_t *in = inbound_json (g, i);
      printf ("%-*s  %-24s %12s  ", w, title, shape, params);
      size_t k;
      json_t *v;
      json_array_foreach (in, k, v)
        printf ("%s%s", k ? ", " : "", json_string_value (v));
      putchar ('\n');
      json_decref (in);
    }
  print_rule ('=', rule);
  int64_t trainable = 0;
  int64_t total = osh_graph_total_params (g, &trainable);
  char a[32], b[32], c[32];
  format_count (total, a, sizeof a);
  format_count (trainable, b, sizeof b);
  format_count (total - trainable, c, sizeof c);
  printf ("Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n", a, b, c);
  double flops;
  char at[160];
  if (count_flops (g, &flops, at, sizeof at))
    printf ("FLOPs per run (batch 1%s%s, a multiply-add counts two): %.3f %s\n",
            *at ? ", open sizes at " : "", at, flops >= 1e9 ? flops / 1e9 : flops / 1e6,
            flops >= 1e9 ? "G" : "M");
  if (json_is_true (json_object_get (g->meta, "weights_absent")))
    printf ("Note: the file holds no weights (a config-only file); parameters count nothing.\n");
  if (osh_model_weights_warning (g))
    printf ("Warning: %s; outputs will not be finite.\n", osh_model_weights_warning (g));
  if (osh_model_weights_error (g))
    printf ("Warning: the weights cannot be read: %s\n", osh_model_weights_error (g));
  if (osh_graph_open_inputs (g))
    {
      char example[160];
      osh_cli_example_shape (g, example, sizeof example);
      printf ("Note: the model leaves input sizes open; the sizes that follow them are None above "
              "(give --input-shape, e.g. --input-shape %s, for real ones).\n",
              example);
    }
  return OSH_EXIT_OK;
}

int
osh_cmd_inspect (int argc, char **argv)
{
  const char *model = NULL;
  bool as_json = false, weights = false;
  OshShape shapes[8];
  int n_shapes = 0, taken;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--json") == 0)
        as_json = true;
      else if (strcmp (argv[i], "--weights") == 0)
        weights = true;
      else if ((taken = osh_cli_input_shape_option (argc, argv, &i, shapes, &n_shapes,
                                                    (int) G_N_ELEMENTS (shapes))))
        {
          if (taken != 1)
            return taken;
        }
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return osh_cli_usage_error (argv[0], "unknown option '%s'", argv[i]);
      else if (model)
        return osh_cli_usage_error (argv[0], "one MODEL only ('%s' and '%s' given)", model,
                                    argv[i]);
      else
        model = argv[i];
    }
  if (!model)
    return osh_cli_usage_error (argv[0], "no MODEL given (a model file or @default)");
  OshError err = { 0 };
  /* The summary needs weight shapes, not values: those are read only for --weights (which
   * checks them for NaN/Inf). */
  OshGraph *g = weights ? osh_cli_load_model (model, &err) : osh_cli_load_graph (model, &err);
  if (!g)
    return osh_cli_report (argv[0], &err);
  if (n_shapes && !osh_graph_open_inputs (g))
    {
      osh_graph_free (g);
      return osh_cli_usage_error (argv[0], "--input-shape: %s has no open input sizes", model);
    }
  if (n_shapes && !osh_graph_specialize (g, shapes, n_shapes, &err))
    {
      osh_graph_free (g);
      return osh_cli_report (argv[0], &err);
    }
  int rc = as_json ? print_json (g) : print_table (g);
  osh_graph_free (g);
  return rc;
}
