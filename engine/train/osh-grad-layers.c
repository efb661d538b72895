/* The head layers read from the graph, and their forward and backward kernels (Conv2D and
 * Dense are in osh-grad-conv.c, BatchNormalization in osh-grad-norm.c, activations in
 * osh-grad-activation.c). Formulas are the textbook ones; the comments say where Keras
 * makes a choice (padding, batch statistics, averaging over valid cells). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-grad.h"

/* ---------------------------------------------------------------- reading a layer */

static bool
config_pair (const json_t *c, const char *key, int fallback, int *a, int *b)
{
  int64_t v[2] = { fallback, fallback };
  const json_t *j = json_object_get (c, key);
  if (j && !json_is_null (j) && !osh_config_ints (c, key, v, 2))
    return false;
  *a = (int) v[0];
  *b = (int) v[1];
  return *a > 0 && *b > 0;
}

/* TensorFlow's padding: "same" puts the odd cell at the end. */
static int
pad_before (const char *padding, int in, int out, int k, int stride, int dilation)
{
  if (strcmp (padding, "same") != 0)
    return 0;
  int total = (out - 1) * stride + (k - 1) * dilation + 1 - in;
  return total > 0 ? total / 2 : 0;
}

static bool
take_weight (OshGraph *g, OshGradLayer *gl, int slot, int w, int64_t expect, OshError *err)
{
  OshLayer *l = &g->layers[gl->layer];
  if (w >= l->n_weights || osh_tensor_numel (l->weights[w].value) != expect)
    return osh_fail (err, OSH_ERR_SHAPE, "layer '%s' (%s): weight %d should hold %lld numbers",
                     l->name, l->class_name, w, (long long) expect);
  /* Updated in place: values another version of the graph also reads (osh_graph_copy_sharing)
   * are copied first. */
  if (!osh_tensor_make_owned (l->weights[w].value, err))
    return false;
  gl->wt[slot].w = l->weights[w].value->data;
  gl->wt[slot].n = expect;
  if (l->trainable && l->weights[w].trainable)
    {
      gl->wt[slot].g = calloc ((size_t) expect, sizeof (float));
      if (!gl->wt[slot].g)
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  return true;
}

static bool
unsupported (const OshLayer *l, const char *what, OshError *err)
{
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "layer '%s' (%s): training does not support %s",
                   l->name, l->class_name, what);
}

static bool
init_window (OshGradLayer *gl, const OshLayer *l, const OshGradValue *in, const OshGradValue *out,
             OshError *err)
{
  const json_t *c = l->config;
  bool conv = gl->kind == OSH_GRAD_CONV;
  if (in->shape.rank != 3 || out->shape.rank != 3)
    return unsupported (l, "inputs other than (height, width, channels)", err);
  if (strcmp (osh_config_string (c, "data_format", "channels_last"), "channels_last") != 0)
    return unsupported (l, "channels_first", err);
  if (!config_pair (c, conv ? "kernel_size" : "pool_size", 2, &gl->kh, &gl->kw))
    return unsupported (l, "this window size", err);
  const json_t *strides = json_object_get (c, "strides");
  if (!conv && (!strides || json_is_null (strides))) /* pooling: strides default to the window */
    gl->sh = gl->kh, gl->sw = gl->kw;
  else if (!config_pair (c, "strides", 1, &gl->sh, &gl->sw))
    return unsupported (l, "these strides", err);
  if (!config_pair (c, "dilation_rate", 1, &gl->dh, &gl->dw))
    return unsupported (l, "these dilations", err);
  const char *padding = osh_config_string (c, "padding", "valid");
  if (strcmp (padding, "same") != 0 && strcmp (padding, "valid") != 0)
    return unsupported (l, "this padding", err);
  gl->pt =
      pad_before (padding, (int) in->shape.dim[0], (int) out->shape.dim[0], gl->kh, gl->sh, gl->dh);
  gl->pl =
      pad_before (padding, (int) in->shape.dim[1], (int) out->shape.dim[1], gl->kw, gl->sw, gl->dw);
  return true;
}

