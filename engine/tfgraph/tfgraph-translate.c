/* TF ops as the Keras layers or ONNX nodes with the same semantics (tfgraph-shadow.h): one
 * translation per op family. TF is NHWC like Keras, so convolutions, pooling and batch
 * normalisation become Keras layers (TF's filter layout HWIO is Keras's kernel layout);
 * element-wise, reduction and shape ops become ONNX nodes, whose semantics do not depend on the
 * layout (numpy broadcasting, explicit axes). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tfgraph-shadow.h"

/* ---- helpers ---- */

static bool
need_nhwc (const OshOpCall *c, OshError *err)
{
  const char *df = osh_config_string (c->layer->config, "data_format", "NHWC");
  return strcmp (df, "NHWC") == 0
         || osh_fail (err, OSH_ERR_UNSUPPORTED, "data_format %s (only NHWC runs)", df);
}

/* A TF 4-int list attribute ([1, h, w, 1]) as Keras's pair (h, w). */
static json_t *
spatial_pair (const OshOpCall *c, const char *key)
{
  const json_t *v = json_object_get (c->layer->config, key);
  int64_t h = 1, w = 1;
  if (json_array_size (v) == 4)
    {
      h = json_integer_value (json_array_get (v, 1));
      w = json_integer_value (json_array_get (v, 2));
    }
  return json_pack ("[I, I]", (json_int_t) h, (json_int_t) w);
}

/* EXPLICIT padding (explicit_paddings: before and after of N, H, W, C) as a pad of input 0
 * ahead of a "valid" window (the shadow's pre_pad); `fill`: what the frame holds (MaxPool's
 * -inf, so the frame never wins). */
static bool
explicit_padding (TfShadow *s, const OshOpCall *c, float fill, OshError *err)
{
  const json_t *list = json_object_get (c->layer->config, "explicit_paddings");
  int64_t p[8] = { 0 };
  bool any = false;
  if (json_array_size (list) != 8 && json_array_size (list) != 0)
    return osh_fail (err, OSH_ERR_FORMAT, "explicit_paddings has %zu values, not 8",
                     json_array_size (list));
  for (size_t i = 0; i < json_array_size (list); i++)
    {
      p[i] = json_integer_value (json_array_get (list, i));
      if (p[i] < 0)
        return osh_fail (err, OSH_ERR_FORMAT, "a negative explicit padding");
      any |= p[i] != 0;
    }
  if (p[0] || p[1] || p[6] || p[7])
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "explicit padding of the batch or the channels");
  if (!any)
    return true;
  if (s->in[0].rank != 4)
    return osh_fail (err, OSH_ERR_SHAPE, "explicit padding of a rank %d input", s->in[0].rank);
  s->has_pre_pad = true;
  memcpy (s->pre_pad, &p[2], sizeof s->pre_pad);
  s->pre_pad_value = fill;
  for (int d = 1; d <= 2; d++)
    if (s->in[0].dim[d] >= 0)
      s->in[0].dim[d] += p[2 * d] + p[2 * d + 1];
  return true;
}

/* TF's padding as Keras's ("same" / "valid"); EXPLICIT as "valid" after a pad of the input
 * (none for a transposed convolution, where it would crop the output). */
static bool
keras_padding (TfShadow *s, const OshOpCall *c, json_t *config, OshError *err)
{
  const char *p = osh_config_string (c->layer->config, "padding", "VALID");
  if (strcmp (p, "EXPLICIT") == 0)
    {
      bool transposed = strcmp (c->layer->class_name, "Conv2DBackpropInput") == 0;
      bool max = strcmp (c->layer->class_name, "MaxPool") == 0;
      if (transposed && json_array_size (json_object_get (c->layer->config, "explicit_paddings")))
        {
          size_t i;
          const json_t *v;
          json_array_foreach (json_object_get (c->layer->config, "explicit_paddings"), i, v)
            if (json_integer_value (v) != 0)
              return osh_fail (err, OSH_ERR_UNSUPPORTED,
                               "a transposed convolution with explicit padding");
        }
      else if (!explicit_padding (s, c, max ? -INFINITY : 0.0f, err))
        return false;
      p = "VALID";
    }
  if (strcmp (p, "SAME") != 0 && strcmp (p, "VALID") != 0)
    return osh_fail (err, OSH_ERR_FORMAT, "padding '%s' (expected SAME, VALID or EXPLICIT)", p);
  json_object_set_new (config, "padding", json_string (strcmp (p, "SAME") == 0 ? "same" : "valid"));
  return true;
}

/* The Keras layer's weights: the TF layer's weights at slots `ids` (constants). */
static bool
keras_weights (TfShadow *s, const OshOpCall *c, const int *ids, int n, OshError *err)
{
  for (int k = 0; k < n; k++)
    {
      const OshTensor *t =
          tf_const_input (c, ids[k], k == 0 ? "the filter" : "a fused operand", err);
      if (!t)
        return false;
      s->weights[k] = c->layer->weights[c->layer->slots[ids[k]].index];
    }
  s->layer.n_weights = n;
  s->layer.slots = NULL;
  s->layer.n_slots = 0;
  return true;
}

