/* osh-fit.c — the fit driver: the cut, the trainer, the feature cache and the epochs (osh-fit.h). */
#include "osh-fit.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osh-model.h"

struct OshFit
{
  OshGraph *g;
  const OshFitData *data;
  OshFitOptions opt;
  OshTrainOptions to;
  GPtrArray *cut; /* the frozen layers' paths */
  OshTrainer *t;
  int outs[OSH_FIT_MAX_OUTPUTS], n_outs;
  const char *names[OSH_FIT_MAX_OUTPUTS];
  int64_t n, n_train, n_val, per_epoch;
  OshFitCache cache;
  int64_t *order;
  int *variant;
  uint64_t rng, pick;
  OshFitEpoch *epochs;
  int n_epochs, best_epoch;
  double best;
};

OshFitOptions
osh_fit_options_default (void)
{
  OshFitOptions o = {
    .epochs = 10, .batch = 32, .threads = 1, .val_split = 0.2, .shuffle = true, .seed = 1
  };
  o.train = osh_train_options_default ();
  o.train.weight_decay = -1;
  return o;
}

static void
score_init (OshFitScore *s, int no)
{
  s->loss = NAN;
  s->out_loss = g_new0 (double, no);
  s->out_stat = g_new0 (OshTrainStats, no);
}

static void
score_clear (OshFitScore *s)
{
  g_free (s->out_loss);
  g_free (s->out_stat);
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
  for (int k = 0; k < g->n_outputs && n < OSH_FIT_MAX_OUTPUTS; k++)
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
                  "first (--attach LAYER=HEAD, or the window's Head tab)",
                  output_name (g, k));
      osh_trainer_free (p);
    }
  if (n)
    osh_error_clear (err);
  return n;
}

OshFit *
osh_fit_new (OshGraph *g, const char *model, const OshFitData *data, const OshFitOptions *opt,
             OshError *err)
{
  OshFit *f = g_new0 (OshFit, 1);
  f->g = g;
  f->data = data;
  f->opt = *opt;
  f->best = INFINITY;
  f->cut = g_ptr_array_new_with_free_func (free);
  for (int i = 0; i < g->n_layers; i++)
    if (!g->layers[i].trainable && g->layers[i].owner < 0)
      g_ptr_array_add (f->cut, osh_graph_layer_path (g, i));
  if (f->cut->len == 0)
    {
      osh_fail (err, OSH_ERR_USAGE,
                "every layer of %s is trainable: fitting trains a head on a frozen backbone; "
                "attach one first (--attach LAYER=HEAD, or the window's Head tab; the model's "
                "own layers are then frozen)",
                model);
      osh_fit_free (f);
      return NULL;
    }
  OshTrainOptions to = opt->train;
  to.seed = opt->seed;
  to.max_batch = opt->batch;
  to.threads = opt->threads;
  /* The split is by count, so the steps per epoch are known before the features. */
  f->n = (int64_t) data->examples->len;
  f->n_val = (int64_t) floor ((double) f->n * opt->val_split);
  f->n_train = f->n - f->n_val;
  f->per_epoch = (f->n_train + opt->batch - 1) / opt->batch;
  if (to.schedule == OSH_SCHEDULE_COSINE && opt->train.decay_steps == 0)
    {
      /* Keras's CosineDecay needs decay_steps; by default the run's every step. */
      to.decay_steps = f->per_epoch * opt->epochs;
      if (to.warmup_steps)
        to.decay_steps = to.decay_steps > to.warmup_steps ? to.decay_steps - to.warmup_steps : 1;
    }
  f->to = to;
  if (!osh_train_options_check (&to, err)
      || (f->n_outs = trainable_outputs (g, f->cut, &to, f->outs, err)) == 0)
    {
      osh_fit_free (f);
      return NULL;
    }
  for (int k = 0; k < f->n_outs; k++)
    f->names[k] = output_name (g, f->outs[k]);
  f->t = osh_trainer_new_outputs (g, f->outs, f->n_outs, (const char *const *) f->cut->pdata,
                                  (int) f->cut->len, &to, err);
  if (!f->t)
    {
      osh_fit_free (f);
      return NULL;
    }
  f->epochs = g_new0 (OshFitEpoch, opt->epochs);
  return f;
}

void
osh_fit_free (OshFit *f)
{
  if (!f)
    return;
  for (int e = 0; e < f->n_epochs; e++)
    {
      score_clear (&f->epochs[e].train);
      score_clear (&f->epochs[e].val);
    }
  g_free (f->epochs);
  g_free (f->order);
  g_free (f->variant);
  osh_fit_cache_clear (&f->cache);
  osh_trainer_free (f->t);
  g_ptr_array_unref (f->cut);
  g_free (f);
}

OshTrainer *
osh_fit_trainer (OshFit *f)
{
  return f->t;
}

int
osh_fit_n_outputs (const OshFit *f)
{
  return f->n_outs;
}

int
osh_fit_output (const OshFit *f, int k)
{
  return f->outs[k];
}

const char *
osh_fit_output_name (const OshFit *f, int k)
{
  return f->names[k];
}

int64_t
osh_fit_n_train (const OshFit *f)
{
  return f->n_train;
}

int64_t
osh_fit_n_val (const OshFit *f)
{
  return f->n_val;
}

int
osh_fit_n_epochs (const OshFit *f)
{
  return f->n_epochs;
}

const OshFitEpoch *
osh_fit_epoch (const OshFit *f, int e)
{
  return e >= 0 && e < f->n_epochs ? &f->epochs[e] : NULL;
}

int
osh_fit_best_epoch (const OshFit *f)
{
  return f->best_epoch;
}

