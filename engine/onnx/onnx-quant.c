/* ONNX quantization ops with ONNX Runtime's arithmetic: QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear (what onnxruntime's dynamic quantization puts before each layer),
 * ConvInteger and MatMulInteger, and their requantizing forms QLinearConv and QLinearMatMul. Values are integers held in float32: a product sum is exact up to
 * 2^24 and within float32's rounding above, which the following rescale makes 1e-7 relative.
 * Rounding is to nearest, ties to even (nearbyintf in the default mode), as ORT rounds. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"

/* The integer range of a quantized type: uint8 unless the zero point says int8 (its ONNX type,
 * recorded by the reader as OSH_ONNX_ZERO_POINT_TYPE). */
static void
quant_range (const OshOpCall *c, float *lo, float *hi)
{
  int64_t type = onnx_attr_int (c, OSH_ONNX_ZERO_POINT_TYPE, 2);
  *lo = type == 3 ? -128.0f : 0.0f;
  *hi = type == 3 ? 127.0f : 255.0f;
}

static float
saturate (float v, float lo, float hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* ---- QuantizeLinear and DequantizeLinear: per tensor, or per slice of `axis` ---- */

typedef struct
{
  int64_t outer, len, inner; /* x as (outer, len, inner); scale and zero point index `len` */
  bool per_axis;
  float lo, hi;
} Linear;

bool
onnx_qlinear_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "x", err) || !onnx_need (c, 1, false, "scale", err))
    return false;
  c->out[0] = *onnx_slot (c, 0).shape;
  return true;
}

bool
onnx_qlinear_prepare (OshOpCall *c, OshError *err)
{
  Linear *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  int64_t scales = onnx_numel (onnx_slot (c, 1).shape);
  int axis = 0;
  p->outer = onnx_numel (x);
  p->len = p->inner = 1;
  if (scales > 1)
    {
      if (!onnx_axis (onnx_attr_int (c, "axis", 1), x->rank, &axis, err))
        return false;
      if (x->dim[axis] != scales)
        return osh_fail (err, OSH_ERR_SHAPE, "%lld scales for axis %d of size %lld",
                         (long long) scales, axis, (long long) x->dim[axis]);
      p->per_axis = true;
      p->outer = onnx_numel_range (x, 0, axis);
      p->len = x->dim[axis];
      p->inner = onnx_numel_range (x, axis + 1, x->rank);
    }
  quant_range (c, &p->lo, &p->hi);
  c->flops = (double) onnx_numel (x);
  return true;
}

void
onnx_qlinear_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Linear *p = c->params;
  const float *x = onnx_slot_data (c, in, 0), *scale = onnx_slot_data (c, in, 1);
  const float *zp = onnx_slot (c, 2).present ? onnx_slot_data (c, in, 2) : NULL;
  bool quantize = strcmp (c->layer->class_name, "QuantizeLinear") == 0;
  for (int64_t o = 0, i = 0; o < p->outer; o++)
    for (int64_t k = 0; k < p->len; k++)
      {
        float s = scale[k], z = zp ? zp[k] : 0.0f;
        for (int64_t e = 0; e < p->inner; e++, i++)
          out[0][i] =
              quantize ? saturate (nearbyintf (x[i] / s) + z, p->lo, p->hi) : (x[i] - z) * s;
      }
}

/* ---- DynamicQuantizeLinear: uint8 with a scale and zero point from x's range ---- */

bool
onnx_dynquant_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "x", err))
    return false;
  c->out[0] = *onnx_slot (c, 0).shape;
  /* Scale and zero point are scalars; one element here, as the IR's rank 0 means unknown. */
  for (int k = 1; k < c->n_out; k++)
    c->out[k] = osh_shape_make (1, (int64_t[]){ 1 });
  return c->n_out == 3 || osh_fail (err, OSH_ERR_FORMAT, "%d outputs (3 expected)", c->n_out);
}

bool
onnx_dynquant_prepare (OshOpCall *c, OshError *err)
{
  (void) err;
  c->flops = 3.0 * (double) onnx_numel (onnx_slot (c, 0).shape);
  return true;
}

