/* ONNX data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze (a copy with a new shape),
 * Transpose, Concat, Split, Slice, Gather and Shape. Shape-deciding parameters (Reshape's shape,
 * Slice's starts...) must be constants: the plan needs every shape before it runs. Attributes
 * are read when preparing. */
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"

/* Ints from attribute `key` (older opsets) or from constant input slot `slot` (newer ones). */
static int
ints_from (const OshOpCall *c, const char *key, int slot, int64_t *out, int max, OshError *err)
{
  OnnxSlot s = onnx_slot (c, slot);
  if (s.present)
    {
      if (!s.value)
        return onnx_need (c, slot, true, key, err) ? 0 : -1;
      int64_t n = onnx_numel (s.shape);
      if (n > max)
        return osh_fail (err, OSH_ERR_LIMIT, "%s has %lld values (at most %d)", key, (long long) n,
                         max),
               -1;
      for (int64_t i = 0; i < n; i++)
        out[i] = (int64_t) s.value[i];
      return (int) n;
    }
  int n = onnx_attr_ints (c, key, out, max);
  if (n < 0)
    osh_fail (err, OSH_ERR_FORMAT, "attribute %s is not a list of at most %d ints", key, max);
  return n;
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze: same data, new shape ---- */

bool
onnx_layout_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "data", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  const char *op = c->layer->class_name;
  OshShape *o = &c->out[0];
  int64_t v[OSH_MAX_RANK];
  if (strcmp (op, "Reshape") == 0)
    {
      int n = ints_from (c, "shape", 1, v, OSH_MAX_RANK, err);
      if (n < 0 || (n == 0 && !onnx_need (c, 1, true, "shape", err)))
        return false;
      bool allow_zero = onnx_attr_int (c, "allowzero", 0) != 0;
      /* The size a -1 stands for is what x's known sizes leave over the target's; it stays open
       * when x has an open size that no 0 copies over. */
      int64_t known = 1, whole = 1;
      int open = 0, infer = -1;
      for (int i = 0; i < x->rank; i++)
        if (x->dim[i] < 0)
          open++;
        else
          whole *= x->dim[i];
      o->rank = n;
      for (int i = 0; i < n; i++)
        {
          bool copy = v[i] == 0 && !allow_zero;
          o->dim[i] = copy ? (i < x->rank ? x->dim[i] : 0) : v[i];
          if (copy && o->dim[i] < 0)
            open--;
          else if (o->dim[i] == -1)
            {
              if (infer >= 0)
                return osh_fail (err, OSH_ERR_FORMAT, "shape has more than one -1");
              infer = i;
            }
          else if (o->dim[i] < 0)
            return osh_fail (err, OSH_ERR_FORMAT, "shape has a negative size");
          else
            known *= o->dim[i];
        }
      if (infer >= 0)
        o->dim[infer] = open ? -1 : known ? whole / known : 0;
    }
  else if (strcmp (op, "Flatten") == 0)
    {
      /* Flatten's axis lies in [-r, r]: negative values count from the back of the rank. */
      int64_t a = onnx_attr_int (c, "axis", 1);
      if (a < -x->rank || a > x->rank)
        return osh_fail (err, OSH_ERR_FORMAT, "axis %lld is out of range for rank %d",
                         (long long) a, x->rank);
      int axis = (int) (a < 0 ? a + x->rank : a);
      *o = osh_shape_make (
          2, (int64_t[]){ onnx_numel_range (x, 0, axis), onnx_numel_range (x, axis, x->rank) });
    }
  else if (strcmp (op, "Squeeze") == 0)
    {
      int n = ints_from (c, "axes", 1, v, OSH_MAX_RANK, err);
      if (n < 0)
        return false;
      bool drop[OSH_MAX_RANK] = { false };
      for (int i = 0; i < n; i++)
        {
          int ax;
          if (!onnx_axis (v[i], x->rank, &ax, err))
            return false;
          if (x->dim[ax] != 1 && x->dim[ax] >= 0) /* an open size: the run checks it */
            return osh_fail (err, OSH_ERR_SHAPE, "cannot squeeze axis %d of size %lld", ax,
                             (long long) x->dim[ax]);
          drop[ax] = true;
        }
      o->rank = 0;
      for (int i = 0; i < x->rank; i++)
        if (!(n ? drop[i] : x->dim[i] == 1))
          o->dim[o->rank++] = x->dim[i];
    }
  else /* Unsqueeze */
    {
      int n = ints_from (c, "axes", 1, v, OSH_MAX_RANK, err);
      if (n <= 0)
        return n == 0 ? osh_fail (err, OSH_ERR_FORMAT, "Unsqueeze needs axes") : false;
      int rank = x->rank + n;
      if (rank > OSH_MAX_RANK)
        return osh_fail (err, OSH_ERR_LIMIT, "rank %d is over the limit", rank);
      bool add[OSH_MAX_RANK] = { false };
      for (int i = 0; i < n; i++)
        {
          int ax;
          if (!onnx_axis (v[i], rank, &ax, err))
            return false;
          add[ax] = true;
        }
      o->rank = rank;
      for (int i = 0, k = 0; i < rank; i++)
        o->dim[i] = add[i] ? 1 : x->dim[k++];
    }
  if (onnx_numel (o) >= 0 && onnx_numel (x) >= 0 && onnx_numel (o) != onnx_numel (x))
    return osh_op_shape_fail (err, "the element counts differ", x, o);
  return true;
}