/* A fused op list (BiasAdd then an activation) as Keras's use_bias and activation; Prelu and
 * LeakyRelu, which Keras's layers have no form for, as the shadow's tail. The operands follow
 * the filter (slot 1): the bias, then Prelu's slopes. */
static bool
fused_ops (TfShadow *s, const OshOpCall *c, json_t *config, bool *bias, OshError *err)
{
  static const char *const acts[][2] = { { "Relu", "relu" }, { "Relu6", "relu6" },
                                         { "Elu", "elu" },   { "Sigmoid", "sigmoid" },
                                         { "Tanh", "tanh" }, { "Selu", "selu" } };
  const char *activation = "linear";
  *bias = false;
  size_t i;
  const json_t *v;
  json_array_foreach (json_object_get (c->layer->config, "fused_ops"), i, v)
    {
      const char *op = json_string_value (v);
      bool known = false;
      if (op && strcmp (op, "BiasAdd") == 0 && i == 0)
        known = *bias = true;
      for (size_t a = 0; op && !known && a < sizeof acts / sizeof *acts; a++)
        if (strcmp (op, acts[a][0]) == 0)
          {
            activation = acts[a][1];
            known = true;
          }
      if (op && !known && strcmp (op, "LeakyRelu") == 0)
        {
          s->tail = TF_TAIL_LEAKY;
          s->tail_alpha = (float) osh_config_double (c->layer->config, "leakyrelu_alpha", 0.2);
          known = true;
        }
      if (op && !known && strcmp (op, "Prelu") == 0)
        {
          const OshTensor *alpha = tf_const_input (c, *bias ? 3 : 2, "the Prelu slopes", err);
          if (!alpha)
            return false;
          s->tail = TF_TAIL_PRELU;
          s->tail_vec = alpha->data;
          s->tail_n = osh_tensor_numel (alpha);
          if (s->tail_n < 1)
            return osh_fail (err, OSH_ERR_FORMAT, "no Prelu slopes");
          known = true;
        }
      if (!known)
        return osh_fail (err, OSH_ERR_UNSUPPORTED, "fused op %s", op ? op : "(not a name)");
    }
  json_object_set_new (config, "activation", json_string (activation));
  json_object_set_new (config, "use_bias", json_boolean (*bias));
  return true;
}

/* ---- convolutions, pooling, normalisation: Keras layers ---- */

static bool
tr_conv (TfShadow *s, const OshOpCall *c, OshError *err)
{
  bool depthwise = strstr (c->layer->class_name, "Depthwise") != NULL;
  const OshTensor *f = tf_const_input (c, 1, "the filter", err);
  if (!need_nhwc (c, err) || !f)
    return false;
  if (f->shape.rank != 4)
    return osh_fail (err, OSH_ERR_FORMAT, "the filter has rank %d, not 4", f->shape.rank);
  json_t *cfg = s->layer.config;
  bool bias = false;
  if (!keras_padding (s, c, cfg, err) || !fused_ops (s, c, cfg, &bias, err))
    return false;
  json_object_set_new (
      cfg, "kernel_size",
      json_pack ("[I, I]", (json_int_t) f->shape.dim[0], (json_int_t) f->shape.dim[1]));
  json_object_set_new (cfg, "strides", spatial_pair (c, "strides"));
  json_object_set_new (cfg, "dilation_rate", spatial_pair (c, "dilations"));
  if (depthwise)
    json_object_set_new (cfg, "depth_multiplier", json_integer (f->shape.dim[3]));
  else
    json_object_set_new (cfg, "filters", json_integer (f->shape.dim[3]));
  s->target = tf_keras_op (depthwise ? "DepthwiseConv2D" : "Conv2D");
  return keras_weights (s, c, (const int[]){ 1, 2 }, bias ? 2 : 1, err);
}