double
osh_fit_metric (const OshFit *f, const OshFitScore *s, int k, const char **name)
{
  const char *unused;
  return osh_train_stats_metric (osh_trainer_loss_at (f->t, k), &s->out_stat[k],
                                 name ? name : &unused);
}

typedef struct
{
  OshFit *f;
  OshFitProgress progress;
  void *user;
} FeatureProgress;

static bool
on_features (int64_t done, int64_t total, void *user)
{
  FeatureProgress *fp = user;
  return fp->progress (fp->f, OSH_FIT_FEATURES, done, total, fp->user);
}

bool
osh_fit_prepare (OshFit *f, OshFitProgress progress, void *user, OshError *err)
{
  if (f->n_train < 1)
    return osh_fail (err, OSH_ERR_USAGE, "no pictures left to train on after the validation split");
  FeatureProgress fp = { f, progress, user };
  if (!osh_fit_cache_fill (f->g, f->t, f->names, f->data, &f->opt.augment, f->opt.threads,
                           progress ? on_features : NULL, &fp, &f->cache, err))
    return false;
  f->order = g_new (int64_t, f->n);
  f->variant = g_new0 (int, f->n);
  for (int64_t i = 0; i < f->n; i++)
    f->order[i] = i;
  f->rng = f->opt.seed;
  f->pick = f->opt.seed ^ 0xA5A5A5A5A5A5A5A5ULL;
  if (f->opt.shuffle)
    osh_train_shuffle (f->order, f->n, &f->rng);
  return true;
}

/* One pass over `order[0..n)`: training steps (each picture as its variant variant[i], an
 * augmented copy or itself), or evaluation. Training reports each step as step0 + its index. */
static bool
run_pass (OshFit *f, const int64_t *order, const int *variant, int64_t n, bool train,
          OshFitScore *score, int64_t step0, OshFitProgress progress, void *user, OshError *err)
{
  OshTrainer *t = f->t;
  const OshFitCache *c = &f->cache;
  int nf = c->nf, no = c->no, batch = f->opt.batch;
  float **fb = g_new (float *, nf), **tb = g_new (float *, no);
  for (int ff = 0; ff < nf; ff++)
    fb[ff] = g_new (float, (int64_t) batch *osh_trainer_feature_numel (t, ff));
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
          for (int ff = 0; ff < nf; ff++)
            {
              int64_t fn = osh_trainer_feature_numel (t, ff);
              memcpy (fb[ff] + i * fn, c->features[ff] + row * fn, (size_t) fn * sizeof (float));
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
      if (ok && train && progress
          && !progress (f, OSH_FIT_BATCH, step0 + at / batch + 1, f->per_epoch * f->opt.epochs,
                        user))
        ok = osh_fail (err, OSH_ERR_CANCELLED, "stopped in epoch %lld",
                       (long long) (step0 / f->per_epoch + 1));
    }
  for (int ff = 0; ff < nf; ff++)
    g_free (fb[ff]);
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

bool
osh_fit_evaluate (OshFit *f, OshFitScore *s, OshError *err)
{
  score_init (s, f->n_outs);
  return run_pass (f, f->order + f->n_train, NULL, f->n_val, false, s, 0, NULL, NULL, err);
}

void
osh_fit_score_clear (OshFitScore *s)
{
  score_clear (s);
  s->out_loss = NULL;
  s->out_stat = NULL;
}

bool
osh_fit_run (OshFit *f, OshFitProgress progress, void *user, OshError *err)
{
  bool ok = true;
  int epochs = f->opt.epochs;
  for (int e = f->n_epochs; e < epochs && ok; e++)
    {
      if (f->opt.shuffle)
        osh_train_shuffle (f->order, f->n_train, &f->rng);
      for (int64_t i = 0; i < f->n_train && f->cache.variants > 1; i++)
        {
          /* Which copy of each picture this epoch sees (seeded; 0 is the picture itself). */
          uint64_t z = (f->pick += 0x9E3779B97F4A7C15ULL);
          z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ULL;
          f->variant[i] = (int) ((z ^ (z >> 29)) % (uint64_t) f->cache.variants);
        }
      OshFitEpoch *row = &f->epochs[e];
      row->epoch = e + 1;
      score_init (&row->train, f->n_outs);
      score_init (&row->val, f->n_outs);
      f->n_epochs = e + 1;
      gint64 t0 = g_get_monotonic_time ();
      struct timespec c0, c1;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c0);
      ok = run_pass (f, f->order, f->variant, f->n_train, true, &row->train,
                     (int64_t) e * f->per_epoch, progress, user, err)
           && run_pass (f, f->order + f->n_train, NULL, f->n_val, false, &row->val, 0, NULL, NULL,
                        err);
      row->seconds = (double) (g_get_monotonic_time () - t0) / 1e6;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c1);
      row->cpu_seconds =
          (double) (c1.tv_sec - c0.tv_sec) + (double) (c1.tv_nsec - c0.tv_nsec) / 1e9;
      row->learning_rate = osh_train_learning_rate (&f->to, (e + 1) * f->per_epoch - 1);
      bool go_on = !progress || progress (f, OSH_FIT_EPOCH, e + 1, epochs, user);
      if (ok && !go_on)
        ok = osh_fail (err, OSH_ERR_CANCELLED, "stopped after epoch %d", e + 1);
      if (ok && f->opt.save_best && row->val.loss < f->best)
        {
          f->best = row->val.loss;
          f->best_epoch = e + 1;
          ok = osh_model_save (f->g, f->opt.save_best, err);
          if (ok && progress && !progress (f, OSH_FIT_SAVED, e + 1, epochs, user))
            ok = osh_fail (err, OSH_ERR_CANCELLED, "stopped after epoch %d", e + 1);
        }
    }
  return ok;
}
