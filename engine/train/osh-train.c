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
  OshLossKind loss;
  int64_t max_batch;

  OshGradValue *vals; /* the features first, then one per head node */
  int n_vals;
  OshRef *refs; /* what each value is in the graph */
  char **feature_paths;
  int n_features;
  OshGradLayer *layers; /* in running order */
  int n_layers;
  int out; /* the value of the output */
  OshGradScratch scr;

  OshTrainParam *params;
  int n_params;
  int64_t step;
  float *dout;
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

static bool
add_value (OshTrainer *t, OshRef r, OshError *err)
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
  v->x = malloc ((size_t) (t->max_batch * v->numel) * sizeof (float));
  v->dx = malloc ((size_t) (t->max_batch * v->numel) * sizeof (float));
  t->refs[t->n_vals++] = r;
  return v->x && v->dx ? true : osh_fail (err, OSH_ERR_NOMEM, "out of memory");
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
          if (!add_value (t, r, err))
            return false;
          t->feature_paths[t->n_features++] = osh_graph_layer_path (t->g, src->layer);
        }
      else if (!collect (t, r.node, cut, n_cut, state, err))
        return false;
    }
  if (!add_value (t, (OshRef){ node, 0 }, err))
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

static OshLossKind
resolve_loss (const OshTrainer *t)
{
  if (t->opt.loss != OSH_LOSS_AUTO)
    return t->opt.loss;
  const OshGradLayer *last = &t->layers[t->n_layers - 1];
  const OshGradValue *out = &t->vals[t->out];
  if (last->act == OSH_ACT_SOFTMAX && out->shape.rank == 1)
    return OSH_LOSS_CCE;
  if (out->shape.rank == 3 && out->shape.dim[2] == 1)
    return OSH_LOSS_BCE;
  return OSH_LOSS_MSE;
}

