/* offshoot fit MODEL [EDITS] --data DIR -o OUT: train the head, the backbone frozen.
 *
 * Attaching a head freezes every layer the model had (Keras's trainable = false, osh-heads.h) and
 * the head trains; a model attached earlier and saved keeps those flags, so `attach` then `fit`
 * trains the same head. The cut
 * between frozen and trained is every frozen layer: the pictures run once through the inference
 * plan, which keeps the cut's outputs (the features), and the epochs then cost only the head
 * (engine/train/osh-train.h).
 *
 * Every output with something trainable between the cut and it trains; several train at once,
 * on the weighted sum of their losses (--loss, --loss-weight). Layers this command's own
 * --attach edits made all train (a second --attach freezes the first head, as attach does).
 *
 * Data (ui/fit/osh-fit-data.h): a folder per class (Keras's image_dataset_from_directory layout)
 * and/or pictures with masks. The fitting itself — cut, features, epochs, the best epoch's save —
 * is ui/fit/osh-fit.h, shared with the window's Train view; this file parses the options and
 * prints. The last --val-split of the (seeded, shuffled) list validates. */
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli-edits.h"
#include "cli.h"
#include "osh-fit.h"
#include "osh-image.h"
#include "osh-model.h"
#include "osh-train.h"

#define FIT_MAX_OUTPUTS OSH_FIT_MAX_OUTPUTS

typedef struct
{
  const char *model, *data, *out;
  int epochs, batch, threads;
  double lr, momentum, val_split, weight_decay, alpha, warmup_lr, clipnorm, clipvalue,
      global_clipnorm;
  int64_t decay_steps, warmup_steps; /* decay_steps 0: every step of the run */
  bool nesterov, shuffle, json, cosine, save_best, shift_asked;
  /* --loss [OUTPUT=]KIND and --loss-weight OUTPUT=W, as given */
  const char *loss[FIT_MAX_OUTPUTS], *loss_weight[FIT_MAX_OUTPUTS];
  int n_loss, n_loss_weight;
  OshFitAugment augment;
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
  { "--augment-copies", 1, 64, false, true, "a whole number of copies from 1 to 64" },
  { "--shift", 0, 0.5, true, false, "a fraction of the size above 0, at most 0.5" },
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
  else if (strcmp (flag, "--augment-copies") == 0)
    a->augment.copies = (int) v;
  else if (strcmp (flag, "--shift") == 0)
    a->augment.shift = v;
}

