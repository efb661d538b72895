/* Head specs and attaching heads: templates, chains, parse errors with columns, Keras-style
 * names and configs, fresh weights, shape checks, and both attach modes on the seed graph. */
#include <glib/gstdio.h>
#include <math.h>

#include "edit-graphs.h"
#include "osh-connectivity.h"
#include "osh-heads.h"
#include "osh-model.h"

static OshHeadSpec
parse (const char *text)
{
  OshError err = { 0 };
  OshHeadSpec spec;
  if (!osh_head_parse (text, &spec, &err))
    g_error ("%s", err.message);
  return spec;
}

static void
assert_parse_error (const char *text, const char *expected)
{
  OshError err = { 0 };
  OshHeadSpec spec;
  g_assert_false (osh_head_parse (text, &spec, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  if (!strstr (err.message, expected))
    g_error ("'%s': got \"%s\", expected it to contain \"%s\"", text, err.message, expected);
}

static void
test_parse (void)
{
  OshHeadSpec s = parse ("seg");
  g_assert_cmpint (s.n_steps, ==, 4);
  g_assert_cmpint (s.steps[0].kind, ==, OSH_HEAD_CONV2D);
  g_assert_cmpint (s.steps[0].filters, ==, 128);
  g_assert_cmpint (s.steps[0].kernel_size, ==, 3);
  g_assert_true (s.steps[0].same);
  g_assert_cmpint (s.steps[1].kind, ==, OSH_HEAD_BATCHNORM);
  g_assert_cmpint (s.steps[2].kind, ==, OSH_HEAD_RELU);
  g_assert_cmpint (s.steps[3].filters, ==, 1);
  g_assert_cmpint (s.steps[3].kernel_size, ==, 1);

  s = parse ("seg:64:2");
  g_assert_cmpint (s.steps[0].filters, ==, 64);
  g_assert_cmpint (s.steps[3].filters, ==, 2);

  s = parse ("classifier:4");
  g_assert_cmpint (s.n_steps, ==, 2);
  g_assert_cmpint (s.steps[0].kind, ==, OSH_HEAD_GAP);
  g_assert_cmpint (s.steps[1].kind, ==, OSH_HEAD_DENSE);
  g_assert_cmpint (s.steps[1].filters, ==, 4);
  g_assert_cmpstr (s.steps[1].activation, ==, "softmax");

  OshHeadSpec seg = parse ("seg");
  s = parse ("conv2d(filters=128,kernel_size=3,padding=same),batchnorm,relu,conv2d(filters=1,"
             "kernel_size=1)");
  g_assert_cmpint (memcmp (&s, &seg, sizeof s), ==, 0); /* the chain spelling of the seed head */

  s = parse (" dense( units = 3 , activation=sigmoid ) ");
  g_assert_cmpint (s.n_steps, ==, 1);
  g_assert_cmpint (s.steps[0].filters, ==, 3);
  g_assert_cmpstr (s.steps[0].activation, ==, "sigmoid");

  assert_parse_error ("conv3d", "column 1: unknown layer 'conv3d'");
  assert_parse_error ("conv2d(filters=128,kernel_size=3,padding=sme)",
                      "column 42: padding is 'same' or 'valid'");
  assert_parse_error ("relu,,bn", "column 6: expected a layer");
  assert_parse_error ("seg:0", "column 5: expected a positive whole number");
  assert_parse_error ("seg:1:2:3", "column 8: seg takes at most two numbers");
  assert_parse_error ("classifier", "classifier needs the number of classes");
  assert_parse_error ("conv2d(filters=3)", "column 1: conv2d needs filters= and kernel_size=");
  assert_parse_error ("relu(max_value=6)", "column 6: ReLU takes no argument 'max_value'");
  assert_parse_error ("relu bn", "column 6: expected ',' between layers");
  assert_parse_error ("dense(units=3", "column 14: expected ',' or ')'");
}

static OshGraph *
attach (const OshGraph *g, const char *path, const char *head, OshAttachMode mode, char **names)
{
  OshError err = { 0 };
  OshHeadSpec spec = parse (head);
  OshGraph *out = osh_head_attach (g, path, &spec, mode, names, &err);
  if (!out)
    g_error ("%s", err.message);
  return out;
}

static const OshTensor *
weight (const OshGraph *g, const char *layer, int i)
{
  int l = osh_graph_find_path (g, layer);
  g_assert_cmpint (l, >=, 0);
  g_assert_cmpint (i, <, g->layers[l].n_weights);
  return g->layers[l].weights[i].value;
}

/* A second head freezes the model's own layers but not the first head: both train. */
static void
test_second_head_keeps_the_first_trainable (void)
{
  OshGraph *g = eg_seed (NULL, NULL);
  char *first[4], *second[4];
  OshGraph *a = attach (g, "efficientnet/block5a_expand_conv", "seg", OSH_ATTACH_CONNECTED, first);
  OshGraph *b = attach (a, "efficientnet/block5a_expand_conv", "seg", OSH_ATTACH_CONNECTED, second);
  for (int i = 0; i < 4; i++)
    {
      g_assert_true (b->layers[osh_graph_find_path (b, first[i])].trainable);
      g_assert_true (b->layers[osh_graph_find_path (b, second[i])].trainable);
      free (first[i]), free (second[i]);
    }
  int own = osh_graph_find_path (b, "block5a_expand_conv"); /* top-level once connected */
  g_assert_cmpint (own, >=, 0);
  g_assert_false (b->layers[own].trainable);
  osh_graph_free (b), osh_graph_free (a), osh_graph_free (g);
}

/* The window's preview attaches to a copy without weight values: the same layers, shapes and
 * parameter counts as the real attach, in both modes, and no value is copied. */
static void
test_preview_on_structure (void)
{
  OshError err = { 0 };
  OshGraph *g = eg_seed (NULL, NULL);
  OshGraph *s = osh_graph_copy_structure (g, &err);
  g_assert_nonnull (s);
  g_assert_cmpint (s->n_layers, ==, g->n_layers);
  g_assert_cmpint (osh_graph_total_params (s, NULL), ==, osh_graph_total_params (g, NULL));
  for (int i = 0; i < s->n_layers; i++)
    for (int w = 0; w < s->layers[i].n_weights; w++)
      {
        g_assert_null (s->layers[i].weights[w].value->data);
        g_assert_true (osh_shape_equal (&s->layers[i].weights[w].value->shape,
                                        &g->layers[i].weights[w].value->shape));
      }
  const char *heads[] = { "seg", "classifier:3",
                          "conv2d(filters=8,kernel_size=3),batchnorm,relu,dense(units=2)" };
  for (int mode = OSH_ATTACH_CONNECTED; mode <= OSH_ATTACH_KERAS; mode++)
    for (size_t h = 0; h < G_N_ELEMENTS (heads); h++)
      {
        char *names[OSH_HEAD_MAX_STEPS], *preview_names[OSH_HEAD_MAX_STEPS];
        OshHeadSpec spec = parse (heads[h]);
        OshGraph *full = attach (g, "efficientnet/block5a_expand_conv", heads[h], mode, names);
        OshGraph *preview =
            attach (s, "efficientnet/block5a_expand_conv", heads[h], mode, preview_names);
        g_assert_cmpint (preview->n_layers, ==, full->n_layers);
        g_assert_cmpint (preview->n_outputs, ==, full->n_outputs);
        int64_t trainable_full = 0, trainable_preview = 0;
        g_assert_cmpint (osh_graph_total_params (preview, &trainable_preview), ==,
                         osh_graph_total_params (full, &trainable_full));
        g_assert_cmpint (trainable_preview, ==, trainable_full);
        for (int i = 0; i < spec.n_steps; i++)
          {
            g_assert_cmpstr (preview_names[i], ==, names[i]);
            int lf = osh_graph_find_layer (full, -1, names[i]);
            int lp = osh_graph_find_layer (preview, -1, names[i]);
            g_assert_true (osh_shape_equal (
                &full->nodes[osh_graph_layer_first_node (full, lf)].shapes[0],
                &preview->nodes[osh_graph_layer_first_node (preview, lp)].shapes[0]));
            free (names[i]);
            free (preview_names[i]);
          }
        osh_graph_free (full);
        osh_graph_free (preview);
      }
  osh_graph_free (s);
  osh_graph_free (g);
}

static void
test_attach_connected (void)
{
  OshGraph *g = eg_seed (NULL, NULL);
  int n_layers = g->n_layers;
  char *names[4];
  OshGraph *e = attach (g, "efficientnet/block5a_expand_conv", "seg", OSH_ATTACH_CONNECTED, names);
  g_assert_cmpint (g->n_layers, ==, n_layers); /* the input graph is not touched */
  g_assert_cmpstr (names[0], ==, "aux_head_conv");
  g_assert_cmpstr (names[1], ==, "aux_head_bn");
  g_assert_cmpstr (names[2], ==, "aux_head_relu");
  g_assert_cmpstr (names[3], ==, "aux_head_out");
  for (int i = 0; i < 4; i++)
    free (names[i]);

  OshConnectivity *c = osh_connectivity_analyze (e, NULL);
  g_assert_true (c->connected);
  osh_connectivity_free (c);
  g_assert_cmpint (e->n_outputs, ==, 2);
  char shape[64];
  osh_shape_format (&e->nodes[e->outputs[1].node].shapes[0], shape, sizeof shape);
  g_assert_cmpstr (shape, ==, "(None, 8, 8, 1)");
  /* The head reads the (now top-level) block5a_expand_conv, computed from input_1. */
  int head = osh_graph_layer_first_node (e, osh_graph_find_path (e, "aux_head_conv"));
  int src = e->nodes[head].inputs[0].node;
  g_assert_cmpstr (e->layers[e->nodes[src].layer].name, ==, "block5a_expand_conv");
  g_assert_cmpint (e->layers[e->nodes[src].layer].owner, ==, -1);

  /* Glorot-uniform kernel (3, 3, 16, 128), zero bias; BN 1, 0, 0, 1. */
  const OshTensor *k = weight (e, "aux_head_conv", 0);
  osh_shape_format (&k->shape, shape, sizeof shape);
  g_assert_cmpstr (shape, ==, "(3, 3, 16, 128)");
  double limit = sqrt (6.0 / (9 * 16 + 9 * 128)), sum = 0, sum2 = 0, peak = 0;
  int64_t n = osh_tensor_numel (k);
  for (int64_t i = 0; i < n; i++)
    {
      sum += k->data[i];
      sum2 += k->data[i] * k->data[i];
      peak = fmax (peak, fabs (k->data[i]));
    }
  g_assert_cmpfloat (peak, <=, limit);
  g_assert_cmpfloat (peak, >, 0.99 * limit);
  g_assert_cmpfloat (fabs (sum / n), <, 0.01);
  g_assert_cmpfloat_with_epsilon (sqrt (sum2 / n), limit / sqrt (3.0), 0.01); /* uniform's std */
  g_assert_cmpfloat (weight (e, "aux_head_conv", 1)->data[5], ==, 0.0f);
  g_assert_cmpfloat (weight (e, "aux_head_bn", 0)->data[0], ==, 1.0f);
  g_assert_cmpfloat (weight (e, "aux_head_bn", 1)->data[0], ==, 0.0f);
  g_assert_cmpfloat (weight (e, "aux_head_bn", 2)->data[0], ==, 0.0f);
  g_assert_cmpfloat (weight (e, "aux_head_bn", 3)->data[127], ==, 1.0f);
  int bn = osh_graph_find_path (e, "aux_head_bn");
  g_assert_false (e->layers[bn].weights[2].trainable);
  g_assert_cmpstr (e->layers[bn].weights[3].name, ==, "aux_head_bn/moving_variance:0");
  osh_shape_format (&weight (e, "aux_head_out", 0)->shape, shape, sizeof shape);
  g_assert_cmpstr (shape, ==, "(1, 1, 128, 1)");

  /* Full Keras 2 configs. */
  const json_t *conv = e->layers[osh_graph_find_path (e, "aux_head_conv")].config;
  g_assert_cmpstr (osh_config_string (conv, "padding", ""), ==, "same");
  g_assert_cmpint (osh_config_int (conv, "filters", 0), ==, 128);
  g_assert_cmpstr (json_string_value (json_object_get (json_object_get (conv, "kernel_initializer"),
                                                       "class_name")),
                   ==, "GlorotUniform");
  g_assert_true (json_is_null (json_object_get (conv, "kernel_regularizer")));
  g_assert_cmpint (
      json_integer_value (json_array_get (json_object_get (e->layers[bn].config, "axis"), 0)), ==,
      3);

  /* The same attach twice gives the same weights (fixed seed); a second head takes _1 names. */
  OshGraph *again =
      attach (g, "efficientnet/block5a_expand_conv", "seg", OSH_ATTACH_CONNECTED, NULL);
  g_assert_cmpmem (weight (again, "aux_head_conv", 0)->data, n * 4, k->data, n * 4);
  osh_graph_free (again);
  OshGraph *two = attach (e, "top_conv", "classifier:4", OSH_ATTACH_CONNECTED, names);
  g_assert_cmpstr (names[0], ==, "aux_head_pool");
  g_assert_cmpstr (names[1], ==, "aux_head_out_1");
  free (names[0]);
  free (names[1]);
  g_assert_cmpint (two->n_outputs, ==, 3);
  osh_shape_format (&weight (two, "aux_head_out_1", 0)->shape, shape, sizeof shape);
  g_assert_cmpstr (shape, ==, "(32, 4)");
  osh_graph_free (two);
  osh_graph_free (e);
  osh_graph_free (g);
}

static void
test_attach_keras_mode (void)
{
  int b5;
  OshGraph *g = eg_seed (NULL, &b5);
  OshGraph *e = attach (g, "efficientnet/block5a_expand_conv", "seg", OSH_ATTACH_KERAS, NULL);
  OshConnectivity *c = osh_connectivity_analyze (e, NULL);
  g_assert_false (c->connected);
  g_assert_cmpint (c->n_foreign_roots, ==, 1);
  char *root = osh_graph_layer_path (e, e->nodes[c->foreign_roots[0]].layer);
  g_assert_cmpstr (root, ==, "efficientnet/input_2");
  free (root);
  g_assert_cmpint (c->n_bridges, ==, 1);
  g_assert_cmpint (c->bridges[0].from_node, ==, b5); /* the copy keeps node numbers */
  g_assert_cmpstr (e->layers[e->nodes[c->bridges[0].to_node].layer].name, ==, "aux_head_conv");
  g_assert_nonnull (strstr (c->message, "at layer \"stem_conv\""));
  osh_connectivity_free (c);
  osh_graph_free (e);
  osh_graph_free (g);
}

static void
test_attach_errors (void)
{
  OshError err = { 0 };
  OshGraph *g = eg_seed (NULL, NULL);
  int n_layers = g->n_layers, n_outputs = g->n_outputs;
  OshHeadSpec spec = parse ("gap,conv2d(filters=1,kernel_size=1)");
  g_assert_null (osh_head_attach (g, "gap", &spec, OSH_ATTACH_CONNECTED, NULL, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_SHAPE);
  g_assert_nonnull (strstr (err.message, "attaching a head at 'gap'"));
  g_assert_nonnull (strstr (err.message,
                            "head layer 'aux_head_pool' (GlobalAveragePooling2D) needs a 4-D "
                            "input, got (None, 32)"));
  spec = parse ("conv2d(filters=4,kernel_size=9)");
  g_assert_null (
      osh_head_attach (g, "efficientnet/top_conv", &spec, OSH_ATTACH_CONNECTED, NULL, &err));
  g_assert_nonnull (strstr (err.message,
                            "'aux_head_out' (Conv2D 9x9, valid padding) does not fit its "
                            "input (None, 4, 4, 32)"));
  g_assert_null (osh_head_attach (g, "efficientnet/nope", &spec, OSH_ATTACH_CONNECTED, NULL, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_NOT_FOUND);
  g_assert_nonnull (strstr (err.message, "no layer 'efficientnet/nope'"));
  g_assert_null (
      osh_head_attach (g, "efficientnet/input_2", &spec, OSH_ATTACH_CONNECTED, NULL, &err));
  g_assert_nonnull (strstr (err.message, "the nested model's own input"));
  g_assert_cmpint (g->n_layers, ==, n_layers);
  g_assert_cmpint (g->n_outputs, ==, n_outputs);
  osh_graph_free (g);
}

/* Heads stay recognisable after a save (the window and render highlight them): the four seed
 * head layers and nothing else, in .keras, .h5 and .onnx; and a missing layer names the closest real
 * ones, not a fixed example. */
static void
test_heads_marked_in_saved_models (void)
{
  OshError err = { 0 };
  OshGraph *g = eg_seed (NULL, NULL);
  OshGraph *e = attach (g, "efficientnet/block5a_expand_conv", "seg", OSH_ATTACH_CONNECTED, NULL);
  g_autofree char *dir = g_dir_make_tmp ("osh-heads-XXXXXX", NULL);
  const char *names[] = { "two-heads.keras", "two-heads.h5", "two-heads.onnx" };
  for (int f = 0; f < 3; f++)
    {
      g_autofree char *path = g_build_filename (dir, names[f], NULL);
      g_assert_true (osh_model_save (e, path, &err));
      OshGraph *back = osh_model_load (path, &err);
      g_assert_nonnull (back);
      /* ONNX writes each head layer as nodes under its name ("aux_head_bn/BatchNormalization_7"),
       * and the output's layout change as one more. */
      int heads = 0;
      for (int l = 0; l < back->n_layers; l++)
        {
          bool head = osh_graph_layer_is_head (back, l);
          g_assert_cmpint (head, ==, g_str_has_prefix (back->layers[l].name, "aux_head_"));
          heads += head;
        }
      g_assert_cmpint (heads, ==, f < 2 ? 4 : 5);
      osh_graph_free (back);
      g_remove (path);
    }
  g_rmdir (dir);
  for (int l = 0; l < g->n_layers; l++)
    g_assert_false (osh_graph_layer_is_head (g, l));

  OshHeadSpec spec = parse ("seg");
  g_assert_null (osh_head_attach (g, "efficientnet/block5a_expand_cnv", &spec, OSH_ATTACH_CONNECTED,
                                  NULL, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_NOT_FOUND);
  g_assert_nonnull (strstr (err.message, "the closest: 'efficientnet/block5a_expand_conv'"));
  g_assert_null (strstr (err.message, "efficientnetb7"));
  osh_graph_free (e);
  osh_graph_free (g);
}

/* The same head on a Keras tensor and on an ONNX tensor of the same channel count gets the
 * same numbers: the ONNX Conv weights are the Keras kernels, HWIO read as OIHW. */
static void
test_onnx_head_weights_are_the_keras_heads (void)
{
  OshError err = { 0 };
  OshGraph *k = osh_graph_new ();
  int in = osh_graph_add_layer (k, -1, "input_1", "InputLayer",
                                eg_input_config ("input_1", 8, 8, 24), &err);
  OshRef x = { eg_node (k, in, NULL, 0, 8, 8, 24), 0 };
  OshRef feat = { eg_conv (k, -1, "feat", x, 1, 24), 0 };
  g_assert_true (osh_graph_set_io (k, -1, &x, 1, &feat, 1, &err));
  g_autofree char *path = osh_test_fixture ("onnx/fixtures/mobilenet_v3_small_x025.onnx");
  OshGraph *o = osh_model_load (path, &err);
  if (!o)
    g_error ("%s", err.message);
  OshGraph *kh = attach (k, "feat", "seg:8:2", OSH_ATTACH_CONNECTED, NULL);
  OshGraph *oh = attach (o, "/features/features.2/block/block.1/block.1.2/Relu", "seg:8:2",
                         OSH_ATTACH_CONNECTED, NULL);
  g_assert_cmpstr (oh->layers[osh_graph_find_layer (oh, -1, "aux_head_conv")].class_name, ==,
                   "Conv");
  for (int layer = 0; layer < 2; layer++)
    {
      const char *name = layer ? "aux_head_out" : "aux_head_conv";
      int kk = layer ? 1 : 3, cin = layer ? 8 : 24, cout = layer ? 2 : 8;
      const OshTensor *hwio = weight (kh, name, 0), *oihw = weight (oh, name, 0);
      OshShape want = osh_shape_make (4, (int64_t[]){ cout, cin, kk, kk });
      g_assert_true (osh_shape_equal (&oihw->shape, &want));
      for (int o_ = 0; o_ < cout; o_++)
        for (int i = 0; i < cin; i++)
          for (int yx = 0; yx < kk * kk; yx++)
            g_assert_cmpfloat (oihw->data[(o_ * cin + i) * kk * kk + yx], ==,
                               hwio->data[(yx * cin + i) * cout + o_]);
      g_assert_cmpfloat (fabsf (hwio->data[1]), >, 0); /* seeded, not zeros */
    }
  for (int w = 0; w < 4; w++) /* BatchNormalization: gamma/scale, beta/B, mean, variance */
    g_assert_cmpmem (weight (kh, "aux_head_bn", w)->data, 8 * sizeof (float),
                     weight (oh, "aux_head_bn", w)->data, 8 * sizeof (float));
  osh_graph_free (kh);
  osh_graph_free (oh);
  osh_graph_free (k);
  osh_graph_free (o);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/edit/heads/parse", test_parse);
  g_test_add_func ("/edit/heads/attach-connected", test_attach_connected);
  g_test_add_func ("/edit/heads/preview-on-structure", test_preview_on_structure);
  g_test_add_func ("/edit/heads/second-head-keeps-the-first-trainable",
                   test_second_head_keeps_the_first_trainable);
  g_test_add_func ("/edit/heads/attach-keras-mode", test_attach_keras_mode);
  g_test_add_func ("/edit/heads/attach-errors", test_attach_errors);
  g_test_add_func ("/edit/heads/marked-in-saved-models", test_heads_marked_in_saved_models);
  g_test_add_func ("/edit/heads/onnx-weights-are-the-keras-heads",
                   test_onnx_head_weights_are_the_keras_heads);
  return g_test_run ();
}
