/* ONNX Pad, Resize / Upsample (nearest and linear over the last two axes), Expand and Tile. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"

/* Constant values of slot `slot` as ints/floats (NULL/0 when absent). */
static int
const_values (const OshOpCall *c, int slot, const float **values, OshError *err)
{
  OnnxSlot s = onnx_slot (c, slot);
  *values = NULL;
  if (!s.present || onnx_numel (s.shape) == 0)
    return 0;
  if (!s.value)
    return onnx_need (c, slot, true, "a shape parameter", err) ? 0 : -1;
  *values = s.value;
  return (int) onnx_numel (s.shape);
}

/* ---- Pad ---- */

typedef struct
{
  int64_t begin[OSH_MAX_RANK];
  int mode; /* 0 constant, 1 reflect, 2 edge, 3 symmetric (TF's MirrorPad only: not an ONNX mode) */
  float value;      /* the constant (the `value` attribute before opset 11) */
  bool value_input; /* opset 11 on: the constant_value input, when present, instead */
} Pad;

static bool
pad_geometry (const OshOpCall *c, Pad *p, OshShape *out, OshError *err)
{
  if (!onnx_need (c, 0, false, "data", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  int64_t pads[2 * OSH_MAX_RANK];
  int n;
  if (onnx_opset (c) >= 11)
    {
      const float *v;
      n = const_values (c, 1, &v, err);
      if (n < 0)
        return false;
      for (int i = 0; i < n && i < 2 * OSH_MAX_RANK; i++)
        pads[i] = (int64_t) v[i];
    }
  else
    n = onnx_attr_ints (c, "pads", pads, 2 * OSH_MAX_RANK);
  if (n != 2 * x->rank)
    return osh_fail (err, OSH_ERR_FORMAT, "pads has %d values for rank %d", n, x->rank);
  const char *mode = onnx_attr_str (c, "mode", "constant");
  p->mode = strcmp (mode, "reflect") == 0     ? 1
            : strcmp (mode, "edge") == 0      ? 2
            : strcmp (mode, "symmetric") == 0 ? 3
                                              : 0;
  if ((p->mode == 0 && strcmp (mode, "constant") != 0)
      || (p->mode == 3 && c->graph && osh_dialect_of (c->graph) == &osh_onnx_dialect))
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "Pad mode \"%s\"", mode);
  *out = *x;
  for (int d = 0; d < x->rank; d++)
    {
      p->begin[d] = pads[d];
      out->dim[d] = x->dim[d] < 0 ? -1 : x->dim[d] + pads[d] + pads[d + x->rank];
      if (x->dim[d] < 0) /* an open size: the run checks the pads fit */
        continue;
      int64_t most = p->mode == 1 ? x->dim[d] - 1 : p->mode == 3 ? x->dim[d] : -1;
      if (out->dim[d] < 0 || (most >= 0 && (pads[d] > most || pads[d + x->rank] > most)))
        return osh_fail (err, OSH_ERR_SHAPE, "pads do not fit axis %d of size %lld", d,
                         (long long) x->dim[d]);
    }
  return true;
}

bool
onnx_pad_infer (OshOpCall *c, OshError *err)
{
  Pad p;
  return pad_geometry (c, &p, &c->out[0], err);
}

bool
onnx_pad_prepare (OshOpCall *c, OshError *err)
{
  Pad *p = malloc (sizeof *p);
  if (!p)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = p;
  p->value = onnx_attr_float (c, "value", 0.0f);
  p->value_input = onnx_opset (c) >= 11;
  OshShape o;
  return pad_geometry (c, p, &o, err);
}

bool
onnx_zero_pad_leading (const OshOpCall *c, int64_t *top, int64_t *left)
{
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  const Pad *p = c->params;
  if (!op || op->run != onnx_pad_run || !p || p->mode != 0 || c->in[0].rank != 4
      || c->out[0].rank != 4)
    return false;
  OnnxSlot v = onnx_slot (c, 2);
  float value = p->value_input && v.present ? (v.value ? v.value[0] : NAN) : p->value;
  if (value != 0.0f)
    return false;
  for (int d = 0; d < 4; d++)
    {
      int64_t end = c->out[0].dim[d] - c->in[0].dim[d] - p->begin[d];
      if (p->begin[d] < 0 || end < 0 || c->in[0].dim[d] < 0 || (d < 2 && (p->begin[d] || end)))
        return false; /* a crop, an open size, or padding of the batch or the channels */
    }
  *top = p->begin[2], *left = p->begin[3];
  return true;
}

void
onnx_pad_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Pad *p = c->params;
  const OshShape *x = onnx_slot (c, 0).shape, *o = &c->out[0];
  const float *src = onnx_slot_data (c, in, 0);
  float value = p->value;
  const float *cv = p->value_input ? onnx_slot_data (c, in, 2) : NULL;
  if (cv)
    value = cv[0];
  int64_t xs[OSH_MAX_RANK], idx[OSH_MAX_RANK] = { 0 };
  onnx_strides (x, xs);
  if (p->mode == 0 && o->rank > 0)
    {
      /* Constant padding a row at a time: a row outside the input is the value, one inside is
       * the value around a copy of the input's row (EfficientNet's exported pads: 10 → 1 ms). */
      int last = o->rank - 1;
      int64_t ow = o->dim[last], lead = p->begin[last];
      int64_t j0 = lead > 0 ? lead : 0, j1 = lead + x->dim[last] < ow ? lead + x->dim[last] : ow;
      int64_t rows = ow > 0 ? onnx_numel (o) / ow : 0;
      for (int64_t r = 0; r < rows; r++, onnx_next_index (idx, o, last))
        {
          float *dst = out[0] + r * ow;
          int64_t off = 0;
          bool outside = j1 <= j0;
          for (int d = 0; d < last && !outside; d++)
            {
              int64_t k = idx[d] - p->begin[d];
              outside = k < 0 || k >= x->dim[d];
              off += k * xs[d];
            }
          int64_t a = outside ? ow : j0, b = outside ? ow : j1;
          for (int64_t j = 0; j < a; j++)
            dst[j] = value;
          if (!outside)
            memcpy (dst + j0, src + off + (j0 - lead), (size_t) (j1 - j0) * sizeof *dst);
          for (int64_t j = b; j < ow; j++)
            dst[j] = value;
        }
      return;
    }
  int64_t n = onnx_numel (o);
  for (int64_t i = 0; i < n; i++)
    {
      int64_t off = 0;
      bool outside = false;
      for (int d = 0; d < o->rank; d++)
        {
          int64_t k = idx[d] - p->begin[d], len = x->dim[d];
          if (k < 0 || k >= len)
            {
              if (p->mode == 0 || len == 0)
                outside = true;
              else if (p->mode == 1)
                k = k < 0 ? -k : 2 * (len - 1) - k;
              else if (p->mode == 3) /* the edge repeated: -1 reads 0 */
                k = k < 0 ? -k - 1 : 2 * len - 1 - k;
              else
                k = k < 0 ? 0 : len - 1;
            }
          off += k * xs[d];
        }
      out[0][i] = outside ? value : src[off];
      onnx_next_index (idx, o, o->rank);
    }
}

