/* Fusion parity: a network built as Keras layers and the same network exported to ONNX
 * (osh_onnx_from_keras) plan to the same fused convolutions — each of the same work (FLOPs) and
 * having taken in the same things (OshFolded) — since fusion asks op categories, not a dialect's
 * class names. Layout conversions and the steps between convolutions (an ONNX Transpose or
 * Flatten where Keras has one Reshape) are not compared. Also: ONNX's GlobalAveragePool after a
 * depthwise Conv is summed by the depthwise kernel, as Keras's GlobalAveragePooling2D is, and a
 * zero Pad is read through by the Conv after it, as a ZeroPadding2D is. */
#include <math.h>
#include <string.h>

#include "ops/fusion-check.h"
#include "osh-model.h"
#include "osh-onnx.h"
#include "osh-zoo.h"

/* The convolution steps of a plan of g: their FLOPs and folds, in order; returns how many. */
static int
conv_steps (const OshGraph *g, double *flops, unsigned *folded, int max, int *n_means)
{
  OshError err = { 0 };
  OshExecOptions opt = osh_exec_options_default ();
  OshPlan *p = osh_plan_new (g, &opt, &err);
  g_assert_cmpstr (err.message, ==, "");
  int n = 0;
  *n_means = 0;
  for (int i = 0; i < osh_plan_n_steps (p); i++)
    {
      OshPlanStep st;
      g_assert_true (osh_plan_step (p, i, &st));
      g_test_message ("  step %s %s %#x", st.path, st.class_name, st.folded);
      *n_means += (st.cats & OSH_CAT_GLOBAL_MEAN) != 0;
      if (!(st.cats & OSH_CAT_CONV))
        continue;
      g_assert_cmpint (n, <, max);
      flops[n] = st.flops, folded[n] = st.folded;
      n++;
    }
  osh_plan_free (p);
  return n;
}

/* Plans keras and its ONNX export: the same convolutions with the same folds (`ignore` masks
 * folds ONNX does not make yet); returns the folds of all Keras convolutions together. */