bool
onnx_layout_prepare (OshOpCall *c, OshError *err)
{
  (void) c;
  (void) err;
  return true;
}

void
onnx_layout_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  memcpy (out[0], onnx_slot_data (c, in, 0), (size_t) onnx_numel (&c->out[0]) * sizeof (float));
}

/* ---- Transpose ---- */

static bool
perm_of (const OshOpCall *c, int rank, int64_t *perm, OshError *err)
{
  int n = onnx_attr_ints (c, "perm", perm, OSH_MAX_RANK);
  if (n == 0)
    for (int i = 0; i < rank; i++)
      perm[i] = rank - 1 - i;
  else if (n != rank)
    return osh_fail (err, OSH_ERR_FORMAT, "perm has %d entries for rank %d", n, rank);
  bool seen[OSH_MAX_RANK] = { false };
  for (int i = 0; i < rank; i++)
    {
      if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
        return osh_fail (err, OSH_ERR_FORMAT, "perm is not a permutation");
      seen[perm[i]] = true;
    }
  return true;
}

bool
onnx_transpose_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "data", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  int64_t perm[OSH_MAX_RANK];
  if (!perm_of (c, x->rank, perm, err))
    return false;
  c->out[0].rank = x->rank;
  for (int i = 0; i < x->rank; i++)
    c->out[0].dim[i] = x->dim[perm[i]];
  return true;
}

/* The params of this file's ops: what their attributes say, read when preparing. */
typedef struct
{
  int64_t perm[OSH_MAX_RANK]; /* Transpose */
  int64_t sizes[64];          /* Split */
  int axis;                   /* Concat, Split, Gather */
  int begin, end;             /* Shape */
  bool nhwc;                  /* Concat switched to channels-last */
} ShapeParams;

static ShapeParams *
shape_params (OshOpCall *c, OshError *err)
{
  return osh_op_params (c, sizeof (ShapeParams), err);
}

bool
onnx_transpose_prepare (OshOpCall *c, OshError *err)
{
  ShapeParams *p = shape_params (c, err);
  return p && perm_of (c, onnx_slot (c, 0).shape->rank, p->perm, err);
}

void
onnx_transpose_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OshShape *x = onnx_slot (c, 0).shape;
  const float *src = onnx_slot_data (c, in, 0);
  const int64_t *perm = ((const ShapeParams *) c->params)->perm;
  int64_t xstride[OSH_MAX_RANK], st[OSH_MAX_RANK], idx[OSH_MAX_RANK] = { 0 };
  int64_t s = 1;
  for (int i = x->rank - 1; i >= 0; i--)
    xstride[i] = s, s *= x->dim[i];
  for (int i = 0; i < x->rank; i++)
    st[i] = xstride[perm[i]]; /* input stride of each output axis */
  int64_t n = onnx_numel (x);
  const OshShape *o = &c->out[0];
  for (int64_t i = 0; i < n; i++)
    {
      int64_t off = 0;
      for (int d = 0; d < o->rank; d++)
        off += idx[d] * st[d];
      out[0][i] = src[off];
      onnx_next_index (idx, o, o->rank);
    }
}

/* ---- Concat ---- */