OshTrainer *
osh_trainer_new (OshGraph *g, int output, const char *const *cut, int n_cut,
                 const OshTrainOptions *opt, OshError *err)
{
  if (output < 0 || output >= g->n_outputs)
    {
      osh_fail (err, OSH_ERR_USAGE, "the model has no output %d", output);
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
  t->layers = calloc ((size_t) g->n_nodes, sizeof *t->layers);
  t->params = calloc ((size_t) g->n_nodes * 4 + 1, sizeof *t->params);
  OshRef o = g->outputs[output];
  bool ok = t->vals && t->refs && t->feature_paths && t->layers && t->params;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  else if (is_cut (g, g->nodes[o.node].layer, cut, n_cut))
    ok = osh_fail (err, OSH_ERR_USAGE, "output %d is the cut itself: there is no head to train",
                   output);
  else if (o.index != 0)
    ok = osh_fail (err, OSH_ERR_UNSUPPORTED, "output %d is a second output of its layer", output);
  ok = ok && collect (t, o.node, cut, n_cut, state, err) && add_params (t, err);
  free (state);
  if (ok)
    {
      t->out = value_of (t, o);
      t->loss = resolve_loss (t);
      t->dout = malloc ((size_t) (t->max_batch * t->vals[t->out].numel) * sizeof (float));
      ok = t->dout || osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  if (!ok)
    {
      osh_trainer_free (t);
      return NULL;
    }
  return t;
}

void
osh_trainer_free (OshTrainer *t)
{
  if (!t)
    return;
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
  free (t->layers);
  free (t->params);
  free (t->dout);
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
  return t->vals[f].numel;
}
const OshShape *
osh_trainer_output_shape (const OshTrainer *t)
{
  return &t->vals[t->out].shape;
}
int64_t
osh_trainer_output_numel (const OshTrainer *t)
{
  return t->vals[t->out].numel;
}
OshLossKind
osh_trainer_loss (const OshTrainer *t)
{
  return t->loss;
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
  for (int f = 0; f < t->n_features; f++)
    memcpy (t->vals[f].x, features[f], (size_t) (batch * t->vals[f].numel) * sizeof (float));
  for (int i = 0; i < t->n_layers; i++)
    osh_grad_forward (&t->layers[i], t->vals, batch, training, &t->scr);
}

/* `feature_grads` false: the features' gradients are not computed (training needs none, and
 * the first convolution's dcols product is as large as its forward). */
static void
backward (OshTrainer *t, const float *dout, int64_t batch, bool training, bool feature_grads)
{
  float *kept[OSH_GRAD_MAX_INPUTS * 4] = { 0 };
  for (int i = 0; i < t->n_vals; i++)
    if (i >= t->n_features || feature_grads)
      memset (t->vals[i].dx, 0, (size_t) (batch * t->vals[i].numel) * sizeof (float));
    else if (i < (int) (sizeof kept / sizeof *kept))
      kept[i] = t->vals[i].dx, t->vals[i].dx = NULL; /* the kernels skip a NULL gradient */
  OshGradValue *out = &t->vals[t->out];
  memcpy (out->dx, dout, (size_t) (batch * out->numel) * sizeof (float));
  for (int i = t->n_layers - 1; i >= 0; i--)
    osh_grad_backward (&t->layers[i], t->vals, batch, training, &t->scr);
  for (int i = 0; !feature_grads && i < t->n_features; i++)
    if (i < (int) (sizeof kept / sizeof *kept))
      t->vals[i].dx = kept[i];
}

bool
osh_trainer_forward_backward (OshTrainer *t, const float *const *features, int64_t batch,
                              bool training, const float *dout, OshError *err)
{
  if (!check_batch (t, batch, err))
    return false;
  forward (t, features, batch, training);
  if (dout)
    backward (t, dout, batch, training, true);
  return true;
}

const float *
osh_trainer_output (const OshTrainer *t)
{
  return t->vals[t->out].x;
}
const float *
osh_trainer_feature_grad (const OshTrainer *t, int f)
{
  return t->vals[f].dx;
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

/* The logits BCE works on: the value before the output's sigmoid when it ends in one. */
static const float *
logits_of (const OshTrainer *t)
{
  const OshGradLayer *last = &t->layers[t->n_layers - 1];
  if (last->act == OSH_ACT_SIGMOID)
    return last->kind == OSH_GRAD_ACT ? t->vals[last->in[0]].x : last->pre;
  return t->vals[t->out].x;
}

bool
osh_trainer_train_batch (OshTrainer *t, const float *const *features, const float *targets,
                         int64_t batch, OshTrainStats *stats, OshError *err)
{
  if (!check_batch (t, batch, err))
    return false;
  if (t->n_params == 0)
    return osh_fail (err, OSH_ERR_USAGE,
                     "nothing between the cut and the output is trainable (every layer there is "
                     "frozen or has no weights)");
  forward (t, features, batch, true);
  OshGradValue *out = &t->vals[t->out];
  OshTrainStats s = { 0 };
  s.loss = osh_train_loss (t->loss, out->x, logits_of (t), targets, batch, out->numel, t->dout, &s);
  if (t->loss == OSH_LOSS_BCE && logits_of (t) != out->x)
    /* The loss's gradient is by the logits; the sigmoid's backward multiplies by y(1 − y). */
    for (int64_t j = 0; j < batch * out->numel; j++)
      {
        float d = out->x[j] * (1.0f - out->x[j]);
        t->dout[j] = d > 1e-12f ? t->dout[j] / d : 0.0f;
      }
  backward (t, t->dout, batch, true, false);
  osh_train_optimizer_step (&t->opt, t->params, t->n_params, ++t->step);
  if (stats)
    *stats = s;
  return true;
}

bool
osh_trainer_evaluate_batch (OshTrainer *t, const float *const *features, const float *targets,
                            int64_t batch, OshTrainStats *stats, OshError *err)
{
  if (!check_batch (t, batch, err))
    return false;
  forward (t, features, batch, false);
  OshGradValue *out = &t->vals[t->out];
  OshTrainStats s = { 0 };
  s.loss = osh_train_loss (t->loss, out->x, logits_of (t), targets, batch, out->numel, t->dout, &s);
  if (stats)
    *stats = s;
  return true;
}
