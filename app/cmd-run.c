/* offshoot run MODEL INPUT... [EDITS] [options] — inference on pictures or .npy arrays.
 *
 * Pictures are preprocessed as osh_preprocess_propose suggests for the model (size and
 * channels from its input, values 0..1, or 0..255 when the model rescales itself), adjusted
 * by --size, --channels, --scale, --offset, --mean and --std. A .npy input is used as it is
 * (float32 in the model's layout, batch included). With one model input, each INPUT is a
 * separate run and a folder stands for its pictures and .npy files (run_each: any number,
 * read BATCH at a time, one plan for all of the same shape); a model with several inputs takes
 * one INPUT per input, in order.
 *
 * `--json` prints the contract's document {"outputs":[...], "time_ms"} for one run, and
 * {"runs":[{"input", "outputs", "time_ms"}, ...]} when several INPUTs make several runs (written
 * as the runs come; a picture that fails after the first batch is {"input", "error"}). */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define MAX_INPUTS 16 /* inputs of one model (pictures are not limited: see run_each) */

typedef struct
{
  const char *save_dir, *heatmap_dir, *labels_path;
  int threads, top_k;
  bool json;
  bool one_plan; /* only one plan will be made: it may take the graph's packed weights */
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

/* A plan kept from one picture to the next: made again only when the input shapes change
 * (pictures of a model with open sizes keep their own size). */
typedef struct
{
  OshPlan *plan;
  OshShape shapes[MAX_INPUTS];
  int n;
} PlanCache;

static OshPlan *
plan_for (const RunOptions *o, const OshGraph *g, RunInput *inputs, int n_inputs, PlanCache *cache,
          bool *usage, OshError *err)
{
  bool same = cache->plan && cache->n == n_inputs;
  for (int i = 0; same && i < n_inputs; i++)
    same = osh_shape_equal (&cache->shapes[i], &inputs[i].tensor->shape);
  if (same)
    return cache->plan;
  g_clear_pointer (&cache->plan, osh_plan_free);
  OshExecOptions opt = osh_exec_options_default ();
  opt.threads = o->threads;
  opt.batch = inputs[0].tensor->shape.dim[0];
  opt.release_packed_weights = o->one_plan;
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
  OshPlan *plan = osh_plan_new (g, &opt, err);
  if (!plan)
    {
      *usage = err->code == OSH_ERR_USAGE || err->code == OSH_ERR_IO;
      return NULL;
    }
  *usage = true;
  if (osh_plan_n_inputs (plan) != n_inputs)
    {
      osh_fail (err, OSH_ERR_USAGE, "the model has %d inputs, %d given", osh_plan_n_inputs (plan),
                n_inputs);
      osh_plan_free (plan);
      return NULL;
    }
  for (int i = 0; i < n_inputs; i++)
    if (!osh_shape_equal (osh_plan_input_shape (plan, i), &inputs[i].tensor->shape))
      {
        char want[128], got[128];
        osh_shape_format (osh_plan_input_shape (plan, i), want, sizeof want);
        osh_shape_format (&inputs[i].tensor->shape, got, sizeof got);
        osh_fail (err, OSH_ERR_USAGE, "%s: shape %s, but the model's input '%s' is %s",
                  inputs[i].path, got, osh_plan_input_name (plan, i), want);
        osh_plan_free (plan);
        return NULL;
      }
  *usage = false;
  osh_cli_return_free_memory ();
  cache->plan = plan;
  cache->n = n_inputs;
  memcpy (cache->shapes, shapes, sizeof (OshShape) * (size_t) n_inputs);
  return plan;
}

/* Runs the model once on `inputs`, adding "outputs" and "time_ms" to `doc`. Returns an exit
 * code; on failure `err` says why (nothing printed) and `usage` tells a usage error. */
static int
run_once (const RunOptions *o, const OshGraph *g, RunInput *inputs, int n_inputs,
          const char *prefix, json_t *doc, PlanCache *cache, bool *usage, OshError *err)
{
  *usage = false;
  OshPlan *plan = plan_for (o, g, inputs, n_inputs, cache, usage, err);
  if (!plan)
    return *usage ? OSH_EXIT_USAGE : OSH_EXIT_MODEL;
  const OshTensor *xs[MAX_INPUTS];
  for (int i = 0; i < n_inputs; i++)
    xs[i] = inputs[i].tensor;
  OshTensor *outs[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  gint64 t0 = g_get_monotonic_time ();
  bool ok = osh_plan_run (plan, xs, n_inputs, outs, err);
  double ms = (double) (g_get_monotonic_time () - t0) / 1000.0;
  if (!ok)
    return OSH_EXIT_MODEL;
  int code = OSH_EXIT_OK;
  json_t *list = json_array ();
  json_object_set_new (doc, "outputs", list);
  for (int i = 0; i < osh_plan_n_outputs (plan); i++)
    {
      if (code == OSH_EXIT_OK
          && !report_output (o, g, i, osh_plan_output_name (plan, i), outs[i], &inputs[0], prefix,
                             list, err))
        code = err->code == OSH_ERR_DISCONNECTED || err->code == OSH_ERR_SHAPE ? OSH_EXIT_MODEL
                                                                               : OSH_EXIT_USAGE;
      osh_tensor_free (outs[i]);
    }
  json_object_set_new (doc, "time_ms", json_real (ms));
  if (!o->json && code == OSH_EXIT_OK)
    printf ("time %.2f ms\n", ms);
  return code;
}

/* The error of a failed run, printed as the other commands print theirs. */
static int
report_run_error (const char *cmd, int code, bool usage, const OshError *err)
{
  if (usage)
    return osh_cli_usage_error (cmd, "%s", err->message);
  return osh_cli_report_code (cmd, err, code);
}

static bool
make_dir (const char *cmd, const char *dir)
{
  if (!dir || g_mkdir_with_parents (dir, 0755) == 0)
    return true;
  fprintf (stderr, "offshoot %s: cannot create %s: %s\n", cmd, dir, g_strerror (errno));
  return false;
}

/* ---- Many pictures ----------------------------------------------------------------------- */

/* Pictures decoded at a time: memory stays bounded however many are given. */
#define BATCH 16

static const char *const picture_suffixes[] = { ".png", ".jpg", ".jpeg", ".npy" };

static bool
is_input_name (const char *name)
{
  if (name[0] == '.')
    return false;
  g_autofree char *lower = g_ascii_strdown (name, -1);
  for (size_t i = 0; i < G_N_ELEMENTS (picture_suffixes); i++)
    if (g_str_has_suffix (lower, picture_suffixes[i]))
      return true;
  return false;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* INPUTs with every folder replaced by its pictures and .npy files (by name, not recursing). */
static int
expand_inputs (const char *cmd, const char *const *args, int n_args, GPtrArray *out)
{
  for (int i = 0; i < n_args; i++)
    {
      if (!g_file_test (args[i], G_FILE_TEST_IS_DIR))
        {
          g_ptr_array_add (out, g_strdup (args[i]));
          continue;
        }
      GError *gerr = NULL;
      GDir *d = g_dir_open (args[i], 0, &gerr);
      if (!d)
        {
          int code = osh_cli_usage_error (cmd, "%s", gerr->message);
          g_error_free (gerr);
          return code;
        }
      GPtrArray *found = g_ptr_array_new ();
      const char *name;
      while ((name = g_dir_read_name (d)))
        if (is_input_name (name))
          g_ptr_array_add (found, g_build_filename (args[i], name, NULL));
      g_dir_close (d);
      g_ptr_array_sort (found, compare_names);
      if (found->len == 0)
        {
          g_ptr_array_free (found, TRUE);
          return osh_cli_usage_error (cmd, "%s: no pictures (.png, .jpg, .jpeg) or .npy files",
                                      args[i]);
        }
      /* The names move to out; found has no free function, so TRUE frees only its array. */
      for (guint k = 0; k < found->len; k++)
        g_ptr_array_add (out, found->pdata[k]);
      g_ptr_array_free (found, TRUE);
    }
  return -1;
}

/* "12/300 pictures, 8.1 per second" over itself on stderr, when stderr is a terminal. */
typedef struct
{
  bool on;
  int done, total;
  gint64 t0, shown; /* shown: when it was last written (ten times a second at most) */
} Progress;

static void
progress_clear (Progress *p)
{
  if (p->on && p->shown)
    fputs ("\r\033[K", stderr);
}

static void
progress_show (Progress *p)
{
  gint64 now = g_get_monotonic_time ();
  if (!p->on || (now - p->shown < G_USEC_PER_SEC / 10 && p->done < p->total))
    return;
  p->shown = now;
  fflush (stdout);
  double s = (double) (g_get_monotonic_time () - p->t0) / 1e6;
  fprintf (stderr, "\r\033[K%d/%d pictures", p->done, p->total);
  if (s > 0 && p->done > 0)
    fprintf (stderr, ", %.1f per second", p->done / s);
  fflush (stderr);
}

static void
free_inputs (RunInput *inputs, int n)
{
  for (int i = 0; i < n; i++)
    {
      osh_tensor_free (inputs[i].tensor);
      osh_image_free (inputs[i].image);
      memset (&inputs[i], 0, sizeof inputs[i]);
    }
}

/* What the text output starts with, once the first INPUTs were read. */
static void
print_header (const RunOptions *o, const char *model_spec, const RunInput *inputs, int n)
{
  if (o->json)
    return;
  printf ("model %s\n", model_spec);
  bool pictures = false;
  for (int i = 0; i < n; i++)
    pictures |= !is_npy (inputs[i].path);
  if (pictures)
    {
      char pp_text[256];
      osh_preprocess_describe (&o->pp, pp_text, sizeof pp_text);
      printf ("pictures preprocessed to %s%s\n", pp_text,
              o->pp.model_normalizes ? " (the model rescales its input itself)" : "");
    }
}

/* Writes one run object of the streamed {"runs": [...]} document. */
static void
print_run (json_t *one, bool *first)
{
  char *text = json_dumps (one, JSON_INDENT (1) | JSON_REAL_PRECISION (7));
  printf ("%s%s", *first ? "" : ",\n", text ? text : "{}");
  *first = false;
  free (text);
}

/* A one-input model on several INPUTs: one run each, BATCH pictures decoded at a time. The
 * first batch behaves as one command (an error stops it before anything is printed, as with a
 * few pictures); after it a picture that fails gets its own error in the results, the others
 * go on, and the exit code is the worst seen. With --json the document is
 * {"runs": [{"input", "outputs", "time_ms"} or {"input", "error"}, ...]}, written as it goes. */
static int
run_each (const char *cmd, const RunOptions *o, const OshGraph *g, const char *model_spec,
          GPtrArray *paths)
{
  RunInput batch[BATCH] = { 0 };
  OshError failed[BATCH] = { 0 }; /* why a picture of the batch could not be read */
  PlanCache cache = { 0 };
  Progress progress = { .on = isatty (2) && paths->len > 1,
                        .total = (int) paths->len,
                        .t0 = g_get_monotonic_time () };
  json_t *first_runs = json_array (); /* the first batch, held until it all succeeded */
  bool streaming = false, first = true;
  int worst = OSH_EXIT_OK;
  OshError err = { 0 };
  for (guint start = 0; start < paths->len; start += BATCH)
    {
      int n = (int) MIN ((guint) BATCH, paths->len - start);
      for (int i = 0; i < n; i++)
        {
          const char *path = paths->pdata[start + (guint) i];
          osh_error_clear (&err);
          if (load_input (path, &o->pp, &batch[i], &err))
            {
              /* Only a heatmap drawn over it needs the picture after this. */
              if (!o->heatmap_dir)
                g_clear_pointer (&batch[i].image, osh_image_free);
              continue;
            }
          batch[i].path = path;
          if (!streaming)
            {
              progress_clear (&progress);
              int code = osh_cli_report (cmd, &err);
              free_inputs (batch, n);
              json_decref (first_runs);
              return code;
            }
          /* Reported below, in its turn. */
          failed[i] = err;
          memset (&err, 0, sizeof err);
        }
      if (!streaming)
        print_header (o, model_spec, batch, n);
      for (int i = 0; i < n; i++)
        {
          const char *path = paths->pdata[start + (guint) i];
          json_t *one = json_object ();
          json_object_set_new (one, "input", json_string (path));
          int code;
          bool usage = false;
          progress_clear (&progress);
          if (!o->json)
            printf ("\ninput %s\n", path);
          if (!batch[i].tensor)
            {
              /* Its decoding failed (after the first batch): said, and the others go on. */
              /* Said on stderr only: stdout is the document being written. */
              fprintf (stderr, "offshoot %s: %s\n", cmd, failed[i].message);
              code = failed[i].code == OSH_ERR_SHAPE ? OSH_EXIT_MODEL : OSH_EXIT_USAGE;
              json_object_set_new (one, "error",
                                   json_pack ("{s:s, s:s}", "kind",
                                              osh_error_code_name (failed[i].code), "message",
                                              failed[i].message));
              osh_error_clear (&failed[i]);
            }
          else
            {
              char *base = g_path_get_basename (path);
              char *dot = strrchr (base, '.');
              if (dot && dot != base)
                *dot = '\0';
              char *prefix = g_strdup_printf ("%s-", base);
              g_free (base);
              osh_error_clear (&err);
              code = run_once (o, g, &batch[i], 1, prefix, one, &cache, &usage, &err);
              g_free (prefix);
              if (code != OSH_EXIT_OK && !streaming)
                {
                  report_run_error (cmd, code, usage, &err);
                  json_decref (one);
                  json_decref (first_runs);
                  free_inputs (batch, n);
                  g_clear_pointer (&cache.plan, osh_plan_free);
                  return code;
                }
              if (code != OSH_EXIT_OK)
                {
                  fprintf (stderr, "offshoot %s: %s\n", cmd, err.message);
                  json_object_del (one, "outputs");
                  json_object_del (one, "time_ms");
                  json_object_set_new (one, "error",
                                       json_pack ("{s:s, s:s}", "kind",
                                                  osh_error_code_name (err.code), "message",
                                                  err.message));
                }
            }
          worst = MAX (worst, code);
          if (o->json && !streaming)
            json_array_append (first_runs, one);
          else if (o->json)
            print_run (one, &first);
          json_decref (one);
          progress.done++;
          progress_show (&progress);
        }
      free_inputs (batch, n);
      if (!streaming && o->json)
        {
          /* The first batch all ran: the document starts, later runs follow as they come. */
          printf ("{\n \"runs\": [\n");
          for (size_t k = 0; k < json_array_size (first_runs); k++)
            print_run (json_array_get (first_runs, k), &first);
        }
      streaming = true;
    }
  progress_clear (&progress);
  if (o->json)
    printf ("\n ]\n}\n");
  json_decref (first_runs);
  g_clear_pointer (&cache.plan, osh_plan_free);
  return worst;
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
  const char **args = g_new0 (const char *, (gsize) argc + 1);
  int n_args = 0;
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  int code = parse_options (argc, argv, model_arg, &o, args, &n_args);
  if (code < 0)
    code = expand_inputs (cmd, args, n_args, paths);
  if (code < 0 && !read_labels (&o, g, &err))
    code = osh_cli_report (cmd, &err);
  if (code < 0 && !(make_dir (cmd, o.save_dir) && make_dir (cmd, o.heatmap_dir)))
    code = OSH_EXIT_USAGE;
  /* Several inputs for a one-input model: one run each, streamed. Else one run on them all. */
  bool separate = paths->len > 1 && g->n_inputs == 1;
  if (code < 0 && !separate && paths->len > MAX_INPUTS)
    code =
        osh_cli_usage_error (cmd, "the model takes %d inputs, %u given", g->n_inputs, paths->len);

  RunInput inputs[MAX_INPUTS] = { 0 };
  int n_loaded = separate ? 0 : (int) paths->len;
  for (int i = 0; code < 0 && i < n_loaded; i++)
    if (!load_input (paths->pdata[i], &o.pp, &inputs[i], &err))
      code = osh_cli_report (cmd, &err);

  if (code < 0 && separate)
    code = run_each (cmd, &o, g, model_spec, paths);
  else if (code < 0)
    {
      print_header (&o, model_spec, inputs, n_loaded);
      json_t *doc = json_object ();
      PlanCache cache = { 0 };
      bool usage = false;
      o.one_plan = true; /* nothing reads the weights after it: they are not held twice */
      code = run_once (&o, g, inputs, n_loaded, "", doc, &cache, &usage, &err);
      if (code != OSH_EXIT_OK)
        report_run_error (cmd, code, usage, &err);
      else if (o.json)
        {
          json_dumpf (doc, stdout, JSON_INDENT (1) | JSON_REAL_PRECISION (7));
          putchar ('\n');
        }
      g_clear_pointer (&cache.plan, osh_plan_free);
      json_decref (doc);
    }
  free_inputs (inputs, MAX_INPUTS);
  g_ptr_array_free (paths, TRUE);
  g_free (args);
  osh_class_names_free (o.labels);
  g_free (model_spec);
  osh_graph_free (g);
  return code;
}
