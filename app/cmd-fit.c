/* offshoot fit MODEL [EDITS] --data DIR -o OUT: train the head, the backbone frozen.
 *
 * Attaching a head freezes every layer the model had (Keras's trainable = false, osh-heads.h) and
 * the head trains; a model attached earlier and saved keeps those flags, so `attach` then `fit`
 * trains the same head. The cut
 * between frozen and trained is every frozen layer: the pictures run once through the inference
 * plan, which keeps the cut's outputs (the features), and the epochs then cost only the head
 * (engine/train/osh-train.h).
 *
 * Data: DIR with a folder per class (Keras's image_dataset_from_directory layout; classes by
 * folder name, pictures by file name) for a softmax classifier, or pictures with masks beside
 * them (NAME.png and NAME-mask.png or NAME_mask.png, as `offshoot samples` writes) for a
 * one-channel map. The last --val-split of the (seeded, shuffled) list validates. */
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-data.h"
#include "cli-edits.h"
#include "cli.h"
#include "osh-exec.h"
#include "osh-image.h"
#include "osh-model.h"
#include "osh-train.h"

typedef struct
{
  int64_t n;
  int nf;
  float **features; /* per feature: n × numel */
  float *targets;   /* n × output numel */
} FitCache;

/* Runs every picture through the frozen part once, keeping the features, and makes its target. */
static bool
cache_features (const OshGraph *g, OshTrainer *t, const OshCliData *data, int threads,
                FitCache *cache, OshError *err)
{
  int nf = osh_trainer_n_features (t);
  const char **paths = g_new (const char *, nf);
  for (int f = 0; f < nf; f++)
    paths[f] = osh_trainer_feature_path (t, f);
  OshExecOptions eo = osh_exec_options_default ();
  eo.threads = threads;
  eo.capture = paths;
  eo.n_capture = nf;
  OshPlan *plan = osh_plan_new (g, &eo, err);
  g_free (paths);
  if (!plan)
    return false;
  OshPreprocess pp;
  osh_preprocess_propose (g, &pp);
  int64_t n = data->examples->len, on = osh_trainer_output_numel (t);
  const OshShape *os = osh_trainer_output_shape (t);
  cache->n = n;
  cache->nf = nf;
  cache->features = g_new0 (float *, nf);
  for (int f = 0; f < nf; f++)
    cache->features[f] = g_new (float, n *osh_trainer_feature_numel (t, f));
  cache->targets = g_new0 (float, n *on);
  OshLossKind loss = osh_trainer_loss (t);
  bool ok = true;
  for (int64_t i = 0; i < n && ok; i++)
    {
      const OshCliExample *e = data->examples->pdata[i];
      OshImage *img = osh_image_load (e->picture, err);
      OshTensor *x = img ? osh_image_to_tensor (img, &pp, err) : NULL;
      ok = x && osh_plan_run (plan, (const OshTensor *const[]){ x }, 1, NULL, err);
      for (int f = 0; ok && f < nf; f++)
        {
          OshShape s;
          const float *a = osh_plan_activation (plan, osh_trainer_feature_path (t, f), &s);
          int64_t fn = osh_trainer_feature_numel (t, f);
          ok = a && osh_shape_numel (&s) == fn;
          if (ok)
            memcpy (cache->features[f] + i * fn, a, (size_t) fn * sizeof (float));
          else
            osh_fail (err, OSH_ERR_SHAPE, "the features of '%s' have an unexpected size",
                      osh_trainer_feature_path (t, f));
        }
      float *target = cache->targets + i * on;
      if (ok && e->label >= 0)
        {
          if (loss != OSH_LOSS_CCE || on != (int64_t) data->classes->len)
            ok = osh_fail (err, OSH_ERR_USAGE,
                           "%d class folders, but the trained output is not a softmax over %d "
                           "classes",
                           (int) data->classes->len, (int) on);
          else
            target[e->label] = 1.0f;
        }
      else if (ok)
        {
          if (loss != OSH_LOSS_BCE || os->rank != 3)
            ok = osh_fail (err, OSH_ERR_USAGE,
                           "pictures with masks, but the trained output is not a one-channel map");
          OshImage *m = ok ? osh_image_load (e->mask, err) : NULL;
          ok = ok && m;
          if (ok)
            {
              float *gray = g_new (float, (size_t) m->width * m->height);
              for (int64_t p = 0; p < (int64_t) m->width * m->height; p++)
                gray[p] = m->rgb[p * 3] / 255.0f;
              osh_train_area_resize (gray, m->height, m->width, target, (int) os->dim[0],
                                     (int) os->dim[1]);
              g_free (gray);
            }
          osh_image_free (m);
        }
      if (!ok)
        osh_error_prefix (err, "%s: ", e->picture);
      osh_tensor_free (x);
      osh_image_free (img);
    }
  osh_plan_free (plan);
  return ok;
}

