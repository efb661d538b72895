/* offshoot run MODEL INPUT... [EDITS] [options] — inference on pictures or .npy arrays.
 *
 * Pictures are preprocessed as osh_preprocess_propose suggests for the model (size and
 * channels from its input, values 0..1, or 0..255 when the model rescales itself), adjusted
 * by --size, --channels, --scale, --offset, --mean and --std. A .npy input is used as it is
 * (float32 in the model's layout, batch included). With one model input, each INPUT is a
 * separate run; a model with several inputs takes one INPUT per input, in order.
 *
 * `--json` prints the contract's document {"outputs":[...], "time_ms"} for one run, and
 * {"runs":[{"input", "outputs", "time_ms"}, ...]} when several INPUTs make several runs. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli-edits.h"
#include "cli.h"
#include "osh-class-names.h"
#include "osh-default-model.h"
#include "osh-exec.h"
#include "osh-heatmap.h"
#include "osh-image.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-outputs.h"
#include "osh-shapes.h"

#define MAX_INPUTS 16

typedef struct
{
  const char *save_dir, *heatmap_dir, *labels_path;
  int threads, top_k;
  bool json;
  OshPreprocess pp;
  char **labels;
  int n_labels;
} RunOptions;

/* Options that take a value (also as --name=value); the EDITS options are listed so the model
 * path can be found before the edits are applied. */
static const char *const valued[] = { "--save-outputs", "--heatmaps",   "--threads", "--labels",
                                      "--top",          "--scale",      "--offset",  "--mean",
                                      "--std",          "--channels",   "--size",    "--resize",
                                      "--attach",       "--attach-mode" };

static bool
takes_value (const char *arg)
{
  for (size_t i = 0; i < G_N_ELEMENTS (valued); i++)
    if (strcmp (arg, valued[i]) == 0)
      return true;
  return false;
}

static int
find_model_arg (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (argv[i][0] != '-' || strcmp (argv[i], "-") == 0)
        return i;
      if (takes_value (argv[i]))
        i++;
    }
  return -1;
}

static bool
parse_float (const char *s, float *out)
{
  char *end = NULL;
  double v = g_ascii_strtod (s, &end);
  if (!end || end == s || *end || !isfinite (v))
    return false;
  *out = (float) v;
  return true;
}

static bool
parse_int (const char *s, int lo, int hi, int *out)
{
  char *end = NULL;
  long long v = g_ascii_strtoll (s, &end, 10);
  if (!end || end == s || *end || v < lo || v > hi)
    return false;
  *out = (int) v;
  return true;
}

/* "a,b,c" or a single value for all three channels. */
static bool
parse_triple (const char *s, float out[3])
{
  char **parts = g_strsplit (s, ",", -1);
  guint n = g_strv_length (parts);
  bool ok = n == 1 || n == 3;
  for (guint i = 0; ok && i < n; i++)
    ok = parse_float (parts[i], &out[i]);
  if (ok && n == 1)
    out[1] = out[2] = out[0];
  g_strfreev (parts);
  return ok;
}

/* "HxW" or "N" for N×N. */
static bool
parse_size (const char *s, int *h, int *w)
{
  const char *x = strchr (s, 'x');
  if (!x)
    return parse_int (s, 1, 32768, h) && (*w = *h, true);
  char *first = g_strndup (s, (gsize) (x - s));
  bool ok = parse_int (first, 1, 32768, h) && parse_int (x + 1, 1, 32768, w);
  g_free (first);
  return ok;
}

/* The class names (osh-class-names.h): --labels FILE, else the model's own (its metadata or a
 * labels.txt beside it). */
static bool
read_labels (RunOptions *o, const OshGraph *g, OshError *err)
{
  if (!o->labels_path)
    {
      o->labels = osh_class_names_get (g, &o->n_labels);
      return true;
    }
  o->labels = osh_class_names_read (o->labels_path, &o->n_labels, err);
  return o->labels != NULL;
}

