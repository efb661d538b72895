/* ONNX BatchNormalization (inference: the coefficients made when preparing, then the shared
 * per-channel map of engine/ops/norm.c), Softmax / LogSoftmax and the Reduce ops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"

bool
onnx_batchnorm_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "X", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  if (x->rank < 2)
    return osh_fail (err, OSH_ERR_SHAPE, "input rank %d (expected N, C, ...)", x->rank);
  if (onnx_attr_int (c, "training_mode", 0))
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "training_mode (batch statistics): Offshoot runs "
                     "inference only");
  for (int i = 1; i <= 4; i++)
    {
      static const char *const what[] = { "", "scale", "B", "mean", "var" };
      if (!onnx_need (c, i, false, what[i], err))
        return false;
      OnnxSlot s = onnx_slot (c, i);
      if (s.shape->rank != 1 || (s.shape->dim[0] != x->dim[1] && x->dim[1] >= 0))
        return osh_fail (err, OSH_ERR_SHAPE, "%s has %lld values for %lld channels", what[i],
                         (long long) onnx_numel (s.shape), (long long) x->dim[1]);
    }
  for (int i = 0; i < c->n_out; i++)
    c->out[i] = i == 0 ? *x : *onnx_slot (c, 3).shape;
  return true;
}

typedef struct
{
  float eps;
  float *coef;   /* 2·ch floats: scale then shift, made here when the statistics are constants */
  bool constant; /* else the run makes them in its scratch */
  bool nhwc;     /* switched to channels-last */
} BatchNorm;

static void
batchnorm_free (void *p)
{
  BatchNorm *bn = p;
  free (bn->coef);
  free (bn);
}

bool
onnx_batchnorm_prepare (OshOpCall *c, OshError *err)
{
  int64_t ch = c->out[0].dim[1];
  c->flops = 2.0 * (double) onnx_numel (&c->out[0]);
  BatchNorm *bn = calloc (1, sizeof *bn);
  float *coef = malloc ((size_t) (2 * ch) * sizeof (float));
  if (!bn || !coef)
    {
      free (bn), free (coef);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  c->params = bn;
  c->free_params = batchnorm_free;
  bn->coef = coef;
  bn->eps = onnx_attr_float (c, "epsilon", 1e-5f);
  const float *v[5];
  bn->constant = true;
  for (int i = 1; i <= 4; i++)
    bn->constant = bn->constant && (v[i] = onnx_slot (c, i).value);
  if (bn->constant)
    osh_batchnorm_coefficients (ch, v[1], v[2], v[3], v[4], bn->eps, coef, coef + ch);
  else
    c->scratch = (size_t) (2 * ch);
  return true;
}

bool
onnx_batchnorm_affine (const OshOpCall *c, int64_t ch, const float **scale, const float **shift)
{
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  const BatchNorm *bn = c->params;
  if (!op || op->run != onnx_batchnorm_run || !bn || !bn->constant || c->n_out != 1
      || c->out[0].dim[1] != ch)
    return false;
  *scale = bn->coef;
  *shift = bn->coef + ch;
  return true;
}

/* Channels-last, the per-channel coefficients repeat along each pixel. */
OshNhwcFit
onnx_batchnorm_channels_last (OshOpCall *c, bool commit)
{
  if (onnx_slot (c, 0).tensor != 0 || c->in[0].rank != 4)
    return OSH_NHWC_NO;
  if (commit)
    ((BatchNorm *) c->params)->nhwc = true;
  return OSH_NHWC_CAN;
}

void
onnx_batchnorm_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const BatchNorm *bn = c->params;
  const OshShape *x = &c->out[0];
  const float *mean = onnx_slot_data (c, in, 3), *var = onnx_slot_data (c, in, 4);
  int64_t ch = x->dim[1], plane = onnx_numel (x) / (x->dim[0] * ch);
  const float *coef = bn->coef;
  if (!bn->constant)
    {
      osh_batchnorm_coefficients (ch, onnx_slot_data (c, in, 1), onnx_slot_data (c, in, 2), mean,
                                  var, bn->eps, scratch, scratch + ch);
      coef = scratch;
    }
  OshAffineMap m = { .outer = x->dim[0],
                     .ch = ch,
                     .inner = plane,
                     .scale = coef,
                     .shift = coef + ch,
                     .lo = -INFINITY,
                     .hi = INFINITY };
  if (bn->nhwc)
    m.outer = x->dim[0] * plane, m.inner = 1;
  osh_affine_map_run (&m, onnx_slot_data (c, in, 0), out[0], c->threads);
  /* Inference mode: running statistics pass through unchanged. */
  for (int i = 1; i < c->n_out && i < 3; i++)
    memcpy (out[i], i == 1 ? mean : var, (size_t) ch * sizeof (float));
}

/* ---- Softmax, LogSoftmax ---- */

typedef struct
{
  int64_t outer, axis, inner; /* the data seen as [outer, axis, inner] */
  bool log;
} Softmax;

