/* Connectivity analysis and fixes on hand-built graphs: the seed's nested-model mistake, two
 * backbone instances (the StackOverflow case), a dangling branch, an unused layer, a cycle. */
#include "edit-graphs.h"
#include "osh-connectivity.h"
#include "osh-fixes.h"

static OshConnectivity *
analyze (const OshGraph *g)
{
  OshError err = { 0 };
  OshConnectivity *c = osh_connectivity_analyze (g, &err);
  g_assert_nonnull (c);
  g_assert_cmpint (err.code, ==, OSH_OK);
  return c;
}

static char *
node_path (const OshGraph *g, int node)
{
  return osh_graph_layer_path (g, g->nodes[node].layer);
}

/* Applies fix `id` and checks the result is connected and `g` is untouched. */
static void
assert_fix_connects (const OshGraph *g, const OshConnectivity *c, const char *id)
{
  OshError err = { 0 };
  const OshFix *fix = osh_fix_find (c, id);
  if (!fix)
    {
      for (int i = 0; i < c->n_fixes; i++)
        g_test_message ("fix offered: %s", c->fixes[i].id);
      g_error ("fix '%s' not offered", id);
    }
  int n_layers = g->n_layers, n_nodes = g->n_nodes;
  OshGraph *fixed = osh_fix_apply (g, fix, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_nonnull (fixed);
  g_assert_cmpint (g->n_layers, ==, n_layers);
  g_assert_cmpint (g->n_nodes, ==, n_nodes);
  OshConnectivity *after = analyze (fixed);
  if (!after->connected)
    g_error ("after %s: %s", id, after->explanation);
  osh_connectivity_free (after);
  osh_graph_free (fixed);
}

static void
test_connected_seed (void)
{
  OshGraph *g = eg_seed (NULL, NULL);
  OshConnectivity *c = analyze (g);
  g_assert_true (c->connected);
  g_assert_null (c->message);
  g_assert_null (c->explanation);
  g_assert_cmpint (c->n_foreign_roots, ==, 0);
  g_assert_cmpint (c->n_bridges, ==, 0);
  g_assert_cmpint (c->n_unused_layers, ==, 0);
  g_assert_cmpint (c->n_fixes, ==, 0);
  g_assert_true (c->output_ok[0]);
  osh_connectivity_free (c);
  osh_graph_free (g);
}

static void
test_nested_mistake (void)
{
  int call, b5;
  OshGraph *g = eg_seed (&call, &b5);
  int aux = eg_add_output (g, "aux_head_out", (OshRef){ b5, 0 });
  OshConnectivity *c = analyze (g);
  g_assert_false (c->connected);
  g_assert_true (c->output_ok[0]);
  g_assert_false (c->output_ok[1]);

  g_assert_cmpint (c->n_foreign_roots, ==, 1);
  char *root = node_path (g, c->foreign_roots[0]);
  g_assert_cmpstr (root, ==, "efficientnet/input_2");
  free (root);
  g_assert_cmpint (c->n_bridges, ==, 1);
  g_assert_cmpint (c->bridges[0].from_node, ==, b5);
  g_assert_cmpint (c->bridges[0].to_node, ==, aux);
  g_assert_cmpint (c->bridges[0].output, ==, 1);

  g_assert_cmpstr (
      c->message, ==,
      "Graph disconnected: cannot obtain value for tensor KerasTensor(type_spec=TensorSpec("
      "shape=(None, 32, 32, 3), dtype=tf.float32, name='input_2'), name='input_2', "
      "description=\"created by layer 'input_2'\") at layer \"stem_conv\". The following "
      "previous layers were accessed without issue: []");
  g_assert_nonnull (strstr (c->explanation, "Output 'aux_head_out'"));
  g_assert_nonnull (strstr (c->explanation, "'efficientnet/input_2'"));
  g_assert_nonnull (strstr (c->explanation, "efficientnet/block5a_expand_conv -> aux_head_out"));
  g_assert_nonnull (strstr (c->explanation, "Fix: Flatten the nested model 'efficientnet'"));

  /* Flags for the GUI: the path back to the root is red, the call of the model is not. */
  g_assert_true (c->node_flags[b5] & OSH_CONN_DISCONNECTED);
  g_assert_true (c->node_flags[b5] & OSH_CONN_BRIDGE);
  g_assert_true (c->node_flags[c->foreign_roots[0]] & OSH_CONN_FOREIGN_ROOT);
  g_assert_false (c->node_flags[call] & OSH_CONN_DISCONNECTED);
  g_assert_true (c->node_flags[call] & OSH_CONN_COMPUTABLE);
  int b5_layer = g->nodes[b5].layer;
  g_assert_true (c->layer_flags[b5_layer] & OSH_CONN_DISCONNECTED);
  char *inst = osh_connectivity_instance_path (g, b5_layer);
  g_assert_cmpstr (inst, ==, "efficientnet");
  free (inst);

  g_assert_null (osh_fix_find (c, "rewire:aux_head_out")); /* one instance only */
  assert_fix_connects (g, c, "flatten:efficientnet");
  assert_fix_connects (g, c, "add-input:efficientnet/input_2");
  assert_fix_connects (g, c, "drop-branch:aux_head_out");
  osh_connectivity_free (c);
  osh_graph_free (g);
}

static void
test_flatten_keeps_names (void)
{
  OshError err = { 0 };
  int b5;
  OshGraph *g = eg_seed (NULL, &b5);
  eg_add_output (g, "aux_head_out", (OshRef){ b5, 0 });
  OshGraph *flat = osh_graph_flatten_model (g, osh_graph_find_path (g, "efficientnet"), &err);
  g_assert_nonnull (flat);
  g_assert_cmpint (osh_graph_find_path (flat, "efficientnet"), ==, -1);
  g_assert_cmpint (osh_graph_find_path (flat, "input_2"), ==,
                   -1); /* replaced by the call's input */
  int conv = osh_graph_find_path (flat, "block5a_expand_conv");
  g_assert_cmpint (conv, >=, 0);
  g_assert_cmpint (flat->layers[conv].n_weights, ==, 1);
  g_assert_cmpint (flat->n_layers, ==, g->n_layers - 2);
  /* stem_conv now reads input_1 */
  int stem = osh_graph_layer_first_node (flat, osh_graph_find_path (flat, "stem_conv"));
  int in = flat->nodes[stem].inputs[0].node;
  g_assert_cmpstr (flat->layers[flat->nodes[in].layer].name, ==, "input_1");
  g_assert_cmpint (flat->n_outputs, ==, 2);
  OshShape s = flat->nodes[flat->outputs[0].node].shapes[0];
  g_assert_cmpint (s.dim[1], ==, 10);
  osh_graph_free (flat);

  /* An inner name the outer model already has moves in as name_1. */
  eg_conv (g, -1, "top_conv", g->inputs[0], 1, 2);
  flat = osh_graph_flatten_model (g, osh_graph_find_path (g, "efficientnet"), &err);
  g_assert_nonnull (flat);
  int renamed = osh_graph_find_path (flat, "top_conv_1");
  g_assert_cmpint (renamed, >=, 0);
  g_assert_cmpstr (osh_config_string (flat->layers[renamed].config, "name", ""), ==, "top_conv_1");
  g_assert_cmpint (flat->nodes[osh_graph_layer_first_node (flat, renamed)].shapes[0].dim[3], ==,
                   32);
  osh_graph_free (flat);

  /* A model called twice cannot be inlined in one place. */
  int m = osh_graph_find_path (g, "efficientnet");
  int call2 = osh_graph_add_node (g, m, g->inputs, 1, 1, &err);
  g_assert_cmpint (call2, >=, 0);
  g_assert_null (osh_graph_flatten_model (g, m, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "called 2 times"));
  osh_graph_free (g);
}

/* The StackOverflow case: the head reads a second, never-called instance of the backbone. */
static void
test_two_instances (void)
{
  int b5_other;
  OshGraph *g = eg_seed (NULL, NULL);
  eg_backbone (g, -1, "efficientnet_1", "input_3", &b5_other);
  eg_add_output (g, "aux_head_out", (OshRef){ b5_other, 0 });
  OshConnectivity *c = analyze (g);
  g_assert_false (c->connected);
  char *root = node_path (g, c->foreign_roots[0]);
  g_assert_cmpstr (root, ==, "efficientnet_1/input_3");
  free (root);
  g_assert_nonnull (strstr (c->message, "name='input_3'"));
  g_assert_cmpstr (c->fixes[0].id, ==, "rewire:aux_head_out");
  g_assert_nonnull (strstr (c->fixes[0].description, "'efficientnet/block5a_expand_conv'"));
  g_assert_null (
      osh_fix_find (c, "flatten:efficientnet_1")); /* never called: flattening can't help */
  assert_fix_connects (g, c, "rewire:aux_head_out");
  assert_fix_connects (g, c, "drop-branch:aux_head_out");

  /* After the rewire the head reads the instance the inputs feed, and the other is unused. */
  OshError err = { 0 };
  OshGraph *fixed = osh_fix_apply (g, osh_fix_find (c, "rewire:aux_head_out"), &err);
  int aux = osh_graph_layer_first_node (fixed, osh_graph_find_path (fixed, "aux_head_out"));
  char *src = node_path (fixed, fixed->nodes[aux].inputs[0].node);
  g_assert_cmpstr (src, ==, "block5a_expand_conv");
  free (src);
  OshConnectivity *after = analyze (fixed);
  g_assert_cmpint (after->n_unused_layers, ==, 1);
  g_assert_cmpstr (fixed->layers[after->unused_layers[0]].name, ==, "efficientnet_1");
  osh_connectivity_free (after);
  osh_graph_free (fixed);
  osh_connectivity_free (c);
  osh_graph_free (g);
}

/* The connected instance is flattened at the top level and made after the head: the rewired
 * head reads a later node, and the fixed graph is still in the IR's node order. */
static void
test_rewire_to_later_layer (void)
{
  OshError err = { 0 };
  int b5_other;
  OshGraph *g = osh_graph_new ();
  int in = osh_graph_add_layer (g, -1, "input_1", "InputLayer",
                                eg_input_config ("input_1", 32, 32, 3), &err);
  int in_node = eg_node (g, in, NULL, 0, 32, 32, 3);
  eg_backbone (g, -1, "efficientnet_1", "input_3", &b5_other);
  int aux = eg_conv (g, -1, "aux_head_out", (OshRef){ b5_other, 0 }, 1, 1);
  int stem = eg_conv (g, -1, "stem_conv", (OshRef){ in_node, 0 }, 2, 8);
  int b5 = eg_conv (g, -1, "block5a_expand_conv", (OshRef){ stem, 0 }, 2, 16);
  OshRef outs[2] = { { b5, 0 }, { aux, 0 } };
  g_assert_true (osh_graph_set_io (g, -1, &(OshRef){ in_node, 0 }, 1, outs, 2, &err));
  OshConnectivity *c = analyze (g);
  g_assert_cmpstr (c->fixes[0].id, ==, "rewire:aux_head_out");
  OshGraph *fixed = osh_fix_apply (g, &c->fixes[0], &err);
  g_assert_nonnull (fixed);
  for (int n = 0; n < fixed->n_nodes; n++)
    for (int i = 0; i < fixed->nodes[n].n_inputs; i++)
      g_assert_cmpint (fixed->nodes[n].inputs[i].node, <, n);
  OshConnectivity *after = analyze (fixed);
  g_assert_true (after->connected);
  OshGraph *copy = osh_graph_copy (fixed, &err);
  g_assert_nonnull (copy);
  osh_graph_free (copy);
  osh_connectivity_free (after);
  osh_graph_free (fixed);
  osh_connectivity_free (c);
  osh_graph_free (g);
}

/* A branch from a stray top-level Input, and a layer that reaches no output. */
static void
test_dangling_and_unused (void)
{
  OshError err = { 0 };
  OshGraph *g = eg_seed (NULL, NULL);
  int stray = osh_graph_add_layer (g, -1, "input_9", "InputLayer",
                                   eg_input_config ("input_9", 8, 8, 4), &err);
  int stray_node = eg_node (g, stray, NULL, 0, 8, 8, 4);
  eg_add_output (g, "side_out", (OshRef){ stray_node, 0 });
  eg_conv (g, -1, "orphan", g->inputs[0], 1, 2);
  OshConnectivity *c = analyze (g);
  g_assert_false (c->connected);
  g_assert_cmpint (c->n_foreign_roots, ==, 1);
  g_assert_cmpint (c->foreign_roots[0], ==, stray_node);
  g_assert_cmpint (c->n_bridges, ==, 0); /* the branch never touches the computable part */
  g_assert_nonnull (strstr (c->message, "name='input_9'"));
  g_assert_nonnull (strstr (c->message, "at layer \"side_out\""));
  g_assert_cmpint (c->n_unused_layers, ==, 1);
  g_assert_cmpstr (g->layers[c->unused_layers[0]].name, ==, "orphan");
  g_assert_true (c->layer_flags[c->unused_layers[0]] & OSH_CONN_UNUSED);
  assert_fix_connects (g, c, "add-input:input_9");
  assert_fix_connects (g, c, "drop-branch:side_out");
  OshGraph *dropped = osh_fix_apply (g, osh_fix_find (c, "drop-branch:side_out"), &err);
  g_assert_cmpint (osh_graph_find_path (dropped, "side_out"), ==, -1);
  g_assert_cmpint (osh_graph_find_path (dropped, "input_9"), ==, -1);
  g_assert_cmpint (osh_graph_find_path (dropped, "orphan"), >=, 0); /* not ours to remove */
  g_assert_cmpint (dropped->n_outputs, ==, 1);
  osh_graph_free (dropped);
  osh_connectivity_free (c);
  osh_graph_free (g);
}

/* Each disconnected output is explained with its own root and bridge only. */
static void
test_two_problems (void)
{
  OshError err = { 0 };
  int b5;
  OshGraph *g = eg_seed (NULL, &b5);
  eg_add_output (g, "aux_head_out", (OshRef){ b5, 0 });
  int stray = osh_graph_add_layer (g, -1, "input_9", "InputLayer",
                                   eg_input_config ("input_9", 8, 8, 4), &err);
  eg_add_output (g, "side_out", (OshRef){ eg_node (g, stray, NULL, 0, 8, 8, 4), 0 });
  OshConnectivity *c = analyze (g);
  g_assert_cmpint (c->n_foreign_roots, ==, 2);
  char **lines = g_strsplit (c->explanation, "\n", -1);
  g_assert_nonnull (strstr (lines[0], "Output 'aux_head_out'"));
  g_assert_nonnull (strstr (lines[0], "'efficientnet/input_2'"));
  g_assert_null (strstr (lines[0], "input_9"));
  g_assert_nonnull (strstr (lines[1], "Output 'side_out'"));
  g_assert_nonnull (strstr (lines[1], "'input_9'"));
  g_assert_null (strstr (lines[1], "input_2"));
  g_assert_null (strstr (lines[1], "crosses"));
  g_strfreev (lines);
  /* Fixing one problem leaves the other. */
  OshGraph *fixed = osh_fix_apply (g, osh_fix_find (c, "flatten:efficientnet"), &err);
  OshConnectivity *after = analyze (fixed);
  g_assert_false (after->connected);
  g_assert_true (after->output_ok[1]);
  g_assert_false (after->output_ok[2]);
  osh_connectivity_free (after);
  osh_graph_free (fixed);
  osh_connectivity_free (c);
  osh_graph_free (g);
}

static void
test_cycle (void)
{
  OshGraph *g = eg_seed (NULL, NULL);
  int a = eg_conv (g, -1, "loop_a", g->inputs[0], 1, 3);
  int b = eg_conv (g, -1, "loop_b", (OshRef){ a, 0 }, 1, 3);
  g->nodes[a].inputs[0] = (OshRef){ b, 0 }; /* a reads b reads a */
  eg_add_output (g, "loop_out", (OshRef){ b, 0 });
  OshConnectivity *c = analyze (g);
  g_assert_false (c->connected);
  g_assert_cmpint (c->n_cycle_nodes, ==, 2);
  g_assert_true (c->node_flags[a] & OSH_CONN_CYCLE);
  g_assert_true (c->node_flags[b] & OSH_CONN_CYCLE);
  g_assert_nonnull (strstr (c->message, "is part of a cycle."));
  g_assert_nonnull (strstr (c->explanation, "is part of a cycle"));
  osh_connectivity_free (c);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/edit/connectivity/connected-seed", test_connected_seed);
  g_test_add_func ("/edit/connectivity/nested-mistake", test_nested_mistake);
  g_test_add_func ("/edit/connectivity/flatten-keeps-names", test_flatten_keeps_names);
  g_test_add_func ("/edit/connectivity/two-instances", test_two_instances);
  g_test_add_func ("/edit/connectivity/rewire-to-later-layer", test_rewire_to_later_layer);
  g_test_add_func ("/edit/connectivity/dangling-and-unused", test_dangling_and_unused);
  g_test_add_func ("/edit/connectivity/two-problems", test_two_problems);
  g_test_add_func ("/edit/connectivity/cycle", test_cycle);
  return g_test_run ();
}
