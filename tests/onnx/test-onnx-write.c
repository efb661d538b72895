/* ONNX graphs written back and read again are the same graph: ops, wiring, attributes, weights. */
#include <glib/gstdio.h>
#include <string.h>

#include "osh-model.h"
#include "osh-test.h"

#define TESTDATA "/usr/share/libonnx-testdata/data"

static void
assert_same_graph (const OshGraph *a, const OshGraph *b)
{
  g_assert_cmpint (a->n_layers, ==, b->n_layers);
  g_assert_cmpint (a->n_nodes, ==, b->n_nodes);
  g_assert_cmpint (a->n_inputs, ==, b->n_inputs);
  g_assert_cmpint (a->n_outputs, ==, b->n_outputs);
  for (int i = 0; i < a->n_layers; i++)
    {
      const OshLayer *la = &a->layers[i], *lb = &b->layers[i];
      g_assert_cmpstr (la->class_name, ==, lb->class_name);
      g_assert_cmpint (la->n_weights, ==, lb->n_weights);
      for (int w = 0; w < la->n_weights; w++)
        {
          const OshTensor *ta = la->weights[w].value, *tb = lb->weights[w].value;
          g_assert_true (osh_shape_equal (&ta->shape, &tb->shape));
          g_assert_cmpmem (ta->data, osh_tensor_numel (ta) * 4, tb->data,
                           osh_tensor_numel (tb) * 4);
        }
      /* Attributes survive (the onnx_* bookkeeping keys are rebuilt by the reader). */
      const char *key;
      json_t *v;
      json_object_foreach (la->config, key, v)
        if (strncmp (key, "onnx_", 5) != 0)
          {
            json_t *other = json_object_get (lb->config, key);
            g_assert_nonnull (other);
            if (!json_equal (v, other))
              g_error ("layer %s attribute %s changed", la->name, key);
          }
    }
  for (int i = 0; i < a->n_nodes; i++)
    {
      g_assert_cmpint (a->nodes[i].n_inputs, ==, b->nodes[i].n_inputs);
      for (int k = 0; k < a->nodes[i].n_inputs; k++)
        {
          g_assert_cmpint (a->nodes[i].inputs[k].node, ==, b->nodes[i].inputs[k].node);
          g_assert_cmpint (a->nodes[i].inputs[k].index, ==, b->nodes[i].inputs[k].index);
        }
    }
}

static void
round_trip (gconstpointer model)
{
  g_autofree char *path = g_build_filename (TESTDATA, (const char *) model, "model.onnx", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("libonnx-testdata is not installed");
      return;
    }
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  g_assert_nonnull (g);
  g_autofree char *dir = g_dir_make_tmp ("osh-onnx-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "copy.onnx", NULL);
  g_assert_true (osh_model_save (g, out, &err));
  OshGraph *back = osh_model_load (out, &err);
  if (!back)
    g_error ("%s", err.message);
  assert_same_graph (g, back);
  osh_graph_free (g);
  osh_graph_free (back);
  g_unlink (out);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static const char *models[] = {
    "pytorch-converted/test_Conv2d",           "pytorch-converted/test_Conv2d_depthwise_strided",
    "pytorch-converted/test_BatchNorm2d_eval", "pytorch-converted/test_Linear",
    "pytorch-converted/test_MaxPool2d",        "pytorch-operator/test_operator_flatten",
    "node/test_resize_upsample_scales_linear", "node/test_gemm_default_matrix_bias",
    "simple/test_single_relu_model",
  };
  for (size_t i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *name = g_strdup_printf ("/onnx/write/round-trip/%s", models[i]);
      g_test_add_data_func (name, models[i], round_trip);
    }
  return g_test_run ();
}
