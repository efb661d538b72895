/* Comparisons, logic, Where and Mod with numpy broadcasting: one kernel for ONNX's ops and the
 * TF graph dialect's (onnx-index.h). Booleans are 0 and 1 in float32, as every tensor of the
 * engine; a CenterNet-style decoder compares a heatmap with its max-pooled self and selects
 * with the result. */
#include <math.h>
#include <string.h>

#include "onnx-index.h"

typedef struct
{
  OnnxLogicKind kind;
  int n_in;
  int64_t strides[3][OSH_MAX_RANK]; /* each input's, seen from the output (0: broadcast) */
} Logic;

int
onnx_logic_arity (OnnxLogicKind kind)
{
  return kind == ONNX_LOGIC_NOT ? 1 : kind == ONNX_LOGIC_WHERE ? 3 : 2;
}

bool
onnx_logic_setup (OshOpCall *c, OnnxLogicKind kind, bool params, OshError *err)
{
  int n = onnx_logic_arity (kind);
  if (onnx_n_slots (c) != n)
    return osh_fail (err, OSH_ERR_FORMAT, "%s reads %d inputs, not %d", c->layer->class_name, n,
                     onnx_n_slots (c));
  const OshShape *shapes[3];
  for (int i = 0; i < n; i++)
    {
      if (!onnx_need (c, i, false, "an operand", err))
        return false;
      shapes[i] = onnx_slot (c, i).shape;
    }
  if (!onnx_broadcast (shapes, n, &c->out[0], err))
    return false;
  if (!params)
    return true;
  Logic *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  p->kind = kind;
  p->n_in = n;
  for (int i = 0; i < n; i++)
    onnx_broadcast_strides (shapes[i], &c->out[0], p->strides[i]);
  return true;
}

static const struct
{
  const char *op;
  OnnxLogicKind kind;
} onnx_kinds[] = {
  { "Equal", ONNX_LOGIC_EQUAL },
  { "Greater", ONNX_LOGIC_GREATER },
  { "GreaterOrEqual", ONNX_LOGIC_GREATER_EQUAL },
  { "Less", ONNX_LOGIC_LESS },
  { "LessOrEqual", ONNX_LOGIC_LESS_EQUAL },
  { "And", ONNX_LOGIC_AND },
  { "Or", ONNX_LOGIC_OR },
  { "Xor", ONNX_LOGIC_XOR },
  { "Not", ONNX_LOGIC_NOT },
  { "Where", ONNX_LOGIC_WHERE },
};

static bool
onnx_logic_args (OshOpCall *c, bool params, OshError *err)
{
  const char *op = c->layer->class_name;
  if (!strcmp (op, "Mod"))
    return onnx_logic_setup (
        c, onnx_attr_int (c, "fmod", 0) ? ONNX_LOGIC_FMOD : ONNX_LOGIC_FLOOR_MOD, params, err);
  for (size_t i = 0; i < sizeof onnx_kinds / sizeof *onnx_kinds; i++)
    if (!strcmp (onnx_kinds[i].op, op))
      return onnx_logic_setup (c, onnx_kinds[i].kind, params, err);
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "no logic kernel for %s", op);
}

bool
onnx_logic_infer (OshOpCall *c, OshError *err)
{
  return onnx_logic_args (c, false, err);
}

bool
onnx_logic_prepare (OshOpCall *c, OshError *err)
{
  return onnx_logic_args (c, true, err);
}

static float
floor_mod (float a, float b)
{
  float r = fmodf (a, b); /* the remainder takes the divisor's sign */
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

void
onnx_logic_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Logic *p = c->params;
  const OshShape *o = &c->out[0];
  const float *x[3] = { 0 };
  for (int i = 0; i < p->n_in; i++)
    x[i] = onnx_slot_data (c, in, i);
  int64_t idx[OSH_MAX_RANK] = { 0 }, n = onnx_numel (o);
  for (int64_t k = 0; k < n; k++)
    {
      float v[3] = { 0 };
      for (int i = 0; i < p->n_in; i++)
        {
          int64_t off = 0;
          for (int d = 0; d < o->rank; d++)
            off += idx[d] * p->strides[i][d];
          v[i] = x[i][off];
        }
      float y = 0;
      switch (p->kind)
        {
        case ONNX_LOGIC_EQUAL: y = v[0] == v[1]; break;
        case ONNX_LOGIC_NOT_EQUAL: y = v[0] != v[1]; break;
        case ONNX_LOGIC_GREATER: y = v[0] > v[1]; break;
        case ONNX_LOGIC_GREATER_EQUAL: y = v[0] >= v[1]; break;
        case ONNX_LOGIC_LESS: y = v[0] < v[1]; break;
        case ONNX_LOGIC_LESS_EQUAL: y = v[0] <= v[1]; break;
        case ONNX_LOGIC_AND: y = v[0] != 0 && v[1] != 0; break;
        case ONNX_LOGIC_OR: y = v[0] != 0 || v[1] != 0; break;
        case ONNX_LOGIC_XOR: y = (v[0] != 0) != (v[1] != 0); break;
        case ONNX_LOGIC_NOT: y = v[0] == 0; break;
        case ONNX_LOGIC_WHERE: y = v[0] != 0 ? v[1] : v[2]; break;
        case ONNX_LOGIC_FLOOR_MOD: y = floor_mod (v[0], v[1]); break;
        case ONNX_LOGIC_FMOD: y = fmodf (v[0], v[1]); break;
        }
      out[0][k] = y;
      onnx_next_index (idx, o, o->rank);
    }
}