void
onnx_dynquant_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const float *x = onnx_slot_data (c, in, 0);
  int64_t n = onnx_numel (onnx_slot (c, 0).shape);
  float lo = 0.0f, hi = 0.0f; /* the range always holds 0, so 0 is exact */
  for (int64_t i = 0; i < n; i++)
    {
      lo = x[i] < lo ? x[i] : lo;
      hi = x[i] > hi ? x[i] : hi;
    }
  float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  float zp = nearbyintf (saturate (0.0f - lo / scale, 0.0f, 255.0f));
  for (int64_t i = 0; i < n; i++)
    out[0][i] = saturate (nearbyintf (x[i] / scale) + zp, 0.0f, 255.0f);
  out[1][0] = scale;
  out[2][0] = zp;
}

/* ---- ConvInteger: 2-D convolution of (x - x_zero_point) and (w - w_zero_point) ---- */

/* Where the operands are: ConvInteger (x, w, x_zero_point, w_zero_point) and QLinearConv
 * (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B). */
static bool
is_qlinear (const OshOpCall *c)
{
  return strncmp (c->layer->class_name, "QLinear", 7) == 0;
}

static int
w_slot (const OshOpCall *c)
{
  return is_qlinear (c) ? 3 : 1;
}

static int
w_zero_slot (const OshOpCall *c)
{
  return is_qlinear (c) ? 5 : 3;
}

/* QLinearConv's and QLinearMatMul's output: saturate (round (acc · x_scale · w_scale[m] /
 * y_scale) + y_zero_point), with the bias added to acc first; `m` runs over `per` blocks of
 * `len` values (the filters, or the columns with len 1). */
static void
requantize (const OshOpCall *c, const float *const *in, float *y, int64_t outer, int64_t per,
            int64_t len, const float *bias)
{
  float lo, hi;
  quant_range (c, &lo, &hi);
  const float xs = onnx_slot_data (c, in, 1)[0], ys = onnx_slot_data (c, in, 6)[0];
  const float *ws = onnx_slot_data (c, in, 4);
  bool per_channel = onnx_numel (onnx_slot (c, 4).shape) > 1;
  float yzp = onnx_slot (c, 7).present ? onnx_slot_data (c, in, 7)[0] : 0.0f;
  for (int64_t o = 0, i = 0; o < outer; o++)
    for (int64_t m = 0; m < per; m++)
      {
        float scale = xs * ws[per_channel ? m : 0] / ys, b = bias ? bias[m] : 0.0f;
        for (int64_t e = 0; e < len; e++, i++)
          y[i] = saturate (nearbyintf ((y[i] + b) * scale) + yzp, lo, hi);
      }
}

typedef struct
{
  int64_t n, ci, h, w, co, oh, ow, kh, kw, groups;
  int64_t stride[2], dil[2], pad[2]; /* pad: top, left */
  float *weights;                    /* (w - w_zero_point), (co, ci / groups · kh · kw) */
} ConvInt;

static void
free_convint (void *params)
{
  ConvInt *p = params;
  if (p)
    free (p->weights);
  free (p);
}

