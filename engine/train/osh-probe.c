/* osh-probe.c — linear probes on captured layer features (the recipe is in osh-probe.h). */
#include "osh-probe.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-probe-private.h"
#include "osh-train.h"

OshProbeOptions
osh_probe_options_default (void)
{
  return (OshProbeOptions){ .epochs = 300,
                            .lr = 0.01,
                            .l2 = 1e-3,
                            .val_split = 0.2,
                            .seed = 1,
                            .flatten_max = 256,
                            .group_bytes = (int64_t) 256 << 20,
                            .threads = 1,
                            .mask_positions = 256 };
}

void
osh_probe_layers_free (char **layers)
{
  for (char **l = layers; l && *l; l++)
    free (*l);
  free (layers);
}

static bool
probe_candidate (const OshGraph *g, int i)
{
  return g->layers[i].owner < 0 && !g->layers[i].is_model;
}

char **
osh_probe_select_layers (const OshGraph *g, const char *spec, OshError *err)
{
  char **out = calloc ((size_t) g->n_layers + 1, sizeof *out);
  int n = 0;
  if (strcmp (spec, "all") == 0 || strncmp (spec, "every:", 6) == 0)
    {
      char *end = NULL;
      long k = spec[0] == 'a' ? 1 : strtol (spec + 6, &end, 10);
      if (k < 1 || (end && *end))
        {
          free (out);
          osh_fail (err, OSH_ERR_USAGE, "--layers every:K takes a whole K ≥ 1, not '%s'", spec);
          return NULL;
        }
      int seen = 0, last = -1;
      for (int i = 0; i < g->n_layers; i++)
        if (probe_candidate (g, i))
          {
            if (seen++ % k == 0)
              out[n++] = osh_graph_layer_path (g, i);
            last = i;
          }
      /* The last layer always counts: it is what the model itself reads. */
      if (last >= 0 && (seen - 1) % k != 0)
        out[n++] = osh_graph_layer_path (g, last);
      return out;
    }
  const char *at = spec;
  while (*at)
    {
      const char *comma = strchr (at, ',');
      size_t len = comma ? (size_t) (comma - at) : strlen (at);
      char *name = strndup (at, len);
      int l = osh_graph_find_path (g, name);
      if (l < 0 || n >= g->n_layers)
        {
          osh_fail (err, OSH_ERR_NOT_FOUND, "--layers: no layer '%s' in the model", name);
          free (name);
          osh_probe_layers_free (out);
          return NULL;
        }
      out[n++] = name;
      at += len + (comma ? 1 : 0);
    }
  if (n == 0)
    {
      free (out);
      osh_fail (err, OSH_ERR_USAGE, "--layers names no layer");
      return NULL;
    }
  return out;
}

/* v = 0..n-1 in the seeded order. */
void
osh_probe_seeded_order (int64_t *v, int64_t n, uint64_t seed)
{
  for (int64_t i = 0; i < n; i++)
    v[i] = i;
  osh_train_shuffle (v, n, &seed);
}

void
osh_probe_split_order (int64_t *order, int64_t n, uint64_t seed)
{
  osh_probe_seeded_order (order, n, seed);
}

bool
osh_probe_shuffle_weights (OshGraph *g, uint64_t seed, OshError *err)
{
  for (int l = 0; l < g->n_layers; l++)
    for (int w = 0; w < g->layers[l].n_weights; w++)
      {
        OshTensor *t = g->layers[l].weights[w].value;
        int64_t n = t && t->data ? osh_shape_numel (&t->shape) : 0;
        if (n < 2)
          continue;
        /* Changed in place: values another version of the graph reads are copied first. */
        if (!osh_tensor_make_owned (t, err))
          return false;
        int64_t *order = malloc ((size_t) n * sizeof *order);
        float *copy = malloc ((size_t) n * sizeof (float));
        if (!order || !copy)
          {
            free (order);
            free (copy);
            return osh_fail (err, OSH_ERR_NOMEM, "out of memory shuffling layer '%s'",
                             g->layers[l].name);
          }
        osh_probe_seeded_order (order, n, seed + (uint64_t) l * 1000003u + (uint64_t) w);
        for (int64_t i = 0; i < n; i++)
          copy[i] = t->data[order[i]];
        memcpy (t->data, copy, (size_t) n * sizeof (float));
        free (order);
        free (copy);
      }
  return true;
}

/* Softmax of `logits` rows in place; returns the summed cross-entropy and counts the rows whose
 * argmax is the label. */
