/* TF's index ops on the ONNX kernels (engine/onnx/onnx-index.c): ArgMax, GatherNd, TopKV2 and
 * OneHot read TF's inputs and attributes here, and run as ONNX's ArgMax, GatherND, TopK and
 * OneHot do. */
#include "onnx-index.h"
#include "tfgraph-ops.h"
#include "tfgraph-shadow.h"

/* ---- ArgMax (x, axis): the index of the first largest value, the axis dropped ---- */

static bool
argmax (OshOpCall *c, bool params, OshError *err)
{
  const OshTensor *a = tf_const_input (c, 1, "the axis", err);
  if (!a || c->layer->n_slots != 2 || osh_tensor_numel (a) != 1)
    return a && osh_fail (err, OSH_ERR_FORMAT, "ArgMax reads one tensor and one axis");
  return onnx_argmax_setup (c, (int64_t) a->data[0], false, false, params, err);
}

bool
tf_argmax_infer (OshOpCall *c, OshError *err)
{
  return argmax (c, false, err);
}

bool
tf_argmax_prepare (OshOpCall *c, OshError *err)
{
  return argmax (c, true, err);
}

/* ---- GatherNd (params, indices): GatherND with no batch axes ---- */

bool
tf_gather_nd_infer (OshOpCall *c, OshError *err)
{
  if (c->layer->n_slots != 2)
    return osh_fail (err, OSH_ERR_FORMAT, "GatherNd reads params and indices");
  return onnx_gather_nd_setup (c, 0, false, err);
}

bool
tf_gather_nd_prepare (OshOpCall *c, OshError *err)
{
  return tf_gather_nd_infer (c, err) && onnx_gather_nd_setup (c, 0, true, err);
}

/* ---- TopKV2 (x, k): the k largest along the last axis, and their indices ---- */

static bool
topk (OshOpCall *c, bool params, OshError *err)
{
  const OshTensor *t = tf_const_input (c, 1, "k", err);
  if (!t || osh_tensor_numel (t) != 1)
    return t && osh_fail (err, OSH_ERR_FORMAT, "TopKV2 reads a tensor and one k");
  return onnx_topk_setup (c, -1, (int64_t) t->data[0], true,
                          osh_config_bool (c->layer->config, "sorted", true), params, err);
}

bool
tf_topk_infer (OshOpCall *c, OshError *err)
{
  return topk (c, false, err);
}

bool
tf_topk_prepare (OshOpCall *c, OshError *err)
{
  return topk (c, true, err);
}

/* ---- OneHot (indices, depth, on_value, off_value) ---- */

static bool
onehot (OshOpCall *c, bool params, OshError *err)
{
  const OshTensor *d = tf_const_input (c, 1, "the depth", err);
  if (!d || c->layer->n_slots != 4 || osh_tensor_numel (d) != 1)
    return d && osh_fail (err, OSH_ERR_FORMAT, "OneHot reads indices, depth, on and off values");
  /* TF's negative indices are all off, where ONNX counts them from the end */
  OnnxOneHotValues v = { .on_slot = 2, .off_slot = 3, .negative_off = true };
  return onnx_onehot_setup (c, osh_config_int (c->layer->config, "axis", -1), (int64_t) d->data[0],
                            &v, params, err);
}

bool
tf_onehot_infer (OshOpCall *c, OshError *err)
{
  return onehot (c, false, err);
}

bool
tf_onehot_prepare (OshOpCall *c, OshError *err)
{
  return onehot (c, true, err);
}
