/* The model zoo: parameter and layer counts against the published keras.applications figures,
 * the names a user looks for, and weights that are not degenerate. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-flops.h"
#include "osh-graph.h"
#include "osh-model.h"
#include "osh-shapes.h"
#include "osh-test.h"
#include "osh-zoo.h"

typedef struct
{
  const char *name;
  int64_t params; /* model.count_params(), include_top=True, 1000 classes */
  int layers;     /* len(model.layers), weights=None, include_top=True (0: not asserted) */
  int64_t notop;  /* include_top=False (0: not asserted) */
  int notop_layers;
} Expected;

/* Params: keras.io/api/applications and NOTES.md; MobileNetV3 from Keras 2 model.summary()
 * printouts (with top 2,554,968 / 5,507,432 of which 12,112 / 24,400 non-trainable, without
 * 939,120 / 2,996,352; 210 / 266 weight arrays). Layer counts: counted from the Keras 2
 * sources for weights=None (the ImageNet-only extra Rescaling of EfficientNet excluded); e.g.
 * EfficientNetB0 without top has 237 layers, as Keras's transfer-learning guide prints. */
static const Expected EXPECTED[] = {
  { "EfficientNetB0", 5330571, 240, 4049571, 237 },
  { "EfficientNetB1", 7856239, 0, 6575239, 0 },
  { "EfficientNetB2", 9177569, 0, 7768569, 0 },
  { "EfficientNetB3", 12320535, 0, 10783535, 0 },
  { "EfficientNetB4", 19466823, 0, 17673823, 0 },
  { "EfficientNetB5", 30562527, 0, 28513527, 0 },
  { "EfficientNetB6", 43265143, 0, 40960143, 0 },
  { "EfficientNetB7", 66658687, 0, 64097687, 0 },
  { "MobileNet", 4253864, 0, 3228864, 86 },
  { "MobileNetV2", 3538984, 156, 2257984, 154 },
  { "MobileNetV3Small", 2554968, 239, 939120, 229 },
  { "MobileNetV3Large", 5507432, 273, 2996352, 263 },
  { "ResNet50", 25636712, 177, 23587712, 175 },
  { "ResNet101", 44707176, 0, 42658176, 0 },
  { "ResNet152", 60419944, 0, 58370944, 0 },
  { "ResNet50V2", 25613800, 0, 23564800, 0 },
  { "VGG16", 138357544, 23, 14714688, 19 },
  { "VGG19", 143667240, 26, 20024384, 22 },
  { "Xception", 22910480, 134, 20861480, 132 },
  { "InceptionV3", 23851784, 313, 21802784, 311 },
  { "DenseNet121", 8062504, 429, 7037504, 427 },
  { "DenseNet169", 14307880, 0, 12642880, 0 },
  { "DenseNet201", 20242984, 0, 18321984, 0 },
};

static const Expected *
expected_for (const char *name)
{
  for (size_t i = 0; i < G_N_ELEMENTS (EXPECTED); i++)
    if (strcmp (EXPECTED[i].name, name) == 0)
      return &EXPECTED[i];
  return NULL;
}

static void
test_counts (gconstpointer data)
{
  const Expected *e = data;
  for (int top = 1; top >= 0; top--)
    {
      OshZooOptions o;
      g_assert_true (osh_zoo_options_init (&o, e->name));
      o.include_top = top;
      OshError err = { 0 };
      OshGraph *g = osh_zoo_build (e->name, &o, &err);
      g_assert_cmpstr (err.message, ==, "");
      g_assert_nonnull (g);
      int64_t want = top ? e->params : e->notop;
      if (want)
        g_assert_cmpint (osh_graph_total_params (g, NULL), ==, want);
      int layers = top ? e->layers : e->notop_layers;
      if (layers)
        g_assert_cmpint (g->n_layers, ==, layers);
      g_assert_cmpint (g->n_inputs, ==, 1);
      g_assert_cmpint (g->n_outputs, ==, 1);
      osh_graph_free (g);
    }
}