/* Geometry into p (when given) and the output shape. */
static bool
convint_geometry (OshOpCall *c, ConvInt *p, OshShape *out, OshError *err)
{
  if (!onnx_need (c, 0, false, "x", err) || !onnx_need (c, w_slot (c), true, "w", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape, *w = onnx_slot (c, w_slot (c)).shape;
  if (x->rank != 4 || w->rank != 4)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "%s of rank %d (2-D images only)",
                     c->layer->class_name, x->rank);
  int64_t strides[2] = { 1, 1 }, dil[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 };
  int64_t groups = onnx_attr_int (c, "group", 1);
  if (onnx_attr_ints (c, "strides", strides, 2) < 0 || onnx_attr_ints (c, "dilations", dil, 2) < 0
      || onnx_attr_ints (c, "pads", pads, 4) < 0)
    return osh_fail (err, OSH_ERR_FORMAT, "strides, dilations or pads are malformed");
  OshPadMode mode = onnx_auto_pad (c, pads);
  if (groups < 1 || x->dim[1] != w->dim[1] * groups || w->dim[0] % groups)
    return osh_fail (err, OSH_ERR_SHAPE, "%lld input channels, weights for %lld in %lld groups",
                     (long long) x->dim[1], (long long) w->dim[1], (long long) groups);
  int64_t oh =
      osh_op_window (x->dim[2], w->dim[2], strides[0], dil[0], mode, false, &pads[0], &pads[2]);
  int64_t ow =
      osh_op_window (x->dim[3], w->dim[3], strides[1], dil[1], mode, false, &pads[1], &pads[3]);
  *out = osh_shape_make (4, (int64_t[]){ x->dim[0], w->dim[0], oh, ow });
  if (p)
    *p = (ConvInt){ .n = x->dim[0],
                    .ci = x->dim[1],
                    .h = x->dim[2],
                    .w = x->dim[3],
                    .co = w->dim[0],
                    .oh = oh,
                    .ow = ow,
                    .kh = w->dim[2],
                    .kw = w->dim[3],
                    .groups = groups,
                    .stride = { strides[0], strides[1] },
                    .dil = { dil[0], dil[1] },
                    .pad = { pads[0], pads[1] } };
  return true;
}

bool
onnx_convint_infer (OshOpCall *c, OshError *err)
{
  return convint_geometry (c, NULL, &c->out[0], err);
}

bool
onnx_convint_prepare (OshOpCall *c, OshError *err)
{
  ConvInt *p = osh_op_params (c, sizeof *p, err);
  OshShape out;
  if (!p)
    return false;
  c->free_params = free_convint;
  if (!convint_geometry (c, p, &out, err))
    return false;
  if (p->oh <= 0 || p->ow <= 0)
    return osh_fail (err, OSH_ERR_SHAPE, "the kernel does not fit the input");
  int64_t k = p->ci / p->groups * p->kh * p->kw;
  OnnxSlot wzp = onnx_slot (c, w_zero_slot (c));
  if (wzp.present && !wzp.value)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "w_zero_point is computed at run time");
  if (is_qlinear (c)
      && (!onnx_need (c, 1, false, "x_scale", err) || !onnx_need (c, 4, false, "w_scale", err)
          || !onnx_need (c, 6, false, "y_scale", err)))
    return false;
  int64_t n_ws = is_qlinear (c) ? onnx_numel (onnx_slot (c, 4).shape) : 1;
  OnnxSlot bias = onnx_slot (c, 8);
  if ((n_ws != 1 && n_ws != p->co) || (bias.present && onnx_numel (bias.shape) != p->co))
    return osh_fail (err, OSH_ERR_SHAPE, "w_scale or B does not hold 1 or %lld values",
                     (long long) p->co);
  int64_t n_wzp = wzp.present ? onnx_numel (wzp.shape) : 0;
  if (n_wzp > 1 && n_wzp != p->co)
    return osh_fail (err, OSH_ERR_SHAPE, "%lld weight zero points for %lld filters",
                     (long long) n_wzp, (long long) p->co);
  p->weights = malloc ((size_t) (p->co * k) * sizeof *p->weights);
  if (!p->weights)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  const float *w = onnx_slot (c, w_slot (c)).value;
  for (int64_t m = 0; m < p->co; m++)
    for (int64_t i = 0; i < k; i++)
      p->weights[m * k + i] = w[m * k + i] - (n_wzp ? wzp.value[n_wzp > 1 ? m : 0] : 0.0f);
  c->scratch = (size_t) (k * p->oh * p->ow);
  c->flops = 2.0 * (double) (p->n * p->co * k * p->oh * p->ow);
  return true;
}

void
onnx_convint_run (const OshOpCall *c, const float *const *in, float *const *out, float *cols)
{
  const ConvInt *p = c->params;
  const float *x = onnx_slot_data (c, in, 0);
  float xzp = onnx_slot (c, 2).present ? onnx_slot_data (c, in, 2)[0] : 0.0f;
  int64_t cg = p->ci / p->groups, mg = p->co / p->groups, k = cg * p->kh * p->kw;
  int64_t pixels = p->oh * p->ow;
  for (int64_t b = 0; b < p->n; b++)
    for (int64_t g = 0; g < p->groups; g++)
      {
        /* Columns of (x - x_zero_point); padding reads as the zero point, so as 0 here. */
        for (int64_t ch = 0; ch < cg; ch++)
          for (int64_t ky = 0; ky < p->kh; ky++)
            for (int64_t kx = 0; kx < p->kw; kx++)
              {
                float *row = cols + ((ch * p->kh + ky) * p->kw + kx) * pixels;
                const float *plane = x + ((b * p->ci) + g * cg + ch) * p->h * p->w;
                for (int64_t oy = 0; oy < p->oh; oy++)
                  {
                    int64_t iy = oy * p->stride[0] - p->pad[0] + ky * p->dil[0];
                    for (int64_t ox = 0; ox < p->ow; ox++)
                      {
                        int64_t ix = ox * p->stride[1] - p->pad[1] + kx * p->dil[1];
                        bool inside = iy >= 0 && iy < p->h && ix >= 0 && ix < p->w;
                        row[oy * p->ow + ox] = inside ? plane[iy * p->w + ix] - xzp : 0.0f;
                      }
                  }
              }
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) mg, (int) pixels, (int) k,
                     1.0f, p->weights + g * mg * k, (int) k, cols, (int) pixels, 0.0f,
                     out[0] + (b * p->co + g * mg) * pixels, (int) pixels);
      }
  if (is_qlinear (c))
    requantize (c, in, out[0], p->n, p->co, pixels,
                onnx_slot (c, 8).present ? onnx_slot_data (c, in, 8) : NULL);
}

