/* TF element-wise ops with no ONNX node of the same name: comparisons, logic, FloorMod and Select
 * run on ONNX's broadcasting logic kernel (engine/onnx/onnx-logic.c), read here as TF names them;
 * ZerosLike, OnesLike and Fill, one value everywhere, are kernels of their own. */
#include <string.h>

#include "onnx-index.h"
#include "tfgraph-ops.h"
#include "tfgraph-shadow.h"

static const struct
{
  const char *op;
  OnnxLogicKind kind;
} kinds[] = {
  { "Equal", ONNX_LOGIC_EQUAL },     { "NotEqual", ONNX_LOGIC_NOT_EQUAL },
  { "Greater", ONNX_LOGIC_GREATER }, { "GreaterEqual", ONNX_LOGIC_GREATER_EQUAL },
  { "Less", ONNX_LOGIC_LESS },       { "LessEqual", ONNX_LOGIC_LESS_EQUAL },
  { "LogicalAnd", ONNX_LOGIC_AND },  { "LogicalOr", ONNX_LOGIC_OR },
  { "LogicalNot", ONNX_LOGIC_NOT },  { "FloorMod", ONNX_LOGIC_FLOOR_MOD },
  { "Select", ONNX_LOGIC_WHERE }, /* broadcasting as SelectV2 (see below) */
  { "SelectV2", ONNX_LOGIC_WHERE },
};

/* Select broadcasts as SelectV2 does (tfjs's rule too): TF's rank-1 condition picking whole rows
 * of a larger tensor is refused, with a sentence saying tfjs refuses it too. */
static bool
logic (OshOpCall *c, bool params, OshError *err)
{
  const char *op = c->layer->class_name;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    {
      if (strcmp (kinds[i].op, op))
        continue;
      OshError why = { 0 };
      if (onnx_logic_setup (c, kinds[i].kind, params, &why))
        return true;
      const OshShape *cond = tf_slot_shape (c, 0), *values = tf_slot_shape (c, 1);
      if (kinds[i].kind != ONNX_LOGIC_WHERE || !cond || !values || cond->rank != 1
          || values->rank <= 1 || why.code != OSH_ERR_SHAPE)
        return osh_fail (err, why.code, "%s", why.message);
      char a[64], b[64];
      osh_shape_format (cond, a, sizeof a);
      osh_shape_format (values, b, sizeof b);
      return osh_fail (err, OSH_ERR_UNSUPPORTED,
                       "its condition %s is rank 1 and its values %s are not: TensorFlow "
                       "would pick whole rows with it, but tfjs refuses such a Select (its "
                       "where() broadcasts the condition as numpy does, and %s does not "
                       "broadcast to %s); Offshoot runs graph models as tfjs does, so it "
                       "refuses it too",
                       a, b, a, b);
    }
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "TF op %s has no kernel in Offshoot", op);
}

bool
tf_ew_infer (OshOpCall *c, OshError *err)
{
  return logic (c, false, err);
}

bool
tf_ew_prepare (OshOpCall *c, OshError *err)
{
  return logic (c, true, err);
}

/* ---- ZerosLike, OnesLike (x): 0 or 1 in x's shape ---- */

bool
tf_like_infer (OshOpCall *c, OshError *err)
{
  const OshShape *x = tf_slot_shape (c, 0);
  if (!x || c->layer->n_slots != 1)
    return osh_fail (err, OSH_ERR_FORMAT, "%s reads one tensor", c->layer->class_name);
  c->out[0] = *x;
  return true;
}

bool
tf_like_prepare (OshOpCall *c, OshError *err)
{
  return tf_like_infer (c, err);
}

void
tf_like_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) in;
  (void) scratch;
  float value = c->layer->class_name[0] == 'O' ? 1.0f : 0.0f;
  for (int64_t i = 0, n = osh_shape_numel (&c->out[0]); i < n; i++)
    out[0][i] = value;
}

/* ---- Fill (dims, value): the value in the shape the constant dims give ---- */

bool
tf_fill_infer (OshOpCall *c, OshError *err)
{
  const OshTensor *dims = tf_const_input (c, 0, "the dims", err);
  const OshShape *value = dims ? tf_slot_shape (c, 1) : NULL;
  if (!value)
    return dims && osh_fail (err, OSH_ERR_FORMAT, "Fill has no value input");
  int64_t rank = osh_tensor_numel (dims);
  if (dims->shape.rank > 1 || rank > OSH_MAX_RANK || osh_shape_numel (value) != 1)
    return osh_fail (err, OSH_ERR_FORMAT, "Fill of %lld sizes (at most %d) with %lld values",
                     (long long) rank, OSH_MAX_RANK, (long long) osh_shape_numel (value));
  c->out[0].rank = (int) rank;
  for (int d = 0; d < rank; d++)
    {
      if (dims->data[d] < 0 || dims->data[d] > OSH_MAX_DIM)
        return osh_fail (err, OSH_ERR_FORMAT, "size %d of Fill's dims is %g", d,
                         (double) dims->data[d]);
      c->out[0].dim[d] = (int64_t) dims->data[d];
    }
  return true;
}

bool
tf_fill_prepare (OshOpCall *c, OshError *err)
{
  return tf_fill_infer (c, err);
}

void
tf_fill_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  float value = tf_slot_data (c, in, 1)[0];
  for (int64_t i = 0, n = osh_shape_numel (&c->out[0]); i < n; i++)
    out[0][i] = value;
}
