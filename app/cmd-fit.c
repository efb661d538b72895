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
 * Data (cli-data.h): a folder per class (Keras's image_dataset_from_directory layout) and/or
 * pictures with masks; targets and the feature cache in cli-fit-cache.c. The last --val-split of
 * the (seeded, shuffled) list validates. */
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-data.h"
#include "cli-edits.h"
#include "cli-fit-cache.h"
#include "cli.h"
#include "osh-exec.h"
#include "osh-image.h"
#include "osh-model.h"
#include "osh-train.h"

typedef struct
{
  double loss;             /* the weighted sum over the outputs, mean per picture */
  double *out_loss;        /* per output, unweighted */
  OshTrainStats *out_stat; /* per output, counts summed */
} FitScore;

static void
score_init (FitScore *s, int no)
{
  s->loss = NAN;
  s->out_loss = g_new0 (double, no);
  s->out_stat = g_new0 (OshTrainStats, no);
}

static void
score_clear (FitScore *s)
{
  g_free (s->out_loss);
  g_free (s->out_stat);
}

/* One pass over `order[0..n)`: training steps (each picture as its variant variant[i], an
 * augmented copy or itself), or evaluation. */
static bool
run_pass (OshTrainer *t, const OshFitCache *c, const int64_t *order, const int *variant, int64_t n,
          int batch, bool train, FitScore *score, OshError *err)
{
  int nf = c->nf, no = c->no;
  float **fb = g_new (float *, nf), **tb = g_new (float *, no);
  for (int f = 0; f < nf; f++)
    fb[f] = g_new (float, (int64_t) batch *osh_trainer_feature_numel (t, f));
  for (int k = 0; k < no; k++)
    tb[k] = g_new (float, (int64_t) batch *osh_trainer_output_numel_at (t, k));
  OshTrainStats *st = g_new0 (OshTrainStats, no);
  double loss_sum = 0;
  bool ok = true;
  for (int64_t at = 0; at < n && ok; at += batch)
    {
      int64_t b = n - at < batch ? n - at : batch;
      for (int64_t i = 0; i < b; i++)
        {
          int64_t row = order[at + i] * c->variants + (variant ? variant[at + i] : 0);
          for (int f = 0; f < nf; f++)
            {
              int64_t fn = osh_trainer_feature_numel (t, f);
              memcpy (fb[f] + i * fn, c->features[f] + row * fn, (size_t) fn * sizeof (float));
            }
          for (int k = 0; k < no; k++)
            {
              int64_t on = osh_trainer_output_numel_at (t, k);
              memcpy (tb[k] + i * on, c->targets[k] + row * on, (size_t) on * sizeof (float));
            }
        }
      double total = 0;
      const float *const *ff = (const float *const *) fb, *const *tt = (const float *const *) tb;
      ok = train ? osh_trainer_train_step (t, ff, tt, b, st, &total, err)
                 : osh_trainer_evaluate_step (t, ff, tt, b, st, &total, err);
      loss_sum += total * (double) b;
      for (int k = 0; ok && k < no; k++)
        {
          score->out_loss[k] += st[k].loss * (double) b;
          osh_train_stats_add (&score->out_stat[k], &st[k]);
        }
    }
  for (int f = 0; f < nf; f++)
    g_free (fb[f]);
  for (int k = 0; k < no; k++)
    g_free (tb[k]);
  g_free (fb);
  g_free (tb);
  g_free (st);
  score->loss = n ? loss_sum / (double) n : NAN;
  for (int k = 0; k < no; k++)
    score->out_loss[k] = n ? score->out_loss[k] / (double) n : NAN;
  return ok;
}

#define FIT_MAX_OUTPUTS 16

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

/* The model outputs with something trainable between the frozen layers and them, in order;
 * when none, the reason the last output gave. */
static int
trainable_outputs (OshGraph *g, GPtrArray *cut, const OshTrainOptions *to, int *outs, OshError *err)
{
  int n = 0;
  for (int k = 0; k < g->n_outputs && n < FIT_MAX_OUTPUTS; k++)
    {
      OshTrainOptions one = *to;
      one.max_batch = 1;
      osh_error_clear (err);
      OshTrainer *p =
          osh_trainer_new (g, k, (const char *const *) cut->pdata, (int) cut->len, &one, err);
      if (p && osh_trainer_n_trainable (p) > 0)
        outs[n++] = k;
      else if (p)
        osh_fail (err, OSH_ERR_USAGE,
                  "nothing between the frozen layers and output '%s' is trainable; attach a head "
                  "(--attach LAYER=HEAD)",
                  output_name (g, k));
      osh_trainer_free (p);
    }
  if (n)
    osh_error_clear (err);
  return n;
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
add_scores (json_t *row, const char *prefix, const FitScore *s, const OshGraph *g,
            const OshTrainer *t, const int *outs, int n)
{
  char key[300];
  snprintf (key, sizeof key, "%sloss", prefix);
  json_object_set_new (row, key, json_real (s->loss));
  for (int k = 0; k < n; k++)
    {
      const char *metric;
      double m = osh_train_stats_metric (osh_trainer_loss_at (t, k), &s->out_stat[k], &metric);
      const char *name = output_name (g, outs[k]);
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

static int
fit (const FitArgs *a, OshCliEdits *edits, OshCliData *data, OshFitCache *cache, json_t *history)
{
  OshError err = { 0 };
  OshGraph *g = osh_cli_load_model (a->model, &err);
  OshTrainer *t = NULL;
  GPtrArray *cut = g_ptr_array_new_with_free_func (free);
  GHashTable *before = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  int status = OSH_EXIT_USAGE, outs[FIT_MAX_OUTPUTS], n_outs = 0;
  const char *names[FIT_MAX_OUTPUTS];
  int64_t *order = NULL;
  int *variant = NULL;
  FitScore tr = { 0 }, va = { 0 };
  if (!g)
    goto fail;
  for (int i = 0; i < g->n_layers; i++)
    g_hash_table_add (before, g_strdup (g->layers[i].name));
  if (!osh_cli_run_edits (edits, &g, &err) || !osh_cli_read_data (a->data, data, &err))
    goto fail;
  if (edits->n > 0)
    train_new_layers (g, before);
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
  int64_t n = (int64_t) data->examples->len;
  int64_t n_val = (int64_t) floor ((double) n * a->val_split), n_train = n - n_val;
  int64_t per_epoch = (n_train + a->batch - 1) / a->batch;
  if (a->cosine)
    {
      /* Keras's CosineDecay needs decay_steps; by default the run's every step. */
      to.schedule = OSH_SCHEDULE_COSINE;
      to.decay_steps = a->decay_steps ? a->decay_steps : per_epoch * a->epochs;
      to.alpha = a->alpha;
      to.warmup_steps = a->warmup_steps;
      to.warmup_target = a->warmup_lr;
      if (a->warmup_steps && !a->decay_steps)
        to.decay_steps = to.decay_steps > a->warmup_steps ? to.decay_steps - a->warmup_steps : 1;
    }
  if (!osh_train_options_check (&to, &err))
    goto fail;
  n_outs = trainable_outputs (g, cut, &to, outs, &err);
  if (n_outs == 0)
    goto fail;
  for (int k = 0; k < n_outs; k++)
    names[k] = output_name (g, outs[k]);
  t = osh_trainer_new_outputs (g, outs, n_outs, (const char *const *) cut->pdata, (int) cut->len,
                               &to, &err);
  if (!t || !set_losses (a, g, t, outs, n_outs, &err))
    goto fail;
  if (n_train < 1)
    {
      osh_fail (&err, OSH_ERR_USAGE, "no pictures left to train on after the validation split");
      goto fail;
    }
  if (!osh_fit_cache_fill (g, t, names, data, &a->augment, a->threads, cache, &err))
    goto fail;
  order = g_new (int64_t, n);
  variant = g_new0 (int, n);
  for (int64_t i = 0; i < n; i++)
    order[i] = i;
  uint64_t rng = a->seed, pick = a->seed ^ 0xA5A5A5A5A5A5A5A5ULL;
  if (a->shuffle)
    osh_train_shuffle (order, n, &rng);
  if (!a->json)
    {
      printf ("training %lld weights of %s on %lld pictures (%lld validate), features at %s\n",
              (long long) osh_trainer_n_params (t), a->model, (long long) n_train,
              (long long) n_val, osh_trainer_feature_path (t, 0));
      for (int k = 0; k < n_outs; k++)
        printf ("output %s: %s\n", names[k], osh_train_loss_name (osh_trainer_loss_at (t, k)));
    }
  bool ok = true;
  double best = INFINITY;
  int best_epoch = 0;
  for (int e = 0; e < a->epochs && ok; e++)
    {
      if (a->shuffle)
        osh_train_shuffle (order, n_train, &rng);
      for (int64_t i = 0; i < n_train && cache->variants > 1; i++)
        {
          /* Which copy of each picture this epoch sees (seeded; 0 is the picture itself). */
          uint64_t z = (pick += 0x9E3779B97F4A7C15ULL);
          z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ULL;
          variant[i] = (int) ((z ^ (z >> 29)) % (uint64_t) cache->variants);
        }
      score_clear (&tr);
      score_clear (&va);
      score_init (&tr, n_outs);
      score_init (&va, n_outs);
      gint64 t0 = g_get_monotonic_time ();
      struct timespec c0, c1;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c0);
      ok = run_pass (t, cache, order, variant, n_train, a->batch, true, &tr, &err)
           && run_pass (t, cache, order + n_train, NULL, n_val, a->batch, false, &va, &err);
      double seconds = (double) (g_get_monotonic_time () - t0) / 1e6;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c1);
      double cpu = (double) (c1.tv_sec - c0.tv_sec) + (double) (c1.tv_nsec - c0.tv_nsec) / 1e9;
      json_t *row = json_pack ("{s:i}", "epoch", e + 1);
      add_scores (row, "", &tr, g, t, outs, n_outs);
      if (n_val)
        add_scores (row, "val_", &va, g, t, outs, n_outs);
      /* The rate of the epoch's last step, as the schedule gave it. */
      json_object_set_new (row, "learning_rate",
                           json_real (osh_train_learning_rate (&to, (e + 1) * per_epoch - 1)));
      json_object_set_new (row, "seconds", json_real (seconds));
      json_object_set_new (row, "cpu_seconds", json_real (cpu));
      json_array_append_new (history, row);
      if (!a->json)
        print_row (e, a->epochs, row);
      if (ok && a->save_best && va.loss < best)
        {
          /* Keras's ModelCheckpoint(save_best_only): the file is replaced whole (a temporary
           * file renamed), so it always holds a complete best epoch. */
          best = va.loss;
          best_epoch = e + 1;
          ok = osh_model_save (g, a->out, &err);
          if (ok && !a->json)
            printf ("saved epoch %d (val_loss %.4f) to %s\n", e + 1, va.loss, a->out);
        }
    }
  if (!ok || (!best_epoch && !osh_model_save (g, a->out, &err)))
    goto fail;
  if (a->json)
    {
      const char *metric = NULL;
      osh_train_stats_metric (osh_trainer_loss_at (t, 0), &tr.out_stat[0], &metric);
      json_t *outputs = json_array ();
      for (int k = 0; k < n_outs; k++)
        {
          const char *m = NULL;
          osh_train_stats_metric (osh_trainer_loss_at (t, k), &tr.out_stat[k], &m);
          json_array_append_new (
              outputs, json_pack ("{s:s, s:s, s:f, s:s?}", "name", names[k], "loss",
                                  osh_train_loss_name (osh_trainer_loss_at (t, k)), "weight",
                                  osh_trainer_loss_weight_at (t, k), "metric", m));
        }
      json_t *doc = json_pack ("{s:s, s:s, s:s?, s:I, s:I, s:o, s:O}", "output", a->out, "features",
                               osh_trainer_feature_path (t, 0), "metric", metric, "train",
                               (json_int_t) n_train, "validation", (json_int_t) n_val, "outputs",
                               outputs, "history", history);
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
  score_clear (&tr);
  score_clear (&va);
  g_free (order);
  g_free (variant);
  osh_trainer_free (t);
  osh_graph_free (g);
  g_ptr_array_unref (cut);
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
  OshCliData data = { 0 };
  OshFitCache cache = { 0 };
  json_t *history = json_array ();
  if (status == OSH_EXIT_OK)
    status = fit (&a, &edits, &data, &cache, history);
  json_decref (history);
  osh_fit_cache_clear (&cache);
  osh_cli_data_clear (&data);
  osh_cli_edits_clear (&edits);
  return status;
}
