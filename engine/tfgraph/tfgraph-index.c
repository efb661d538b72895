/* Index ops of keypoint and box decoders: ArgMax and GatherNd (MoveNet's heatmap peak, then the
 * offsets at it), TopKV2 (centernet's best detections), OneHot. Indices are held in float32 as
 * every tensor of the engine; they are exact up to 2^24. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tfgraph-ops.h"
#include "tfgraph-shadow.h"

/* ---- ArgMax (x, axis): the index of the first largest value along the axis ---- */

typedef struct
{
  int64_t outer, len, inner;
} Along;

static bool
argmax_axis (const OshOpCall *c, int *axis, OshError *err)
{
  const OshTensor *a = tf_const_input (c, 1, "the axis", err);
  if (!a || c->n_in != 1)
    return a && osh_fail (err, OSH_ERR_FORMAT, "ArgMax reads one tensor");
  int rank = c->in[0].rank, ax = (int) a->data[0];
  ax = ax < 0 ? ax + rank : ax;
  if (osh_tensor_numel (a) != 1 || ax < 0 || ax >= rank)
    return osh_fail (err, OSH_ERR_FORMAT, "axis %g for rank %d", a->data[0], rank);
  *axis = ax;
  return true;
}

bool
tf_argmax_infer (OshOpCall *c, OshError *err)
{
  int ax;
  if (!argmax_axis (c, &ax, err))
    return false;
  OshShape *o = &c->out[0];
  *o = c->in[0];
  memmove (&o->dim[ax], &o->dim[ax + 1], (size_t) (o->rank - ax - 1) * sizeof o->dim[0]);
  o->rank--;
  return true;
}

bool
tf_argmax_prepare (OshOpCall *c, OshError *err)
{
  int ax;
  if (!tf_argmax_infer (c, err) || !argmax_axis (c, &ax, err))
    return false;
  Along *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  const OshShape *s = &c->in[0];
  p->outer = p->inner = 1;
  for (int d = 0; d < ax; d++)
    p->outer *= s->dim[d];
  for (int d = ax + 1; d < s->rank; d++)
    p->inner *= s->dim[d];
  p->len = s->dim[ax];
  return true;
}

void
tf_argmax_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Along *p = c->params;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t i = 0; i < p->inner; i++)
      {
        const float *x = in[0] + o * p->len * p->inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < p->len; k++)
          if (x[k * p->inner] > x[best * p->inner])
            best = k;
        out[0][o * p->inner + i] = (float) best;
      }
}

/* ---- GatherNd (params, indices): slices of params at index tuples ---- */

typedef struct
{
  int64_t tuples, depth, slice;
  int64_t dims[OSH_MAX_RANK], strides[OSH_MAX_RANK];
} Gather;

bool
tf_gather_nd_infer (OshOpCall *c, OshError *err)
{
  if (c->layer->n_slots != 2 || c->layer->slots[0].kind == OSH_SLOT_ABSENT
      || c->layer->slots[1].kind == OSH_SLOT_ABSENT)
    return osh_fail (err, OSH_ERR_FORMAT, "GatherNd reads params and indices");
  const OshShape *p = tf_slot_shape (c, 0), *ix = tf_slot_shape (c, 1);
  int64_t depth = ix->rank ? ix->dim[ix->rank - 1] : -1;
  if (ix->rank < 1 || depth < 1 || depth > p->rank || ix->rank - 1 + p->rank - depth > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_SHAPE, "indices of depth %lld for params of rank %d",
                     (long long) depth, p->rank);
  OshShape *o = &c->out[0];
  o->rank = 0;
  for (int d = 0; d < ix->rank - 1; d++)
    o->dim[o->rank++] = ix->dim[d];
  for (int d = (int) depth; d < p->rank; d++)
    o->dim[o->rank++] = p->dim[d];
  return true;
}

bool
tf_gather_nd_prepare (OshOpCall *c, OshError *err)
{
  if (!tf_gather_nd_infer (c, err))
    return false;
  Gather *g = osh_op_params (c, sizeof *g, err);
  if (!g)
    return false;
  const OshShape *p = tf_slot_shape (c, 0), *ix = tf_slot_shape (c, 1);
  g->depth = ix->dim[ix->rank - 1];
  g->tuples = osh_shape_numel (ix) / g->depth;
  g->slice = 1;
  for (int d = (int) g->depth; d < p->rank; d++)
    g->slice *= p->dim[d];
  int64_t stride = g->slice;
  for (int d = (int) g->depth - 1; d >= 0; d--)
    {
      g->dims[d] = p->dim[d];
      g->strides[d] = stride;
      stride *= p->dim[d];
    }
  return true;
}

