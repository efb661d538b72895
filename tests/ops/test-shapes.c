/* Shape inference on hand-built graphs: every class family, both layouts,
 * nested models, nodes stored out of order, and the errors users see. */
#include <stdlib.h>

#include "ops-test.h"
#include "osh-shapes.h"

static void
test_convnet_channels_last (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "input_1", "InputLayer", "{\"batch_input_shape\": [null, 32, 30, 3]}", 0);
  int c1 = ot_add (
      g, -1, "conv", "Conv2D",
      "{\"filters\": 8, \"kernel_size\": [3, 3], \"strides\": [2, 2], \"padding\": \"same\"}", 1,
      x);
  ot_weight (g, c1, 4, (int64_t[]){ 3, 3, 3, 8 });
  ot_weight (g, c1, 1, (int64_t[]){ 8 });
  int dw = ot_add (
      g, -1, "dw", "DepthwiseConv2D",
      "{\"kernel_size\": 3, \"padding\": \"valid\", \"depth_multiplier\": 2, \"use_bias\": false}",
      1, c1);
  ot_weight (g, dw, 4, (int64_t[]){ 3, 3, 8, 2 });
  int sep = ot_add (
      g, -1, "sep", "SeparableConv2D",
      "{\"filters\": 6, \"kernel_size\": 3, \"padding\": \"same\", \"dilation_rate\": 2}", 1, dw);
  ot_weight (g, sep, 4, (int64_t[]){ 3, 3, 16, 1 });
  ot_weight (g, sep, 4, (int64_t[]){ 1, 1, 16, 6 });
  ot_weight (g, sep, 1, (int64_t[]){ 6 });
  int mp = ot_add (g, -1, "pool", "MaxPooling2D",
                   "{\"pool_size\": [3, 3], \"strides\": [2, 2], \"padding\": \"valid\"}", 1, sep);
  int ap = ot_add (g, -1, "apool", "AveragePooling2D", "{\"pool_size\": 2, \"padding\": \"same\"}",
                   1, mp);
  int up = ot_add (g, -1, "up", "UpSampling2D", "{\"size\": [2, 3]}", 1, ap);
  int zp = ot_add (g, -1, "pad", "ZeroPadding2D", "{\"padding\": [[1, 2], [0, 3]]}", 1, up);
  int cr = ot_add (g, -1, "crop", "Cropping2D", "{\"cropping\": 1}", 1, zp);
  int tr =
      ot_add (g, -1, "deconv", "Conv2DTranspose",
              "{\"filters\": 4, \"kernel_size\": 3, \"strides\": 2, \"padding\": \"same\"}", 1, cr);
  ot_weight (g, tr, 4, (int64_t[]){ 3, 3, 4, 6 });
  ot_weight (g, tr, 1, (int64_t[]){ 4 });
  int gap = ot_add (g, -1, "gap", "GlobalAveragePooling2D", NULL, 1, tr);
  int gmk = ot_add (g, -1, "gmax", "GlobalMaxPooling2D", "{\"keepdims\": true}", 1, tr);
  int fc = ot_add (g, -1, "fc", "Dense", "{\"units\": 10, \"activation\": \"softmax\"}", 1, gap);
  ot_weight (g, fc, 2, (int64_t[]){ 4, 10 });
  ot_weight (g, fc, 1, (int64_t[]){ 10 });
  int bn = ot_add (g, -1, "bn", "BatchNormalization", NULL, 1, fc);
  ot_io (g, -1, x, bn);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  ot_assert_shape (g, x, "(None, 32, 30, 3)");
  ot_assert_shape (g, c1, "(None, 16, 15, 8)");
  ot_assert_shape (g, dw, "(None, 14, 13, 16)");
  ot_assert_shape (g, sep, "(None, 14, 13, 6)");
  ot_assert_shape (g, mp, "(None, 6, 6, 6)");
  ot_assert_shape (g, ap, "(None, 3, 3, 6)");
  ot_assert_shape (g, up, "(None, 6, 9, 6)");
  ot_assert_shape (g, zp, "(None, 9, 12, 6)");
  ot_assert_shape (g, cr, "(None, 7, 10, 6)");
  ot_assert_shape (g, tr, "(None, 14, 20, 4)");
  ot_assert_shape (g, gap, "(None, 4)");
  ot_assert_shape (g, gmk, "(None, 1, 1, 4)");
  ot_assert_shape (g, fc, "(None, 10)");
  ot_assert_shape (g, bn, "(None, 10)");
  osh_graph_free (g);
}