/* --augment flip,shift: which transforms the copies use. */
static bool
parse_augment (const char *val, FitArgs *a)
{
  char **words = g_strsplit (val, ",", -1);
  bool ok = words[0] != NULL;
  for (int i = 0; ok && words[i]; i++)
    if (strcmp (words[i], "flip") == 0)
      a->augment.flip = true;
    else if (strcmp (words[i], "shift") == 0)
      a->shift_asked = true;
    else
      ok = false;
  g_strfreev (words);
  return ok;
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
      else if (strcmp (arg, "--save-best") == 0)
        a->save_best = true;
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
      else if (strcmp (arg, "--loss") == 0 || strcmp (arg, "--loss-weight") == 0)
        {
          bool weight = arg[6] == '-';
          const char *kind = strrchr (val, '=') ? strrchr (val, '=') + 1 : val;
          OshLossKind lk;
          char *end = NULL;
          double w = weight ? strtod (kind, &end) : 0;
          if ((weight ? a->n_loss_weight : a->n_loss) == FIT_MAX_OUTPUTS)
            return osh_cli_usage_error (argv[0], "%s: at most %d", arg, FIT_MAX_OUTPUTS);
          if (!weight && (!osh_train_loss_parse (kind, &lk) || lk == OSH_LOSS_AUTO))
            return osh_cli_bad_value (argv[0], arg, val,
                                      "[OUTPUT=]KIND with KIND cce, softmax-ce, bce, dice, "
                                      "bce-dice or mse");
          if (weight && (!strchr (val, '=') || end == kind || *end || !isfinite (w) || w < 0))
            return osh_cli_bad_value (argv[0], arg, val, "OUTPUT=W with a weight of 0 or more");
          if (weight)
            a->loss_weight[a->n_loss_weight++] = val;
          else
            a->loss[a->n_loss++] = val;
          i++;
        }
      else if (strcmp (arg, "--augment") == 0)
        {
          if (!parse_augment (val, a))
            return osh_cli_bad_value (argv[0], arg, val, "flip, shift or flip,shift");
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
  if (a->augment.copies && !a->augment.flip && !a->shift_asked)
    return osh_cli_usage_error (argv[0], "--augment-copies sets how many augmented copies: add "
                                         "--augment flip, shift or flip,shift");
  if (a->augment.shift > 0 && !a->shift_asked)
    return osh_cli_usage_error (argv[0], "--shift sets how far --augment shift moves the "
                                         "pictures: add --augment shift");
  if (a->augment.flip || a->shift_asked)
    {
      /* Copies of each picture, features computed once: the epochs still cost only the head. */
      a->augment.copies = a->augment.copies ? a->augment.copies : 2;
      a->augment.shift = !a->shift_asked ? 0 : a->augment.shift > 0 ? a->augment.shift : 0.1;
      a->augment.seed = a->seed;
    }
  if (a->save_best && a->val_split == 0)
    return osh_cli_usage_error (argv[0], "--save-best keeps the epoch with the lowest val_loss: "
                                         "it needs --val-split above 0");
  if (a->momentum > 0 && a->optimizer != OSH_OPTIM_SGD)
    return osh_cli_usage_error (argv[0], "--momentum is SGD's (add --optimizer sgd)");
  if (a->nesterov && a->optimizer != OSH_OPTIM_SGD)
    return osh_cli_usage_error (argv[0], "--nesterov is SGD's (add --optimizer sgd)");
  return OSH_EXIT_OK;
}

static const char *
output_name (const OshGraph *g, int k)
{
  return g->layers[g->nodes[g->outputs[k].node].layer].name;
}

/* Trained output k's index for an OUTPUT=... option: its layer name or its model output number. */
static int
find_output (const OshGraph *g, const int *outs, int n, const char *spec, size_t len)
{
  for (int k = 0; k < n; k++)
    {
      const char *name = output_name (g, outs[k]);
      char num[16];
      snprintf (num, sizeof num, "%d", outs[k]);
      if ((strlen (name) == len && strncmp (name, spec, len) == 0)
          || (strlen (num) == len && strncmp (num, spec, len) == 0))
        return k;
    }
  return -1;
}

/* --loss and --loss-weight onto the trainer's outputs. */
static bool
set_losses (const FitArgs *a, const OshGraph *g, OshTrainer *t, const int *outs, int n,
            OshError *err)
{
  OshLossKind kind[FIT_MAX_OUTPUTS] = { 0 };
  double weight[FIT_MAX_OUTPUTS];
  for (int k = 0; k < n; k++)
    weight[k] = 1.0;
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < (pass ? a->n_loss_weight : a->n_loss); i++)
      {
        const char *v = pass ? a->loss_weight[i] : a->loss[i], *eq = strrchr (v, '=');
        int k = eq ? find_output (g, outs, n, v, (size_t) (eq - v)) : -1;
        if (eq && k < 0)
          {
            GString *names = g_string_new (NULL);
            for (int j = 0; j < n; j++)
              g_string_append_printf (names, "%s%s", j ? ", " : "", output_name (g, outs[j]));
            osh_fail (err, OSH_ERR_USAGE, "%s %s: no trained output '%.*s' (they are: %s)",
                      pass ? "--loss-weight" : "--loss", v, (int) (eq - v), v, names->str);
            g_string_free (names, TRUE);
            return false;
          }
        for (int j = eq ? k : 0; j < (eq ? k + 1 : n); j++)
          {
            if (pass)
              weight[j] = strtod (eq + 1, NULL);
            else
              osh_train_loss_parse (eq ? eq + 1 : v, &kind[j]);
          }
      }
  for (int k = 0; k < n; k++)
    if (!osh_trainer_set_loss (t, k, kind[k], weight[k], err))
      {
        osh_error_prefix (err, "--loss: ");
        return false;
      }
  return true;
}

