/* ONNX ops that make a tensor from sizes alone: ConstantOfShape and Range. PyTorch exports
 * build masks and index vectors with them from a Shape; both need their size inputs as constants,
 * which they are once osh_graph_specialize has fixed the input sizes and folded the Shape. */
#include "onnx-op-util.h"

/* ---- ConstantOfShape: one value (the `value` attribute, 0 by default) in the given shape ---- */

bool
onnx_fill_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, true, "shape", err))
    return false;
  OnnxSlot s = onnx_slot (c, 0);
  int64_t rank = onnx_numel (s.shape);
  if (s.shape->rank > 1 || rank > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_LIMIT, "the shape input has %lld sizes (at most %d)",
                     (long long) rank, OSH_MAX_RANK);
  c->out[0].rank = (int) rank;
  for (int d = 0; d < rank; d++)
    {
      if (s.value[d] < 0 || s.value[d] > OSH_MAX_DIM)
        return osh_fail (err, OSH_ERR_FORMAT, "size %d of the shape input is %g", d,
                         (double) s.value[d]);
      c->out[0].dim[d] = (int64_t) s.value[d];
    }
  return true;
}

bool
onnx_fill_prepare (OshOpCall *c, OshError *err)
{
  float *value = osh_op_params (c, sizeof *value, err);
  if (!value)
    return false;
  json_t *data = json_object_get (json_object_get (c->layer->config, "value"), "data");
  *value = json_is_array (data) && json_array_size (data) == 1
               ? (float) json_number_value (json_array_get (data, 0))
               : 0.0f;
  return true;
}

void
onnx_fill_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) in;
  (void) scratch;
  float value = *(const float *) c->params;
  for (int64_t i = 0, n = onnx_numel (&c->out[0]); i < n; i++)
    out[0][i] = value;
}

/* ---- Range: start, start + delta, ... up to (not including) limit ---- */

bool
onnx_range_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, true, "start", err) || !onnx_need (c, 1, true, "limit", err)
      || !onnx_need (c, 2, true, "delta", err))
    return false;
  double start = onnx_slot (c, 0).value[0], limit = onnx_slot (c, 1).value[0],
         delta = onnx_slot (c, 2).value[0];
  if (delta == 0)
    return osh_fail (err, OSH_ERR_FORMAT, "delta is 0");
  double n = ceil ((limit - start) / delta);
  if (n > OSH_MAX_DIM)
    return osh_fail (err, OSH_ERR_LIMIT, "the range has %g values", n);
  c->out[0] = osh_shape_make (1, (int64_t[]){ n > 0 ? (int64_t) n : 0 });
  return true;
}

bool
onnx_range_prepare (OshOpCall *c, OshError *err)
{
  (void) c;
  (void) err;
  return true;
}

void
onnx_range_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) in;
  (void) scratch;
  float start = onnx_slot (c, 0).value[0], delta = onnx_slot (c, 2).value[0];
  for (int64_t i = 0; i < c->out[0].dim[0]; i++)
    out[0][i] = start + (float) i * delta;
}