static bool
tr_matmul (TfShadow *s, const OshOpCall *c, OshError *err)
{
  json_t *cfg = s->layer.config;
  bool ta = osh_config_bool (c->layer->config, "transpose_a", false);
  bool tb = osh_config_bool (c->layer->config, "transpose_b", false);
  bool bias = false;
  if (!fused_ops (s, c, cfg, &bias, err))
    return false;
  bool constant_b = c->layer->n_slots > 1 && c->layer->slots[1].kind == OSH_SLOT_WEIGHT;
  const OshShape *a = tf_slot_shape (c, 0);
  bool activation_a = c->layer->n_slots > 0 && c->layer->slots[0].kind == OSH_SLOT_ACTIVATION;
  if (!constant_b || ta || !activation_a || !a || a->rank != 2)
    {
      if (ta || tb || bias || s->tail
          || strcmp (osh_config_string (cfg, "activation", ""), "linear") != 0)
        return osh_fail (err, OSH_ERR_UNSUPPORTED,
                         "a MatMul of two computed tensors with "
                         "transposes or fused ops");
      json_object_clear (cfg);
      s->target = tf_onnx_op ("MatMul");
      return true;
    }
  const OshTensor *b = tf_const_input (c, 1, "the weights", err);
  if (!b || b->shape.rank != 2)
    return b && osh_fail (err, OSH_ERR_FORMAT, "the weights have rank %d, not 2", b->shape.rank);
  if (!keras_weights (s, c, (const int[]){ 1, 2 }, bias ? 2 : 1, err))
    return false;
  if (tb) /* Dense holds (in, out) */
    {
      OshShape shape = { .rank = 2, .dim = { b->shape.dim[1], b->shape.dim[0] } };
      OshTensor *t = osh_tensor_new (&shape, err);
      if (!t)
        return false;
      for (int64_t i = 0; i < shape.dim[0]; i++)
        for (int64_t j = 0; j < shape.dim[1]; j++)
          t->data[i * shape.dim[1] + j] = b->data[j * shape.dim[0] + i];
      OshWeight keep = s->weights[1];
      s->layer.n_weights = 0;
      if (!tf_add_weight (s, t, false, err))
        return false;
      s->weights[1] = keep;
      s->layer.n_weights = bias ? 2 : 1;
    }
  json_object_set_new (cfg, "units", json_integer (s->weights[0].value->shape.dim[1]));
  s->target = tf_keras_op ("Dense");
  return true;
}

static bool
tr_pool (TfShadow *s, const OshOpCall *c, OshError *err)
{
  if (!need_nhwc (c, err) || !keras_padding (s, c, s->layer.config, err))
    return false;
  json_object_set_new (s->layer.config, "pool_size", spatial_pair (c, "ksize"));
  json_object_set_new (s->layer.config, "strides", spatial_pair (c, "strides"));
  s->target = tf_keras_op (strcmp (c->layer->class_name, "MaxPool") == 0 ? "MaxPooling2D"
                                                                         : "AveragePooling2D");
  return true;
}

static bool
tr_batchnorm (TfShadow *s, const OshOpCall *c, OshError *err)
{
  if (!need_nhwc (c, err))
    return false;
  if (osh_config_bool (c->layer->config, "is_training", false))
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "batch normalisation in training mode");
  json_object_set_new (s->layer.config, "epsilon",
                       json_real (osh_config_double (c->layer->config, "epsilon", 1e-4)));
  json_object_set_new (s->layer.config, "axis", json_integer (-1));
  s->target = tf_keras_op ("BatchNormalization");
  return keras_weights (s, c, (const int[]){ 1, 2, 3, 4 }, 4, err);
}

/* Conv2DBackpropInput (input_sizes, filter, out_backprop): Keras's Conv2DTranspose, whose
 * output size must be the one asked for (reshape_out checks it). */
static bool
check_backprop_size (const TfShadow *s, const OshOpCall *c, OshShape *out, OshError *err)
{
  const OshLayer *l = c->layer;
  const OshTensor *sizes = l->weights[l->slots[0].index].value;
  *out = s->out[0];
  for (int d = 0; d < 4 && sizes->shape.dim[0] == 4; d++)
    if (out->dim[d] >= 0 && out->dim[d] != (int64_t) sizes->data[d])
      return osh_fail (err, OSH_ERR_UNSUPPORTED,
                       "a transposed convolution to size %lld on axis %d, where Keras's rule "
                       "gives %lld (output padding)",
                       (long long) sizes->data[d], d, (long long) out->dim[d]);
  return true;
}

static bool
tr_backprop (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const OshTensor *f = tf_const_input (c, 1, "the filter", err);
  if (!need_nhwc (c, err) || !f || !tf_const_input (c, 0, "input_sizes", err))
    return false;
  json_t *cfg = s->layer.config;
  if (!keras_padding (s, c, cfg, err))
    return false;
  json_object_set_new (
      cfg, "kernel_size",
      json_pack ("[I, I]", (json_int_t) f->shape.dim[0], (json_int_t) f->shape.dim[1]));
  json_object_set_new (cfg, "strides", spatial_pair (c, "strides"));
  json_object_set_new (cfg, "dilation_rate", spatial_pair (c, "dilations"));
  json_object_set_new (cfg, "filters", json_integer (f->shape.dim[2]));
  json_object_set_new (cfg, "use_bias", json_false ());
  s->target = tf_keras_op ("Conv2DTranspose");
  s->reshape_out = check_backprop_size;
  return keras_weights (s, c, (const int[]){ 1 }, 1, err);
}

