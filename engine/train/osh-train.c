/* The trainer: finds the head between the cut and an output, runs it forward and backward,
 * computes the loss and steps the optimizer (osh-train.h says which formulas). */
#include "osh-train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-grad.h"
#include "osh-shapes.h"

struct OshTrainer
{
  OshGraph *g;
  OshTrainOptions opt;
  int64_t max_batch;

  OshGradValue *vals; /* the features and the head nodes, in the order they were met */
  int n_vals;
  OshRef *refs; /* what each value is in the graph */
  char **feature_paths;
  int *feature_val; /* feature f is value feature_val[f] */
  int n_features;
  /* Each value's gradient memory, and whether training needs that gradient: only a value
   * with a trained weight at or below it does (not the features, nor what a frozen layer
   * makes of them), so the others are NULL while training, which the kernels skip. */
  float **own_dx;
  bool *needs_grad;
  /* Each value's one consumer, a layer index (-1: none, -2: several), and whether it is an
   * output (its gradient is the loss's, copied in): which gradients need zeroing first. */
  int *consumer;
  bool *is_out;
  OshGradLayer *layers; /* in running order */
  int n_layers;
  /* The trained outputs: their values, losses, weights, loss gradients. */
  int n_outs;
  int *outs;
  OshLossKind *loss;
  double *weight;
  float **dout;
  OshGradScratch scr;

  OshTrainParam *params;
  int n_params;
  int64_t step;
};

OshTrainOptions
osh_train_options_default (void)
{
  return (OshTrainOptions){ .optimizer = OSH_OPTIM_ADAM,
                            .beta_1 = 0.9,
                            .beta_2 = 0.999,
                            .epsilon = 1e-7,
                            .weight_decay = -1,
                            .seed = 1,
                            .max_batch = 32 };
}

static int
value_of (const OshTrainer *t, OshRef r)
{
  for (int i = 0; i < t->n_vals; i++)
    if (t->refs[i].node == r.node && t->refs[i].index == r.index)
      return i;
  return -1;
}

/* A feature value (`feature`) gets no x of its own: it reads the caller's batch in place. */
static bool
add_value (OshTrainer *t, OshRef r, bool feature, OshError *err)
{
  const OshNode *n = &t->g->nodes[r.node];
  const OshShape *s = n->shapes ? &n->shapes[r.index] : NULL;
  if (!s || s->rank < 1)
    return osh_fail (err, OSH_ERR_SHAPE, "layer '%s': its output shape is unknown",
                     t->g->layers[n->layer].name);
  OshGradValue *v = &t->vals[t->n_vals];
  v->shape.rank = s->rank - 1;
  v->numel = 1;
  for (int d = 1; d < s->rank; d++)
    {
      if (s->dim[d] <= 0)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "layer '%s': training needs every size but the batch known",
                         t->g->layers[n->layer].name);
      v->shape.dim[d - 1] = s->dim[d];
      v->numel *= s->dim[d];
    }
  v->x = feature ? NULL : malloc ((size_t) (t->max_batch * v->numel) * sizeof (float));
  v->dx = malloc ((size_t) (t->max_batch * v->numel) * sizeof (float));
  t->refs[t->n_vals++] = r;
  return (v->x || feature) && v->dx ? true : osh_fail (err, OSH_ERR_NOMEM, "out of memory");
}

static bool
is_cut (const OshGraph *g, int layer, const char *const *cut, int n_cut)
{
  if (strcmp (g->layers[layer].class_name, "InputLayer") == 0)
    return true;
  for (int i = 0; i < n_cut; i++)
    if (osh_graph_find_path (g, cut[i]) == layer)
      return true;
  return false;
}

/* Depth-first from the output: values for the cut tensors it meets, head layers in post-order
 * (so each runs after its inputs). `state` marks nodes 1 visiting, 2 done. */