/* The seed's layer exists in both EfficientNets, and the names a user meets are Keras's. */
static void
test_names (void)
{
  OshZooOptions o;
  osh_zoo_options_init (&o, "EfficientNetB7");
  o.include_top = false;
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("efficientnetb7", &o, &err);
  g_assert_nonnull (g);
  g_assert_cmpstr (g->name, ==, "efficientnetb7");
  int l = osh_graph_find_layer (g, -1, "block5a_expand_conv");
  g_assert_cmpint (l, >=, 0);
  g_assert_cmpstr (g->layers[l].class_name, ==, "Conv2D");
  g_assert_cmpint (osh_config_int (g->layers[l].config, "filters", 0), ==, 160 * 6);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "block7d_project_bn"), >=, 0);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "block7e_project_bn"), <, 0);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "predictions"), <, 0);
  osh_graph_free (g);

  osh_zoo_options_init (&o, "EfficientNetB0");
  g = osh_zoo_build ("EfficientNetB0", &o, &err);
  g_assert_nonnull (g);
  l = osh_graph_find_layer (g, -1, "block5a_expand_conv");
  g_assert_cmpint (l, >=, 0);
  g_assert_cmpint (osh_config_int (g->layers[l].config, "filters", 0), ==, 480);
  const char *keras2[] = { "rescaling",    "normalization", "stem_conv_pad", "block2a_dwconv_pad",
                           "block2b_drop", "block2b_add",   "top_dropout",   "predictions" };
  for (size_t i = 0; i < G_N_ELEMENTS (keras2); i++)
    g_assert_cmpint (osh_graph_find_layer (g, -1, keras2[i]), >=, 0);
  osh_graph_free (g);

  osh_zoo_options_init (&o, "MobileNetV2");
  g = osh_zoo_build ("MobileNetV2", &o, &err);
  g_assert_cmpstr (g->name, ==, "mobilenetv2_1.00_224");
  g_assert_cmpint (osh_graph_find_layer (g, -1, "global_average_pooling2d"), >=, 0);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "block_16_project_BN"), >=, 0);
  osh_graph_free (g);
}

/* MobileNetV3 as Keras 2 builds it: hard_swish from TFOpLambda arithmetic around unnamed ReLU
 * and Multiply layers, "/" in the block names, a convolutional top. */
