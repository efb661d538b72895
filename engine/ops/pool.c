/* Pooling: Max/AveragePooling1D/2D (same/valid; Keras's average over "same"
 * counts only the real pixels) and the global poolings (keepdims). */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"

typedef struct
{
  int sp;
  bool cf, same, max;
  int64_t k[2], s[2], pad[2];
  int64_t batch, ch, in_sp[2], out_sp[2];
} PoolGeom;

static bool
pool_geom (const OshOpCall *c, int sp, bool max, PoolGeom *g, OshError *err)
{
  memset (g, 0, sizeof *g);
  g->sp = sp;
  g->max = max;
  g->cf = osh_op_channels_first (c);
  if (!osh_op_need (c, 1, sp + 2, sp + 2, err) || !osh_op_padding (c, &g->same, err))
    return false;
  const char *ks = json_object_get (c->layer->config, "pool_size") ? "pool_size" : "pool_length";
  if (!osh_op_ints (c, ks, g->k, sp, 2, 1, err))
    return false;
  if (!osh_op_ints (c, json_object_get (c->layer->config, "strides") ? "strides" : "stride", g->s,
                    sp, 0, 0, err))
    return false;
  for (int i = 0; i < sp; i++)
    if (g->s[i] == 0)
      g->s[i] = g->k[i]; /* strides None: the pool size */
  const OshShape *in = &c->in[0];
  g->batch = in->dim[0];
  g->ch = in->dim[g->cf ? 1 : sp + 1];
  for (int i = 0; i < sp; i++)
    {
      g->in_sp[i] = in->dim[g->cf ? 2 + i : 1 + i];
      g->out_sp[i] = osh_op_window_out (g->in_sp[i], g->k[i], g->s[i], 1, g->same);
      if (g->out_sp[i] == 0)
        return osh_fail (err, OSH_ERR_SHAPE, "a %lld-wide input is smaller than the %lld-wide pool",
                         (long long) g->in_sp[i], (long long) g->k[i]);
      g->pad[i] = g->same && g->in_sp[i] > 0 ? osh_op_same_pad (g->in_sp[i], g->k[i], g->s[i], 1)
                                             : 0;
    }
  return true;
}

static bool
pool_infer (OshOpCall *c, int sp, bool max, OshError *err)
{
  PoolGeom g;
  if (!pool_geom (c, sp, max, &g, err))
    return false;
  OshShape *o = &c->out[0];
  *o = c->in[0];
  for (int i = 0; i < sp; i++)
    o->dim[g.cf ? 2 + i : 1 + i] = g.out_sp[i];
  return true;
}

#define POOL_INFER(fn, sp, max)                                                                    \
  bool fn (OshOpCall *c, OshError *err);                                                           \
  bool fn (OshOpCall *c, OshError *err) { return pool_infer (c, sp, max, err); }

POOL_INFER (osh_maxpool1d_infer, 1, true)
POOL_INFER (osh_maxpool2d_infer, 2, true)
POOL_INFER (osh_avgpool1d_infer, 1, false)
POOL_INFER (osh_avgpool2d_infer, 2, false)

/* Global pooling over every spatial axis; keepdims keeps them as size 1. */
bool osh_global_pool_infer (OshOpCall *c, OshError *err);

bool
osh_global_pool_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 3, 5, err))
    return false;
  bool cf = osh_op_channels_first (c);
  bool keep = osh_config_bool (c->layer->config, "keepdims", false);
  const OshShape *in = &c->in[0];
  OshShape *o = &c->out[0];
  int64_t ch = in->dim[cf ? 1 : in->rank - 1];
  if (!keep)
    *o = osh_shape_make (2, (int64_t[]){ in->dim[0], ch });
  else
    {
      *o = *in;
      for (int i = 1; i < in->rank; i++)
        o->dim[i] = 1;
      o->dim[cf ? 1 : in->rank - 1] = ch;
    }
  return true;
}
