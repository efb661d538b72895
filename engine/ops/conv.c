/* Convolutions: Conv1D, Conv2D (groups, dilation, strides), DepthwiseConv2D,
 * SeparableConv2D, Conv2DTranspose. Data is NHWC (channels_last); kernels are
 * Keras's (kh, kw, in, out). */
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"

typedef enum
{
  CONV_PLAIN,
  CONV_DEPTHWISE,
  CONV_SEPARABLE,
  CONV_TRANSPOSE,
} ConvKind;

typedef struct
{
  ConvKind kind;
  int sp;          /* spatial rank: 1 or 2 */
  bool cf;         /* channels_first */
  bool same;       /* padding same (or causal) */
  bool causal;     /* Conv1D causal: all padding in front */
  int64_t k[2], s[2], d[2], outpad[2];
  bool has_outpad;
  int64_t groups, dm, filters;
  int64_t cin, cout;
  int64_t in_sp[2], out_sp[2], pad[2];
  int64_t batch;
  bool bias;
  OshAct act;
} ConvGeom;

/* Position of the channel axis and the first spatial axis of a rank sp+2 tensor. */
static int
chan_axis (const ConvGeom *g)
{
  return g->cf ? 1 : g->sp + 1;
}

static int
sp_axis (const ConvGeom *g, int i)
{
  return g->cf ? 2 + i : 1 + i;
}

static int64_t
transpose_out (int64_t in, int64_t k, int64_t s, int64_t d, bool same, int64_t outpad,
               bool has_outpad)
{
  if (in < 0)
    return -1;
  int64_t eff = (k - 1) * d + 1;
  if (!has_outpad)
    return same ? in * s : in * s + (eff - s > 0 ? eff - s : 0);
  int64_t pad = same ? eff / 2 : 0;
  return (in - 1) * s + eff - 2 * pad + outpad;
}