static double
softmax_rows (float *logits, int64_t n, int c, const int *labels, int64_t *correct)
{
  double loss = 0;
  for (int64_t i = 0; i < n; i++)
    {
      float *r = logits + i * c;
      int best = 0;
      for (int k = 1; k < c; k++)
        best = r[k] > r[best] ? k : best;
      *correct += best == labels[i];
      double top = r[best], sum = 0;
      for (int k = 0; k < c; k++)
        sum += exp ((double) r[k] - top);
      loss += log (sum) - ((double) r[labels[i]] - top);
      for (int k = 0; k < c; k++)
        r[k] = (float) (exp ((double) r[k] - top) / sum);
    }
  return loss;
}

/* logits = x·W + b */
static void
affine (const float *x, int64_t n, int64_t d, const float *w, const float *b, int c, float *out)
{
  for (int64_t i = 0; i < n; i++)
    memcpy (out + i * c, b, (size_t) c * sizeof (float));
  if (n > 0)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) n, c, (int) d, 1.0f, x, (int) d,
                 w, c, 1.0f, out, c);
}

void
osh_probe_adam_step (float *w, float *m, float *v, const float *g, int64_t n, int t, double lr)
{
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  double c1 = 1 - pow (b1, t), c2 = 1 - pow (b2, t);
  for (int64_t i = 0; i < n; i++)
    {
      m[i] = (float) (b1 * m[i] + (1 - b1) * g[i]);
      v[i] = (float) (b2 * v[i] + (1 - b2) * (double) g[i] * g[i]);
      w[i] -= (float) (lr * (m[i] / c1) / (sqrt (v[i] / c2) + eps));
    }
}

