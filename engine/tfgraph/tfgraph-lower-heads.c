/* Head steps (Keras layers: Conv2D, BatchNormalization, ReLU, Activation,
 * GlobalAveragePooling2D, Dense with Keras's configs and weights) lowered to TF nodes, the
 * dialect's lower_keras_layer: a graph model stays a graph of TF ops, so it runs on the op table
 * and saves as a graph model like any other node.
 *
 * TF and Keras share the NHWC layout and the HWIO filter layout, so the values are the Keras
 * layer's as they are. A step's nodes are named in TF's scope style: the last one (what the next
 * step reads) takes the layer's name, the others "<layer>/<Op>" (aux_head_conv/Conv2D,
 * aux_head_conv/BiasAdd, then aux_head_conv the Relu), so osh_graph_layer_is_head sees them all
 * as the head's and the window groups them under the layer's name. Constants are named
 * "<layer>/<what>" (aux_head_conv/kernel); the Mean's axes are int32 constants
 * (OSH_TFGRAPH_INT32_CONSTS), as tfjs wants them when the model is saved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-tfgraph.h"

typedef struct
{
  OshGraph *g;
  const OshLayer *step; /* the Keras layer */
  OshError *err;
} Lowering;

/* An input of a TF node: the tensor x, or a constant (taken over) named "<layer>/<what>". */
typedef struct
{
  OshRef x;
  OshTensor *value;
  const char *what;
  bool trainable;
} In;

static In
tensor_in (OshRef x)
{
  return (In){ x, NULL, NULL, false };
}

static In
const_in (OshTensor *value, const char *what, bool trainable)
{
  return (In){ { -1, 0 }, value, what, trainable };
}

/* Adds TF node `op` named `name` reading `ins` (constants become the layer's weights, tensors
 * its node's inputs) with attributes `attrs` (stolen, decoded as the reader decodes them). */
static OshRef
add_node (Lowering *c, const char *op, const char *name, In *ins, int n_in, json_t *attrs)
{
  OshRef fail = { -1, 0 };
  OshSlotKind kinds[8];
  OshRef refs[8];
  int n_refs = 0;
  int layer = osh_graph_add_layer (c->g, -1, name, op, attrs, c->err);
  bool ok = layer >= 0;
  for (int i = 0; i < n_in; i++)
    {
      if (!ins[i].value)
        {
          kinds[i] = OSH_SLOT_ACTIVATION;
          refs[n_refs++] = ins[i].x;
          continue;
        }
      kinds[i] = OSH_SLOT_WEIGHT;
      char cname[600];
      snprintf (cname, sizeof cname, "%.500s/%s", c->step->name, ins[i].what);
      if (ok)
        ok = osh_layer_add_weight (c->g, layer, cname, ins[i].value, ins[i].trainable, c->err);
      else
        osh_tensor_free (ins[i].value);
    }
  ok = ok && osh_layer_set_slots (c->g, layer, kinds, n_in, c->err);
  int node = ok ? osh_graph_add_node (c->g, layer, refs, n_refs, 1, c->err) : -1;
  return node < 0 ? fail : (OshRef){ node, 0 };
}

/* The name of the step's next node: "<layer>/<op>", or the layer's own for its last node. */
static void
step_node_name (const Lowering *c, const char *op, bool last, char *name, size_t size)
{
  if (last)
    snprintf (name, size, "%s", c->step->name);
  else
    snprintf (name, size, "%.500s/%s", c->step->name, op);
  /* A TF name is unique; "<layer>/BiasAdd" twice (never, but cheap to rule out) gets _1. */
  for (int k = 1; osh_graph_find_path (c->g, name) >= 0 && !last; k++)
    snprintf (name, size, "%.500s/%s_%d", c->step->name, op, k);
}

static OshRef
unary (Lowering *c, const char *op, OshRef x, bool last)
{
  char name[600];
  step_node_name (c, op, last, name, sizeof name);
  return add_node (c, op, name, (In[]){ tensor_in (x) }, 1, json_pack ("{s:s}", "T", "DT_FLOAT"));
}

