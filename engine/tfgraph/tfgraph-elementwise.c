/* TF element-wise ops ONNX's table has no node for (so no shadow can run them): comparisons,
 * logic, FloorMod and Select with numpy broadcasting; ZerosLike, OnesLike and Fill, one value
 * everywhere. Booleans are 0 and 1 in float32, as every tensor of the engine; centernet-style
 * decoders compare a heatmap with its max-pooled self and select with the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"
#include "tfgraph-ops.h"
#include "tfgraph-shadow.h"

typedef enum
{
  EW_EQUAL,
  EW_NOT_EQUAL,
  EW_GREATER,
  EW_GREATER_EQUAL,
  EW_LESS,
  EW_LESS_EQUAL,
  EW_AND,
  EW_OR,
  EW_NOT,
  EW_FLOOR_MOD,
  EW_SELECT, /* Select and SelectV2: (condition, then, else) */
  EW_ZEROS,
  EW_ONES,
} EwKind;

static const struct
{
  const char *op;
  EwKind kind;
  int n_in;
} kinds[] = {
  { "Equal", EW_EQUAL, 2 },     { "NotEqual", EW_NOT_EQUAL, 2 },
  { "Greater", EW_GREATER, 2 }, { "GreaterEqual", EW_GREATER_EQUAL, 2 },
  { "Less", EW_LESS, 2 },       { "LessEqual", EW_LESS_EQUAL, 2 },
  { "LogicalAnd", EW_AND, 2 },  { "LogicalOr", EW_OR, 2 },
  { "LogicalNot", EW_NOT, 1 },  { "FloorMod", EW_FLOOR_MOD, 2 },
  { "Select", EW_SELECT, 3 },   { "SelectV2", EW_SELECT, 3 },
  { "ZerosLike", EW_ZEROS, 1 }, { "OnesLike", EW_ONES, 1 },
};

typedef struct
{
  EwKind kind;
  int n_in;
  int64_t strides[3][OSH_MAX_RANK]; /* each input's, seen from the output (0: broadcast) */
} Ew;

/* The op's kind and its inputs' shapes. Select broadcasts as SelectV2 does (tfjs's rule too: TF's
 * rank-1 condition picking whole rows of a larger tensor is refused, with a sentence saying tfjs
 * refuses it too). */
static bool
ew_shapes (const OshOpCall *c, Ew *e, OshShape *shapes, OshError *err)
{
  const char *op = c->layer->class_name;
  e->n_in = 0;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (strcmp (kinds[i].op, op) == 0)
      {
        e->kind = kinds[i].kind;
        e->n_in = kinds[i].n_in;
      }
  if (!e->n_in)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "TF op %s has no kernel in Offshoot", op);
  if (c->layer->n_slots != e->n_in)
    return osh_fail (err, OSH_ERR_FORMAT, "%s reads %d inputs, not %d", op, e->n_in,
                     c->layer->n_slots);
  for (int i = 0; i < e->n_in; i++)
    {
      const OshShape *s = tf_slot_shape (c, i);
      if (!s)
        return osh_fail (err, OSH_ERR_FORMAT, "input %d of %s is missing", i, op);
      shapes[i] = *s;
    }
  return true;
}

bool
tf_ew_infer (OshOpCall *c, OshError *err)
{
  Ew e;
  OshShape shapes[3];
  if (!ew_shapes (c, &e, shapes, err))
    return false;
  const OshShape *all[3] = { &shapes[0], &shapes[1], &shapes[2] };
  OshError why = { 0 };
  if (onnx_broadcast (all, e.n_in, &c->out[0], &why))
    return true;
  if (e.kind == EW_SELECT && shapes[0].rank == 1 && shapes[1].rank > 1)
    {
      char cond[64], values[64];
      osh_shape_format (&shapes[0], cond, sizeof cond);
      osh_shape_format (&shapes[1], values, sizeof values);
      return osh_fail (err, OSH_ERR_UNSUPPORTED,
                       "its condition %s is rank 1 and its values %s are not: TensorFlow "
                       "would pick whole rows with it, but tfjs refuses such a Select (its "
                       "where() broadcasts the condition as numpy does, and %s does not "
                       "broadcast to %s); Offshoot runs graph models as tfjs does, so it "
                       "refuses it too",
                       cond, values, cond, values);
    }
  return osh_fail (err, why.code, "%s", why.message);
}

bool
tf_ew_prepare (OshOpCall *c, OshError *err)
{
  OshShape shapes[3];
  Ew *e = osh_op_params (c, sizeof *e, err);
  if (!e || !ew_shapes (c, e, shapes, err) || !tf_ew_infer (c, err))
    return false;
  for (int i = 0; i < e->n_in; i++)
    onnx_broadcast_strides (&shapes[i], &c->out[0], e->strides[i]);
  return true;
}

static float
floor_mod (float a, float b)
{
  float r = fmodf (a, b); /* TF's: the remainder takes the divisor's sign */
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

void
tf_ew_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Ew *e = c->params;
  const OshShape *o = &c->out[0];
  const float *x[3] = { 0 };
  for (int i = 0; i < e->n_in; i++)
    x[i] = tf_slot_data (c, in, i);
  int64_t idx[OSH_MAX_RANK] = { 0 }, n = onnx_numel (o);
  for (int64_t k = 0; k < n; k++)
    {
      float v[3] = { 0 };
      for (int i = 0; i < e->n_in; i++)
        {
          int64_t off = 0;
          for (int d = 0; d < o->rank; d++)
            off += idx[d] * e->strides[i][d];
          v[i] = x[i][off];
        }
      float y = 0;
      switch (e->kind)
        {
        case EW_EQUAL: y = v[0] == v[1]; break;
        case EW_NOT_EQUAL: y = v[0] != v[1]; break;
        case EW_GREATER: y = v[0] > v[1]; break;
        case EW_GREATER_EQUAL: y = v[0] >= v[1]; break;
        case EW_LESS: y = v[0] < v[1]; break;
        case EW_LESS_EQUAL: y = v[0] <= v[1]; break;
        case EW_AND: y = v[0] != 0 && v[1] != 0; break;
        case EW_OR: y = v[0] != 0 || v[1] != 0; break;
        case EW_NOT: y = v[0] == 0; break;
        case EW_FLOOR_MOD: y = floor_mod (v[0], v[1]); break;
        case EW_SELECT: y = v[0] != 0 ? v[1] : v[2]; break;
        case EW_ZEROS: y = 0; break;
        case EW_ONES: y = 1; break;
        }
      out[0][k] = y;
      onnx_next_index (idx, o, o->rank);
    }
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
