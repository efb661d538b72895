/* Keras head layers lowered to ONNX nodes: the ONNX dialect's lower_keras_layer hook.
 *
 * The head code (engine/edit/osh-heads.c) makes each head step as a Keras layer — class,
 * config and seeded weights in Keras's layout — and an ONNX graph gets the ONNX nodes that
 * compute the same thing on its NCHW tensor:
 *
 *   Conv2D                  Conv (HWIO weights stored OIHW, explicit pads for "same"), activation
 *   BatchNormalization      BatchNormalization (scale, B, mean, var)
 *   ReLU, Activation        Relu, Sigmoid, Tanh, Softmax (axis 1), Identity
 *   GlobalAveragePooling2D  GlobalAveragePool, then Flatten
 *   Dense                   Gemm on a 2-D input (Keras's kernel as B), then the activation
 *
 * The layer's name goes to its last node (the one whose output the next step reads); extra
 * nodes get the name with a suffix (aux_head_out_gemm). The values are the Keras layer's, so
 * the same head on the same tensor gives the same numbers in both dialects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-onnx.h"
#include "osh-op.h"

/* One weight of a node being built: its ONNX name and value (owned until added). */
typedef struct
{
  char name[96];
  OshTensor *value;
} Weight;

/* A copy of weight `i` of `l` (its values, another shape of the same size when `shape`). */
static OshTensor *
weight_copy (const OshLayer *l, int i, const OshShape *shape, OshError *err)
{
  if (i >= l->n_weights)
    {
      osh_fail (err, OSH_ERR_FORMAT, "head layer '%s' has no weight %d", l->name, i);
      return NULL;
    }
  const OshTensor *src = l->weights[i].value;
  OshTensor *t = osh_tensor_new (shape ? shape : &src->shape, err);
  if (t)
    memcpy (t->data, src->data, (size_t) osh_tensor_numel (src) * sizeof (float));
  return t;
}

/* Adds node `name` running `op` with `attrs` (stolen) on tensor *x followed by the weights
 * (taken over, also on failure); *x becomes its output. */
static bool
add_node (OshGraph *w, const char *name, const char *op, json_t *attrs, OshRef *x, Weight *weights,
          int n_weights, OshError *err)
{
  OshSlotKind slots[8] = { OSH_SLOT_ACTIVATION };
  for (int i = 0; i < n_weights && i < 7; i++)
    slots[1 + i] = OSH_SLOT_WEIGHT;
  json_object_set_new (attrs, OSH_ONNX_OUTPUT_NAMES, json_pack ("[s]", name));
  int l = osh_graph_add_layer (w, -1, name, op, attrs, err);
  bool ok = l >= 0;
  for (int i = 0; i < n_weights; i++)
    {
      if (ok)
        ok = osh_layer_add_weight (w, l, weights[i].name, weights[i].value,
                                   strcmp (op, "BatchNormalization") != 0 || i < 2, err);
      else
        osh_tensor_free (weights[i].value);
      weights[i].value = NULL;
    }
  ok = ok && osh_layer_set_slots (w, l, slots, 1 + n_weights, err);
  int n = ok ? osh_graph_add_node (w, l, x, 1, 1, err) : -1;
  if (n < 0)
    return false;
  *x = (OshRef){ n, 0 };
  return true;
}

/* The node of activation `act` ("relu", "sigmoid", ...); for "linear" an Identity when
 * `always` (an Activation layer of its own), else nothing. */
static bool
add_activation (OshGraph *w, const char *act, const char *name, OshRef *x, bool always,
                OshError *err)
{
  static const char *const ops[][2] = {
    { "relu", "Relu" }, { "sigmoid", "Sigmoid" }, { "tanh", "Tanh" }, { "softmax", "Softmax" }
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp (act, ops[i][0]) == 0)
      return add_node (w, name, ops[i][1],
                       strcmp (act, "softmax") == 0 ? json_pack ("{s:i}", "axis", 1)
                                                    : json_object (),
                       x, NULL, 0, err);
  if (strcmp (act, "linear") != 0 && act[0])
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "head layer '%s': activation '%s' has no ONNX "
                     "form here (relu, sigmoid, tanh, softmax or linear)",
                     name, act);
  return !always || add_node (w, name, "Identity", json_object (), x, NULL, 0, err);
}

/* The name of the node before the activation: `name` itself when there is no activation. */
static void
pre_activation_name (char *out, size_t size, const char *name, const char *act, const char *sfx)
{
  bool linear = strcmp (act, "linear") == 0 || !act[0];
  snprintf (out, size, linear ? "%.80s" : "%.80s_%s", name, sfx);
}

/* Weight `i` (if the layer has it) as "<layer>.<what>"; false on failure. */
static bool
take_weight (const OshLayer *l, int i, const OshShape *shape, const char *what, Weight *out,
             OshError *err)
{
  snprintf (out->name, sizeof out->name, "%.80s.%s", l->name, what);
  return (out->value = weight_copy (l, i, shape, err)) != NULL;
}