static void
test_mobilenet_v3_names (void)
{
  OshZooOptions o;
  osh_zoo_options_init (&o, "MobileNetV3Small");
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("MobileNetV3Small", &o, &err);
  g_assert_nonnull (g);
  g_assert_cmpstr (g->name, ==, "MobilenetV3small");
  static const struct
  {
    const char *name, *class_name;
  } LAYERS[] = {
    { "rescaling", "Rescaling" },
    { "Conv/BatchNorm", "BatchNormalization" },
    { "tf.__operators__.add", "TFOpLambda" },
    { "re_lu", "ReLU" },
    { "tf.math.multiply", "TFOpLambda" },
    { "multiply", "Multiply" },
    { "expanded_conv/depthwise/pad", "ZeroPadding2D" },
    { "expanded_conv/squeeze_excite/AvgPool", "GlobalAveragePooling2D" },
    { "expanded_conv/squeeze_excite/Mul", "Multiply" },
    { "expanded_conv_2/Add", "Add" },
    { "expanded_conv_10/project/BatchNorm", "BatchNormalization" },
    { "Conv_2", "Conv2D" },
    { "Logits", "Conv2D" },
    { "flatten", "Flatten" },
    { "Predictions", "Activation" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (LAYERS); i++)
    {
      int l = osh_graph_find_layer (g, -1, LAYERS[i].name);
      g_assert_cmpint (l, >=, 0);
      g_assert_cmpstr (g->layers[l].class_name, ==, LAYERS[i].class_name);
    }
  /* Eleven blocks; 28 hard_sigmoids (19 in hard_swish, 9 in squeeze-excite): Keras's
   * automatic names run up to these. */
  g_assert_cmpint (osh_graph_find_layer (g, -1, "expanded_conv_11/expand"), <, 0);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "tf.__operators__.add_27"), >=, 0);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "tf.__operators__.add_28"), <, 0);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "multiply_18"), >=, 0); /* 19 hard_swish */
  g_assert_cmpint (osh_graph_find_layer (g, -1, "multiply_19"), <, 0);
  int add = osh_graph_find_layer (g, -1, "tf.__operators__.add");
  int node = osh_graph_layer_first_node (g, add);
  g_assert_cmpfloat (json_number_value (json_object_get (g->nodes[node].kwargs, "y")), ==, 3.0);
  /* Paths reach names that hold "/" (heads attach at "expanded_conv_6/project"). */
  g_assert_cmpint (osh_graph_find_path (g, "expanded_conv_6/project"), ==,
                   osh_graph_find_layer (g, -1, "expanded_conv_6/project"));
  g_assert_cmpint (osh_graph_find_path (g, "expanded_conv_6/project"), >=, 0);
  g_assert_cmpint (osh_graph_find_path (g, "expanded_conv_6/nope"), <, 0);
  int logits = osh_graph_find_layer (g, -1, "Logits");
  g_assert_cmpint (osh_config_int (g->layers[logits].config, "filters", 0), ==, 1000);
  osh_graph_free (g);

  osh_zoo_options_init (&o, "MobileNetV3Large");
  o.height = o.width = 31;
  g_assert_null (osh_zoo_build ("MobileNetV3Large", &o, &err));
  g_assert_nonnull (strstr (err.message, "at least 32x32"));
}

/* Both MobileNetV3s run in the executor (TFOpLambda included): finite probabilities that
 * depend on the picture. */
static void
test_mobilenet_v3_runs (void)
{
  const char *names[] = { "MobileNetV3Small", "MobileNetV3Large" };
  for (size_t m = 0; m < G_N_ELEMENTS (names); m++)
    {
      OshZooOptions o;
      osh_zoo_options_init (&o, names[m]);
      o.height = o.width = 96;
      OshError err = { 0 };
      OshGraph *g = osh_zoo_build (names[m], &o, &err);
      g_assert_nonnull (g);
      g_assert_true (osh_graph_infer_shapes (g, &err));
      OshExecOptions opt = osh_exec_options_default ();
      OshTensor *y[2] = { NULL, NULL };
      for (int k = 0; k < 2; k++)
        {
          OshShape s = osh_shape_make (4, (int64_t[]){ 1, 96, 96, 3 });
          OshTensor *x = osh_tensor_new (&s, &err);
          for (int64_t i = 0; i < osh_tensor_numel (x); i++) /* two different pictures, 0..255 */
            x->data[i] = (float) ((i * (k ? 7 : 13) + (i / 288) * (k ? 5 : 1)) % 256);
          g_assert_true (
              osh_exec_run_once (g, &opt, (const OshTensor *const *) &x, 1, &y[k], &err));
          g_assert_cmpstr (err.message, ==, "");
          osh_tensor_free (x);
          g_assert_cmpint (y[k]->shape.rank, ==, 2);
          g_assert_cmpint (y[k]->shape.dim[1], ==, 1000);
        }
      double sum = 0, lo = 1, hi = 0, diff = 0;
      for (int i = 0; i < 1000; i++)
        {
          float p = y[0]->data[i];
          g_assert_true (isfinite (p));
          sum += p, lo = fmin (lo, p), hi = fmax (hi, p);
          diff = fmax (diff, fabs (p - y[1]->data[i]));
        }
      g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-4);
      g_assert_cmpfloat (hi / lo, >, 1.1); /* not uniform */
      g_assert_cmpfloat (diff, >, 1e-6);   /* not a constant */
      osh_tensor_free (y[0]);
      osh_tensor_free (y[1]);
      osh_graph_free (g);
    }
}

