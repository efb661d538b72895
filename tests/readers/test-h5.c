/* The Keras .h5 reader on real files: the face_classification models and the dl4j corpus.
 *
 * Expected totals are the sums of every weight dataset's size, from h5py:
 *   /usr/bin/python3 -c "import h5py,sys; f=h5py.File(sys.argv[1]); s=[0,0];
 *     f['model_weights'].visititems(lambda n,o: isinstance(o,h5py.Dataset) and
 *     (s.__setitem__(0,s[0]+o.size), 'moving' in n and s.__setitem__(1,s[1]+o.size))); print(s)" FILE
 * (total, non-trainable). */
#include <string.h>

#include "osh-keras-config.h"
#include "osh-model.h"
#include "osh-test.h"

typedef struct
{
  const char *file;
  int n_layers;
  int64_t total;
  int64_t non_trainable;
  int classes;
} FaceCase;

static const FaceCase face_cases[] = {
  { "fer2013_mini_XCEPTION.102-0.66.hdf5", 46, 58423, 1472, 7 },
  { "fer2013_big_XCEPTION.54-0.66.hdf5", 29, 208871, 2496, 7 },
  { "gender_mini_XCEPTION.21-0.95.hdf5", 46, 52658, 1472, 2 },
  { "tiny_XCEPTION_KDEF.hdf5", 46, 18314, 740, 7 },
};

static OshGraph *
load_corpus (const char *relative, OshError *err)
{
  char *path = osh_test_corpus (relative);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("corpus file absent");
      g_free (path);
      return NULL;
    }
  OshGraph *g = osh_model_load (path, err);
  g_free (path);
  return g;
}

/* Loads a corpus file that must open; NULL (the test skipped) when the corpus is absent. */
static OshGraph *
must_load (const char *relative)
{
  OshError err = { 0 };
  OshGraph *g = load_corpus (relative, &err);
  if (!g && err.code != OSH_OK)
    g_error ("%s", err.message);
  return g;
}

static void
test_face (gconstpointer data)
{
  const FaceCase *fc = data;
  char *rel = g_build_filename ("keras2", "face_classification", fc->file, NULL);
  OshGraph *g = must_load (rel);
  g_free (rel);
  if (!g)
    return;
  g_assert_cmpstr (g->format, ==, "keras-h5");
  g_assert_cmpstr (g->class_name, ==, "Model");
  g_assert_cmpint (g->n_layers, ==, fc->n_layers);
  g_assert_cmpint (g->n_nodes, ==, fc->n_layers);
  int64_t trainable = 0;
  g_assert_cmpint (osh_graph_total_params (g, &trainable), ==, fc->total);
  g_assert_cmpint (fc->total - trainable, ==, fc->non_trainable);

  /* One input, the 64×64 grayscale InputLayer; one output, the softmax over the classes. */
  g_assert_cmpint (g->n_inputs, ==, 1);
  g_assert_cmpint (g->n_outputs, ==, 1);
  OshLayer *in = &g->layers[g->nodes[g->inputs[0].node].layer];
  g_assert_cmpstr (in->class_name, ==, "InputLayer");
  json_t *bis = json_object_get (in->config, "batch_input_shape");
  g_assert_true (json_is_null (json_array_get (bis, 0)));
  g_assert_cmpint (json_integer_value (json_array_get (bis, 1)), ==, 64);
  g_assert_cmpint (json_integer_value (json_array_get (bis, 2)), ==, 64);
  g_assert_cmpint (json_integer_value (json_array_get (bis, 3)), ==, 1);
  OshLayer *out = &g->layers[g->nodes[g->outputs[0].node].layer];
  g_assert_cmpstr (out->name, ==, "predictions");
  g_assert_cmpstr (osh_config_string (out->config, "activation", ""), ==, "softmax");
  /* The classes come from the last convolution's filters (conv → global pooling → softmax). */
  int last_conv = -1;
  for (int i = 0; i < g->n_layers; i++)
    if (strcmp (g->layers[i].class_name, "Conv2D") == 0)
      last_conv = i;
  g_assert_cmpint (last_conv, >=, 0);
  g_assert_cmpint (osh_config_int (g->layers[last_conv].config, "filters", -1), ==, fc->classes);

  /* Stored names differ from layer names ("conv2d_1_1/kernel:0" under "conv2d_1"): bound by position. */
  int conv1 = osh_graph_find_layer (g, -1, "conv2d_1");
  g_assert_cmpint (conv1, >=, 0);
  g_assert_cmpint (g->layers[conv1].n_weights, ==, 1);
  g_assert_true (g_str_has_suffix (g->layers[conv1].weights[0].name, "/kernel:0"));
  /* HWIO: 3×3 on one grey channel, as many filters as the config says. */
  const OshShape *k = &g->layers[conv1].weights[0].value->shape;
  g_assert_cmpint (k->rank, ==, 4);
  g_assert_cmpint (k->dim[0], ==, 3);
  g_assert_cmpint (k->dim[1], ==, 3);
  g_assert_cmpint (k->dim[2], ==, 1);
  g_assert_cmpint (k->dim[3], ==, osh_config_int (g->layers[conv1].config, "filters", -1));

  /* Inferred shapes: (None, 64, 64, 1) in, (None, classes) out. */
  const OshShape *os = &g->nodes[g->outputs[0].node].shapes[g->outputs[0].index];
  OshShape want = osh_shape_make (2, (int64_t[]){ -1, fc->classes });
  g_assert_true (osh_shape_equal (os, &want));
  const OshShape *is = &g->nodes[g->inputs[0].node].shapes[g->inputs[0].index];
  OshShape want_in = osh_shape_make (4, (int64_t[]){ -1, 64, 64, 1 });
  g_assert_true (osh_shape_equal (is, &want_in));
  g_assert_cmpstr (json_string_value (json_object_get (g->meta, "keras_version")), ==, "2.0.5");
  osh_graph_free (g);
}

