/* Index ops: ArgMax, TopK, GatherND, OneHot — keypoint and box decoders (MoveNet's heatmap peak
 * and the offsets at it, CenterNet's best detections). One kernel per op for ONNX and TF graph
 * models (onnx-index.h): each dialect's infer reads its own attributes into the setups here. */
#include "onnx-index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* An axis seen as (outer, len, inner) elements of C-order memory. */
typedef struct
{
  int64_t outer, len, inner;
} Along;

static void
along (const OshShape *s, int axis, Along *a)
{
  a->outer = onnx_numel_range (s, 0, axis);
  a->len = s->dim[axis];
  a->inner = onnx_numel_range (s, axis + 1, s->rank);
}

/* ---- ArgMax ---- */

typedef struct
{
  Along a;
  bool last;
} ArgMax;

bool
onnx_argmax_setup (OshOpCall *c, int64_t axis, bool keepdims, bool last, bool params, OshError *err)
{
  OnnxSlot x = onnx_slot (c, 0);
  int ax;
  if (!onnx_need (c, 0, false, "the data", err) || !onnx_axis (axis, x.shape->rank, &ax, err))
    return false;
  OshShape *o = &c->out[0];
  *o = *x.shape;
  if (keepdims)
    o->dim[ax] = 1;
  else
    {
      memmove (&o->dim[ax], &o->dim[ax + 1], (size_t) (o->rank - ax - 1) * sizeof o->dim[0]);
      o->rank--;
    }
  if (!params)
    return true;
  ArgMax *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  along (x.shape, ax, &p->a);
  p->last = last;
  return true;
}

bool
onnx_argmax_infer (OshOpCall *c, OshError *err)
{
  return onnx_argmax_setup (c, onnx_attr_int (c, "axis", 0), onnx_attr_int (c, "keepdims", 1),
                            onnx_attr_int (c, "select_last_index", 0), false, err);
}

bool
onnx_argmax_prepare (OshOpCall *c, OshError *err)
{
  return onnx_argmax_setup (c, onnx_attr_int (c, "axis", 0), onnx_attr_int (c, "keepdims", 1),
                            onnx_attr_int (c, "select_last_index", 0), true, err);
}

void
onnx_argmax_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const ArgMax *p = c->params;
  const float *data = onnx_slot_data (c, in, 0);
  for (int64_t o = 0; o < p->a.outer; o++)
    for (int64_t i = 0; i < p->a.inner; i++)
      {
        const float *x = data + o * p->a.len * p->a.inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < p->a.len; k++)
          if (p->last ? x[k * p->a.inner] >= x[best * p->a.inner]
                      : x[k * p->a.inner] > x[best * p->a.inner])
            best = k;
        out[0][o * p->a.inner + i] = (float) best;
      }
}

/* ---- TopK: the k largest (or smallest) along an axis, and their indices ---- */

/* The value ranked (negated for the smallest first) and its index; the largest first, equal
 * values by index, the lower first (ONNX's rule, and tfjs's and TF's). */
typedef struct
{
  float value, index;
} Ranked;

typedef struct
{
  Along a;
  int64_t k;
  bool largest, sorted;
} TopK;

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

/* Unsorted, tfjs's CPU backend returns the k it picks in the order its selection leaves them:
 * Floyd–Rivest selection of position k (sampling ranges over 600 values), the first k after it
 * taken as they lie. The same steps here give the same order; the bounds checks only guard
 * what tfjs's sentinels already rule out. */
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

bool
onnx_topk_setup (OshOpCall *c, int64_t axis, int64_t k, bool largest, bool sorted, bool params,
                 OshError *err)
{
  OnnxSlot x = onnx_slot (c, 0);
  int ax;
  if (!onnx_need (c, 0, false, "the data", err) || !onnx_axis (axis, x.shape->rank, &ax, err))
    return false;
  if (c->n_out != 2)
    return osh_fail (err, OSH_ERR_FORMAT, "TopK has two outputs, not %d", c->n_out);
  int64_t len = x.shape->dim[ax];
  if (k < 0 || (len >= 0 && k > len))
    return osh_fail (err, OSH_ERR_SHAPE, "k %lld of %lld values", (long long) k, (long long) len);
  c->out[0] = *x.shape;
  c->out[0].dim[ax] = k;
  c->out[1] = c->out[0];
  if (!params)
    return true;
  TopK *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  along (x.shape, ax, &p->a);
  p->k = k;
  p->largest = largest;
  p->sorted = sorted;
  c->scratch = (size_t) len * (sizeof (Ranked) / sizeof (float));
  return true;
}

