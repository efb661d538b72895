/* Slots, attributes, axes and broadcasting for the ONNX ops. */
#include "onnx-op-util.h"

#include <string.h>

int
onnx_n_slots (const OshOpCall *c)
{
  return c->layer->n_slots;
}

OnnxSlot
onnx_slot (const OshOpCall *c, int i)
{
  const OshLayer *l = c->layer;
  if (i < 0 || i >= l->n_slots)
    return (OnnxSlot){ .tensor = -1 };
  OshSlot s = l->slots[i];
  if (s.kind == OSH_SLOT_ACTIVATION && s.index < c->n_in)
    return (OnnxSlot){ true, &c->in[s.index], NULL, s.index };
  if (s.kind == OSH_SLOT_WEIGHT && s.index < l->n_weights)
    return (OnnxSlot){ true, &l->weights[s.index].value->shape, l->weights[s.index].value->data,
                       -1 };
  return (OnnxSlot){ .tensor = -1 };
}

const float *
onnx_slot_data (const OshOpCall *c, const float *const *in, int i)
{
  OnnxSlot s = onnx_slot (c, i);
  if (!s.present)
    return NULL;
  return s.tensor >= 0 ? in[s.tensor] : s.value;
}

bool
onnx_need (const OshOpCall *c, int i, bool constant, const char *what, OshError *err)
{
  OnnxSlot s = onnx_slot (c, i);
  if (!s.present)
    return osh_fail (err, OSH_ERR_FORMAT, "input %d (%s) is missing", i, what);
  if (constant && !s.value)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "input %d (%s) is computed at run time; Offshoot needs it as a constant "
                     "(an initializer) because it decides the output shape",
                     i, what);
  return true;
}

int64_t
onnx_attr_int (const OshOpCall *c, const char *key, int64_t fallback)
{
  return osh_config_int (c->layer->config, key, fallback);
}

float
onnx_attr_float (const OshOpCall *c, const char *key, float fallback)
{
  return (float) osh_config_double (c->layer->config, key, fallback);
}

const char *
onnx_attr_str (const OshOpCall *c, const char *key, const char *fallback)
{
  return osh_config_string (c->layer->config, key, fallback);
}

int
onnx_attr_ints (const OshOpCall *c, const char *key, int64_t *out, int max)
{
  json_t *v = json_object_get (c->layer->config, key);
  if (!v)
    return 0;
  if (!json_is_array (v) || (int) json_array_size (v) > max)
    return -1;
  int n = (int) json_array_size (v);
  for (int i = 0; i < n; i++)
    {
      json_t *e = json_array_get (v, (size_t) i);
      if (!json_is_integer (e))
        return -1;
      out[i] = json_integer_value (e);
    }
  return n;
}

OshPadMode
onnx_auto_pad (const OshOpCall *c, int64_t pads[4])
{
  const char *ap = onnx_attr_str (c, "auto_pad", "NOTSET");
  if (strcmp (ap, "SAME_UPPER") == 0)
    return OSH_PAD_SAME_UPPER;
  if (strcmp (ap, "SAME_LOWER") == 0)
    return OSH_PAD_SAME_LOWER;
  if (strcmp (ap, "VALID") == 0)
    memset (pads, 0, 4 * sizeof *pads);
  return OSH_PAD_EXPLICIT;
}

int
onnx_opset (const OshOpCall *c)
{
  return c->graph ? (int) osh_config_int (c->graph->meta, "onnx_opset", 13) : 13;
}

bool
onnx_axis (int64_t axis, int rank, int *out, OshError *err)
{
  if (axis < -rank || axis >= (rank ? rank : 1))
    return osh_fail (err, OSH_ERR_FORMAT, "axis %lld is out of range for rank %d", (long long) axis,
                     rank);
  *out = (int) (axis < 0 ? axis + rank : axis);
  return true;
}

bool
onnx_broadcast (const OshShape *const *shapes, int n, OshShape *out, OshError *err)
{
  int rank = 0;
  for (int i = 0; i < n; i++)
    rank = shapes[i]->rank > rank ? shapes[i]->rank : rank;
  out->rank = rank;
  for (int d = 0; d < rank; d++)
    {
      int64_t size = 1;
      for (int i = 0; i < n; i++)
        {
          int k = d - (rank - shapes[i]->rank);
          int64_t s = k >= 0 ? shapes[i]->dim[k] : 1;
          /* An open size (-1) broadcasts like Keras's None: against 1 it stays open, against a
           * size it is that size (the run checks it). */
          if (s == 1 || (s < 0 && size != 1))
            continue;
          if (size != 1 && size >= 0 && s != size)
            {
              char a[96], b[96];
              osh_shape_format (shapes[0], a, sizeof a);
              osh_shape_format (shapes[i], b, sizeof b);
              return osh_fail (err, OSH_ERR_SHAPE, "shapes %s and %s do not broadcast", a, b);
            }
          size = s;
        }
      out->dim[d] = size;
    }
  return true;
}

