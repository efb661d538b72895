/* osh-fit.h — fitting a model's trainable layers on a data folder, the backbone frozen: the
 * driver behind `offshoot fit` and the window's Train view, so both give the same numbers.
 *
 * The cut between frozen and trained is every frozen layer (Keras's trainable = false; attaching
 * a head freezes what the model had, osh-heads.h): the pictures run once through the inference
 * plan, which keeps the cut's outputs (osh-fit-cache.h), and the epochs then cost only the head
 * (engine/train/osh-train.h). Every output with something trainable between the cut and it
 * trains, on the weighted sum of their losses. The last val_split of the (seeded, shuffled)
 * list validates.
 *
 *   OshFit *f = osh_fit_new (g, "model.h5", &data, &opt, &err);   // g trains in place
 *   osh_trainer_set_loss (osh_fit_trainer (f), 0, OSH_LOSS_DICE, 1, &err);  // optional
 *   osh_fit_prepare (f, progress, user, &err);   // the features (the slow part for few epochs)
 *   osh_fit_run (f, progress, user, &err);       // the epochs; g holds the trained weights
 *   osh_fit_epoch (f, 0)->val.out_stat[0] ...    // the history
 *   osh_fit_free (f);
 *
 * Not GTK: GLib, the engine and the picture decoder (ui/imaging) only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-fit-cache.h"
#include "osh-fit-data.h"
#include "osh-graph.h"
#include "osh-train.h"

#define OSH_FIT_MAX_OUTPUTS 16

typedef struct
{
  int epochs, batch, threads; /* default 10, 32, 1 */
  double val_split;           /* default 0.2 */
  bool shuffle;               /* the order each epoch (default true) */
  uint64_t seed;              /* the shuffles, the copies and Dropout (default 1) */
  OshFitAugment augment;      /* copies 0: none (default) */
  /* The optimizer, its rate, clipping and schedule. seed, max_batch and threads are set from
   * the fields above; a cosine schedule with decay_steps 0 decays over every step of the run
   * (after the warmup). */
  OshTrainOptions train;
  /* When set, the model is saved there after each epoch with a new lowest val_loss (Keras's
   * ModelCheckpoint(save_best_only); a temporary file renamed, so always a complete epoch). */
  const char *save_best;
} OshFitOptions;

/* `offshoot fit`'s defaults. */
OshFitOptions osh_fit_options_default (void);

typedef struct
{
  double loss;             /* the weighted sum over the outputs, mean per picture */
  double *out_loss;        /* per output, unweighted */
  OshTrainStats *out_stat; /* per output, counts summed */
} OshFitScore;

typedef struct
{
  int epoch;                   /* from 1 */
  OshFitScore train, val;      /* val's losses NaN when nothing validates */
  double learning_rate;        /* of the epoch's last step, as the schedule gave it */
  double seconds, cpu_seconds; /* the epoch's wall and process CPU time */
} OshFitEpoch;

typedef struct OshFit OshFit;

typedef enum
{
  OSH_FIT_FEATURES, /* done pictures of total through the frozen part */
  OSH_FIT_BATCH,    /* done training steps of total in the run */
  OSH_FIT_EPOCH,    /* done epochs of total: osh_fit_epoch (f, done - 1) is the new one (also
                     * when its pass failed; the run then stops with the error) */
  OSH_FIT_SAVED,    /* epoch `done` was saved to save_best */
} OshFitStage;

/* Progress; returning false stops (OSH_ERR_CANCELLED; the model keeps the steps done). */
typedef bool (*OshFitProgress) (OshFit *f, OshFitStage stage, int64_t done, int64_t total,
                                void *user);

/* A fit of `g`'s trainable layers (g is trained in place and must outlive the fit) on `data`
 * (kept by reference). `model` names the model in errors. Fails when no layer is frozen, no
 * output has anything trainable, or the options do not check. */
OshFit *osh_fit_new (OshGraph *g, const char *model, const OshFitData *data,
                     const OshFitOptions *opt, OshError *err);
void osh_fit_free (OshFit *f);

/* The trainer, for setting the outputs' losses before osh_fit_prepare. */
OshTrainer *osh_fit_trainer (OshFit *f);
int osh_fit_n_outputs (const OshFit *f);
/* Trained output k's model output number and layer name. */
int osh_fit_output (const OshFit *f, int k);
const char *osh_fit_output_name (const OshFit *f, int k);
int64_t osh_fit_n_train (const OshFit *f);
int64_t osh_fit_n_val (const OshFit *f);

/* Computes the features and targets and the first shuffle. */
bool osh_fit_prepare (OshFit *f, OshFitProgress progress, void *user, OshError *err);
/* Runs the epochs (after osh_fit_prepare). */
bool osh_fit_run (OshFit *f, OshFitProgress progress, void *user, OshError *err);

/* The validation pictures scored with the weights as they are (before osh_fit_run: the fresh
 * head's); `s` is filled (osh_fit_score_clear). */
bool osh_fit_evaluate (OshFit *f, OshFitScore *s, OshError *err);
void osh_fit_score_clear (OshFitScore *s);

/* The epochs run so far and their records. */
int osh_fit_n_epochs (const OshFit *f);
const OshFitEpoch *osh_fit_epoch (const OshFit *f, int e);
/* The epoch last saved to save_best (from 1), or 0. */
int osh_fit_best_epoch (const OshFit *f);
/* Output k's metric in a score and its name ("iou", "accuracy", ...; NULL when the loss has
 * none), as osh_train_stats_metric; `name` may be NULL. */
double osh_fit_metric (const OshFit *f, const OshFitScore *s, int k, const char **name);