/* ONNX's k: input 1 (opset 10 on, one int64), or the attribute before. */
static bool
onnx_topk_args (OshOpCall *c, bool params, OshError *err)
{
  int64_t k = onnx_attr_int (c, "k", -1);
  OnnxSlot ks = onnx_slot (c, 1);
  if (ks.present)
    {
      if (!onnx_need (c, 1, true, "k", err))
        return false;
      if (onnx_numel (ks.shape) != 1)
        return osh_fail (err, OSH_ERR_FORMAT, "k has %lld values, not one",
                         (long long) onnx_numel (ks.shape));
      k = (int64_t) ks.value[0];
    }
  return onnx_topk_setup (c, onnx_attr_int (c, "axis", -1), k, onnx_attr_int (c, "largest", 1),
                          onnx_attr_int (c, "sorted", 1), params, err);
}

bool
onnx_topk_infer (OshOpCall *c, OshError *err)
{
  return onnx_topk_args (c, false, err);
}

bool
onnx_topk_prepare (OshOpCall *c, OshError *err)
{
  return onnx_topk_args (c, true, err);
}

void
onnx_topk_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const TopK *p = c->params;
  const float *v = onnx_slot_data (c, in, 0);
  int64_t len = p->a.len, k = p->k, inner = p->a.inner;
  float sign = p->largest ? 1.0f : -1.0f;
  Ranked *r = (Ranked *) scratch;
  for (int64_t o = 0; o < p->a.outer; o++)
    for (int64_t in_row = 0; in_row < inner; in_row++)
      {
        const float *x = v + o * len * inner + in_row;
        for (int64_t i = 0; i < len; i++)
          r[i] = (Ranked){ sign * x[i * inner], (float) i };
        if (p->sorted)
          qsort (r, (size_t) len, sizeof *r, by_rank);
        else if (k < len) /* a row no longer than k keeps its order, as tfjs's */
          select_k (r, k, 0, len - 1);
        for (int64_t i = 0; i < k; i++)
          {
            int64_t at = (o * k + i) * inner + in_row;
            out[0][at] = sign * r[i].value;
            out[1][at] = r[i].index;
          }
      }
}

/* ---- GatherND (data, indices): slices of data at index tuples ---- */

typedef struct
{
  int64_t batches, tuples, depth, slice, data_batch;
  int64_t dims[OSH_MAX_RANK], strides[OSH_MAX_RANK];
} GatherNd;

bool
onnx_gather_nd_setup (OshOpCall *c, int64_t batch_dims, bool params, OshError *err)
{
  if (!onnx_need (c, 0, false, "the data", err) || !onnx_need (c, 1, false, "the indices", err))
    return false;
  const OshShape *p = onnx_slot (c, 0).shape, *ix = onnx_slot (c, 1).shape;
  int64_t b = batch_dims, depth = ix->rank ? ix->dim[ix->rank - 1] : -1;
  if (b < 0 || b >= ix->rank || b >= p->rank)
    return osh_fail (err, OSH_ERR_SHAPE,
                     "batch_dims %lld for data of rank %d and indices of rank %d", (long long) b,
                     p->rank, ix->rank);
  if (depth < 1 || b + depth > p->rank || ix->rank - 1 + p->rank - b - depth > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_SHAPE, "indices of depth %lld for data of rank %d",
                     (long long) depth, p->rank);
  for (int d = 0; d < b; d++)
    if (p->dim[d] != ix->dim[d] && p->dim[d] >= 0 && ix->dim[d] >= 0)
      return osh_fail (err, OSH_ERR_SHAPE,
                       "batch axis %d is %lld in the data and %lld in the indices", d,
                       (long long) p->dim[d], (long long) ix->dim[d]);
  OshShape *o = &c->out[0];
  o->rank = 0;
  for (int d = 0; d < ix->rank - 1; d++)
    o->dim[o->rank++] = ix->dim[d];
  for (int d = (int) (b + depth); d < p->rank; d++)
    o->dim[o->rank++] = p->dim[d];
  if (!params)
    return true;
  GatherNd *g = osh_op_params (c, sizeof *g, err);
  if (!g)
    return false;
  g->batches = onnx_numel_range (p, 0, (int) b);
  g->depth = depth;
  g->tuples = onnx_numel_range (ix, (int) b, ix->rank - 1);
  g->slice = onnx_numel_range (p, (int) (b + depth), p->rank);
  g->data_batch = onnx_numel_range (p, (int) b, p->rank);
  int64_t stride = g->slice;
  for (int d = (int) depth - 1; d >= 0; d--)
    {
      g->dims[d] = p->dim[b + d];
      g->strides[d] = stride;
      stride *= p->dim[b + d];
    }
  return true;
}