static void
test_channels_first (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_shape\": [null, 3, 20, 10]}", 0);
  int c = ot_add (g, -1, "conv", "Conv2D",
                  "{\"filters\": 5, \"kernel_size\": [3, 1], \"data_format\": \"channels_first\"}",
                  1, x);
  ot_weight (g, c, 4, (int64_t[]){ 3, 1, 3, 5 });
  ot_weight (g, c, 1, (int64_t[]){ 5 });
  int p = ot_add (g, -1, "pool", "MaxPooling2D", "{\"data_format\": \"channels_first\"}", 1, c);
  int zp = ot_add (g, -1, "pad", "ZeroPadding2D",
                   "{\"padding\": 1, \"data_format\": \"channels_first\"}", 1, p);
  int gp = ot_add (g, -1, "gap", "GlobalAveragePooling2D", "{\"data_format\": \"channels_first\"}",
                   1, zp);
  int fl = ot_add (g, -1, "flat", "Flatten", "{\"data_format\": \"channels_first\"}", 1, zp);
  ot_io (g, -1, x, fl);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  ot_assert_shape (g, c, "(None, 5, 18, 10)");
  ot_assert_shape (g, p, "(None, 5, 9, 5)");
  ot_assert_shape (g, zp, "(None, 5, 11, 7)");
  ot_assert_shape (g, gp, "(None, 5)");
  ot_assert_shape (g, fl, "(None, 385)");
  osh_graph_free (g);

  /* A graph-wide channels-first layout (ONNX, Theano-era Keras) without data_format keys. */
  g = osh_graph_new ();
  g->layout = OSH_LAYOUT_CHANNELS_FIRST;
  x = ot_add (g, -1, "in", "InputLayer", "{\"input_shape\": [4, 8, 8]}", 0);
  c = ot_add (g, -1, "conv", "Conv2D",
              "{\"filters\": 2, \"kernel_size\": 3, \"strides\": 2, \"padding\": \"same\"}", 1, x);
  ot_io (g, -1, x, c);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  ot_assert_shape (g, c, "(None, 2, 4, 4)");
  osh_graph_free (g);
}

/* Squeeze-excite: (None, 1, 1, C) × (None, H, W, C), reshapes, merges, layout ops. */
static void
test_merges_and_layout (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 7, 7, 32]}", 0);
  int sq = ot_add (g, -1, "se_squeeze", "GlobalAveragePooling2D", NULL, 1, x);
  int rs = ot_add (g, -1, "se_reshape", "Reshape", "{\"target_shape\": [1, 1, 32]}", 1, sq);
  int ex = ot_add (g, -1, "se_excite", "Multiply", NULL, 2, x, rs);
  int ad = ot_add (g, -1, "add", "Add", NULL, 2, ex, x);
  int cc = ot_add (g, -1, "cat", "Concatenate", "{\"axis\": -1}", 3, ad, x, ex);
  int c1 = ot_add (g, -1, "cat1", "Concatenate", "{\"axis\": 1}", 2, ad, x);
  int r2 = ot_add (g, -1, "r2", "Reshape", "{\"target_shape\": [-1, 8]}", 1, cc);
  int pm = ot_add (g, -1, "perm", "Permute", "{\"dims\": [2, 1]}", 1, r2);
  int fl = ot_add (g, -1, "flat", "Flatten", NULL, 1, pm);
  int rv = ot_add (g, -1, "rep", "RepeatVector", "{\"n\": 3}", 1, sq);
  int av = ot_add (g, -1, "avg", "Average", NULL, 3, ex, ad, x);
  int dn = ot_add (g, -1, "dense3d", "Dense", "{\"units\": 5}", 1, rv);
  ot_io (g, -1, x, fl);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  ot_assert_shape (g, rs, "(None, 1, 1, 32)");
  ot_assert_shape (g, ex, "(None, 7, 7, 32)");
  ot_assert_shape (g, ad, "(None, 7, 7, 32)");
  ot_assert_shape (g, cc, "(None, 7, 7, 96)");
  ot_assert_shape (g, c1, "(None, 14, 7, 32)");
  ot_assert_shape (g, r2, "(None, 588, 8)");
  ot_assert_shape (g, pm, "(None, 8, 588)");
  ot_assert_shape (g, fl, "(None, 4704)");
  ot_assert_shape (g, rv, "(None, 3, 32)");
  ot_assert_shape (g, av, "(None, 7, 7, 32)");
  ot_assert_shape (g, dn, "(None, 3, 5)");
  osh_graph_free (g);
}