typedef struct
{
  double loss;
  double metric; /* accuracy or IoU; NAN when no examples */
} FitScore;

/* One pass over `order[0..n)`: training steps, or evaluation. */
static bool
run_pass (OshTrainer *t, const FitCache *c, const int64_t *order, int64_t n, int batch, bool train,
          FitScore *score, OshError *err)
{
  int nf = osh_trainer_n_features (t);
  int64_t on = osh_trainer_output_numel (t);
  float **fb = g_new (float *, nf);
  for (int f = 0; f < nf; f++)
    fb[f] = g_new (float, (int64_t) batch *osh_trainer_feature_numel (t, f));
  float *tb = g_new (float, (int64_t) batch *on);
  double loss_sum = 0;
  int64_t correct = 0, count = 0, inter = 0, uni = 0;
  bool ok = true;
  for (int64_t at = 0; at < n && ok; at += batch)
    {
      int64_t b = n - at < batch ? n - at : batch;
      for (int64_t i = 0; i < b; i++)
        {
          int64_t e = order[at + i];
          for (int f = 0; f < nf; f++)
            {
              int64_t fn = osh_trainer_feature_numel (t, f);
              memcpy (fb[f] + i * fn, c->features[f] + e * fn, (size_t) fn * sizeof (float));
            }
          memcpy (tb + i * on, c->targets + e * on, (size_t) on * sizeof (float));
        }
      OshTrainStats s;
      ok = train ? osh_trainer_train_batch (t, (const float *const *) fb, tb, b, &s, err)
                 : osh_trainer_evaluate_batch (t, (const float *const *) fb, tb, b, &s, err);
      loss_sum += s.loss * (double) b;
      correct += s.correct, count += s.count, inter += s.inter, uni += s.uni;
    }
  for (int f = 0; f < nf; f++)
    g_free (fb[f]);
  g_free (fb);
  g_free (tb);
  score->loss = n ? loss_sum / (double) n : NAN;
  score->metric = count ? (double) correct / (double) count
                  : uni ? (double) inter / (double) uni
                  : n   ? 1.0
                        : NAN;
  return ok;
}

typedef struct
{
  const char *model, *data, *out;
  int epochs, batch, threads;
  double lr, momentum, val_split, weight_decay, alpha, warmup_lr, clipnorm, clipvalue,
      global_clipnorm;
  int64_t decay_steps, warmup_steps; /* decay_steps 0: every step of the run */
  bool nesterov, shuffle, json, cosine;
  OshOptimKind optimizer;
  uint64_t seed;
} FitArgs;

/* A numeric option: where it goes, its range, and how the error describes it. */
typedef struct
{
  const char *flag;
  double lo, hi;
  bool lo_open, integer;
  const char *wanted;
} FitNumber;

static const FitNumber fit_numbers[] = {
  { "--epochs", 1, 100000, false, true, "a whole number of epochs from 1 to 100000" },
  { "--batch", 1, 4096, false, true, "a batch size from 1 to 4096" },
  { "--lr", 0, INFINITY, true, false, "a learning rate above 0" },
  { "--momentum", 0, 0.999999, false, false, "a momentum from 0 to below 1" },
  { "--val-split", 0, 0.999999, false, false, "a fraction from 0 to below 1" },
  { "--threads", 1, 256, false, true, "a thread count from 1 to 256" },
  { "--seed", 0, 9007199254740992.0, false, true, "a whole number from 0" },
  { "--weight-decay", 0, INFINITY, false, false, "a weight decay of 0 or more" },
  { "--decay-steps", 1, 1e12, false, true, "a whole number of steps from 1" },
  { "--cosine-alpha", 0, 1, false, false, "a fraction of the learning rate from 0 to 1" },
  { "--warmup-steps", 1, 1e12, false, true, "a whole number of steps from 1" },
  { "--warmup-lr", 0, INFINITY, true, false, "a learning rate above 0" },
  { "--clipnorm", 0, INFINITY, true, false, "a norm above 0" },
  { "--clipvalue", 0, INFINITY, true, false, "a bound above 0" },
  { "--global-clipnorm", 0, INFINITY, true, false, "a norm above 0" },
};