bool
onnx_gathernd_infer (OshOpCall *c, OshError *err)
{
  return onnx_gather_nd_setup (c, onnx_attr_int (c, "batch_dims", 0), false, err);
}

bool
onnx_gathernd_prepare (OshOpCall *c, OshError *err)
{
  return onnx_gather_nd_setup (c, onnx_attr_int (c, "batch_dims", 0), true, err);
}

void
onnx_gathernd_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const GatherNd *g = c->params;
  const float *data = onnx_slot_data (c, in, 0), *ix = onnx_slot_data (c, in, 1);
  float *dst = out[0];
  for (int64_t bt = 0; bt < g->batches; bt++)
    for (int64_t t = 0; t < g->tuples; t++, ix += g->depth, dst += g->slice)
      {
        int64_t off = 0;
        bool inside = true;
        for (int64_t d = 0; d < g->depth; d++)
          {
            int64_t k = (int64_t) lrintf (ix[d]);
            k = k < 0 ? k + g->dims[d] : k;
            inside &= k >= 0 && k < g->dims[d];
            off += k * g->strides[d];
          }
        /* ONNX Runtime and TF's CPU kernel fail on an index out of range; zeros here */
        if (inside)
          memcpy (dst, data + bt * g->data_batch + off, (size_t) g->slice * sizeof *dst);
        else
          memset (dst, 0, (size_t) g->slice * sizeof *dst);
      }
}

/* ---- OneHot (indices, depth, values): a new axis of `depth` values ---- */

typedef struct
{
  Along a; /* the output as (outer, depth, inner) */
  OnnxOneHotValues v;
} OneHot;

bool
onnx_onehot_setup (OshOpCall *c, int64_t axis, int64_t depth, const OnnxOneHotValues *v,
                   bool params, OshError *err)
{
  if (!onnx_need (c, 0, false, "the indices", err))
    return false;
  const OshShape *ix = onnx_slot (c, 0).shape;
  int ax;
  if (ix->rank >= OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_LIMIT, "indices of rank %d (at most %d)", ix->rank,
                     OSH_MAX_RANK - 1);
  if (!onnx_axis (axis, ix->rank + 1, &ax, err))
    return false;
  if (depth < 0 || depth > OSH_MAX_DIM)
    return osh_fail (err, OSH_ERR_FORMAT, "depth %lld", (long long) depth);
  OshShape *o = &c->out[0];
  *o = *ix;
  memmove (&o->dim[ax + 1], &o->dim[ax], (size_t) (o->rank - ax) * sizeof o->dim[0]);
  o->dim[ax] = depth;
  o->rank++;
  if (!params)
    return true;
  OneHot *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  along (o, ax, &p->a);
  p->v = *v;
  return true;
}

static bool
onnx_onehot_args (OshOpCall *c, bool params, OshError *err)
{
  if (!onnx_need (c, 1, true, "the depth", err) || !onnx_need (c, 2, false, "the values", err))
    return false;
  OnnxSlot depth = onnx_slot (c, 1), values = onnx_slot (c, 2);
  if (onnx_numel (depth.shape) != 1 || onnx_numel (values.shape) != 2)
    return osh_fail (err, OSH_ERR_FORMAT, "OneHot reads one depth and two values (off, on)");
  OnnxOneHotValues v = { .on_slot = 2, .on_at = 1, .off_slot = 2, .off_at = 0 };
  /* ONNX Runtime reads a fractional depth as its integer part */
  return onnx_onehot_setup (c, onnx_attr_int (c, "axis", -1), (int64_t) depth.value[0], &v, params,
                            err);
}

bool
onnx_onehot_infer (OshOpCall *c, OshError *err)
{
  return onnx_onehot_args (c, false, err);
}

bool
onnx_onehot_prepare (OshOpCall *c, OshError *err)
{
  return onnx_onehot_args (c, true, err);
}

void
onnx_onehot_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OneHot *p = c->params;
  const float *ix = onnx_slot_data (c, in, 0);
  float on = onnx_slot_data (c, in, p->v.on_slot)[p->v.on_at];
  float off = onnx_slot_data (c, in, p->v.off_slot)[p->v.off_at];
  int64_t depth = p->a.len;
  for (int64_t o = 0; o < p->a.outer; o++)
    for (int64_t i = 0; i < p->a.inner; i++)
      {
        int64_t k = (int64_t) ix[o * p->a.inner + i]; /* toward zero, as a cast to int64 */
        if (k < 0 && !p->v.negative_off)
          k += depth;
        for (int64_t d = 0; d < depth; d++) /* out of range: all off */
          out[0][(o * depth + d) * p->a.inner + i] = k == d ? on : off;
      }
}