/* ---- Resize, Upsample ---- */

typedef struct
{
  float scale[OSH_MAX_RANK];
  bool linear;
  int coord; /* 0 half_pixel, 1 asymmetric, 2 align_corners, 3 pytorch_half_pixel, 4 tf_half_pixel_for_nn */
  int nearest;        /* 0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil */
  bool nhwc;          /* switched to channels-last: each output pixel blends whole channel rows */
  OshResizeTaps taps; /* the last two axes' source rows and columns (prepare) */
} Resize;

static bool
resize_geometry (const OshOpCall *c, Resize *r, OshShape *out, OshError *err)
{
  if (!onnx_need (c, 0, false, "X", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  bool upsample = strcmp (c->layer->class_name, "Upsample") == 0;
  int opset = onnx_opset (c);
  const float *scales = NULL, *sizes = NULL;
  int ns = 0, nz = 0;
  float attr_scales[OSH_MAX_RANK];
  json_t *sa = json_object_get (c->layer->config, "scales");
  if (json_is_array (sa))
    {
      ns = (int) json_array_size (sa);
      for (int i = 0; i < ns && i < OSH_MAX_RANK; i++)
        attr_scales[i] = (float) json_number_value (json_array_get (sa, (size_t) i));
      scales = attr_scales;
    }
  else if (upsample || opset == 10)
    ns = const_values (c, 1, &scales, err);
  else
    {
      ns = const_values (c, 2, &scales, err);
      nz = ns >= 0 ? const_values (c, 3, &sizes, err) : 0;
    }
  if (ns < 0 || nz < 0)
    return false;
  if (nz == 0 && ns != x->rank)
    return osh_fail (err, OSH_ERR_FORMAT, "%d scales for rank %d", ns, x->rank);
  if (nz && nz != x->rank)
    return osh_fail (err, OSH_ERR_FORMAT, "%d sizes for rank %d", nz, x->rank);
  *out = *x;
  for (int d = 0; d < x->rank; d++)
    {
      out->dim[d] = nz ? (int64_t) sizes[d] : (int64_t) floorf ((float) x->dim[d] * scales[d]);
      r->scale[d] = nz ? (x->dim[d] ? (float) out->dim[d] / (float) x->dim[d] : 1.0f) : scales[d];
      if (x->dim[d] < 0 && (!nz || d < x->rank - 2))
        {
          out->dim[d] = -1; /* scaled, or kept, an open size stays open */
          continue;
        }
      if (d < x->rank - 2 && out->dim[d] != x->dim[d])
        return osh_fail (err, OSH_ERR_UNSUPPORTED, "resizing axis %d (only the last two axes)", d);
      if (out->dim[d] < 1)
        return osh_fail (err, OSH_ERR_SHAPE, "the resized axis %d would be empty", d);
    }
  const char *mode = onnx_attr_str (c, "mode", "nearest");
  r->linear = strcmp (mode, "linear") == 0 || strcmp (mode, "bilinear") == 0;
  if (!r->linear && strcmp (mode, "nearest") != 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "resize mode \"%s\"", mode);
  static const char *const coords[] = { "half_pixel", "asymmetric", "align_corners",
                                        "pytorch_half_pixel", "tf_half_pixel_for_nn" };
  /* Upsample and Resize-10 behave as "asymmetric" with floor rounding. */
  const char *coord = upsample || opset == 10
                          ? "asymmetric"
                          : onnx_attr_str (c, "coordinate_transformation_mode", "half_pixel");
  r->coord = -1;
  for (int i = 0; i < 5; i++)
    if (strcmp (coord, coords[i]) == 0)
      r->coord = i;
  if (r->coord < 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "coordinate_transformation_mode \"%s\"", coord);
  static const char *const nearest[] = { "round_prefer_floor", "round_prefer_ceil", "floor",
                                         "ceil" };
  const char *nm =
      upsample || opset == 10 ? "floor" : onnx_attr_str (c, "nearest_mode", "round_prefer_floor");
  r->nearest = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp (nm, nearest[i]) == 0)
      r->nearest = i;
  if (r->nearest < 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "nearest_mode \"%s\"", nm);
  return true;
}

bool
onnx_resize_infer (OshOpCall *c, OshError *err)
{
  Resize r;
  return resize_geometry (c, &r, &c->out[0], err);
}

static float
source_coord (const Resize *r, int64_t x, int64_t in, int64_t out, float scale)
{
  switch (r->coord)
    {
    case 1: return (float) x / scale;
    case 2:
      {
        /* The resized length before rounding (ONNX's reference uses it, not the floored size). */
        float len = (float) in * scale;
        (void) out;
        return len <= 1.0f ? 0.0f : (float) x * (float) (in - 1) / (len - 1.0f);
      }
    case 3: return out > 1 ? ((float) x + 0.5f) / scale - 0.5f : 0.0f;
    case 4: return ((float) x + 0.5f) / scale;
    default: return ((float) x + 0.5f) / scale - 0.5f;
    }
}

static int64_t
nearest_index (const Resize *r, float v, int64_t in)
{
  float f = floorf (v);
  int64_t i;
  switch (r->nearest)
    {
    case 2: i = (int64_t) f; break;
    case 3: i = (int64_t) ceilf (v); break;
    case 1: i = v - f == 0.5f ? (int64_t) f + 1 : (int64_t) roundf (v); break;
    default: i = v - f == 0.5f ? (int64_t) f : (int64_t) roundf (v); break;
    }
  return i < 0 ? 0 : i >= in ? in - 1 : i;
}

/* The two source pixels a linear resize blends along one axis, and the second one's weight. */
typedef struct
{
  int64_t i0, i1;
  float w;
} LinearTap;

static LinearTap
linear_tap (float f, int64_t in)
{
  float c = fminf (fmaxf (f, 0.0f), (float) (in - 1));
  int64_t i0 = (int64_t) c;
  return (LinearTap){ i0, i0 + 1 < in ? i0 + 1 : i0, c - (float) i0 };
}

/* The taps of one axis: ONNX's coordinate transformation and rounding (the rest of the
 * kernel is Keras's, osh_resize_apply). */
static void
onnx_taps (const Resize *r, OshResizeTap *taps, int64_t in, int64_t out, float scale)
{
  for (int64_t o = 0; o < out; o++)
    {
      float f = source_coord (r, o, in, out, scale);
      if (!r->linear)
        {
          int64_t i = nearest_index (r, f, in);
          taps[o] = (OshResizeTap){ i, i, 0.0f };
          continue;
        }
      LinearTap t = linear_tap (f, in);
      taps[o] = (OshResizeTap){ t.i0, t.i1, t.w };
    }
}

static void
free_resize (void *p)
{
  Resize *r = p;
  if (r)
    osh_resize_taps_clear (&r->taps);
  free (r);
}

bool
onnx_resize_prepare (OshOpCall *c, OshError *err)
{
  Resize *r = calloc (1, sizeof *r);
  if (!r)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = r;
  c->free_params = free_resize;
  OshShape o;
  c->flops = 4.0 * (double) onnx_numel (&c->out[0]);
  if (!resize_geometry (c, r, &o, err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  int rank = x->rank;
  int64_t ih = rank >= 2 ? x->dim[rank - 2] : 1, iw = x->dim[rank - 1];
  int64_t oh = rank >= 2 ? o.dim[rank - 2] : 1, ow = o.dim[rank - 1];
  if (!osh_resize_taps_init (&r->taps, ih, iw, oh, ow, r->linear, err))
    return false;
  onnx_taps (r, r->taps.y, ih, oh, rank >= 2 ? r->scale[rank - 2] : 1.0f);
  onnx_taps (r, r->taps.x, iw, ow, r->scale[rank - 1]);
  return true;
}

/* Resize changes H and W only (resize_geometry), which channels-last data allows as well. */
OshNhwcFit
onnx_resize_channels_last (OshOpCall *c, bool commit)
{
  if (onnx_slot (c, 0).tensor != 0 || c->in[0].rank != 4)
    return OSH_NHWC_NO;
  if (commit)
    ((Resize *) c->params)->nhwc = true;
  return OSH_NHWC_CAN;
}

void
onnx_resize_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Resize *r = c->params;
  const OshShape *x = onnx_slot (c, 0).shape;
  const float *src = onnx_slot_data (c, in, 0);
  /* Channels-last: a pixel is a row of channels; planar: each (n, c) plane an image. */
  if (r->nhwc)
    osh_resize_apply (&r->taps, src, out[0], x->dim[0], x->dim[1]);
  else if (r->taps.ih * r->taps.iw > 0)
    osh_resize_apply (&r->taps, src, out[0], onnx_numel (x) / (r->taps.ih * r->taps.iw), 1);
}

/* ---- Expand, Tile ---- */

static bool
expand_shape (const OshOpCall *c, OshShape *out, OshError *err)
{
  if (!onnx_need (c, 0, false, "input", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  const float *v;
  int n = const_values (c, 1, &v, err);
  if (n < 0)
    return false;
  if (n > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_LIMIT, "rank %d is over the limit", n);
  if (strcmp (c->layer->class_name, "Tile") == 0)
    {
      if (n != x->rank)
        return osh_fail (err, OSH_ERR_FORMAT, "%d repeats for rank %d", n, x->rank);
      *out = *x;
      for (int d = 0; d < n; d++)
        out->dim[d] = x->dim[d] < 0 ? -1 : x->dim[d] * (int64_t) v[d];
      return true;
    }
  OshShape target = { .rank = n };
  for (int d = 0; d < n; d++)
    target.dim[d] = (int64_t) v[d];
  const OshShape *shapes[2] = { x, &target };
  return onnx_broadcast (shapes, 2, out, err);
}

bool
onnx_expand_infer (OshOpCall *c, OshError *err)
{
  return expand_shape (c, &c->out[0], err);
}

bool
onnx_expand_prepare (OshOpCall *c, OshError *err)
{
  (void) c;
  (void) err;
  return true;
}

void
onnx_expand_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OshShape *x = onnx_slot (c, 0).shape, *o = &c->out[0];
  const float *src = onnx_slot_data (c, in, 0);
  bool tile = strcmp (c->layer->class_name, "Tile") == 0;
  int64_t xs[OSH_MAX_RANK], idx[OSH_MAX_RANK] = { 0 };
  if (tile)
    onnx_strides (x, xs);
  else
    onnx_broadcast_strides (x, o, xs);
  int64_t n = onnx_numel (o);
  int lead = o->rank - x->rank;
  for (int64_t i = 0; i < n; i++)
    {
      int64_t off = 0;
      for (int d = 0; d < o->rank; d++)
        off += (tile ? idx[d] % x->dim[d - lead] : idx[d]) * xs[d];
      out[0][i] = src[off];
      onnx_next_index (idx, o, o->rank);
    }
}