void
onnx_broadcast_strides (const OshShape *s, const OshShape *to, int64_t *strides)
{
  int64_t stride = 1;
  for (int d = to->rank - 1; d >= 0; d--)
    {
      int k = d - (to->rank - s->rank);
      int64_t size = k >= 0 ? s->dim[k] : 1;
      strides[d] = size == 1 ? 0 : stride;
      stride *= size;
    }
}

int64_t
onnx_numel (const OshShape *s)
{
  return onnx_numel_range (s, 0, s->rank);
}

int64_t
onnx_numel_range (const OshShape *s, int from, int to)
{
  int64_t n = 1;
  for (int i = from; i < to; i++)
    {
      if (s->dim[i] < 0)
        return -1;
      n *= s->dim[i];
    }
  return n;
}

void
onnx_strides (const OshShape *s, int64_t *strides)
{
  int64_t st = 1;
  for (int d = s->rank - 1; d >= 0; d--)
    {
      strides[d] = st;
      st *= s->dim[d];
    }
}

void
onnx_next_index (int64_t *idx, const OshShape *s, int axes)
{
  for (int d = axes - 1; d >= 0; d--)
    {
      if (++idx[d] < s->dim[d])
        return;
      idx[d] = 0;
    }
}

void
onnx_valid_range (int64_t n_out, int64_t stride, int64_t offset, int64_t size, int64_t *lo,
                  int64_t *hi)
{
  /* ix = ox*stride + offset must satisfy 0 <= ix < size. */
  int64_t a = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t b = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
  *lo = a < n_out ? a : n_out;
  *hi = b < n_out ? (b > *lo ? b : *lo) : n_out;
}

OshShape
onnx_nhwc_shape (const OshShape *s)
{
  OshShape p = { .rank = 4, .dim = { 1, 1, 1, 1 } };
  for (int d = 0; d < s->rank && d < 4; d++)
    p.dim[4 - s->rank + d] = s->dim[d];
  return (OshShape){ .rank = 4, .dim = { p.dim[0], p.dim[2], p.dim[3], p.dim[1] } };
}

bool
onnx_slot_nhwc_ready (const OshOpCall *c, int i)
{
  OnnxSlot s = onnx_slot (c, i);
  if (!s.present)
    return true;
  if (s.tensor >= 0 && s.shape->rank == 4)
    return true;
  if (s.shape->rank > 4)
    return false;
  OshShape v = onnx_nhwc_shape (s.shape);
  return v.dim[3] == 1 || v.dim[1] * v.dim[2] == 1;
}

bool
onnx_clamp_of (const OshOpCall *next, float *lo, float *hi)
{
  const char *cls = next->layer->class_name;
  if (strcmp (cls, "Relu") == 0)
    {
      *lo = 0.0f, *hi = INFINITY;
      return true;
    }
  if (strcmp (cls, "Clip") != 0)
    return false;
  *lo = -INFINITY, *hi = INFINITY;
  if (onnx_opset (next) < 11)
    {
      *lo = onnx_attr_float (next, "min", -INFINITY);
      *hi = onnx_attr_float (next, "max", INFINITY);
      return true;
    }
  for (int i = 1; i <= 2; i++)
    {
      OnnxSlot b = onnx_slot (next, i);
      if (b.present && !b.value)
        return false; /* a bound computed at run time */
      if (b.present)
        *(i == 1 ? lo : hi) = b.value[0];
    }
  return true;
}

bool
onnx_affine_of (const OshOpCall *next, int64_t channels, float *scale, float *shift)
{
  static const char *const kinds[] = { "Add", "Sub", "Mul", "Div" };
  int kind = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp (next->layer->class_name, kinds[i]) == 0)
      kind = i;
  if (kind < 0 || onnx_n_slots (next) != 2 || next->n_in != 1 || next->n_out != 1)
    return false;
  if (osh_config_bool (next->layer->config, OSH_ONNX_INTEGER_DIVISION, false))
    return false; /* truncates: not a product */
  OnnxSlot x = onnx_slot (next, 0), k = onnx_slot (next, 1);
  if (kind == 0 || kind == 2) /* Add and Mul commute: the constant may come first */
    if (x.value && !k.value && k.present)
      {
        OnnxSlot t = x;
        x = k, k = t;
      }
  if (!x.present || x.value || !k.value || !osh_shape_equal (x.shape, &next->out[0]))
    return false;
  /* One value, or one per channel: (C, 1, ..., 1) aligned on axis 1 of x. */
  int64_t n = onnx_numel (k.shape);
  bool per_channel = n == channels && channels > 1 && x.shape->rank >= 2
                     && x.shape->dim[1] == channels && k.shape->rank <= x.shape->rank;
  for (int d = 0; per_channel && d < k.shape->rank; d++)
    {
      int axis = x.shape->rank - k.shape->rank + d;
      per_channel = k.shape->dim[d] == (axis == 1 ? channels : 1);
    }
  if (n != 1 && !per_channel)
    return false;
  for (int64_t ch = 0; ch < channels; ch++)
    {
      float v = k.value[n == 1 ? 0 : ch];
      scale[ch] = kind == 2 ? v : kind == 3 ? 1.0f / v : 1.0f;
      shift[ch] = kind == 0 ? v : kind == 1 ? -v : 0.0f;
    }
  return true;
}
