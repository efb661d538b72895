/* The graph IR: building, lookup by path, nested models, parameter counts, copies. */
#include <string.h>

#include "osh-graph.h"
#include "osh-test.h"

/* input_1 -> backbone(conv) -> dense, where backbone is a nested model with its own input. */
static OshGraph *
build_nested (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int in = osh_graph_add_layer (g, -1, "input_1", "InputLayer", NULL, &err);
  int in_node = osh_graph_add_node (g, in, NULL, 0, 1, &err);
  int bb = osh_graph_add_layer (g, -1, "backbone", "Functional", NULL, &err);
  int bb_in = osh_graph_add_layer (g, bb, "input_2", "InputLayer", NULL, &err);
  int bb_in_node = osh_graph_add_node (g, bb_in, NULL, 0, 1, &err);
  int conv = osh_graph_add_layer (g, bb, "conv", "Conv2D", NULL, &err);
  OshRef x = { bb_in_node, 0 };
  int conv_node = osh_graph_add_node (g, conv, &x, 1, 1, &err);
  OshRef y = { conv_node, 0 };
  g_assert_true (osh_graph_set_io (g, bb, &x, 1, &y, 1, &err));
  OshRef outer_in = { in_node, 0 };
  int bb_node = osh_graph_add_node (g, bb, &outer_in, 1, 1, &err);
  int dense = osh_graph_add_layer (g, -1, "dense", "Dense", NULL, &err);
  OshRef z = { bb_node, 0 };
  int dense_node = osh_graph_add_node (g, dense, &z, 1, 1, &err);
  OshRef out = { dense_node, 0 };
  g_assert_true (osh_graph_set_io (g, -1, &outer_in, 1, &out, 1, &err));

  OshShape ks = osh_shape_make (4, (int64_t[]){ 3, 3, 3, 8 });
  g_assert_true (
      osh_layer_add_weight (g, conv, "conv/kernel:0", osh_tensor_new (&ks, &err), true, &err));
  OshShape ds = osh_shape_make (2, (int64_t[]){ 8, 4 });
  g_assert_true (osh_layer_add_weight (g, dense, "kernel", osh_tensor_new (&ds, &err), true, &err));
  OshShape ms = osh_shape_make (1, (int64_t[]){ 4 });
  g_assert_true (
      osh_layer_add_weight (g, dense, "moving", osh_tensor_new (&ms, &err), false, &err));
  g_assert_cmpint (err.code, ==, OSH_OK);
  return g;
}

static void
test_paths (void)
{
  OshGraph *g = build_nested ();
  int conv = osh_graph_find_path (g, "backbone/conv");
  g_assert_cmpint (conv, ==, 3);
  g_assert_cmpint (osh_graph_find_path (g, "conv"), ==, -1);
  g_assert_cmpint (osh_graph_find_path (g, "backbone/"), ==, -1);
  g_assert_cmpint (osh_graph_find_path (g, "nope/conv"), ==, -1);
  char *path = osh_graph_layer_path (g, conv);
  g_assert_cmpstr (path, ==, "backbone/conv");
  free (path);
  path = osh_graph_layer_path (g, 0);
  g_assert_cmpstr (path, ==, "input_1");
  free (path);
  g_assert_cmpint (osh_graph_layer_depth (g, conv), ==, 1);
  g_assert_true (osh_graph_layer_within (g, conv, 1));
  g_assert_false (osh_graph_layer_within (g, 0, 1));
  osh_graph_free (g);
}

static void
test_params (void)
{
  OshGraph *g = build_nested ();
  int64_t trainable = 0;
  g_assert_cmpint (osh_graph_total_params (g, &trainable), ==, 3 * 3 * 3 * 8 + 32 + 4);
  g_assert_cmpint (trainable, ==, 216 + 32);
  g_assert_cmpint (osh_graph_layer_params (g, 1, NULL), ==, 216); /* the nested model */
  osh_graph_free (g);
}

static void
test_duplicate_name (void)
{
  OshError err = { 0 };
  OshGraph *g = build_nested ();
  g_assert_cmpint (osh_graph_add_layer (g, -1, "dense", "Dense", NULL, &err), ==, -1);
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "\"dense\" is used more than once"));
  /* The same name inside another model is fine, as in Keras. */
  g_assert_cmpint (osh_graph_add_layer (g, 1, "dense", "Dense", NULL, &err), >=, 0);
  osh_graph_free (g);
}

static void
test_bad_refs (void)
{
  OshError err = { 0 };
  OshGraph *g = build_nested ();
  OshRef bad = { 99, 0 };
  g_assert_cmpint (osh_graph_add_node (g, 0, &bad, 1, 1, &err), ==, -1);
  g_assert_nonnull (strstr (err.message, "node 99, which does not exist"));
  OshRef bad_index = { 0, 3 };
  g_assert_cmpint (osh_graph_add_node (g, 0, &bad_index, 1, 1, &err), ==, -1);
  g_assert_nonnull (strstr (err.message, "asks for output 3 of layer 'input_1'"));
  osh_graph_free (g);
}

static void
test_copy (void)
{
  OshError err = { 0 };
  OshGraph *g = build_nested ();
  OshGraph *c = osh_graph_copy (g, &err);
  g_assert_nonnull (c);
  g_assert_cmpint (c->n_layers, ==, g->n_layers);
  g_assert_cmpint (c->n_nodes, ==, g->n_nodes);
  g_assert_true (c->layers[1].is_model);
  g_assert_cmpint (c->layers[1].outputs[0].node, ==, g->layers[1].outputs[0].node);
  g_assert_cmpint (osh_graph_total_params (c, NULL), ==, osh_graph_total_params (g, NULL));
  g_assert_true (c->layers[3].weights[0].value->data != g->layers[3].weights[0].value->data);
  osh_graph_free (g);
  osh_graph_free (c);
}

static void
test_config (void)
{
  json_t *cfg = json_pack ("{s:i, s:[i,i], s:s, s:b, s:f}", "filters", 32, "kernel_size", 3, 5,
                           "padding", "same", "use_bias", 0, "epsilon", 0.001);
  int64_t k[2];
  g_assert_true (osh_config_ints (cfg, "kernel_size", k, 2));
  g_assert_cmpint (k[0], ==, 3);
  g_assert_cmpint (k[1], ==, 5);
  g_assert_true (osh_config_ints (cfg, "filters", k, 2));
  g_assert_cmpint (k[1], ==, 32);
  g_assert_false (osh_config_ints (cfg, "kernel_size", k, 3));
  g_assert_cmpint (osh_config_int (cfg, "missing", 7), ==, 7);
  g_assert_cmpstr (osh_config_string (cfg, "padding", "valid"), ==, "same");
  g_assert_false (osh_config_bool (cfg, "use_bias", true));
  g_assert_cmpfloat_with_epsilon (osh_config_double (cfg, "epsilon", 0), 0.001, 1e-12);
  json_decref (cfg);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/graph/nested-paths", test_paths);
  g_test_add_func ("/engine/graph/params", test_params);
  g_test_add_func ("/engine/graph/duplicate-name", test_duplicate_name);
  g_test_add_func ("/engine/graph/bad-references", test_bad_refs);
  g_test_add_func ("/engine/graph/deep-copy", test_copy);
  g_test_add_func ("/engine/graph/config-accessors", test_config);
  return g_test_run ();
}