static bool
softmax_geometry (const OshOpCall *c, Softmax *s, OshError *err)
{
  if (!onnx_need (c, 0, false, "X", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  bool new_semantics = onnx_opset (c) >= 13;
  int axis;
  if (!onnx_axis (onnx_attr_int (c, "axis", new_semantics ? -1 : 1), x->rank, &axis, err))
    return false;
  s->outer = s->axis = s->inner = 1;
  for (int i = 0; i < x->rank; i++)
    {
      if (i < axis)
        s->outer *= x->dim[i];
      else if (i == axis || !new_semantics)
        s->axis *= x->dim[i]; /* before opset 13 everything from `axis` on is one row */
      else
        s->inner *= x->dim[i];
    }
  s->log = strcmp (c->layer->class_name, "LogSoftmax") == 0;
  return true;
}

bool
onnx_softmax_infer (OshOpCall *c, OshError *err)
{
  Softmax s;
  if (!softmax_geometry (c, &s, err))
    return false;
  c->out[0] = *onnx_slot (c, 0).shape;
  return true;
}

bool
onnx_softmax_prepare (OshOpCall *c, OshError *err)
{
  Softmax *s = malloc (sizeof *s);
  if (!s)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = s;
  c->flops = 4.0 * (double) onnx_numel (&c->out[0]);
  return softmax_geometry (c, s, err);
}

void
onnx_softmax_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Softmax *s = c->params;
  osh_softmax (onnx_slot_data (c, in, 0), out[0], s->outer, s->axis, s->inner, s->log);
}

/* ---- ReduceMean, ReduceSum, ReduceMax, ReduceMin ---- */

typedef struct
{
  bool reduce[OSH_MAX_RANK];
  int kind; /* 0 mean, 1 sum, 2 max, 3 min */
} Reduce;

static bool
reduce_geometry (const OshOpCall *c, Reduce *r, OshShape *out, OshError *err)
{
  if (!onnx_need (c, 0, false, "data", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  static const char *const kinds[] = { "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin" };
  r->kind = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp (c->layer->class_name, kinds[i]) == 0)
      r->kind = i;
  int64_t axes[OSH_MAX_RANK];
  int n = onnx_attr_ints (c, "axes", axes, OSH_MAX_RANK);
  OnnxSlot a = onnx_slot (c, 1);
  if (a.present)
    {
      if (!a.value)
        return onnx_need (c, 1, true, "axes", err);
      n = (int) onnx_numel (a.shape);
      if (n > OSH_MAX_RANK)
        return osh_fail (err, OSH_ERR_FORMAT, "too many axes");
      for (int i = 0; i < n; i++)
        axes[i] = (int64_t) a.value[i];
    }
  if (n < 0)
    return osh_fail (err, OSH_ERR_FORMAT, "axes is not a list of ints");
  bool noop = n == 0 && onnx_attr_int (c, "noop_with_empty_axes", 0);
  for (int i = 0; i < x->rank; i++)
    r->reduce[i] = n == 0 && !noop;
  for (int i = 0; i < n; i++)
    {
      int ax;
      if (!onnx_axis (axes[i], x->rank, &ax, err))
        return false;
      r->reduce[ax] = true;
    }
  bool keep = onnx_attr_int (c, "keepdims", 1) != 0;
  out->rank = 0;
  for (int i = 0; i < x->rank; i++)
    if (!r->reduce[i])
      out->dim[out->rank++] = x->dim[i];
    else if (keep)
      out->dim[out->rank++] = 1;
  return true;
}

bool
onnx_reduce_infer (OshOpCall *c, OshError *err)
{
  Reduce r;
  return reduce_geometry (c, &r, &c->out[0], err);
}

bool
onnx_reduce_prepare (OshOpCall *c, OshError *err)
{
  Reduce *r = malloc (sizeof *r);
  if (!r)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = r;
  OshShape unused;
  c->flops = (double) onnx_numel (onnx_slot (c, 0).shape);
  return reduce_geometry (c, r, &unused, err);
}

void
onnx_reduce_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Reduce *r = c->params;
  const OshShape *x = onnx_slot (c, 0).shape;
  const float *xd = onnx_slot_data (c, in, 0);
  /* Output strides over the input's axes (0 on reduced axes), then one pass over the input. */
  int64_t ostride[OSH_MAX_RANK], stride = 1, idx[OSH_MAX_RANK] = { 0 };
  for (int i = x->rank - 1; i >= 0; i--)
    {
      ostride[i] = r->reduce[i] ? 0 : stride;
      stride *= r->reduce[i] ? 1 : x->dim[i];
    }
  int64_t n_out = stride, n = onnx_numel (x), per = n_out ? n / n_out : 0;
  for (int64_t i = 0; i < n_out; i++)
    out[0][i] = r->kind == 2 ? -INFINITY : r->kind == 3 ? INFINITY : 0;
  for (int64_t i = 0; i < n; i++)
    {
      int64_t o = 0;
      for (int d = 0; d < x->rank; d++)
        o += idx[d] * ostride[d];
      float v = xd[i];
      out[0][o] = r->kind == 2   ? fmaxf (out[0][o], v)
                  : r->kind == 3 ? fminf (out[0][o], v)
                                 : out[0][o] + v;
      onnx_next_index (idx, x, x->rank);
    }
  if (r->kind == 0 && per > 0)
    for (int64_t i = 0; i < n_out; i++)
      out[0][i] /= (float) per;
}