/* A weight read from the file equals what h5py reads:
 *   f['model_weights/conv2d_1/conv2d_1_1/kernel:0'][0,0,0,:3] */
static void
test_face_values (void)
{
  OshGraph *g = must_load ("keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5");
  if (!g)
    return;
  int conv1 = osh_graph_find_layer (g, -1, "conv2d_1");
  g_assert_cmpstr (g->layers[conv1].weights[0].name, ==, "conv2d_1_1/kernel:0");
  const float *w = g->layers[conv1].weights[0].value->data;
  /* kernel[0,0,0,f] for f = 0..7 sits at stride 1 in HWIO order. */
  g_assert_cmpfloat_with_epsilon (w[0], -4.0057203e-35, 1e-40);
  g_assert_cmpfloat_with_epsilon (w[1], 0.035101954, 1e-7);
  g_assert_cmpfloat_with_epsilon (w[7], -0.12345454, 1e-7);
  int bn = osh_graph_find_layer (g, -1, "batch_normalization_1");
  g_assert_cmpint (g->layers[bn].n_weights, ==, 4);
  g_assert_true (g->layers[bn].weights[0].trainable);
  g_assert_false (g->layers[bn].weights[2].trainable);
  g_assert_false (g->layers[bn].weights[3].trainable);
  g_assert_cmpfloat_with_epsilon (g->layers[bn].weights[3].value->data[1], 8.9111505e-03, 1e-9);
  osh_graph_free (g);
}

static guint8 *
corpus_bytes (const char *relative, gsize *size)
{
  char *path = osh_test_corpus (relative);
  guint8 *data = NULL;
  if (!g_file_get_contents (path, (char **) &data, size, NULL))
    data = NULL;
  g_free (path);
  return data;
}

static void
test_truncated (void)
{
  gsize size = 0;
  guint8 *data =
      corpus_bytes ("keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5", &size);
  if (!data)
    {
      g_test_skip ("corpus file absent");
      return;
    }
  /* Cut at several places: each gives an error naming the file, never a crash. */
  gsize cuts[] = { 8, 100, 2048, size / 3, size / 2, size - 1000, size - 1 };
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      OshError err = { 0 };
      OshGraph *g = osh_model_load_bytes ("cut.h5", data, cuts[i], &err);
      if (g)
        g_error ("a file cut at %zu of %zu bytes loaded", cuts[i], size);
      g_assert_cmpint (err.code, !=, OSH_OK);
      g_assert_nonnull (strstr (err.message, "cut.h5"));
    }
  /* Wrong magic: one byte of the signature changed. */
  data[1] = 'X';
  OshError err = { 0 };
  g_assert_null (osh_model_load_bytes ("bad.h5", data, size, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "not an HDF5 file"));
  g_free (data);
}