static bool
init_activation (OshGradLayer *gl, const OshLayer *l, OshError *err)
{
  const char *name = osh_config_string (l->config, "activation", "linear");
  if (!osh_grad_parse_activation (name, &gl->act, &gl->alpha, &gl->cap))
    return unsupported (l, "this activation", err);
  return true;
}

static bool
init_relu_layer (OshGradLayer *gl, const OshLayer *l, OshError *err)
{
  gl->act = OSH_ACT_RELU;
  gl->alpha = (float) osh_config_double (l->config, "negative_slope", 0.0);
  const json_t *cap = json_object_get (l->config, "max_value");
  gl->cap = cap && json_is_number (cap) ? (float) json_number_value (cap) : 0.0f;
  if (osh_config_double (l->config, "threshold", 0.0) != 0.0)
    return unsupported (l, "a threshold", err);
  return true;
}

bool
osh_grad_layer_init (OshGraph *g, OshGradLayer *gl, OshGradValue *vals, int64_t max_batch,
                     OshGradScratch *scr, OshError *err)
{
  OshLayer *l = &g->layers[gl->layer];
  const char *cls = l->class_name;
  const json_t *c = l->config;
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int64_t C = in->shape.rank ? in->shape.dim[in->shape.rank - 1] : 1;
  int64_t N = out->shape.rank ? out->shape.dim[out->shape.rank - 1] : 1;
  bool single = gl->n_in == 1;
  if (strcmp (cls, "Conv2D") == 0 || strcmp (cls, "Dense") == 0)
    {
      gl->kind = cls[0] == 'C' ? OSH_GRAD_CONV : OSH_GRAD_DENSE;
      if (!single)
        return unsupported (l, "several inputs", err);
      if (gl->kind == OSH_GRAD_CONV && osh_config_int (c, "groups", 1) != 1)
        return unsupported (l, "grouped convolutions", err);
      if (gl->kind == OSH_GRAD_CONV ? !init_window (gl, l, in, out, err)
                                    : (gl->kh = gl->kw = gl->sh = gl->sw = 1, false))
        return false;
      if (!init_activation (gl, l, err))
        return false;
      int64_t K = (int64_t) gl->kh * gl->kw * C;
      if (!take_weight (g, gl, 0, 0, K * N, err)
          || (osh_config_bool (c, "use_bias", true) && !take_weight (g, gl, 1, 1, N, err)))
        return false;
      bool pointwise =
          gl->kh == 1 && gl->kw == 1 && gl->sh == 1 && gl->sw == 1 && gl->pt == 0 && gl->pl == 0;
      if (gl->kind == OSH_GRAD_CONV && !pointwise)
        {
          /* at most: the cols of classes without padding hold every tap */
          int64_t need = max_batch * out->shape.dim[0] * out->shape.dim[1] * K;
          if (!(gl->aux = malloc ((size_t) need * sizeof (float)))
              || !osh_grad_conv_rows_init (gl, in, out, max_batch))
            return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
          if (need > scr->cols_size)
            {
              free (scr->dcols);
              scr->dcols = malloc ((size_t) need * sizeof (float));
              scr->cols_size = need;
              if (!scr->dcols)
                return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
            }
        }
      if (gl->act != OSH_ACT_LINEAR
          && !(gl->pre = malloc ((size_t) (max_batch * out->numel) * sizeof (float))))
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return true;
    }
  if (strcmp (cls, "BatchNormalization") == 0)
    {
      gl->kind = OSH_GRAD_BN;
      int64_t axis = osh_config_int (c, "axis", -1);
      const json_t *ja = json_object_get (c, "axis");
      if (json_is_array (ja) && json_array_size (ja) == 1)
        axis = json_integer_value (json_array_get (ja, 0));
      if (axis != -1 && axis != in->shape.rank)
        return unsupported (l, "an axis other than the channels (the last)", err);
      gl->eps = (float) osh_config_double (c, "epsilon", 1e-3);
      gl->momentum = (float) osh_config_double (c, "momentum", 0.99);
      gl->frozen = !l->trainable;
      int w = 0;
      if (osh_config_bool (c, "scale", true) && !take_weight (g, gl, 0, w++, C, err))
        return false;
      if (osh_config_bool (c, "center", true) && !take_weight (g, gl, 1, w++, C, err))
        return false;
      if (!take_weight (g, gl, 2, w, C, err) || !take_weight (g, gl, 3, w + 1, C, err))
        return false;
      gl->aux = malloc ((size_t) (max_batch * in->numel) * sizeof (float));
      gl->mean = malloc ((size_t) C * sizeof (float));
      gl->inv_std = malloc ((size_t) C * sizeof (float));
      return gl->aux && gl->mean && gl->inv_std ? true
                                                : osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  gl->act = OSH_ACT_LINEAR;
  if (strcmp (cls, "Activation") == 0 || strcmp (cls, "ReLU") == 0 || strcmp (cls, "LeakyReLU") == 0
      || strcmp (cls, "Softmax") == 0)
    {
      gl->kind = OSH_GRAD_ACT;
      if (cls[0] == 'A')
        return init_activation (gl, l, err);
      if (cls[0] == 'S')
        {
          gl->act = OSH_ACT_SOFTMAX;
          return osh_config_int (c, "axis", -1) == -1 ? true : unsupported (l, "this axis", err);
        }
      if (cls[0] == 'L')
        {
          gl->act = OSH_ACT_RELU;
          gl->alpha =
              (float) osh_config_double (c, "negative_slope", osh_config_double (c, "alpha", 0.3));
          return true;
        }
      return init_relu_layer (gl, l, err);
    }
  if (strcmp (cls, "GlobalAveragePooling2D") == 0)
    {
      gl->kind = OSH_GRAD_GAP;
      return in->shape.rank == 3 ? true : unsupported (l, "this input rank", err);
    }
  if (strcmp (cls, "MaxPooling2D") == 0 || strcmp (cls, "AveragePooling2D") == 0)
    {
      gl->kind = cls[0] == 'M' ? OSH_GRAD_MAXPOOL : OSH_GRAD_AVGPOOL;
      gl->dh = gl->dw = 1;
      if (!init_window (gl, l, in, out, err))
        return false;
      if (gl->kind == OSH_GRAD_MAXPOOL
          && !(gl->aux = malloc ((size_t) (max_batch * out->numel) * sizeof (int32_t))))
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return true;
    }
  if (strcmp (cls, "UpSampling2D") == 0)
    {
      gl->kind = OSH_GRAD_UPSAMPLE;
      const char *interpolation = osh_config_string (c, "interpolation", "nearest");
      gl->bilinear = strcmp (interpolation, "bilinear") == 0;
      if (!gl->bilinear && strcmp (interpolation, "nearest") != 0)
        return unsupported (l, "interpolation other than nearest and bilinear", err);
      if (!config_pair (c, "size", 2, &gl->sh, &gl->sw) || in->shape.rank != 3)
        return unsupported (l, "this size", err);
      return true;
    }
  if (strcmp (cls, "Flatten") == 0 || strcmp (cls, "Reshape") == 0)
    {
      gl->kind = OSH_GRAD_COPY;
      return in->numel == out->numel ? true : unsupported (l, "a change of size", err);
    }
  if (strcmp (cls, "Add") == 0)
    {
      gl->kind = OSH_GRAD_ADD;
      for (int i = 0; i < gl->n_in; i++)
        if (vals[gl->in[i]].numel != out->numel)
          return unsupported (l, "broadcasting", err);
      return true;
    }
  if (strcmp (cls, "Concatenate") == 0)
    {
      gl->kind = OSH_GRAD_CONCAT;
      int64_t axis = osh_config_int (c, "axis", -1), rank = out->shape.rank + 1;
      axis = axis < 0 ? axis + rank : axis;
      if (axis < 1 || axis >= rank)
        return unsupported (l, "concatenating over the batch", err);
      gl->axis = (int) axis - 1;
      return true;
    }
  if (strcmp (cls, "Dropout") == 0)
    {
      gl->kind = OSH_GRAD_DROPOUT;
      const json_t *ns = json_object_get (c, "noise_shape");
      if (ns && !json_is_null (ns))
        return unsupported (l, "a noise shape", err);
      gl->rate = (float) osh_config_double (c, "rate", 0.5);
      if (!(gl->rate >= 0.0f && gl->rate < 1.0f))
        return unsupported (l, "this rate", err);
      if (!(gl->aux = malloc ((size_t) (max_batch * out->numel) * sizeof (float))))
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return true;
    }
  return unsupported (l, "this layer class", err);
}

bool
osh_grad_stores_fresh (const OshGradLayer *gl)
{
  return gl->kind == OSH_GRAD_BN || gl->kind == OSH_GRAD_ACT
         || ((gl->kind == OSH_GRAD_CONV || gl->kind == OSH_GRAD_DENSE)
             && osh_grad_conv_is_pointwise (gl));
}

void
osh_grad_layer_clear (OshGradLayer *gl)
{
  for (int i = 0; i < 4; i++)
    free (gl->wt[i].g);
  free (gl->pre);
  free (gl->aux);
  osh_grad_conv_rows_free (gl->rows);
  free (gl->mean);
  free (gl->inv_std);
}

/* ---------------------------------------------------------------- pooling, resizing */

static void
pool_forward (OshGradLayer *gl, OshGradValue *vals, int64_t batch)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int H = (int) in->shape.dim[0], W = (int) in->shape.dim[1], C = (int) in->shape.dim[2];
  int OH = (int) out->shape.dim[0], OW = (int) out->shape.dim[1];
  bool max = gl->kind == OSH_GRAD_MAXPOOL;
  int32_t *arg = (int32_t *) gl->aux;
  for (int64_t b = 0; b < batch; b++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        for (int c = 0; c < C; c++)
          {
            float best = -INFINITY, sum = 0;
            int32_t at = -1, count = 0;
            for (int ky = 0; ky < gl->kh; ky++)
              for (int kx = 0; kx < gl->kw; kx++)
                {
                  int iy = oy * gl->sh + ky - gl->pt, ix = ox * gl->sw + kx - gl->pl;
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                    continue; /* padding is never the maximum, nor counted in the mean */
                  int32_t i = (iy * W + ix) * C + c;
                  float v = in->x[b * in->numel + i];
                  sum += v;
                  count++;
                  if (v > best)
                    best = v, at = i;
                }
            int64_t o = b * out->numel + ((int64_t) oy * OW + ox) * C + c;
            if (max)
              out->x[o] = best, arg[o] = at;
            else
              out->x[o] = count ? sum / (float) count : 0.0f;
          }
}

static void
pool_backward (OshGradLayer *gl, OshGradValue *vals, int64_t batch)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  if (!in->dx)
    return;
  int H = (int) in->shape.dim[0], W = (int) in->shape.dim[1], C = (int) in->shape.dim[2];
  int OH = (int) out->shape.dim[0], OW = (int) out->shape.dim[1];
  const int32_t *arg = (const int32_t *) gl->aux;
  for (int64_t b = 0; b < batch; b++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        for (int c = 0; c < C; c++)
          {
            int64_t o = b * out->numel + ((int64_t) oy * OW + ox) * C + c;
            float d = out->dx[o];
            if (gl->kind == OSH_GRAD_MAXPOOL)
              {
                if (arg[o] >= 0)
                  in->dx[b * in->numel + arg[o]] += d;
                continue;
              }
            int y0 = oy * gl->sh - gl->pt, x0 = ox * gl->sw - gl->pl;
            int ya = y0 < 0 ? 0 : y0, xa = x0 < 0 ? 0 : x0;
            int yb = y0 + gl->kh > H ? H : y0 + gl->kh, xb = x0 + gl->kw > W ? W : x0 + gl->kw;
            int count = (yb - ya) * (xb - xa);
            if (count <= 0)
              continue;
            for (int iy = ya; iy < yb; iy++)
              for (int ix = xa; ix < xb; ix++)
                in->dx[b * in->numel + ((int64_t) iy * W + ix) * C + c] += d / (float) count;
          }
}

/* Bilinear sampling with half-pixel centres (tf.image.resize, which Keras's UpSampling2D
 * calls): output cell i reads source cells i0 and i1 with weights 1 − f and f. */
static void
bilinear_axis (int src, int dst, int i, int *i0, int *i1, float *f)
{
  double at = ((double) i + 0.5) * src / dst - 0.5;
  if (at < 0)
    at = 0;
  *i0 = (int) at;
  *i1 = *i0 + 1 < src ? *i0 + 1 : src - 1;
  *f = (float) (at - *i0);
}

static void
upsample (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool backward)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int H = (int) in->shape.dim[0], W = (int) in->shape.dim[1], C = (int) in->shape.dim[2];
  int OH = (int) out->shape.dim[0], OW = (int) out->shape.dim[1];
  for (int64_t b = 0; b < batch; b++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        {
          int y0 = oy / gl->sh, y1 = y0, x0 = ox / gl->sw, x1 = x0;
          float fy = 0, fx = 0;
          if (gl->bilinear)
            {
              bilinear_axis (H, OH, oy, &y0, &y1, &fy);
              bilinear_axis (W, OW, ox, &x0, &x1, &fx);
            }
          const int64_t at[4] = { (int64_t) y0 * W + x0, (int64_t) y0 * W + x1,
                                  (int64_t) y1 * W + x0, (int64_t) y1 * W + x1 };
          const float wt[4] = { (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx };
          int64_t o = b * out->numel + ((int64_t) oy * OW + ox) * C, base = b * in->numel;
          for (int c = 0; c < C; c++)
            {
              if (backward)
                for (int k = 0; k < 4; k++)
                  in->dx[base + at[k] * C + c] += wt[k] * out->dx[o + c];
              else
                out->x[o + c] =
                    wt[0] * in->x[base + at[0] * C + c] + wt[1] * in->x[base + at[1] * C + c]
                    + wt[2] * in->x[base + at[2] * C + c] + wt[3] * in->x[base + at[3] * C + c];
            }
        }
}

/* ---------------------------------------------------------------- merging */

static void
concat (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool backward)
{
  OshGradValue *out = &vals[gl->out];
  int64_t outer = 1;
  for (int d = 0; d < gl->axis; d++)
    outer *= out->shape.dim[d];
  int64_t out_inner = out->numel / outer;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t o = 0; o < outer; o++)
      {
        int64_t at = b * out->numel + o * out_inner;
        for (int i = 0; i < gl->n_in; i++)
          {
            OshGradValue *in = &vals[gl->in[i]];
            int64_t inner = in->numel / outer;
            int64_t from = b * in->numel + o * inner;
            if (!backward)
              memcpy (out->x + at, in->x + from, (size_t) inner * sizeof (float));
            else if (in->dx)
              for (int64_t j = 0; j < inner; j++)
                in->dx[from + j] += out->dx[at + j];
            at += inner;
          }
      }
}

/* xorshift64*: Dropout's masks, repeatable from the seed. */
static float
next_uniform (uint64_t *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return (float) ((*s * 2685821657736338717ULL) >> 40) / 16777216.0f;
}

/* ---------------------------------------------------------------- dispatch */

void
osh_grad_forward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training,
                  OshGradScratch *scr)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int64_t n = batch * out->numel;
  switch (gl->kind)
    {
    case OSH_GRAD_CONV:
    case OSH_GRAD_DENSE: osh_grad_conv_forward (gl, vals, batch); break;
    case OSH_GRAD_BN: osh_grad_bn_forward (gl, vals, batch, training); break;
    case OSH_GRAD_ACT:
      osh_grad_activate (gl->act, gl->alpha, gl->cap, in->x, out->x, n,
                         out->shape.dim[out->shape.rank - 1]);
      break;
    case OSH_GRAD_GAP:
      {
        int64_t C = in->shape.dim[2], P = in->numel / C;
        for (int64_t b = 0; b < batch; b++)
          for (int64_t c = 0; c < C; c++)
            {
              double s = 0;
              for (int64_t p = 0; p < P; p++)
                s += in->x[b * in->numel + p * C + c];
              out->x[b * C + c] = (float) (s / (double) P);
            }
        break;
      }
    case OSH_GRAD_MAXPOOL:
    case OSH_GRAD_AVGPOOL: pool_forward (gl, vals, batch); break;
    case OSH_GRAD_UPSAMPLE: upsample (gl, vals, batch, false); break;
    case OSH_GRAD_COPY: memcpy (out->x, in->x, (size_t) n * sizeof (float)); break;
    case OSH_GRAD_ADD:
      memcpy (out->x, in->x, (size_t) n * sizeof (float));
      for (int i = 1; i < gl->n_in; i++)
        for (int64_t j = 0; j < n; j++)
          out->x[j] += vals[gl->in[i]].x[j];
      break;
    case OSH_GRAD_CONCAT: concat (gl, vals, batch, false); break;
    case OSH_GRAD_DROPOUT:
      {
        float keep = 1.0f / (1.0f - gl->rate);
        for (int64_t j = 0; j < n; j++)
          {
            gl->aux[j] = !training ? 1.0f : next_uniform (&scr->rng) >= gl->rate ? keep : 0.0f;
            out->x[j] = in->x[j] * gl->aux[j];
          }
        break;
      }
    }
}