bool
onnx_concat_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "inputs", err))
    return false;
  const OshShape *first = onnx_slot (c, 0).shape;
  int axis;
  if (!onnx_axis (onnx_attr_int (c, "axis", 0), first->rank, &axis, err))
    return false;
  c->out[0] = *first;
  c->out[0].dim[axis] = 0;
  for (int i = 0; i < onnx_n_slots (c); i++)
    {
      OnnxSlot s = onnx_slot (c, i);
      if (!s.present)
        continue;
      if (s.shape->rank != first->rank)
        return osh_op_shape_fail (err, "Concat inputs differ in rank", first, s.shape);
      /* An open size (-1) meets any size off the axis and leaves the sum along it open. */
      int64_t *o = c->out[0].dim;
      for (int d = 0; d < first->rank; d++)
        {
          int64_t size = s.shape->dim[d];
          if (d == axis)
            o[d] = o[d] < 0 || size < 0 ? -1 : o[d] + size;
          else if (o[d] >= 0 && size >= 0 && size != o[d])
            return osh_op_shape_fail (err, "Concat inputs differ off the axis", first, s.shape);
          else if (o[d] < 0)
            o[d] = size;
        }
    }
  return true;
}

bool
onnx_concat_prepare (OshOpCall *c, OshError *err)
{
  ShapeParams *p = shape_params (c, err);
  return p && onnx_axis (onnx_attr_int (c, "axis", 0), c->out[0].rank, &p->axis, err);
}

/* Along the channels of rank-4 activations: channels-last, that is the last axis. */
OshNhwcFit
onnx_concat_channels_last (OshOpCall *c, bool commit)
{
  if (c->out[0].rank != 4 || ((const ShapeParams *) c->params)->axis != 1)
    return OSH_NHWC_NO;
  for (int i = 0; i < onnx_n_slots (c); i++)
    if (!onnx_slot_nhwc_ready (c, i))
      return OSH_NHWC_NO;
  if (commit)
    ((ShapeParams *) c->params)->nhwc = true;
  return OSH_NHWC_CAN;
}

void
onnx_concat_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const ShapeParams *p = c->params;
  bool nhwc = p->nhwc;
  OshShape view = nhwc ? onnx_nhwc_shape (&c->out[0]) : c->out[0];
  const OshShape *o = &view;
  int axis = nhwc ? 3 : p->axis;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++)
    outer *= o->dim[d];
  for (int d = axis + 1; d < o->rank; d++)
    inner *= o->dim[d];
  int64_t offset = 0;
  for (int i = 0; i < onnx_n_slots (c); i++)
    {
      OnnxSlot s = onnx_slot (c, i);
      if (!s.present)
        continue;
      const float *src = onnx_slot_data (c, in, i);
      int64_t chunk = (nhwc ? onnx_nhwc_shape (s.shape).dim[3] : s.shape->dim[axis]) * inner;
      for (int64_t k = 0; k < outer; k++)
        memcpy (out[0] + k * o->dim[axis] * inner + offset, src + k * chunk,
                (size_t) chunk * sizeof (float));
      offset += chunk;
    }
}

/* ---- Split ---- */

static bool
split_sizes (const OshOpCall *c, int64_t *sizes, int *axis_out, OshError *err)
{
  const OshShape *x = onnx_slot (c, 0).shape;
  if (!onnx_axis (onnx_attr_int (c, "axis", 0), x->rank, axis_out, err))
    return false;
  int n = ints_from (c, "split", 1, sizes, 64, err);
  if (n < 0)
    return false;
  int64_t len = x->dim[*axis_out];
  if (n == 0)
    {
      int parts = c->n_out;
      int64_t each = (len + parts - 1) / parts;
      for (int i = 0; i < parts; i++)
        sizes[i] = len < 0 ? -1 : i < parts - 1 ? each : len - each * (parts - 1);
      n = parts;
    }
  int64_t total = 0;
  for (int i = 0; i < n; i++)
    total += sizes[i];
  if (n != c->n_out || (len >= 0 && total != len)) /* an open length: the run checks it */
    return osh_fail (err, OSH_ERR_SHAPE, "split sizes do not add up to %lld over %d outputs",
                     (long long) len, c->n_out);
  return true;
}

bool
onnx_split_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "input", err))
    return false;
  if (c->n_out > 64)
    return osh_fail (err, OSH_ERR_LIMIT, "more than 64 outputs");
  int64_t sizes[64];
  int axis;
  if (!split_sizes (c, sizes, &axis, err))
    return false;
  for (int i = 0; i < c->n_out; i++)
    {
      c->out[i] = *onnx_slot (c, 0).shape;
      c->out[i].dim[axis] = sizes[i];
    }
  return true;
}

bool
onnx_split_prepare (OshOpCall *c, OshError *err)
{
  ShapeParams *p = shape_params (c, err);
  return p && split_sizes (c, p->sizes, &p->axis, err);
}

