/* "Graph disconnected" on ONNX files: a tensor that nothing produces (a head reading a tensor of
 * another graph, a graph input removed) loads, is explained (node, tensor, path) and fixed. The
 * broken files are written by Offshoot's own writer from a real PyTorch export and read back, so
 * the reader meets them as bytes, exactly as a user's file. */
#include <glib/gstdio.h>
#include <string.h>

#include "osh-connectivity.h"
#include "osh-exec.h"
#include "osh-fixes.h"
#include "osh-heads.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-onnx.h"
#include "osh-shapes.h"
#include "osh-test.h"

#define AT "/features/features.2/block/block.1/block.1.2/Relu"

static OshGraph *
load_fixture (const char *name)
{
  g_autofree char *path = osh_test_fixture (name);
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  if (!g)
    g_error ("%s", err.message);
  return g;
}

/* Writes `g` as .onnx and reads it back. */
static OshGraph *
through_file (OshGraph *g)
{
  g_autofree char *dir = g_dir_make_tmp ("osh-onnx-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "broken.onnx", NULL);
  OshError err = { 0 };
  if (!osh_model_save (g, path, &err))
    g_error ("%s", err.message);
  osh_graph_free (g);
  OshGraph *back = osh_model_load (path, &err);
  if (!back)
    g_error ("%s", err.message);
  g_unlink (path);
  g_rmdir (dir);
  return back;
}

static OshGraph *
with_seed_head (const OshGraph *g)
{
  OshHeadSpec spec;
  OshError err = { 0 };
  g_assert_true (osh_head_parse ("seg:16:1", &spec, &err));
  OshGraph *h = osh_head_attach (g, AT, &spec, OSH_ATTACH_CONNECTED, NULL, &err);
  if (!h)
    g_error ("%s", err.message);
  return h;
}

/* Runs `g` on the fixture's input; returns its outputs (caller frees). */
static void
run (const OshGraph *g, OshTensor **outs)
{
  g_autofree char *xp = osh_test_fixture ("onnx/fixtures/mobilenet_v3_small_x025.input.npy");
  OshError err = { 0 };
  OshTensor *x = osh_npy_read (xp, &err);
  OshExecOptions opt = osh_exec_options_default ();
  OshPlan *p = x ? osh_plan_new (g, &opt, &err) : NULL;
  if (!p || !osh_plan_run (p, (const OshTensor *[]){ x }, 1, outs, &err))
    g_error ("%s", err.message);
  osh_plan_free (p);
  osh_tensor_free (x);
}

static int
layer_node (const OshGraph *g, const char *name)
{
  return osh_graph_layer_first_node (g, osh_graph_find_layer (g, -1, name));
}

/* The head reads "backbone/<tensor>": a tensor of another copy of the network. */
static void
test_head_on_a_tensor_of_another_graph (void)
{
  OshGraph *base = load_fixture ("onnx/fixtures/mobilenet_v3_small_x025.onnx");
  OshGraph *h = with_seed_head (base);
  OshTensor *want[2] = { 0 };
  run (h, want);

  OshError err = { 0 };
  char *tensor = osh_onnx_tensor_name (h, (OshRef){ layer_node (h, AT), 0 });
  g_autofree char *foreign = g_strdup_printf ("backbone/%s", tensor);
  free (tensor);
  int root_layer =
      osh_graph_add_layer (h, -1, foreign, "InputLayer",
                           json_pack ("{s:n, s:b, s:[s]}", "batch_input_shape",
                                      OSH_INPUT_UNPRODUCED, 1, OSH_ONNX_OUTPUT_NAMES, foreign),
                           &err);
  int root = osh_graph_add_node (h, root_layer, NULL, 0, 1, &err);
  g_assert_cmpint (root, >=, 0);
  h->nodes[layer_node (h, "aux_head_conv")].inputs[0] = (OshRef){ root, 0 };
  OshGraph *g = through_file (h);

  OshConnectivity *c = osh_connectivity_analyze (g, &err);
  g_assert_nonnull (c);
  g_assert_false (c->connected);
  g_assert_true (c->output_ok[0]);
  g_assert_false (c->output_ok[1]);
  g_autofree char *msg = g_strdup_printf ("Graph disconnected: node 'aux_head_conv' (Conv) reads "
                                          "tensor '%s', which no node of this graph produces",
                                          foreign);
  g_assert_nonnull (strstr (c->message, msg));
  g_assert_nonnull (strstr (c->explanation, "Output 'aux_head_out' cannot be computed"));
  g_assert_cmpint (c->n_foreign_roots, ==, 1);
  g_assert_cmpstr (g->layers[g->nodes[c->foreign_roots[0]].layer].name, ==, foreign);
  /* The red path: the head, not the backbone. */
  for (const char *const *n = (const char *const[]){ "aux_head_conv", "aux_head_bn",
                                                     "aux_head_relu", "aux_head_out", NULL };
       *n; n++)
    g_assert_true (c->node_flags[layer_node (g, *n)] & OSH_CONN_DISCONNECTED);
  g_assert_false (c->node_flags[layer_node (g, AT)] & OSH_CONN_DISCONNECTED);
  g_assert_true (c->node_flags[layer_node (g, AT)] & OSH_CONN_COMPUTABLE);

  /* Fixes: re-point at the same-named tensor here (first), or drop the branch; no add-input,
   * since the file gives the missing tensor no shape. */
  g_assert_cmpint (c->n_fixes, ==, 2);
  g_assert_cmpstr (c->fixes[0].id, ==, "rewire:aux_head_conv");
  g_assert_cmpstr (c->fixes[1].id, ==, "drop-branch:aux_head_out");
  g_assert_nonnull (strstr (c->explanation, "Fix: Feed 'aux_head_conv' from the tensor"));

  OshGraph *fixed = osh_fix_apply (g, &c->fixes[0], &err);
  g_assert_nonnull (fixed);
  OshConnectivity *fc = osh_connectivity_analyze (fixed, &err);
  g_assert_true (fc->connected);
  g_assert_cmpint (fc->n_unused_layers, ==, 0); /* the missing tensor went with the rewire */
  OshTensor *got[2] = { 0 };
  g_assert_true (osh_graph_infer_shapes (fixed, &err));
  run (fixed, got);
  for (int i = 0; i < 2; i++)
    {
      g_assert_true (osh_shape_equal (&got[i]->shape, &want[i]->shape));
      g_assert_cmpmem (got[i]->data, osh_tensor_numel (got[i]) * 4, want[i]->data,
                       osh_tensor_numel (want[i]) * 4);
      osh_tensor_free (got[i]);
    }
  OshGraph *dropped = osh_fix_apply (g, &c->fixes[1], &err);
  g_assert_nonnull (dropped);
  OshConnectivity *dc = osh_connectivity_analyze (dropped, &err);
  g_assert_true (dc->connected);
  g_assert_cmpint (dropped->n_outputs, ==, 1);

  osh_connectivity_free (dc);
  osh_connectivity_free (fc);
  osh_connectivity_free (c);
  osh_graph_free (dropped);
  osh_graph_free (fixed);
  osh_graph_free (g);
  for (int i = 0; i < 2; i++)
    osh_tensor_free (want[i]);
  osh_graph_free (base);
}

/* The graph input is taken out of the file: every node behind it is disconnected. */
static void
test_graph_input_removed (void)
{
  OshGraph *g = load_fixture ("onnx/fixtures/mobilenet_v3_small_x025.onnx");
  OshError err = { 0 };
  g_assert_true (osh_graph_set_io (g, -1, NULL, 0, g->outputs, g->n_outputs, &err));
  g = through_file (g);
  OshConnectivity *c = osh_connectivity_analyze (g, &err);
  g_assert_nonnull (c);
  g_assert_false (c->connected);
  g_assert_cmpint (c->n_foreign_roots, ==, 1);
  g_assert_cmpstr (g->layers[g->nodes[c->foreign_roots[0]].layer].name, ==, "input");
  g_assert_nonnull (strstr (c->message, "node '/features/features.0/features.0.0/Conv' (Conv) "
                                        "reads tensor 'input', which no node"));
  g_assert_nonnull (strstr (c->explanation, "It depends on the tensor 'input'"));
  g_assert_cmpint (c->n_fixes, ==, 0);
  osh_connectivity_free (c);
  osh_graph_free (g);
}

/* A node reading a tensor that only a later node makes is still an error (not a dangling one). */
int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onnx/disconnected/head-on-a-tensor-of-another-graph",
                   test_head_on_a_tensor_of_another_graph);
  g_test_add_func ("/onnx/disconnected/graph-input-removed", test_graph_input_removed);
  return g_test_run ();
}