static unsigned
check_parity (OshGraph *keras, unsigned ignore, int *keras_means, int *onnx_means)
{
  OshError err = { 0 };
  g_assert_true (osh_graph_infer_shapes (keras, &err));
  OshGraph *onnx = osh_onnx_from_keras (keras, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_nonnull (onnx);
  enum
  {
    MAX = 256
  };
  double kf[MAX], of[MAX];
  unsigned kd[MAX], od[MAX], all = 0;
  int nk = conv_steps (keras, kf, kd, MAX, keras_means);
  int no = conv_steps (onnx, of, od, MAX, onnx_means);
  g_assert_cmpint (nk, ==, no);
  for (int i = 0; i < nk; i++)
    {
      g_test_message ("conv %d: %.0f FLOP, folded %#x (Keras) and %#x (ONNX)", i, kf[i], kd[i],
                      od[i]);
      g_assert_cmpfloat (fabs (kf[i] - of[i]), <=, 1e-9 * kf[i]);
      g_assert_cmphex (kd[i] & ~ignore, ==, od[i] & ~ignore);
      all |= kd[i];
    }
  osh_graph_free (onnx);
  return all;
}

/* A Conv2D and, unless linear, its activation as a layer of its own: a Keras layer's own
 * activation is part of its kernel from the start, not a fold, while the export writes it as
 * ONNX steps that fold back in, so the folds would differ where the work does not. */
static int
add_conv (OshGraph *g, const char *name, int x, int64_t cin, int64_t cout, int k,
          const char *activation)
{
  char config[160], act[64];
  g_snprintf (config, sizeof config,
              "{\"filters\": %lld, \"kernel_size\": %d, \"padding\": \"same\"}", (long long) cout,
              k);
  int c = ot_add (g, -1, name, "Conv2D", config, 1, x);
  ot_weight (g, c, 4, (int64_t[]){ k, k, cin, cout });
  ot_weight (g, c, 1, (int64_t[]){ cout });
  if (strcmp (activation, "linear") == 0)
    return c;
  g_snprintf (config, sizeof config, "{\"activation\": \"%s\"}", activation);
  g_snprintf (act, sizeof act, "%s_act", name);
  return ot_add (g, -1, act, "Activation", config, 1, c);
}

static int
add_bn (OshGraph *g, const char *name, int x, int64_t ch)
{
  int b = ot_add (g, -1, name, "BatchNormalization", "{\"epsilon\": 0.001}", 1, x);
  add_batchnorm (g, b, ch);
  return b;
}

/* DepthwiseConv2D 3×3, BatchNormalization and swish (*h), then squeeze-excite's squeeze:
 * GlobalAveragePooling2D and a Reshape to (1, 1, ch), returned. */
static int
add_depthwise_squeeze (OshGraph *g, int x, int64_t ch, int *h)
{
  int d = ot_add (g, -1, "dw", "DepthwiseConv2D",
                  "{\"kernel_size\": 3, \"padding\": \"same\", \"use_bias\": false}", 1, x);
  ot_weight (g, d, 4, (int64_t[]){ 3, 3, ch, 1 });
  *h = ot_add (g, -1, "dw_act", "Activation", "{\"activation\": \"swish\"}", 1,
               add_bn (g, "dw_bn", d, ch));
  char config[64];
  g_snprintf (config, sizeof config, "{\"target_shape\": [1, 1, %lld]}", (long long) ch);
  int sq = ot_add (g, -1, "squeeze", "GlobalAveragePooling2D", NULL, 1, *h);
  return ot_add (g, -1, "reshape", "Reshape", config, 1, sq);
}

/* EfficientNet's MBConv block: 1×1 expansion, BatchNormalization, swish, 3×3 depthwise,
 * BatchNormalization, swish, squeeze-excite (GlobalAveragePooling2D, Reshape, reduce, expand,
 * Multiply), 1×1 projection, BatchNormalization and the residual Add. */
static void
test_efficientnet_block (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 12, 13, 32]}", 0);
  int e = add_conv (g, "expand", x, 32, 64, 1, "linear");
  int a = ot_add (g, -1, "expand_act", "Activation", "{\"activation\": \"swish\"}", 1,
                  add_bn (g, "expand_bn", e, 64));
  int h, rs = add_depthwise_squeeze (g, a, 64, &h);
  int r = add_conv (g, "reduce", rs, 64, 8, 1, "swish");
  int ex = add_conv (g, "excite", r, 8, 64, 1, "sigmoid");
  int m = ot_add (g, -1, "scale", "Multiply", NULL, 2, h, ex);
  int pj = add_bn (g, "project_bn", add_conv (g, "project", m, 64, 32, 1, "linear"), 32);
  int out = ot_add (g, -1, "add", "Add", NULL, 2, pj, x);
  ot_io (g, -1, x, out);
  int km, om;
  unsigned all = check_parity (g, 0, &km, &om);
  /* The folds this block is for, so that losing one in both dialects fails too. */
  if (osh_test_packed_conv ()) /* the baseline path folds less: no packed convolution */
    g_assert_cmphex (all, ==,
                     OSH_FOLDED_AFFINE | OSH_FOLDED_EPILOGUE | OSH_FOLDED_DEPTHWISE
                         | OSH_FOLDED_MEAN | OSH_FOLDED_SCALE | OSH_FOLDED_RESIDUAL);
  g_assert_cmpint (km, ==, 0);
  g_assert_cmpint (om, ==, 0);
  osh_graph_free (g);
}

/* A depthwise convolution on its own (no expansion before it: EfficientNet's first block) and
 * the global average pooling of its output, read beside the output: ONNX's GlobalAveragePool
 * is summed by the depthwise Conv as Keras's GlobalAveragePooling2D is, and the numbers stay. */
static void
test_onnx_mean_after_depthwise (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 10, 11, 32]}", 0);
  int h, rs = add_depthwise_squeeze (g, x, 32, &h);
  int ex = add_conv (g, "excite", rs, 32, 32, 1, "sigmoid");
  int m = ot_add (g, -1, "scale", "Multiply", NULL, 2, h, ex);
  int pj = add_conv (g, "project", m, 32, 16, 1, "linear");
  ot_io (g, -1, x, pj);
  int km, om;
  unsigned all = check_parity (g, 0, &km, &om);
  g_assert_true (all & OSH_FOLDED_MEAN);
  g_assert_cmpint (om, ==, 0); /* no GlobalAveragePool step left */
  /* Fused against unfused, in both layouts of the ONNX plan. */
  OshGraph *onnx = osh_onnx_from_keras (g, &err);
  g_assert_nonnull (onnx);
  const char *const folded[] = { "GlobalAveragePool", "BatchNormalization", "Sigmoid", NULL };
  double lo, hi;
  check_fused (onnx, folded, &lo, &hi, 1);
  check_fused (onnx, folded, &lo, &hi, 2);
  g_assert_cmpfloat (hi - lo, >, 0.1);
  osh_graph_free (onnx);
  osh_graph_free (g);
}

