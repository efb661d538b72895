/* Keras layers lowered to ONNX nodes: the one rule per Keras layer class, used by the Keras →
 * ONNX exporter (engine/io/osh-onnx-from-keras.c, which walks the graph) and by heads attached to
 * ONNX graphs (the dialect's lower_keras_layer).
 *
 * Keras computes channels-last; ONNX convolutions are channels-first. Every 4-D tensor is held
 * NCHW (OshOnnxValue.nchw): kernels are permuted once here (HWIO → OIHW), per-channel constants
 * are shaped (C, 1, 1), and where Keras's element order matters (Flatten, Reshape) the tensor
 * goes back to NHWC first. The values are the Keras layer's, so the same layer on the same
 * tensor gives the same numbers in both dialects.
 *
 * Nodes are named "<layer>/<Op>_<n>" for the exporter; for a head (as_head) the layer's last
 * node (the one the next step reads) takes the layer's name and the others "<layer>_<op>"
 * (aux_head_out_gemm), a linear Activation becomes an Identity so every head layer is a node,
 * and the weights are trainable (a BatchNormalization's statistics excepted).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-onnx.h"
#include "osh-op.h"

/* A node's name: the exporter's "<layer>/<Op>_<n>", or a head's "<layer>_<op>" (conv, gemm, gap
 * for GlobalAveragePool, else the op in lower case; _2, _3 ... when the layer has one already). */
