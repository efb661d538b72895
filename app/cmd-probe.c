/* offshoot probe MODEL [EDITS] --data DIR: a linear probe per layer (engine/train/osh-probe.h).
 *
 * Data: a folder per class (cli-data.h). The table goes to stdout (or one JSON document with
 * --json); -o writes it as CSV too. --save-features DIR keeps each layer's features as
 * NAME.npy (float32, rows in split order) with labels.npy, so another tool can repeat a fit. */
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli-data.h"
#include "cli-edits.h"
#include "cli.h"
#include "osh-image.h"
#include "osh-probe.h"

typedef struct
{
  const char *model, *data, *layers, *csv, *save;
  bool json, shuffle_weights;
  uint64_t weight_seed;
  OshProbeOptions opt;
} ProbeArgs;

static int
parse_args (int argc, char **argv, ProbeArgs *a)
{
  *a = (ProbeArgs){ .layers = "all", .opt = osh_probe_options_default () };
  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
      char *end = NULL;
      if (strcmp (arg, "--json") == 0)
        a->json = true;
      else if (arg[0] != '-')
        {
          if (a->model)
            return osh_cli_usage_error (argv[0], "unexpected argument '%s'", arg);
          a->model = arg;
        }
      else if (!val)
        return osh_cli_usage_error (argv[0], "%s needs a value", arg);
      else if (strcmp (arg, "-o") == 0)
        a->csv = val, i++;
      else if (strcmp (arg, "--data") == 0)
        a->data = val, i++;
      else if (strcmp (arg, "--layers") == 0)
        a->layers = val, i++;
      else if (strcmp (arg, "--save-features") == 0)
        a->save = val, i++;
      else
        {
          double v = strtod (val, &end);
          if (end == val || *end || !isfinite (v))
            return osh_cli_usage_error (argv[0], "%s takes a number, not '%s'", arg, val);
          i++;
          if (strcmp (arg, "--epochs") == 0 && v >= 1 && v <= 100000)
            a->opt.epochs = (int) v;
          else if (strcmp (arg, "--val-split") == 0 && v > 0 && v < 1)
            a->opt.val_split = v;
          else if (strcmp (arg, "--seed") == 0 && v >= 0)
            a->opt.seed = (uint64_t) v;
          else if (strcmp (arg, "--threads") == 0 && v >= 1 && v <= 256)
            a->opt.threads = (int) v;
          else if (strcmp (arg, "--group-mb") == 0 && v > 0)
            a->opt.group_bytes = (int64_t) (v * 1048576.0);
          else if (strcmp (arg, "--shuffle-weights") == 0 && v >= 0)
            a->shuffle_weights = true, a->weight_seed = (uint64_t) v;
          else
            return osh_cli_usage_error (argv[0], "bad option or value: %s %s", arg, val);
        }
    }
  if (!a->model || !a->data)
    return osh_cli_usage_error (argv[0], !a->model ? "which model?" : "--data DIR is required");
  return OSH_EXIT_OK;
}

typedef struct
{
  const OshCliData *data;
  OshPreprocess pp;
  const ProbeArgs *args;
  int64_t n;
} ProbeRun;

static OshTensor *
load_picture (int64_t i, void *user, OshError *err)
{
  ProbeRun *run = user;
  const OshCliExample *e = run->data->examples->pdata[i];
  OshImage *img = osh_image_load (e->picture, err);
  OshTensor *x = img ? osh_image_to_tensor (img, &run->pp, err) : NULL;
  osh_image_free (img);
  if (!x)
    osh_error_prefix (err, "%s: ", e->picture);
  return x;
}

static bool
show_progress (const OshProbeLayer *l, int index, int total, void *user)
{
  const ProbeRun *run = user;
  if (!run->args->json)
    {
      printf ("%-32s %-24s %7lld %-7s %7.3f %7.3f\n", l->path, l->class_name, (long long) l->dim,
              l->pooled ? "pooled" : "flat", l->train_accuracy, l->val_accuracy);
      fflush (stdout);
    }
  (void) index, (void) total;
  return true;
}

