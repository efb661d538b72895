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
        return osh_fail (err, OSH_ERR_SHAPE, "cropping %lld+%lld from a %lld-wide input leaves nothing",
                         (long long) rp->p[i][0], (long long) rp->p[i][1],
                         (long long) c->in[0].dim[ax]);
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
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "interpolation \"%s\" (expected nearest or bilinear)",
                     interp);
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
