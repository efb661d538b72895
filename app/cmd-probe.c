/* offshoot probe MODEL [EDITS] --data DIR: a linear probe per layer (engine/train/osh-probe.h).
 *
 * Data: a folder per class (osh-fit-data.h). The table goes to stdout (or one JSON document with
 * --json); -o writes it as CSV too. --save-features DIR keeps each layer's features as
 * NAME.npy (float32, rows in split order) with labels.npy, so another tool can repeat a fit.
 * --keep LAYER --save-model OUT attaches LAYER's probe as a head (osh-heads-fitted.h) and saves
 * the model; with --json the document also gives the probe's own class probabilities for each
 * validation picture, so the kept head can be checked against them. --render OUT draws the
 * layer graph (PNG, SVG or PDF by extension) with every probed node coloured by its validation
 * accuracy and a colour-bar legend: the window's colouring (osh-colormap.h). */
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-edits.h"
#include "cli.h"
#include "osh-colormap.h"
#include "osh-heads-fitted.h"
#include "osh-image.h"
#include "osh-layout.h"
#include "osh-model.h"
#include "osh-probe.h"
#include "osh-scene.h"

typedef struct
{
  const char *model, *data, *layers, *csv, *save, *keep, *save_model, *render;
  bool json, shuffle_weights, masks;
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
      else if (strcmp (arg, "--masks") == 0)
        a->masks = true;
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
      else if (strcmp (arg, "--head") == 0)
        {
          if (strcmp (val, "linear") != 0 && strcmp (val, "mlp") != 0)
            return osh_cli_usage_error (argv[0], "--head is linear or mlp, not '%s'", val);
          a->opt.hidden = strcmp (val, "mlp") == 0 ? 64 : 0;
          i++;
        }
      else if (strcmp (arg, "--render") == 0)
        a->render = val, i++;
      else if (strcmp (arg, "--keep") == 0)
        a->keep = val, i++;
      else if (strcmp (arg, "--save-model") == 0)
        a->save_model = val, i++;
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
  if (a->masks && (a->keep || a->opt.hidden > 0))
    return osh_cli_usage_error (argv[0], "--masks fits 1×1-convolution probes: no --keep or "
                                         "--head mlp with it");
  if (a->keep && a->opt.hidden > 0)
    return osh_cli_usage_error (argv[0], "--keep keeps a linear probe (--head linear)");
  if (!a->keep != !a->save_model)
    return osh_cli_usage_error (argv[0], "--keep LAYER and --save-model OUT go together");
  return OSH_EXIT_OK;
}

typedef struct
{
  const OshFitData *data;
  OshPreprocess pp;
  const ProbeArgs *args;
  int64_t n;
  json_t *kept_val; /* the kept layer's probabilities per validation picture */
  int pass;         /* the pass over the pictures under way, from 1 */
} ProbeRun;

static OshTensor *
load_picture (int64_t i, void *user, OshError *err)
{
  ProbeRun *run = user;
  const OshFitExample *e = run->data->examples->pdata[i];
  OshImage *img = osh_image_load (e->picture, err);
  OshTensor *x = img ? osh_image_to_tensor (img, &run->pp, err) : NULL;
  osh_image_free (img);
  if (!x)
    osh_error_prefix (err, "%s: ", e->picture);
  return x;
}

/* The mask beside example i as 0..1 (its first channel), at its own size. */
static float *
load_mask (int64_t i, int *h, int *w, void *user, OshError *err)
{
  ProbeRun *run = user;
  const OshFitExample *e = run->data->examples->pdata[i];
  OshImage *m = osh_image_load (e->mask, err);
  if (!m)
    {
      osh_error_prefix (err, "%s: ", e->mask);
      return NULL;
    }
  float *v = malloc ((size_t) m->width * m->height * sizeof (float));
  for (int64_t p = 0; v && p < (int64_t) m->width * m->height; p++)
    v[p] = m->rgb[p * 3] / 255.0f;
  *h = m->height, *w = m->width;
  osh_image_free (m);
  if (!v)
    osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory", e->mask);
  return v;
}

