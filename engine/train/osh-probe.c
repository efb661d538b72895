/* osh-probe.c — linear probes on captured layer features (the recipe is in osh-probe.h). */
#include "osh-probe.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-exec.h"
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
                            .threads = 1 };
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
static void
seeded_order (int64_t *v, int64_t n, uint64_t seed)
{
  for (int64_t i = 0; i < n; i++)
    v[i] = i;
  osh_train_shuffle (v, n, &seed);
}

void
osh_probe_split_order (int64_t *order, int64_t n, uint64_t seed)
{
  seeded_order (order, n, seed);
}

void
osh_probe_shuffle_weights (OshGraph *g, uint64_t seed)
{
  for (int l = 0; l < g->n_layers; l++)
    for (int w = 0; w < g->layers[l].n_weights; w++)
      {
        OshTensor *t = g->layers[l].weights[w].value;
        int64_t n = t ? osh_shape_numel (&t->shape) : 0;
        if (n < 2)
          continue;
        int64_t *order = malloc ((size_t) n * sizeof *order);
        float *copy = malloc ((size_t) n * sizeof (float));
        seeded_order (order, n, seed + (uint64_t) l * 1000003u + (uint64_t) w);
        for (int64_t i = 0; i < n; i++)
          copy[i] = t->data[order[i]];
        memcpy (t->data, copy, (size_t) n * sizeof (float));
        free (order);
        free (copy);
      }
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

static void
adam_step (float *w, float *m, float *v, const float *g, int64_t n, int t, double lr)
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
  /* Standardise with the training rows' statistics. */
  for (int64_t j = 0; j < dim; j++)
    {
      double s = 0, s2 = 0;
      for (int64_t i = 0; i < n_train; i++)
        s += rows[i * dim + j];
      mean[j] = s / (double) n_train;
      for (int64_t i = 0; i < n_train; i++)
        s2 += (rows[i * dim + j] - mean[j]) * (rows[i * dim + j] - mean[j]);
      sd[j] = sqrt (s2 / (double) n_train);
      for (int64_t i = 0; i < n; i++)
        x[i * dim + j] = sd[j] > 1e-12 ? (float) ((rows[i * dim + j] - mean[j]) / sd[j]) : 0.0f;
    }
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
      adam_step (w, mw, vw, gw, dim * c, t, opt->lr);
      adam_step (b, mb, vb, gb, c, t, opt->lr);
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

static OshPlan *
capture_plan (const OshGraph *g, const char *const *layers, int n, int threads, OshError *err)
{
  OshExecOptions eo = osh_exec_options_default ();
  eo.threads = threads;
  eo.capture = layers;
  eo.n_capture = n;
  return osh_plan_new (g, &eo, err);
}

static bool
run_one (OshPlan *plan, int64_t i, OshProbeInput input, void *user, OshError *err)
{
  OshTensor *x = input (i, user, err);
  bool ok = x && osh_plan_run (plan, (const OshTensor *const[]){ x }, 1, NULL, err);
  osh_tensor_free (x);
  return ok;
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
  bool nhwc = g->layout == OSH_LAYOUT_CHANNELS_LAST;
  int64_t *order = malloc ((size_t) n * sizeof *order);
  seeded_order (order, n, opt->seed);
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
  r->layers = calloc ((size_t) n_layers, sizeof *r->layers);
  r->n_layers = n_layers;
  int64_t *dims = calloc ((size_t) n_layers, sizeof *dims);
  bool ok = r->n_train >= 1
            || osh_fail (err, OSH_ERR_USAGE, "no pictures left to train on after the split");
  /* One picture through a plan capturing every chosen layer gives their sizes. */
  OshPlan *plan = ok ? capture_plan (g, layers, n_layers, opt->threads, err) : NULL;
  ok = plan && run_one (plan, 0, input, input_user, err);
  for (int l = 0; ok && l < n_layers; l++)
    {
      OshShape s;
      int li = osh_graph_find_path (g, layers[l]);
      ok = osh_plan_activation (plan, layers[l], &s)
           || osh_fail (err, OSH_ERR_NOT_FOUND, "layer '%s' was not captured", layers[l]);
      if (ok)
        {
          r->layers[l].path = strdup (layers[l]);
          r->layers[l].class_name = strdup (li >= 0 ? g->layers[li].class_name : "");
          dims[l] = r->layers[l].dim =
              pooled_dim (&s, opt->flatten_max, &r->layers[l].pooled, nhwc);
        }
    }
  osh_plan_free (plan);
  /* Groups of layers whose features fit the budget; each is one pass over the pictures. */
  for (int first = 0; ok && first < n_layers;)
    {
      int last = first + 1;
      int64_t bytes = dims[first] * n * 4;
      while (last < n_layers && bytes + dims[last] * n * 4 <= opt->group_bytes)
        bytes += dims[last++] * n * 4;
      float **feat = calloc ((size_t) (last - first), sizeof *feat);
      for (int l = first; l < last; l++)
        {
          feat[l - first] = malloc ((size_t) (dims[l] * n) * sizeof (float));
          ok = ok && feat[l - first];
        }
      if (!ok)
        osh_fail (err, OSH_ERR_NOMEM, "the features of %d layers: out of memory", last - first);
      plan = ok ? capture_plan (g, layers + first, last - first, opt->threads, err) : NULL;
      ok = plan != NULL;
      r->passes++;
      for (int64_t i = 0; ok && i < n; i++)
        {
          ok = run_one (plan, order[i], input, input_user, err);
          for (int l = first; ok && l < last; l++)
            {
              OshShape s;
              const float *a = osh_plan_activation (plan, layers[l], &s);
              bool pooled = false;
              ok = (a && pooled_dim (&s, opt->flatten_max, &pooled, nhwc) == dims[l])
                   || osh_fail (err, OSH_ERR_SHAPE, "layer '%s' changed size between pictures",
                                layers[l]);
              if (ok)
                pool_into (a, &s, pooled, nhwc, feat[l - first] + i * dims[l]);
            }
          if (ok && progress && !progress (NULL, (int) (i + 1), (int) n, user))
            ok = osh_fail (err, OSH_ERR_CANCELLED, "probe cancelled");
        }
      osh_plan_free (plan);
      for (int l = first; ok && l < last; l++)
        {
          ok = osh_probe_fit_linear (feat[l - first], r->n_train, r->n_val, dims[l], split_labels,
                                     n_classes, opt, &r->layers[l], err)
               && (!features
                   || features (&r->layers[l], feat[l - first], n, split_labels, user, err));
          if (!ok)
            osh_error_prefix (err, "%s: ", layers[l]);
          else if (progress && !progress (&r->layers[l], l, n_layers, user))
            ok = osh_fail (err, OSH_ERR_CANCELLED, "probe cancelled");
        }
      for (int l = first; l < last; l++)
        free (feat[l - first]);
      free (feat);
      first = last;
    }
  free (dims);
  free (order);
  free (split_labels);
  if (!ok)
    osh_probe_result_clear (r);
  return ok;
}