static bool
tr_input (TfShadow *s, const OshOpCall *c, OshError *err)
{
  (void) err;
  json_object_update (s->layer.config, c->layer->config);
  /* ONNX's keeps the batch size a Placeholder declares (Keras's makes it None), so a Shape of
   * the input folds once the sizes are fixed. */
  s->target = tf_onnx_op ("InputLayer");
  return true;
}

/* ---- element-wise ops: ONNX nodes ---- */

static const char *const same_name[][2] = {
  { "Relu", "Relu" },
  { "Sigmoid", "Sigmoid" },
  { "Tanh", "Tanh" },
  { "Elu", "Elu" },
  { "Selu", "Selu" },
  { "Exp", "Exp" },
  { "Log", "Log" },
  { "Sqrt", "Sqrt" },
  { "Neg", "Neg" },
  { "Abs", "Abs" },
  { "Floor", "Floor" },
  { "Ceil", "Ceil" },
  { "Reciprocal", "Reciprocal" },
  { "Round", "Round" },
  { "Softplus", "Softplus" },
  { "Sign", "Sign" },
  { "Erf", "Erf" },
  { "Identity", "Identity" },
  { "StopGradient", "Identity" },
  { "Add", "Add" },
  { "AddV2", "Add" },
  { "BiasAdd", "Add" },
  { "Sub", "Sub" },
  { "Mul", "Mul" },
  { "RealDiv", "Div" },
  { "Div", "Div" },
  { "Maximum", "Max" },
  { "Minimum", "Min" },
  { "Pow", "Pow" },
  { "AddN", "Sum" },
  { "Prelu", "PRelu" },
  { "Shape", "Shape" },
  { "Range", "Range" },
};

static bool
tr_same (TfShadow *s, const OshOpCall *c, OshError *err)
{
  for (size_t i = 0; i < sizeof same_name / sizeof *same_name; i++)
    if (strcmp (c->layer->class_name, same_name[i][0]) == 0)
      s->target = tf_onnx_op (same_name[i][1]);
  if (strcmp (c->layer->class_name, "BiasAdd") == 0 && !need_nhwc (c, err))
    return false;
  return s->target != NULL;
}

static bool
tr_leaky (TfShadow *s, const OshOpCall *c, OshError *err)
{
  (void) err;
  json_object_set_new (s->layer.config, "alpha",
                       json_real (osh_config_double (c->layer->config, "alpha", 0.2)));
  s->target = tf_onnx_op ("LeakyRelu");
  return true;
}

/* Relu6: ONNX's Clip between the constants 0 and 6. */
static bool
tr_relu6 (TfShadow *s, const OshOpCall *c, OshError *err)
{
  (void) c;
  s->target = tf_onnx_op ("Clip");
  return tf_add_weight (s, tf_vector ((const float[]){ 0 }, 1, err), true, err)
         && tf_add_weight (s, tf_vector ((const float[]){ 6 }, 1, err), true, err);
}

/* Rsqrt: x to the power -1/2; Square: x · x (the one input in both slots). */
static bool
tr_power (TfShadow *s, const OshOpCall *c, OshError *err)
{
  if (strcmp (c->layer->class_name, "Square") == 0)
    {
      s->target = tf_onnx_op ("Mul");
      s->slots[1] = s->slots[0];
      s->layer.n_slots = 2;
      return true;
    }
  s->target = tf_onnx_op ("Pow");
  return tf_add_weight (s, tf_vector ((const float[]){ -0.5f }, 1, err), true, err);
}

/* FloorDiv: ONNX's Div, then floor; SquaredDifference: ONNX's Sub, then squared. */
static bool
tr_then (TfShadow *s, const OshOpCall *c, OshError *err)
{
  (void) err;
  bool floor_div = strcmp (c->layer->class_name, "FloorDiv") == 0;
  s->target = tf_onnx_op (floor_div ? "Div" : "Sub");
  s->tail = floor_div ? TF_TAIL_FLOOR : TF_TAIL_SQUARE;
  return true;
}

/* Cast: to float a copy, to an integer type ONNX's Cast (which
 * truncates toward zero as TF does). */
static bool
tr_cast (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const char *to = osh_config_string (c->layer->config, "DstT", "DT_FLOAT");
  s->target = tf_onnx_op ("Cast");
  int onnx_type = strcmp (to, "DT_FLOAT") == 0   ? 1
                  : strcmp (to, "DT_INT32") == 0 ? 6
                  : strcmp (to, "DT_INT64") == 0 ? 7
                  : strcmp (to, "DT_BOOL") == 0  ? 9
                  : strcmp (to, "DT_UINT8") == 0 ? 2
                                                 : 0;
  if (!onnx_type)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "Cast to %s", to);
  json_object_set_new (s->layer.config, "to", json_integer (onnx_type));
  return true;
}

static bool
tr_softmax (TfShadow *s, const OshOpCall *c, OshError *err)
{
  (void) c;
  (void) err;
  json_object_set_new (s->layer.config, "axis", json_integer (-1));
  s->target =
      tf_onnx_op (strcmp (c->layer->class_name, "LogSoftmax") == 0 ? "LogSoftmax" : "Softmax");
  return true;
}