uint64_t
osh_probe_splitmix64 (uint64_t *state)
{
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void
glorot_fill (float *w, int64_t fan_in, int64_t fan_out, uint64_t *state)
{
  double limit = sqrt (6.0 / (double) (fan_in + fan_out));
  for (int64_t i = 0; i < fan_in * fan_out; i++)
    w[i] =
        (float) ((2.0 * (double) (osh_probe_splitmix64 (state) >> 40) / 16777216.0 - 1.0) * limit);
}

/* x = the rows standardised by the training rows' mean and standard deviation (kept in mean
 * and sd when not NULL). */
static void
standardise (const float *rows, int64_t n, int64_t n_train, int64_t dim, float *x, double *mean,
             double *sd)
{
  for (int64_t j = 0; j < dim; j++)
    {
      double s = 0, s2 = 0;
      for (int64_t i = 0; i < n_train; i++)
        s += rows[i * dim + j];
      double m = s / (double) n_train;
      for (int64_t i = 0; i < n_train; i++)
        s2 += (rows[i * dim + j] - m) * (rows[i * dim + j] - m);
      double d = sqrt (s2 / (double) n_train);
      for (int64_t i = 0; i < n; i++)
        x[i * dim + j] = d > 1e-12 ? (float) ((rows[i * dim + j] - m) / d) : 0.0f;
      if (mean)
        mean[j] = m, sd[j] = d;
    }
}

bool
osh_probe_fit_linear (const float *rows, int64_t n_train, int64_t n_val, int64_t dim,
                      const int *labels, int n_classes, const OshProbeOptions *opt,
                      OshProbeLayer *out, OshError *err)
{
  int64_t n = n_train + n_val, c = n_classes;
  if (n_train < 1 || dim < 1 || c < 2)
    return osh_fail (err, OSH_ERR_USAGE,
                     "a probe needs training rows, features and two classes (%lld rows, %lld "
                     "features, %d classes)",
                     (long long) n_train, (long long) dim, n_classes);
  float *x = malloc ((size_t) (n * dim) * sizeof (float));
  float *w = calloc ((size_t) (dim * c), sizeof (float)), *b = calloc ((size_t) c, sizeof (float));
  float *mw = calloc ((size_t) (dim * c), sizeof (float)), *vw = calloc ((size_t) (dim * c), 4);
  float *mb = calloc ((size_t) c, 4), *vb = calloc ((size_t) c, 4);
  float *gw = malloc ((size_t) (dim * c) * sizeof (float)), *gb = malloc ((size_t) c * 4);
  float *p = malloc ((size_t) (n * c) * sizeof (float));
  double *mean = malloc ((size_t) dim * sizeof (double)), *sd = malloc ((size_t) dim * 8);
  float *kernel = malloc ((size_t) (dim * c) * sizeof (float)), *bias = malloc ((size_t) c * 4);
  if (!x || !w || !b || !mw || !vw || !mb || !vb || !gw || !gb || !p || !mean || !sd || !kernel
      || !bias)
    {
      free (x), free (w), free (b), free (mw), free (vw), free (mb), free (vb), free (gw);
      free (gb), free (p), free (mean), free (sd), free (kernel), free (bias);
      return osh_fail (err, OSH_ERR_NOMEM, "a probe of %lld × %lld features: out of memory",
                       (long long) n, (long long) dim);
    }
  standardise (rows, n, n_train, dim, x, mean, sd);
  int64_t correct = 0;
  for (int t = 1; t <= opt->epochs; t++)
    {
      affine (x, n_train, dim, w, b, (int) c, p);
      softmax_rows (p, n_train, (int) c, labels, &correct);
      /* dL/dlogits = (p − y)/n */
      for (int64_t i = 0; i < n_train; i++)
        {
          p[i * c + labels[i]] -= 1.0f;
          for (int64_t k = 0; k < c; k++)
            p[i * c + k] /= (float) n_train;
        }
      for (int64_t i = 0; i < dim * c; i++)
        gw[i] = (float) opt->l2 * w[i];
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) dim, (int) c, (int) n_train, 1.0f,
                   x, (int) dim, p, (int) c, 1.0f, gw, (int) c);
      for (int64_t k = 0; k < c; k++)
        {
          gb[k] = 0;
          for (int64_t i = 0; i < n_train; i++)
            gb[k] += p[i * c + k];
        }
      osh_probe_adam_step (w, mw, vw, gw, dim * c, t, opt->lr);
      osh_probe_adam_step (b, mb, vb, gb, c, t, opt->lr);
    }
  correct = 0;
  affine (x, n_train, dim, w, b, (int) c, p);
  softmax_rows (p, n_train, (int) c, labels, &correct);
  out->train_accuracy = (double) correct / (double) n_train;
  correct = 0;
  affine (x + n_train * dim, n_val, dim, w, b, (int) c, p);
  double vl = softmax_rows (p, n_val, (int) c, labels + n_train, &correct);
  out->val_accuracy = n_val ? (double) correct / (double) n_val : NAN;
  out->val_loss = n_val ? vl / (double) n_val : NAN;
  /* (x − mean)/sd · W + b = x · W/sd + (b − Σ mean/sd · W): the probe on raw features, which a
   * Dense layer after the model's own pooling can hold. A constant feature was 0: it drops. */
  for (int64_t k = 0; k < c; k++)
    {
      double shift = b[k];
      for (int64_t j = 0; j < dim; j++)
        {
          double wj = sd[j] > 1e-12 ? w[j * c + k] / sd[j] : 0.0;
          kernel[j * c + k] = (float) wj;
          shift -= mean[j] * wj;
        }
      bias[k] = (float) shift;
    }
  free (out->kernel), free (out->bias);
  out->kernel = kernel, out->bias = bias;
  free (x), free (w), free (b), free (mw), free (vw), free (mb), free (vb), free (gw), free (gb);
  free (p), free (mean), free (sd);
  return true;
}

/* rows · w (+ b) for `n` rows into out (n × c). */
static void
matmul (const float *a, int64_t n, int64_t k, const float *w, int64_t c, float *out)
{
  if (n > 0)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) n, (int) c, (int) k, 1.0f, a,
                 (int) k, w, (int) c, 0.0f, out, (int) c);
}

/* The hidden layer's activations h = relu(x·W1 + b1), and the logits h·W2 + b2 into p. */
static void
mlp_forward (const float *x, int64_t n, int64_t dim, int64_t hid, int c, const float *w1,
             const float *b1, const float *w2, const float *b2, float *h, float *p)
{
  matmul (x, n, dim, w1, hid, h);
  for (int64_t i = 0; i < n * hid; i++)
    h[i] = fmaxf (h[i] + b1[i % hid], 0.0f);
  affine (h, n, hid, w2, b2, c, p);
}