/* One epoch's row of the history: Keras's keys, per output when there are several. */
static void
add_scores (json_t *row, const char *prefix, const OshFitScore *s, const OshFit *f)
{
  char key[300];
  snprintf (key, sizeof key, "%sloss", prefix);
  json_object_set_new (row, key, json_real (s->loss));
  int n = osh_fit_n_outputs (f);
  for (int k = 0; k < n; k++)
    {
      const char *metric;
      double m = osh_fit_metric (f, s, k, &metric);
      const char *name = osh_fit_output_name (f, k);
      if (n > 1)
        {
          snprintf (key, sizeof key, "%s%s_loss", prefix, name);
          json_object_set_new (row, key, json_real (s->out_loss[k]));
        }
      if (!metric)
        continue;
      if (n > 1)
        snprintf (key, sizeof key, "%s%s_%s", prefix, name, metric);
      else
        snprintf (key, sizeof key, "%s%s", prefix, metric);
      json_object_set_new (row, key, isnan (m) ? json_null () : json_real (m));
    }
}

/* The row as a line: "loss 0.1234 accuracy 0.5000 val_loss ...". */
static void
print_row (int e, int epochs, const json_t *row)
{
  printf ("epoch %d/%d:", e + 1, epochs);
  const char *key;
  json_t *v;
  json_object_foreach ((json_t *) row, key, v)
    if (json_is_real (v) && !strstr (key, "seconds") && strcmp (key, "learning_rate") != 0)
      printf (" %s %.4f", key, json_real_value (v));
  printf (" (%.2f s)\n", json_real_value (json_object_get (row, "seconds")));
  fflush (stdout);
}

/* Layers the command's own edits made train, even when a later --attach froze them (attach
 * freezes what the model already had, a head attached before included). */
static void
train_new_layers (OshGraph *g, GHashTable *before)
{
  for (int i = 0; i < g->n_layers; i++)
    if (g->layers[i].owner < 0 && !g_hash_table_contains (before, g->layers[i].name))
      g->layers[i].trainable = true;
}

typedef struct
{
  const FitArgs *a;
  json_t *history;
} FitPrinter;

/* Each epoch's row into the history (and printed), each save said. */
static bool
on_progress (OshFit *f, OshFitStage stage, int64_t done, int64_t total, void *user)
{
  FitPrinter *p = user;
  if (stage == OSH_FIT_EPOCH)
    {
      const OshFitEpoch *ep = osh_fit_epoch (f, (int) done - 1);
      json_t *row = json_pack ("{s:i}", "epoch", ep->epoch);
      add_scores (row, "", &ep->train, f);
      if (osh_fit_n_val (f))
        add_scores (row, "val_", &ep->val, f);
      json_object_set_new (row, "learning_rate", json_real (ep->learning_rate));
      json_object_set_new (row, "seconds", json_real (ep->seconds));
      json_object_set_new (row, "cpu_seconds", json_real (ep->cpu_seconds));
      json_array_append_new (p->history, row);
      if (!p->a->json)
        print_row ((int) done - 1, (int) total, row);
    }
  else if (stage == OSH_FIT_SAVED && !p->a->json)
    printf ("saved epoch %d (val_loss %.4f) to %s\n", (int) done,
            osh_fit_epoch (f, (int) done - 1)->val.loss, p->a->out);
  return true;
}