/* Keras 2 writes MobileNetV3's hard_swish out as x · (relu6 (x + 3) / 6): fused, each becomes the
 * epilogue of the convolution before it, and the logits are those of the plan that runs every
 * layer on its own (capturing all layers turns fusion off). */
static void
test_mobilenet_v3_fused (void)
{
  const char *names[] = { "MobileNetV3Small", "MobileNetV3Large" };
  for (size_t m = 0; m < G_N_ELEMENTS (names); m++)
    {
      OshZooOptions o;
      osh_zoo_options_init (&o, names[m]);
      o.height = o.width = 96;
      o.classifier_activation = "linear";
      OshError err = { 0 };
      OshGraph *g = osh_zoo_build (names[m], &o, &err);
      g_assert_nonnull (g);
      g_assert_true (osh_graph_infer_shapes (g, &err));
      OshPlan *pf, *pp;
      osh_test_fused_and_plain (g, 1, &pf, &pp);
      int relu = 0, multiply = 0, tfop = 0;
      for (int i = 0; i < osh_plan_n_steps (pf); i++)
        {
          OshPlanStep st;
          g_assert_true (osh_plan_step (pf, i, &st));
          relu += strcmp (st.class_name, "ReLU") == 0;
          multiply += strcmp (st.class_name, "Multiply") == 0;
          tfop += strcmp (st.class_name, "TFOpLambda") == 0;
        }
      g_test_message ("%s: %d steps fused, %d unfused; ReLU %d, Multiply %d, TFOpLambda %d",
                      names[m], osh_plan_n_steps (pf), osh_plan_n_steps (pp), relu, multiply, tfop);
      if (osh_test_packed_conv ())
        {
          g_assert_cmpint (relu, ==, 0);
          g_assert_cmpint (osh_plan_n_steps (pf) * 2, <, osh_plan_n_steps (pp));
        }
      OshShape s = osh_shape_make (4, (int64_t[]){ 1, 96, 96, 3 });
      OshTensor *x = osh_tensor_new (&s, &err), *yf = NULL, *yp = NULL;
      for (int64_t i = 0; i < osh_tensor_numel (x); i++)
        x->data[i] = (float) ((i * 13 + (i / 288)) % 256);
      g_assert_true (osh_plan_run (pf, (const OshTensor *const *) &x, 1, &yf, &err));
      g_assert_true (osh_plan_run (pp, (const OshTensor *const *) &x, 1, &yp, &err));
      double peak, worst = osh_test_worst_diff (yp->data, yf->data, 1000, &peak);
      g_test_message ("%s: logits up to %.3g, fused differs by %.3g", names[m], peak, worst);
      g_assert_cmpfloat (peak, >, 0.1);
      g_assert_cmpfloat (worst, <=, 1e-4 * fmax (1.0, peak));
      osh_tensor_free (x), osh_tensor_free (yf), osh_tensor_free (yp);
      osh_plan_free (pf), osh_plan_free (pp);
      osh_graph_free (g);
    }
}