static bool
show_progress (const OshProbeLayer *l, int index, int total, void *user)
{
  ProbeRun *run = user;
  /* Progress on stderr (stdout keeps the table or the JSON): a line per tenth of a pass over
   * the pictures, one per fitted layer; rewritten in place on a terminal. */
  bool tty = isatty (2);
  if (!l)
    {
      if (index == 1)
        run->pass++;
      if (tty || index == total || index % MAX (1, total / 10) == 0)
        fprintf (stderr, "%sprobe: pass %d, picture %d of %d%s", tty ? "\r" : "", run->pass, index,
                 total, tty && index < total ? "" : "\n");
      return true;
    }
  fprintf (stderr, "%sprobe: fitted %s (%d of %d)%s", tty ? "\r\033[K" : "", l->path, index + 1,
           total, tty && index + 1 < total ? "" : "\n");
  if (!run->args->json)
    {
      if (run->args->masks && isnan (l->val_iou))
        printf ("%-32s %-24s (no spatial map)\n", l->path, l->class_name);
      else if (run->args->masks)
        printf ("%-32s %-24s %7lld %-7s %7.3f %7.3f %7.3f\n", l->path, l->class_name,
                (long long) l->dim, "1x1", l->train_accuracy, l->val_accuracy, l->val_iou);
      else
        printf ("%-32s %-24s %7lld %-7s %7.3f %7.3f\n", l->path, l->class_name, (long long) l->dim,
                l->pooled ? "pooled" : "flat", l->train_accuracy, l->val_accuracy);
      fflush (stdout);
    }
  (void) index, (void) total;
  return true;
}

/* NumPy's .npy, version 1.0: a padded header dict, then the little-endian float32 rows. */
static bool write_npy_shaped (const char *path, const float *v, int64_t count, const char *shape,
                              OshError *err);

static bool
write_npy (const char *path, const float *v, int64_t rows, int64_t cols, OshError *err)
{
  char *shape = cols > 0 ? g_strdup_printf ("(%lld, %lld)", (long long) rows, (long long) cols)
                         : g_strdup_printf ("(%lld,)", (long long) rows);
  bool ok = write_npy_shaped (path, v, rows * (cols > 0 ? cols : 1), shape, err);
  g_free (shape);
  return ok;
}