void
osh_grad_backward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training,
                   OshGradScratch *scr)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int64_t n = batch * out->numel;
  switch (gl->kind)
    {
    case OSH_GRAD_CONV:
    case OSH_GRAD_DENSE: osh_grad_conv_backward (gl, vals, batch, scr); break;
    case OSH_GRAD_BN:
      osh_grad_bn_backward (gl, vals, batch, training);
      in->fresh = false;
      break;
    case OSH_GRAD_ACT:
      if (in->dx)
        osh_grad_activate_backward_add (gl->act, gl->alpha, gl->cap, in->x, out->x, out->dx, in->dx,
                                        n, out->shape.dim[out->shape.rank - 1], in->fresh);
      in->fresh = false;
      break;
    case OSH_GRAD_GAP:
      {
        int64_t C = in->shape.dim[2], P = in->numel / C;
        for (int64_t b = 0; in->dx && b < batch; b++)
          for (int64_t p = 0; p < P; p++)
            for (int64_t c = 0; c < C; c++)
              in->dx[b * in->numel + p * C + c] += out->dx[b * C + c] / (float) P;
        break;
      }
    case OSH_GRAD_MAXPOOL:
    case OSH_GRAD_AVGPOOL: pool_backward (gl, vals, batch); break;
    case OSH_GRAD_UPSAMPLE:
      if (in->dx)
        upsample (gl, vals, batch, true);
      break;
    case OSH_GRAD_COPY:
      for (int64_t j = 0; in->dx && j < n; j++)
        in->dx[j] += out->dx[j];
      break;
    case OSH_GRAD_ADD:
      for (int i = 0; i < gl->n_in; i++)
        for (int64_t j = 0; vals[gl->in[i]].dx && j < n; j++)
          vals[gl->in[i]].dx[j] += out->dx[j];
      break;
    case OSH_GRAD_CONCAT: concat (gl, vals, batch, true); break;
    case OSH_GRAD_DROPOUT:
      for (int64_t j = 0; in->dx && j < n; j++)
        in->dx[j] += out->dx[j] * gl->aux[j];
      break;
    }
}