static bool
conv_geom (const OshOpCall *c, ConvKind kind, int sp, ConvGeom *g, OshError *err)
{
  memset (g, 0, sizeof *g);
  g->kind = kind;
  g->sp = sp;
  g->cf = osh_op_channels_first (c);
  if (!osh_op_need (c, 1, sp + 2, sp + 2, err))
    return false;
  if (!osh_op_padding (c, &g->same, err))
    return false;
  const char *p = osh_config_string (c->layer->config, "padding", "valid");
  g->causal = strcmp (p, "causal") == 0;
  if (!osh_op_ints (c, "kernel_size", g->k, sp, 1, 1, err)
      || !osh_op_ints (c, "strides", g->s, sp, 1, 1, err)
      || !osh_op_ints (c, "dilation_rate", g->d, sp, 1, 1, err)
      || !osh_op_ints (c, "groups", &g->groups, 1, 1, 1, err)
      || !osh_op_ints (c, "depth_multiplier", &g->dm, 1, 1, 1, err))
    return false;
  const json_t *op = json_object_get (c->layer->config, "output_padding");
  g->has_outpad = kind == CONV_TRANSPOSE && op && !json_is_null (op);
  if (g->has_outpad && !osh_op_ints (c, "output_padding", g->outpad, sp, 0, 0, err))
    return false;
  const OshShape *in = &c->in[0];
  g->batch = in->dim[0];
  g->cin = in->dim[chan_axis (g)];
  for (int i = 0; i < sp; i++)
    g->in_sp[i] = in->dim[sp_axis (g, i)];
  g->bias = osh_config_bool (c->layer->config, "use_bias", true);
  if (!osh_act_from_config (c, &g->act, err))
    return false;

  /* Output channels and weight checks: the weights decide when present. */
  int64_t filters = osh_config_int (c->layer->config, "filters", -1);
  int nw = c->layer->n_weights;
  int64_t kd[4] = { 0 };
  for (int i = 0; i < sp; i++)
    kd[i] = g->k[i];
  switch (kind)
    {
    case CONV_PLAIN:
      if (g->cin > 0 && g->cin % g->groups)
        return osh_fail (err, OSH_ERR_SHAPE, "%lld input channels do not split into %lld groups",
                         (long long) g->cin, (long long) g->groups);
      if (nw > 0)
        {
          kd[sp] = g->cin > 0 ? g->cin / g->groups : -1;
          kd[sp + 1] = filters;
          if (!osh_op_check_weight (c, 0, sp + 2, kd, "kernel", err))
            return false;
          filters = osh_op_weight (c, 0)->shape.dim[sp + 1];
        }
      g->cout = filters;
      break;
    case CONV_DEPTHWISE:
    case CONV_SEPARABLE:
      if (nw > 0)
        {
          kd[sp] = g->cin;
          kd[sp + 1] = -1;
          if (!osh_op_check_weight (c, 0, sp + 2, kd, "depthwise kernel", err))
            return false;
          g->dm = osh_op_weight (c, 0)->shape.dim[sp + 1];
        }
      g->cout = g->cin > 0 ? g->cin * g->dm : -1;
      if (kind == CONV_DEPTHWISE)
        break;
      if (nw > 0)
        {
          int64_t pd[4] = { 1, 1, 1, 1 };
          pd[sp] = g->cout;
          pd[sp + 1] = filters;
          if (!osh_op_check_weight (c, 1, sp + 2, pd, "pointwise kernel", err))
            return false;
          filters = osh_op_weight (c, 1)->shape.dim[sp + 1];
        }
      g->cout = filters;
      break;
    case CONV_TRANSPOSE:
      if (nw > 0)
        {
          kd[sp] = filters;
          kd[sp + 1] = g->cin;
          if (!osh_op_check_weight (c, 0, sp + 2, kd, "kernel", err))
            return false;
          filters = osh_op_weight (c, 0)->shape.dim[sp];
        }
      g->cout = filters;
      break;
    }
  if (g->cout <= 0 && g->cin >= 0)
    return osh_fail (err, OSH_ERR_FORMAT, "no \"filters\" in the config and no kernel weight");
  int bias_w = kind == CONV_SEPARABLE ? 2 : 1;
  if (g->bias && nw > 0)
    {
      int64_t bd[1] = { g->cout };
      if (!osh_op_check_weight (c, bias_w, 1, bd, "bias", err))
        return false;
    }

  for (int i = 0; i < sp; i++)
    {
      if (kind == CONV_TRANSPOSE)
        g->out_sp[i] = transpose_out (g->in_sp[i], g->k[i], g->s[i], g->d[i], g->same,
                                      g->outpad[i], g->has_outpad);
      else
        g->out_sp[i] = osh_op_window_out (g->in_sp[i], g->k[i], g->s[i], g->d[i], g->same);
      if (g->out_sp[i] == 0)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "a %lld-wide input is smaller than the %lld-wide kernel (dilation %lld)",
                         (long long) g->in_sp[i], (long long) g->k[i], (long long) g->d[i]);
      if (g->in_sp[i] > 0 && kind != CONV_TRANSPOSE)
        g->pad[i] = !g->same ? 0
                    : g->causal ? (g->k[i] - 1) * g->d[i]
                                : osh_op_same_pad (g->in_sp[i], g->k[i], g->s[i], g->d[i]);
    }
  return true;
}

static void
conv_out_shape (const ConvGeom *g, OshShape *out)
{
  out->rank = g->sp + 2;
  out->dim[0] = g->batch;
  out->dim[chan_axis (g)] = g->cout;
  for (int i = 0; i < g->sp; i++)
    out->dim[sp_axis (g, i)] = g->out_sp[i];
}

static bool
conv_infer (OshOpCall *c, ConvKind kind, int sp, OshError *err)
{
  ConvGeom g;
  if (!conv_geom (c, kind, sp, &g, err))
    return false;
  conv_out_shape (&g, &c->out[0]);
  return true;
}

#define CONV_INFER(fn, kind, sp)                                                                   \
  bool fn (OshOpCall *c, OshError *err);                                                           \
  bool fn (OshOpCall *c, OshError *err) { return conv_infer (c, kind, sp, err); }

CONV_INFER (osh_conv1d_infer, CONV_PLAIN, 1)
CONV_INFER (osh_conv2d_infer, CONV_PLAIN, 2)
CONV_INFER (osh_depthwise2d_infer, CONV_DEPTHWISE, 2)
CONV_INFER (osh_separable2d_infer, CONV_SEPARABLE, 2)
CONV_INFER (osh_transpose2d_infer, CONV_TRANSPOSE, 2)