/* What an option's value must be, for the one wording of bad values (osh_cli_bad_value). */
static const char *
wanted (const char *option)
{
  static const char *const table[][2] = {
    { "--threads", "an integer from 1 to 256" },
    { "--top", "an integer from 1 to 1000" },
    { "--scale", "a number" },
    { "--offset", "a number" },
    { "--mean", "one number or three (a,b,c)" },
    { "--std", "one non-zero number or three (a,b,c)" },
    { "--channels", "1 or 3" },
    { "--size", "HxW or N, each from 1 to 32768" },
    { "--resize", "antialias or tf" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (table); i++)
    if (strcmp (option, table[i][0]) == 0)
      return table[i][1];
  return "a value this command knows";
}

/* Parses everything but MODEL, INPUTs and EDITS; collects INPUTs. Returns an exit code or -1. */
static int
parse_options (int argc, char **argv, int model_arg, RunOptions *o, const char **inputs,
               int *n_inputs)
{
  *n_inputs = 0;
  for (int i = 1; i < argc; i++)
    {
      if (i == model_arg)
        continue;
      const char *arg = argv[i];
      if (arg[0] != '-')
        {
          if (*n_inputs == MAX_INPUTS)
            return osh_cli_usage_error (argv[0], "more than %d inputs", MAX_INPUTS);
          inputs[(*n_inputs)++] = arg;
          continue;
        }
      if (strcmp (arg, "--json") == 0)
        {
          o->json = true;
          continue;
        }
      /* --name=value or --name value */
      char *name = g_strdup (arg);
      char *eq = strchr (name, '=');
      const char *value = NULL;
      if (eq)
        *eq = '\0', value = arg + (eq - name) + 1;
      if (!takes_value (name))
        {
          int code = osh_cli_usage_error (argv[0], "unknown option '%s'", name);
          g_free (name);
          return code;
        }
      if (!value)
        {
          if (i + 1 >= argc)
            {
              int code = osh_cli_usage_error (argv[0], "%s needs a value", name);
              g_free (name);
              return code;
            }
          value = argv[++i];
        }
      bool ok = true;
      if (strcmp (name, "--save-outputs") == 0)
        o->save_dir = value;
      else if (strcmp (name, "--heatmaps") == 0)
        o->heatmap_dir = value;
      else if (strcmp (name, "--labels") == 0)
        o->labels_path = value;
      else if (strcmp (name, "--threads") == 0)
        ok = parse_int (value, 1, 256, &o->threads);
      else if (strcmp (name, "--top") == 0)
        ok = parse_int (value, 1, 1000, &o->top_k);
      else if (strcmp (name, "--scale") == 0)
        ok = parse_float (value, &o->pp.scale);
      else if (strcmp (name, "--offset") == 0)
        ok = parse_float (value, &o->pp.offset);
      else if (strcmp (name, "--mean") == 0)
        ok = parse_triple (value, o->pp.mean);
      else if (strcmp (name, "--std") == 0)
        ok = parse_triple (value, o->pp.std) && o->pp.std[0] != 0 && o->pp.std[1] != 0
             && o->pp.std[2] != 0;
      else if (strcmp (name, "--channels") == 0)
        ok = parse_int (value, 1, 3, &o->pp.channels) && o->pp.channels != 2;
      else if (strcmp (name, "--size") == 0)
        ok = parse_size (value, &o->pp.height, &o->pp.width);
      else if (strcmp (name, "--resize") == 0)
        {
          ok = strcmp (value, "antialias") == 0 || strcmp (value, "tf") == 0;
          o->pp.resize = strcmp (value, "tf") == 0 ? OSH_RESIZE_BILINEAR_TF : OSH_RESIZE_BILINEAR;
        }
      else /* --attach left over: the edits were not applied */
        ok = false;
      if (!ok)
        {
          int code = osh_cli_bad_value (argv[0], name, value, wanted (name));
          g_free (name);
          return code;
        }
      g_free (name);
    }
  if (*n_inputs == 0)
    return osh_cli_usage_error (argv[0], "no INPUT given (a picture or a .npy array)");
  return -1;
}

static bool
is_npy (const char *path)
{
  if (g_str_has_suffix (path, ".npy") || g_str_has_suffix (path, ".NPY"))
    return true;
  FILE *f = g_fopen (path, "rb");
  char head[6] = { 0 };
  bool magic = f && fread (head, 1, 6, f) == 6 && memcmp (head, "\x93NUMPY", 6) == 0;
  if (f)
    fclose (f);
  return magic;
}

/* One loaded INPUT: the tensor, and the picture when it was one (for heatmap overlays). */
typedef struct
{
  const char *path;
  OshTensor *tensor;
  OshImage *image;
} RunInput;

static bool
load_input (const char *path, const OshPreprocess *pp, RunInput *in, OshError *err)
{
  in->path = path;
  in->image = NULL;
  if (is_npy (path))
    {
      in->tensor = osh_npy_read (path, err);
      return in->tensor != NULL;
    }
  in->image = osh_image_load (path, err);
  if (!in->image)
    return false;
  in->tensor = osh_image_to_tensor (in->image, pp, err);
  if (!in->tensor)
    osh_error_prefix (err, "%s: ", path);
  return in->tensor != NULL;
}

static void
print_values (const OshTensor *t)
{
  int64_t n = osh_tensor_numel (t);
  printf ("    [");
  for (int64_t i = 0; i < n && i < 8; i++)
    printf ("%s%.6g", i ? ", " : "", t->data[i]);
  printf ("%s]\n", n > 8 ? ", ..." : "");
  if (n > 8)
    {
      double lo = INFINITY, hi = -INFINITY, sum = 0;
      for (int64_t i = 0; i < n; i++)
        lo = fmin (lo, t->data[i]), hi = fmax (hi, t->data[i]), sum += t->data[i];
      printf ("    min %.6g  max %.6g  mean %.6g\n", lo, hi, sum / (double) n);
    }
}

/* Describes (and writes files for) one output of one run; adds its JSON object to `list`. */
static bool
report_output (const RunOptions *o, const OshGraph *g, int output, const char *name,
               const OshTensor *y, const RunInput *in, const char *prefix, json_t *list,
               OshError *err)
{
  OshOutputKind kind = osh_output_classify (&y->shape, g->layout);
  char shape_text[128];
  osh_shape_format (&y->shape, shape_text, sizeof shape_text);
  json_t *shape = json_array ();
  for (int i = 0; i < y->shape.rank; i++)
    json_array_append_new (shape, json_integer (y->shape.dim[i]));
  json_t *top = json_array ();
  json_t *obj = json_pack ("{s:s, s:o, s:s, s:o, s:n}", "name", name, "shape", shape, "kind",
                           osh_output_kind_name (kind), "top", top, "heatmap");
  json_array_append_new (list, obj);
  char *stem = osh_output_file_stem (g, output); /* files are named as the model names outputs */
  if (!stem)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  bool ok = true;

  if (!o->json)
    printf ("%s %s %s\n", name, shape_text, osh_output_kind_name (kind));
  /* NaN or Inf outputs (diverged weights, overflow) are said plainly, not shown as scores. */
  int64_t numel = osh_tensor_numel (y), non_finite = 0;
  for (int64_t i = 0; i < numel; i++)
    non_finite += !isfinite (y->data[i]);
  if (non_finite)
    {
      const char *why = osh_model_weights_warning (g);
      fprintf (
          stderr,
          "offshoot run: warning: output '%s': %lld of %lld values are not finite (NaN or Inf)%s%s\n",
          name, (long long) non_finite, (long long) numel, why ? "; " : "", why ? why : "");
      json_object_set_new (obj, "non_finite", json_integer (non_finite));
    }
  if (o->save_dir)
    {
      char *file = g_strdup_printf ("%s%s.npy", prefix, stem);
      char *path = g_build_filename (o->save_dir, file, NULL);
      ok = osh_npy_write (path, y, err);
      if (ok)
        json_object_set_new (obj, "saved", json_string (path));
      if (ok && !o->json)
        printf ("  saved %s\n", path);
      g_free (path);
      g_free (file);
    }
  if (ok && kind == OSH_OUTPUT_LABEL)
    {
      OshTopEntry entries[1000];
      int n = osh_output_top_k (y, 0, o->top_k, entries, err);
      int n_imagenet = 0;
      const char *const *imagenet = osh_imagenet_class_names (&n_imagenet);
      char *warning = NULL;
      const char *const *labels = osh_class_names_for_output (
          (const char *const *) o->labels, o->n_labels, y->shape.dim[y->shape.rank - 1], imagenet,
          n_imagenet, &warning);
      if (warning)
        {
          fprintf (stderr, "offshoot run: warning: output '%s': %s\n", name, warning);
          json_object_set_new (obj, "labels_warning", json_string (warning));
          free (warning);
        }
      for (int i = 0; i < n; i++)
        {
          const char *label = labels ? labels[entries[i].index] : NULL;
          json_array_append_new (top, json_pack ("{s:i, s:s?, s:f}", "index", entries[i].index,
                                                 "label", label, "p", (double) entries[i].p));
          char fallback[32];
          snprintf (fallback, sizeof fallback, "class %d", entries[i].index);
          if (!o->json)
            printf ("  %d. %-20s p=%.4f\n", i + 1, label ? label : fallback, entries[i].p);
        }
    }
  else if (ok && kind == OSH_OUTPUT_HEATMAP)
    {
      OshTensor *map = osh_output_heatmap (y, g->layout, 0, OSH_HEATMAP_AUTO, -1, err);
      ok = map != NULL;
      float lo = 0, hi = 0;
      if (ok)
        osh_heatmap_range (map, &lo, &hi);
      if (ok && o->heatmap_dir)
        {
          char *file = g_strdup_printf ("%s%s.png", prefix, stem);
          char *path = g_build_filename (o->heatmap_dir, file, NULL);
          OshHeatmapStyle style;
          osh_heatmap_style_init (&style);
          ok = osh_heatmap_write_png (map, in->image, &style, path, err);
          if (ok)
            json_object_set_new (obj, "heatmap", json_string (path));
          if (ok && !o->json)
            printf ("  heatmap %s (values %.4g..%.4g)\n", path, lo, hi);
          g_free (path);
          g_free (file);
        }
      else if (ok && !o->json)
        printf ("  values %.4g..%.4g (write a picture with --heatmaps DIR)\n", lo, hi);
      osh_tensor_free (map);
    }
  else if (ok && !o->json)
    print_values (y);
  free (stem);
  return ok;
}

/* Runs the model once on `inputs`. Returns an exit code. */
static int
run_once (const char *cmd, const RunOptions *o, const OshGraph *g, RunInput *inputs, int n_inputs,
          const char *prefix, json_t *doc)
{
  OshError err = { 0 };
  OshExecOptions opt = osh_exec_options_default ();
  opt.threads = o->threads;
  opt.batch = inputs[0].tensor->shape.dim[0];
  /* Sizes come from the inputs only where the model leaves them open (None beyond the batch: a
   * Keras None or an ONNX symbolic size, which the plan then fixes); otherwise the model's own
   * shapes stand and a different input is a usage error below. */
  OshShape shapes[MAX_INPUTS];
  for (int i = 0; i < n_inputs; i++)
    shapes[i] = inputs[i].tensor->shape;
  if (osh_graph_open_inputs (g))
    {
      opt.input_shapes = shapes;
      opt.n_input_shapes = n_inputs;
    }
  OshPlan *plan = osh_plan_new (g, &opt, &err);
  if (!plan)
    {
      fprintf (stderr, "offshoot %s: %s\n", cmd, err.message);
      return err.code == OSH_ERR_USAGE || err.code == OSH_ERR_IO ? OSH_EXIT_USAGE : OSH_EXIT_MODEL;
    }
  int code = OSH_EXIT_OK;
  if (osh_plan_n_inputs (plan) != n_inputs)
    {
      code = osh_cli_usage_error (cmd, "the model has %d inputs, %d given",
                                  osh_plan_n_inputs (plan), n_inputs);
      osh_plan_free (plan);
      return code;
    }
  for (int i = 0; i < n_inputs; i++)
    if (!osh_shape_equal (osh_plan_input_shape (plan, i), &inputs[i].tensor->shape))
      {
        char want[128], got[128];
        osh_shape_format (osh_plan_input_shape (plan, i), want, sizeof want);
        osh_shape_format (&inputs[i].tensor->shape, got, sizeof got);
        code = osh_cli_usage_error (cmd, "%s: shape %s, but the model's input '%s' is %s",
                                    inputs[i].path, got, osh_plan_input_name (plan, i), want);
        osh_plan_free (plan);
        return code;
      }
  const OshTensor *xs[MAX_INPUTS];
  for (int i = 0; i < n_inputs; i++)
    xs[i] = inputs[i].tensor;
  OshTensor *outs[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  gint64 t0 = g_get_monotonic_time ();
  bool ok = osh_plan_run (plan, xs, n_inputs, outs, &err);
  double ms = (double) (g_get_monotonic_time () - t0) / 1000.0;
  if (!ok)
    {
      fprintf (stderr, "offshoot %s: %s\n", cmd, err.message);
      osh_plan_free (plan);
      return OSH_EXIT_MODEL;
    }
  json_t *list = json_array ();
  json_object_set_new (doc, "outputs", list);
  for (int i = 0; i < osh_plan_n_outputs (plan); i++)
    {
      if (code == OSH_EXIT_OK
          && !report_output (o, g, i, osh_plan_output_name (plan, i), outs[i], &inputs[0], prefix,
                             list, &err))
        code = osh_cli_report (cmd, &err);
      osh_tensor_free (outs[i]);
    }
  json_object_set_new (doc, "time_ms", json_real (ms));
  if (!o->json)
    printf ("time %.2f ms\n", ms);
  osh_plan_free (plan);
  return code;
}

static bool
make_dir (const char *cmd, const char *dir)
{
  if (!dir || g_mkdir_with_parents (dir, 0755) == 0)
    return true;
  fprintf (stderr, "offshoot %s: cannot create %s: %s\n", cmd, dir, g_strerror (errno));
  return false;
}

int
osh_cmd_run (int argc, char **argv)
{
  const char *cmd = argv[0];
  int model_arg = find_model_arg (argc, argv);
  if (model_arg < 0)
    return osh_cli_usage_error (cmd, "no MODEL given (a model file or @default)");
  OshError err = { 0 };
  OshGraph *g = osh_cli_load_model (argv[model_arg], &err);
  if (!g)
    return osh_cli_report (cmd, &err);
  /* The edits compact argv; the model argument stays where it was (it precedes them or
   * is not an edit), but find it again to be safe. */
  char *model_spec = g_strdup (argv[model_arg]);
  if (!osh_cli_apply_edits (&argc, argv, &g, &err))
    {
      g_free (model_spec);
      osh_graph_free (g);
      return osh_cli_report (cmd, &err);
    }
  model_arg = find_model_arg (argc, argv);

  RunOptions o = { .threads = 1, .top_k = 5 };
  osh_preprocess_propose (g, &o.pp);
  const char *paths[MAX_INPUTS];
  int n_paths = 0;
  int code = parse_options (argc, argv, model_arg, &o, paths, &n_paths);
  if (code < 0 && !read_labels (&o, g, &err))
    code = osh_cli_report (cmd, &err);
  if (code < 0 && !(make_dir (cmd, o.save_dir) && make_dir (cmd, o.heatmap_dir)))
    code = OSH_EXIT_USAGE;

  RunInput inputs[MAX_INPUTS] = { 0 };
  for (int i = 0; code < 0 && i < n_paths; i++)
    if (!load_input (paths[i], &o.pp, &inputs[i], &err))
      code = osh_cli_report (cmd, &err);

  bool pictures = false;
  for (int i = 0; i < n_paths; i++)
    pictures |= inputs[i].image != NULL;
  if (code < 0 && !o.json)
    printf ("model %s\n", model_spec);
  if (code < 0 && !o.json && pictures)
    {
      char pp_text[256];
      osh_preprocess_describe (&o.pp, pp_text, sizeof pp_text);
      printf ("pictures preprocessed to %s%s\n", pp_text,
              o.pp.model_normalizes ? " (the model rescales its input itself)" : "");
    }
  json_t *doc = json_object ();
  if (code < 0)
    {
      /* Several inputs for a one-input model: one run each. */
      bool separate = n_paths > 1 && g->n_inputs == 1;
      json_t *runs = separate ? json_array () : NULL;
      code = OSH_EXIT_OK;
      for (int i = 0; code == OSH_EXIT_OK && i < (separate ? n_paths : 1); i++)
        {
          json_t *one = separate ? json_object () : json_incref (doc);
          char *prefix = NULL;
          if (separate)
            {
              char *base = g_path_get_basename (paths[i]);
              char *dot = strrchr (base, '.');
              if (dot && dot != base)
                *dot = '\0';
              prefix = g_strdup_printf ("%s-", base);
              g_free (base);
              json_object_set_new (one, "input", json_string (paths[i]));
              json_array_append (runs, one);
              if (!o.json)
                printf ("\ninput %s\n", paths[i]);
            }
          code = run_once (cmd, &o, g, separate ? &inputs[i] : inputs, separate ? 1 : n_paths,
                           prefix ? prefix : "", one);
          json_decref (one);
          g_free (prefix);
        }
      if (runs)
        json_object_set_new (doc, "runs", runs);
      if (code == OSH_EXIT_OK && o.json)
        {
          json_dumpf (doc, stdout, JSON_INDENT (1) | JSON_REAL_PRECISION (7));
          putchar ('\n');
        }
    }
  json_decref (doc);
  for (int i = 0; i < MAX_INPUTS; i++)
    {
      osh_tensor_free (inputs[i].tensor);
      osh_image_free (inputs[i].image);
    }
  osh_class_names_free (o.labels);
  g_free (model_spec);
  osh_graph_free (g);
  return code;
}