/* ---- MatMulInteger: (a - a_zero_point) · (b - b_zero_point), b a constant matrix ---- */

typedef struct
{
  int64_t rows, k, n;
  float *b; /* (b - b_zero_point), (k, n) */
} MatInt;

static void
free_matint (void *params)
{
  MatInt *p = params;
  if (p)
    free (p->b);
  free (p);
}

bool
onnx_matint_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "A", err) || !onnx_need (c, w_slot (c), true, "B", err))
    return false;
  const OshShape *a = onnx_slot (c, 0).shape, *b = onnx_slot (c, w_slot (c)).shape;
  if (b->rank != 2 || a->rank < 1 || a->dim[a->rank - 1] != b->dim[0])
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "%s of these shapes (B must be a matrix whose rows match A's last size)",
                     c->layer->class_name);
  c->out[0] = *a;
  c->out[0].dim[a->rank - 1] = b->dim[1];
  return true;
}

bool
onnx_matint_prepare (OshOpCall *c, OshError *err)
{
  MatInt *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  c->free_params = free_matint;
  const OshShape *a = onnx_slot (c, 0).shape, *bs = onnx_slot (c, w_slot (c)).shape;
  p->k = bs->dim[0];
  p->n = bs->dim[1];
  p->rows = onnx_numel (a) / p->k;
  OnnxSlot bzp = onnx_slot (c, w_zero_slot (c));
  if (bzp.present && !bzp.value)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "b_zero_point is computed at run time");
  if (is_qlinear (c)
      && (!onnx_need (c, 1, false, "a_scale", err) || !onnx_need (c, 4, false, "b_scale", err)
          || !onnx_need (c, 6, false, "y_scale", err)))
    return false;
  int64_t n_bs = is_qlinear (c) ? onnx_numel (onnx_slot (c, 4).shape) : 1;
  if (n_bs != 1 && n_bs != p->n)
    return osh_fail (err, OSH_ERR_SHAPE, "%lld scales for %lld columns", (long long) n_bs,
                     (long long) p->n);
  int64_t n_zp = bzp.present ? onnx_numel (bzp.shape) : 0;
  if (n_zp > 1 && n_zp != p->n)
    return osh_fail (err, OSH_ERR_SHAPE, "%lld zero points for %lld columns", (long long) n_zp,
                     (long long) p->n);
  if (!(p->b = malloc ((size_t) (p->k * p->n) * sizeof *p->b)))
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  const float *b = onnx_slot (c, w_slot (c)).value;
  for (int64_t i = 0; i < p->k; i++)
    for (int64_t j = 0; j < p->n; j++)
      p->b[i * p->n + j] = b[i * p->n + j] - (n_zp ? bzp.value[n_zp > 1 ? j : 0] : 0.0f);
  c->scratch = (size_t) (p->rows * p->k);
  c->flops = 2.0 * (double) (p->rows * p->k * p->n);
  return true;
}

void
onnx_matint_run (const OshOpCall *c, const float *const *in, float *const *out, float *shifted)
{
  const MatInt *p = c->params;
  const float *a = onnx_slot_data (c, in, 0);
  OnnxSlot zs = onnx_slot (c, 2);
  const float *azp = zs.present ? onnx_slot_data (c, in, 2) : NULL;
  bool per_row = zs.present && onnx_numel (zs.shape) == p->rows;
  for (int64_t r = 0; r < p->rows; r++)
    {
      float z = azp ? azp[per_row ? r : 0] : 0.0f;
      for (int64_t i = 0; i < p->k; i++)
        shifted[r * p->k + i] = a[r * p->k + i] - z;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) p->rows, (int) p->n, (int) p->k,
               1.0f, shifted, (int) p->k, p->b, (int) p->n, 0.0f, out[0], (int) p->n);
  if (is_qlinear (c))
    requantize (c, in, out[0], p->rows, p->n, 1, NULL);
}