/* ResNet's bottleneck: 1×1, 3×3, 1×1 convolutions each with BatchNormalization, ReLU between,
 * the residual Add and a ReLU after it. */
static void
test_resnet_block (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 9, 10, 32]}", 0);
  int h = x;
  const int64_t ch[4] = { 32, 16, 16, 32 };
  for (int i = 0; i < 3; i++)
    {
      char name[32], bn[32], relu[32];
      g_snprintf (name, sizeof name, "conv%d", i);
      g_snprintf (bn, sizeof bn, "bn%d", i);
      g_snprintf (relu, sizeof relu, "relu%d", i);
      h = add_bn (g, bn, add_conv (g, name, h, ch[i], ch[i + 1], i == 1 ? 3 : 1, "linear"),
                  ch[i + 1]);
      if (i < 2)
        h = ot_add (g, -1, relu, "Activation", "{\"activation\": \"relu\"}", 1, h);
    }
  int a = ot_add (g, -1, "add", "Add", NULL, 2, h, x);
  int out = ot_add (g, -1, "out", "Activation", "{\"activation\": \"relu\"}", 1, a);
  ot_io (g, -1, x, out);
  int km, om;
  unsigned all = check_parity (g, 0, &km, &om);
  if (osh_test_packed_conv ())
    g_assert_cmphex (all, ==, OSH_FOLDED_AFFINE | OSH_FOLDED_EPILOGUE | OSH_FOLDED_RESIDUAL);
  osh_graph_free (g);
}

/* ZeroPadding2D before a stride-2 Conv2D and a DepthwiseConv2D, as EfficientNet pads (one row and
 * column after) and as ResNet does (three all round), exported: each ONNX Pad is taken in by the
 * Conv reading it, and the numbers stay, fused against unfused, in both layouts. */
static void
test_pad_into_conv (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 14, 15, 16]}", 0);
  int p1 = ot_add (g, -1, "pad1", "ZeroPadding2D", "{\"padding\": [[3, 3], [3, 3]]}", 1, x);
  int c = ot_add (g, -1, "conv", "Conv2D", "{\"filters\": 32, \"kernel_size\": 7, \"strides\": 2}",
                  1, p1);
  ot_weight (g, c, 4, (int64_t[]){ 7, 7, 16, 32 });
  ot_weight (g, c, 1, (int64_t[]){ 32 });
  int r = ot_add (g, -1, "relu", "Activation", "{\"activation\": \"relu\"}", 1,
                  add_bn (g, "bn", c, 32));
  int p2 = ot_add (g, -1, "pad2", "ZeroPadding2D", "{\"padding\": [[0, 1], [0, 1]]}", 1, r);
  int d = ot_add (g, -1, "dw", "DepthwiseConv2D", "{\"kernel_size\": 3, \"strides\": 2}", 1, p2);
  ot_weight (g, d, 4, (int64_t[]){ 3, 3, 32, 1 });
  ot_weight (g, d, 1, (int64_t[]){ 32 });
  ot_io (g, -1, x, d);
  int km, om;
  g_assert_true (check_parity (g, 0, &km, &om) & OSH_FOLDED_PAD);
  OshGraph *onnx = osh_onnx_from_keras (g, &err);
  g_assert_nonnull (onnx);
  const char *const folded[] = { "Pad", NULL };
  double lo, hi;
  check_fused (onnx, folded, &lo, &hi, 1);
  check_fused (onnx, folded, &lo, &hi, 2);
  g_assert_cmpfloat (hi - lo, >, 0.1);
  osh_graph_free (onnx);
  osh_graph_free (g);
}

/* Whole zoo models at a small input: the same convolutions of the same work, ONNX's zero Pad
 * before a Conv taken in as Keras's ZeroPadding2D is (which, in EfficientNet's and MobileNet's
 * stride-2 blocks, decides whether the depthwise convolution is fed from the expansion). The
 * epilogue fold is not compared: a Keras layer's own activation (EfficientNet's squeeze-excite
 * convolutions) is in its kernel from the start, the export's is folded (see add_conv); nor
 * the copy fold (a Dropout the export writes as no node at all). */