/* NumPy's .npy, version 1.0: a padded header dict, then the little-endian float32 rows. */
static bool
write_npy (const char *path, const float *v, int64_t rows, int64_t cols, OshError *err)
{
  char *shape = cols > 0 ? g_strdup_printf ("(%lld, %lld)", (long long) rows, (long long) cols)
                         : g_strdup_printf ("(%lld,)", (long long) rows);
  GString *h = g_string_new (NULL);
  g_string_printf (h, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
  g_free (shape);
  while ((10 + h->len + 1) % 64)
    g_string_append_c (h, ' ');
  g_string_append_c (h, '\n');
  char *tmp = g_strdup_printf ("%s.tmp", path);
  FILE *f = fopen (tmp, "wb");
  bool ok = f != NULL;
  if (ok)
    {
      guint16 len = GUINT16_TO_LE ((guint16) h->len);
      ok = fwrite ("\x93NUMPY\x01\x00", 1, 8, f) == 8 && fwrite (&len, 2, 1, f) == 1
           && fwrite (h->str, 1, h->len, f) == h->len
           && fwrite (v, sizeof (float), (size_t) (rows * (cols > 0 ? cols : 1)), f)
                  == (size_t) (rows * (cols > 0 ? cols : 1));
      ok = fclose (f) == 0 && ok && g_rename (tmp, path) == 0;
    }
  if (!ok)
    {
      g_unlink (tmp);
      osh_fail (err, OSH_ERR_IO, "%s: cannot write", path);
    }
  g_free (tmp);
  g_string_free (h, TRUE);
  return ok;
}

static bool
save_features (const OshProbeLayer *l, const float *rows, int64_t n, const int *labels, void *user,
               OshError *err)
{
  const ProbeRun *run = user;
  char *safe = g_strdelimit (g_strdup (l->path), "/", '.');
  char *name = g_strdup_printf ("%s.npy", safe);
  char *path = g_build_filename (run->args->save, name, NULL);
  bool ok = write_npy (path, rows, n, l->dim, err);
  g_free (safe), g_free (name), g_free (path);
  char *lp = g_build_filename (run->args->save, "labels.npy", NULL);
  if (ok && !g_file_test (lp, G_FILE_TEST_EXISTS))
    {
      float *lv = g_new (float, n);
      for (int64_t i = 0; i < n; i++)
        lv[i] = (float) labels[i];
      ok = write_npy (lp, lv, n, 0, err);
      g_free (lv);
    }
  g_free (lp);
  return ok;
}

static bool
write_csv (const char *path, const OshProbeResult *r, OshError *err)
{
  GString *s = g_string_new ("layer,class,features,pooled,train_accuracy,val_accuracy,val_loss,"
                             "chance\n");
  for (int i = 0; i < r->n_layers; i++)
    {
      const OshProbeLayer *l = &r->layers[i];
      g_string_append_printf (s, "%s,%s,%lld,%d,%.6f,%.6f,%.6f,%.6f\n", l->path, l->class_name,
                              (long long) l->dim, l->pooled, l->train_accuracy, l->val_accuracy,
                              l->val_loss, r->chance);
    }
  GError *error = NULL;
  bool ok = g_file_set_contents (path, s->str, (gssize) s->len, &error); /* temp, then rename */
  if (!ok)
    {
      osh_fail (err, OSH_ERR_IO, "%s: %s", path, error->message);
      g_error_free (error);
    }
  g_string_free (s, TRUE);
  return ok;
}

static json_t *
result_json (const ProbeArgs *a, const OshCliData *data, const OshProbeResult *r)
{
  json_t *classes = json_array (), *layers = json_array ();
  for (guint i = 0; i < data->classes->len; i++)
    json_array_append_new (classes, json_string (data->classes->pdata[i]));
  for (int i = 0; i < r->n_layers; i++)
    {
      const OshProbeLayer *l = &r->layers[i];
      json_array_append_new (layers,
                             json_pack ("{s:s, s:s, s:I, s:b, s:f, s:f, s:f}", "layer", l->path,
                                        "class", l->class_name, "features", (json_int_t) l->dim,
                                        "pooled", l->pooled, "train_accuracy", l->train_accuracy,
                                        "val_accuracy", l->val_accuracy, "val_loss", l->val_loss));
    }
  return json_pack ("{s:s, s:o, s:I, s:I, s:f, s:i, s:b, s:{s:i, s:f, s:f, s:I}, s:o}", "model",
                    a->model, "classes", classes, "train", (json_int_t) r->n_train, "validation",
                    (json_int_t) r->n_val, "chance", r->chance, "passes", r->passes,
                    "shuffled_weights", a->shuffle_weights, "recipe", "epochs", a->opt.epochs, "lr",
                    a->opt.lr, "l2", a->opt.l2, "seed", (json_int_t) a->opt.seed, "layers", layers);
}

static int
probe (const ProbeArgs *a, OshCliEdits *edits, OshCliData *data)
{
  OshError err = { 0 };
  OshProbeResult r = { 0 };
  char **layers = NULL;
  int status = OSH_EXIT_OK;
  OshGraph *g = osh_cli_load_model (a->model, &err);
  if (!g || !osh_cli_run_edits (edits, &g, &err) || !osh_cli_read_data (a->data, data, &err))
    goto fail;
  if (data->classes->len < 2)
    {
      osh_fail (&err, OSH_ERR_USAGE, "%s: probe needs a folder per class, two or more", a->data);
      goto fail;
    }
  if (a->save && g_mkdir_with_parents (a->save, 0755) != 0)
    {
      osh_fail (&err, OSH_ERR_IO, "%s: cannot make the folder", a->save);
      goto fail;
    }
  if (a->shuffle_weights)
    osh_probe_shuffle_weights (g, a->weight_seed);
  layers = osh_probe_select_layers (g, a->layers, &err);
  if (!layers)
    goto fail;
  ProbeRun run = { .data = data, .args = a, .n = data->examples->len };
  osh_preprocess_propose (g, &run.pp);
  int *labels = g_new (int, run.n);
  for (int64_t i = 0; i < run.n; i++)
    labels[i] = ((const OshCliExample *) data->examples->pdata[i])->label;
  int n_layers = (int) g_strv_length (layers);
  if (!a->json)
    printf ("probing %d layers of %s on %lld pictures of %u classes\n%-32s %-24s %7s %-7s %7s "
            "%7s\n",
            n_layers, a->model, (long long) run.n, data->classes->len, "layer", "class", "features",
            "", "train", "val");
  bool ok = osh_probe_run (g, (const char *const *) layers, n_layers, run.n, labels,
                           (int) data->classes->len, load_picture, &run, &a->opt, show_progress,
                           a->save ? save_features : NULL, &run, &r, &err);
  g_free (labels);
  if (!ok || (a->csv && !write_csv (a->csv, &r, &err)))
    goto fail;
  if (a->json)
    {
      json_t *doc = result_json (a, data, &r);
      char *text = json_dumps (doc, JSON_COMPACT);
      printf ("%s\n", text);
      free (text);
      json_decref (doc);
    }
  else
    printf ("%lld train, %lld validate; chance %.3f (the largest class); %d pass%s over the "
            "pictures\n",
            (long long) r.n_train, (long long) r.n_val, r.chance, r.passes,
            r.passes == 1 ? "" : "es");
  goto done;
fail:
  status = osh_cli_report ("probe", &err);
done:
  osh_probe_result_clear (&r);
  osh_probe_layers_free (layers);
  osh_graph_free (g);
  return status;
}

int
osh_cmd_probe (int argc, char **argv)
{
  OshError err = { 0 };
  OshCliEdits edits;
  if (!osh_cli_parse_edits (&argc, argv, &edits, &err))
    return osh_cli_report (argv[0], &err);
  ProbeArgs a;
  int status = parse_args (argc, argv, &a);
  OshCliData data = { 0 };
  if (status == OSH_EXIT_OK)
    status = probe (&a, &edits, &data);
  osh_cli_data_clear (&data);
  osh_cli_edits_clear (&edits);
  return status;
}