/* ---- reductions and shape ops: ONNX nodes ---- */

/* The constant at TF slot i as a JSON list of ints. */
static json_t *
const_ints (const OshOpCall *c, int i, const char *what, OshError *err)
{
  const OshTensor *t = tf_const_input (c, i, what, err);
  if (!t)
    return NULL;
  json_t *list = json_array ();
  for (int64_t k = 0; k < osh_tensor_numel (t); k++)
    json_array_append_new (list, json_integer ((json_int_t) t->data[k]));
  return list;
}

static bool
tr_reduce (TfShadow *s, const OshOpCall *c, OshError *err)
{
  static const char *const names[][2] = {
    { "Mean", "ReduceMean" }, { "Sum", "ReduceSum" }, { "Max", "ReduceMax" }, { "Min", "ReduceMin" }
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp (c->layer->class_name, names[i][0]) == 0)
      s->target = tf_onnx_op (names[i][1]);
  const OshTensor *axes = tf_const_input (c, 1, "the axes", err);
  if (!axes)
    return false;
  json_object_set_new (s->layer.config, "keepdims",
                       json_integer (osh_config_bool (c->layer->config, "keep_dims", false)));
  if (strcmp (s->target->name, "ReduceSum") == 0) /* opset 13: axes as an input, 1-D */
    {
      s->layer.n_slots = 1;
      return tf_add_weight (s, tf_vector (axes->data, (int) osh_tensor_numel (axes), err), true,
                            err);
    }
  json_object_set_new (s->layer.config, "axes", const_ints (c, 1, "the axes", err));
  tf_drop_slot (s, 1);
  return true;
}

static bool
tr_concat (TfShadow *s, const OshOpCall *c, OshError *err)
{
  int last = c->layer->n_slots - 1;
  const OshTensor *axis = tf_const_input (c, last, "the axis", err);
  if (!axis || osh_tensor_numel (axis) != 1)
    return axis && osh_fail (err, OSH_ERR_FORMAT, "the axis is not one value");
  json_object_set_new (s->layer.config, "axis", json_integer ((json_int_t) axis->data[0]));
  tf_drop_slot (s, last);
  s->target = tf_onnx_op ("Concat");
  return true;
}

static bool
tr_reshape (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const OshTensor *shape = tf_const_input (c, 1, "the shape", err);
  if (!shape)
    return false;
  s->layer.n_slots = 1;
  /* In TF a 0 in the shape is a size of 0, not ONNX's "copy this axis". */
  json_object_set_new (s->layer.config, "allowzero", json_integer (1));
  s->target = tf_onnx_op ("Reshape");
  return tf_add_weight (s, tf_vector (shape->data, (int) osh_tensor_numel (shape), err), true, err);
}

static bool
tr_squeeze (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const json_t *dims = json_object_get (c->layer->config, "squeeze_dims");
  float axes[OSH_MAX_RANK];
  int n = 0;
  size_t i;
  const json_t *v;
  json_array_foreach (dims, i, v)
    if (n < OSH_MAX_RANK)
      axes[n++] = (float) json_integer_value (v);
  s->target = tf_onnx_op ("Squeeze");
  s->layer.n_slots = 1;
  return !n || tf_add_weight (s, tf_vector (axes, n, err), true, err);
}

static bool
tr_expand_dims (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const OshTensor *dim = tf_const_input (c, 1, "the axis", err);
  if (!dim || osh_tensor_numel (dim) != 1)
    return dim && osh_fail (err, OSH_ERR_FORMAT, "the axis is not one value");
  s->target = tf_onnx_op ("Unsqueeze");
  s->layer.n_slots = 1;
  return tf_add_weight (s, tf_vector (dim->data, 1, err), true, err);
}

static bool
tr_transpose (TfShadow *s, const OshOpCall *c, OshError *err)
{
  json_t *perm = const_ints (c, 1, "the permutation", err);
  if (!perm)
    return false;
  json_object_set_new (s->layer.config, "perm", perm);
  tf_drop_slot (s, 1);
  s->target = tf_onnx_op ("Transpose");
  return true;
}

/* Slice (x, begin, size): ONNX's Slice from begin to begin + size (size -1: to the end). */
static bool
tr_slice (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const OshTensor *begin = tf_const_input (c, 1, "begin", err);
  const OshTensor *size = begin ? tf_const_input (c, 2, "size", err) : NULL;
  if (!size)
    return false;
  int n = (int) osh_tensor_numel (begin);
  if (n != osh_tensor_numel (size) || n > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_FORMAT, "begin and size differ in length");
  float ends[OSH_MAX_RANK], axes[OSH_MAX_RANK];
  for (int i = 0; i < n; i++)
    {
      ends[i] = size->data[i] < 0 ? 2147483647.0f : begin->data[i] + size->data[i];
      axes[i] = (float) i;
    }
  s->target = tf_onnx_op ("Slice");
  s->layer.n_slots = 1;
  return tf_add_weight (s, tf_vector (begin->data, n, err), true, err)
         && tf_add_weight (s, tf_vector (ends, n, err), true, err)
         && tf_add_weight (s, tf_vector (axes, n, err), true, err);
}