static void
test_zoo (gconstpointer data)
{
  OshError err = { 0 };
  OshZooOptions o;
  g_assert_true (osh_zoo_options_init (&o, data));
  o.height = o.width = 64;
  OshGraph *g = osh_zoo_build (data, &o, &err);
  g_assert_cmpstr (err.message, ==, "");
  int km, om;
  unsigned all = check_parity (g, OSH_FOLDED_EPILOGUE | OSH_FOLDED_COPY, &km, &om);
  /* And the same in the export. MobileNetV2's pads all go before depthwise convolutions that
   * are then fed from the expansion, whose folds the plan reports. */
  if (strcmp (data, "MobileNetV2") != 0 && osh_test_packed_conv ()) /* baseline: im2col, no folds */
    g_assert_true (all & OSH_FOLDED_PAD);
  g_assert_cmpint (km, ==, om);
  osh_graph_free (g);
}

/* torchvision's MobileNetV3-Small (width 0.25, opset 13, the fixture test-onnx-parity.c checks
 * against ONNX Runtime) writes hard swish as HardSigmoid (alpha 1/6, beta 1/2) and a Mul by the
 * same input: the Mul computes the HardSigmoid itself, then the convolution before takes the
 * pair as its epilogue. Fused against unfused: the same numbers. */
static void
test_torchvision_hard_swish (void)
{
  g_autofree char *path = osh_test_fixture ("onnx/fixtures/mobilenet_v3_small_x025.onnx");
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  g_assert_cmpstr (err.message, ==, "");
  int hsig = 0, pools = 0;
  for (int i = 0; i < g->n_layers; i++)
    {
      hsig += strcmp (g->layers[i].class_name, "HardSigmoid") == 0;
      pools += strcmp (g->layers[i].class_name, "GlobalAveragePool") == 0;
    }
  g_assert_cmpint (hsig, >=, 20); /* the hard swishes and the squeeze-excite gates */
  if (osh_test_packed_conv ())
    {
      OshExecOptions opt = osh_exec_options_default ();
      OshPlan *p = osh_plan_new (g, &opt, &err);
      g_assert_cmpstr (err.message, ==, "");
      int left = 0, products = 0, swishes = 0, epilogues = 0;
      for (int i = 0; i < osh_plan_n_steps (p); i++)
        {
          OshPlanStep st;
          g_assert_true (osh_plan_step (p, i, &st));
          bool mul = strcmp (st.class_name, "Mul") == 0;
          left += strcmp (st.class_name, "HardSigmoid") == 0;
          products += mul && !(st.folded & OSH_FOLDED_OPERAND);
          swishes += mul && (st.folded & OSH_FOLDED_OPERAND);
          epilogues += (st.cats & OSH_CAT_CONV) && (st.folded & OSH_FOLDED_EPILOGUE);
        }
      g_test_message ("%d HardSigmoid, %d products, %d hard swishes as a Mul, %d convolutions "
                      "with an epilogue",
                      left, products, swishes, epilogues);
      g_assert_cmpint (left, ==, 0);
      /* The Mul steps left: squeeze-excite's products (at most one per GlobalAveragePool but
       * the head's; a path may fold some into the convolution after), and hard swishes after a
       * step that is no convolution (the classifier's Gemm; on some paths the stem's
       * BatchNormalization, which its 8-channel convolution keeps as a step). */
      g_assert_cmpint (products, <=, pools - 1);
      g_assert_cmpint (swishes, >=, 1);
      g_assert_cmpint (swishes, <=, 2);
      g_assert_cmpint (epilogues, >=, hsig - (pools - 1) - swishes);
      osh_plan_free (p);
    }
  const char *const folded[] = { "HardSigmoid", NULL };
  double lo, hi;
  check_fused (g, folded, &lo, &hi, 1);
  check_fused (g, folded, &lo, &hi, 2);
  g_assert_cmpfloat (hi - lo, >, 0.1);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onnx/fusion/parity/efficientnet-block", test_efficientnet_block);
  g_test_add_func ("/onnx/fusion/parity/resnet-block", test_resnet_block);
  g_test_add_data_func ("/onnx/fusion/parity/zoo/ResNet50", "ResNet50", test_zoo);
  g_test_add_data_func ("/onnx/fusion/parity/zoo/EfficientNetB0", "EfficientNetB0", test_zoo);
  g_test_add_data_func ("/onnx/fusion/parity/zoo/MobileNetV2", "MobileNetV2", test_zoo);
  g_test_add_func ("/onnx/fusion/mean-after-depthwise", test_onnx_mean_after_depthwise);
  g_test_add_func ("/onnx/fusion/pad-into-conv", test_pad_into_conv);
  g_test_add_func ("/onnx/fusion/torchvision-hard-swish", test_torchvision_hard_swish);
  return g_test_run ();
}
