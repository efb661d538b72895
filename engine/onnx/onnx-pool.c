/* ONNX MaxPool, AveragePool (1-D and 2-D, NCHW) and GlobalAveragePool / GlobalMaxPool. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"

typedef struct
{
  bool global, max, count_pad;
  int64_t nc, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool nhwc; /* switched to channels-last (layout pass): the shared NHWC kernels run */
} Pool;

static bool
geometry (const OshOpCall *c, Pool *p, OshError *err)
{
  if (!onnx_need (c, 0, false, "X", err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  const char *op = c->layer->class_name;
  memset (p, 0, sizeof *p);
  p->global = strncmp (op, "Global", 6) == 0;
  p->max = strstr (op, "Max") != NULL;
  int spatial = x->rank - 2;
  if (spatial < 1 || (!p->global && spatial > 2))
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "%s on rank %d input (1-D and 2-D are supported)",
                     op, x->rank);
  p->nc = x->dim[0] * x->dim[1];
  p->h = onnx_numel_range (x, 2, x->rank - 1);
  p->w = x->dim[x->rank - 1];
  if (p->global)
    {
      p->oh = p->ow = 1;
      return true;
    }
  int64_t k[2], v[4];
  int nk = onnx_attr_ints (c, "kernel_shape", k, 2);
  if (nk != spatial)
    return osh_fail (err, OSH_ERR_FORMAT, "kernel_shape should have %d values", spatial);
  p->kh = spatial == 2 ? k[0] : 1;
  p->kw = k[spatial - 1];
  p->sh = p->sw = p->dh = p->dw = 1;
  if (onnx_attr_ints (c, "strides", v, 2) == spatial)
    p->sh = spatial == 2 ? v[0] : 1, p->sw = v[spatial - 1];
  if (onnx_attr_ints (c, "dilations", v, 2) == spatial)
    p->dh = spatial == 2 ? v[0] : 1, p->dw = v[spatial - 1];
  int64_t pads[4] = { 0 };
  if (onnx_attr_ints (c, "pads", v, 4) == 2 * spatial)
    {
      if (spatial == 2)
        memcpy (pads, v, sizeof pads);
      else
        pads[1] = v[0], pads[3] = v[1];
    }
  p->count_pad = onnx_attr_int (c, "count_include_pad", 0) != 0;
  bool ceil_mode = onnx_attr_int (c, "ceil_mode", 0) != 0;
  OshPadMode mode = onnx_auto_pad (c, pads);
  p->oh = osh_op_window (p->h, p->kh, p->sh, p->dh, mode, ceil_mode, &pads[0], &pads[2]);
  p->ow = osh_op_window (p->w, p->kw, p->sw, p->dw, mode, ceil_mode, &pads[1], &pads[3]);
  p->pt = pads[0];
  p->pl = pads[1];
  p->pb = pads[2];
  p->pr = pads[3];
  /* An open input size (-1) leaves the output size open. */
  p->oh = p->h < 0 ? -1 : p->oh;
  p->ow = p->w < 0 ? -1 : p->ow;
  if ((p->oh < 1 && p->h >= 0) || (p->ow < 1 && p->w >= 0) || p->kh < 1 || p->kw < 1 || p->sh < 1
      || p->sw < 1)
    return osh_fail (err, OSH_ERR_SHAPE, "the pooling window does not fit the input");
  return true;
}

bool
onnx_pool_infer (OshOpCall *c, OshError *err)
{
  Pool p;
  if (!geometry (c, &p, err))
    return false;
  const OshShape *x = onnx_slot (c, 0).shape;
  if (c->n_out > 1 && onnx_attr_int (c, "storage_order", 0) != 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "MaxPool indices in column-major storage order");
  c->out[0] = *x;
  if (p.global)
    for (int i = 2; i < x->rank; i++)
      c->out[0].dim[i] = 1;
  else
    {
      if (x->rank == 4)
        c->out[0].dim[2] = p.oh;
      c->out[0].dim[x->rank - 1] = p.ow;
    }
  for (int i = 1; i < c->n_out; i++)
    c->out[i] = c->out[0]; /* MaxPool's Indices */
  return true;
}

bool
onnx_pool_prepare (OshOpCall *c, OshError *err)
{
  Pool *p = malloc (sizeof *p);
  if (!p)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = p;
  if (!geometry (c, p, err))
    return false;
  c->flops = (double) p->nc * (double) (p->global ? p->h * p->w : p->oh * p->ow * p->kh * p->kw);
  return true;
}

/* The NHWC kernels of engine/ops/pool.c compute the same windows when there is no dilation, no
 * Indices output and, for averages, no padding counted. */
OshNhwcFit
onnx_pool_channels_last (OshOpCall *c, bool commit)
{
  Pool *p = c->params;
  if (c->in[0].rank != 4 || onnx_slot (c, 0).tensor != 0 || c->n_out != 1
      || (!p->global && (p->dh != 1 || p->dw != 1))
      || (!p->global && !p->max && p->count_pad && (p->pt || p->pl || p->pb || p->pr)))
    return OSH_NHWC_NO;
  if (commit)
    p->nhwc = true;
  return OSH_NHWC_CAN;
}

static void
run_channels_last (const OshOpCall *c, const Pool *p, const float *x, float *y)
{
  int64_t batch = c->in[0].dim[0], ch = c->in[0].dim[1];
  if (p->global)
    {
      osh_global_pool (x, y, batch, ch, p->h * p->w, false, p->max);
      return;
    }
  OshWindow2D w = { .kh = p->kh,
                    .kw = p->kw,
                    .sh = p->sh,
                    .sw = p->sw,
                    .dh = 1,
                    .dw = 1,
                    .ph = p->pt,
                    .pw = p->pl,
                    .ih = p->h,
                    .iw = p->w,
                    .oh = p->oh,
                    .ow = p->ow };
  osh_pool_channels_last (&w, batch, ch, p->max, x, y, c->threads);
}

/* Max pooling of one plane, a kernel row at a time over whole output rows: the inner loop has
 * no bounds checks. Same comparisons as the general loop (a NaN never wins). */
static void
max_plane (const Pool *p, const float *plane, float *o)
{
  for (int64_t oy = 0; oy < p->oh; oy++)
    {
      float *restrict orow = o + oy * p->ow;
      for (int64_t ox = 0; ox < p->ow; ox++)
        orow[ox] = -FLT_MAX;
      for (int64_t ky = 0; ky < p->kh; ky++)
        {
          int64_t iy = oy * p->sh - p->pt + ky * p->dh;
          if (iy < 0 || iy >= p->h)
            continue;
          for (int64_t kx = 0; kx < p->kw; kx++)
            {
              int64_t off = kx * p->dw - p->pl, lo, hi;
              onnx_valid_range (p->ow, p->sw, off, p->w, &lo, &hi);
              const float *restrict src = plane + iy * p->w + off;
              for (int64_t ox = lo; ox < hi; ox++)
                {
                  float v = src[ox * p->sw];
                  orow[ox] = v > orow[ox] ? v : orow[ox];
                }
            }
        }
    }
}

void
onnx_pool_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Pool *p = c->params;
  const float *x = onnx_slot_data (c, in, 0);
  if (p->nhwc)
    {
      run_channels_last (c, p, x, out[0]);
      return;
    }
  for (int64_t ch = 0; ch < p->nc; ch++)
    {
      const float *plane = x + ch * p->h * p->w;
      if (!p->global && p->max && c->n_out == 1)
        {
          max_plane (p, plane, out[0] + ch * p->oh * p->ow);
          continue;
        }
      if (p->global)
        {
          double acc = p->max ? -INFINITY : 0;
          for (int64_t i = 0; i < p->h * p->w; i++)
            acc = p->max ? (plane[i] > acc ? plane[i] : acc) : acc + plane[i];
          out[0][ch] = (float) (p->max ? acc : acc / (double) (p->h * p->w));
          continue;
        }
      float *o = out[0] + ch * p->oh * p->ow;
      for (int64_t oy = 0; oy < p->oh; oy++)
        for (int64_t ox = 0; ox < p->ow; ox++)
          {
            float acc = p->max ? -FLT_MAX : 0;
            int64_t count = 0, padded = 0, best = 0;
            for (int64_t ky = 0; ky < p->kh; ky++)
              {
                int64_t iy = oy * p->sh - p->pt + ky * p->dh;
                for (int64_t kx = 0; kx < p->kw; kx++)
                  {
                    int64_t ix = ox * p->sw - p->pl + kx * p->dw;
                    /* Cells inside the explicit padding count for count_include_pad. */
                    if (iy >= -p->pt && iy < p->h + p->pb && ix >= -p->pl && ix < p->w + p->pr)
                      padded++;
                    if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
                      continue;
                    float v = plane[iy * p->w + ix];
                    if (p->max && (v > acc || count == 0))
                      best = iy * p->w + ix;
                    acc = p->max ? (v > acc ? v : acc) : acc + v; /* no fmaxf: a libm call */
                    count++;
                  }
              }
            if (p->max && c->n_out > 1) /* Indices into the flattened input */
              out[1][ch * p->oh * p->ow + oy * p->ow + ox] = (float) (ch * p->h * p->w + best);
            if (p->max)
              o[oy * p->ow + ox] = acc;
            else
              o[oy * p->ow + ox] = acc / (float) (p->count_pad ? padded : (count ? count : 1));
          }
    }
}
