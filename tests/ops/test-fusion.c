/* Steps folded into the step before them, fused against unfused (capturing every layer turns
 * fusion off): MobileNetV3's hard_swish as a Keras 3 Activation and as Keras 2 writes it out
 * (x · (relu6 (x + 3) / 6): two TFOpLambda layers, a ReLU and a Multiply), both after a
 * convolution and after a depthwise convolution; hard_sigmoid; a ReLU after a BatchNormalization
 * that follows no convolution (ResNetV2's and DenseNet's pre-activation); Xception's
 * SeparableConv2D → BatchNormalization → ReLU, and → BatchNormalization → Add; and
 * squeeze-excite's global average pooling summed by the depthwise convolution before it; a
 * ZeroPadding2D read through by a Conv2D with an activation of its own. */
#include <math.h>

#include "fusion-check.h"
#include "ops-test.h"

/* A TFOpLambda node computing `x op y` (Keras 2's record of arithmetic on a tensor). */
static int
add_tfop (OshGraph *g, const char *name, const char *function, double y, int x)
{
  char config[128];
  g_snprintf (config, sizeof config, "{\"function\": \"%s\"}", function);
  int n = ot_add (g, -1, name, "TFOpLambda", config, 1, x);
  g->nodes[n].kwargs = json_pack ("{s:f}", "y", y);
  return n;
}

/* hard_swish (x): the Activation layer, or Keras 2's arithmetic around a ReLU(6). */
static int
add_hard_swish (OshGraph *g, const char *name, bool written_out, int x)
{
  char n1[64], n2[64], n3[64];
  if (!written_out)
    return ot_add (g, -1, name, "Activation", "{\"activation\": \"hard_swish\"}", 1, x);
  g_snprintf (n1, sizeof n1, "%s_add", name);
  g_snprintf (n2, sizeof n2, "%s_relu", name);
  g_snprintf (n3, sizeof n3, "%s_div", name);
  int a = add_tfop (g, n1, "__operators__.add", 3.0, x);
  int r = ot_add (g, -1, n2, "ReLU", "{\"max_value\": 6.0}", 1, a);
  int d = add_tfop (g, n3, "math.multiply", 1.0 / 6.0, r);
  return ot_add (g, -1, name, "Multiply", NULL, 2, x, d);
}

/* Conv2D 1×1 → BatchNormalization → hard_swish → DepthwiseConv2D 3×3 → BatchNormalization →
 * hard_swish: one step (the depthwise convolution fed from the expansion), the same numbers. */
static void
test_hard_swish (gconstpointer data)
{
  bool written_out = GPOINTER_TO_INT (data);
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 11, 14, 24]}", 0);
  int e = ot_add (g, -1, "expand", "Conv2D",
                  "{\"filters\": 72, \"kernel_size\": 1, \"use_bias\": false}", 1, x);
  ot_weight (g, e, 4, (int64_t[]){ 1, 1, 24, 72 });
  int b1 = ot_add (g, -1, "bn1", "BatchNormalization", "{\"epsilon\": 0.001}", 1, e);
  add_batchnorm (g, b1, 72);
  int h1 = add_hard_swish (g, "hs1", written_out, b1);
  int d = ot_add (g, -1, "dw", "DepthwiseConv2D",
                  "{\"kernel_size\": 3, \"padding\": \"same\", \"use_bias\": false}", 1, h1);
  ot_weight (g, d, 4, (int64_t[]){ 3, 3, 72, 1 });
  int b2 = ot_add (g, -1, "bn2", "BatchNormalization", "{\"epsilon\": 0.001}", 1, d);
  add_batchnorm (g, b2, 72);
  int h2 = add_hard_swish (g, "hs2", written_out, b2);
  ot_io (g, -1, x, h2);
  double lo, hi;
  const char *const folded[] = { "BatchNormalization", "Activation",      "TFOpLambda", "ReLU",
                                 "Multiply",           "DepthwiseConv2D", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  check_fused (g, folded, &lo, &hi, 2);
  g_assert_cmpfloat (lo, <, 0.0); /* hard_swish dips below zero ... */
  /* ... to -3/8 at most (a fused multiply-add's single rounding may land one float below) */
  g_assert_cmpfloat (lo, >=, -0.375 - 3e-8);
  g_assert_cmpfloat (hi, >, 1.0);
  osh_graph_free (g);
}

/* Conv2D → hard_sigmoid: the clamp to [0, 1] reached on both sides. */
static void
test_hard_sigmoid (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 6, 7, 16]}", 0);
  int c = ot_add (g, -1, "conv", "Conv2D",
                  "{\"filters\": 32, \"kernel_size\": 3, \"padding\": \"same\"}", 1, x);
  ot_weight (g, c, 4, (int64_t[]){ 3, 3, 16, 32 });
  ot_weight (g, c, 1, (int64_t[]){ 32 });
  int a = ot_add (g, -1, "act", "Activation", "{\"activation\": \"hard_sigmoid\"}", 1, c);
  ot_io (g, -1, x, a);
  double lo, hi;
  const char *const folded[] = { "Activation", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, ==, 1.0);
  osh_graph_free (g);
}