static bool
collect (OshTrainer *t, int node, const char *const *cut, int n_cut, char *state, OshError *err)
{
  if (state[node] == 2)
    return true;
  if (state[node] == 1)
    return osh_fail (err, OSH_ERR_FORMAT, "the graph has a cycle");
  state[node] = 1;
  const OshNode *n = &t->g->nodes[node];
  const OshLayer *l = &t->g->layers[n->layer];
  if (l->is_model)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "layer '%s' (a nested model) is between the cut and the output; attach "
                     "in the connected mode, which flattens it",
                     l->name);
  if (n->n_inputs > OSH_GRAD_MAX_INPUTS)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "layer '%s': too many inputs", l->name);
  for (int i = 0; i < n->n_inputs; i++)
    {
      OshRef r = n->inputs[i];
      const OshNode *src = &t->g->nodes[r.node];
      if (is_cut (t->g, src->layer, cut, n_cut))
        {
          if (value_of (t, r) >= 0)
            continue;
          if (r.index != 0 || osh_graph_layer_first_node (t->g, src->layer) != r.node)
            return osh_fail (err, OSH_ERR_UNSUPPORTED,
                             "the features of layer '%s' come from a second call or output",
                             t->g->layers[src->layer].name);
          if (!add_value (t, r, true, err))
            return false;
          t->feature_val[t->n_features] = t->n_vals - 1;
          t->feature_paths[t->n_features++] = osh_graph_layer_path (t->g, src->layer);
        }
      else if (!collect (t, r.node, cut, n_cut, state, err))
        return false;
    }
  if (!add_value (t, (OshRef){ node, 0 }, false, err))
    return false;
  OshGradLayer *gl = &t->layers[t->n_layers++];
  gl->layer = n->layer;
  gl->out = t->n_vals - 1;
  gl->n_in = n->n_inputs;
  for (int i = 0; i < n->n_inputs; i++)
    gl->in[i] = value_of (t, n->inputs[i]);
  state[node] = 2;
  if (n->n_outputs != 1)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "layer '%s': several outputs", l->name);
  if (!osh_grad_layer_init (t->g, gl, t->vals, t->max_batch, &t->scr, err))
    return false;
  return true;
}

static bool
add_params (OshTrainer *t, OshError *err)
{
  for (int i = 0; i < t->n_layers; i++)
    for (int w = 0; w < 4; w++)
      if (t->layers[i].wt[w].g)
        {
          OshTrainParam *p = &t->params[t->n_params++];
          p->w = t->layers[i].wt[w].w;
          p->g = t->layers[i].wt[w].g;
          p->n = t->layers[i].wt[w].n;
          p->m = calloc ((size_t) p->n, sizeof (float));
          p->v = calloc ((size_t) p->n, sizeof (float));
          if (!p->m || !p->v)
            return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
        }
  return true;
}

/* The layer that computes value v (every head value but the features has one). */
static const OshGradLayer *
layer_of (const OshTrainer *t, int v)
{
  for (int i = 0; i < t->n_layers; i++)
    if (t->layers[i].out == v)
      return &t->layers[i];
  return NULL;
}

static OshLossKind
resolve_loss (const OshTrainer *t, int k)
{
  const OshGradLayer *last = layer_of (t, t->outs[k]);
  const OshGradValue *out = &t->vals[t->outs[k]];
  bool softmax = last && last->act == OSH_ACT_SOFTMAX;
  if (softmax && out->shape.rank == 1)
    return OSH_LOSS_CCE;
  if (out->shape.rank == 3 && out->shape.dim[2] == 1)
    return OSH_LOSS_BCE;
  if (out->shape.rank == 3)
    return softmax ? OSH_LOSS_CCE : OSH_LOSS_SOFTMAX_CE;
  return OSH_LOSS_MSE;
}

OshTrainer *
osh_trainer_new (OshGraph *g, int output, const char *const *cut, int n_cut,
                 const OshTrainOptions *opt, OshError *err)
{
  return osh_trainer_new_outputs (g, &output, 1, cut, n_cut, opt, err);
}