static int
fit (const FitArgs *a, OshCliEdits *edits, OshFitData *data, json_t *history)
{
  OshError err = { 0 };
  OshGraph *g = osh_cli_load_model (a->model, &err);
  OshFit *f = NULL;
  GHashTable *before = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  int status = OSH_EXIT_USAGE, outs[FIT_MAX_OUTPUTS];
  if (!g)
    goto fail;
  for (int i = 0; i < g->n_layers; i++)
    g_hash_table_add (before, g_strdup (g->layers[i].name));
  if (!osh_cli_run_edits (edits, &g, &err) || !osh_cli_read_data (a->data, data, &err))
    goto fail;
  if (edits->n > 0)
    train_new_layers (g, before);
  OshFitOptions fo = osh_fit_options_default ();
  fo.epochs = a->epochs;
  fo.batch = a->batch;
  fo.threads = a->threads;
  fo.val_split = a->val_split;
  fo.shuffle = a->shuffle;
  fo.seed = a->seed;
  fo.augment = a->augment;
  fo.save_best = a->save_best ? a->out : NULL;
  OshTrainOptions *to = &fo.train;
  to->optimizer = a->optimizer;
  to->learning_rate = a->lr;
  to->momentum = a->momentum;
  to->nesterov = a->nesterov;
  to->weight_decay = a->weight_decay;
  to->clipnorm = a->clipnorm;
  to->clipvalue = a->clipvalue;
  to->global_clipnorm = a->global_clipnorm;
  if (a->cosine)
    {
      to->schedule = OSH_SCHEDULE_COSINE;
      to->decay_steps = a->decay_steps; /* 0: every step of the run (osh-fit.h) */
      to->alpha = a->alpha;
      to->warmup_steps = a->warmup_steps;
      to->warmup_target = a->warmup_lr;
    }
  f = osh_fit_new (g, a->model, data, &fo, &err);
  if (!f)
    goto fail;
  int n_outs = osh_fit_n_outputs (f);
  for (int k = 0; k < n_outs; k++)
    outs[k] = osh_fit_output (f, k);
  OshTrainer *t = osh_fit_trainer (f);
  if (!set_losses (a, g, t, outs, n_outs, &err) || !osh_fit_prepare (f, NULL, NULL, &err))
    goto fail;
  if (!a->json)
    {
      printf ("training %lld weights of %s on %lld pictures (%lld validate), features at %s\n",
              (long long) osh_trainer_n_params (t), a->model, (long long) osh_fit_n_train (f),
              (long long) osh_fit_n_val (f), osh_trainer_feature_path (t, 0));
      for (int k = 0; k < n_outs; k++)
        printf ("output %s: %s\n", osh_fit_output_name (f, k),
                osh_train_loss_name (osh_trainer_loss_at (t, k)));
    }
  FitPrinter printer = { a, history };
  int best_epoch = 0;
  if (!osh_fit_run (f, on_progress, &printer, &err)
      || (!(best_epoch = osh_fit_best_epoch (f)) && !osh_model_save (g, a->out, &err)))
    goto fail;
  if (a->json)
    {
      const OshFitEpoch *last = osh_fit_epoch (f, osh_fit_n_epochs (f) - 1);
      const char *metric = NULL;
      osh_fit_metric (f, &last->train, 0, &metric);
      json_t *outputs = json_array ();
      for (int k = 0; k < n_outs; k++)
        {
          const char *m = NULL;
          osh_fit_metric (f, &last->train, k, &m);
          json_array_append_new (
              outputs, json_pack ("{s:s, s:s, s:f, s:s?}", "name", osh_fit_output_name (f, k),
                                  "loss", osh_train_loss_name (osh_trainer_loss_at (t, k)),
                                  "weight", osh_trainer_loss_weight_at (t, k), "metric", m));
        }
      json_t *doc =
          json_pack ("{s:s, s:s, s:s?, s:I, s:I, s:o, s:O}", "output", a->out, "features",
                     osh_trainer_feature_path (t, 0), "metric", metric, "train",
                     (json_int_t) osh_fit_n_train (f), "validation", (json_int_t) osh_fit_n_val (f),
                     "outputs", outputs, "history", history);
      if (best_epoch)
        json_object_set_new (doc, "best_epoch", json_integer (best_epoch));
      char *text = json_dumps (doc, JSON_COMPACT);
      printf ("%s\n", text);
      free (text);
      json_decref (doc);
    }
  else if (!best_epoch)
    printf ("Saved %s\n", a->out);
  else
    printf ("Kept epoch %d (the lowest val_loss) in %s\n", best_epoch, a->out);
  status = OSH_EXIT_OK;
  goto done;
fail:
  status = osh_cli_report ("fit", &err);
done:
  osh_fit_free (f);
  osh_graph_free (g);
  g_hash_table_unref (before);
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
  OshFitData data = { 0 };
  json_t *history = json_array ();
  if (status == OSH_EXIT_OK)
    status = fit (&a, &edits, &data, history);
  json_decref (history);
  osh_fit_data_clear (&data);
  osh_cli_edits_clear (&edits);
  return status;
}
