/* osh-zoo-build.c — the zoo's layer API: Keras 2 configs, wiring, shapes, seeded weights.
 *
 * Over 700 lines because it is one small Keras: a constructor per layer class the
 * keras.applications architectures use, each writing the config Keras would. */
#include "osh-zoo-build.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"

void
osh_zoo_builder_init (OshZooBuilder *b, uint64_t seed, OshError *err)
{
  memset (b, 0, sizeof *b);
  b->g = osh_graph_new ();
  b->err = err;
  b->rng = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
  b->auto_names = json_object ();
  if (!b->g || !b->auto_names)
    osh_zoo_fail (b, "out of memory starting a zoo model");
}

bool
osh_zoo_fail (OshZooBuilder *b, const char *fmt, ...)
{
  if (!b->failed)
    {
      va_list ap;
      va_start (ap, fmt);
      osh_failv (b->err, OSH_ERR_USAGE, fmt, ap);
      va_end (ap);
    }
  b->failed = true;
  return false;
}

/* splitmix64: fast, and good enough for weights that only need to look plausible. */
static double
uniform (OshZooBuilder *b)
{
  uint64_t z = (b->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double) (z >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* ---- layers, nodes and weights ---- */

static char *numbered_name (OshZooBuilder *b, const char *base);

/* Keras's automatic name: the class in snake_case, then _1, _2, ... */
static char *
auto_name (OshZooBuilder *b, const char *class_name)
{
  char base[64];
  size_t n = 0;
  for (const char *p = class_name; *p && n + 2 < sizeof base; p++)
    {
      bool boundary = isupper ((unsigned char) *p) && p != class_name
                      && (islower ((unsigned char) p[-1]) || islower ((unsigned char) p[1]))
                      && !isdigit ((unsigned char) p[-1]);
      if (boundary)
        base[n++] = '_';
      base[n++] = (char) tolower ((unsigned char) *p);
    }
  base[n] = '\0';
  return numbered_name (b, base);
}

/* `base`, then base_1, base_2, ... as Keras's unique_object_name counts them per base. */
static char *
numbered_name (OshZooBuilder *b, const char *base)
{
  size_t n = strlen (base);
  json_int_t count = json_integer_value (json_object_get (b->auto_names, base));
  json_object_set_new (b->auto_names, base, json_integer (count + 1));
  char *name = malloc (n + 24);
  if (name)
    {
      if (count == 0)
        snprintf (name, n + 24, "%s", base);
      else
        snprintf (name, n + 24, "%s_%lld", base, (long long) count);
    }
  return name;
}

/* Adds the layer and its node on `inputs`; returns the layer index or -1. `config` is stolen
 * and gets "name", "trainable" and "dtype" first, as Keras writes them. */
static int
add_layer (OshZooBuilder *b, const char *name, const char *class_name, json_t *config,
           const OshZt *inputs, int n_inputs, int *node_out)
{
  if (b->failed)
    {
      json_decref (config);
      return -1;
    }
  char *owned = name ? NULL : auto_name (b, class_name);
  const char *layer_name = name ? name : owned;
  json_t *full = json_pack ("{s:s, s:b, s:s}", "name", layer_name ? layer_name : "", "trainable",
                            true, "dtype", "float32");
  if (full && config)
    json_object_update (full, config);
  json_decref (config);
  int layer = layer_name && full
                  ? osh_graph_add_layer (b->g, -1, layer_name, class_name, full, b->err)
                  : -1;
  if (layer < 0 && !layer_name)
    json_decref (full);
  free (owned);
  if (layer < 0)
    {
      b->failed = true;
      return -1;
    }
  OshRef refs[16];
  if (n_inputs > 16)
    {
      osh_zoo_fail (b, "layer '%s': too many inputs", b->g->layers[layer].name);
      return -1;
    }
  for (int i = 0; i < n_inputs; i++)
    refs[i] = (OshRef){ inputs[i].node, 0 };
  int node = osh_graph_add_node (b->g, layer, refs, n_inputs, 1, b->err);
  if (node < 0)
    {
      b->failed = true;
      return -1;
    }
  *node_out = node;
  return layer;
}

typedef enum
{
  FILL_HE,       /* uniform with variance 2 / fan_in */
  FILL_GLOROT,   /* uniform with limit sqrt(6 / (fan_in + fan_out)) */
  FILL_SMALL,    /* biases, BN beta and moving mean: ±0.05 */
  FILL_GAMMA,    /* 1 ± 0.1 */
  FILL_VARIANCE, /* 1 ± 0.2, always positive */
} Fill;

static void
add_weight (OshZooBuilder *b, int layer, const char *suffix, int rank, const int64_t *dims,
            Fill fill, double fan_in, double fan_out, bool trainable)
{
  if (b->failed)
    return;
  OshShape s = osh_shape_make (rank, dims);
  OshTensor *t = osh_tensor_new (&s, b->err);
  if (!t)
    {
      b->failed = true;
      return;
    }
  double lo = -0.05, hi = 0.05;
  switch (fill)
    {
    case FILL_HE: hi = sqrt (6.0 / (fan_in > 0 ? fan_in : 1)), lo = -hi; break;
    case FILL_GLOROT:
      hi = sqrt (6.0 / (fan_in + fan_out > 0 ? fan_in + fan_out : 1)), lo = -hi;
      break;
    case FILL_SMALL: break;
    case FILL_GAMMA: lo = 0.9, hi = 1.1; break;
    case FILL_VARIANCE: lo = 0.8, hi = 1.2; break;
    }
  int64_t n = osh_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    t->data[i] = (float) (lo + (hi - lo) * uniform (b));
  char wname[300];
  snprintf (wname, sizeof wname, "%s/%s:0", b->g->layers[layer].name, suffix);
  if (!osh_layer_add_weight (b->g, layer, wname, t, trainable, b->err))
    b->failed = true;
}

static OshZt
result (const OshZt *like, int node, int rank, int64_t d0, int64_t d1, int64_t d2)
{
  (void) like;
  return (OshZt){ .node = node, .rank = rank, .dim = { d0, d1, d2 } };
}

static const OshZt FAILED = { .node = -1 };

static bool
need_spatial (OshZooBuilder *b, OshZt x, const char *what, const char *name)
{
  if (b->failed)
    return false;
  if (x.rank != 3)
    return osh_zoo_fail (b, "layer '%s': %s needs an (H, W, C) input", name ? name : what, what);
  return true;
}

/* Output size along one axis: the ops' window rule (osh_op_window). */
static int64_t
out_length (int64_t n, int kernel, int stride, const char *padding)
{
  return osh_op_window_out (n, kernel, stride, 1, strcmp (padding, "same") == 0);
}

static bool
check_spatial (OshZooBuilder *b, int64_t h, int64_t w, const char *name)
{
  if (h < 1 || w < 1)
    return osh_zoo_fail (b, "layer '%s': the input is too small (the output would be %lldx%lld)",
                         name ? name : "?", (long long) h, (long long) w);
  return true;
}

static json_t *
pair (int64_t a, int64_t c)
{
  return json_pack ("[I, I]", (json_int_t) a, (json_int_t) c);
}

static json_t *
initializer (const char *class_name)
{
  return json_pack ("{s:s, s:{s:n}}", "class_name", class_name, "config", "seed");
}

static json_t *
kernel_init (const json_t *custom)
{
  return custom ? json_deep_copy (custom) : initializer ("GlorotUniform");
}

static json_t *
conv_common (int kh, int kw, int stride, const char *padding, const char *activation, bool use_bias)
{
  return json_pack ("{s:o, s:o, s:s, s:s, s:o, s:s, s:b}", "kernel_size", pair (kh, kw), "strides",
                    pair (stride, stride), "padding", padding, "data_format", "channels_last",
                    "dilation_rate", pair (1, 1), "activation", activation, "use_bias", use_bias);
}

static void
set_regularizers (json_t *c, const char *const *keys)
{
  for (; *keys; keys++)
    json_object_set_new (c, *keys, json_null ());
}

static const char *const CONV_NULLS[] = { "kernel_regularizer",   "bias_regularizer",
                                          "activity_regularizer", "kernel_constraint",
                                          "bias_constraint",      NULL };

OshZt
osh_zoo_input (OshZooBuilder *b, const char *name, int64_t h, int64_t w, int64_t c)
{
  json_t *config = json_pack ("{s:[n, I, I, I], s:b, s:b}", "batch_input_shape", (json_int_t) h,
                              (json_int_t) w, (json_int_t) c, "sparse", false, "ragged", false);
  int node;
  int layer = add_layer (b, name, "InputLayer", config, NULL, 0, &node);
  if (layer < 0)
    return FAILED;
  json_object_del (b->g->layers[layer].config, "trainable");
  return (OshZt){ .node = node, .rank = 3, .dim = { h, w, c } };
}

OshZt
osh_zoo_conv_rect (OshZooBuilder *b, OshZt x, const char *name, int64_t filters, int kh, int kw,
                   int stride, const char *padding, bool use_bias, const char *activation)
{
  if (!need_spatial (b, x, "Conv2D", name))
    return FAILED;
  int64_t h = out_length (x.dim[0], kh, stride, padding);
  int64_t w = out_length (x.dim[1], kw, stride, padding);
  if (!check_spatial (b, h, w, name))
    return FAILED;
  json_t *c = conv_common (kh, kw, stride, padding, activation, use_bias);
  json_object_set_new (c, "filters", json_integer (filters));
  json_object_set_new (c, "groups", json_integer (1));
  json_object_set_new (c, "kernel_initializer", kernel_init (b->conv_init));
  json_object_set_new (c, "bias_initializer",
                       json_pack ("{s:s, s:{}}", "class_name", "Zeros", "config"));
  set_regularizers (c, CONV_NULLS);
  int node;
  int layer = add_layer (b, name, "Conv2D", c, &x, 1, &node);
  if (layer < 0)
    return FAILED;
  add_weight (b, layer, "kernel", 4, (int64_t[]){ kh, kw, x.dim[2], filters }, FILL_HE,
              (double) kh * kw * x.dim[2], 0, true);
  if (use_bias)
    add_weight (b, layer, "bias", 1, (int64_t[]){ filters }, FILL_SMALL, 0, 0, true);
  return result (&x, node, 3, h, w, filters);
}

OshZt
osh_zoo_conv (OshZooBuilder *b, OshZt x, const char *name, int64_t filters, int kernel, int stride,
              const char *padding, bool use_bias, const char *activation)
{
  return osh_zoo_conv_rect (b, x, name, filters, kernel, kernel, stride, padding, use_bias,
                            activation);
}

OshZt
osh_zoo_dwconv (OshZooBuilder *b, OshZt x, const char *name, int kernel, int stride,
                const char *padding, bool use_bias)
{
  if (!need_spatial (b, x, "DepthwiseConv2D", name))
    return FAILED;
  int64_t h = out_length (x.dim[0], kernel, stride, padding);
  int64_t w = out_length (x.dim[1], kernel, stride, padding);
  if (!check_spatial (b, h, w, name))
    return FAILED;
  json_t *c = conv_common (kernel, kernel, stride, padding, "linear", use_bias);
  json_object_set_new (c, "depth_multiplier", json_integer (1));
  json_object_set_new (c, "depthwise_initializer", kernel_init (b->conv_init));
  json_object_set_new (c, "bias_initializer",
                       json_pack ("{s:s, s:{}}", "class_name", "Zeros", "config"));
  set_regularizers (c, (const char *const[]){ "depthwise_regularizer", "bias_regularizer",
                                              "activity_regularizer", "depthwise_constraint",
                                              "bias_constraint", NULL });
  int node;
  int layer = add_layer (b, name, "DepthwiseConv2D", c, &x, 1, &node);
  if (layer < 0)
    return FAILED;
  add_weight (b, layer, "depthwise_kernel", 4, (int64_t[]){ kernel, kernel, x.dim[2], 1 }, FILL_HE,
              (double) kernel * kernel, 0, true);
  if (use_bias)
    add_weight (b, layer, "bias", 1, (int64_t[]){ x.dim[2] }, FILL_SMALL, 0, 0, true);
  return result (&x, node, 3, h, w, x.dim[2]);
}

OshZt
osh_zoo_sepconv (OshZooBuilder *b, OshZt x, const char *name, int64_t filters, int kernel,
                 const char *padding, bool use_bias)
{
  if (!need_spatial (b, x, "SeparableConv2D", name))
    return FAILED;
  int64_t h = out_length (x.dim[0], kernel, 1, padding);
  int64_t w = out_length (x.dim[1], kernel, 1, padding);
  if (!check_spatial (b, h, w, name))
    return FAILED;
  json_t *c = conv_common (kernel, kernel, 1, padding, "linear", use_bias);
  json_object_set_new (c, "filters", json_integer (filters));
  json_object_set_new (c, "groups", json_integer (1));
  json_object_set_new (c, "depth_multiplier", json_integer (1));
  json_object_set_new (c, "depthwise_initializer", initializer ("GlorotUniform"));
  json_object_set_new (c, "pointwise_initializer", initializer ("GlorotUniform"));
  json_object_set_new (c, "bias_initializer",
                       json_pack ("{s:s, s:{}}", "class_name", "Zeros", "config"));
  set_regularizers (c, (const char *const[]){ "depthwise_regularizer", "pointwise_regularizer",
                                              "bias_regularizer", "activity_regularizer",
                                              "depthwise_constraint", "pointwise_constraint",
                                              "bias_constraint", NULL });
  int node;
  int layer = add_layer (b, name, "SeparableConv2D", c, &x, 1, &node);
  if (layer < 0)
    return FAILED;
  add_weight (b, layer, "depthwise_kernel", 4, (int64_t[]){ kernel, kernel, x.dim[2], 1 }, FILL_HE,
              (double) kernel * kernel, 0, true);
  add_weight (b, layer, "pointwise_kernel", 4, (int64_t[]){ 1, 1, x.dim[2], filters }, FILL_HE,
              (double) x.dim[2], 0, true);
  if (use_bias)
    add_weight (b, layer, "bias", 1, (int64_t[]){ filters }, FILL_SMALL, 0, 0, true);
  return result (&x, node, 3, h, w, filters);
}

OshZt
osh_zoo_dense (OshZooBuilder *b, OshZt x, const char *name, int64_t units, const char *activation)
{
  if (b->failed)
    return FAILED;
  if (x.rank != 1)
    return osh_zoo_fail (b, "layer '%s': Dense needs a flat input", name), FAILED;
  json_t *c =
      json_pack ("{s:I, s:s, s:b, s:o, s:{s:s, s:{}}}", "units", (json_int_t) units, "activation",
                 activation, "use_bias", true, "kernel_initializer", kernel_init (b->dense_init),
                 "bias_initializer", "class_name", "Zeros", "config");
  set_regularizers (c, CONV_NULLS);
  int node;
  int layer = add_layer (b, name, "Dense", c, &x, 1, &node);
  if (layer < 0)
    return FAILED;
  add_weight (b, layer, "kernel", 2, (int64_t[]){ x.dim[0], units }, FILL_GLOROT, (double) x.dim[0],
              (double) units, true);
  add_weight (b, layer, "bias", 1, (int64_t[]){ units }, FILL_SMALL, 0, 0, true);
  return result (&x, node, 1, units, 0, 0);
}

static OshZt
batch_norm (OshZooBuilder *b, OshZt x, const char *name, int axis, double epsilon, double momentum,
            bool scale)
{
  if (b->failed)
    return FAILED;
  json_t *c = json_pack (
      "{s:[i], s:f, s:f, s:b, s:b, s:{s:s, s:{}}, s:{s:s, s:{}}, s:{s:s, s:{}}, s:{s:s, s:{}}}",
      "axis", axis < 0 ? x.rank + 1 + axis : axis, "momentum", momentum, "epsilon", epsilon,
      "center", true, "scale", scale, "beta_initializer", "class_name", "Zeros", "config",
      "gamma_initializer", "class_name", "Ones", "config", "moving_mean_initializer", "class_name",
      "Zeros", "config", "moving_variance_initializer", "class_name", "Ones", "config");
  set_regularizers (c, (const char *const[]){ "beta_regularizer", "gamma_regularizer",
                                              "beta_constraint", "gamma_constraint", NULL });
  int node;
  int layer = add_layer (b, name, "BatchNormalization", c, &x, 1, &node);
  if (layer < 0)
    return FAILED;
  int64_t ch = x.dim[x.rank - 1];
  if (scale)
    add_weight (b, layer, "gamma", 1, &ch, FILL_GAMMA, 0, 0, true);
  add_weight (b, layer, "beta", 1, &ch, FILL_SMALL, 0, 0, true);
  add_weight (b, layer, "moving_mean", 1, &ch, FILL_SMALL, 0, 0, false);
  add_weight (b, layer, "moving_variance", 1, &ch, FILL_VARIANCE, 0, 0, false);
  OshZt y = x;
  y.node = node;
  return y;
}

OshZt
osh_zoo_bn (OshZooBuilder *b, OshZt x, const char *name, int axis, double epsilon, double momentum)
{
  return batch_norm (b, x, name, axis, epsilon, momentum, true);
}

OshZt
osh_zoo_bn_unscaled (OshZooBuilder *b, OshZt x, const char *name, int axis, double epsilon,
                     double momentum)
{
  return batch_norm (b, x, name, axis, epsilon, momentum, false);
}

/* A layer that keeps the shape and has no weights. */
static OshZt
same_shape (OshZooBuilder *b, OshZt x, const char *name, const char *class_name, json_t *config)
{
  int node;
  if (add_layer (b, name, class_name, config, &x, 1, &node) < 0)
    return FAILED;
  OshZt y = x;
  y.node = node;
  return y;
}

OshZt
osh_zoo_activation (OshZooBuilder *b, OshZt x, const char *name, const char *activation)
{
  return same_shape (b, x, name, "Activation", json_pack ("{s:s}", "activation", activation));
}

OshZt
osh_zoo_relu (OshZooBuilder *b, OshZt x, const char *name, double max_value)
{
  json_t *c = json_pack ("{s:o, s:f, s:f}", "max_value",
                         max_value > 0 ? json_real (max_value) : json_null (), "negative_slope",
                         0.0, "threshold", 0.0);
  return same_shape (b, x, name, "ReLU", c);
}

OshZt
osh_zoo_tfop (OshZooBuilder *b, OshZt x, const char *function, double y)
{
  if (b->failed)
    return FAILED;
  char base[96];
  snprintf (base, sizeof base, "tf.%s", function);
  char *name = numbered_name (b, base);
  if (!name)
    return osh_zoo_fail (b, "out of memory naming a %s layer", base), FAILED;
  OshZt out = same_shape (b, x, name, "TFOpLambda", json_pack ("{s:s}", "function", function));
  free (name);
  if (!b->failed)
    b->g->nodes[out.node].kwargs = json_pack ("{s:f, s:n}", "y", y, "name");
  return out;
}

OshZt
osh_zoo_rescaling (OshZooBuilder *b, OshZt x, const char *name, double scale, double offset)
{
  return same_shape (b, x, name, "Rescaling",
                     json_pack ("{s:f, s:f}", "scale", scale, "offset", offset));
}

OshZt
osh_zoo_normalization (OshZooBuilder *b, OshZt x, const char *name)
{
  if (!need_spatial (b, x, "Normalization", name))
    return FAILED;
  json_t *c = json_pack ("{s:[i], s:n, s:n}", "axis", 3, "mean", "variance");
  int node;
  int layer = add_layer (b, name, "Normalization", c, &x, 1, &node);
  if (layer < 0)
    return FAILED;
  /* ImageNet statistics: what adapt() would have stored, so runs see sensible inputs. */
  static const float mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float variance[3] = { 0.229f * 0.229f, 0.224f * 0.224f, 0.225f * 0.225f };
  const char *names[] = { "mean", "variance", "count" };
  for (int i = 0; i < 3 && !b->failed; i++)
    {
      OshShape s = osh_shape_make (i < 2 ? 1 : 0, (int64_t[]){ x.dim[2] });
      OshTensor *t = osh_tensor_new (&s, b->err);
      if (!t)
        {
          b->failed = true;
          break;
        }
      for (int64_t k = 0; k < osh_tensor_numel (t); k++)
        t->data[k] = i == 2 ? 0.0f : (i == 0 ? mean : variance)[k % 3];
      char wname[300];
      snprintf (wname, sizeof wname, "%s/%s:0", b->g->layers[layer].name, names[i]);
      if (!osh_layer_add_weight (b->g, layer, wname, t, false, b->err))
        b->failed = true;
    }
  OshZt y = x;
  y.node = node;
  return b->failed ? FAILED : y;
}

OshZt
osh_zoo_zeropad (OshZooBuilder *b, OshZt x, const char *name, int top, int bottom, int left,
                 int right)
{
  if (!need_spatial (b, x, "ZeroPadding2D", name))
    return FAILED;
  json_t *c = json_pack ("{s:[[i, i], [i, i]], s:s}", "padding", top, bottom, left, right,
                         "data_format", "channels_last");
  int node;
  if (add_layer (b, name, "ZeroPadding2D", c, &x, 1, &node) < 0)
    return FAILED;
  return result (&x, node, 3, x.dim[0] + top + bottom, x.dim[1] + left + right, x.dim[2]);
}

OshZt
osh_zoo_correct_pad (OshZooBuilder *b, OshZt x, const char *name, int kernel)
{
  if (!need_spatial (b, x, "ZeroPadding2D", name))
    return FAILED;
  int half = kernel / 2;
  int adjust_h = 1 - (int) (x.dim[0] % 2), adjust_w = 1 - (int) (x.dim[1] % 2);
  return osh_zoo_zeropad (b, x, name, half - adjust_h, half, half - adjust_w, half);
}

OshZt
osh_zoo_pool (OshZooBuilder *b, OshZt x, const char *kind, const char *name, int pool, int stride,
              const char *padding)
{
  if (!need_spatial (b, x, kind, name))
    return FAILED;
  int64_t h = out_length (x.dim[0], pool, stride, padding);
  int64_t w = out_length (x.dim[1], pool, stride, padding);
  if (!check_spatial (b, h, w, name))
    return FAILED;
  json_t *c = json_pack ("{s:o, s:s, s:o, s:s}", "pool_size", pair (pool, pool), "padding", padding,
                         "strides", pair (stride, stride), "data_format", "channels_last");
  int node;
  if (add_layer (b, name, kind, c, &x, 1, &node) < 0)
    return FAILED;
  return result (&x, node, 3, h, w, x.dim[2]);
}

OshZt
osh_zoo_global_pool (OshZooBuilder *b, OshZt x, const char *kind, const char *name, bool keepdims)
{
  if (!need_spatial (b, x, kind, name))
    return FAILED;
  json_t *c = json_pack ("{s:s, s:b}", "data_format", "channels_last", "keepdims", keepdims);
  int node;
  if (add_layer (b, name, kind, c, &x, 1, &node) < 0)
    return FAILED;
  return keepdims ? result (&x, node, 3, 1, 1, x.dim[2]) : result (&x, node, 1, x.dim[2], 0, 0);
}

OshZt
osh_zoo_flatten (OshZooBuilder *b, OshZt x, const char *name)
{
  if (!need_spatial (b, x, "Flatten", name))
    return FAILED;
  int node;
  if (add_layer (b, name, "Flatten", json_pack ("{s:s}", "data_format", "channels_last"), &x, 1,
                 &node)
      < 0)
    return FAILED;
  return result (&x, node, 1, x.dim[0] * x.dim[1] * x.dim[2], 0, 0);
}

OshZt
osh_zoo_dropout (OshZooBuilder *b, OshZt x, const char *name, double rate, bool spatial_noise)
{
  json_t *c =
      json_pack ("{s:f, s:o, s:n}", "rate", rate, "noise_shape",
                 spatial_noise ? json_pack ("[n, i, i, i]", 1, 1, 1) : json_null (), "seed");
  return same_shape (b, x, name, "Dropout", c);
}

OshZt
osh_zoo_reshape (OshZooBuilder *b, OshZt x, const char *name, int rank, const int64_t *target)
{
  if (b->failed)
    return FAILED;
  int64_t in = 1, out = 1;
  for (int i = 0; i < x.rank; i++)
    in *= x.dim[i];
  json_t *shape = json_array ();
  for (int i = 0; i < rank; i++)
    {
      out *= target[i];
      json_array_append_new (shape, json_integer (target[i]));
    }
  if (rank < 1 || rank > 3 || in != out)
    {
      json_decref (shape);
      return osh_zoo_fail (b, "layer '%s': cannot reshape %lld values", name, (long long) in),
             FAILED;
    }
  int node;
  if (add_layer (b, name, "Reshape", json_pack ("{s:o}", "target_shape", shape), &x, 1, &node) < 0)
    return FAILED;
  OshZt y = { .node = node, .rank = rank };
  memcpy (y.dim, target, sizeof (int64_t) * (size_t) rank);
  return y;
}

OshZt
osh_zoo_merge (OshZooBuilder *b, const char *kind, const char *name, const OshZt *xs, int n)
{
  if (b->failed)
    return FAILED;
  bool concat = strcmp (kind, "Concatenate") == 0;
  OshZt y = xs[0];
  for (int i = 1; i < n; i++)
    {
      if (xs[i].rank != y.rank)
        return osh_zoo_fail (b, "layer '%s': inputs of different ranks", name), FAILED;
      for (int d = 0; d < y.rank; d++)
        {
          bool last = d == y.rank - 1;
          if (concat && last)
            y.dim[d] += xs[i].dim[d];
          else if (xs[i].dim[d] != y.dim[d] && xs[i].dim[d] != 1 && y.dim[d] != 1)
            return osh_zoo_fail (b, "layer '%s': input shapes do not match", name), FAILED;
          else if (xs[i].dim[d] > y.dim[d])
            y.dim[d] = xs[i].dim[d];
        }
    }
  json_t *c = concat ? json_pack ("{s:i}", "axis", -1) : json_object ();
  int node;
  if (add_layer (b, name, kind, c, xs, n, &node) < 0)
    return FAILED;
  y.node = node;
  return y;
}

int64_t
osh_zoo_make_divisible (double v, int divisor)
{
  int64_t n = (int64_t) (v + divisor / 2.0) / divisor * divisor;
  if (n < divisor)
    n = divisor;
  if (n < 0.9 * v)
    n += divisor;
  return n;
}

OshGraph *
osh_zoo_builder_finish (OshZooBuilder *b, const char *model_name, OshZt input, OshZt output)
{
  OshGraph *g = b->g;
  b->g = NULL;
  json_decref (b->auto_names);
  json_decref (b->conv_init);
  json_decref (b->dense_init);
  b->auto_names = b->conv_init = b->dense_init = NULL;
  if (!b->failed && g)
    {
      OshRef in = { input.node, 0 }, out = { output.node, 0 };
      free (g->name);
      free (g->class_name);
      free (g->format);
      g->name = strdup (model_name);
      g->class_name = strdup ("Functional");
      g->format = strdup ("builder");
      json_object_set_new (g->meta, "keras_version", json_string ("2.13.1"));
      json_object_set_new (g->meta, "backend", json_string ("tensorflow"));
      if (!g->name || !g->class_name || !g->format)
        osh_zoo_fail (b, "out of memory naming model '%s'", model_name);
      else if (!osh_graph_set_io (g, -1, &in, 1, &out, 1, b->err))
        b->failed = true;
    }
  if (b->failed)
    {
      osh_graph_free (g);
      return NULL;
    }
  return g;
}
