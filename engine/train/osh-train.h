/* osh-train.h — training a head on frozen features: reverse-mode gradients, losses, optimizers.
 *
 * A trainer takes one model output and the "cut": the layers whose outputs are the features
 * (the attachment point of a head). Everything between the cut and the output is the head; it
 * runs here with its own forward and backward kernels (OpenBLAS sgemm for convolutions and
 * dense layers), and everything before the cut is frozen, so the caller computes the features
 * once per picture with the inference plan (osh-exec.h, capturing osh_trainer_feature_path)
 * and trains on those.
 *
 *   OshTrainOptions opt = osh_train_options_default ();     // Adam, Keras's defaults
 *   const char *cut[] = { "block5a_expand_conv" };
 *   OshTrainer *t = osh_trainer_new (g, g->n_outputs - 1, cut, 1, &opt, &err);
 *   // per batch: features[f] holds batch × osh_trainer_feature_numel (t, f) floats,
 *   // targets batch × osh_trainer_output_numel (t) (a one-hot row, a mask map, values)
 *   OshTrainStats s;
 *   osh_trainer_train_batch (t, features, targets, batch, &s, &err);   // one optimizer step
 *   osh_trainer_evaluate_batch (t, features, targets, batch, &s, &err); // inference mode
 *   osh_trainer_free (t);   // the layers' weights in g are the trained ones
 *
 * Keras semantics: a layer whose `trainable` is false keeps its weights, and a frozen
 * BatchNormalization runs in inference mode (its moving statistics); a trainable one normalises
 * with the batch statistics and updates moving = moving · momentum + batch · (1 − momentum)
 * with the biased batch variance, as Keras 3 does. Dropout drops with a seeded generator in
 * training only. Losses average over the batch (and the map's pixels) like Keras's
 * "sum_over_batch_size". Optimizers follow Keras 3's update formulas and defaults:
 *   SGD:  m = μ·m − lr·g;  w += m  (Nesterov: w += μ·m − lr·g);  without momentum w −= lr·g
 *   Adam: α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ);  m += (g−m)(1−β₁);  v += (g²−v)(1−β₂);  w −= α·m/(√v + ε)
 *   AdamW: Adam after the decay w −= w·wd·lr (Keras applies it to every trained weight before
 *     the update, any optimizer given a weight_decay; AdamW's default is 0.004)
 *   clipping first: clipnorm g·c/max(‖g‖, c) per weight; global_clipnorm g·min(1, c/‖all g‖);
 *     clipvalue clamps each element
 *   CosineDecay at step s ≤ decay_steps: lr·((1−α)·½(1 + cos(π·s/decay_steps)) + α), then
 *     constant; with warmup it rises linearly from lr to the target over warmup_steps, then
 *     decays from the target.
 *
 * Layers a head may contain: Conv2D (strides, same/valid padding, dilation, an activation),
 * Dense, BatchNormalization, Activation and ReLU (relu, relu6 via max_value, leaky via
 * negative_slope, sigmoid, swish/silu, tanh, softmax, linear), GlobalAveragePooling2D,
 * MaxPooling2D, AveragePooling2D, UpSampling2D (nearest, bilinear), Flatten, Reshape, Add, Concatenate,
 * Dropout. Anything else fails at osh_trainer_new naming the layer. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"

typedef enum
{
  OSH_LOSS_AUTO = 0,   /* by the output: softmax → cce, one channel map → bce, else mse */
  OSH_LOSS_CCE,        /* categorical cross-entropy on probabilities (Keras clips to 1e-7) */
  OSH_LOSS_BCE,        /* binary cross-entropy on logits (the pre-sigmoid value when the output
                        layer ends in a sigmoid) against targets in 0..1 */
  OSH_LOSS_MSE,        /* mean squared error */
  OSH_LOSS_SOFTMAX_CE, /* categorical cross-entropy on logits (Keras's from_logits=True), over
                          the last axis: a linear classifier or a per-pixel N-channel map */
  OSH_LOSS_DICE,       /* Keras's Dice on the sigmoid of the logits, over the whole batch */
  OSH_LOSS_BCE_DICE,   /* the sum of BCE and Dice */
} OshLossKind;

/* Mean IoU is counted for at most this many classes (a per-pixel map's channels). */
#define OSH_TRAIN_MAX_CLASSES 64