static void
test_weights_only (void)
{
  OshError err = { 0 };
  OshGraph *g = load_corpus (
      "keras2/dl4j/examples/simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_weights.h5", &err);
  g_assert_null (g);
  if (err.code == OSH_OK)
    return; /* skipped */
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "holds only weights, no model config"));
  g_assert_nonnull (strstr (err.message, "simple_flatten_lstm_tf_keras_2_weights.h5"));
}

/* A layer of `cls` with `config` holding weights of the given shapes (NULL-ended), checked as a
 * reader checks them: the op's own rule for its weights, the config alone known. */
static bool
check_layer (const char *cls, const char *config, const OshShape *const *shapes, OshError *err)
{
  OshGraph *g = osh_graph_new ();
  int l = osh_graph_add_layer (g, -1, "layer", cls, json_loads (config, 0, NULL), err);
  g_assert_cmpint (l, >=, 0);
  for (int i = 0; shapes[i]; i++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "w%d", i);
      g_assert_true (osh_layer_add_weight (g, l, name, osh_tensor_new (shapes[i], err), true, err));
    }
  bool ok = osh_keras_check_weights (g, l, "m.h5", err);
  osh_graph_free (g);
  return ok;
}

/* The readers check weights by each op's rule (the one its shape inference checks by), so every
 * convolution kind and Dense is checked the same way, before any shape is known. */