/* StridedSlice's result has ONNX Slice's memory: its shrunk axes dropped, its new axes
 * inserted (arg[0], arg[1]: the masks over the full spec, arg[2]: the spec's length). */
static bool
strided_shape (const TfShadow *s, const OshOpCall *c, OshShape *out, OshError *err)
{
  (void) c;
  const OshShape *o = &s->out[0];
  OshShape r = { 0 };
  int axis = 0;
  for (int k = 0; k < s->arg[2]; k++)
    {
      if (s->arg[1] & (1 << k))
        {
          if (r.rank >= OSH_MAX_RANK)
            return osh_fail (err, OSH_ERR_LIMIT, "rank over %d", OSH_MAX_RANK);
          r.dim[r.rank++] = 1;
          continue;
        }
      if (!(s->arg[0] & (1 << k)))
        r.dim[r.rank++] = o->dim[axis];
      axis++;
    }
  for (; axis < o->rank; axis++)
    r.dim[r.rank++] = o->dim[axis];
  *out = r;
  return true;
}

static bool
tr_strided (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const OshTensor *b = tf_const_input (c, 1, "begin", err);
  const OshTensor *e = b ? tf_const_input (c, 2, "end", err) : NULL;
  const OshTensor *st = e ? tf_const_input (c, 3, "strides", err) : NULL;
  const OshShape *x = tf_slot_shape (c, 0);
  if (!st || !x)
    return st && osh_fail (err, OSH_ERR_FORMAT, "the input is missing");
  int n = (int) osh_tensor_numel (b), rank = x->rank;
  if (n != osh_tensor_numel (e) || n != osh_tensor_numel (st) || n > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_FORMAT, "begin, end and strides differ in length");
  const json_t *cfg = c->layer->config;
  int64_t bm = osh_config_int (cfg, "begin_mask", 0), em = osh_config_int (cfg, "end_mask", 0);
  int64_t sm = osh_config_int (cfg, "shrink_axis_mask", 0);
  int64_t nm = osh_config_int (cfg, "new_axis_mask", 0);
  int64_t ellipsis = osh_config_int (cfg, "ellipsis_mask", 0);
  float starts[OSH_MAX_RANK], ends[OSH_MAX_RANK], axes[OSH_MAX_RANK], steps[OSH_MAX_RANK];
  int m = 0, axis = 0;
  int64_t shrink = 0, fresh = 0;
  int spec = 0; /* the spec with the ellipsis expanded */
  for (int k = 0; k < n; k++)
    {
      if (ellipsis & (1 << k))
        {
          int rest = 0; /* spec entries after the ellipsis that consume input axes */
          for (int j = k + 1; j < n; j++)
            rest += !(nm & (1 << j));
          int skip = rank - axis - rest;
          axis += skip > 0 ? skip : 0;
          spec += skip > 0 ? skip : 0;
          continue;
        }
      if (nm & (1 << k))
        {
          fresh |= (int64_t) 1 << spec++;
          continue;
        }
      if (axis >= rank || m >= OSH_MAX_RANK)
        return osh_fail (err, OSH_ERR_FORMAT, "a slice of more axes than the input has");
      float step = st->data[k];
      if (step == 0)
        return osh_fail (err, OSH_ERR_FORMAT, "a stride of 0");
      float big = step > 0 ? 2147483647.0f : -2147483648.0f;
      starts[m] = (bm & (1 << k)) ? (step > 0 ? 0 : -1) : b->data[k];
      ends[m] = (em & (1 << k)) ? big : e->data[k];
      if (sm & (1 << k))
        {
          ends[m] = starts[m] == -1 ? big : starts[m] + 1;
          step = 1;
          shrink |= (int64_t) 1 << spec;
        }
      steps[m] = step;
      axes[m++] = (float) axis++;
      spec++;
    }
  s->arg[0] = shrink;
  s->arg[1] = fresh;
  s->arg[2] = spec;
  s->reshape_out = strided_shape;
  s->target = tf_onnx_op ("Slice");
  s->layer.n_slots = 1;
  return tf_add_weight (s, tf_vector (starts, m, err), true, err)
         && tf_add_weight (s, tf_vector (ends, m, err), true, err)
         && tf_add_weight (s, tf_vector (axes, m, err), true, err)
         && tf_add_weight (s, tf_vector (steps, m, err), true, err);
}