typedef enum
{
  OSH_OPTIM_ADAM = 0,
  OSH_OPTIM_SGD,
  OSH_OPTIM_ADAMW, /* Adam with Keras's default weight decay 0.004 */
} OshOptimKind;

typedef enum
{
  OSH_SCHEDULE_CONSTANT = 0,
  OSH_SCHEDULE_COSINE, /* keras.optimizers.schedules.CosineDecay */
} OshScheduleKind;

typedef struct
{
  OshOptimKind optimizer;
  double learning_rate;           /* 0: the optimizer's Keras default (Adam 0.001, SGD 0.01) */
  double momentum;                /* SGD, default 0 */
  bool nesterov;                  /* SGD */
  double beta_1, beta_2, epsilon; /* Adam: 0.9, 0.999, 1e-7 */
  double weight_decay;            /* < 0: the optimizer's Keras default (AdamW 0.004, else none) */
  /* The learning rate at step s (0 for the first batch): constant, or CosineDecay over
   * decay_steps to alpha × the rate, after warmup_steps of a linear rise to warmup_target when
   * warmup_target > 0. */
  OshScheduleKind schedule;
  int64_t decay_steps;
  double alpha;
  int64_t warmup_steps;
  double warmup_target;
  /* Gradient clipping, at most one (0: off): each weight's gradient to an L2 norm of at most
   * clipnorm, every gradient to ±clipvalue, or all together to a global norm of at most
   * global_clipnorm. */
  double clipnorm, clipvalue, global_clipnorm;
  OshLossKind loss;
  uint64_t seed;     /* Dropout's masks */
  int64_t max_batch; /* the largest batch passed in; 0 means 32 */
  int threads;       /* OpenBLAS threads for the products; 0 means 1 */
} OshTrainOptions;

typedef struct
{
  double loss;     /* mean over the batch */
  int64_t correct; /* cce: rows whose argmax matches the target's */
  int64_t count;   /* cce: rows */
  int64_t inter;   /* bce, dice: pixels over 0.5 in both the output and the target */
  int64_t uni;     /* bce, dice: pixels over 0.5 in either */
  /* cce, softmax-ce on a map: per class, pixels of it by argmax in both / either (mean IoU is
   * the mean over classes with a union, as Keras's MeanIoU) */
  int n_classes;
  int64_t class_inter[OSH_TRAIN_MAX_CLASSES], class_union[OSH_TRAIN_MAX_CLASSES];
} OshTrainStats;

/* The metric a loss's stats give: accuracy (cce, softmax-ce on a vector), mean IoU (on a map),
 * IoU at 0.5 (bce, dice; 1 when neither output nor target has a pixel over 0.5), NAN when
 * none (mse) or nothing was counted. `name` gets "accuracy",
 * "mean_iou", "iou" or NULL. */
double osh_train_stats_metric (OshLossKind kind, const OshTrainStats *s, const char **name);
/* Adds b's counts into a (the loss is not touched). */
void osh_train_stats_add (OshTrainStats *a, const OshTrainStats *b);
/* The loss's name in --loss: "cce", "softmax-ce", "bce", "dice", "bce-dice", "mse"; and back
 * (false when the name is none of them). */
const char *osh_train_loss_name (OshLossKind kind);
bool osh_train_loss_parse (const char *name, OshLossKind *kind);

typedef struct OshTrainer OshTrainer;

OshTrainOptions osh_train_options_default (void);

/* The learning rate the options give at step `step` (0-based), as Keras's schedule computes it;
 * the options' rate or the optimizer's default when constant. */
double osh_train_learning_rate (const OshTrainOptions *o, int64_t step);
/* Checks the options (one clipping kind, a schedule's steps); OSH_ERR_USAGE naming the field. */
bool osh_train_options_check (const OshTrainOptions *o, OshError *err);

/* Prepares training of the head between the layers `cut` (paths; model inputs count as cut
 * too) and model output `output`. `g` must outlive the trainer; its head weights are updated in
 * place. Fails with OSH_ERR_UNSUPPORTED naming a head layer it cannot differentiate,
 * OSH_ERR_USAGE when nothing in the head is trainable or a cut path is unknown. */
OshTrainer *osh_trainer_new (OshGraph *g, int output, const char *const *cut, int n_cut,
                             const OshTrainOptions *opt, OshError *err);
/* Several outputs trained together (heads may share layers): the loss is the sum of each
 * output's loss times its weight (1 unless set). The single-output calls below work on the
 * first of them. */