bool
osh_probe_fit_mlp (const float *rows, int64_t n_train, int64_t n_val, int64_t dim,
                   const int *labels, int n_classes, const OshProbeOptions *opt, OshProbeLayer *out,
                   OshError *err)
{
  int64_t n = n_train + n_val, c = n_classes, hid = opt->hidden;
  if (n_train < 1 || dim < 1 || c < 2 || hid < 1)
    return osh_fail (err, OSH_ERR_USAGE,
                     "an MLP probe needs training rows, features, two classes and hidden units");
  /* One block: W1, b1, W2, b2, their gradients and both Adam moments, then the work arrays. */
  int64_t np = dim * hid + hid + hid * c + c;
  float *x = malloc ((size_t) (n * dim) * sizeof (float));
  float *par = calloc ((size_t) np * 4, sizeof (float));
  float *h = malloc ((size_t) (n * hid) * sizeof (float));
  float *dh = malloc ((size_t) (n * hid) * sizeof (float));
  float *p = malloc ((size_t) (n * c) * sizeof (float));
  if (!x || !par || !h || !dh || !p)
    {
      free (x), free (par), free (h), free (dh), free (p);
      return osh_fail (err, OSH_ERR_NOMEM, "an MLP probe of %lld × %lld features: out of memory",
                       (long long) n, (long long) dim);
    }
  float *w1 = par, *b1 = w1 + dim * hid, *w2 = b1 + hid, *b2 = w2 + hid * c;
  float *g = par + np, *m = g + np, *v = m + np;
  float *gw1 = g, *gb1 = gw1 + dim * hid, *gw2 = gb1 + hid, *gb2 = gw2 + hid * c;
  standardise (rows, n, n_train, dim, x, NULL, NULL);
  uint64_t state = opt->seed;
  glorot_fill (w1, dim, hid, &state);
  glorot_fill (w2, hid, c, &state);
  int64_t correct = 0;
  for (int t = 1; t <= opt->epochs; t++)
    {
      mlp_forward (x, n_train, dim, hid, (int) c, w1, b1, w2, b2, h, p);
      softmax_rows (p, n_train, (int) c, labels, &correct);
      for (int64_t i = 0; i < n_train; i++)
        {
          p[i * c + labels[i]] -= 1.0f;
          for (int64_t k = 0; k < c; k++)
            p[i * c + k] /= (float) n_train;
        }
      for (int64_t i = 0; i < dim * hid; i++)
        gw1[i] = (float) opt->l2 * w1[i];
      for (int64_t i = 0; i < hid * c; i++)
        gw2[i] = (float) opt->l2 * w2[i];
      memset (gb1, 0, (size_t) hid * sizeof (float));
      memset (gb2, 0, (size_t) c * sizeof (float));
      /* gW2 = hᵀ·dlogits, dh = dlogits·W2ᵀ masked by relu, gW1 = xᵀ·dh. */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) hid, (int) c, (int) n_train, 1.0f,
                   h, (int) hid, p, (int) c, 1.0f, gw2, (int) c);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n_train, (int) hid, (int) c, 1.0f,
                   p, (int) c, w2, (int) c, 0.0f, dh, (int) hid);
      for (int64_t i = 0; i < n_train; i++)
        {
          for (int64_t k = 0; k < c; k++)
            gb2[k] += p[i * c + k];
          for (int64_t j = 0; j < hid; j++)
            {
              dh[i * hid + j] = h[i * hid + j] > 0 ? dh[i * hid + j] : 0.0f;
              gb1[j] += dh[i * hid + j];
            }
        }
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) dim, (int) hid, (int) n_train,
                   1.0f, x, (int) dim, dh, (int) hid, 1.0f, gw1, (int) hid);
      osh_probe_adam_step (par, m, v, g, np, t, opt->lr);
    }
  correct = 0;
  mlp_forward (x, n_train, dim, hid, (int) c, w1, b1, w2, b2, h, p);
  softmax_rows (p, n_train, (int) c, labels, &correct);
  out->train_accuracy = (double) correct / (double) n_train;
  correct = 0;
  mlp_forward (x + n_train * dim, n_val, dim, hid, (int) c, w1, b1, w2, b2, h, p);
  double vl = softmax_rows (p, n_val, (int) c, labels + n_train, &correct);
  out->val_accuracy = n_val ? (double) correct / (double) n_val : NAN;
  out->val_loss = n_val ? vl / (double) n_val : NAN;
  free (out->kernel), free (out->bias);
  out->kernel = out->bias = NULL;
  free (x), free (par), free (h), free (dh), free (p);
  return true;
}

/* A captured activation (batch 1, in the graph's layout: NHWC for Keras, NCHW for ONNX) as the
 * probe's vector: flattened when small, else the mean over the spatial axes per channel. */
static int64_t
pooled_dim (const OshShape *s, int64_t flatten_max, bool *pooled, bool channels_last)
{
  int64_t numel = osh_shape_numel (s);
  *pooled = numel > flatten_max && s->rank >= 3;
  return *pooled ? s->dim[channels_last ? s->rank - 1 : 1] : numel;
}