void
onnx_split_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OshShape *x = onnx_slot (c, 0).shape;
  const ShapeParams *p = c->params;
  const int64_t *sizes = p->sizes;
  int axis = p->axis;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++)
    outer *= x->dim[d];
  for (int d = axis + 1; d < x->rank; d++)
    inner *= x->dim[d];
  const float *src = onnx_slot_data (c, in, 0);
  int64_t offset = 0;
  for (int i = 0; i < c->n_out; i++)
    {
      int64_t chunk = sizes[i] * inner;
      for (int64_t k = 0; k < outer; k++)
        memcpy (out[i] + k * chunk, src + k * x->dim[axis] * inner + offset,
                (size_t) chunk * sizeof (float));
      offset += chunk;
    }
}

/* ---- Slice ---- */

typedef struct
{
  int64_t start[OSH_MAX_RANK], step[OSH_MAX_RANK];
} Slice;

static bool
slice_geometry (const OshOpCall *c, Slice *s, OshShape *out, OshError *err)
{
  const OshShape *x = onnx_slot (c, 0).shape;
  int64_t starts[OSH_MAX_RANK], ends[OSH_MAX_RANK], axes[OSH_MAX_RANK], steps[OSH_MAX_RANK];
  bool inputs = onnx_opset (c) >= 10;
  int n = ints_from (c, "starts", inputs ? 1 : 99, starts, OSH_MAX_RANK, err);
  int ne = ints_from (c, "ends", inputs ? 2 : 99, ends, OSH_MAX_RANK, err);
  int na = ints_from (c, "axes", inputs ? 3 : 99, axes, OSH_MAX_RANK, err);
  int ns = inputs ? ints_from (c, "steps", 4, steps, OSH_MAX_RANK, err) : 0;
  if (n < 0 || ne < 0 || na < 0 || ns < 0)
    return false;
  if (n == 0 || ne != n || (na && na != n) || (ns && ns != n))
    return osh_fail (err, OSH_ERR_FORMAT,
                     "starts, ends, axes and steps should have the same length");
  *out = *x;
  for (int d = 0; d < x->rank; d++)
    s->start[d] = 0, s->step[d] = 1;
  for (int i = 0; i < n; i++)
    {
      int ax;
      if (!onnx_axis (na ? axes[i] : i, x->rank, &ax, err))
        return false;
      int64_t dim = x->dim[ax], step = ns ? steps[i] : 1;
      if (step == 0)
        return osh_fail (err, OSH_ERR_FORMAT, "a slice step is 0");
      if (dim < 0)
        {
          out->dim[ax] = -1; /* where the bounds fall is known once the size is */
          continue;
        }
      int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i];
      int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
      if (step > 0)
        {
          b = b < 0 ? 0 : b > dim ? dim : b;
          e = e < 0 ? 0 : e > dim ? dim : e;
          out->dim[ax] = e > b ? (e - b + step - 1) / step : 0;
        }
      else
        {
          b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
          e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
          out->dim[ax] = b > e ? (b - e - step - 1) / -step : 0;
        }
      s->start[ax] = b;
      s->step[ax] = step;
    }
  return true;
}

bool
onnx_slice_infer (OshOpCall *c, OshError *err)
{
  Slice s;
  return onnx_need (c, 0, false, "data", err) && slice_geometry (c, &s, &c->out[0], err);
}

bool
onnx_slice_prepare (OshOpCall *c, OshError *err)
{
  Slice *s = malloc (sizeof *s);
  if (!s)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = s;
  OshShape o;
  return slice_geometry (c, s, &o, err);
}

void
onnx_slice_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Slice *s = c->params;
  const OshShape *x = onnx_slot (c, 0).shape, *o = &c->out[0];
  const float *src = onnx_slot_data (c, in, 0);
  int64_t xs[OSH_MAX_RANK], idx[OSH_MAX_RANK] = { 0 };
  onnx_strides (x, xs);
  int64_t n = onnx_numel (o);
  for (int64_t i = 0; i < n; i++)
    {
      int64_t off = 0;
      for (int d = 0; d < o->rank; d++)
        off += (s->start[d] + idx[d] * s->step[d]) * xs[d];
      out[0][i] = src[off];
      onnx_next_index (idx, o, o->rank);
    }
}

/* ---- Gather (indices may be runtime values: only their shape decides the output) ---- */

bool
onnx_gather_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "data", err) || !onnx_need (c, 1, false, "indices", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape, *ix = onnx_slot (c, 1).shape;
  int axis;
  if (!onnx_axis (onnx_attr_int (c, "axis", 0), x->rank, &axis, err))
    return false;
  if (x->rank - 1 + ix->rank > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_LIMIT, "the output rank is over the limit");
  OshShape *o = &c->out[0];
  o->rank = 0;
  for (int d = 0; d < axis; d++)
    o->dim[o->rank++] = x->dim[d];
  for (int d = 0; d < ix->rank; d++)
    o->dim[o->rank++] = ix->dim[d];
  for (int d = axis + 1; d < x->rank; d++)
    o->dim[o->rank++] = x->dim[d];
  return true;
}