/* A backbone built for any image size, called on 64×48 images: the call's shapes flow through. */
static void
test_nested_model (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "input_1", "InputLayer", "{\"batch_input_shape\": [null, 64, 48, 3]}", 0);
  int bb = osh_graph_add_layer (g, -1, "backbone", "Functional", NULL, &err);
  g->layers[bb].is_model = true;
  int bx =
      ot_add (g, bb, "input_2", "InputLayer", "{\"batch_input_shape\": [null, null, null, 3]}", 0);
  int conv = ot_add (g, bb, "conv", "Conv2D",
                     "{\"filters\": 4, \"kernel_size\": 3, \"strides\": 2}", 1, bx);
  ot_weight (g, conv, 4, (int64_t[]){ 3, 3, 3, 4 });
  ot_weight (g, conv, 1, (int64_t[]){ 4 });
  ot_io (g, bb, bx, conv);
  OshRef xr = { x, 0 };
  int call = osh_graph_add_node (g, bb, &xr, 1, 1, &err);
  int gap = ot_add (g, -1, "gap", "GlobalMaxPooling2D", NULL, 1, call);
  ot_io (g, -1, x, gap);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  ot_assert_shape (g, call, "(None, 31, 23, 4)");
  ot_assert_shape (g, conv, "(None, 31, 23, 4)"); /* the first call decides */
  ot_assert_shape (g, gap, "(None, 4)");
  /* A second call on other sizes gets its own shapes without disturbing the first. */
  int y = ot_add (g, -1, "input_3", "InputLayer", "{\"batch_input_shape\": [null, 9, 9, 3]}", 0);
  OshRef yr = { y, 0 };
  int call2 = osh_graph_add_node (g, bb, &yr, 1, 1, &err);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  ot_assert_shape (g, call2, "(None, 4, 4, 4)");
  ot_assert_shape (g, conv, "(None, 31, 23, 4)");
  osh_graph_free (g);
}

/* Nodes stored users-first must still be shaped in dependency order. */
static void
test_any_node_order (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"input_shape\": [6]}", 0);
  int d1 = ot_add (g, -1, "d1", "Dense", "{\"units\": 4}", 1, x);
  int d2 = ot_add (g, -1, "d2", "Dense", "{\"units\": 2}", 1, d1);
  ot_io (g, -1, x, d2);
  /* Reverse the node array and remap every reference. */
  int n = g->n_nodes;
  for (int i = 0; i < n / 2; i++)
    {
      OshNode t = g->nodes[i];
      g->nodes[i] = g->nodes[n - 1 - i];
      g->nodes[n - 1 - i] = t;
    }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      g->nodes[i].inputs[k].node = n - 1 - g->nodes[i].inputs[k].node;
  g->inputs[0].node = n - 1 - g->inputs[0].node;
  g->outputs[0].node = n - 1 - g->outputs[0].node;
  g_assert_true (osh_graph_infer_shapes (g, &err));
  ot_assert_shape (g, 0, "(None, 2)");
  ot_assert_shape (g, 1, "(None, 4)");
  ot_assert_shape (g, 2, "(None, 6)");
  osh_graph_free (g);
}

static void
test_unknown_class (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"input_shape\": [8]}", 0);
  int l = ot_add (g, -1, "mystery", "MyCustomLayer", NULL, 1, x);
  int lam = ot_add (g, -1, "lam", "Lambda", NULL, 1, x);
  int d = ot_add (g, -1, "after", "Dense", "{\"units\": 3}", 1, l);
  ot_io (g, -1, x, d);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  g_assert_cmpint (g->nodes[l].shapes[0].rank, ==, 0);
  g_assert_cmpint (g->nodes[lam].shapes[0].rank, ==, 0);
  g_assert_cmpint (g->nodes[d].shapes[0].rank, ==, 0);
  osh_graph_free (g);
}

