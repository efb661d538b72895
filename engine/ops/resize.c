/* Spatial size changes: ZeroPadding2D, Cropping2D, UpSampling2D (nearest,
 * bilinear), Resizing (bilinear, nearest). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"

/* Reads ZeroPadding2D/Cropping2D amounts: n, [h, w] or [[top, bottom], [left, right]]. */
static bool
pad_pairs (const OshOpCall *c, const char *key, int64_t p[2][2], OshError *err)
{
  const json_t *v = json_object_get (c->layer->config, key);
  int64_t def = strcmp (key, "padding") == 0 ? 1 : 0;
  if (!v || json_is_null (v))
    {
      p[0][0] = p[0][1] = p[1][0] = p[1][1] = def;
      return true;
    }
  if (json_is_integer (v))
    {
      p[0][0] = p[0][1] = p[1][0] = p[1][1] = json_integer_value (v);
    }
  else if (json_is_array (v) && json_array_size (v) == 2)
    {
      for (int i = 0; i < 2; i++)
        {
          const json_t *e = json_array_get (v, (size_t) i);
          if (json_is_integer (e))
            p[i][0] = p[i][1] = json_integer_value (e);
          else if (json_is_array (e) && json_array_size (e) == 2
                   && json_is_integer (json_array_get (e, 0))
                   && json_is_integer (json_array_get (e, 1)))
            {
              p[i][0] = json_integer_value (json_array_get (e, 0));
              p[i][1] = json_integer_value (json_array_get (e, 1));
            }
          else
            return osh_fail (err, OSH_ERR_FORMAT, "config \"%s\" entry %d is not an int or a pair",
                             key, i);
        }
    }
  else
    return osh_fail (err, OSH_ERR_FORMAT, "config \"%s\" should be an int, a pair or two pairs",
                     key);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      if (p[i][j] < 0)
        return osh_fail (err, OSH_ERR_FORMAT, "config \"%s\" has a negative amount", key);
  return true;
}

typedef struct
{
  bool cf;
  int64_t p[2][2]; /* padding or cropping (top, bottom), (left, right) */
  int64_t f[2];    /* upsampling factors */
  bool bilinear;
  bool half_pixel; /* Resizing / UpSampling bilinear: TF's half-pixel centres */
} ResizeParams;

static bool
edge_infer (OshOpCall *c, int sign, const char *key, ResizeParams *rp, OshError *err)
{
  if (!osh_op_need (c, 1, 4, 4, err) || !pad_pairs (c, key, rp->p, err))
    return false;
  rp->cf = osh_op_channels_first (c);
  OshShape *o = &c->out[0];
  *o = c->in[0];
  for (int i = 0; i < 2; i++)
    {
      int ax = rp->cf ? 2 + i : 1 + i;
      if (o->dim[ax] < 0)
        continue;
      o->dim[ax] += sign * (rp->p[i][0] + rp->p[i][1]);
      if (o->dim[ax] <= 0)
        return osh_fail (
            err, OSH_ERR_SHAPE, "cropping %lld+%lld from a %lld-wide input leaves nothing",
            (long long) rp->p[i][0], (long long) rp->p[i][1], (long long) c->in[0].dim[ax]);
    }
  return true;
}

bool osh_zeropad2d_infer (OshOpCall *c, OshError *err);
bool osh_crop2d_infer (OshOpCall *c, OshError *err);
bool osh_upsample2d_infer (OshOpCall *c, OshError *err);
bool osh_resizing_infer (OshOpCall *c, OshError *err);

bool
osh_zeropad2d_infer (OshOpCall *c, OshError *err)
{
  ResizeParams rp;
  return edge_infer (c, 1, "padding", &rp, err);
}

bool
osh_crop2d_infer (OshOpCall *c, OshError *err)
{
  ResizeParams rp;
  return edge_infer (c, -1, "cropping", &rp, err);
}

static bool
upsample_params (const OshOpCall *c, ResizeParams *rp, OshError *err)
{
  memset (rp, 0, sizeof *rp);
  if (!osh_op_need (c, 1, 4, 4, err) || !osh_op_ints (c, "size", rp->f, 2, 2, 1, err))
    return false;
  rp->cf = osh_op_channels_first (c);
  const char *interp = osh_config_string (c->layer->config, "interpolation", "nearest");
  rp->bilinear = strcmp (interp, "bilinear") == 0;
  if (!rp->bilinear && strcmp (interp, "nearest") != 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "interpolation \"%s\" (expected nearest or bilinear)", interp);
  return true;
}

bool
osh_upsample2d_infer (OshOpCall *c, OshError *err)
{
  ResizeParams rp;
  if (!upsample_params (c, &rp, err))
    return false;
  OshShape *o = &c->out[0];
  *o = c->in[0];
  for (int i = 0; i < 2; i++)
    {
      int ax = rp.cf ? 2 + i : 1 + i;
      if (o->dim[ax] >= 0)
        o->dim[ax] *= rp.f[i];
    }
  return true;
}

