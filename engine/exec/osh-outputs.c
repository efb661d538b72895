/* Classifying outputs for display: labels with top-k, heatmaps, plain tensors. */
#include "osh-outputs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-dialect.h"
#include "osh-op.h"

const char *
osh_output_kind_name (OshOutputKind kind)
{
  switch (kind)
    {
    case OSH_OUTPUT_LABEL: return "label";
    case OSH_OUTPUT_HEATMAP: return "heatmap";
    case OSH_OUTPUT_TENSOR:
    default: return "tensor";
    }
}

/* Spatial sizes and channel count of a rank-4 shape in the graph's layout. */
static void
split_4d (const OshShape *s, OshLayout layout, int64_t *h, int64_t *w, int64_t *c)
{
  if (layout == OSH_LAYOUT_CHANNELS_FIRST)
    *c = s->dim[1], *h = s->dim[2], *w = s->dim[3];
  else
    *h = s->dim[1], *w = s->dim[2], *c = s->dim[3];
}

OshOutputKind
osh_output_classify (const OshShape *shape, OshLayout layout)
{
  if (shape->rank == 2 && shape->dim[1] > 1)
    return OSH_OUTPUT_LABEL;
  if (shape->rank == 4)
    {
      int64_t h, w, c;
      split_4d (shape, layout, &h, &w, &c);
      if (h >= 2 && w >= 2 && c >= 1)
        return OSH_OUTPUT_HEATMAP;
    }
  return OSH_OUTPUT_TENSOR;
}

bool
osh_output_is_distribution (const float *row, int64_t n)
{
  double sum = 0;
  for (int64_t i = 0; i < n; i++)
    {
      if (!(row[i] >= 0.0f && row[i] <= 1.0f)) /* also catches NaN */
        return false;
      sum += row[i];
    }
  return fabs (sum - 1.0) <= 1e-3;
}

static bool
check_row (const OshTensor *t, int64_t batch, OshError *err)
{
  if (t->shape.rank != 2 || t->shape.dim[1] < 1)
    return osh_fail (err, OSH_ERR_SHAPE, "a label output needs shape (batch, classes), not rank %d",
                     t->shape.rank);
  if (batch < 0 || batch >= t->shape.dim[0])
    return osh_fail (err, OSH_ERR_USAGE, "batch row %lld is outside 0..%lld", (long long) batch,
                     (long long) t->shape.dim[0] - 1);
  return true;
}

bool
osh_output_probabilities (const OshTensor *t, int64_t batch, float *probs, OshError *err)
{
  if (!check_row (t, batch, err))
    return false;
  int64_t n = t->shape.dim[1];
  const float *row = t->data + batch * n;
  if (osh_output_is_distribution (row, n))
    {
      for (int64_t i = 0; i < n; i++)
        probs[i] = row[i];
      return true;
    }
  float max = row[0];
  for (int64_t i = 1; i < n; i++)
    if (row[i] > max)
      max = row[i];
  double sum = 0;
  for (int64_t i = 0; i < n; i++)
    sum += probs[i] = expf (row[i] - max); /* shifted so the largest is exp(0) */
  for (int64_t i = 0; i < n; i++)
    probs[i] = (float) (probs[i] / sum);
  return true;
}

int
osh_output_top_k (const OshTensor *t, int64_t batch, int k, OshTopEntry *out, OshError *err)
{
  if (!check_row (t, batch, err))
    return 0;
  int64_t n = t->shape.dim[1];
  float *probs = malloc ((size_t) n * sizeof *probs);
  if (!probs)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for %lld probabilities", (long long) n);
      return 0;
    }
  osh_output_probabilities (t, batch, probs, err);
  int used = 0;
  /* Insertion into a short sorted list: k is small, n may be 1000. */
  for (int64_t i = 0; i < n; i++)
    {
      float p = probs[i];
      if (used == k && (k == 0 || !(p > out[k - 1].p)))
        continue;
      int at = used < k ? used++ : k - 1;
      while (at > 0 && p > out[at - 1].p)
        {
          out[at] = out[at - 1];
          at--;
        }
      out[at] = (OshTopEntry){ (int) i, p };
    }
  free (probs);
  return used;
}

OshTensor *
osh_output_heatmap (const OshTensor *t, OshLayout layout, int64_t batch, OshHeatmapMode mode,
                    int64_t channel, OshError *err)
{
  if (t->shape.rank != 4)
    {
      osh_fail (err, OSH_ERR_SHAPE, "a heatmap needs a rank-4 output, not rank %d", t->shape.rank);
      return NULL;
    }
  int64_t h, w, c;
  split_4d (&t->shape, layout, &h, &w, &c);
  if (batch < 0 || batch >= t->shape.dim[0])
    {
      osh_fail (err, OSH_ERR_USAGE, "batch item %lld is outside 0..%lld", (long long) batch,
                (long long) t->shape.dim[0] - 1);
      return NULL;
    }
  if (mode == OSH_HEATMAP_CHANNEL && (channel < 0 || channel >= c))
    {
      osh_fail (err, OSH_ERR_USAGE, "channel %lld is outside 0..%lld", (long long) channel,
                (long long) c - 1);
      return NULL;
    }
  OshShape s = osh_shape_make (2, (int64_t[]){ h, w });
  OshTensor *map = osh_tensor_new (&s, err);
  if (!map)
    return NULL;
  const float *base = t->data + batch * h * w * c;
  /* Element (y, x, ch): NHWC stride c per pixel; NCHW stride h*w per channel. */
  int64_t pix_step = layout == OSH_LAYOUT_CHANNELS_FIRST ? 1 : c;
  int64_t ch_step = layout == OSH_LAYOUT_CHANNELS_FIRST ? h * w : 1;
  for (int64_t i = 0; i < h * w; i++)
    {
      const float *v = base + i * pix_step;
      if (mode == OSH_HEATMAP_CHANNEL)
        {
          map->data[i] = v[channel * ch_step];
          continue;
        }
      int64_t best = 0;
      for (int64_t ch = 1; ch < c; ch++)
        if (v[ch * ch_step] > v[best * ch_step])
          best = ch;
      map->data[i] = mode == OSH_HEATMAP_ARGMAX ? (float) best : v[best * ch_step];
    }
  return map;
}

/* Output i's name made safe as a file name, before making it unique. */
static char *
plain_stem (const OshGraph *g, int i)
{
  const OshDialect *d = osh_dialect_of (g);
  OshRef r = g->outputs[i];
  char *name = d->tensor_name ? d->tensor_name (g, r) : NULL;
  if (!name)
    name = osh_graph_layer_path (g, g->nodes[r.node].layer);
  if (!name)
    return NULL;
  for (char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || *p == '-' || *p == '_' || (*p == '.' && p != name)))
      *p = '_';
  if (!*name)
    {
      free (name);
      name = malloc (32);
      if (name)
        snprintf (name, 32, "output_%d", i);
    }
  return name;
}

char *
osh_output_file_stem (const OshGraph *g, int i)
{
  char *stem = plain_stem (g, i);
  bool taken = false;
  for (int k = 0; stem && !taken && k < i; k++)
    {
      char *other = plain_stem (g, k);
      taken = other && strcmp (other, stem) == 0;
      free (other);
    }
  if (!stem || !taken)
    return stem;
  size_t size = strlen (stem) + 16;
  char *unique = malloc (size);
  if (unique)
    snprintf (unique, size, "%s_%d", stem, i);
  free (stem);
  return unique;
}