/* Add → BatchNormalization → ReLU (pre-activation): the ReLU becomes the BatchNormalization's
 * clamp. Then Conv2D → BatchNormalization → ReLU still folds both into the convolution, the
 * clamped BatchNormalization never taken for a plain one. */
static void
test_batchnorm_relu (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 5, 9, 32]}", 0);
  int c = ot_add (g, -1, "conv", "Conv2D",
                  "{\"filters\": 32, \"kernel_size\": 1, \"use_bias\": false}", 1, x);
  ot_weight (g, c, 4, (int64_t[]){ 1, 1, 32, 32 });
  int a = ot_add (g, -1, "add", "Add", NULL, 2, x, c);
  int b = ot_add (g, -1, "bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, a);
  add_batchnorm (g, b, 32);
  int r = ot_add (g, -1, "relu", "ReLU", "{\"max_value\": 6.0}", 1, b);
  ot_io (g, -1, x, r);
  double lo, hi;
  const char *const folded[] = { "ReLU", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, ==, 6.0);
  osh_graph_free (g);
}

/* ZeroPadding2D → Conv2D (activation relu): the convolution reads through the padding, and its
 * own ReLU, which its packed kernel applies, survives the kernel being made again for the wider
 * window (it was once lost there: negative outputs). */
static void
test_pad_own_activation (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 9, 10, 16]}", 0);
  int p = ot_add (g, -1, "pad", "ZeroPadding2D", "{\"padding\": [[1, 1], [1, 1]]}", 1, x);
  int c = ot_add (g, -1, "conv", "Conv2D",
                  "{\"filters\": 32, \"kernel_size\": 3, \"strides\": 2, "
                  "\"activation\": \"relu\"}",
                  1, p);
  ot_weight (g, c, 4, (int64_t[]){ 3, 3, 16, 32 });
  ot_weight (g, c, 1, (int64_t[]){ 32 });
  ot_io (g, -1, x, c);
  double lo, hi;
  const char *const folded[] = { "ZeroPadding2D", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, >, 0.0);
  osh_graph_free (g);
}

/* Xception: SeparableConv2D → BatchNormalization → ReLU, then SeparableConv2D →
 * BatchNormalization → Add (the block's input): the pointwise half of each takes in what follows.
 * Depth multiplier 1 and 2 (the generic depthwise path). */
static void
test_separable (gconstpointer data)
{
  int dm = GPOINTER_TO_INT (data);
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 9, 10, 48]}", 0);
  char config[128];
  g_snprintf (config, sizeof config,
              "{\"filters\": 48, \"kernel_size\": 3, \"padding\": \"same\", "
              "\"depth_multiplier\": %d, \"use_bias\": false}",
              dm);
  int s1 = ot_add (g, -1, "sep1", "SeparableConv2D", config, 1, x);
  ot_weight (g, s1, 4, (int64_t[]){ 3, 3, 48, dm });
  ot_weight (g, s1, 4, (int64_t[]){ 1, 1, 48 * dm, 48 });
  int b1 = ot_add (g, -1, "bn1", "BatchNormalization", "{\"epsilon\": 0.001}", 1, s1);
  add_batchnorm (g, b1, 48);
  int r = ot_add (g, -1, "relu", "Activation", "{\"activation\": \"relu\"}", 1, b1);
  int s2 = ot_add (g, -1, "sep2", "SeparableConv2D", config, 1, r);
  ot_weight (g, s2, 4, (int64_t[]){ 3, 3, 48, dm });
  ot_weight (g, s2, 4, (int64_t[]){ 1, 1, 48 * dm, 48 });
  int b2 = ot_add (g, -1, "bn2", "BatchNormalization", "{\"epsilon\": 0.001}", 1, s2);
  add_batchnorm (g, b2, 48);
  int a = ot_add (g, -1, "add", "Add", NULL, 2, b2, x);
  ot_io (g, -1, x, a);
  double lo, hi;
  const char *const folded[] = { "BatchNormalization", "Activation", "Add", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  check_fused (g, folded, &lo, &hi, 2);
  g_assert_cmpfloat (lo, <, 0.0);
  osh_graph_free (g);
}

/* EfficientNet's block: Conv2D 1×1 → BatchNormalization → swish → DepthwiseConv2D →
 * BatchNormalization → swish, then squeeze-excite (GlobalAveragePooling2D → Reshape → Conv2D
 * reduce, swish → Conv2D expand, sigmoid → Multiply) and the projection. The pooling is summed
 * by the depthwise kernel (fed from the expansion, or on its own after a plain input), but not
 * when the depthwise layer has an activation of its own that runs after the kernel. */