bool
onnx_gather_prepare (OshOpCall *c, OshError *err)
{
  ShapeParams *p = shape_params (c, err);
  return p && onnx_axis (onnx_attr_int (c, "axis", 0), onnx_slot (c, 0).shape->rank, &p->axis, err);
}

void
onnx_gather_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OshShape *x = onnx_slot (c, 0).shape, *ix = onnx_slot (c, 1).shape;
  const float *src = onnx_slot_data (c, in, 0), *indices = onnx_slot_data (c, in, 1);
  int axis = ((const ShapeParams *) c->params)->axis;
  int64_t outer = 1, inner = 1, len = x->dim[axis], count = onnx_numel (ix);
  for (int d = 0; d < axis; d++)
    outer *= x->dim[d];
  for (int d = axis + 1; d < x->rank; d++)
    inner *= x->dim[d];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < count; k++)
      {
        int64_t at = (int64_t) indices[k];
        at = at < 0 ? at + len : at;
        float *dst = out[0] + (o * count + k) * inner;
        if (at < 0 || at >= len) /* out of range: zeros rather than reading past the buffer */
          memset (dst, 0, (size_t) inner * sizeof (float));
        else
          memcpy (dst, src + (o * len + at) * inner, (size_t) inner * sizeof (float));
      }
}

/* ---- Shape ---- */

static void
shape_range (const OshOpCall *c, int rank, int *begin, int *end)
{
  int64_t b = onnx_attr_int (c, "start", 0), e = onnx_attr_int (c, "end", rank);
  b = b < 0 ? b + rank : b;
  e = e < 0 ? e + rank : e;
  *begin = (int) (b < 0 ? 0 : b > rank ? rank : b);
  *end = (int) (e < 0 ? 0 : e > rank ? rank : e);
  if (*end < *begin)
    *end = *begin;
}

bool
onnx_shape_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "data", err))
    return false;
  int b, e;
  shape_range (c, onnx_slot (c, 0).shape->rank, &b, &e);
  c->out[0] = osh_shape_make (1, (int64_t[]){ e - b });
  return true;
}

bool
onnx_shape_prepare (OshOpCall *c, OshError *err)
{
  ShapeParams *p = shape_params (c, err);
  if (p)
    shape_range (c, onnx_slot (c, 0).shape->rank, &p->begin, &p->end);
  return p != NULL;
}

void
onnx_shape_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) in;
  (void) scratch;
  const OshShape *x = onnx_slot (c, 0).shape;
  const ShapeParams *p = c->params;
  for (int i = p->begin; i < p->end; i++)
    out[0][i - p->begin] = (float) x->dim[i];
}

/* ---- graph inputs ---- */

/* ONNX input shapes are used as declared; symbolic sizes (null), the batch too, are open (-1)
 * like Keras's None until osh_graph_specialize fixes them. */
bool
onnx_input_infer (OshOpCall *c, OshError *err)
{
  json_t *dims = json_object_get (c->layer->config, "batch_input_shape");
  if (json_is_null (dims) && osh_config_bool (c->layer->config, OSH_INPUT_UNPRODUCED, false))
    {
      c->out[0].rank = 0; /* a dangling tensor of unknown shape: its consumers stay unknown */
      return true;
    }
  if (!json_is_array (dims) || json_array_size (dims) > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_FORMAT, "input shape is not a list of at most %d sizes",
                     OSH_MAX_RANK);
  c->out[0].rank = (int) json_array_size (dims);
  for (int i = 0; i < c->out[0].rank; i++)
    {
      json_t *d = json_array_get (dims, (size_t) i);
      int64_t v = json_is_integer (d) ? json_integer_value (d) : -1;
      if (json_is_integer (d) && (v < 0 || v > OSH_MAX_DIM))
        return osh_fail (err, OSH_ERR_FORMAT, "input size %lld is out of range", (long long) v);
      c->out[0].dim[i] = v;
    }
  return true;
}

bool
onnx_input_prepare (OshOpCall *c, OshError *err)
{
  (void) c;
  (void) err;
  return true;
}

void
onnx_input_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) c;
  (void) in;
  (void) out;
  (void) scratch; /* the executor fills graph inputs itself */
}