bool
osh_resizing_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 4, 4, err))
    return false;
  int64_t h = osh_config_int (c->layer->config, "height", -1);
  int64_t w = osh_config_int (c->layer->config, "width", -1);
  if (h <= 0 || w <= 0)
    return osh_fail (err, OSH_ERR_FORMAT, "config needs positive \"height\" and \"width\"");
  bool cf = osh_op_channels_first (c);
  OshShape *o = &c->out[0];
  *o = c->in[0];
  o->dim[cf ? 2 : 1] = h;
  o->dim[cf ? 3 : 2] = w;
  return true;
}

/* ---- kernels (NHWC) ---- */

/* ---- the resize kernel, shared with ONNX's Resize ---- */

bool
osh_resize_taps_init (OshResizeTaps *t, int64_t ih, int64_t iw, int64_t oh, int64_t ow, bool linear,
                      OshError *err)
{
  *t = (OshResizeTaps){ .ih = ih, .iw = iw, .oh = oh, .ow = ow, .linear = linear };
  t->y = calloc ((size_t) (oh > 0 ? oh : 1), sizeof *t->y);
  t->x = calloc ((size_t) (ow > 0 ? ow : 1), sizeof *t->x);
  if (!t->y || !t->x)
    {
      osh_resize_taps_clear (t);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory for a resize of %lld × %lld",
                       (long long) oh, (long long) ow);
    }
  return true;
}

void
osh_resize_taps_clear (OshResizeTaps *t)
{
  free (t->y);
  free (t->x);
  t->y = t->x = NULL;
}

void
osh_resize_apply (const OshResizeTaps *t, const float *src, float *dst, int64_t images, int64_t ch)
{
  size_t row = (size_t) ch * sizeof (float);
  for (int64_t n = 0; n < images; n++)
    {
      const float *img = src + n * t->ih * t->iw * ch;
      for (int64_t y = 0; y < t->oh; y++)
        {
          OshResizeTap ty = t->y[y];
          const float *r0 = img + ty.i0 * t->iw * ch, *r1 = img + ty.i1 * t->iw * ch;
          for (int64_t x = 0; x < t->ow; x++, dst += ch)
            {
              OshResizeTap tx = t->x[x];
              const float *a = r0 + tx.i0 * ch;
              if (!t->linear)
                {
                  if (ch == 1)
                    dst[0] = a[0];
                  else
                    memcpy (dst, a, row);
                  continue;
                }
              const float *b = r0 + tx.i1 * ch, *e = r1 + tx.i0 * ch, *f = r1 + tx.i1 * ch;
              for (int64_t k = 0; k < ch; k++)
                {
                  float top = a[k] + (b[k] - a[k]) * tx.w;
                  float bottom = e[k] + (f[k] - e[k]) * tx.w;
                  dst[k] = top + (bottom - top) * ty.w;
                }
            }
        }
    }
}

/* ---- Keras's layers (NHWC) ---- */

typedef struct
{
  ResizeParams rp;
  int64_t n, ih, iw, oh, ow, ch;
  OshResizeTaps taps; /* UpSampling2D and Resizing */
} ResizeRun;

static void
free_resize_run (void *p)
{
  ResizeRun *r = p;
  if (r)
    osh_resize_taps_clear (&r->taps);
  free (r);
}

/* Nearest: TF picks floor(y · in/out) (UpSampling2D repeats rows). Bilinear: TF 2's resize
 * with half-pixel centres (Keras 2.4+, 3, Resizing), or TF 1's / tfjs's corner-aligned grid
 * without them (osh_op_legacy_bilinear). */
static void
keras_taps (OshResizeTap *taps, int64_t in, int64_t out, const ResizeParams *rp)
{
  double s = (double) in / (double) out;
  for (int64_t o = 0; o < out; o++)
    {
      if (!rp->bilinear)
        {
          int64_t i = (int64_t) floor (o * s);
          i = i < in ? i : in - 1;
          taps[o] = (OshResizeTap){ i, i, 0.0f };
          continue;
        }
      double f = rp->half_pixel ? (o + 0.5) * s - 0.5 : o * s;
      f = f < 0 ? 0 : f;
      int64_t i0 = (int64_t) f;
      taps[o] = (OshResizeTap){ i0, i0 + 1 < in ? i0 + 1 : in - 1, (float) (f - i0) };
    }
}

static bool
resize_prepare_common (OshOpCall *c, ResizeParams *rp, OshError *err)
{
  ResizeRun *rr = calloc (1, sizeof *rr);
  if (!rr)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing %s", c->layer->class_name);
  c->params = rr;
  c->free_params = free_resize_run;
  rr->rp = *rp;
  rr->rp.cf = osh_op_channels_first (c);
  const OshShape *i = &c->in[0], *o = &c->out[0];
  int h = rr->rp.cf ? 2 : 1; /* the height axis */
  rr->n = i->dim[0];
  rr->ih = i->dim[h];
  rr->iw = i->dim[h + 1];
  rr->ch = i->dim[rr->rp.cf ? 1 : 3];
  rr->oh = o->dim[h];
  rr->ow = o->dim[h + 1];
  c->flops = (double) osh_shape_numel (o);
  if (rr->rp.cf)
    c->scratch = (size_t) (osh_shape_numel (i) + osh_shape_numel (o));
  return true;
}