static void
node_name (OshOnnxLowering *c, const char *base, const char *op, char *name, size_t size)
{
  if (!c->as_head)
    {
      snprintf (name, size, "%.500s/%s_%d", base, op, c->counter++);
      return;
    }
  char sfx[32];
  snprintf (sfx, sizeof sfx, "%s", !strcmp (op, "GlobalAveragePool") ? "gap" : op);
  for (char *p = sfx; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  snprintf (name, size, "%.500s_%s", base, sfx);
  for (int k = 2; osh_graph_find_path (c->o, name) >= 0; k++)
    snprintf (name, size, "%.500s_%s_%d", base, sfx, k);
}

/* ---- emitting ONNX nodes ---- */

typedef struct
{
  char kind;        /* 't' tensor, 'w' constant, 'a' absent optional input, 0 end */
  OshRef ref;       /* for 't' */
  OshTensor *value; /* for 'w' (taken over) */
} Slot;

static Slot
T (OshRef r)
{
  return (Slot){ 't', r, NULL };
}

static Slot
W (OshTensor *v)
{
  return (Slot){ 'w', { -1, 0 }, v };
}

static Slot
A (void)
{
  return (Slot){ 'a', { -1, 0 }, NULL };
}

/* Adds ONNX op `op` named after `base`, with `slots` (ended by kind 0) and attributes `attrs`
 * (stolen); returns its first output or { -1 } with c->err set. */
static OshRef
emit (OshOnnxLowering *c, const char *op, const char *base, const Slot *slots, json_t *attrs)
{
  OshRef fail = { -1, 0 };
  char name[600];
  node_name (c, base, op, name, sizeof name);
  json_t *cfg = attrs ? attrs : json_object ();
  json_t *outs = json_array ();
  OshRef refs[16];
  OshSlotKind kinds[16];
  int n_refs = 0, n_slots = 0;
  for (; slots[n_slots].kind && n_slots < 16; n_slots++)
    {
      char k = slots[n_slots].kind;
      kinds[n_slots] = k == 't'   ? OSH_SLOT_ACTIVATION
                       : k == 'w' ? OSH_SLOT_WEIGHT
                                  : OSH_SLOT_ABSENT;
      if (k == 't')
        refs[n_refs++] = slots[n_slots].ref;
    }
  json_array_append_new (outs, json_string (name));
  json_object_set_new (cfg, OSH_ONNX_OUTPUT_NAMES, outs);
  int layer = osh_graph_add_layer (c->o, -1, name, op, cfg, c->err);
  bool ok = layer >= 0;
  for (int i = 0; slots[i].kind; i++)
    if (slots[i].kind == 'w')
      {
        if (ok)
          ok = osh_layer_add_weight (c->o, layer, "", slots[i].value,
                                     c->as_head && (strcmp (op, "BatchNormalization") || i < 3),
                                     c->err);
        else
          osh_tensor_free (slots[i].value);
      }
  ok = ok && osh_layer_set_slots (c->o, layer, kinds, n_slots, c->err);
  int node = ok ? osh_graph_add_node (c->o, layer, refs, n_refs, 1, c->err) : -1;
  return node < 0 ? fail : (OshRef){ node, 0 };
}

static OshTensor *
vec (const float *v, int64_t n, OshError *err)
{
  OshShape s = osh_shape_make (1, (int64_t[]){ n });
  OshTensor *t = osh_tensor_new (&s, err);
  if (t && v)
    memcpy (t->data, v, (size_t) n * sizeof (float));
  return t;
}

static OshTensor *
ints (const int64_t *v, int n, OshError *err)
{
  OshTensor *t = vec (NULL, n, err);
  for (int i = 0; t && i < n; i++)
    t->data[i] = (float) v[i];
  return t;
}

static json_t *
int_list (const int64_t *v, int n)
{
  json_t *a = json_array ();
  for (int i = 0; i < n; i++)
    json_array_append_new (a, json_integer (v[i]));
  return a;
}

static OshRef
transpose (OshOnnxLowering *c, const char *base, OshRef x, const int64_t perm[4])
{
  return emit (c, "Transpose", base, (Slot[]){ T (x), { 0 } },
               json_pack ("{s:o}", "perm", int_list (perm, 4)));
}

static const int64_t TO_NCHW[4] = { 0, 3, 1, 2 }, TO_NHWC[4] = { 0, 2, 3, 1 };

/* A per-channel constant broadcastable onto x: (C,) for 2-D, (C, 1, 1) for NCHW. */
static OshTensor *
channel_const (const OshOnnxValue *x, const float *v, int64_t n, OshError *err)
{
  OshTensor *t = vec (v, n, err);
  if (t && x->nchw && n > 1)
    t->shape = osh_shape_make (3, (int64_t[]){ n, 1, 1 });
  return t;
}

/* ---- activations ---- */

static OshRef
activation (OshOnnxLowering *c, const char *base, const OshOnnxValue *x, const char *name)
{
  OshRef r = x->ref;
  if (!name || !strcmp (name, "linear"))
    return r;
  const char *simple[][2] = { { "relu", "Relu" },           { "sigmoid", "Sigmoid" },
                              { "tanh", "Tanh" },           { "elu", "Elu" },
                              { "selu", "Selu" },           { "softplus", "Softplus" },
                              { "softsign", "Softsign" },   { "exponential", "Exp" },
                              { "hard_swish", "HardSwish" } };
  for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
    if (!strcmp (name, simple[i][0]))
      return emit (c, simple[i][1], base, (Slot[]){ T (r), { 0 } }, NULL);
  if (!strcmp (name, "relu6"))
    return emit (c, "Clip", base,
                 (Slot[]){ T (r),
                           W (vec ((float[]){ 0 }, 1, c->err)),
                           W (vec ((float[]){ 6 }, 1, c->err)),
                           { 0 } },
                 NULL);
  if (!strcmp (name, "swish") || !strcmp (name, "silu"))
    {
      OshRef s = emit (c, "Sigmoid", base, (Slot[]){ T (r), { 0 } }, NULL);
      return s.node < 0 ? s : emit (c, "Mul", base, (Slot[]){ T (r), T (s), { 0 } }, NULL);
    }
  if (!strcmp (name, "hard_sigmoid"))
    {
      /* Keras 3 defines it as relu6(x + 3) / 6; Keras 2 and tfjs as 0.2x + 0.5, clipped. */
      bool k3 = c->keras3;
      return emit (c, "HardSigmoid", base, (Slot[]){ T (r), { 0 } },
                   json_pack ("{s:f, s:f}", "alpha", k3 ? 1.0 / 6.0 : 0.2, "beta", 0.5));
    }
  if (!strcmp (name, "softmax"))
    return emit (c, "Softmax", base, (Slot[]){ T (r), { 0 } },
                 json_pack ("{s:i}", "axis", x->nchw ? 1 : -1));
  if (!strcmp (name, "leaky_relu"))
    return emit (c, "LeakyRelu", base, (Slot[]){ T (r), { 0 } }, json_pack ("{s:f}", "alpha", 0.2));
  osh_fail (c->err, OSH_ERR_UNSUPPORTED, "activation '%s' has no ONNX export yet", name);
  return (OshRef){ -1, 0 };
}

/* ---- layers ---- */

/* Keras's padding in attrs: TF "same" as explicit ONNX pads [top, left, bottom, right]
 * (osh_op_window's rule), or as auto_pad SAME_UPPER (the same split) where the input size is
 * open and the pads depend on it. */
static void
set_padding (json_t *attrs, const json_t *cfg, const OshShape *in, const int64_t *k,
             const int64_t *s, const int64_t *d)
{
  int64_t pads[4] = { 0 };
  bool same = !strcmp (osh_config_string (cfg, "padding", "valid"), "same");
  if (same && (in->dim[1] < 0 || in->dim[2] < 0))
    {
      json_object_set_new (attrs, "auto_pad", json_string ("SAME_UPPER"));
      return;
    }
  for (int a = 0; same && a < 2; a++)
    osh_op_window (in->dim[1 + a], k[a], s[a], d[a], OSH_PAD_SAME_UPPER, false, &pads[a],
                   &pads[a + 2]);
  json_object_set_new (attrs, "pads", int_list (pads, 4));
}

/* Conv on NCHW `x` with a Keras kernel in HWIO (or depthwise H W C M) layout. */
static OshRef
conv (OshOnnxLowering *c, const char *base, const OshOnnxValue *x, const OshTensor *kernel,
      const OshTensor *bias, const json_t *cfg, bool depthwise, int64_t groups)
{
  int64_t kh = kernel->shape.dim[0], kw = kernel->shape.dim[1];
  int64_t ci = kernel->shape.dim[2], co = kernel->shape.dim[3];
  int64_t out_ch = depthwise ? ci * co : co, in_per_group = depthwise ? 1 : ci;
  OshShape ws = osh_shape_make (4, (int64_t[]){ out_ch, in_per_group, kh, kw });
  OshTensor *w = osh_tensor_new (&ws, c->err);
  if (!w)
    return (OshRef){ -1, 0 };
  for (int64_t y = 0; y < kh; y++)
    for (int64_t xx = 0; xx < kw; xx++)
      for (int64_t i = 0; i < ci; i++)
        for (int64_t o = 0; o < co; o++)
          {
            float v = kernel->data[((y * kw + xx) * ci + i) * co + o];
            int64_t oc = depthwise ? i * co + o : o, ic = depthwise ? 0 : i;
            w->data[((oc * in_per_group + ic) * kh + y) * kw + xx] = v;
          }
  int64_t k[2] = { kh, kw }, s[2], d[2];
  if (!osh_config_ints (cfg, "strides", s, 2))
    s[0] = s[1] = 1;
  if (!osh_config_ints (cfg, "dilation_rate", d, 2))
    d[0] = d[1] = 1;
  json_t *attrs = json_pack ("{s:o, s:o, s:o, s:I}", "kernel_shape", int_list (k, 2), "strides",
                             int_list (s, 2), "dilations", int_list (d, 2), "group",
                             (json_int_t) (depthwise ? ci : groups));
  set_padding (attrs, cfg, &x->shape, k, s, d);
  Slot slots[4] = { T (x->ref), W (w), { 0 }, { 0 } };
  if (bias)
    slots[2] = W (vec (bias->data, osh_tensor_numel (bias), c->err));
  return emit (c, "Conv", base, slots, attrs);
}

/* ConvTranspose on NCHW `x` with a Keras Conv2DTranspose kernel (kh, kw, out, in), to the Keras
 * output size `out` (known sizes): "same" crops the total overhang as TF's gradient of a "same"
 * convolution does (the smaller half first), a short size is made up by output_padding. */
static OshRef
conv_transpose (OshOnnxLowering *c, const char *base, const OshOnnxValue *x,
                const OshTensor *kernel, const OshTensor *bias, const json_t *cfg,
                const OshShape *out)
{
  int64_t kh = kernel->shape.dim[0], kw = kernel->shape.dim[1];
  int64_t co = kernel->shape.dim[2], ci = kernel->shape.dim[3];
  int64_t k[2] = { kh, kw }, s[2], d[2], pads[4] = { 0 }, extra[2] = { 0 };
  if (!osh_config_ints (cfg, "strides", s, 2))
    s[0] = s[1] = 1;
  if (!osh_config_ints (cfg, "dilation_rate", d, 2))
    d[0] = d[1] = 1;
  bool same = !strcmp (osh_config_string (cfg, "padding", "valid"), "same");
  for (int a = 0; a < 2; a++)
    {
      int64_t in = x->shape.dim[1 + a], o = out->dim[1 + a];
      if (in < 0 || o < 0)
        {
          osh_fail (c->err, OSH_ERR_UNSUPPORTED,
                    "layer '%s': a transposed convolution of an open size has no ONNX export yet",
                    base);
          return (OshRef){ -1, 0 };
        }
      int64_t total = s[a] * (in - 1) + (k[a] - 1) * d[a] + 1 - o;
      if (same && total > 0)
        {
          pads[a] = total / 2;
          pads[a + 2] = total - total / 2;
        }
      else if (total < 0)
        extra[a] = -total;
      else if (total > 0)
        pads[a + 2] = total;
    }
  OshShape ws = osh_shape_make (4, (int64_t[]){ ci, co, kh, kw });
  OshTensor *w = osh_tensor_new (&ws, c->err);
  if (!w)
    return (OshRef){ -1, 0 };
  for (int64_t y = 0; y < kh; y++)
    for (int64_t xx = 0; xx < kw; xx++)
      for (int64_t o = 0; o < co; o++)
        for (int64_t i = 0; i < ci; i++)
          w->data[((i * co + o) * kh + y) * kw + xx] =
              kernel->data[((y * kw + xx) * co + o) * ci + i];
  json_t *attrs = json_pack ("{s:o, s:o, s:o, s:o, s:o}", "kernel_shape", int_list (k, 2),
                             "strides", int_list (s, 2), "dilations", int_list (d, 2), "pads",
                             int_list (pads, 4), "output_padding", int_list (extra, 2));
  Slot slots[4] = { T (x->ref), W (w), { 0 }, { 0 } };
  if (bias)
    slots[2] = W (vec (bias->data, osh_tensor_numel (bias), c->err));
  return emit (c, "ConvTranspose", base, slots, attrs);
}

static OshRef
pool (OshOnnxLowering *c, const char *base, const OshOnnxValue *x, const json_t *cfg, bool max)
{
  int64_t k[2], s[2], d[2] = { 1, 1 };
  if (!osh_config_ints (cfg, "pool_size", k, 2))
    k[0] = k[1] = 2;
  if (!osh_config_ints (cfg, "strides", s, 2))
    memcpy (s, k, sizeof s);
  json_t *attrs =
      json_pack ("{s:o, s:o}", "kernel_shape", int_list (k, 2), "strides", int_list (s, 2));
  set_padding (attrs, cfg, &x->shape, k, s, d);
  if (!max)
    json_object_set_new (attrs, "count_include_pad", json_integer (0));
  return emit (c, max ? "MaxPool" : "AveragePool", base, (Slot[]){ T (x->ref), { 0 } }, attrs);
}

/* The rules, one per Keras layer class: out->ref is set, or the layer has no ONNX form. */
static bool
lower_rules (OshOnnxLowering *c, const OshLayer *l, const OshOnnxValue *in, int n_in,
             OshOnnxValue *out)
{
  const json_t *cfg = l->config;
  const char *cls = l->class_name;
  const char *base = l->name;
  const OshOnnxValue *x = n_in ? &in[0] : NULL;
  const OshTensor *w0 = l->n_weights > 0 ? l->weights[0].value : NULL;
  const OshTensor *w1 = l->n_weights > 1 ? l->weights[1].value : NULL;
  OshRef r = { -1, 0 };

  if (!strcmp (osh_config_string (cfg, "data_format", "channels_last"), "channels_first"))
    return osh_fail (c->err, OSH_ERR_UNSUPPORTED,
                     "layer '%s': channels_first layers have no ONNX "
                     "export yet",
                     base);
  if (!x)
    return osh_fail (c->err, OSH_ERR_FORMAT, "layer '%s' reads no tensor", base);
  if ((strstr (cls, "Conv2D") || !strcmp (cls, "Dense")) && (!w0 || w0->shape.rank < 2))
    return osh_fail (c->err, OSH_ERR_FORMAT, "layer '%s' (%s) has no kernel", base, cls);
  if (!strcmp (cls, "Conv2D") || !strcmp (cls, "DepthwiseConv2D"))
    {
      bool dw = !strcmp (cls, "DepthwiseConv2D");
      bool bias = osh_config_bool (cfg, "use_bias", true);
      r = conv (c, base, x, w0, bias ? w1 : NULL, cfg, dw, osh_config_int (cfg, "groups", 1));
      OshOnnxValue t = { r, true, out->shape };
      if (r.node >= 0)
        r = activation (c, base, &t, osh_config_string (cfg, "activation", "linear"));
    }
  else if (!strcmp (cls, "Conv2DTranspose"))
    {
      bool bias = osh_config_bool (cfg, "use_bias", true);
      r = conv_transpose (c, base, x, w0, bias ? w1 : NULL, cfg, &out->shape);
      OshOnnxValue t = { r, true, out->shape };
      if (r.node >= 0)
        r = activation (c, base, &t, osh_config_string (cfg, "activation", "linear"));
    }
  else if (!strcmp (cls, "SeparableConv2D"))
    {
      bool bias = osh_config_bool (cfg, "use_bias", true);
      const OshTensor *pw = w1, *b = bias && l->n_weights > 2 ? l->weights[2].value : NULL;
      r = conv (c, base, x, w0, NULL, cfg, true, 1);
      json_t *one = json_pack ("{s:[i,i], s:[i,i], s:s}", "strides", 1, 1, "dilation_rate", 1, 1,
                               "padding", "valid");
      OshOnnxValue mid = { r, true, x->shape };
      if (r.node >= 0 && pw)
        r = conv (c, base, &mid, pw, b, one, false, 1);
      json_decref (one);
      OshOnnxValue t = { r, true, out->shape };
      if (r.node >= 0)
        r = activation (c, base, &t, osh_config_string (cfg, "activation", "linear"));
    }
  else if (!strcmp (cls, "Dense"))
    {
      if (x->shape.rank != 2)
        return osh_fail (c->err, OSH_ERR_UNSUPPORTED,
                         "layer '%s': Dense on rank %d has no ONNX export yet: it needs a 2-D "
                         "input (put gap before it)",
                         base, x->shape.rank);
      bool bias = osh_config_bool (cfg, "use_bias", true) && w1;
      Slot slots[4] = { T (x->ref), W (osh_tensor_copy (w0, c->err)), { 0 }, { 0 } };
      if (bias)
        slots[2] = W (osh_tensor_copy (w1, c->err));
      r = emit (c, "Gemm", base, slots, NULL);
      OshOnnxValue t = { r, false, out->shape };
      if (r.node >= 0)
        r = activation (c, base, &t, osh_config_string (cfg, "activation", "linear"));
    }
  else if (!strcmp (cls, "BatchNormalization"))
    {
      bool scale = osh_config_bool (cfg, "scale", true),
           center = osh_config_bool (cfg, "center", true);
      int wi = 0;
      int64_t ch = l->weights[l->n_weights - 1].value->shape.dim[0];
      OshTensor *gamma =
          scale ? osh_tensor_copy (l->weights[wi++].value, c->err) : vec (NULL, ch, c->err);
      OshTensor *beta =
          center ? osh_tensor_copy (l->weights[wi++].value, c->err) : vec (NULL, ch, c->err);
      for (int64_t i = 0; !scale && gamma && i < ch; i++)
        gamma->data[i] = 1.0f;
      r = emit (c, "BatchNormalization", base,
                (Slot[]){ T (x->ref),
                          W (gamma),
                          W (beta),
                          W (osh_tensor_copy (l->weights[wi].value, c->err)),
                          W (osh_tensor_copy (l->weights[wi + 1].value, c->err)),
                          { 0 } },
                json_pack ("{s:f}", "epsilon", osh_config_double (cfg, "epsilon", 1e-3)));
    }
  else if (!strcmp (cls, "Activation"))
    r = activation (c, base, x, osh_config_string (cfg, "activation", "linear"));
  else if (!strcmp (cls, "ReLU"))
    {
      double maxv = osh_config_double (cfg, "max_value", -1);
      if (osh_config_double (cfg, "negative_slope", 0) != 0
          || osh_config_double (cfg, "threshold", 0) != 0)
        return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "layer '%s': ReLU with a slope or threshold",
                         base);
      r = maxv > 0 ? emit (c, "Clip", base,
                           (Slot[]){ T (x->ref),
                                     W (vec ((float[]){ 0 }, 1, c->err)),
                                     W (vec ((float[]){ (float) maxv }, 1, c->err)),
                                     { 0 } },
                           NULL)
                   : activation (c, base, x, "relu");
    }
  else if (!strcmp (cls, "LeakyReLU"))
    r = emit (c, "LeakyRelu", base, (Slot[]){ T (x->ref), { 0 } },
              json_pack ("{s:f}", "alpha",
                         osh_config_double (cfg, "alpha",
                                            osh_config_double (cfg, "negative_slope", 0.3))));
  else if (!strcmp (cls, "ELU"))
    r = emit (c, "Elu", base, (Slot[]){ T (x->ref), { 0 } },
              json_pack ("{s:f}", "alpha", osh_config_double (cfg, "alpha", 1.0)));
  else if (!strcmp (cls, "Softmax"))
    r = activation (c, base, x, "softmax");
  else if (!strcmp (cls, "Add") || !strcmp (cls, "Subtract") || !strcmp (cls, "Multiply")
           || !strcmp (cls, "Maximum") || !strcmp (cls, "Minimum") || !strcmp (cls, "Average"))
    {
      const char *op = !strcmp (cls, "Subtract")   ? "Sub"
                       : !strcmp (cls, "Multiply") ? "Mul"
                       : !strcmp (cls, "Maximum")  ? "Max"
                       : !strcmp (cls, "Minimum")  ? "Min"
                                                   : "Sum";
      Slot slots[17] = { 0 };
      for (int i = 0; i < n_in && i < 16; i++)
        {
          /* Keras broadcasting of a (1, 1, C) squeeze-excite gate holds in NCHW as (C, 1, 1). */
          if (in[i].nchw != out->nchw)
            return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "layer '%s': inputs of different ranks",
                             base);
          slots[i] = T (in[i].ref);
        }
      r = emit (c, op, base, slots, NULL);
      if (r.node >= 0 && !strcmp (cls, "Average"))
        r = emit (c, "Mul", base,
                  (Slot[]){ T (r), W (vec ((float[]){ 1.0f / (float) n_in }, 1, c->err)), { 0 } },
                  NULL);
    }
  else if (!strcmp (cls, "Concatenate"))
    {
      int64_t axis = osh_config_int (cfg, "axis", -1);
      int rank = out->shape.rank;
      axis = axis < 0 ? axis + rank : axis;
      if (out->nchw)
        axis = axis == 3 ? 1 : axis == 0 ? 0 : axis + 1;
      Slot slots[65] = { 0 };
      for (int i = 0; i < n_in && i < 64; i++)
        slots[i] = T (in[i].ref);
      r = emit (c, "Concat", base, slots, json_pack ("{s:I}", "axis", (json_int_t) axis));
    }
  else if (!strcmp (cls, "MaxPooling2D") || !strcmp (cls, "AveragePooling2D"))
    r = pool (c, base, x, cfg, !strcmp (cls, "MaxPooling2D"));
  else if (!strcmp (cls, "GlobalAveragePooling2D") || !strcmp (cls, "GlobalMaxPooling2D"))
    {
      r = emit (c, cls[6] == 'A' ? "GlobalAveragePool" : "GlobalMaxPool", base,
                (Slot[]){ T (x->ref), { 0 } }, NULL);
      if (r.node >= 0 && out->shape.rank == 2)
        r = emit (c, "Flatten", base, (Slot[]){ T (r), { 0 } }, json_pack ("{s:i}", "axis", 1));
    }
  else if (!strcmp (cls, "Flatten") || !strcmp (cls, "Reshape"))
    {
      r = x->ref;
      if (x->nchw)
        r = transpose (c, base, r, TO_NHWC);
      int64_t shape[OSH_MAX_RANK];
      shape[0] = 0; /* the batch, copied */
      for (int i = 1; i < out->shape.rank; i++)
        shape[i] = out->shape.dim[i];
      if (r.node >= 0)
        r = emit (c, "Reshape", base,
                  (Slot[]){ T (r), W (ints (shape, out->shape.rank, c->err)), { 0 } }, NULL);
      if (r.node >= 0 && out->nchw)
        r = transpose (c, base, r, TO_NCHW);
    }
  else if (!strcmp (cls, "ZeroPadding2D"))
    {
      int64_t p[4];
      json_t *v = json_object_get (cfg, "padding");
      if (json_is_integer (v))
        p[0] = p[1] = p[2] = p[3] = json_integer_value (v);
      else if (json_is_array (v) && json_is_integer (json_array_get (v, 0)))
        p[0] = p[1] = json_integer_value (json_array_get (v, 0)),
        p[2] = p[3] = json_integer_value (json_array_get (v, 1));
      else
        for (int a = 0; a < 2; a++)
          for (int b = 0; b < 2; b++)
            p[a * 2 + b] =
                json_integer_value (json_array_get (json_array_get (v, (size_t) a), (size_t) b));
      /* p = top, bottom, left, right → ONNX [n, c, top, left, n, c, bottom, right] */
      int64_t pads[8] = { 0, 0, p[0], p[2], 0, 0, p[1], p[3] };
      r = emit (c, "Pad", base, (Slot[]){ T (x->ref), W (ints (pads, 8, c->err)), { 0 } }, NULL);
    }
  else if (!strcmp (cls, "UpSampling2D"))
    {
      int64_t s[2];
      if (!osh_config_ints (cfg, "size", s, 2))
        s[0] = s[1] = 2;
      bool bilinear = !strcmp (osh_config_string (cfg, "interpolation", "nearest"), "bilinear");
      float scales[4] = { 1, 1, (float) s[0], (float) s[1] };
      /* Resize-13 inputs: X, roi (absent), scales. */
      r = emit (c, "Resize", base, (Slot[]){ T (x->ref), A (), W (vec (scales, 4, c->err)), { 0 } },
                json_pack ("{s:s, s:s, s:s}", "mode", bilinear ? "linear" : "nearest",
                           "coordinate_transformation_mode", bilinear ? "half_pixel" : "asymmetric",
                           "nearest_mode", "floor"));
    }
  else if (!strcmp (cls, "Rescaling"))
    {
      double scale = osh_config_double (cfg, "scale", 1),
             offset = osh_config_double (cfg, "offset", 0);
      r = emit (c, "Mul", base,
                (Slot[]){ T (x->ref), W (vec ((float[]){ (float) scale }, 1, c->err)), { 0 } },
                NULL);
      if (r.node >= 0 && offset != 0)
        r = emit (c, "Add", base,
                  (Slot[]){ T (r), W (vec ((float[]){ (float) offset }, 1, c->err)), { 0 } }, NULL);
    }
  else if (!strcmp (cls, "Normalization") && l->n_weights >= 2)
    {
      int64_t ch = osh_tensor_numel (w0);
      OshTensor *inv = channel_const (x, NULL, ch, c->err);
      for (int64_t i = 0; inv && i < ch; i++)
        inv->data[i] =
            1.0f / fmaxf (sqrtf (w1->data[i]), 1e-7f); /* Keras: max(sqrt(var), epsilon) */
      r = emit (c, "Sub", base,
                (Slot[]){ T (x->ref), W (channel_const (x, w0->data, ch, c->err)), { 0 } }, NULL);
      if (r.node >= 0)
        r = emit (c, "Mul", base, (Slot[]){ T (r), W (inv), { 0 } }, NULL);
      else
        osh_tensor_free (inv);
    }
  else if (!strcmp (cls, "Dropout") || !strcmp (cls, "SpatialDropout2D")
           || !strcmp (cls, "GaussianNoise") || !strcmp (cls, "GaussianDropout")
           || !strcmp (cls, "ActivityRegularization"))
    r = x->ref; /* identities at inference */
  else
    return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "layer '%s' (%s) has no ONNX export yet", base,
                     cls);
  if (r.node < 0)
    return false;
  out->ref = r;
  return true;
}