void
tf_gather_nd_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Gather *g = c->params;
  const float *params = tf_slot_data (c, in, 0), *ix = tf_slot_data (c, in, 1);
  for (int64_t t = 0; t < g->tuples; t++)
    {
      int64_t off = 0;
      bool inside = true;
      for (int64_t d = 0; d < g->depth; d++)
        {
          int64_t k = (int64_t) lrintf (ix[t * g->depth + d]);
          inside &= k >= 0 && k < g->dims[d];
          off += k * g->strides[d];
        }
      float *dst = out[0] + t * g->slice;
      if (inside) /* TF's CPU kernel fails on an index out of range; zeros here */
        memcpy (dst, params + off, (size_t) g->slice * sizeof *dst);
      else
        memset (dst, 0, (size_t) g->slice * sizeof *dst);
    }
}

/* ---- TopKV2 (x, k): the k largest along the last axis, and their indices ---- */

/* The largest first; equal values by index, the lower first (tfjs's order, and TF's). */
typedef struct
{
  float value, index;
} Ranked;

static int
by_rank (const void *pa, const void *pb)
{
  const Ranked *a = pa, *b = pb;
  if (a->value != b->value)
    return a->value > b->value ? -1 : 1;
  return (a->index > b->index) - (a->index < b->index);
}

/* tfjs's comparison as it computes it (a difference in double; NaN compares as neither side). */
static double
rank_diff (const Ranked *a, const Ranked *b)
{
  double d = (double) b->value - (double) a->value;
  return d == 0 ? (double) a->index - (double) b->index : d;
}

static void
swap_ranked (Ranked *r, int64_t i, int64_t j)
{
  Ranked t = r[i];
  r[i] = r[j];
  r[j] = t;
}

/* With `sorted` false tfjs's CPU backend returns the k it picks in the order its selection
 * leaves them: Floyd–Rivest selection of position k (sampling ranges over 600 values), the
 * first k after it taken as they lie. The same steps here give the same order; the bounds
 * checks only guard what tfjs's sentinels already rule out. */
static void
select_k (Ranked *r, int64_t k, int64_t left, int64_t right)
{
  while (right > left)
    {
      if (right - left > 600)
        {
          double n = (double) (right - left + 1), i = (double) (k - left + 1);
          double z = log (n), s = 0.5 * exp (2 * z / 3);
          double half = i - n / 2, sign = half > 0 ? 1 : half < 0 ? -1 : 0;
          double sd = 0.5 * sqrt (z * s * (n - s) / n) * sign;
          int64_t lo = (int64_t) floor ((double) k - i * s / n + sd);
          int64_t hi = (int64_t) floor ((double) k + (n - i) * s / n + sd);
          select_k (r, k, lo > left ? lo : left, hi < right ? hi : right);
        }
      Ranked t = r[k];
      int64_t i = left, j = right;
      swap_ranked (r, left, k);
      if (rank_diff (&r[right], &t) > 0)
        swap_ranked (r, left, right);
      while (i < j)
        {
          swap_ranked (r, i, j);
          i++;
          j--;
          while (i <= right && rank_diff (&r[i], &t) < 0)
            i++;
          while (j >= left && rank_diff (&r[j], &t) > 0)
            j--;
        }
      if (rank_diff (&r[left], &t) == 0)
        swap_ranked (r, left, j);
      else
        {
          j++;
          swap_ranked (r, j, right);
        }
      if (j <= k)
        left = j + 1;
      if (k <= j)
        right = j - 1;
    }
}

static bool
topk_k (const OshOpCall *c, int64_t *k, OshError *err)
{
  const OshTensor *t = tf_const_input (c, 1, "k", err);
  const OshShape *x = t ? tf_slot_shape (c, 0) : NULL;
  if (!x || x->rank < 1 || osh_tensor_numel (t) != 1 || c->n_out != 2)
    return t && osh_fail (err, OSH_ERR_FORMAT, "TopKV2 reads a tensor of rank 1 or more and one k");
  *k = (int64_t) t->data[0];
  int64_t len = x->dim[x->rank - 1];
  if (*k < 0 || (len >= 0 && *k > len))
    return osh_fail (err, OSH_ERR_SHAPE, "k %lld of %lld values", (long long) *k, (long long) len);
  return true;
}