bool osh_edge_prepare (OshOpCall *c, OshError *err);
bool osh_upsample2d_prepare (OshOpCall *c, OshError *err);
bool osh_resizing_prepare (OshOpCall *c, OshError *err);
void osh_edge_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
void osh_resize_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

bool
osh_edge_prepare (OshOpCall *c, OshError *err)
{
  ResizeParams rp = { 0 };
  bool pad = strcmp (c->layer->class_name, "ZeroPadding2D") == 0;
  if (!pad_pairs (c, pad ? "padding" : "cropping", rp.p, err))
    return false;
  if (!pad) /* cropping: negative padding */
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        rp.p[i][j] = -rp.p[i][j];
  return resize_prepare_common (c, &rp, err);
}

bool
osh_zero_padding_leading (const OshOpCall *c, int64_t *top, int64_t *left)
{
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  const ResizeRun *r = c->params;
  if (!r || strcmp (c->layer->class_name, "ZeroPadding2D") != 0 || !op
      || op->prepare != osh_edge_prepare || r->rp.cf)
    return false;
  *top = r->rp.p[0][0];
  *left = r->rp.p[1][0];
  return true;
}

/* ZeroPadding2D / Cropping2D: out(y, x) = in(y - top, x - left), zero outside. */
static void
edge_nhwc (const ResizeRun *r, const float *const *in, float *const *out)
{
  int64_t top = r->rp.p[0][0], left = r->rp.p[1][0];
  for (int64_t n = 0; n < r->n; n++)
    for (int64_t y = 0; y < r->oh; y++)
      {
        float *o = out[0] + ((n * r->oh + y) * r->ow) * r->ch;
        int64_t iy = y - top;
        if (iy < 0 || iy >= r->ih)
          {
            memset (o, 0, (size_t) (r->ow * r->ch) * sizeof (float));
            continue;
          }
        for (int64_t x = 0; x < r->ow; x++)
          {
            int64_t ix = x - left;
            if (ix < 0 || ix >= r->iw)
              memset (o + x * r->ch, 0, (size_t) r->ch * sizeof (float));
            else
              memcpy (o + x * r->ch, in[0] + ((n * r->ih + iy) * r->iw + ix) * r->ch,
                      (size_t) r->ch * sizeof (float));
          }
      }
}

/* The source rows and columns of every output pixel, made once. */
static bool
prepare_taps (OshOpCall *c, OshError *err)
{
  ResizeRun *r = c->params;
  if (!osh_resize_taps_init (&r->taps, r->ih, r->iw, r->oh, r->ow, r->rp.bilinear, err))
    return false;
  keras_taps (r->taps.y, r->ih, r->oh, &r->rp);
  keras_taps (r->taps.x, r->iw, r->ow, &r->rp);
  return true;
}

bool
osh_upsample2d_prepare (OshOpCall *c, OshError *err)
{
  ResizeParams rp;
  if (!upsample_params (c, &rp, err))
    return false;
  rp.half_pixel = !osh_op_legacy_bilinear (c->graph);
  return resize_prepare_common (c, &rp, err) && prepare_taps (c, err);
}

bool
osh_resizing_prepare (OshOpCall *c, OshError *err)
{
  ResizeParams rp = { 0 };
  const char *interp = osh_config_string (c->layer->config, "interpolation", "bilinear");
  rp.bilinear = strcmp (interp, "bilinear") == 0;
  if (!rp.bilinear && strcmp (interp, "nearest") != 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "interpolation \"%s\" (expected nearest or bilinear)", interp);
  if (osh_config_bool (c->layer->config, "crop_to_aspect_ratio", false))
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "Resizing with crop_to_aspect_ratio");
  rp.half_pixel = true;
  return resize_prepare_common (c, &rp, err) && prepare_taps (c, err);
}

static void
resize_nhwc (const ResizeRun *r, const float *const *in, float *const *out)
{
  osh_resize_apply (&r->taps, in[0], out[0], r->n, r->ch);
}

/* Runs an NHWC kernel, between transposes for channels-first layers. */
static void
run_layout (const OshOpCall *c, const float *const *in, float *const *out, float *scratch,
            void (*kernel) (const ResizeRun *, const float *const *, float *const *))
{
  const ResizeRun *r = c->params;
  if (!r->rp.cf)
    {
      kernel (r, in, out);
      return;
    }
  float *x = scratch, *y = scratch + r->n * r->ih * r->iw * r->ch;
  osh_op_to_channels_last (in[0], x, r->n, r->ch, r->ih * r->iw);
  kernel (r, (const float *const *) &x, &y);
  osh_op_to_channels_first (y, out[0], r->n, r->ch, r->oh * r->ow);
}

void
osh_edge_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  run_layout (c, in, out, scratch, edge_nhwc);
}

void
osh_resize_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  run_layout (c, in, out, scratch, resize_nhwc);
}