/* Options: classes change only the classifier, input shape flows through. */
static void
test_options (void)
{
  OshZooOptions o;
  osh_zoo_options_init (&o, "ResNet50");
  o.classes = 4;
  o.height = o.width = 128;
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("ResNet50", &o, &err);
  g_assert_nonnull (g);
  g_assert_cmpint (osh_graph_total_params (g, NULL), ==, 23587712 + 2048 * 4 + 4);
  osh_graph_free (g);

  osh_zoo_options_init (&o, "VGG16");
  o.include_top = false;
  o.height = o.width = 16; /* too small for five 2×2 poolings */
  g = osh_zoo_build ("VGG16", &o, &err);
  g_assert_null (g);
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  g_assert_nonnull (strstr (err.message, "too small"));

  osh_error_clear (&err);
  g_assert_null (osh_zoo_build ("ResNet51", &o, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_NOT_FOUND);
  g_assert_false (osh_zoo_options_init (&o, "nope"));
}

/* Weights are seeded, He/Glorot scaled and BatchNorm statistics sit near their defaults. */
static void
test_weights (void)
{
  OshZooOptions o;
  osh_zoo_options_init (&o, "ResNet50");
  OshError err = { 0 };
  OshGraph *a = osh_zoo_build ("ResNet50", &o, &err);
  OshGraph *b = osh_zoo_build ("ResNet50", &o, &err);
  int conv = osh_graph_find_layer (a, -1, "conv2_block1_2_conv");
  OshTensor *k = a->layers[conv].weights[0].value;
  g_assert_cmpint (k->shape.rank, ==, 4);
  g_assert_cmpint (k->shape.dim[3], ==, 64);
  double sum2 = 0;
  int64_t n = osh_tensor_numel (k);
  for (int64_t i = 0; i < n; i++)
    sum2 += (double) k->data[i] * k->data[i];
  double var = sum2 / (double) n, he = 2.0 / (3 * 3 * 64);
  g_assert_cmpfloat (fabs (var - he) / he, <, 0.1);
  g_assert_cmpmem (k->data, sizeof (float) * n, b->layers[conv].weights[0].value->data,
                   sizeof (float) * n);

  int bn = osh_graph_find_layer (a, -1, "conv2_block1_2_bn");
  g_assert_cmpint (a->layers[bn].n_weights, ==, 4);
  g_assert_false (a->layers[bn].weights[3].trainable);
  for (int w = 0; w < 4; w++)
    {
      OshTensor *t = a->layers[bn].weights[w].value;
      float lo = INFINITY, hi = -INFINITY;
      for (int64_t i = 0; i < osh_tensor_numel (t); i++)
        lo = fminf (lo, t->data[i]), hi = fmaxf (hi, t->data[i]);
      g_assert_cmpfloat (hi - lo, >, 0.01); /* not constant */
      if (w == 0 || w == 3)                 /* gamma, moving variance: positive around 1 */
        g_assert_true (lo > 0.75f && hi < 1.25f);
      else
        g_assert_true (lo > -0.06f && hi < 0.06f);
    }
  osh_graph_free (a);
  osh_graph_free (b);
}

/* Saved and read back in every Keras format, a zoo model keeps its weights. Keras 3 keys the
 * weights file by class ("conv2d_1"), not by the custom names EfficientNet uses: reading
 * by layer name lost all but 7 parameters. */
static void
test_round_trip (void)
{
  OshZooOptions o;
  osh_zoo_options_init (&o, "EfficientNetB0");
  o.height = o.width = 64;
  o.classes = 4;
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("EfficientNetB0", &o, &err);
  g_assert_nonnull (g);
  int64_t total = osh_graph_total_params (g, NULL);
  char *dir = g_dir_make_tmp ("osh-zoo-XXXXXX", NULL);
  const char *names[] = { "b0.keras", "b0.h5" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = g_build_filename (dir, names[i], NULL);
      g_assert_true (osh_model_save (g, path, &err));
      g_assert_cmpstr (err.message, ==, "");
      OshGraph *back = osh_model_load (path, &err);
      g_assert_nonnull (back);
      g_assert_cmpint (osh_graph_total_params (back, NULL), ==, total);
      g_assert_cmpint (back->n_layers, ==, g->n_layers);
      int a = osh_graph_find_layer (g, -1, "block5a_expand_conv");
      int b = osh_graph_find_layer (back, -1, "block5a_expand_conv");
      OshTensor *ka = g->layers[a].weights[0].value, *kb = back->layers[b].weights[0].value;
      g_assert_true (osh_shape_equal (&ka->shape, &kb->shape));
      g_assert_cmpmem (ka->data, sizeof (float) * osh_tensor_numel (ka), kb->data,
                       sizeof (float) * osh_tensor_numel (kb));
      osh_graph_free (back);
      g_remove (path);
      g_free (path);
    }
  g_rmdir (dir);
  g_free (dir);
  osh_graph_free (g);
}

/* The window's per-block FLOPs (osh_graph_layer_flops, no weights packed) are the plan's own:
 * the same total as osh_plan_flops, each step that folded nothing in the same figure as its
 * layer, and the stem and classifier the published formula's (2 · outputs · kernel · cin). */
static void
test_layer_flops_as_the_plan (void)
{
  OshZooOptions o;
  osh_zoo_options_init (&o, "EfficientNetB0");
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("EfficientNetB0", &o, &err);
  g_assert_nonnull (g);
  double *per_layer = g_new0 (double, g->n_layers), total = 0;
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (osh_graph_layer_flops (g, 1, per_layer, &total, &err));
  gint64 t1 = g_get_monotonic_time ();
  g_assert_cmpstr (err.message, ==, "");
  OshPlan *plan = osh_plan_new (g, NULL, &err);
  gint64 t2 = g_get_monotonic_time ();
  g_assert_nonnull (plan);
  /* Printed, not asserted: the count against the plan it replaces, in the same run. */
  g_test_message ("counting took %.1f ms, a plan %.1f ms (%.0f×)", (t1 - t0) / 1e3, (t2 - t1) / 1e3,
                  (double) (t2 - t1) / (double) MAX (1, t1 - t0));
  g_assert_cmpfloat (total, ==, osh_plan_flops (plan));
  double sum = 0;
  for (int l = 0; l < g->n_layers; l++)
    sum += per_layer[l];
  g_assert_cmpfloat (fabs (sum - total), <=, 1e-9 * total);
  int plain = 0;
  for (int i = 0; i < osh_plan_n_steps (plan); i++)
    {
      OshPlanStep s;
      g_assert_true (osh_plan_step (plan, i, &s));
      int l = osh_graph_find_path (g, s.path);
      g_assert_cmpint (l, >=, 0);
      if (s.folded)
        g_assert_cmpfloat (per_layer[l], <=, s.flops); /* a fused step adds what it took in */
      else
        {
          g_assert_cmpfloat (per_layer[l], ==, s.flops);
          plain++;
        }
    }
  g_assert_cmpint (plain, >, 10);
  /* 224² → 112² by a 3×3 stride-2 convolution of 3 → 32 channels; 1280 → 1000 dense. */
  g_assert_cmpfloat (per_layer[osh_graph_find_path (g, "stem_conv")], ==,
                     2.0 * 112 * 112 * 32 * 3 * 3 * 3);
  g_assert_cmpfloat (per_layer[osh_graph_find_path (g, "predictions")], ==, 2.0 * 1280 * 1000);
  /* Published: 0.39 G multiply-adds (Tan & Le 2019, Table 2); ours adds the element-wise work. */
  g_assert_cmpfloat (total / 2, >, 0.38e9);
  g_assert_cmpfloat (total / 2, <, 0.45e9);
  g_test_message ("EfficientNetB0: %.1f MFLOP", total / 1e6);
  osh_plan_free (plan);

  /* The window counts before the weights' values are read (osh_model_load_graph): the same. */
  g_autofree char *dir = g_dir_make_tmp ("osh-flops-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "b0.keras", NULL);
  g_assert_true (osh_model_save (g, path, &err));
  OshGraph *bare = osh_model_load_graph (path, &err);
  g_assert_nonnull (bare);
  g_assert_true (osh_model_weights_pending (bare));
  double bare_total = 0;
  g_assert_true (osh_graph_layer_flops (bare, 1, NULL, &bare_total, &err));
  g_assert_cmpfloat (bare_total, ==, total);
  osh_graph_free (bare);
  g_remove (path);
  g_rmdir (dir);
  g_free (per_layer);
  osh_graph_free (g);
}

/* The graph first of a .keras without HDF5 (osh_keras3_read_structure): every weight's shape
 * told from its layer's config, for each family of layers the zoo builds (a kernel, depthwise
 * and separable kernels with their multipliers, batch norms with and without scale, Keras 3's
 * Normalization with its count), equal to what the file holds and to the builder's. */
static void
test_graph_from_config (void)
{
  static const char *const names[] = { "EfficientNetB0",   "MobileNet",  "MobileNetV2",
                                       "MobileNetV3Small", "ResNet50V2", "InceptionV3",
                                       "Xception",         "DenseNet121" };
  g_autofree char *dir = g_dir_make_tmp ("osh-zoo-graph-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.keras", NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      OshZooOptions o;
      g_assert_true (osh_zoo_options_init (&o, names[i]));
      o.classes = 4;
      o.height = o.width = 96;
      OshError err = { 0 };
      OshGraph *g = osh_zoo_build (names[i], &o, &err);
      g_assert_cmpstr (err.message, ==, "");
      g_assert_true (osh_model_save (g, path, &err));
      OshGraph *first = osh_model_load_graph (path, &err);
      g_assert_cmpstr (err.message, ==, "");
      /* Told from the config: the HDF5 headers were not read. */
      g_assert_true (json_is_true (json_object_get (first->meta, "weights_from_config")));
      g_assert_cmpint (osh_graph_total_params (first, NULL), ==, osh_graph_total_params (g, NULL));
      int64_t trainable_g = 0, trainable_first = 0;
      osh_graph_total_params (g, &trainable_g);
      osh_graph_total_params (first, &trainable_first);
      g_assert_cmpint (trainable_first, ==, trainable_g);
      /* The file's weights check every told name and shape as they come in. */
      g_assert_true (osh_model_load_weights (first, &err));
      g_assert_cmpint (first->n_layers, ==, g->n_layers);
      for (int l = 0; l < g->n_layers; l++)
        {
          g_assert_cmpint (first->layers[l].n_weights, ==, g->layers[l].n_weights);
          for (int w = 0; w < g->layers[l].n_weights; w++)
            g_assert_true (osh_shape_equal (&first->layers[l].weights[w].value->shape,
                                            &g->layers[l].weights[w].value->shape));
        }
      g_test_message ("%s: %d layers, %lld parameters told from the config", names[i], g->n_layers,
                      (long long) osh_graph_total_params (g, NULL));
      osh_graph_free (first);
      osh_graph_free (g);
    }
  g_remove (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (const char *const *n = osh_zoo_names (); *n; n++)
    {
      const Expected *e = expected_for (*n);
      g_assert_nonnull (e);
      char *path = g_strdup_printf ("/zoo/counts/%s", *n);
      g_test_add_data_func (path, e, test_counts);
      g_free (path);
    }
  g_test_add_func ("/zoo/names", test_names);
  g_test_add_func ("/zoo/options", test_options);
  g_test_add_func ("/zoo/mobilenet-v3/names", test_mobilenet_v3_names);
  g_test_add_func ("/zoo/mobilenet-v3/runs", test_mobilenet_v3_runs);
  g_test_add_func ("/zoo/mobilenet-v3/fused-hard-swish", test_mobilenet_v3_fused);
  g_test_add_func ("/zoo/weights", test_weights);
  g_test_add_func ("/zoo/flops/efficientnetb0-as-the-plan", test_layer_flops_as_the_plan);
  g_test_add_func ("/zoo/round-trip/keras3-class-keys", test_round_trip);
  g_test_add_func ("/zoo/graph-first/weights-from-config", test_graph_from_config);
  return g_test_run ();
}