/* Pack: ONNX's Concat of the inputs seen with the new axis (the same memory). */
static bool
tr_pack (TfShadow *s, const OshOpCall *c, OshError *err)
{
  int64_t axis = osh_config_int (c->layer->config, "axis", 0);
  int rank = -1;
  for (int i = 0; i < c->layer->n_slots; i++)
    {
      OshSlot sl = c->layer->slots[i];
      const OshShape *sh = sl.kind == OSH_SLOT_ACTIVATION
                               ? &c->in[sl.index]
                               : &c->layer->weights[sl.index].value->shape;
      rank = sh->rank;
    }
  if (rank < 0 || rank >= OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_FORMAT, "nothing to stack, or rank over the limit");
  int ax = (int) (axis < 0 ? axis + rank + 1 : axis);
  if (ax < 0 || ax > rank)
    return osh_fail (err, OSH_ERR_FORMAT, "axis %lld for rank %d", (long long) axis, rank);
  for (int i = 0; i < c->layer->n_slots; i++)
    {
      OshSlot sl = c->layer->slots[i];
      OshShape *sh;
      if (sl.kind == OSH_SLOT_ACTIVATION)
        sh = &s->in[sl.index];
      else
        {
          OshTensor *t = osh_tensor_copy (c->layer->weights[sl.index].value, err);
          int before = s->layer.n_slots;
          if (!tf_add_weight (s, t, true, err))
            return false;
          s->slots[i] = s->slots[before];
          s->layer.n_slots = before;
          sh = &t->shape;
        }
      if (sh->rank != rank)
        return osh_fail (err, OSH_ERR_SHAPE, "inputs of different ranks");
      memmove (&sh->dim[ax + 1], &sh->dim[ax], (size_t) (rank - ax) * sizeof sh->dim[0]);
      sh->dim[ax] = 1;
      sh->rank = rank + 1;
    }
  json_object_set_new (s->layer.config, "axis", json_integer (ax));
  s->target = tf_onnx_op ("Concat");
  return true;
}

/* Unpack: ONNX's Split into `num` along the axis, each output without that axis. */
static bool
unpack_shape (const TfShadow *s, const OshOpCall *c, OshShape *out, OshError *err)
{
  (void) err;
  for (int k = 0; k < c->n_out; k++)
    {
      out[k] = s->out[k];
      int ax = (int) s->arg[0];
      if (ax < out[k].rank)
        {
          memmove (&out[k].dim[ax], &out[k].dim[ax + 1],
                   (size_t) (out[k].rank - ax - 1) * sizeof out[k].dim[0]);
          out[k].rank--;
        }
    }
  return true;
}

static bool
tr_unpack (TfShadow *s, const OshOpCall *c, OshError *err)
{
  int64_t axis = osh_config_int (c->layer->config, "axis", 0);
  const OshShape *x = tf_slot_shape (c, 0);
  int rank = x ? x->rank : 0;
  int ax = (int) (axis < 0 ? axis + rank : axis);
  if (ax < 0 || ax >= rank)
    return osh_fail (err, OSH_ERR_FORMAT, "axis %lld for rank %d", (long long) axis, rank);
  json_object_set_new (s->layer.config, "axis", json_integer (ax));
  s->arg[0] = ax;
  s->reshape_out = unpack_shape;
  s->target = tf_onnx_op ("Split");
  return true;
}

/* Split (axis, value) and SplitV (value, size_splits, axis): ONNX's Split. */
static bool
tr_split (TfShadow *s, const OshOpCall *c, OshError *err)
{
  bool v = strcmp (c->layer->class_name, "SplitV") == 0;
  const OshTensor *axis = tf_const_input (c, v ? 2 : 0, "the axis", err);
  const OshShape *x = tf_slot_shape (c, v ? 0 : 1);
  if (!axis || !x)
    return axis && osh_fail (err, OSH_ERR_FORMAT, "the input is missing");
  int rank = x->rank, ax = (int) axis->data[0];
  ax = ax < 0 ? ax + rank : ax;
  if (ax < 0 || ax >= rank)
    return osh_fail (err, OSH_ERR_FORMAT, "axis %d for rank %d", ax, rank);
  json_object_set_new (s->layer.config, "axis", json_integer (ax));
  s->target = tf_onnx_op ("Split");
  if (!v)
    {
      s->slots[0] = s->slots[1];
      s->layer.n_slots = 1;
      return true;
    }
  const OshTensor *sizes = tf_const_input (c, 1, "size_splits", err);
  if (!sizes || osh_tensor_numel (sizes) > 64)
    return false;
  float sz[64];
  int n = (int) osh_tensor_numel (sizes), open = -1;
  float known = 0;
  for (int i = 0; i < n; i++)
    {
      sz[i] = sizes->data[i];
      if (sz[i] < 0)
        open = i;
      else
        known += sz[i];
    }
  if (open >= 0)
    {
      if (x->dim[ax] < 0)
        return osh_fail (err, OSH_ERR_UNSUPPORTED, "a split of an open size");
      sz[open] = (float) x->dim[ax] - known;
    }
  s->layer.n_slots = 1;
  return tf_add_weight (s, tf_vector (sz, n, err), true, err);
}