/* The TF op of a Keras activation name, NULL for linear. */
static bool
activation_op (Lowering *c, const char *act, const char **op)
{
  static const char *const ops[][2] = { { "relu", "Relu" },      { "sigmoid", "Sigmoid" },
                                        { "tanh", "Tanh" },      { "softmax", "Softmax" },
                                        { "relu6", "Relu6" },    { "elu", "Elu" },
                                        { "selu", "Selu" },      { "softplus", "Softplus" },
                                        { "exponential", "Exp" } };
  *op = NULL;
  if (!act || !strcmp (act, "linear"))
    return true;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (!strcmp (act, ops[i][0]))
      {
        *op = ops[i][1];
        return true;
      }
  return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "head layer '%s': activation '%s' has no TF op",
                   c->step->name, act);
}

static OshTensor *
copy_weight (Lowering *c, int i)
{
  if (i >= c->step->n_weights)
    {
      osh_fail (c->err, OSH_ERR_FORMAT, "head layer '%s' (%s) lacks weight %d", c->step->name,
                c->step->class_name, i);
      return NULL;
    }
  return osh_tensor_copy (c->step->weights[i].value, c->err);
}

/* Conv2D or Dense: the product (Conv2D, MatMul), BiasAdd, then the activation. */
static OshRef
linear_layer (Lowering *c, OshRef x)
{
  const json_t *cfg = c->step->config;
  bool conv = !strcmp (c->step->class_name, "Conv2D");
  bool bias = osh_config_bool (cfg, "use_bias", true);
  const char *act;
  OshRef fail = { -1, 0 };
  if (!activation_op (c, osh_config_string (cfg, "activation", "linear"), &act))
    return fail;
  OshTensor *kernel = copy_weight (c, 0);
  if (!kernel)
    return fail;
  char name[600];
  const char *op = conv ? "Conv2D" : "MatMul";
  step_node_name (c, op, !bias && !act, name, sizeof name);
  json_t *attrs;
  if (conv)
    {
      int64_t s[2] = { 1, 1 };
      osh_config_ints (cfg, "strides", s, 2);
      bool same = !strcmp (osh_config_string (cfg, "padding", "valid"), "same");
      attrs = json_pack ("{s:s, s:[I,I,I,I], s:s, s:s, s:[i,i,i,i], s:b}", "T", "DT_FLOAT",
                         "strides", (json_int_t) 1, (json_int_t) s[0], (json_int_t) s[1],
                         (json_int_t) 1, "padding", same ? "SAME" : "VALID", "data_format", "NHWC",
                         "dilations", 1, 1, 1, 1, "use_cudnn_on_gpu", 1);
    }
  else
    attrs = json_pack ("{s:s, s:b, s:b}", "T", "DT_FLOAT", "transpose_a", 0, "transpose_b", 0);
  OshRef r =
      add_node (c, op, name, (In[]){ tensor_in (x), const_in (kernel, "kernel", true) }, 2, attrs);
  if (r.node >= 0 && bias)
    {
      OshTensor *b = copy_weight (c, 1);
      if (!b)
        return fail;
      step_node_name (c, "BiasAdd", !act, name, sizeof name);
      r = add_node (c, "BiasAdd", name, (In[]){ tensor_in (r), const_in (b, "bias", true) }, 2,
                    json_pack ("{s:s, s:s}", "T", "DT_FLOAT", "data_format", "NHWC"));
    }
  return r.node >= 0 && act ? unary (c, act, r, true) : r;
}

/* FusedBatchNormV3 in inference mode: scale, offset, mean, variance. */
static OshRef
batchnorm (Lowering *c, OshRef x)
{
  const json_t *cfg = c->step->config;
  bool scale = osh_config_bool (cfg, "scale", true), center = osh_config_bool (cfg, "center", true);
  OshRef fail = { -1, 0 };
  int n = c->step->n_weights;
  if (n < 2 + (int) scale + (int) center)
    {
      osh_fail (c->err, OSH_ERR_FORMAT, "head layer '%s' lacks its statistics", c->step->name);
      return fail;
    }
  int64_t ch = c->step->weights[n - 1].value->shape.dim[0];
  OshShape vs = osh_shape_make (1, (int64_t[]){ ch });
  OshTensor *v[4] = { NULL };
  int wi = 0;
  v[0] = scale ? copy_weight (c, wi++) : osh_tensor_new (&vs, c->err);
  v[1] = center ? copy_weight (c, wi++) : osh_tensor_new (&vs, c->err);
  v[2] = copy_weight (c, wi);
  v[3] = copy_weight (c, wi + 1);
  if (!v[0] || !v[1] || !v[2] || !v[3])
    {
      for (int i = 0; i < 4; i++)
        osh_tensor_free (v[i]);
      return fail;
    }
  for (int64_t i = 0; !scale && i < ch; i++)
    v[0]->data[i] = 1.0f;
  char name[600];
  step_node_name (c, "FusedBatchNormV3", true, name, sizeof name);
  return add_node (c, "FusedBatchNormV3", name,
                   (In[]){ tensor_in (x), const_in (v[0], "gamma", true),
                           const_in (v[1], "beta", true), const_in (v[2], "moving_mean", false),
                           const_in (v[3], "moving_variance", false) },
                   5,
                   json_pack ("{s:s, s:s, s:f, s:b, s:s, s:f}", "T", "DT_FLOAT", "U", "DT_FLOAT",
                              "epsilon", osh_config_double (cfg, "epsilon", 1e-3), "is_training", 0,
                              "data_format", "NHWC", "exponential_avg_factor", 1.0));
}