bool
tf_topk_infer (OshOpCall *c, OshError *err)
{
  int64_t k = 0;
  if (!topk_k (c, &k, err))
    return false;
  c->out[0] = *tf_slot_shape (c, 0);
  c->out[0].dim[c->out[0].rank - 1] = k;
  c->out[1] = c->out[0];
  return true;
}

bool
tf_topk_prepare (OshOpCall *c, OshError *err)
{
  if (!tf_topk_infer (c, err))
    return false;
  const OshShape *x = tf_slot_shape (c, 0);
  c->scratch = (size_t) x->dim[x->rank - 1] * (sizeof (Ranked) / sizeof (float));
  bool *sorted = osh_op_params (c, sizeof *sorted, err);
  if (!sorted)
    return false;
  *sorted = osh_config_bool (c->layer->config, "sorted", true);
  return true;
}

void
tf_topk_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const OshShape *x = tf_slot_shape (c, 0);
  const float *v = tf_slot_data (c, in, 0);
  int64_t len = x->dim[x->rank - 1], k = c->out[0].dim[c->out[0].rank - 1];
  int64_t rows = len ? osh_shape_numel (x) / len : 0;
  Ranked *r = (Ranked *) scratch;
  for (int64_t row = 0; row < rows; row++)
    {
      for (int64_t i = 0; i < len; i++)
        r[i] = (Ranked){ v[row * len + i], (float) i };
      if (*(const bool *) c->params)
        qsort (r, (size_t) len, sizeof *r, by_rank);
      else if (k < len)
        select_k (r, k, 0, len - 1);
      for (int64_t i = 0; i < k; i++)
        {
          out[0][row * k + i] = r[i].value;
          out[1][row * k + i] = r[i].index;
        }
    }
}

/* ---- OneHot (indices, depth, on_value, off_value): a new axis of `depth` values ---- */

static bool
onehot_geometry (const OshOpCall *c, int *axis, int64_t *depth, OshError *err)
{
  const OshTensor *d = tf_const_input (c, 1, "the depth", err);
  const OshShape *ix = d ? tf_slot_shape (c, 0) : NULL;
  if (!ix || c->layer->n_slots != 4)
    return d && osh_fail (err, OSH_ERR_FORMAT, "OneHot reads indices, depth, on and off values");
  int64_t a = osh_config_int (c->layer->config, "axis", -1);
  if (a < -1 || a > ix->rank || ix->rank >= OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_FORMAT, "axis %lld for indices of rank %d", (long long) a,
                     ix->rank);
  *axis = a < 0 ? ix->rank : (int) a;
  *depth = (int64_t) d->data[0];
  if (osh_tensor_numel (d) != 1 || *depth < 0 || *depth > OSH_MAX_DIM)
    return osh_fail (err, OSH_ERR_FORMAT, "the depth is not one size");
  return true;
}

bool
tf_onehot_infer (OshOpCall *c, OshError *err)
{
  int axis;
  int64_t depth;
  if (!onehot_geometry (c, &axis, &depth, err))
    return false;
  OshShape *o = &c->out[0];
  *o = *tf_slot_shape (c, 0);
  memmove (&o->dim[axis + 1], &o->dim[axis], (size_t) (o->rank - axis) * sizeof o->dim[0]);
  o->dim[axis] = depth;
  o->rank++;
  return true;
}

bool
tf_onehot_prepare (OshOpCall *c, OshError *err)
{
  int axis;
  int64_t depth;
  Along *p = osh_op_params (c, sizeof *p, err);
  if (!p || !onehot_geometry (c, &axis, &depth, err) || !tf_onehot_infer (c, err))
    return false;
  /* The output is (outer, depth, inner): the indices' axes before and after the new one. */
  const OshShape *ix = tf_slot_shape (c, 0);
  p->outer = p->inner = 1;
  for (int d = 0; d < ix->rank; d++)
    *(d < axis ? &p->outer : &p->inner) *= ix->dim[d];
  p->len = depth;
  return true;
}

void
tf_onehot_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Along *p = c->params;
  const float *ix = tf_slot_data (c, in, 0);
  float on = tf_slot_data (c, in, 2)[0], off = tf_slot_data (c, in, 3)[0];
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t k = 0; k < p->len; k++)
      for (int64_t i = 0; i < p->inner; i++)
        out[0][(o * p->len + k) * p->inner + i] =
            lrintf (ix[o * p->inner + i]) == k ? on : off; /* -1 and past depth: all off */
}