/* Errors name the layer, its class and both shapes. */
static void
expect_error (OshGraph *g, const char *fragment1, const char *fragment2)
{
  OshError err = { 0 };
  g_assert_false (osh_graph_infer_shapes (g, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_SHAPE);
  if (!strstr (err.message, fragment1) || !strstr (err.message, fragment2))
    g_error ("message \"%s\" lacks \"%s\" or \"%s\"", err.message, fragment1, fragment2);
  osh_graph_free (g);
}

static void
test_errors (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 8, 8, 3]}", 0);
  int p = ot_add (g, -1, "pool", "MaxPooling2D", NULL, 1, x);
  ot_add (g, -1, "add_1", "Add", NULL, 2, x, p);
  expect_error (g, "layer 'add_1' (Add)", "(None, 8, 8, 3) and (None, 4, 4, 3)");

  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"input_shape\": [8]}", 0);
  int r = ot_add (g, -1, "rv", "RepeatVector", "{\"n\": 2}", 1, x);
  int c = ot_add (g, -1, "conv", "Conv2D", "{\"filters\": 2, \"kernel_size\": 1}", 1, r);
  (void) c;
  expect_error (g, "layer 'conv' (Conv2D)", "(None, 2, 8) has rank 3 (expected rank 4)");

  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 8, 8, 3]}", 0);
  c = ot_add (g, -1, "conv", "Conv2D", "{\"filters\": 2, \"kernel_size\": 3}", 1, x);
  ot_weight (g, c, 4, (int64_t[]){ 3, 3, 4, 2 });
  expect_error (g, "layer 'conv' (Conv2D)",
                "kernel weight has shape (3, 3, 4, 2) (expected (3, 3, 3, 2)");

  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"input_shape\": [8]}", 0);
  int d = ot_add (g, -1, "fc", "Dense", "{\"units\": 2}", 1, x);
  ot_weight (g, d, 2, (int64_t[]){ 4, 2 });
  expect_error (g, "layer 'fc' (Dense)", "(4, 2) (expected (8, 2)");

  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 2, 2, 3]}", 0);
  c = ot_add (g, -1, "big", "Conv2D", "{\"filters\": 2, \"kernel_size\": 5}", 1, x);
  expect_error (g, "layer 'big' (Conv2D)", "smaller than the 5-wide kernel");

  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 4, 4, 4]}", 0);
  ot_add (g, -1, "grouped", "Conv2D", "{\"filters\": 3, \"kernel_size\": 1, \"groups\": 2}", 1, x);
  expect_error (g, "layer 'grouped' (Conv2D)", "3 filters do not split into 2 groups");

  /* Inside a nested model the path names the model too. */
  OshError err = { 0 };
  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 4]}", 0);
  int bb = osh_graph_add_layer (g, -1, "inner", "Functional", NULL, &err);
  g->layers[bb].is_model = true;
  int bx = ot_add (g, bb, "in2", "InputLayer", "{\"batch_input_shape\": [null, null]}", 0);
  int fc = ot_add (g, bb, "fc", "Dense", "{\"units\": 2}", 1, bx);
  ot_weight (g, fc, 2, (int64_t[]){ 5, 2 });
  ot_weight (g, fc, 1, (int64_t[]){ 2 });
  ot_io (g, bb, bx, fc);
  OshRef xr = { x, 0 };
  osh_graph_add_node (g, bb, &xr, 1, 1, &err);
  expect_error (g, "layer 'inner/fc' (Dense)", "(5, 2) (expected (4, 2)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/shapes/convnet-channels-last", test_convnet_channels_last);
  g_test_add_func ("/ops/shapes/channels-first", test_channels_first);
  g_test_add_func ("/ops/shapes/merges-and-layout", test_merges_and_layout);
  g_test_add_func ("/ops/shapes/nested-model", test_nested_model);
  g_test_add_func ("/ops/shapes/any-node-order", test_any_node_order);
  g_test_add_func ("/ops/shapes/unknown-class", test_unknown_class);
  g_test_add_func ("/ops/shapes/errors", test_errors);
  return g_test_run ();
}