static void
set_number (FitArgs *a, const char *flag, double v)
{
  if (strcmp (flag, "--epochs") == 0)
    a->epochs = (int) v;
  else if (strcmp (flag, "--batch") == 0)
    a->batch = (int) v;
  else if (strcmp (flag, "--lr") == 0)
    a->lr = v;
  else if (strcmp (flag, "--momentum") == 0)
    a->momentum = v;
  else if (strcmp (flag, "--val-split") == 0)
    a->val_split = v;
  else if (strcmp (flag, "--threads") == 0)
    a->threads = (int) v;
  else if (strcmp (flag, "--seed") == 0)
    a->seed = (uint64_t) v;
  else if (strcmp (flag, "--weight-decay") == 0)
    a->weight_decay = v;
  else if (strcmp (flag, "--decay-steps") == 0)
    a->decay_steps = (int64_t) v;
  else if (strcmp (flag, "--cosine-alpha") == 0)
    a->alpha = v;
  else if (strcmp (flag, "--warmup-steps") == 0)
    a->warmup_steps = (int64_t) v;
  else if (strcmp (flag, "--warmup-lr") == 0)
    a->warmup_lr = v;
  else if (strcmp (flag, "--clipnorm") == 0)
    a->clipnorm = v;
  else if (strcmp (flag, "--clipvalue") == 0)
    a->clipvalue = v;
  else if (strcmp (flag, "--global-clipnorm") == 0)
    a->global_clipnorm = v;
}

static int
parse_args (int argc, char **argv, FitArgs *a)
{
  *a = (FitArgs){ .epochs = 10,
                  .batch = 32,
                  .threads = 1,
                  .val_split = 0.2,
                  .shuffle = true,
                  .seed = 1,
                  .weight_decay = -1 };
  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (arg, "--json") == 0)
        a->json = true;
      else if (strcmp (arg, "--no-shuffle") == 0)
        a->shuffle = false;
      else if (strcmp (arg, "--nesterov") == 0)
        a->nesterov = true;
      else if (arg[0] != '-')
        {
          if (a->model)
            return osh_cli_usage_error (argv[0], "unexpected argument '%s'", arg);
          a->model = arg;
        }
      else if (!val)
        return osh_cli_usage_error (argv[0], "%s needs a value", arg);
      else if (strcmp (arg, "-o") == 0)
        a->out = val, i++;
      else if (strcmp (arg, "--data") == 0)
        a->data = val, i++;
      else if (strcmp (arg, "--optimizer") == 0)
        {
          if (strcmp (val, "sgd") == 0)
            a->optimizer = OSH_OPTIM_SGD;
          else if (strcmp (val, "adam") == 0)
            a->optimizer = OSH_OPTIM_ADAM;
          else if (strcmp (val, "adamw") == 0)
            a->optimizer = OSH_OPTIM_ADAMW;
          else
            return osh_cli_bad_value (argv[0], arg, val, "sgd, adam or adamw");
          i++;
        }
      else if (strcmp (arg, "--schedule") == 0)
        {
          if (strcmp (val, "constant") != 0 && strcmp (val, "cosine") != 0)
            return osh_cli_bad_value (argv[0], arg, val, "constant or cosine");
          a->cosine = val[0] == 'c' && val[1] == 'o' && val[2] == 's';
          i++;
        }
      else
        {
          const FitNumber *num = NULL;
          for (size_t k = 0; k < G_N_ELEMENTS (fit_numbers); k++)
            if (strcmp (arg, fit_numbers[k].flag) == 0)
              num = &fit_numbers[k];
          if (!num)
            return osh_cli_usage_error (argv[0], "unknown option %s", arg);
          char *end = NULL;
          double v = strtod (val, &end);
          if (end == val || *end || !isfinite (v) || v < num->lo || v > num->hi
              || (num->lo_open && v == num->lo) || (num->integer && v != floor (v)))
            return osh_cli_bad_value (argv[0], arg, val, num->wanted);
          set_number (a, arg, v);
          i++;
        }
    }
  if (!a->model || !a->data || !a->out)
    return osh_cli_usage_error (argv[0], !a->model  ? "which model?"
                                         : !a->data ? "--data DIR is required"
                                                    : "-o OUT is required");
  if ((a->clipnorm > 0) + (a->clipvalue > 0) + (a->global_clipnorm > 0) > 1)
    return osh_cli_usage_error (argv[0], "--clipnorm, --clipvalue and --global-clipnorm: give "
                                         "at most one (Keras takes one kind of clipping)");
  if (!a->cosine && (a->decay_steps || a->alpha > 0 || a->warmup_steps || a->warmup_lr > 0))
    return osh_cli_usage_error (argv[0], "--decay-steps, --cosine-alpha, --warmup-steps and "
                                         "--warmup-lr shape the cosine schedule: add --schedule "
                                         "cosine");
  if ((a->warmup_steps > 0) != (a->warmup_lr > 0))
    return osh_cli_usage_error (argv[0], "--warmup-steps and --warmup-lr go together (the rate "
                                         "rises from --lr to --warmup-lr over the steps)");
  if (a->momentum > 0 && a->optimizer != OSH_OPTIM_SGD)
    return osh_cli_usage_error (argv[0], "--momentum is SGD's (add --optimizer sgd)");
  if (a->nesterov && a->optimizer != OSH_OPTIM_SGD)
    return osh_cli_usage_error (argv[0], "--nesterov is SGD's (add --optimizer sgd)");
  return OSH_EXIT_OK;
}