static bool
tr_gather (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const OshTensor *axis = tf_const_input (c, 2, "the axis", err);
  if (!axis)
    return false;
  if (osh_config_int (c->layer->config, "batch_dims", 0) != 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "GatherV2 with batch_dims");
  json_object_set_new (s->layer.config, "axis", json_integer ((json_int_t) axis->data[0]));
  tf_drop_slot (s, 2);
  s->target = tf_onnx_op ("Gather");
  return true;
}

/* Pad, PadV2 (x, paddings [rank, 2], value), MirrorPad: ONNX's Pad, whose pads list is all the
 * leading amounts, then all the trailing ones (MirrorPad's SYMMETRIC, which repeats the edge, is
 * a mode ONNX's kernel keeps for it). */
static bool
tr_pad (TfShadow *s, const OshOpCall *c, OshError *err)
{
  const OshTensor *p = tf_const_input (c, 1, "the paddings", err);
  if (!p)
    return false;
  int rank = p->shape.rank == 2 ? (int) p->shape.dim[0] : -1;
  if (rank < 0 || p->shape.dim[1] != 2 || rank > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_FORMAT, "the paddings are not [rank, 2]");
  float pads[2 * OSH_MAX_RANK];
  for (int d = 0; d < rank; d++)
    {
      pads[d] = p->data[2 * d];
      pads[rank + d] = p->data[2 * d + 1];
    }
  if (strcmp (c->layer->class_name, "MirrorPad") == 0)
    {
      const char *mode = osh_config_string (c->layer->config, "mode", "REFLECT");
      bool symmetric = strcmp (mode, "SYMMETRIC") == 0;
      if (!symmetric && strcmp (mode, "REFLECT") != 0)
        return osh_fail (err, OSH_ERR_FORMAT, "MirrorPad mode %s (expected REFLECT or SYMMETRIC)",
                         mode);
      json_object_set_new (s->layer.config, "mode",
                           json_string (symmetric ? "symmetric" : "reflect"));
    }
  bool value = strcmp (c->layer->class_name, "PadV2") == 0 && c->layer->n_slots > 2;
  OshSlot v = value ? s->slots[2] : (OshSlot){ 0 };
  s->target = tf_onnx_op ("Pad");
  s->layer.n_slots = 1;
  if (!tf_add_weight (s, tf_vector (pads, 2 * rank, err), true, err))
    return false;
  if (value)
    s->slots[s->layer.n_slots++] = v;
  return true;
}

/* ---- the translations by op ---- */

static const struct
{
  const char *op;
  TfTranslateFn fn;
} translations[] = {
  { "InputLayer", tr_input },
  { "Conv2D", tr_conv },
  { "_FusedConv2D", tr_conv },
  { "DepthwiseConv2dNative", tr_conv },
  { "FusedDepthwiseConv2dNative", tr_conv },
  { "Conv2DBackpropInput", tr_backprop },
  { "MatMul", tr_matmul },
  { "_FusedMatMul", tr_matmul },
  { "MaxPool", tr_pool },
  { "AvgPool", tr_pool },
  { "FusedBatchNorm", tr_batchnorm },
  { "FusedBatchNormV3", tr_batchnorm },
  { "LeakyRelu", tr_leaky },
  { "Relu6", tr_relu6 },
  { "Rsqrt", tr_power },
  { "Square", tr_power },
  { "Cast", tr_cast },
  { "FloorDiv", tr_then },
  { "SquaredDifference", tr_then },
  { "Softmax", tr_softmax },
  { "LogSoftmax", tr_softmax },
  { "Mean", tr_reduce },
  { "Sum", tr_reduce },
  { "Max", tr_reduce },
  { "Min", tr_reduce },
  { "ConcatV2", tr_concat },
  { "Reshape", tr_reshape },
  { "Squeeze", tr_squeeze },
  { "ExpandDims", tr_expand_dims },
  { "Transpose", tr_transpose },
  { "Slice", tr_slice },
  { "StridedSlice", tr_strided },
  { "Pack", tr_pack },
  { "Unpack", tr_unpack },
  { "Split", tr_split },
  { "SplitV", tr_split },
  { "GatherV2", tr_gather },
  { "Pad", tr_pad },
  { "PadV2", tr_pad },
  { "MirrorPad", tr_pad },
};

TfTranslateFn
tf_translation (const char *op)
{
  for (size_t i = 0; i < sizeof translations / sizeof *translations; i++)
    if (strcmp (translations[i].op, op) == 0)
      return translations[i].fn;
  for (size_t i = 0; i < sizeof same_name / sizeof *same_name; i++)
    if (strcmp (same_name[i][0], op) == 0)
      return tr_same;
  return NULL;
}