static void
test_weight_rules (void)
{
  OshError err = { 0 };
  OshShape k33 = osh_shape_make (4, (int64_t[]){ 3, 3, 2, 5 }),
           b4 = osh_shape_make (1, (int64_t[]){ 4 });
  OshShape dw = osh_shape_make (4, (int64_t[]){ 3, 3, 2, 1 });
  OshShape pw5 = osh_shape_make (4, (int64_t[]){ 1, 1, 2, 5 }),
           pw4 = osh_shape_make (4, (int64_t[]){ 1, 1, 2, 4 });
  OshShape fc = osh_shape_make (2, (int64_t[]){ 3, 4 });
  /* Conv2D: the kernel's last size is the filters. */
  g_assert_false (check_layer ("Conv2D", "{\"filters\": 4, \"kernel_size\": 3}",
                               (const OshShape *const[]){ &k33, &b4, NULL }, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_SHAPE);
  g_assert_nonnull (strstr (err.message, "m.h5: layer 'layer' (Conv2D): weight 0 'w0' has shape "
                                         "(3, 3, 2, 5), the config implies (3, 3, ?, 4)"));
  /* SeparableConv2D (once checked at shape inference only): the pointwise kernel's. */
  const char *sep = "{\"filters\": 4, \"kernel_size\": [3, 3]}";
  g_assert_true (check_layer ("SeparableConv2D", sep,
                              (const OshShape *const[]){ &dw, &pw4, &b4, NULL }, &err));
  g_assert_false (check_layer ("SeparableConv2D", sep,
                               (const OshShape *const[]){ &dw, &pw5, &b4, NULL }, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_SHAPE);
  g_assert_nonnull (strstr (err.message, "weight 1 'w1' has shape (1, 1, 2, 5), the config "
                                         "implies (1, 1, ?, 4)"));
  /* Dense without a bias holding one. */
  g_assert_false (check_layer ("Dense", "{\"units\": 4, \"use_bias\": false}",
                               (const OshShape *const[]){ &fc, &b4, NULL }, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_SHAPE);
  g_assert_nonnull (strstr (err.message, "has 2 weights, the config implies 1 (kernel)"));
  /* Its bias, one per unit. */
  g_assert_false (
      check_layer ("Dense", "{\"units\": 4}", (const OshShape *const[]){ &fc, &k33, NULL }, &err));
  g_assert_nonnull (
      strstr (err.message, "weight 1 'w1' has shape (3, 3, 2, 5), the config implies (4,)"));
}

static void
test_no_model (void)
{
  OshError err = { 0 };
  OshGraph *g = load_corpus (
      "keras2/dl4j/examples/simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_inputs_and_outputs.h5",
      &err);
  g_assert_null (g);
  if (err.code == OSH_OK)
    return;
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, "without a 'model_config' attribute"));
}

/* Theano convolves (flipped kernels); Keras 2 flips them when it loads a theano file into
 * TensorFlow, and so does the reader. The kernel is arange(270) in (3, 3, 5, 6) (h5py:
 * f['model_weights/conv2d_1/conv2d_1/kernel'][2,2,0,0] == 240, [2,1,2,3] == 225). */
static void
test_theano_kernels_flipped (void)
{
  OshGraph *g = must_load ("keras2/dl4j/weights/conv2d_theano_2.h5");
  if (!g)
    return;
  g_assert_true (json_is_true (json_object_get (g->meta, "theano_kernels_flipped")));
  int conv = osh_graph_find_layer (g, -1, "conv2d_1");
  const OshTensor *k = g->layers[conv].weights[0].value;
  g_assert_cmpfloat (k->data[0], ==, 240.0f); /* [0,0,0,0] ← [2,2,0,0] */
  g_assert_cmpfloat (k->data[((0 * 3 + 1) * 5 + 2) * 6 + 3], ==,
                     225.0f); /* [0,1,2,3] ← [2,1,2,3] */
  osh_graph_free (g);
  g = must_load ("keras2/dl4j/weights/conv2d_tensorflow_2.h5");
  g_assert_nonnull (g);
  g_assert_null (json_object_get (g->meta, "theano_kernels_flipped"));
  osh_graph_free (g);
}

/* A Keras 1.2.2 Sequential: Convolution2D(5, 3, 3, dim_ordering='tf') reads as Conv2D with Keras 2
 * keys; the InputLayer Keras would add is named after the first layer. */
static void
test_keras1_normalised (void)
{
  OshGraph *g = must_load ("keras2/dl4j/weights/batch_to_conv2d_theano_1.h5");
  if (!g)
    return;
  g_assert_cmpstr (g->class_name, ==, "Sequential");
  g_assert_cmpstr (g->layers[0].name, ==, "dense_1_input");
  g_assert_cmpstr (g->layers[0].class_name, ==, "InputLayer");
  int conv = osh_graph_find_layer (g, -1, "convolution2d_1");
  const json_t *c = g->layers[conv].config;
  g_assert_cmpstr (g->layers[conv].class_name, ==, "Conv2D");
  g_assert_cmpstr (osh_config_string (c, "keras1_class_name", ""), ==, "Convolution2D");
  int64_t ks[2] = { 0, 0 };
  g_assert_true (osh_config_ints (c, "kernel_size", ks, 2));
  g_assert_cmpint (ks[0], ==, 3);
  g_assert_cmpint (ks[1], ==, 3);
  g_assert_cmpint (osh_config_int (c, "filters", -1), ==, 5);
  g_assert_cmpstr (osh_config_string (c, "padding", ""), ==, "valid");
  g_assert_cmpstr (osh_config_string (c, "data_format", ""), ==, "channels_last");
  g_assert_true (osh_config_bool (c, "use_bias", false));
  g_assert_cmpstr (osh_config_string (c, "kernel_initializer", ""), ==, "glorot_uniform");
  g_assert_null (json_object_get (c, "nb_filter"));
  g_assert_null (json_object_get (c, "dim_ordering"));
  int dense = osh_graph_find_layer (g, -1, "dense_1");
  g_assert_cmpint (osh_config_int (g->layers[dense].config, "units", -1), ==, 490);
  /* Keras 1 BatchNormalization: gamma, beta, running_mean, running_std; the last two are statistics. */
  int bn = osh_graph_find_layer (g, -1, "batchnormalization_1");
  g_assert_cmpint (g->layers[bn].n_weights, ==, 4);
  g_assert_true (g_str_has_suffix (g->layers[bn].weights[0].name, "_gamma"));
  g_assert_false (g->layers[bn].weights[3].trainable);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *paths[] = { "/readers/h5/face-mini-xception", "/readers/h5/face-big-xception",
                          "/readers/h5/face-gender-mini-xception",
                          "/readers/h5/face-tiny-xception-kdef" };
  for (gsize i = 0; i < G_N_ELEMENTS (face_cases); i++)
    g_test_add_data_func (paths[i], &face_cases[i], test_face);
  g_test_add_func ("/readers/h5/face-weight-values", test_face_values);
  g_test_add_func ("/readers/h5/truncated-and-bad-magic", test_truncated);
  g_test_add_func ("/readers/h5/weights-only-file", test_weights_only);
  g_test_add_func ("/readers/h5/data-file-not-a-model", test_no_model);
  g_test_add_func ("/readers/h5/weight-rules", test_weight_rules);
  g_test_add_func ("/readers/h5/theano-kernels-flipped", test_theano_kernels_flipped);
  g_test_add_func ("/readers/h5/keras1-names-normalised", test_keras1_normalised);
  return g_test_run ();
}
