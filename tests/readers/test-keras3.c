/* The Keras 3 .keras reader on the corpus archives. Expected numbers from h5py on the
 * archive's model.weights.h5 (unzip FILE.keras model.weights.h5), e.g.
 *   /usr/bin/python3 -c "import h5py; f=h5py.File('model.weights.h5'); s=[0];
 *     f['layers'].visititems(lambda n,o: s.__setitem__(0, s[0]+getattr(o,'size',0))); print(s,
 *     f['layers/dense_1/vars/1'][:3], f['layers/conv2d/vars/0'][1,2,0,5])" */
#include <string.h>

#include "osh-model.h"
#include "osh-test.h"

typedef struct
{
  const char *file;
  const char *version;
  int64_t total;
  int64_t dense_units;
  float dense_1_bias[3];
  float conv_k_1205; /* conv2d kernel[1, 2, 0, 5] */
} K3Case;

static const K3Case cases[] = {
  { "keras3/fashion_mnist_cnn.keras",
    "3.10.0",
    121930,
    64,
    { -0.08414833f, -0.05013075f, 0.03700736f },
    -0.29934838f },
  { "keras3/mnist_cnn.keras",
    "3.15.1",
    225034,
    128,
    { 0.01990413f, 0.03961541f, -0.01101761f },
    0.19140354f },
};

static void
test_corpus (gconstpointer data)
{
  const K3Case *kc = data;
  char *path = osh_test_corpus (kc->file);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_free (path);
      g_test_skip ("corpus file absent");
      return;
    }
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  g_free (path);
  if (!g)
    g_error ("%s", err.message);
  g_assert_cmpstr (g->format, ==, "keras3");
  g_assert_cmpstr (g->class_name, ==, "Sequential");
  g_assert_cmpint (g->n_layers, ==, 9); /* InputLayer + 8 */
  int64_t trainable = 0;
  g_assert_cmpint (osh_graph_total_params (g, &trainable), ==, kc->total);
  g_assert_cmpint (trainable, ==, kc->total);
  g_assert_cmpstr (json_string_value (json_object_get (g->meta, "keras_version")), ==, kc->version);

  /* Keras 3's batch_shape is read as batch_input_shape (the IR's Keras 2 names). */
  OshLayer *in = &g->layers[g->nodes[g->inputs[0].node].layer];
  g_assert_cmpstr (in->class_name, ==, "InputLayer");
  int64_t dims[4] = { 0 };
  json_t *bis = json_object_get (in->config, "batch_input_shape");
  g_assert_true (json_is_null (json_array_get (bis, 0)));
  for (int i = 1; i < 4; i++)
    dims[i] = json_integer_value (json_array_get (bis, (size_t) i));
  g_assert_cmpint (dims[1], ==, 28);
  g_assert_cmpint (dims[2], ==, 28);
  g_assert_cmpint (dims[3], ==, 1);

  int dense = osh_graph_find_layer (g, -1, "dense");
  g_assert_cmpint (g->layers[dense].weights[0].value->shape.dim[1], ==, kc->dense_units);
  int dense_1 = osh_graph_find_layer (g, -1, "dense_1");
  g_assert_cmpstr (g->layers[dense_1].weights[1].name, ==, "vars/1");
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (g->layers[dense_1].weights[1].value->data[i],
                                    kc->dense_1_bias[i], 1e-8);
  int conv = osh_graph_find_layer (g, -1, "conv2d");
  const OshTensor *k = g->layers[conv].weights[0].value;
  /* HWIO (3, 3, 1, 32): [1, 2, 0, 5] */
  g_assert_cmpfloat_with_epsilon (k->data[((1 * 3 + 2) * 1 + 0) * 32 + 5], kc->conv_k_1205, 1e-8);
  const OshShape *os = &g->nodes[g->outputs[0].node].shapes[0];
  OshShape want = osh_shape_make (2, (int64_t[]){ -1, 10 });
  g_assert_true (osh_shape_equal (os, &want));
  osh_graph_free (g);
}

static void
test_truncated (void)
{
  char *path = osh_test_corpus (cases[0].file);
  guint8 *data = NULL;
  gsize size = 0;
  if (!g_file_get_contents (path, (char **) &data, &size, NULL))
    {
      g_free (path);
      g_test_skip ("corpus file absent");
      return;
    }
  g_free (path);
  gsize cuts[] = { 4, 100, size / 2, size - 30 };
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      OshError err = { 0 };
      g_assert_null (osh_model_load_bytes ("cut.keras", data, cuts[i], &err));
      g_assert_cmpint (err.code, !=, OSH_OK);
      g_assert_nonnull (strstr (err.message, "cut.keras"));
    }
  g_free (data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/readers/keras3/fashion-mnist-cnn", &cases[0], test_corpus);
  g_test_add_data_func ("/readers/keras3/mnist-cnn", &cases[1], test_corpus);
  g_test_add_func ("/readers/keras3/truncated", test_truncated);
  return g_test_run ();
}
