/* osh-probe-masks.c — mask probes: a 1×1 convolution (logistic regression per position) on each
 * spatial layer, read as IoU against the masks (the recipe is in osh-probe.h). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-probe-private.h"
#include "osh-train.h"

typedef struct
{
  const OshProbeOptions *opt;
  bool nhwc;
  int64_t n, n_train;
  float **masks; /* per example in split order, at its own mh × mw */
  int *mh, *mw;
  OshProbeFeatures features;
  void *user;
} MaskProbe;

/* Height, width and channels of a rank-4 activation in the graph's layout. */
static bool
map_dims (const MaskProbe *m, const OshShape *s, int64_t *h, int64_t *w, int64_t *c)
{
  if (s->rank != 4)
    return false;
  *h = s->dim[m->nhwc ? 1 : 2], *w = s->dim[m->nhwc ? 2 : 3], *c = s->dim[m->nhwc ? 3 : 1];
  return *h > 0 && *w > 0 && *c > 0;
}

static int64_t
mask_size (void *ctx, const OshShape *s, OshProbeLayer *l)
{
  int64_t h = 0, w = 0, c = 0;
  if (!map_dims (ctx, s, &h, &w, &c))
    return 0;
  l->dim = c;
  l->pooled = false;
  l->map_h = h, l->map_w = w;
  return h * w * c;
}

/* Position-major (p·C + c) whatever the layout. */
static void
mask_reduce (void *ctx, const float *a, const OshShape *s, const OshProbeLayer *l, float *dst)
{
  (void) l;
  const MaskProbe *m = ctx;
  int64_t h = 0, w = 0, c = 0;
  map_dims (m, s, &h, &w, &c);
  if (m->nhwc)
    memcpy (dst, a, (size_t) (h * w * c) * sizeof (float));
  else
    for (int64_t k = 0; k < c; k++)
      for (int64_t p = 0; p < h * w; p++)
        dst[p * c + k] = a[k * h * w + p];
}

static float
sigmoidf (float z)
{
  return z >= 0 ? 1.0f / (1.0f + expf (-z)) : expf (z) / (1.0f + expf (z));
}

static bool
mask_fit (void *ctx, int index, const float *feat, int64_t size, const OshShape *s,
          OshProbeLayer *l, OshError *err)
{
  const MaskProbe *m = ctx;
  const OshProbeOptions *opt = m->opt;
  int64_t h = 0, w = 0, c = 0;
  map_dims (m, s, &h, &w, &c);
  int64_t hw = h * w, per = hw <= opt->mask_positions ? hw : opt->mask_positions;
  int64_t rows = m->n_train * per;
  float *x = malloc ((size_t) (rows * c) * sizeof (float)), *y = malloc ((size_t) rows * 4);
  float *target = malloc ((size_t) hw * sizeof (float)), *z = malloc ((size_t) rows * 4);
  float *par = calloc ((size_t) (c + 1) * 4, sizeof (float));
  double *mean = calloc ((size_t) c, sizeof (double)), *sd = calloc ((size_t) c, sizeof (double));
  if (!x || !y || !target || !z || !par || !mean || !sd)
    {
      free (x), free (y), free (target), free (z), free (par), free (mean), free (sd);
      return osh_fail (err, OSH_ERR_NOMEM,
                       "a mask probe of %lld rows × %lld channels: out of "
                       "memory",
                       (long long) rows, (long long) c);
    }
  /* Training rows: positions drawn per picture, their targets from the resized mask. */
  uint64_t state = opt->seed + (uint64_t) index;
  for (int64_t i = 0; i < m->n_train; i++)
    {
      osh_train_area_resize (m->masks[i], m->mh[i], m->mw[i], target, (int) h, (int) w);
      for (int64_t k = 0; k < per; k++)
        {
          int64_t p = per == hw ? k : (int64_t) (osh_probe_splitmix64 (&state) % (uint64_t) hw);
          memcpy (x + (i * per + k) * c, feat + i * size + p * c, (size_t) c * sizeof (float));
          y[i * per + k] = target[p] >= 0.5f ? 1.0f : 0.0f;
        }
    }
  for (int64_t j = 0; j < c; j++)
    {
      double s1 = 0, s2 = 0;
      for (int64_t r = 0; r < rows; r++)
        s1 += x[r * c + j];
      mean[j] = s1 / (double) rows;
      for (int64_t r = 0; r < rows; r++)
        s2 += (x[r * c + j] - mean[j]) * (x[r * c + j] - mean[j]);
      sd[j] = sqrt (s2 / (double) rows);
      for (int64_t r = 0; r < rows; r++)
        x[r * c + j] = sd[j] > 1e-12 ? (float) ((x[r * c + j] - mean[j]) / sd[j]) : 0.0f;
    }
  /* par = w (c) then b; g, m, v follow. */
  float *wv = par, *g = par + (c + 1), *mo = g + (c + 1), *ve = mo + (c + 1);
  for (int t = 1; t <= opt->epochs; t++)
    {
      float b = wv[c];
      cblas_sgemv (CblasRowMajor, CblasNoTrans, (int) rows, (int) c, 1.0f, x, (int) c, wv, 1, 0.0f,
                   z, 1);
      double gb = 0;
      for (int64_t r = 0; r < rows; r++)
        {
          z[r] = (sigmoidf (z[r] + b) - y[r]) / (float) rows;
          gb += z[r];
        }
      for (int64_t j = 0; j < c; j++)
        g[j] = (float) opt->l2 * wv[j];
      cblas_sgemv (CblasRowMajor, CblasTrans, (int) rows, (int) c, 1.0f, x, (int) c, z, 1, 1.0f, g,
                   1);
      g[c] = (float) gb;
      osh_probe_adam_step (wv, mo, ve, g, c + 1, t, opt->lr);
    }
  /* Training accuracy on the training rows; validation on every position. */
  int64_t right = 0;
  cblas_sgemv (CblasRowMajor, CblasNoTrans, (int) rows, (int) c, 1.0f, x, (int) c, wv, 1, 0.0f, z,
               1);
  for (int64_t r = 0; r < rows; r++)
    right += (z[r] + wv[c] > 0) == (y[r] > 0.5f);
  l->train_accuracy = rows ? (double) right / (double) rows : NAN;
  /* Validation at each mask's own size: the layer's prediction at the position a pixel falls in
   * (nearest), so a coarse map is not judged on a coarsened mask. */
  int64_t inter = 0, uni = 0, total = 0;
  double loss = 0;
  right = 0;
  double *logits = malloc ((size_t) hw * sizeof (double));
  for (int64_t i = m->n_train; logits && i < m->n; i++)
    {
      for (int64_t p = 0; p < hw; p++)
        {
          const float *f = feat + i * size + p * c;
          logits[p] = wv[c];
          for (int64_t j = 0; j < c; j++)
            logits[p] += sd[j] > 1e-12 ? wv[j] * (f[j] - mean[j]) / sd[j] : 0.0;
        }
      for (int64_t py = 0; py < m->mh[i]; py++)
        for (int64_t px = 0; px < m->mw[i]; px++)
          {
            double logit = logits[(py * h / m->mh[i]) * w + px * w / m->mw[i]];
            bool pred = logit > 0, fg = m->masks[i][py * m->mw[i] + px] >= 0.5f;
            inter += pred && fg, uni += pred || fg, right += pred == fg, total++;
            double softplus = logit > 0 ? logit + log1p (exp (-logit)) : log1p (exp (logit));
            loss += softplus - (fg ? logit : 0.0); /* sigmoid cross-entropy */
          }
    }
  free (logits);
  l->val_accuracy = total ? (double) right / (double) total : NAN;
  l->val_loss = total ? loss / (double) total : NAN;
  l->val_iou = uni ? (double) inter / (double) uni : (total ? 1.0 : NAN);
  free (x), free (y), free (target), free (z), free (par), free (mean), free (sd);
  return !m->features || m->features (l, feat, m->n, NULL, m->user, err);
}

