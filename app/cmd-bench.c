/* offshoot bench MODEL [--runs N] [--threads N] [--input-shape D,D,...] [--steps] [--json] — inference timing read against the
 * machine: after a warm-up run, N timed runs give median/min/max milliseconds and the achieved
 * GFLOPS (the plan's FLOPs over the median time), and the CPU time each run cost (what counts on
 * a shared machine, where other processes stretch the clock); the single-thread cblas_sgemm
 * throughput on a 1024² product, measured in the same process on its CPU clock, is the
 * yardstick, so results read as ratios.
 * Every convolution above 50 MFLOP is listed with its own ratio, from its fastest run: on a shared
 * machine that is what the kernel can do, while the median also counts time other processes took. */
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "osh-exec.h"
#include "osh-isa.h"
#include "osh-shapes.h"

#define BIG_CONV_FLOPS 50e6

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Sorts v[n] and returns its median. */
static double
median_of (double *v, int n)
{
  qsort (v, (size_t) n, sizeof (double), compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool
is_conv (const char *class_name)
{
  return strstr (class_name, "Conv") != NULL;
}

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* Times the plan; fills times[runs] with wall-clock ms and cpu[runs] with the CPU time the
 * process spent (all threads): on a busy machine the second is what the run itself cost. */
static bool
time_runs (OshPlan *plan, int runs, double *times, double *cpu, OshError *err)
{
  int n_in = osh_plan_n_inputs (plan);
  OshTensor **xs = g_new0 (OshTensor *, n_in);
  bool ok = true;
  GRand *rand = g_rand_new_with_seed (1);
  for (int i = 0; ok && i < n_in; i++)
    {
      xs[i] = osh_tensor_new (osh_plan_input_shape (plan, i), err);
      ok = xs[i] != NULL;
      for (int64_t k = 0; ok && k < osh_tensor_numel (xs[i]); k++)
        xs[i]->data[k] = (float) g_rand_double_range (rand, 0.0, 1.0);
    }
  OshTensor *outs[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  for (int r = -1; ok && r < runs; r++) /* r = -1: warm-up */
    {
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_ms ();
      ok = osh_plan_run (plan, (const OshTensor *const *) xs, n_in, outs, err);
      if (r >= 0)
        {
          times[r] = (double) (g_get_monotonic_time () - t0) / 1000.0;
          cpu[r] = cpu_ms () - c0;
        }
      for (int i = 0; ok && i < osh_plan_n_outputs (plan); i++)
        osh_tensor_free (outs[i]), outs[i] = NULL;
    }
  for (int i = 0; i < n_in; i++)
    osh_tensor_free (xs[i]);
  g_free (xs);
  g_rand_free (rand);
  return ok;
}

/* Where a run's time goes, by layer class (each step at its fastest run), largest first. */
typedef struct
{
  const char *class_name;
  double ms;
} ClassTime;

static int
compare_class_time (gconstpointer a, gconstpointer b)
{
  double x = ((const ClassTime *) a)->ms, y = ((const ClassTime *) b)->ms;
  return x > y ? -1 : x < y;
}

static void
print_class_times (const OshPlan *plan)
{
  GArray *times = g_array_new (FALSE, FALSE, sizeof (ClassTime));
  GHashTable *index = g_hash_table_new (g_str_hash, g_str_equal); /* class → position + 1 */
  double total = 0;
  for (int i = 0; i < osh_plan_n_steps (plan); i++)
    {
      OshPlanStep s;
      if (!osh_plan_step (plan, i, &s))
        continue;
      guint at = GPOINTER_TO_UINT (g_hash_table_lookup (index, s.class_name));
      if (!at)
        {
          g_array_append_val (times, ((ClassTime){ s.class_name, 0 }));
          at = times->len;
          g_hash_table_insert (index, (gpointer) s.class_name, GUINT_TO_POINTER (at));
        }
      g_array_index (times, ClassTime, at - 1).ms += s.best_ms;
      total += s.best_ms;
    }
  g_array_sort (times, compare_class_time);
  printf ("time by layer class (fastest run of each step, %.2f ms in all):\n", total);
  for (guint i = 0; i < times->len && i < 8; i++)
    {
      const ClassTime *t = &g_array_index (times, ClassTime, i);
      printf ("  %-24s %8.2f ms %5.1f %%\n", t->class_name, t->ms,
              total > 0 ? 100 * t->ms / total : 0);
    }
  g_hash_table_destroy (index);
  g_array_free (times, TRUE);
}

/* Every step in plan order with its fastest time; a step whose work was folded into its producer
 * shows (next to) nothing. */
static json_t *
list_steps (const OshPlan *plan, bool print)
{
  json_t *steps = json_array ();
  if (print)
    printf ("steps (fastest run of each):\n");
  for (int i = 0; i < osh_plan_n_steps (plan); i++)
    {
      OshPlanStep s;
      if (!osh_plan_step (plan, i, &s))
        continue;
      char dims[96] = "";
      for (int d = 0, at = 0; d < s.shape.rank && at < (int) sizeof dims - 24; d++)
        at += snprintf (dims + at, sizeof dims - (size_t) at, d ? "×%lld" : "%lld",
                        (long long) s.shape.dim[d]);
      double gflops = s.best_ms > 0 ? s.flops / (s.best_ms * 1e6) : 0;
      json_array_append_new (steps, json_pack ("{s:s, s:s, s:s, s:f, s:f, s:f}", "path", s.path,
                                               "class_name", s.class_name, "shape", dims, "mflop",
                                               s.flops / 1e6, "ms", s.best_ms, "gflops", gflops));
      if (print)
        printf ("  %-40s %-22s %-18s %8.1f MFLOP %8.3f ms %6.1f GFLOPS\n", s.path, s.class_name,
                dims, s.flops / 1e6, s.best_ms, gflops);
    }
  return steps;
}

static int
bench (const char *cmd, const char *model, int runs, int threads, const OshShape *shapes,
       int n_shapes, bool steps, bool json)
{
  OshError err = { 0 };
  OshGraph *g = osh_cli_load_model (model, &err);
  if (!g)
    return osh_cli_report (cmd, &err);
  if (osh_graph_open_inputs (g) && n_shapes == 0)
    {
      char example[160];
      osh_cli_example_shape (g, example, sizeof example);
      osh_graph_free (g);
      return osh_cli_usage_error (cmd,
                                  "%s leaves input sizes open: give each input's shape with "
                                  "--input-shape (e.g. --input-shape %s)",
                                  model, example);
    }
  OshExecOptions opt = osh_exec_options_default ();
  opt.threads = threads;
  opt.input_shapes = n_shapes ? shapes : NULL;
  opt.n_input_shapes = n_shapes;
  opt.release_packed_weights = true; /* one plan, and nothing reads the weights after it */
  OshPlan *plan = osh_plan_new (g, &opt, &err);
  osh_cli_return_free_memory ();
  double *times = g_new0 (double, runs), *cpu = g_new0 (double, runs);
  int code = OSH_EXIT_OK;
  if (!plan || !time_runs (plan, runs, times, cpu, &err))
    {
      fprintf (stderr, "offshoot %s: %s\n", cmd, err.message);
      code = err.code == OSH_ERR_IO || err.code == OSH_ERR_USAGE ? OSH_EXIT_USAGE : OSH_EXIT_MODEL;
    }
  if (code == OSH_EXIT_OK)
    {
      /* Measured after the model's runs so OpenBLAS is warm and the same clocks apply; in the
       * activations' memory, which the plan no longer needs (its 12 MB would add to the peak). */
      osh_plan_release_buffers (plan);
      double sgemm = osh_exec_sgemm_gflops (1024, 10);
      double sorted[runs];
      memcpy (sorted, times, sizeof sorted);
      double median = median_of (sorted, runs);
      double cpu_sorted[runs];
      memcpy (cpu_sorted, cpu, sizeof cpu_sorted);
      double cpu_median = median_of (cpu_sorted, runs);
      double flops = osh_plan_flops (plan);
      double gflops = median > 0 ? flops / (median * 1e6) : 0;
      double best_gflops = sorted[0] > 0 ? flops / (sorted[0] * 1e6) : 0;
      json_t *convs = json_array ();
      double cpu_gflops = cpu_median > 0 ? flops / (cpu_median * 1e6) : 0;
      if (!json)
        printf (
            "model %s\n%d runs, %d thread%s: median %.2f ms, min %.2f ms, max %.2f ms; "
            "CPU time per run: median %.2f ms\n"
            "%.3f GFLOP per run: %.1f GFLOPS by the clock, %.1f by CPU time\n"
            "cblas_sgemm 1024², one thread, this process (OpenBLAS %s kernels): %.1f GFLOPS "
            "(CPU time)\n"
            "ratio %.0f %% by the clock (fastest run %.0f %%), %.0f %% by CPU time%s\n"
            "kernels: %s (best on this CPU: %s; OFFSHOOT_ISA=avx512|avx2|baseline forces one)\n",
            model, runs, threads, threads == 1 ? "" : "s", median, sorted[0], sorted[runs - 1],
            cpu_median, flops / 1e9, gflops, cpu_gflops, osh_exec_blas_core (), sgemm,
            sgemm > 0 ? 100 * gflops / sgemm : 0, sgemm > 0 ? 100 * best_gflops / sgemm : 0,
            sgemm > 0 ? 100 * cpu_gflops / sgemm : 0,
            threads > 1 ? " (several threads against a one-thread yardstick)" : "",
            osh_isa_name (osh_isa_current ()), osh_isa_name (osh_isa_best ()));
      if (!json)
        print_class_times (plan);
      bool header = false;
      for (int i = 0; i < osh_plan_n_steps (plan); i++)
        {
          OshPlanStep s;
          if (!osh_plan_step (plan, i, &s) || !is_conv (s.class_name) || s.flops < BIG_CONV_FLOPS)
            continue;
          double step_gflops = s.best_ms > 0 ? s.flops / (s.best_ms * 1e6) : 0;
          double ratio = sgemm > 0 ? step_gflops / sgemm : 0;
          json_array_append_new (convs, json_pack ("{s:s, s:s, s:f, s:f, s:f, s:f}", "path", s.path,
                                                   "class_name", s.class_name, "mflop",
                                                   s.flops / 1e6, "ms", s.best_ms, "gflops",
                                                   step_gflops, "ratio", ratio));
          if (!json)
            {
              if (!header)
                printf ("convolutions above 50 MFLOP (each at its fastest run):\n");
              header = true;
              printf ("  %-40s %-16s %8.1f MFLOP %8.3f ms %6.1f GFLOPS %4.0f %%\n", s.path,
                      s.class_name, s.flops / 1e6, s.best_ms, step_gflops, 100 * ratio);
            }
        }
      json_t *step_list = steps ? list_steps (plan, !json) : NULL;
      if (json)
        {
          json_t *doc =
              json_pack ("{s:s, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
                         "s:s, s:s, s:o}",
                         "model", model, "runs", runs, "threads", threads, "median_ms", median,
                         "min_ms", sorted[0], "max_ms", sorted[runs - 1], "cpu_median_ms",
                         cpu_median, "gflop_per_run", flops / 1e9, "gflops", gflops, "sgemm_gflops",
                         sgemm, "ratio", sgemm > 0 ? gflops / sgemm : 0.0, "fastest_ratio",
                         sgemm > 0 ? best_gflops / sgemm : 0.0, "cpu_ratio",
                         sgemm > 0 ? cpu_gflops / sgemm : 0.0, "blas_core", osh_exec_blas_core (),
                         "isa", osh_isa_name (osh_isa_current ()), "convs", convs);
          /* Live activations after buffer reuse, and scratch: the yardstick of a run's memory
           * beside the weights (tools/open-bench.py). */
          json_object_set_new (doc, "activation_bytes",
                               json_integer (osh_plan_buffer_bytes (plan)));
          if (step_list)
            json_object_set_new (doc, "steps", step_list);
          json_dumpf (doc, stdout, JSON_INDENT (1) | JSON_REAL_PRECISION (6));
          putchar ('\n');
          json_decref (doc);
        }
      else
        {
          json_decref (convs);
          json_decref (step_list);
        }
    }
  g_free (times);
  g_free (cpu);
  osh_plan_free (plan);
  osh_graph_free (g);
  return code;
}

static bool
parse_count (const char *s, int lo, int hi, int *out)
{
  char *end = NULL;
  long long v = s ? g_ascii_strtoll (s, &end, 10) : 0;
  if (!s || !end || end == s || *end || v < lo || v > hi)
    return false;
  *out = (int) v;
  return true;
}

int
osh_cmd_bench (int argc, char **argv)
{
  const char *model = NULL;
  int runs = 10, threads = 1;
  bool json = false, steps = false;
  OshShape shapes[8];
  int n_shapes = 0, taken;
  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];
      if (strcmp (arg, "--json") == 0)
        json = true;
      else if (strcmp (arg, "--steps") == 0)
        steps = true;
      else if ((taken = osh_cli_input_shape_option (argc, argv, &i, shapes, &n_shapes,
                                                    (int) G_N_ELEMENTS (shapes))))
        {
          if (taken != 1)
            return taken;
        }
      else if (strcmp (arg, "--runs") == 0 || g_str_has_prefix (arg, "--runs="))
        {
          const char *v = arg[6] == '=' ? arg + 7 : i + 1 < argc ? argv[++i] : NULL;
          if (!parse_count (v, 1, 100000, &runs))
            return osh_cli_bad_value (argv[0], "--runs", v, "an integer from 1 to 100000");
        }
      else if (strcmp (arg, "--threads") == 0 || g_str_has_prefix (arg, "--threads="))
        {
          const char *v = arg[9] == '=' ? arg + 10 : i + 1 < argc ? argv[++i] : NULL;
          if (!parse_count (v, 1, 256, &threads))
            return osh_cli_bad_value (argv[0], "--threads", v, "an integer from 1 to 256");
        }
      else if (arg[0] == '-')
        return osh_cli_usage_error (argv[0], "unknown option '%s'", arg);
      else if (model)
        return osh_cli_usage_error (argv[0], "one MODEL only ('%s' and '%s' given)", model, arg);
      else
        model = arg;
    }
  if (!model)
    return osh_cli_usage_error (argv[0], "no MODEL given (a model file or @default)");
  return bench (argv[0], model, runs, threads, shapes, n_shapes, steps, json);
}
