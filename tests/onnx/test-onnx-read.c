/* The ONNX reader on Debian's ONNX conformance data (libonnx-testdata): every model loads or
 * fails with a clear message, and a known model maps onto the IR as osh-onnx.h says. */
#include <string.h>

#include "osh-model.h"
#include "osh-onnx.h"
#include "osh-test.h"

#define TESTDATA "/usr/share/libonnx-testdata/data"

static void
test_basic_conv (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_model_load (TESTDATA "/node/test_basic_conv_with_padding/model.onnx", &err);
  g_assert_nonnull (g);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_cmpint (g->layout, ==, OSH_LAYOUT_CHANNELS_FIRST);
  g_assert_cmpstr (g->format, ==, "onnx");
  /* x and W are graph inputs here; one Conv node computes y. */
  g_assert_cmpint (g->n_inputs, ==, 2);
  g_assert_cmpint (g->n_outputs, ==, 1);
  int conv = g->nodes[g->outputs[0].node].layer;
  g_assert_cmpstr (g->layers[conv].class_name, ==, "Conv");
  int64_t pads[4];
  g_assert_true (osh_config_ints (g->layers[conv].config, "pads", pads, 4));
  g_assert_cmpint (pads[0], ==, 1);
  json_t *shape =
      json_object_get (g->layers[g->nodes[g->inputs[0].node].layer].config, "batch_input_shape");
  g_assert_cmpint (json_array_size (shape), ==, 4);
  g_assert_cmpint (json_integer_value (json_array_get (shape, 2)), ==, 5);
  osh_graph_free (g);
}

static void
test_initializers_become_weights (void)
{
  /* torch.nn.Conv2d exported: weight and bias are initializers of the Conv node. */
  OshError err = { 0 };
  OshGraph *g = osh_model_load (TESTDATA "/pytorch-converted/test_Conv2d/model.onnx", &err);
  g_assert_nonnull (g);
  g_assert_cmpint (g->n_inputs, ==, 1);
  int conv = -1;
  for (int i = 0; i < g->n_layers; i++)
    if (strcmp (g->layers[i].class_name, "Conv") == 0)
      conv = i;
  g_assert_cmpint (conv, >=, 0);
  OshLayer *l = &g->layers[conv];
  g_assert_cmpint (l->n_weights, ==, 2);
  g_assert_cmpint (l->weights[0].value->shape.rank, ==, 4);
  /* x, W, B: an activation, then weights 0 and 1, typed in the IR. */
  g_assert_cmpint (l->n_slots, ==, 3);
  g_assert_cmpint (l->slots[0].kind, ==, OSH_SLOT_ACTIVATION);
  g_assert_cmpint (l->slots[0].index, ==, 0);
  g_assert_cmpint (l->slots[1].kind, ==, OSH_SLOT_WEIGHT);
  g_assert_cmpint (l->slots[1].index, ==, 0);
  g_assert_cmpint (l->slots[2].kind, ==, OSH_SLOT_WEIGHT);
  g_assert_cmpint (l->slots[2].index, ==, 1);
  g_assert_null (json_object_get (l->config, "onnx_inputs"));
  g_assert_cmpint (osh_graph_total_params (g, NULL), ==,
                   osh_tensor_numel (l->weights[0].value) + osh_tensor_numel (l->weights[1].value));
  osh_graph_free (g);
}

/* Loads every model.onnx under one folder of the conformance data. */
static void
sweep (gconstpointer folder)
{
  g_autofree char *root = g_build_filename (TESTDATA, (const char *) folder, NULL);
  GDir *dir = g_dir_open (root, 0, NULL);
  if (!dir)
    {
      g_test_skip ("libonnx-testdata is not installed");
      return;
    }
  int loaded = 0, refused = 0;
  const char *entry;
  while ((entry = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (root, entry, "model.onnx", NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      OshError err = { 0 };
      OshGraph *g = osh_model_load (path, &err);
      if (g)
        {
          loaded++;
          g_assert_cmpint (g->n_outputs, >, 0);
          osh_graph_free (g);
        }
      else
        {
          /* A refusal must name the file and say why. */
          refused++;
          g_assert_nonnull (strstr (err.message, path));
          g_test_message ("refused: %s", err.message);
        }
    }
  g_dir_close (dir);
  g_test_message ("%s: %d loaded, %d refused", (const char *) folder, loaded, refused);
  g_assert_cmpint (loaded, >, 0);
  /* Refusals are rare corner cases (sequence/optional-typed outputs), never the rule. */
  g_assert_cmpint (refused * 20, <, loaded);
}

static void
test_garbage (void)
{
  OshError err = { 0 };
  const char bytes[] = "\x08\x07\x12\xff\xff\xff\xff\x0f garbage";
  OshGraph *g = osh_model_load_bytes ("junk.onnx", bytes, sizeof bytes - 1, &err);
  g_assert_null (g);
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "junk.onnx"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onnx/read/basic-conv", test_basic_conv);
  g_test_add_func ("/onnx/read/initializers-become-weights", test_initializers_become_weights);
  g_test_add_func ("/onnx/read/garbage", test_garbage);
  g_test_add_data_func ("/onnx/read/sweep/node", "node", sweep);
  g_test_add_data_func ("/onnx/read/sweep/pytorch-converted", "pytorch-converted", sweep);
  g_test_add_data_func ("/onnx/read/sweep/pytorch-operator", "pytorch-operator", sweep);
  g_test_add_data_func ("/onnx/read/sweep/simple", "simple", sweep);
  return g_test_run ();
}