static void
pool_into (const float *a, const OshShape *s, bool pooled, bool channels_last, float *dst)
{
  int64_t numel = osh_shape_numel (s);
  if (!pooled)
    {
      memcpy (dst, a, (size_t) numel * sizeof (float));
      return;
    }
  int64_t ch = s->dim[channels_last ? s->rank - 1 : 1], area = numel / ch;
  for (int64_t k = 0; k < ch; k++)
    {
      double sum = 0;
      for (int64_t p = 0; p < area; p++)
        sum += channels_last ? a[p * ch + k] : a[k * area + p];
      dst[k] = (float) (sum / (double) area);
    }
}

void
osh_probe_layer_clear (OshProbeLayer *l)
{
  free (l->path), free (l->class_name), free (l->kernel), free (l->bias);
  *l = (OshProbeLayer){ 0 };
}

void
osh_probe_result_clear (OshProbeResult *r)
{
  for (int i = 0; i < r->n_layers; i++)
    osh_probe_layer_clear (&r->layers[i]);
  free (r->layers);
  *r = (OshProbeResult){ 0 };
}

/* Class probes: pooled (or flattened) vectors, a softmax probe each. */
typedef struct
{
  const OshProbeOptions *opt;
  bool nhwc;
  const int *labels; /* in split order */
  int n_classes;
  int64_t n, n_train, n_val;
  OshProbeFeatures features;
  void *user;
} ClassProbe;

static int64_t
class_size (void *ctx, const OshShape *s, OshProbeLayer *l)
{
  ClassProbe *c = ctx;
  return l->dim = pooled_dim (s, c->opt->flatten_max, &l->pooled, c->nhwc);
}

static void
class_reduce (void *ctx, const float *a, const OshShape *s, const OshProbeLayer *l, float *dst)
{
  ClassProbe *c = ctx;
  pool_into (a, s, l->pooled, c->nhwc, dst);
}

static bool
class_fit (void *ctx, int index, const float *feat, int64_t size, const OshShape *s,
           OshProbeLayer *l, OshError *err)
{
  (void) index, (void) s;
  ClassProbe *c = ctx;
  return (c->opt->hidden > 0 ? osh_probe_fit_mlp (feat, c->n_train, c->n_val, size, c->labels,
                                                  c->n_classes, c->opt, l, err)
                             : osh_probe_fit_linear (feat, c->n_train, c->n_val, size, c->labels,
                                                     c->n_classes, c->opt, l, err))
         && (!c->features || c->features (l, feat, c->n, c->labels, c->user, err));
}

bool
osh_probe_run (const OshGraph *g, const char *const *layers, int n_layers, int64_t n,
               const int *labels, int n_classes, OshProbeInput input, void *input_user,
               const OshProbeOptions *opt, OshProbeProgress progress, OshProbeFeatures features,
               void *user, OshProbeResult *r, OshError *err)
{
  *r = (OshProbeResult){ 0 };
  if (g->n_inputs != 1)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "probe runs models with one input, not %d",
                     g->n_inputs);
  int64_t *order = malloc ((size_t) n * sizeof *order);
  osh_probe_seeded_order (order, n, opt->seed);
  r->n_val = (int64_t) floor ((double) n * opt->val_split);
  r->n_train = n - r->n_val;
  r->n_classes = n_classes;
  int *split_labels = malloc ((size_t) n * sizeof (int));
  int64_t *count = calloc ((size_t) n_classes, sizeof *count), most = 0;
  for (int64_t i = 0; i < n; i++)
    split_labels[i] = labels[order[i]];
  for (int64_t i = r->n_train; i < n; i++)
    most = ++count[split_labels[i]] > most ? count[split_labels[i]] : most;
  r->chance = r->n_val ? (double) most / (double) r->n_val : NAN;
  free (count);
  ClassProbe c = { .opt = opt,
                   .nhwc = g->layout == OSH_LAYOUT_CHANNELS_LAST,
                   .labels = split_labels,
                   .n_classes = n_classes,
                   .n = n,
                   .n_train = r->n_train,
                   .n_val = r->n_val,
                   .features = features,
                   .user = user };
  OshProbeKind kind = { class_size, class_reduce, class_fit, &c };
  bool ok = (r->n_train >= 1
             || osh_fail (err, OSH_ERR_USAGE, "no pictures left to train on after the split"))
            && osh_probe_capture (g, layers, n_layers, n, order, input, input_user, opt, progress,
                                  user, &kind, r, err);
  free (order);
  free (split_labels);
  if (!ok)
    osh_probe_result_clear (r);
  return ok;
}
