/* The graph IR: building, lookup by path, nested models, parameter counts, copies. */
#include <string.h>

#include "osh-fixes.h"
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

/* What osh_graph_find_layer answered before it had an index: the first layer of `owner` so
 * named, found by looking at every layer. */
static int
scan_find (const OshGraph *g, int owner, const char *name)
{
  for (int i = 0; i < g->n_layers; i++)
    if (g->layers[i].owner == owner && strcmp (g->layers[i].name, name) == 0)
      return i;
  return -1;
}

/* Every layer is found by its own name and owner, as a scan finds it; names a layer has in
 * another owner, or had before a rename, are not found. */
static void
assert_lookup_matches_scan (const OshGraph *g)
{
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      g_assert_cmpint (osh_graph_find_layer (g, l->owner, l->name), ==, i);
      g_assert_cmpint (scan_find (g, l->owner, l->name), ==, i);
      for (int owner = -1; owner < 3 && owner < g->n_layers; owner++)
        g_assert_cmpint (osh_graph_find_layer (g, owner, l->name), ==,
                         scan_find (g, owner, l->name));
      char *path = osh_graph_layer_path (g, i);
      g_assert_cmpint (osh_graph_find_path (g, path), ==, i);
      free (path);
    }
  g_assert_cmpint (osh_graph_find_layer (g, -1, "no_such_layer"), ==, -1);
  g_assert_cmpint (osh_graph_find_layer (g, -1, ""), ==, -1);
}

/* A chain of n Dense layers at the top level, "dense_0" ... , and a nested model "inner"
 * (layer 1) whose own layers reuse the top level's names: the index must keep owners apart. */
static OshGraph *
build_wide (int n)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int in = osh_graph_add_layer (g, -1, "input", "InputLayer", NULL, &err);
  OshRef x = { osh_graph_add_node (g, in, NULL, 0, 1, &err), 0 };
  int inner = osh_graph_add_layer (g, -1, "inner", "Functional", NULL, &err);
  int inner_in = osh_graph_add_layer (g, inner, "input", "InputLayer", NULL, &err);
  OshRef ix = { osh_graph_add_node (g, inner_in, NULL, 0, 1, &err), 0 };
  OshRef iy = ix;
  for (int i = 0; i < 5; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "dense_%d", i);
      int l = osh_graph_add_layer (g, inner, name, "Dense", NULL, &err);
      iy = (OshRef){ osh_graph_add_node (g, l, &iy, 1, 1, &err), 0 };
    }
  g_assert_true (osh_graph_set_io (g, inner, &ix, 1, &iy, 1, &err));
  x = (OshRef){ osh_graph_add_node (g, inner, &x, 1, 1, &err), 0 };
  for (int i = 0; i < n; i++)
    {
      char name[32];
      snprintf (name, sizeof name, "dense_%d", i);
      int l = osh_graph_add_layer (g, -1, name, "Dense", NULL, &err);
      x = (OshRef){ osh_graph_add_node (g, l, &x, 1, 1, &err), 0 };
    }
  OshRef in_ref = { 0, 0 };
  g_assert_true (osh_graph_set_io (g, -1, &in_ref, 1, &x, 1, &err));
  g_assert_cmpint (err.code, ==, OSH_OK);
  return g;
}

/* The name → layer index is kept through building (past several growths of its table),
 * renames, copies and the edits that build a new graph (flattening a nested model); the graph
 * an edit started from (what undo returns to) still finds its own layers. */
static void
test_lookup_through_edits (void)
{
  OshError err = { 0 };
  OshGraph *g = build_wide (2000);
  g_assert_cmpint (g->n_layers, ==, 2008);
  assert_lookup_matches_scan (g);
  g_assert_cmpint (osh_graph_find_layer (g, 1, "dense_3"), ==, 6);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "dense_3"), ==, 11);
  g_assert_cmpint (osh_graph_find_layer (g, 1, "dense_5"), ==, -1); /* only at the top level */

  /* Renames: the old name is gone, the new one found, a taken name refused. */
  g_assert_true (osh_graph_rename_layer (g, 11, "renamed", &err));
  g_assert_cmpint (osh_graph_find_layer (g, -1, "dense_3"), ==, -1);
  g_assert_cmpint (osh_graph_find_layer (g, -1, "renamed"), ==, 11);
  g_assert_false (osh_graph_rename_layer (g, 12, "renamed", &err));
  g_assert_nonnull (strstr (err.message, "\"renamed\" is used more than once"));
  g_assert_cmpstr (g->layers[12].name, ==, "dense_4");
  g_assert_true (osh_graph_rename_layer (g, 6, "renamed", &err));  /* another owner: fine */
  g_assert_true (osh_graph_rename_layer (g, 7, "dense_4", &err));  /* and back to a free name */
  g_assert_true (osh_graph_rename_layer (g, 11, "renamed", &err)); /* its own name again */
  assert_lookup_matches_scan (g);
  /* A name freed by a rename can be taken by a new layer. */
  g_assert_cmpint (osh_graph_add_layer (g, -1, "dense_3", "Dense", NULL, &err), ==, 2008);
  assert_lookup_matches_scan (g);

  OshGraph *c = osh_graph_copy (g, &err);
  g_assert_nonnull (c);
  assert_lookup_matches_scan (c);

  /* Flattening "inner": its layers move to the top level, those whose names the top level has
   * get _1; the graph it came from is unchanged. */
  OshGraph *flat = osh_graph_flatten_model (c, 1, &err);
  g_assert_nonnull (flat);
  assert_lookup_matches_scan (flat);
  g_assert_cmpint (osh_graph_find_layer (flat, -1, "inner"), ==, -1);
  int moved = osh_graph_find_layer (flat, -1, "dense_0_1");
  g_assert_cmpint (moved, >=, 0);
  g_assert_cmpint (flat->layers[moved].owner, ==, -1);
  assert_lookup_matches_scan (c);
  g_assert_cmpint (osh_graph_find_layer (c, 1, "dense_0"), ==, 3);
  osh_graph_free (flat);
  osh_graph_free (c);
  osh_graph_free (g);
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
  g_test_add_func ("/engine/graph/lookup-through-edits", test_lookup_through_edits);
  return g_test_run ();
}