bool
osh_probe_run_masks (const OshGraph *g, const char *const *layers, int n_layers, int64_t n,
                     OshProbeInput input, OshProbeMaskInput mask, void *input_user,
                     const OshProbeOptions *opt, OshProbeProgress progress,
                     OshProbeFeatures features, void *user, OshProbeResult *r, OshError *err)
{
  *r = (OshProbeResult){ 0 };
  if (g->n_inputs != 1)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "probe runs models with one input, not %d",
                     g->n_inputs);
  int64_t *order = malloc ((size_t) n * sizeof *order);
  MaskProbe m = { .opt = opt,
                  .nhwc = g->layout == OSH_LAYOUT_CHANNELS_LAST,
                  .n = n,
                  .features = features,
                  .user = user };
  m.masks = calloc ((size_t) n, sizeof *m.masks);
  m.mh = calloc ((size_t) n, sizeof (int)), m.mw = calloc ((size_t) n, sizeof (int));
  bool ok = (order && m.masks && m.mh && m.mw)
            || osh_fail (err, OSH_ERR_NOMEM, "%lld masks: out of memory", (long long) n);
  if (ok)
    osh_probe_seeded_order (order, n, opt->seed);
  r->n_val = (int64_t) floor ((double) n * opt->val_split);
  r->n_train = m.n_train = n - r->n_val;
  r->n_classes = 2;
  ok = ok
       && (r->n_train >= 1
           || osh_fail (err, OSH_ERR_USAGE, "no pictures left to train on after the split"));
  /* The masks at their own size, once; each layer resizes them to its map. */
  int64_t fg = 0, all = 0;
  for (int64_t i = 0; ok && i < n; i++)
    {
      m.masks[i] = mask (order[i], &m.mh[i], &m.mw[i], input_user, err);
      ok = m.masks[i] != NULL;
      for (int64_t p = 0; ok && i >= r->n_train && p < (int64_t) m.mh[i] * m.mw[i]; p++)
        fg += m.masks[i][p] >= 0.5f, all++;
    }
  r->chance = all ? (double) fg / (double) all : NAN;
  OshProbeKind kind = { mask_size, mask_reduce, mask_fit, &m };
  ok = ok
       && osh_probe_capture (g, layers, n_layers, n, order, input, input_user, opt, progress, user,
                             &kind, r, err);
  for (int64_t i = 0; m.masks && i < n; i++)
    free (m.masks[i]);
  free (m.masks), free (m.mh), free (m.mw), free (order);
  if (!ok)
    osh_probe_result_clear (r);
  return ok;
}