OshTrainer *
osh_trainer_new_outputs (OshGraph *g, const int *outputs, int n_outputs, const char *const *cut,
                         int n_cut, const OshTrainOptions *opt, OshError *err)
{
  if (n_outputs < 1)
    {
      osh_fail (err, OSH_ERR_USAGE, "no output to train");
      return NULL;
    }
  for (int k = 0; k < n_outputs; k++)
    if (outputs[k] < 0 || outputs[k] >= g->n_outputs)
      {
        osh_fail (err, OSH_ERR_USAGE, "the model has no output %d", outputs[k]);
        return NULL;
      }
  for (int i = 0; i < n_cut; i++)
    if (osh_graph_find_path (g, cut[i]) < 0)
      {
        osh_fail (err, OSH_ERR_NOT_FOUND, "no layer '%s' to train from", cut[i]);
        return NULL;
      }
  if ((opt && !osh_train_options_check (opt, err)) || !osh_graph_infer_shapes (g, err))
    return NULL;
  OshTrainer *t = calloc (1, sizeof *t);
  char *state = calloc ((size_t) g->n_nodes, 1);
  if (!t || !state)
    {
      free (t);
      free (state);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return NULL;
    }
  t->g = g;
  t->opt = opt ? *opt : osh_train_options_default ();
  t->max_batch = t->opt.max_batch > 0 ? t->opt.max_batch : 32;
  t->scr.rng = t->opt.seed * 0x9E3779B97F4A7C15ULL + 1;
  size_t cap = (size_t) g->n_nodes * 2 + 1;
  t->vals = calloc (cap, sizeof *t->vals);
  t->refs = calloc (cap, sizeof *t->refs);
  t->feature_paths = calloc (cap, sizeof *t->feature_paths);
  t->feature_val = calloc (cap, sizeof *t->feature_val);
  t->own_dx = calloc (cap, sizeof *t->own_dx);
  t->needs_grad = calloc (cap, sizeof *t->needs_grad);
  t->layers = calloc ((size_t) g->n_nodes, sizeof *t->layers);
  t->params = calloc ((size_t) g->n_nodes * 4 + 1, sizeof *t->params);
  t->n_outs = n_outputs;
  t->outs = calloc ((size_t) n_outputs, sizeof *t->outs);
  t->loss = calloc ((size_t) n_outputs, sizeof *t->loss);
  t->weight = calloc ((size_t) n_outputs, sizeof *t->weight);
  t->dout = calloc ((size_t) n_outputs, sizeof *t->dout);
  bool ok = t->vals && t->refs && t->feature_paths && t->feature_val && t->own_dx && t->needs_grad
            && t->layers && t->params && t->outs && t->loss && t->weight && t->dout;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  for (int k = 0; ok && k < n_outputs; k++)
    {
      OshRef o = g->outputs[outputs[k]];
      for (int j = 0; j < k; j++)
        if (outputs[j] == outputs[k])
          ok = osh_fail (err, OSH_ERR_USAGE, "output %d is named twice", outputs[k]);
      if (ok && is_cut (g, g->nodes[o.node].layer, cut, n_cut))
        ok = osh_fail (err, OSH_ERR_USAGE, "output %d is the cut itself: there is no head to train",
                       outputs[k]);
      else if (ok && o.index != 0)
        ok = osh_fail (err, OSH_ERR_UNSUPPORTED, "output %d is a second output of its layer",
                       outputs[k]);
      ok = ok && collect (t, o.node, cut, n_cut, state, err);
    }
  ok = ok && add_params (t, err);
  t->consumer = ok ? malloc ((size_t) t->n_vals * sizeof *t->consumer) : NULL;
  t->is_out = ok ? calloc ((size_t) t->n_vals, sizeof *t->is_out) : NULL;
  if (ok && (!t->consumer || !t->is_out))
    ok = osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  for (int i = 0; ok && i < t->n_vals; i++)
    t->consumer[i] = -1;
  for (int l = 0; ok && l < t->n_layers; l++)
    {
      const OshGradLayer *gl = &t->layers[l];
      bool needs = false;
      for (int w = 0; w < 4; w++)
        needs = needs || gl->wt[w].g;
      for (int i = 0; i < gl->n_in; i++)
        {
          int *c = &t->consumer[gl->in[i]];
          *c = *c == -1 ? l : -2;
          needs = needs || t->needs_grad[gl->in[i]];
        }
      t->needs_grad[gl->out] = needs; /* layers run after their inputs' */
    }
  for (int i = 0; ok && i < t->n_vals; i++)
    t->own_dx[i] = t->vals[i].dx;
  free (state);
  for (int k = 0; ok && k < n_outputs; k++)
    {
      t->outs[k] = value_of (t, g->outputs[outputs[k]]);
      t->is_out[t->outs[k]] = true;
      t->loss[k] = resolve_loss (t, k);
      t->weight[k] = 1.0;
      t->dout[k] = malloc ((size_t) (t->max_batch * t->vals[t->outs[k]].numel) * sizeof (float));
      ok = t->dout[k] || osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  if (ok && t->opt.loss != OSH_LOSS_AUTO)
    ok = osh_trainer_set_loss (t, 0, t->opt.loss, 1.0, err);
  if (!ok)
    {
      osh_trainer_free (t);
      return NULL;
    }
  return t;
}

bool
osh_trainer_set_loss (OshTrainer *t, int k, OshLossKind kind, double weight, OshError *err)
{
  if (k < 0 || k >= t->n_outs)
    return osh_fail (err, OSH_ERR_USAGE, "the trainer has no output %d", k);
  const OshGradLayer *last = layer_of (t, t->outs[k]);
  const char *name = t->g->layers[last->layer].name;
  if (kind == OSH_LOSS_SOFTMAX_CE && last->act == OSH_ACT_SOFTMAX)
    return osh_fail (err, OSH_ERR_USAGE,
                     "output '%s' ends in a softmax: its loss on the probabilities is cce "
                     "(softmax-ce takes logits)",
                     name);
  if (!(weight >= 0) || !isfinite (weight))
    return osh_fail (err, OSH_ERR_USAGE, "output '%s': a loss weight of 0 or more", name);
  t->loss[k] = kind == OSH_LOSS_AUTO ? resolve_loss (t, k) : kind;
  t->weight[k] = weight;
  return true;
}

void
osh_trainer_free (OshTrainer *t)
{
  if (!t)
    return;
  for (int f = 0; f < t->n_features; f++)
    t->vals[t->feature_val[f]].x = NULL; /* the caller's */
  for (int i = 0; i < t->n_vals; i++)
    free (t->vals[i].x), free (t->vals[i].dx);
  for (int i = 0; i < t->n_features; i++)
    free (t->feature_paths[i]);
  for (int i = 0; i < t->n_layers; i++)
    osh_grad_layer_clear (&t->layers[i]);
  for (int i = 0; i < t->n_params; i++)
    free (t->params[i].m), free (t->params[i].v);
  free (t->scr.dcols);
  free (t->vals);
  free (t->refs);
  free (t->feature_paths);
  free (t->feature_val);
  free (t->own_dx);
  free (t->needs_grad);
  free (t->consumer);
  free (t->is_out);
  free (t->layers);
  free (t->params);
  for (int k = 0; t->dout && k < t->n_outs; k++)
    free (t->dout[k]);
  free (t->dout);
  free (t->outs);
  free (t->loss);
  free (t->weight);
  free (t);
}

int
osh_trainer_n_features (const OshTrainer *t)
{
  return t->n_features;
}
const char *
osh_trainer_feature_path (const OshTrainer *t, int f)
{
  return t->feature_paths[f];
}
int64_t
osh_trainer_feature_numel (const OshTrainer *t, int f)
{
  return t->vals[t->feature_val[f]].numel;
}
const OshShape *
osh_trainer_output_shape (const OshTrainer *t)
{
  return osh_trainer_output_shape_at (t, 0);
}
int64_t
osh_trainer_output_numel (const OshTrainer *t)
{
  return osh_trainer_output_numel_at (t, 0);
}
OshLossKind
osh_trainer_loss (const OshTrainer *t)
{
  return t->loss[0];
}
int
osh_trainer_n_outputs (const OshTrainer *t)
{
  return t->n_outs;
}
const OshShape *
osh_trainer_output_shape_at (const OshTrainer *t, int k)
{
  return &t->vals[t->outs[k]].shape;
}
int64_t
osh_trainer_output_numel_at (const OshTrainer *t, int k)
{
  return t->vals[t->outs[k]].numel;
}
OshLossKind
osh_trainer_loss_at (const OshTrainer *t, int k)
{
  return t->loss[k];
}
double
osh_trainer_loss_weight_at (const OshTrainer *t, int k)
{
  return t->weight[k];
}
const float *
osh_trainer_output_at (const OshTrainer *t, int k)
{
  return t->vals[t->outs[k]].x;
}
int
osh_trainer_n_trainable (const OshTrainer *t)
{
  return t->n_params;
}
int64_t
osh_trainer_n_params (const OshTrainer *t)
{
  int64_t n = 0;
  for (int i = 0; i < t->n_params; i++)
    n += t->params[i].n;
  return n;
}

static bool
check_batch (const OshTrainer *t, int64_t batch, OshError *err)
{
  if (batch < 1 || batch > t->max_batch)
    return osh_fail (err, OSH_ERR_USAGE, "a batch of %lld examples (the trainer takes 1 to %lld)",
                     (long long) batch, (long long) t->max_batch);
  return true;
}

static void
forward (OshTrainer *t, const float *const *features, int64_t batch, bool training)
{
  /* Set each time: a plan run in between (feature extraction) sets its own count. */
  openblas_set_num_threads (t->opt.threads > 0 ? t->opt.threads : 1);
  /* The features are read where they are (no kernel writes an input's x): no copy. */
  for (int f = 0; f < t->n_features; f++)
    t->vals[t->feature_val[f]].x = (float *) features[f];
  for (int i = 0; i < t->n_layers; i++)
    osh_grad_forward (&t->layers[i], t->vals, batch, training, &t->scr);
}

/* `feature_grads` false: only the gradients training needs are computed (not the features':
 * the first convolution's dcols product would be as large as its forward). */
static void
backward (OshTrainer *t, const float *const *dout, int64_t batch, bool training, bool feature_grads)
{
  for (int i = 0; i < t->n_vals; i++)
    {
      bool keep = feature_grads || t->needs_grad[i] || t->is_out[i];
      t->vals[i].dx = keep ? t->own_dx[i] : NULL; /* the kernels skip a NULL gradient */
    }
  for (int i = 0; i < t->n_vals; i++)
    {
      /* A gradient written whole before anything adds to it needs no zeroing: an output's
       * (copied from the loss below), or one whose only consumer stores into it. */
      int c = t->consumer[i];
      t->vals[i].fresh = !t->is_out[i] && c >= 0 && osh_grad_stores_fresh (&t->layers[c]);
      if (t->vals[i].dx && !t->is_out[i] && !t->vals[i].fresh)
        memset (t->vals[i].dx, 0, (size_t) (batch * t->vals[i].numel) * sizeof (float));
    }
  for (int k = 0; k < t->n_outs; k++)
    {
      OshGradValue *out = &t->vals[t->outs[k]];
      memcpy (out->dx, dout[k], (size_t) (batch * out->numel) * sizeof (float));
    }
  for (int i = t->n_layers - 1; i >= 0; i--)
    if (t->vals[t->layers[i].out].dx) /* else nothing at or below it is trained */
      osh_grad_backward (&t->layers[i], t->vals, batch, training, &t->scr);
  for (int i = 0; i < t->n_vals; i++)
    t->vals[i].dx = t->own_dx[i];
}

bool
osh_trainer_forward_backward (OshTrainer *t, const float *const *features, int64_t batch,
                              bool training, const float *dout, OshError *err)
{
  if (!check_batch (t, batch, err))
    return false;
  forward (t, features, batch, training);
  if (dout)
    backward (t, &dout, batch, training, true);
  return true;
}

const float *
osh_trainer_output (const OshTrainer *t)
{
  return t->vals[t->outs[0]].x;
}
const float *
osh_trainer_feature_grad (const OshTrainer *t, int f)
{
  return t->vals[t->feature_val[f]].dx;
}
const float *
osh_trainer_weight_grad (const OshTrainer *t, const char *path, int w)
{
  int layer = osh_graph_find_path (t->g, path);
  for (int i = 0; i < t->n_layers; i++)
    if (t->layers[i].layer == layer)
      {
        /* Weights count in file order: the slots in use, in slot order. */
        for (int s = 0, k = 0; s < 4; s++)
          if (t->layers[i].wt[s].w && k++ == w)
            return t->layers[i].wt[s].g;
      }
  return NULL;
}

/* The logits bce, dice and softmax-ce work on: the value before the output's sigmoid when it
 * ends in one. */
static const float *
logits_of (const OshTrainer *t, int k)
{
  const OshGradLayer *last = layer_of (t, t->outs[k]);
  if (last->act == OSH_ACT_SIGMOID)
    return last->kind == OSH_GRAD_ACT ? t->vals[last->in[0]].x : last->pre;
  return t->vals[t->outs[k]].x;
}

/* Every output's loss and its weighted gradient into t->dout. */
static double
losses (OshTrainer *t, const float *const *targets, int64_t batch, OshTrainStats *stats)
{
  double total = 0;
  for (int k = 0; k < t->n_outs; k++)
    {
      OshGradValue *out = &t->vals[t->outs[k]];
      OshTrainStats s = { 0 };
      const float *logits = logits_of (t, k);
      int64_t channels = out->shape.rank ? out->shape.dim[out->shape.rank - 1] : 1;
      float *d = t->dout[k];
      s.loss = osh_train_loss (t->loss[k], out->x, logits, targets[k], batch, out->numel, channels,
                               d, &s);
      bool by_logits = t->loss[k] == OSH_LOSS_BCE || t->loss[k] == OSH_LOSS_DICE
                       || t->loss[k] == OSH_LOSS_BCE_DICE;
      float w = (float) t->weight[k];
      for (int64_t j = 0; j < batch * out->numel; j++)
        {
          /* A gradient by the logits; the sigmoid's backward multiplies by y(1 − y). */
          float s1 = by_logits && logits != out->x ? out->x[j] * (1.0f - out->x[j]) : 1.0f;
          d[j] = s1 > 1e-12f ? w * d[j] / s1 : 0.0f;
        }
      total += t->weight[k] * s.loss;
      if (stats)
        stats[k] = s;
    }
  return total;
}

bool
osh_trainer_train_step (OshTrainer *t, const float *const *features, const float *const *targets,
                        int64_t batch, OshTrainStats *stats, double *total, OshError *err)
{
  if (!check_batch (t, batch, err))
    return false;
  if (t->n_params == 0)
    return osh_fail (err, OSH_ERR_USAGE,
                     "nothing between the cut and the output is trainable (every layer there is "
                     "frozen or has no weights)");
  forward (t, features, batch, true);
  double sum = losses (t, targets, batch, stats);
  backward (t, (const float *const *) t->dout, batch, true, false);
  osh_train_optimizer_step (&t->opt, t->params, t->n_params, ++t->step);
  if (total)
    *total = sum;
  return true;
}

bool
osh_trainer_evaluate_step (OshTrainer *t, const float *const *features, const float *const *targets,
                           int64_t batch, OshTrainStats *stats, double *total, OshError *err)
{
  if (!check_batch (t, batch, err))
    return false;
  forward (t, features, batch, false);
  double sum = losses (t, targets, batch, stats);
  if (total)
    *total = sum;
  return true;
}

/* The single-output calls: output 0 of the trainer. */
static bool
single (OshTrainer *t, const float *const *features, const float *targets, int64_t batch,
        OshTrainStats *stats, bool train, OshError *err)
{
  if (t->n_outs != 1)
    return osh_fail (err, OSH_ERR_USAGE, "the trainer has %d outputs: give each its targets",
                     t->n_outs);
  return train ? osh_trainer_train_step (t, features, &targets, batch, stats, NULL, err)
               : osh_trainer_evaluate_step (t, features, &targets, batch, stats, NULL, err);
}

bool
osh_trainer_train_batch (OshTrainer *t, const float *const *features, const float *targets,
                         int64_t batch, OshTrainStats *stats, OshError *err)
{
  return single (t, features, targets, batch, stats, true, err);
}

bool
osh_trainer_evaluate_batch (OshTrainer *t, const float *const *features, const float *targets,
                            int64_t batch, OshTrainStats *stats, OshError *err)
{
  return single (t, features, targets, batch, stats, false, err);
}
