/* Pooling: Max/AveragePooling1D/2D (same/valid; Keras's average over "same"
 * counts only the real pixels) and the global poolings (keepdims). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-kernels.h"
#include "osh-op.h"
#include "osh-vec.h"

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
      g->pad[i] =
          g->same && g->in_sp[i] > 0 ? osh_op_same_pad (g->in_sp[i], g->k[i], g->s[i], 1) : 0;
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

/* ---- kernels (NHWC; Pooling1D is a height-1 Pooling2D) ---- */

typedef struct
{
  PoolGeom g;
  OshWindow2D w; /* Pooling1D: height 1 */
} PoolParams;

static bool
pool_prepare (OshOpCall *c, int sp, bool max, OshError *err)
{
  PoolParams *pp = calloc (1, sizeof *pp);
  if (!pp)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing a pooling");
  c->params = pp;
  if (!pool_geom (c, sp, max, &pp->g, err))
    return false;
  const PoolGeom *g = &pp->g;
  pp->w = osh_op_window2d (sp, g->k, g->s, NULL, g->pad, g->in_sp, g->out_sp);
  c->flops = (double) osh_shape_numel (&c->out[0]) * (double) (pp->w.kh * pp->w.kw);
  if (g->cf)
    c->scratch = (size_t) (osh_shape_numel (&c->in[0]) + osh_shape_numel (&c->out[0]));
  return true;
}

/* The current path's rows (osh-pool-kernel.c). */
static void
pool_rows (void *arg, int64_t begin, int64_t end)
{
  OSH_ISA_DISPATCH (osh_isa_current (), osh_pool_rows, (arg, begin, end));
}

void
osh_pool_channels_last (const OshWindow2D *w, int64_t batch, int64_t ch, bool max, const float *in,
                        float *out, int threads)
{
  OshPoolJob j = { w, ch, max, in, out };
  if (batch * w->ih * w->iw * ch < 65536)
    threads = 1;
  osh_parallel_for (threads, batch * w->oh, pool_rows, &j);
}

static void
pool_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const PoolParams *pp = c->params;
  const float *x = in[0];
  float *y = out[0];
  if (pp->g.cf)
    {
      osh_op_to_channels_last (in[0], scratch, pp->g.batch, pp->g.ch, pp->w.ih * pp->w.iw);
      x = scratch;
      y = scratch + osh_shape_numel (&c->in[0]);
    }
  osh_pool_channels_last (&pp->w, pp->g.batch, pp->g.ch, pp->g.max, x, y, c->threads);
  if (pp->g.cf)
    osh_op_to_channels_first (y, out[0], pp->g.batch, pp->g.ch, pp->w.oh * pp->w.ow);
}

#define POOL_OP(prep, sp, max)                                                                     \
  bool prep (OshOpCall *c, OshError *err);                                                         \
  bool prep (OshOpCall *c, OshError *err) { return pool_prepare (c, sp, max, err); }

POOL_OP (osh_maxpool1d_prepare, 1, true)
POOL_OP (osh_maxpool2d_prepare, 2, true)
POOL_OP (osh_avgpool1d_prepare, 1, false)
POOL_OP (osh_avgpool2d_prepare, 2, false)

void osh_pool_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

void
osh_pool_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  pool_run (c, in, out, scratch);
}

void osh_global_pool_run (const OshOpCall *c, const float *const *in, float *const *out,
                          float *scratch);

void
osh_global_pool (const float *in, float *out, int64_t batch, int64_t ch, int64_t pix, bool cf,
                 bool max)
{
  for (int64_t n = 0; n < batch; n++)
    {
      const float *x = in + n * pix * ch;
      float *restrict o = out + n * ch;
      for (int64_t k = 0; k < ch; k++)
        o[k] = max ? -INFINITY : 0.0f;
      /* One loop per case, so each vectorises (channels-last sums run along whole pixels). */
      if (!max && !cf)
        for (int64_t p = 0; p < pix; p++)
          osh_vec_add (o, x + p * ch, ch);
      else if (!max)
        for (int64_t k = 0; k < ch; k++)
          for (int64_t p = 0; p < pix; p++)
            o[k] += x[k * pix + p];
      else
        for (int64_t p = 0; p < pix; p++)
          for (int64_t k = 0; k < ch; k++)
            {
              float v = cf ? x[k * pix + p] : x[p * ch + k];
              o[k] = v > o[k] ? v : o[k];
            }
      if (!max)
        for (int64_t k = 0; k < ch; k++)
          o[k] /= (float) pix;
    }
}

/* Global pooling of a Keras layer: the input as (batch, pixels, channels) or, channels first,
 * (batch, ch, pixels). */
typedef struct
{
  bool channels_first, max;
} GlobalPool;

bool osh_global_pool_prepare (OshOpCall *c, OshError *err);

bool
osh_global_pool_prepare (OshOpCall *c, OshError *err)
{
  GlobalPool *p = osh_op_params (c, sizeof *p, err);
  if (!p)
    return false;
  p->channels_first = osh_op_channels_first (c);
  p->max = strstr (c->layer->class_name, "Max") != NULL;
  return true;
}

void
osh_global_pool_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const GlobalPool *p = c->params;
  const OshShape *s = &c->in[0];
  bool cf = p->channels_first;
  int64_t batch = s->dim[0], ch = s->dim[cf ? 1 : s->rank - 1];
  osh_global_pool (in[0], out[0], batch, ch, osh_shape_numel (s) / (batch * ch), cf, p->max);
}