static int
fit (const FitArgs *a, OshCliEdits *edits, OshCliData *data, FitCache *cache, json_t *history)
{
  OshError err = { 0 };
  OshGraph *g = osh_cli_load_model (a->model, &err);
  OshTrainer *t = NULL;
  GPtrArray *cut = g_ptr_array_new_with_free_func (free);
  int status = OSH_EXIT_USAGE;
  if (!g)
    goto fail;
  if (!osh_cli_run_edits (edits, &g, &err) || !osh_cli_read_data (a->data, data, &err))
    goto fail;
  for (int i = 0; i < g->n_layers; i++)
    if (!g->layers[i].trainable && g->layers[i].owner < 0)
      g_ptr_array_add (cut, osh_graph_layer_path (g, i));
  if (cut->len == 0)
    {
      osh_fail (&err, OSH_ERR_USAGE,
                "every layer of %s is trainable: fit trains a head on a frozen backbone; attach "
                "one with --attach LAYER=HEAD (the model's own layers are then frozen)",
                a->model);
      goto fail;
    }
  OshTrainOptions to = osh_train_options_default ();
  to.optimizer = a->optimizer;
  to.learning_rate = a->lr;
  to.momentum = a->momentum;
  to.nesterov = a->nesterov;
  to.weight_decay = a->weight_decay;
  to.clipnorm = a->clipnorm;
  to.clipvalue = a->clipvalue;
  to.global_clipnorm = a->global_clipnorm;
  to.seed = a->seed;
  to.max_batch = a->batch;
  to.threads = a->threads;
  /* The split is by count, so the steps per epoch are known before the features. */
  int64_t n_fit =
      (int64_t) data->examples->len - (int64_t) floor ((double) data->examples->len * a->val_split);
  if (a->cosine)
    {
      /* Keras's CosineDecay needs decay_steps; by default the run's every step. */
      int64_t per_epoch = (n_fit + a->batch - 1) / a->batch;
      to.schedule = OSH_SCHEDULE_COSINE;
      to.decay_steps = a->decay_steps ? a->decay_steps : per_epoch * a->epochs;
      to.alpha = a->alpha;
      to.warmup_steps = a->warmup_steps;
      to.warmup_target = a->warmup_lr;
      if (a->warmup_steps && !a->decay_steps)
        to.decay_steps = to.decay_steps > a->warmup_steps ? to.decay_steps - a->warmup_steps : 1;
    }
  t = osh_trainer_new (g, g->n_outputs - 1, (const char *const *) cut->pdata, (int) cut->len, &to,
                       &err);
  if (t && osh_trainer_n_trainable (t) == 0)
    osh_fail (&err, OSH_ERR_USAGE,
              "nothing between the frozen layers and the last output is trainable; attach a head "
              "(--attach LAYER=HEAD)");
  if (!t || osh_trainer_n_trainable (t) == 0
      || !cache_features (g, t, data, a->threads, cache, &err))
    goto fail;
  int64_t n = cache->n, *order = g_new (int64_t, n);
  for (int64_t i = 0; i < n; i++)
    order[i] = i;
  uint64_t rng = a->seed;
  if (a->shuffle)
    osh_train_shuffle (order, n, &rng);
  int64_t n_val = (int64_t) floor ((double) n * a->val_split), n_train = n - n_val;
  if (n_train < 1)
    {
      g_free (order);
      osh_fail (&err, OSH_ERR_USAGE, "no pictures left to train on after the validation split");
      goto fail;
    }
  const char *metric = osh_trainer_loss (t) == OSH_LOSS_CCE ? "accuracy" : "iou";
  if (!a->json)
    printf ("training %lld weights of %s on %lld pictures (%lld validate), features at %s\n",
            (long long) osh_trainer_n_params (t), a->model, (long long) n_train, (long long) n_val,
            osh_trainer_feature_path (t, 0));
  bool ok = true;
  for (int e = 0; e < a->epochs && ok; e++)
    {
      if (a->shuffle)
        osh_train_shuffle (order, n_train, &rng);
      FitScore tr, va = { NAN, NAN };
      gint64 t0 = g_get_monotonic_time ();
      struct timespec c0, c1;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c0);
      ok = run_pass (t, cache, order, n_train, a->batch, true, &tr, &err)
           && run_pass (t, cache, order + n_train, n_val, a->batch, false, &va, &err);
      double seconds = (double) (g_get_monotonic_time () - t0) / 1e6;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c1);
      double cpu = (double) (c1.tv_sec - c0.tv_sec) + (double) (c1.tv_nsec - c0.tv_nsec) / 1e9;
      json_t *row = json_pack ("{s:i, s:f, s:f}", "epoch", e + 1, "loss", tr.loss, metric,
                               isnan (tr.metric) ? 0.0 : tr.metric);
      if (n_val)
        {
          json_object_set_new (row, "val_loss", json_real (va.loss));
          char key[32];
          snprintf (key, sizeof key, "val_%s", metric);
          json_object_set_new (row, key, json_real (va.metric));
        }
      int64_t steps = (e + 1) * ((n_train + a->batch - 1) / a->batch);
      /* The rate of the epoch's last step, as the schedule gave it. */
      json_object_set_new (row, "learning_rate",
                           json_real (osh_train_learning_rate (&to, steps - 1)));
      json_object_set_new (row, "seconds", json_real (seconds));
      json_object_set_new (row, "cpu_seconds", json_real (cpu));
      json_array_append_new (history, row);
      if (!a->json && n_val)
        printf ("epoch %d/%d: loss %.4f %s %.4f, val_loss %.4f val_%s %.4f (%.2f s)\n", e + 1,
                a->epochs, tr.loss, metric, tr.metric, va.loss, metric, va.metric, seconds);
      else if (!a->json)
        printf ("epoch %d/%d: loss %.4f %s %.4f\n", e + 1, a->epochs, tr.loss, metric, tr.metric);
      fflush (stdout);
    }
  g_free (order);
  if (!ok || !osh_model_save (g, a->out, &err))
    goto fail;
  if (a->json)
    {
      json_t *doc =
          json_pack ("{s:s, s:s, s:s, s:I, s:I, s:O}", "output", a->out, "features",
                     osh_trainer_feature_path (t, 0), "metric", metric, "train",
                     (json_int_t) n_train, "validation", (json_int_t) n_val, "history", history);
      char *text = json_dumps (doc, JSON_COMPACT);
      printf ("%s\n", text);
      free (text);
      json_decref (doc);
    }
  else
    printf ("Saved %s\n", a->out);
  status = OSH_EXIT_OK;
  goto done;
fail:
  status = osh_cli_report ("fit", &err);
done:
  osh_trainer_free (t);
  osh_graph_free (g);
  g_ptr_array_unref (cut);
  return status;
}

int
osh_cmd_fit (int argc, char **argv)
{
  OshError err = { 0 };
  OshCliEdits edits;
  if (!osh_cli_parse_edits (&argc, argv, &edits, &err))
    return osh_cli_report (argv[0], &err);
  FitArgs a;
  int status = parse_args (argc, argv, &a);
  OshCliData data = { 0 };
  FitCache cache = { 0 };
  json_t *history = json_array ();
  if (status == OSH_EXIT_OK)
    status = fit (&a, &edits, &data, &cache, history);
  json_decref (history);
  if (cache.features)
    for (int f = 0; f < cache.nf; f++)
      g_free (cache.features[f]);
  g_free (cache.features);
  g_free (cache.targets);
  osh_cli_data_clear (&data);
  osh_cli_edits_clear (&edits);
  return status;
}