static bool
lower_conv (OshGraph *w, const OshLayer *l, const OshShape *in, OshRef *x, OshError *err)
{
  const json_t *cfg = l->config;
  int64_t k[2], s[2] = { 1, 1 }, d[2] = { 1, 1 };
  if (!osh_config_ints (cfg, "kernel_size", k, 2) || l->n_weights < 1
      || l->weights[0].value->shape.rank != 4)
    return osh_fail (err, OSH_ERR_FORMAT,
                     "head layer '%s': a Conv2D needs kernel_size and "
                     "an HWIO kernel",
                     l->name);
  osh_config_ints (cfg, "strides", s, 2);
  osh_config_ints (cfg, "dilation_rate", d, 2);
  bool same = strcmp (osh_config_string (cfg, "padding", "valid"), "same") == 0;
  const char *act = osh_config_string (cfg, "activation", "linear");
  const OshShape *hs = &l->weights[0].value->shape;
  int64_t cin = hs->dim[2], f = hs->dim[3];
  char conv_name[96];
  pre_activation_name (conv_name, sizeof conv_name, l->name, act, "conv");

  OshShape oihw = osh_shape_make (4, (int64_t[]){ f, cin, k[0], k[1] });
  Weight wt[2] = { { .value = osh_tensor_new (&oihw, err) } };
  if (!wt[0].value)
    return false;
  snprintf (wt[0].name, sizeof wt[0].name, "%.80s.weight", l->name);
  const float *hwio = l->weights[0].value->data;
  for (int64_t o = 0; o < f; o++)
    for (int64_t i = 0; i < cin; i++)
      for (int64_t yx = 0; yx < k[0] * k[1]; yx++)
        wt[0].value->data[(o * cin + i) * k[0] * k[1] + yx] = hwio[(yx * cin + i) * f + o];
  int n_w = 1;
  if (osh_config_bool (cfg, "use_bias", true))
    {
      if (!take_weight (l, 1, NULL, "bias", &wt[1], err))
        {
          osh_tensor_free (wt[0].value);
          return false;
        }
      n_w = 2;
    }
  json_t *attrs = json_pack ("{s:[I,I], s:[I,I], s:[I,I]}", "kernel_shape", (json_int_t) k[0],
                             (json_int_t) k[1], "strides", (json_int_t) s[0], (json_int_t) s[1],
                             "dilations", (json_int_t) d[0], (json_int_t) d[1]);
  if (same && (in->dim[1] < 0 || in->dim[2] < 0))
    json_object_set_new (attrs, "auto_pad", json_string ("SAME_UPPER"));
  else
    {
      int64_t pads[4] = { 0, 0, 0, 0 }; /* top, left, bottom, right */
      for (int a = 0; same && a < 2; a++)
        osh_op_window (in->dim[1 + a], k[a], s[a], d[a], OSH_PAD_SAME_UPPER, false, &pads[a],
                       &pads[a + 2]);
      json_object_set_new (attrs, "pads",
                           json_pack ("[I,I,I,I]", (json_int_t) pads[0], (json_int_t) pads[1],
                                      (json_int_t) pads[2], (json_int_t) pads[3]));
    }
  return add_node (w, conv_name, "Conv", attrs, x, wt, n_w, err)
         && add_activation (w, act, l->name, x, false, err);
}

static bool
lower_dense (OshGraph *w, const OshLayer *l, const OshShape *in, OshRef *x, OshError *err)
{
  if (in->rank != 2)
    return osh_fail (err, OSH_ERR_SHAPE,
                     "head layer '%s' (Dense) on an ONNX graph needs a 2-D "
                     "input (put gap before it)",
                     l->name);
  const char *act = osh_config_string (l->config, "activation", "linear");
  char gemm_name[96];
  pre_activation_name (gemm_name, sizeof gemm_name, l->name, act, "gemm");
  Weight wt[2];
  if (!take_weight (l, 0, NULL, "weight", &wt[0], err))
    return false;
  int n_w = 1;
  if (osh_config_bool (l->config, "use_bias", true))
    {
      if (!take_weight (l, 1, NULL, "bias", &wt[1], err))
        {
          osh_tensor_free (wt[0].value);
          return false;
        }
      n_w = 2;
    }
  return add_node (w, gemm_name, "Gemm", json_object (), x, wt, n_w, err)
         && add_activation (w, act, l->name, x, false, err);
}

static bool
lower_batchnorm (OshGraph *w, const OshLayer *l, OshRef *x, OshError *err)
{
  static const char *const what[4] = { "weight", "bias", "running_mean", "running_var" };
  Weight wt[4];
  for (int i = 0; i < 4; i++)
    if (!take_weight (l, i, NULL, what[i], &wt[i], err))
      {
        for (int k = 0; k < i; k++)
          osh_tensor_free (wt[k].value);
        return false;
      }
  json_t *attrs =
      json_pack ("{s:f, s:f}", "epsilon", osh_config_double (l->config, "epsilon", 1e-3),
                 "momentum", osh_config_double (l->config, "momentum", 0.99));
  return add_node (w, l->name, "BatchNormalization", attrs, x, wt, 4, err);
}

bool
osh_onnx_lower_keras_layer (OshGraph *w, const OshLayer *l, const OshShape *in, OshRef *x,
                            OshError *err)
{
  const char *cls = l->class_name;
  if (strcmp (cls, "Conv2D") == 0)
    return lower_conv (w, l, in, x, err);
  if (strcmp (cls, "Dense") == 0)
    return lower_dense (w, l, in, x, err);
  if (strcmp (cls, "BatchNormalization") == 0)
    return lower_batchnorm (w, l, x, err);
  if (strcmp (cls, "ReLU") == 0)
    return add_activation (w, "relu", l->name, x, true, err);
  if (strcmp (cls, "Activation") == 0)
    return add_activation (w, osh_config_string (l->config, "activation", "linear"), l->name, x,
                           true, err);
  if (strcmp (cls, "GlobalAveragePooling2D") == 0)
    {
      char pool_name[96];
      snprintf (pool_name, sizeof pool_name, "%.80s_gap", l->name);
      return add_node (w, pool_name, "GlobalAveragePool", json_object (), x, NULL, 0, err)
             && add_node (w, l->name, "Flatten", json_pack ("{s:i}", "axis", 1), x, NULL, 0, err);
    }
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "head layer '%s' (%s) has no ONNX form", l->name, cls);
}