/* A head's last node takes the layer's name (and so its output tensor's). */
static bool
name_after_layer (OshOnnxLowering *c, OshRef r, const char *name)
{
  int layer = c->o->nodes[r.node].layer;
  if (!osh_graph_rename_layer (c->o, layer, name, c->err))
    return false;
  json_object_set_new (c->o->layers[layer].config, OSH_ONNX_OUTPUT_NAMES, json_pack ("[s]", name));
  return true;
}

bool
osh_onnx_lower_layer (OshOnnxLowering *c, const OshLayer *l, const OshOnnxValue *in, int n_in,
                      OshOnnxValue *out)
{
  int before = c->o->n_nodes;
  out->nchw = out->shape.rank == 4;
  if (!lower_rules (c, l, in, n_in, out))
    return false;
  if (!c->as_head)
    return true;
  if (c->o->n_nodes == before) /* an identity at inference: still a node of its own */
    out->ref = emit (c, "Identity", l->name, (Slot[]){ T (out->ref), { 0 } }, NULL);
  return out->ref.node >= 0 && name_after_layer (c, out->ref, l->name);
}

OshRef
osh_onnx_lower_transpose (OshOnnxLowering *c, const char *base, OshRef x, bool to_nchw)
{
  return transpose (c, base, x, to_nchw ? TO_NCHW : TO_NHWC);
}

bool
osh_onnx_lower_keras_layer (OshGraph *g, const OshLayer *layer, const OshShape *in,
                            const OshShape *out, OshRef *x, OshError *err)
{
  OshOnnxLowering c = { .o = g, .as_head = true, .err = err };
  OshOnnxValue v = { *x, in->rank == 4, *in }, r = { .shape = *out };
  if (!osh_onnx_lower_layer (&c, layer, &v, 1, &r))
    return false;
  *x = r.ref;
  return true;
}