OshTrainer *osh_trainer_new_outputs (OshGraph *g, const int *outputs, int n_outputs,
                                     const char *const *cut, int n_cut, const OshTrainOptions *opt,
                                     OshError *err);
void osh_trainer_free (OshTrainer *t);

int osh_trainer_n_features (const OshTrainer *t);
const char *osh_trainer_feature_path (const OshTrainer *t, int f); /* the layer to capture */
int64_t osh_trainer_feature_numel (const OshTrainer *t, int f);    /* per example */
const OshShape *osh_trainer_output_shape (const OshTrainer *t);    /* per example, no batch */
int64_t osh_trainer_output_numel (const OshTrainer *t);
OshLossKind osh_trainer_loss (const OshTrainer *t); /* resolved from OSH_LOSS_AUTO */
int osh_trainer_n_trainable (const OshTrainer *t);  /* trainable weight tensors */
int osh_trainer_n_outputs (const OshTrainer *t);
const OshShape *osh_trainer_output_shape_at (const OshTrainer *t, int k);
int64_t osh_trainer_output_numel_at (const OshTrainer *t, int k);
OshLossKind osh_trainer_loss_at (const OshTrainer *t, int k);
double osh_trainer_loss_weight_at (const OshTrainer *t, int k);
const float *osh_trainer_output_at (const OshTrainer *t, int k);
/* Sets output k's loss (OSH_LOSS_AUTO: by the output) and weight; OSH_ERR_USAGE when the kind
 * does not fit the output (softmax-ce on an output that already ends in a softmax). */
bool osh_trainer_set_loss (OshTrainer *t, int k, OshLossKind kind, double weight, OshError *err);
int64_t osh_trainer_n_params (const OshTrainer *t); /* their total size */

/* One optimizer step on a batch (forward in training mode, loss, backward, update). */
bool osh_trainer_train_batch (OshTrainer *t, const float *const *features, const float *targets,
                              int64_t batch, OshTrainStats *stats, OshError *err);
/* The same for every output: targets[k] for output k, stats[k] its unweighted loss and
 * metrics; *total (may be NULL) the weighted sum the step minimised. */
bool osh_trainer_train_step (OshTrainer *t, const float *const *features,
                             const float *const *targets, int64_t batch, OshTrainStats *stats,
                             double *total, OshError *err);
bool osh_trainer_evaluate_step (OshTrainer *t, const float *const *features,
                                const float *const *targets, int64_t batch, OshTrainStats *stats,
                                double *total, OshError *err);
/* Forward in inference mode; loss and metrics only. */
bool osh_trainer_evaluate_batch (OshTrainer *t, const float *const *features, const float *targets,
                                 int64_t batch, OshTrainStats *stats, OshError *err);

/* For gradient checks: forward (training or inference mode) and backward from `dout`
 * (batch × output numel) without an update. After it, the output, the features' gradients and
 * each weight's gradient are readable until the next call. */
bool osh_trainer_forward_backward (OshTrainer *t, const float *const *features, int64_t batch,
                                   bool training, const float *dout, OshError *err);
const float *osh_trainer_output (const OshTrainer *t);
const float *osh_trainer_feature_grad (const OshTrainer *t, int f);
/* The gradient of weight `w` of the layer at `path`, or NULL when it is not trained. */
const float *osh_trainer_weight_grad (const OshTrainer *t, const char *path, int w);

/* The loss on the current output (after a forward) against `targets`, and its gradient into
 * dout (batch × output numel): by the output, except for bce, dice and bce-dice, whose
 * gradient is by the logits. `channels` is the last axis (cce and softmax-ce reduce over it,
 * then average over the rest, as Keras does on a map). */
double osh_train_loss (OshLossKind kind, const float *out, const float *logits,
                       const float *targets, int64_t batch, int64_t numel, int64_t channels,
                       float *dout, OshTrainStats *stats);

/* Fisher–Yates with a splitmix64 stream advancing *state: the same order for the same seed
 * everywhere (fit's epochs, probe's split). */
void osh_train_shuffle (int64_t *v, int64_t n, uint64_t *state);

/* Resamples a single-channel map of sh × sw to dh × dw by area averaging (each target cell is
 * the mean of the source area it covers, fractions weighted): masks to an output's size. */
void osh_train_area_resize (const float *src, int sh, int sw, float *dst, int dh, int dw);