static bool
write_npy_shaped (const char *path, const float *v, int64_t count, const char *shape, OshError *err)
{
  GString *h = g_string_new (NULL);
  g_string_printf (h, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
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
           && fwrite (v, sizeof (float), (size_t) count, f) == (size_t) count;
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

/* The kept layer's probe on its validation rows: softmax(x·kernel + bias) per picture. */
static void
keep_predictions (ProbeRun *run, const OshProbeLayer *l, const float *rows, int64_t n,
                  int n_classes)
{
  int64_t n_val = (int64_t) floor ((double) n * run->args->opt.val_split), n_train = n - n_val;
  int64_t *order = g_new (int64_t, n);
  osh_probe_split_order (order, n, run->args->opt.seed);
  run->kept_val = json_array ();
  double *z = g_new (double, n_classes);
  for (int64_t i = n_train; i < n; i++)
    {
      double top = -INFINITY, sum = 0;
      for (int k = 0; k < n_classes; k++)
        {
          z[k] = l->bias[k];
          for (int64_t j = 0; j < l->dim; j++)
            z[k] += (double) rows[i * l->dim + j] * l->kernel[j * n_classes + k];
          top = fmax (top, z[k]);
        }
      for (int k = 0; k < n_classes; k++)
        sum += (z[k] = exp (z[k] - top));
      json_t *p = json_array ();
      for (int k = 0; k < n_classes; k++)
        json_array_append_new (p, json_real (z[k] / sum));
      const OshFitExample *e = run->data->examples->pdata[order[i]];
      json_array_append_new (run->kept_val,
                             json_pack ("{s:s, s:o}", "picture", e->picture, "probabilities", p));
    }
  g_free (z);
  g_free (order);
}

/* masks.npy once: the masks in split order, (n, h, w), when they all have one size. */
static bool
save_masks (ProbeRun *run, int64_t n, OshError *err)
{
  char *path = g_build_filename (run->args->save, "masks.npy", NULL);
  bool ok = true;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      int64_t *order = g_new (int64_t, n);
      osh_probe_split_order (order, n, run->args->opt.seed);
      float *all = NULL;
      int h0 = 0, w0 = 0;
      bool same = true;
      for (int64_t i = 0; ok && same && i < n; i++)
        {
          int h = 0, w = 0;
          float *m = load_mask (order[i], &h, &w, run, err);
          ok = m != NULL;
          if (ok && i == 0)
            h0 = h, w0 = w, all = g_new (float, n *h *w);
          same = ok && h == h0 && w == w0;
          if (same)
            memcpy (all + i * h0 * w0, m, sizeof (float) * (size_t) (h0 * w0));
          free (m);
        }
      if (ok && same)
        {
          char *shape = g_strdup_printf ("(%lld, %d, %d)", (long long) n, h0, w0);
          ok = write_npy_shaped (path, all, n * h0 * w0, shape, err);
          g_free (shape);
        }
      g_free (all);
      g_free (order);
    }
  g_free (path);
  return ok;
}

static bool on_features (const OshProbeLayer *l, const float *rows, int64_t n, const int *labels,
                         void *user, OshError *err);

static bool
save_features (const OshProbeLayer *l, const float *rows, int64_t n, const int *labels, void *user,
               OshError *err)
{
  ProbeRun *run = user;
  char *safe = g_strdelimit (g_strdup (l->path), "/", '.');
  char *name = g_strdup_printf ("%s.npy", safe);
  char *path = g_build_filename (run->args->save, name, NULL);
  char *shape =
      labels ? g_strdup_printf ("(%lld, %lld)", (long long) n, (long long) l->dim)
             : g_strdup_printf ("(%lld, %lld, %lld, %lld)", (long long) n, (long long) l->map_h,
                                (long long) l->map_w, (long long) l->dim);
  bool ok =
      write_npy_shaped (path, rows, n * l->dim * (labels ? 1 : l->map_h * l->map_w), shape, err);
  g_free (shape);
  if (ok && !labels)
    ok = save_masks (run, n, err);
  g_free (safe), g_free (name), g_free (path);
  char *lp = g_build_filename (run->args->save, "labels.npy", NULL);
  if (ok && labels && !g_file_test (lp, G_FILE_TEST_EXISTS))
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
on_features (const OshProbeLayer *l, const float *rows, int64_t n, const int *labels, void *user,
             OshError *err)
{
  ProbeRun *run = user;
  if (run->args->keep && strcmp (l->path, run->args->keep) == 0)
    keep_predictions (run, l, rows, n, (int) run->data->classes->len);
  return !run->args->save || save_features (l, rows, n, labels, user, err);
}

static bool
write_csv (const char *path, const OshProbeResult *r, OshError *err)
{
  GString *s = g_string_new ("layer,class,features,pooled,train_accuracy,val_accuracy,val_loss,"
                             "chance,val_iou\n");
  for (int i = 0; i < r->n_layers; i++)
    {
      const OshProbeLayer *l = &r->layers[i];
      /* An empty cell for what was not measured (a mask probe's layer without a map; IoU of a
       * class probe). */
      double v[] = { l->train_accuracy, l->val_accuracy, l->val_loss, r->chance, l->val_iou };
      g_string_append_printf (s, "%s,%s,%lld,%d", l->path, l->class_name, (long long) l->dim,
                              l->pooled);
      for (size_t k = 0; k < G_N_ELEMENTS (v); k++)
        if (isnan (v[k]))
          g_string_append_c (s, ',');
        else
          g_string_append_printf (s, ",%.6f", v[k]);
      g_string_append_c (s, '\n');
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

/* JSON has no NaN: what was not measured is null. */
static json_t *
number (double v)
{
  return isnan (v) ? json_null () : json_real (v);
}

static json_t *
result_json (const ProbeArgs *a, const OshFitData *data, const OshProbeResult *r)
{
  json_t *classes = json_array (), *layers = json_array ();
  for (guint i = 0; i < data->classes->len; i++)
    json_array_append_new (classes, json_string (data->classes->pdata[i]));
  for (int i = 0; i < r->n_layers; i++)
    {
      const OshProbeLayer *l = &r->layers[i];
      json_t *row = json_pack ("{s:s, s:s, s:I, s:b, s:o, s:o, s:o}", "layer", l->path, "class",
                               l->class_name, "features", (json_int_t) l->dim, "pooled", l->pooled,
                               "train_accuracy", number (l->train_accuracy), "val_accuracy",
                               number (l->val_accuracy), "val_loss", number (l->val_loss));
      if (a->masks)
        json_object_set_new (row, "val_iou", number (l->val_iou));
      json_array_append_new (layers, row);
    }
  return json_pack ("{s:s, s:o, s:I, s:I, s:f, s:i, s:b, s:{s:s, s:i, s:i, s:f, s:f, s:I}, s:o}",
                    "model", a->model, "classes", classes, "train", (json_int_t) r->n_train,
                    "validation", (json_int_t) r->n_val, "chance", r->chance, "passes", r->passes,
                    "shuffled_weights", a->shuffle_weights, "recipe", "head",
                    a->masks            ? "mask"
                    : a->opt.hidden > 0 ? "mlp"
                                        : "linear",
                    "hidden", a->opt.hidden, "epochs", a->opt.epochs, "lr", a->opt.lr, "l2",
                    a->opt.l2, "seed", (json_int_t) a->opt.seed, "layers", layers);
}

/* The graph with the probed nodes coloured from chance (darkest) to 1 (yellow), as the window
 * shows it, and the legend below. */
static bool
render_colored (const OshGraph *g, const OshProbeResult *r, bool masks, const char *out,
                OshError *err)
{
  OshGrouping *gr = osh_grouping_new (g);
  OshGraphLayout *lay = osh_layout_compute (g, gr, err);
  osh_grouping_free (gr);
  if (!lay)
    return false;
  OshScene *scene = osh_scene_new (lay);
  const char **paths = g_new (const char *, MAX (1, r->n_layers));
  double *values = g_new (double, MAX (1, r->n_layers));
  for (int i = 0; i < r->n_layers; i++)
    paths[i] = r->layers[i].path,
    values[i] = masks ? r->layers[i].val_iou : r->layers[i].val_accuracy;
  double lo = isnan (r->chance) ? 0 : r->chance;
  uint32_t *fills = osh_colormap_node_fills (g, paths, values, r->n_layers, lo, 1);
  osh_scene_set_node_fills (scene, fills, g->n_nodes);
  char lo_text[32];
  g_snprintf (lo_text, sizeof lo_text, "%.2f (chance)", lo);
  osh_scene_set_fill_legend (
      scene, masks ? "mask probe validation IoU" : "probe validation accuracy", lo_text, "1.00");
  bool ok = osh_scene_export (scene, out, 1.0, err);
  g_free (fills), g_free (paths), g_free (values);
  osh_scene_free (scene);
  return ok;
}

/* Attaches the probe at a->keep as a head and saves the model; a JSON note of it. */
static json_t *
keep_head (const ProbeArgs *a, const OshGraph *g, const OshProbeResult *r, OshError *err)
{
  const OshProbeLayer *l = NULL;
  for (int i = 0; i < r->n_layers; i++)
    if (strcmp (r->layers[i].path, a->keep) == 0)
      l = &r->layers[i];
  if (!l)
    {
      osh_fail (err, OSH_ERR_USAGE, "--keep %s: not among the probed layers", a->keep);
      return NULL;
    }
  char *names[OSH_HEAD_MAX_STEPS] = { 0 };
  OshHeadSpec spec = { 0 };
  OshGraph *e = osh_head_attach_fitted (g, l->path, l->pooled, (long) l->dim, r->n_classes,
                                        l->kernel, l->bias, &spec, names, err);
  int n_names = e ? spec.n_steps : 0;
  bool ok = e && osh_model_save (e, a->save_model, err);
  json_t *note =
      ok ? json_pack ("{s:s, s:s, s:I, s:s}", "layer", l->path, "model", a->save_model, "output",
                      (json_int_t) (e->n_outputs - 1), "head", names[n_names - 1])
         : NULL;
  for (int i = 0; i < n_names; i++)
    free (names[i]);
  osh_graph_free (e);
  return note;
}

static int
probe (const ProbeArgs *a, OshCliEdits *edits, OshFitData *data)
{
  OshError err = { 0 };
  OshProbeResult r = { 0 };
  char **layers = NULL;
  int status = OSH_EXIT_OK;
  OshGraph *g = osh_cli_load_model (a->model, &err);
  if (!g || !osh_cli_run_edits (edits, &g, &err) || !osh_cli_read_data (a->data, data, &err))
    goto fail;
  bool have_masks =
      data->examples->len > 0 && ((const OshFitExample *) data->examples->pdata[0])->mask != NULL;
  if (have_masks != a->masks)
    {
      osh_fail (&err, OSH_ERR_USAGE,
                a->masks ? "%s: --masks needs pictures with NAME-mask.png beside them"
                         : "%s: pictures with masks: probe them with --masks",
                a->data);
      goto fail;
    }
  if (!a->masks && data->classes->len < 2)
    {
      osh_fail (&err, OSH_ERR_USAGE, "%s: probe needs a folder per class, two or more", a->data);
      goto fail;
    }
  if (a->save && g_mkdir_with_parents (a->save, 0755) != 0)
    {
      osh_fail (&err, OSH_ERR_IO, "%s: cannot make the folder", a->save);
      goto fail;
    }
  if (a->shuffle_weights && !osh_probe_shuffle_weights (g, a->weight_seed, &err))
    goto fail;
  layers = osh_probe_select_layers (g, a->layers, &err);
  if (!layers)
    goto fail;
  ProbeRun run = { .data = data, .args = a, .n = data->examples->len };
  osh_preprocess_propose (g, &run.pp);
  int *labels = g_new (int, run.n);
  for (int64_t i = 0; i < run.n; i++)
    labels[i] = ((const OshFitExample *) data->examples->pdata[i])->label;
  int n_layers = (int) g_strv_length (layers);
  if (!a->json && a->masks)
    printf ("probing %d layers of %s on %lld pictures with masks\n%-32s %-24s %7s %-7s %7s %7s "
            "%7s\n",
            n_layers, a->model, (long long) run.n, "layer", "class", "chans", "", "train", "val",
            "iou");
  else if (!a->json)
    printf ("probing %d layers of %s on %lld pictures of %u classes\n%-32s %-24s %7s %-7s %7s "
            "%7s\n",
            n_layers, a->model, (long long) run.n, data->classes->len, "layer", "class", "features",
            "", "train", "val");
  bool ok = a->masks ? osh_probe_run_masks (g, (const char *const *) layers, n_layers, run.n,
                                            load_picture, load_mask, &run, &a->opt, show_progress,
                                            a->save ? save_features : NULL, &run, &r, &err)
                     : osh_probe_run (g, (const char *const *) layers, n_layers, run.n, labels,
                                      (int) data->classes->len, load_picture, &run, &a->opt,
                                      show_progress, a->save || a->keep ? on_features : NULL, &run,
                                      &r, &err);
  g_free (labels);
  if (!ok || (a->csv && !write_csv (a->csv, &r, &err))
      || (a->render && !render_colored (g, &r, a->masks, a->render, &err)))
    goto fail;
  json_t *kept = NULL;
  if (a->keep && !(kept = keep_head (a, g, &r, &err)))
    goto fail;
  if (kept)
    json_object_set_new (kept, "validation", json_incref (run.kept_val));
  json_decref (run.kept_val);
  if (a->json)
    {
      json_t *doc = result_json (a, data, &r);
      if (kept)
        json_object_set_new (doc, "kept", kept);
      char *text = json_dumps (doc, JSON_COMPACT);
      printf ("%s\n", text);
      free (text);
      json_decref (doc);
    }
  else if (kept)
    {
      printf ("kept the probe at %s as output %lld of %s\n", a->keep,
              (long long) json_integer_value (json_object_get (kept, "output")), a->save_model);
      json_decref (kept);
    }
  if (!a->json)
    printf ("%lld train, %lld validate; chance %.3f (%s); %d pass%s over the pictures\n",
            (long long) r.n_train, (long long) r.n_val, r.chance,
            a->masks ? "the IoU of calling every pixel foreground" : "the largest class", r.passes,
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
  OshFitData data = { 0 };
  if (status == OSH_EXIT_OK)
    status = probe (&a, &edits, &data);
  osh_fit_data_clear (&data);
  osh_cli_edits_clear (&edits);
  return status;
}