/* GlobalAveragePooling2D: Mean over the spatial axes (1, 2). */
static OshRef
global_pool (Lowering *c, OshRef x, bool keepdims)
{
  OshShape as = osh_shape_make (1, (int64_t[]){ 2 });
  OshTensor *axes = osh_tensor_new (&as, c->err);
  if (!axes)
    return (OshRef){ -1, 0 };
  axes->data[0] = 1;
  axes->data[1] = 2;
  char name[600];
  step_node_name (c, "Mean", true, name, sizeof name);
  OshRef r = add_node (
      c, "Mean", name, (In[]){ tensor_in (x), const_in (axes, "axes", false) }, 2,
      json_pack ("{s:s, s:s, s:b}", "T", "DT_FLOAT", "Tidx", "DT_INT32", "keep_dims", keepdims));
  if (r.node >= 0)
    {
      char cname[600];
      snprintf (cname, sizeof cname, "%.500s/axes", c->step->name);
      json_t *ints = json_object_get (c->g->meta, OSH_TFGRAPH_INT32_CONSTS);
      if (!json_is_array (ints))
        json_object_set_new (c->g->meta, OSH_TFGRAPH_INT32_CONSTS, ints = json_array ());
      json_array_append_new (ints, json_string (cname));
    }
  return r;
}

bool
osh_tfgraph_lower_keras_layer (OshGraph *g, const OshLayer *layer, const OshShape *in,
                               const OshShape *out, OshRef *x, OshError *err)
{
  Lowering c = { g, layer, err };
  const char *cls = layer->class_name;
  const json_t *cfg = layer->config;
  const char *op;
  OshRef r = { -1, 0 };
  if (strcmp (osh_config_string (cfg, "data_format", "channels_last"), "channels_last") != 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "head layer '%s': channels_first", layer->name);
  if (!strcmp (cls, "Conv2D") && in->rank == 4 && osh_config_int (cfg, "groups", 1) == 1)
    r = linear_layer (&c, *x);
  else if (!strcmp (cls, "Dense") && in->rank == 2)
    r = linear_layer (&c, *x);
  else if (!strcmp (cls, "BatchNormalization") && in->rank == 4)
    r = batchnorm (&c, *x);
  else if (!strcmp (cls, "ReLU"))
    {
      double maxv = osh_config_double (cfg, "max_value", -1);
      if (osh_config_double (cfg, "negative_slope", 0) != 0
          || osh_config_double (cfg, "threshold", 0) != 0 || (maxv > 0 && maxv != 6))
        return osh_fail (err, OSH_ERR_UNSUPPORTED,
                         "head layer '%s': ReLU with a slope, threshold or cap other than 6 has "
                         "no TF op",
                         layer->name);
      r = unary (&c, maxv == 6 ? "Relu6" : "Relu", *x, true);
    }
  else if (!strcmp (cls, "Activation"))
    {
      if (!activation_op (&c, osh_config_string (cfg, "activation", "linear"), &op))
        return false;
      /* linear: an Identity, so every head layer is a node of the graph */
      r = unary (&c, op ? op : "Identity", *x, true);
    }
  else if (!strcmp (cls, "GlobalAveragePooling2D") && in->rank == 4)
    r = global_pool (&c, *x, out->rank == 4);
  else
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "head layer '%s' (%s on rank %d) has no TF op form in a graph model",
                     layer->name, cls, in->rank);
  if (r.node < 0)
    return false;
  *x = r;
  return true;
}
