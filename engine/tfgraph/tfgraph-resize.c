/* ResizeBilinear and ResizeNearestNeighbor with TF's coordinate rules (align_corners,
 * half_pixel_centers), on the engine's resize kernel (osh_resize_apply, NHWC). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tfgraph-ops.h"
#include "tfgraph-shadow.h"

bool
tf_resize_infer (OshOpCall *c, OshError *err)
{
  const OshTensor *size = tf_const_input (c, 1, "the size", err);
  if (!size)
    return false;
  if (c->n_in != 1 || c->in[0].rank != 4 || osh_tensor_numel (size) != 2)
    return osh_fail (err, OSH_ERR_SHAPE, "a 4-D input and two sizes are expected");
  if (size->data[0] < 1 || size->data[1] < 1 || size->data[0] > 65536 || size->data[1] > 65536)
    return osh_fail (err, OSH_ERR_FORMAT, "sizes %g × %g", size->data[0], size->data[1]);
  c->out[0] = c->in[0];
  c->out[0].dim[1] = (int64_t) size->data[0];
  c->out[0].dim[2] = (int64_t) size->data[1];
  return true;
}

typedef struct
{
  OshResizeTaps taps;
  int64_t n, ch;
} TfResize;

static void
resize_free (void *p)
{
  TfResize *r = p;
  if (r)
    osh_resize_taps_clear (&r->taps);
  free (r);
}

static void
taps_for (OshResizeTap *taps, int64_t in, int64_t out, bool linear, bool align, bool half)
{
  double scale = align && out > 1 ? (double) (in - 1) / (double) (out - 1) : (double) in / out;
  for (int64_t o = 0; o < out; o++)
    {
      if (!linear)
        {
          double f = half ? (o + 0.5) * scale : o * scale;
          int64_t i = align ? (int64_t) floor (f + 0.5) : (int64_t) floor (f);
          i = i < 0 ? 0 : i >= in ? in - 1 : i;
          taps[o] = (OshResizeTap){ i, i, 0.0f };
          continue;
        }
      double f = half ? (o + 0.5) * scale - 0.5 : o * scale;
      double fl = floor (f);
      int64_t lo = fl < 0 ? 0 : (int64_t) fl, hi = (int64_t) ceil (f);
      hi = hi >= in ? in - 1 : hi < 0 ? 0 : hi;
      lo = lo >= in ? in - 1 : lo;
      taps[o] = (OshResizeTap){ lo, hi, (float) (f - fl) };
    }
}

bool
tf_resize_prepare (OshOpCall *c, OshError *err)
{
  if (!tf_resize_infer (c, err))
    return false;
  bool linear = strcmp (c->layer->class_name, "ResizeBilinear") == 0;
  bool align = osh_config_bool (c->layer->config, "align_corners", false);
  bool half = osh_config_bool (c->layer->config, "half_pixel_centers", false);
  const OshShape *i = &c->in[0], *o = &c->out[0];
  TfResize *r = calloc (1, sizeof *r);
  if (!r)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing a resize");
  c->params = r;
  c->free_params = resize_free;
  r->n = i->dim[0];
  r->ch = i->dim[3];
  if (!osh_resize_taps_init (&r->taps, i->dim[1], i->dim[2], o->dim[1], o->dim[2], linear, err))
    return false;
  taps_for (r->taps.y, i->dim[1], o->dim[1], linear, align, half);
  taps_for (r->taps.x, i->dim[2], o->dim[2], linear, align, half);
  c->flops = (double) osh_shape_numel (o) * (linear ? 6 : 0);
  return true;
}

void
tf_resize_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const TfResize *r = c->params;
  osh_resize_apply (&r->taps, in[0], out[0], r->n, r->ch);
}
