/* Heads made of ONNX nodes, for ONNX graphs (see osh-heads-onnx.h). */
#include "osh-heads-onnx.h"

#include "osh-onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
osh_head_is_onnx (const OshGraph *g)
{
  return g->class_name && strcmp (g->class_name, "onnx") == 0;
}

/* One weight of a node being built: its ONNX name and value (owned until added). */
typedef struct
{
  char name[96];
  OshTensor *value;
} Weight;

static OshTensor *
vector (int64_t n, float fill, OshError *err)
{
  OshShape s = osh_shape_make (1, (int64_t[]){ n });
  OshTensor *t = osh_tensor_new (&s, err);
  for (int64_t i = 0; t && i < n; i++)
    t->data[i] = fill;
  return t;
}

/* Adds node `name` running `op` with `attrs` (stolen) on tensor *x followed by the weights
 * (taken over, also on failure); *x becomes its output. */
static bool
add_onnx_node (OshGraph *w,
               const char *name,
               const char *op,
               json_t *attrs,
               OshRef *x,
               Weight *weights,
               int n_weights,
               OshError *err)
{
  char *in_name = osh_onnx_tensor_name (w, *x);
  json_t *slots = json_array (), *in_names = json_array ();
  json_array_append_new (slots, json_string (OSH_ONNX_SLOT_TENSOR));
  json_array_append_new (in_names, json_string (in_name ? in_name : ""));
  free (in_name);
  for (int i = 0; i < n_weights; i++)
    {
      json_array_append_new (slots, json_string (OSH_ONNX_SLOT_WEIGHT));
      json_array_append_new (in_names, json_string (weights[i].name));
    }
  json_object_set_new (attrs, OSH_ONNX_INPUTS, slots);
  json_object_set_new (attrs, OSH_ONNX_INPUT_NAMES, in_names);
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
  int n = ok ? osh_graph_add_node (w, l, x, 1, 1, err) : -1;
  if (n < 0)
    return false;
  *x = (OshRef){ n, 0 };
  return true;
}

/* The activation after a Conv2D or Dense (none for linear), or an Activation step's node. */
static bool
add_activation (
    OshGraph *w, const char *act, const char *name, OshRef *x, bool always, OshError *err)
{
  if (strcmp (act, "relu") == 0)
    return add_onnx_node (w, name, "Relu", json_object (), x, NULL, 0, err);
  if (strcmp (act, "sigmoid") == 0)
    return add_onnx_node (w, name, "Sigmoid", json_object (), x, NULL, 0, err);
  if (strcmp (act, "tanh") == 0)
    return add_onnx_node (w, name, "Tanh", json_object (), x, NULL, 0, err);
  if (strcmp (act, "softmax") == 0)
    return add_onnx_node (w, name, "Softmax", json_pack ("{s:i}", "axis", 1), x, NULL, 0, err);
  return !always || add_onnx_node (w, name, "Identity", json_object (), x, NULL, 0, err);
}

/* TF's "same" padding along one axis: [lead, trail]. */
static void
same_pads (int64_t in, int64_t k, int64_t s, int64_t *lead, int64_t *trail)
{
  int64_t out = (in + s - 1) / s, total = (out - 1) * s + k - in;
  total = total < 0 ? 0 : total;
  *lead = total / 2;
  *trail = total - *lead;
}

static bool
add_conv (OshGraph *w,
          const OshHeadStep *s,
          const char *name,
          const OshShape *in,
          OshRef *x,
          OshError *err)
{
  int64_t k = s->kernel_size, cin = in->dim[3], f = s->filters;
  bool act = strcmp (s->activation, "linear") != 0 && s->activation[0];
  char conv_name[96];
  snprintf (conv_name, sizeof conv_name, act ? "%.80s_conv" : "%.80s", name);
  /* The Keras head's HWIO values, keyed by the step's name, stored as OIHW. */
  float *hwio = malloc ((size_t) (k * k * cin * f) * sizeof (float));
  OshShape ws = osh_shape_make (4, (int64_t[]){ f, cin, k, k });
  Weight wt[2] = { { .value = hwio ? osh_tensor_new (&ws, err) : NULL } };
  if (!hwio || !wt[0].value)
    {
      free (hwio);
      osh_tensor_free (wt[0].value);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory for head layer '%s'", name);
    }
  osh_head_fill (hwio, k * k * cin * f, name, 0, osh_head_glorot_limit (s, cin));
  for (int64_t o = 0; o < f; o++)
    for (int64_t i = 0; i < cin; i++)
      for (int64_t yx = 0; yx < k * k; yx++)
        wt[0].value->data[(o * cin + i) * k * k + yx] = hwio[(yx * cin + i) * f + o];
  free (hwio);
  snprintf (wt[0].name, sizeof wt[0].name, "%.80s.weight", name);
  int n_w = 1;
  if (s->use_bias)
    {
      snprintf (wt[1].name, sizeof wt[1].name, "%.80s.bias", name);
      if (!(wt[n_w++].value = vector (f, 0.0f, err)))
        {
          osh_tensor_free (wt[0].value);
          return false;
        }
    }
  json_t *attrs =
      json_pack ("{s:[I,I], s:[I,I], s:[i,i]}", "kernel_shape", (json_int_t) k, (json_int_t) k,
                 "strides", (json_int_t) s->strides, (json_int_t) s->strides, "dilations", 1, 1);
  int64_t ph[2] = { 0, 0 }, pw[2] = { 0, 0 };
  if (s->same && (in->dim[1] < 0 || in->dim[2] < 0))
    json_object_set_new (attrs, "auto_pad", json_string ("SAME_UPPER"));
  else
    {
      if (s->same)
        {
          same_pads (in->dim[1], k, s->strides, &ph[0], &ph[1]);
          same_pads (in->dim[2], k, s->strides, &pw[0], &pw[1]);
        }
      json_object_set_new (attrs, "pads",
                           json_pack ("[I,I,I,I]", (json_int_t) ph[0], (json_int_t) pw[0],
                                      (json_int_t) ph[1], (json_int_t) pw[1]));
    }
  return add_onnx_node (w, conv_name, "Conv", attrs, x, wt, n_w, err) &&
         (!act || add_activation (w, s->activation, name, x, false, err));
}

