/* ArgMax and GatherNd: index ops of keypoint decoders (MoveNet's heatmap peak, then the offsets
 * at it). Indices are held in float32 as every tensor of the engine; they are exact up to 2^24. */
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

/* The slot's shape (a tensor or a constant). */
static const OshShape *
slot_shape (const OshOpCall *c, int i)
{
  OshSlot s = c->layer->slots[i];
  return s.kind == OSH_SLOT_ACTIVATION ? &c->in[s.index] : &c->layer->weights[s.index].value->shape;
}

static const float *
slot_data (const OshOpCall *c, const float *const *in, int i)
{
  OshSlot s = c->layer->slots[i];
  return s.kind == OSH_SLOT_ACTIVATION ? in[s.index] : c->layer->weights[s.index].value->data;
}

bool
tf_gather_nd_infer (OshOpCall *c, OshError *err)
{
  if (c->layer->n_slots != 2 || c->layer->slots[0].kind == OSH_SLOT_ABSENT
      || c->layer->slots[1].kind == OSH_SLOT_ABSENT)
    return osh_fail (err, OSH_ERR_FORMAT, "GatherNd reads params and indices");
  const OshShape *p = slot_shape (c, 0), *ix = slot_shape (c, 1);
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
  const OshShape *p = slot_shape (c, 0), *ix = slot_shape (c, 1);
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
  const float *params = slot_data (c, in, 0), *ix = slot_data (c, in, 1);
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