static void
test_squeeze (gconstpointer data)
{
  int variant = GPOINTER_TO_INT (data);
  bool fed = variant == 1, own_activation = variant == 2;
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 12, 13, 32]}", 0);
  int h = x;
  if (fed)
    {
      int e = ot_add (g, -1, "expand", "Conv2D",
                      "{\"filters\": 32, \"kernel_size\": 1, \"use_bias\": false}", 1, x);
      ot_weight (g, e, 4, (int64_t[]){ 1, 1, 32, 32 });
      h = ot_add (g, -1, "act0", "Activation", "{\"activation\": \"swish\"}", 1, e);
    }
  int d = ot_add (g, -1, "dw", "DepthwiseConv2D",
                  own_activation ? "{\"kernel_size\": 3, \"padding\": \"same\", "
                                   "\"activation\": \"tanh\"}"
                                 : "{\"kernel_size\": 3, \"padding\": \"same\", "
                                   "\"use_bias\": false}",
                  1, h);
  ot_weight (g, d, 4, (int64_t[]){ 3, 3, 32, 1 });
  if (own_activation)
    ot_weight (g, d, 1, (int64_t[]){ 32 });
  int a = d;
  if (!own_activation)
    {
      int b = ot_add (g, -1, "bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, d);
      add_batchnorm (g, b, 32);
      a = ot_add (g, -1, "act", "Activation", "{\"activation\": \"swish\"}", 1, b);
    }
  int sq = ot_add (g, -1, "squeeze", "GlobalAveragePooling2D", NULL, 1, a);
  int rs = ot_add (g, -1, "reshape", "Reshape", "{\"target_shape\": [1, 1, 32]}", 1, sq);
  int r = ot_add (g, -1, "reduce", "Conv2D",
                  "{\"filters\": 8, \"kernel_size\": 1, \"activation\": \"swish\"}", 1, rs);
  ot_weight (g, r, 4, (int64_t[]){ 1, 1, 32, 8 });
  ot_weight (g, r, 1, (int64_t[]){ 8 });
  int ex = ot_add (g, -1, "expand_se", "Conv2D",
                   "{\"filters\": 32, \"kernel_size\": 1, \"activation\": \"sigmoid\"}", 1, r);
  ot_weight (g, ex, 4, (int64_t[]){ 1, 1, 8, 32 });
  ot_weight (g, ex, 1, (int64_t[]){ 32 });
  int m = ot_add (g, -1, "excite", "Multiply", NULL, 2, a, ex);
  int pj = ot_add (g, -1, "project", "Conv2D",
                   "{\"filters\": 16, \"kernel_size\": 1, \"use_bias\": false}", 1, m);
  ot_weight (g, pj, 4, (int64_t[]){ 1, 1, 32, 16 });
  ot_io (g, -1, x, pj);
  double lo, hi;
  /* A depthwise layer's own activation (tanh: no kernel epilogue) runs after the kernel, so its
   * squeeze cannot be summed there and stays a step. */
  const char *const folded[] = { "BatchNormalization", "Activation",
                                 own_activation ? NULL : "GlobalAveragePooling2D", NULL };
  check_fused (g, folded, &lo, &hi, 1);
  check_fused (g, folded, &lo, &hi, 2);
  g_assert_cmpfloat (hi - lo, >, 0.1);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/ops/fusion/hard-swish/activation", GINT_TO_POINTER (0), test_hard_swish);
  g_test_add_data_func ("/ops/fusion/hard-swish/keras2-written-out", GINT_TO_POINTER (1),
                        test_hard_swish);
  g_test_add_func ("/ops/fusion/hard-sigmoid", test_hard_sigmoid);
  g_test_add_func ("/ops/fusion/batchnorm-relu", test_batchnorm_relu);
  g_test_add_func ("/ops/fusion/pad-own-activation", test_pad_own_activation);
  g_test_add_data_func ("/ops/fusion/squeeze-excite/depthwise", GINT_TO_POINTER (0), test_squeeze);
  g_test_add_data_func ("/ops/fusion/squeeze-excite/fed-depthwise", GINT_TO_POINTER (1),
                        test_squeeze);
  g_test_add_data_func ("/ops/fusion/squeeze-excite/depthwise-own-activation", GINT_TO_POINTER (2),
                        test_squeeze);
  g_test_add_data_func ("/ops/fusion/separable", GINT_TO_POINTER (1), test_separable);
  g_test_add_data_func ("/ops/fusion/separable-multiplier-2", GINT_TO_POINTER (2), test_separable);
  return g_test_run ();
}