static bool
add_dense (OshGraph *w,
           const OshHeadStep *s,
           const char *name,
           const OshShape *in,
           OshRef *x,
           OshError *err)
{
  if (in->rank != 2)
    return osh_fail (err, OSH_ERR_SHAPE,
                     "head layer '%s' (Dense) on an ONNX graph needs a 2-D input "
                     "(put gap before it)",
                     name);
  int64_t cin = in->dim[1];
  bool act = strcmp (s->activation, "linear") != 0 && s->activation[0];
  char gemm_name[96];
  snprintf (gemm_name, sizeof gemm_name, act ? "%.80s_gemm" : "%.80s", name);
  OshShape ks = osh_shape_make (2, (int64_t[]){ cin, s->filters }); /* Keras's kernel, as B */
  Weight wt[2] = { { .value = osh_tensor_new (&ks, err) } };
  if (!wt[0].value)
    return false;
  osh_head_fill (wt[0].value->data, cin * s->filters, name, 0, osh_head_glorot_limit (s, cin));
  snprintf (wt[0].name, sizeof wt[0].name, "%.80s.weight", name);
  int n_w = 1;
  if (s->use_bias)
    {
      snprintf (wt[1].name, sizeof wt[1].name, "%.80s.bias", name);
      if (!(wt[n_w++].value = vector (s->filters, 0.0f, err)))
        {
          osh_tensor_free (wt[0].value);
          return false;
        }
    }
  return add_onnx_node (w, gemm_name, "Gemm", json_object (), x, wt, n_w, err) &&
         (!act || add_activation (w, s->activation, name, x, false, err));
}

static bool
add_batchnorm (OshGraph *w,
               const OshHeadStep *s,
               const char *name,
               const OshShape *in,
               OshRef *x,
               OshError *err)
{
  static const char *const what[4] = { "weight", "bias", "running_mean", "running_var" };
  static const float fill[4] = { 1.0f, 0.0f, 0.0f, 1.0f };
  Weight wt[4];
  for (int i = 0; i < 4; i++)
    {
      snprintf (wt[i].name, sizeof wt[i].name, "%.80s.%s", name, what[i]);
      if (!(wt[i].value = vector (in->dim[in->rank - 1], fill[i], err)))
        {
          for (int k = 0; k < i; k++)
            osh_tensor_free (wt[k].value);
          return false;
        }
    }
  json_t *attrs = json_pack ("{s:f, s:f}", "epsilon", s->epsilon, "momentum", s->momentum);
  return add_onnx_node (w, name, "BatchNormalization", attrs, x, wt, 4, err);
}

bool
osh_head_build_onnx (OshGraph *w,
                     const OshHeadSpec *spec,
                     const char *const *names,
                     const OshShape *shapes,
                     OshRef *x,
                     OshError *err)
{
  for (int i = 0; i < spec->n_steps; i++)
    {
      const OshHeadStep *s = &spec->steps[i];
      const char *name = names[i];
      char pool_name[96];
      bool ok = false;
      switch (s->kind)
        {
        case OSH_HEAD_CONV2D:
          ok = add_conv (w, s, name, &shapes[i], x, err);
          break;
        case OSH_HEAD_BATCHNORM:
          ok = add_batchnorm (w, s, name, &shapes[i], x, err);
          break;
        case OSH_HEAD_RELU:
          ok = add_activation (w, "relu", name, x, true, err);
          break;
        case OSH_HEAD_ACTIVATION:
          ok = add_activation (w, s->activation, name, x, true, err);
          break;
        case OSH_HEAD_GAP:
          snprintf (pool_name, sizeof pool_name, "%.80s_gap", name);
          ok = add_onnx_node (w, pool_name, "GlobalAveragePool", json_object (), x, NULL, 0, err) &&
               add_onnx_node (w, name, "Flatten", json_pack ("{s:i}", "axis", 1), x, NULL, 0, err);
          break;
        case OSH_HEAD_DENSE:
          ok = add_dense (w, s, name, &shapes[i], x, err);
          break;
        }
      if (!ok)
        return false;
    }
  return true;
}
