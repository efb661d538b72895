/* The model writers: Keras configs, the .h5 / .keras / model.json layouts as independent
 * readers see them (h5py, Python's zipfile, tfjs), and atomic saving. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "built-models.h"
#include "osh-connectivity.h"
#include "osh-fixes.h"
#include "osh-model.h"
#include "osh-test.h"
#include "osh-write-config.h"
#include "osh-write-names.h"
#include "references.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static char *
tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("osh-writers-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (!d)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_tree (p);
      else
        g_unlink (p);
      g_free (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

static char *
sha256_of (const OshTensor *t)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) t->data,
                                      (gsize) osh_tensor_numel (t) * sizeof (float));
}

/* A graph saved as `name` in a fresh temporary folder (removed by tmp_file_free). */
typedef struct
{
  char *dir, *path;
} TmpFile;

static TmpFile
saved (const OshGraph *g, const char *name)
{
  TmpFile t = { tmp_dir (), NULL };
  t.path = g_build_filename (t.dir, name, NULL);
  OshError err = { 0 };
  if (!osh_model_save (g, t.path, &err))
    g_error ("saving %s: %s", name, err.message);
  return t;
}

static void
tmp_file_free (TmpFile *t)
{
  remove_tree (t->dir);
  g_free (t->dir);
  g_free (t->path);
}

/* The reference's SHA-256 of a dataset equals ours of weight `index` of layer `path`. */
static void
assert_same_bits (const json_t *datasets, const char *key, const OshGraph *g, const char *path,
                  int index)
{
  int l = osh_graph_find_path (g, path);
  g_assert_cmpint (l, >=, 0);
  char *sha = sha256_of (g->layers[l].weights[index].value);
  const json_t *d = json_object_get (datasets, key);
  if (!d)
    g_error ("no dataset '%s' for %s weight %d", key, path, index);
  g_assert_cmpstr (json_string_value (json_object_get (d, "sha256")), ==, sha);
  g_assert_cmpstr (json_string_value (json_object_get (d, "dtype")), ==, "float32");
  g_free (sha);
}

/* osh_write_model_config with a scope made for `g` and dropped again. */
static json_t *
model_config (const OshGraph *g, OshKerasConfigStyle style)
{
  OshError err = { 0 };
  OshWriteScope scope;
  g_assert_true (osh_write_scope_init (&scope, g, &err));
  json_t *c = osh_write_model_config (&scope, style, &err);
  osh_write_scope_clear (&scope);
  if (!c)
    g_error ("%s", err.message);
  return c;
}

static const char *
str_at (const json_t *v, const char *path)
{
  /* "a.b.0.c": objects by key, arrays by index */
  char **parts = g_strsplit (path, ".", -1);
  const json_t *cur = v;
  for (int i = 0; parts[i] && cur; i++)
    cur = json_is_array (cur) ? json_array_get (cur, (size_t) atoi (parts[i]))
                              : json_object_get (cur, parts[i]);
  g_strfreev (parts);
  return json_string_value (cur);
}

/* ---- the config ------------------------------------------------------------------------- */

static void
test_config_keras2 (void)
{
  OshGraph *g = build_functional ();
  json_t *c = model_config (g, OSH_KERAS_CONFIG_2);
  g_assert_nonnull (c);
  g_assert_cmpstr (str_at (c, "class_name"), ==, "Model");
  json_t *layers = json_object_get (json_object_get (c, "config"), "layers");
  g_assert_cmpint (json_array_size (layers), ==, 7); /* the outer model's own layers */
  g_assert_cmpstr (str_at (layers, "1.class_name"), ==, "Functional");
  g_assert_cmpstr (str_at (layers, "1.config.layers.1.name"), ==, "conv");
  /* inner wiring refers to the inner input */
  g_assert_cmpstr (str_at (layers, "1.config.layers.1.inbound_nodes.0.0.0"), ==, "bb_in");
  g_assert_cmpstr (str_at (layers, "1.config.input_layers.0.0"), ==, "bb_in");
  /* a nested model's first call is its node 1 in Keras 2 and tfjs (node 0 is its own) */
  json_t *gap_in = json_array_get (
      json_array_get (json_object_get (json_array_get (layers, 2), "inbound_nodes"), 0), 0);
  g_assert_cmpint (json_integer_value (json_array_get (gap_in, 1)), ==, 1);
  /* Add takes two tensors in one call */
  json_t *add_call =
      json_array_get (json_object_get (json_array_get (layers, 5), "inbound_nodes"), 0);
  g_assert_cmpint (json_array_size (add_call), ==, 2);
  g_assert_cmpstr (str_at (add_call, "1.0"), ==, "proj");
  /* the shared head: two calls, and the second output names node 1 */
  g_assert_cmpint (json_array_size (json_object_get (json_array_get (layers, 6), "inbound_nodes")),
                   ==, 2);
  json_t *outs = json_object_get (json_object_get (c, "config"), "output_layers");
  char *text = json_dumps (outs, JSON_COMPACT);
  g_assert_cmpstr (text, ==, "[[\"head\",0,0],[\"head\",1,0]]");
  free (text);
  g_assert_true (json_is_true (
      json_object_get (json_object_get (json_array_get (layers, 6), "config"), "trainable")));
  json_decref (c);
  osh_graph_free (g);
}

static void
test_config_keras3 (void)
{
  OshGraph *g = build_functional ();
  json_t *c = model_config (g, OSH_KERAS_CONFIG_3);
  g_assert_nonnull (c);
  g_assert_cmpstr (str_at (c, "class_name"), ==, "Functional");
  g_assert_cmpstr (str_at (c, "module"), ==, "keras.src.models.functional");
  json_t *layers = json_object_get (json_object_get (c, "config"), "layers");
  /* InputLayer uses batch_shape in Keras 3 */
  g_assert_nonnull (
      json_object_get (json_object_get (json_array_get (layers, 0), "config"), "batch_shape"));
  g_assert_cmpstr (str_at (layers, "2.inbound_nodes.0.args.0.class_name"), ==, "__keras_tensor__");
  g_assert_cmpstr (str_at (layers, "2.inbound_nodes.0.args.0.config.keras_history.0"), ==,
                   "backbone");
  /* a multi-input layer gets one list argument */
  g_assert_cmpstr (str_at (layers, "5.inbound_nodes.0.args.0.1.config.keras_history.0"), ==,
                   "proj");
  g_assert_cmpstr (str_at (layers, "1.registered_name"), ==, "Functional");
  json_decref (c);
  osh_graph_free (g);

  /* Keras 3 Sequential in, Keras 2 form out: chain kept, dtype policy flattened */
  g = build_sequential ();
  c = model_config (g, OSH_KERAS_CONFIG_2);
  g_assert_cmpstr (str_at (c, "class_name"), ==, "Sequential");
  g_assert_cmpstr (str_at (c, "config.layers.1.config.dtype"), ==, "float32");
  g_assert_null (json_object_get (
      json_array_get (json_object_get (json_object_get (c, "config"), "layers"), 1),
      "inbound_nodes"));
  g_assert_nonnull (json_object_get (
      json_object_get (
          json_array_get (json_object_get (json_object_get (c, "config"), "layers"), 0), "config"),
      "batch_input_shape"));
  json_decref (c);

  /* a second head on a Sequential: no longer a chain, so a functional Model */
  OshError err = { 0 };
  int d2 = osh_graph_add_layer (g, -1, "aux", "Dense", json_pack ("{s:i}", "units", 1), &err);
  int d2_n =
      osh_graph_add_node (g, d2, &(OshRef){ osh_graph_layer_first_node (g, 1), 0 }, 1, 1, &err);
  OshRef outs[2] = { g->outputs[0], { d2_n, 0 } };
  g_assert_true (osh_graph_set_io (g, -1, g->inputs, 1, outs, 2, &err));
  c = model_config (g, OSH_KERAS_CONFIG_2);
  g_assert_cmpstr (str_at (c, "class_name"), ==, "Model");
  g_assert_cmpstr (str_at (c, "config.layers.3.inbound_nodes.0.0.0"), ==, "dense");
  g_assert_cmpstr (str_at (c, "config.output_layers.1.0"), ==, "aux");
  json_decref (c);
  osh_graph_free (g);
}

static void
test_names (void)
{
  char buf[128];
  const char *cases[][2] = {
    { "Conv2D", "conv2d" },
    { "BatchNormalization", "batch_normalization" },
    { "GlobalAveragePooling2D", "global_average_pooling2d" },
    { "SeparableConv2D", "separable_conv2d" },
    { "InputLayer", "input_layer" },
    { "PReLU", "p_re_lu" },
    { "Functional", "functional" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      osh_keras3_snake_case (cases[i][0], buf, sizeof buf);
      g_assert_cmpstr (buf, ==, cases[i][1]);
    }
  OshKeras3Keys keys;
  g_assert_true (osh_keras3_keys_init (&keys, 4));
  const char *order[][2] = {
    { "Conv2D", "conv2d" }, { "Dense", "dense" }, { "Conv2D", "conv2d_1" }, { "Conv2D", "conv2d_2" }
  };
  for (size_t i = 0; i < G_N_ELEMENTS (order); i++)
    {
      osh_keras3_key (&keys, order[i][0], buf, sizeof buf);
      g_assert_cmpstr (buf, ==, order[i][1]);
    }
  osh_keras3_keys_clear (&keys);
  OshGraph *g = build_sequential ();
  char *n = osh_weight_h5_name (g, 1, 1);
  g_assert_cmpstr (n, ==, "dense/bias:0"); /* "vars/1" has no role: taken from Dense's table */
  free (n);
  n = osh_weight_tfjs_name (g, 2, 0);
  g_assert_cmpstr (n, ==, "dense_1/kernel");
  free (n);
  /* a class without a table: the stored name past its layer part, as tfjs names wrappers */
  free (g->layers[1].class_name);
  g->layers[1].class_name = strdup ("Bidirectional");
  free (g->layers[1].weights[0].name);
  g->layers[1].weights[0].name = strdup ("bidirectional_1/forward_lstm_1/kernel:0");
  n = osh_weight_tfjs_name (g, 1, 0);
  g_assert_cmpstr (n, ==, "dense/forward_lstm_1/kernel");
  free (n);
  n = osh_weight_tfjs_name (g, 1, 1); /* "vars/1": no role to be had */
  g_assert_cmpstr (n, ==, "dense/weight_1");
  free (n);
  osh_graph_free (g);
  g = build_functional ();
  n = osh_weight_h5_name (g, osh_graph_find_path (g, "backbone/conv"), 0);
  g_assert_cmpstr (n, ==, "conv_1/kernel:0"); /* kept as stored */
  free (n);
  n = osh_weight_tfjs_name (g, osh_graph_find_path (g, "backbone/bn"), 3);
  g_assert_cmpstr (n, ==, "bn/moving_variance");
  free (n);
  osh_graph_free (g);
}

/* ---- the files, as independent readers see them ---------------------------------------- */

static void
test_h5_layout (void)
{
  OshGraph *g = build_functional ();
  TmpFile f = saved (g, "m.h5");
  json_t *s = h5py_summary (f.path, false);
  g_assert_cmpstr (str_at (s, "attrs.backend"), ==, "tensorflow");
  g_assert_cmpstr (str_at (s, "attrs.keras_version"), ==, "2.15.0");
  g_assert_cmpstr (str_at (s, "attr_kinds.model_config"), ==, "fixed-string");
  g_assert_cmpstr (str_at (s, "model_config.class_name"), ==, "Model");
  g_assert_cmpstr (str_at (s, "model_weights_attrs.backend"), ==, "tensorflow");
  char *names = json_dumps (json_object_get (s, "layer_names"), JSON_COMPACT);
  g_assert_cmpstr (names, ==,
                   "[\"img\",\"backbone\",\"gap\",\"flatten\",\"proj\",\"add\",\"head\"]");
  free (names);
  /* the nested model's group holds its sub-tree's weights under their stored names */
  json_t *bb = json_object_get (json_object_get (s, "layers"), "backbone");
  names = json_dumps (json_object_get (bb, "weight_names"), JSON_COMPACT);
  g_assert_cmpstr (names, ==,
                   "[\"conv_1/kernel:0\",\"conv_1/bias:0\",\"bn/gamma:0\",\"bn/beta:0\","
                   "\"bn/moving_mean:0\",\"bn/moving_variance:0\"]");
  free (names);
  g_assert_cmpstr (str_at (bb, "weight_names_dtype"), ==, "|S20");
  json_t *bb_data = json_object_get (bb, "datasets");
  assert_same_bits (bb_data, "conv_1/kernel:0", g, "backbone/conv", 0);
  assert_same_bits (bb_data, "bn/moving_variance:0", g, "backbone/bn", 3);
  /* layers without weights: an empty list, as Keras leaves it */
  g_assert_cmpint (json_array_size (json_object_get (
                       json_object_get (json_object_get (s, "layers"), "gap"), "weight_names")),
                   ==, 0);
  json_t *head = json_object_get (json_object_get (s, "layers"), "head");
  assert_same_bits (json_object_get (head, "datasets"), "head/bias:0", g, "head", 1);
  json_decref (s);
  tmp_file_free (&f);
  osh_graph_free (g);
}

static void
test_keras3_layout (void)
{
  OshGraph *g = build_functional ();
  TmpFile f = saved (g, "m.keras");
  json_t *s = h5py_summary (f.path, true);
  char *entries = json_dumps (json_object_get (s, "entries"), JSON_COMPACT);
  g_assert_cmpstr (entries, ==, "[\"metadata.json\",\"config.json\",\"model.weights.h5\"]");
  free (entries);
  g_assert_cmpstr (str_at (s, "metadata.keras_version"), ==, "3.10.0");
  g_assert_nonnull (str_at (s, "metadata.date_saved"));
  g_assert_cmpstr (str_at (s, "config.class_name"), ==, "Functional");
  /* weights by class and position, nested models under their own layers/ */
  json_t *ds = json_object_get (s, "datasets");
  g_assert_cmpint (json_object_size (ds), ==, 10);
  assert_same_bits (ds, "layers/functional/layers/batch_normalization/vars/3", g, "backbone/bn", 3);
  assert_same_bits (ds, "layers/functional/layers/conv2d/vars/0", g, "backbone/conv", 0);
  assert_same_bits (ds, "layers/dense/vars/1", g, "proj", 1);
  assert_same_bits (ds, "layers/dense_1/vars/0", g, "head", 0);
  json_decref (s);
  tmp_file_free (&f);
  osh_graph_free (g);

  /* the Sequential: its InputLayer is in the config but has no weights entry */
  g = build_sequential ();
  f = saved (g, "m.keras");
  s = h5py_summary (f.path, true);
  g_assert_cmpstr (str_at (s, "config.class_name"), ==, "Sequential");
  g_assert_cmpstr (str_at (s, "config.config.layers.0.class_name"), ==, "InputLayer");
  ds = json_object_get (s, "datasets");
  g_assert_cmpint (json_object_size (ds), ==, 4);
  assert_same_bits (ds, "layers/dense_1/vars/1", g, "dense_1", 1);
  json_decref (s);
  tmp_file_free (&f);
  osh_graph_free (g);
}

/* A 3x3x1 image x[i] = step * i + start, and the same as tfjs input JSON (batch of one). */
static GString *
image_input (float x[9], float step, float start)
{
  GString *input = g_string_new ("[[");
  for (int i = 0; i < 9; i++)
    {
      x[i] = step * (float) i + start;
      g_string_append_printf (input, "%s[%g]%s%s", i % 3 == 0 ? "[" : "", x[i],
                              i % 3 == 2 ? "]" : "", i < 8 ? "," : "]]");
    }
  return input;
}

static void
assert_outputs (const json_t *got, const float *want, int n)
{
  g_assert_cmpint (json_array_size (got), ==, n);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (json_real_value (json_array_get (got, (size_t) i)), want[i],
                                    1e-5);
}

static void
test_tfjs_predicts (void)
{
  OshGraph *g = build_functional ();
  TmpFile f = saved (g, "model.json");
  char *shard = g_build_filename (f.dir, "group1-shard1of1.bin", NULL);
  g_assert_true (g_file_test (shard, G_FILE_TEST_EXISTS));
  g_free (shard);

  float x[9];
  GString *input = image_input (x, 0.25f, -1.0f);
  json_t *r = tfjs_predict (f.path, input->str);
  g_string_free (input, TRUE);
  g_assert_cmpint (json_integer_value (json_object_get (r, "params")), ==,
                   osh_graph_total_params (g, NULL));
  g_assert_cmpstr (str_at (r, "layers.1.class_name"), ==, "Functional");
  float want1[3], want2[3];
  functional_expected (g, x, want1, want2);
  assert_outputs (json_array_get (json_object_get (r, "outputs"), 0), want1, 3);
  assert_outputs (json_array_get (json_object_get (r, "outputs"), 1), want2, 3);
  json_decref (r);
  tmp_file_free (&f);
  osh_graph_free (g);

  /* a nested Sequential called twice: its calls are nodes 1 and 2 in the config */
  g = build_siamese ();
  f = saved (g, "model.json");
  const float left[6] = { 0.1f, -0.2f, 0.3f, 0.5f, -0.7f, 0.9f };
  const float right[6] = { -0.4f, 0.8f, 0.2f, -0.1f, 0.6f, -0.3f };
  float want_s[2];
  siamese_expected (g, left, right, want_s);
  r = tfjs_predict (
      f.path,
      "{\"inputs\": [[[0.1, -0.2, 0.3, 0.5, -0.7, 0.9]], [[-0.4, 0.8, 0.2, -0.1, 0.6, -0.3]]]}");
  g_assert_cmpstr (str_at (r, "layers.2.class_name"), ==, "Sequential");
  assert_outputs (json_array_get (json_object_get (r, "outputs"), 0), want_s, 2);
  json_decref (r);
  tmp_file_free (&f);
  osh_graph_free (g);

  g = build_sequential ();
  f = saved (g, "model.json");
  float xs[4] = { 0.5f, -1.0f, 2.0f, 0.25f }, want[2];
  sequential_expected (g, xs, want);
  r = tfjs_predict (f.path, "[[0.5, -1.0, 2.0, 0.25]]");
  g_assert_cmpstr (str_at (r, "weights.0"), ==, "dense/kernel");
  /* tf.keras 2 keeps the InputLayer in a Sequential config, and tfjs takes it so */
  g_assert_cmpstr (str_at (r, "layers.0.class_name"), ==, "InputLayer");
  g_assert_cmpstr (str_at (r, "layers.1.class_name"), ==, "Dense");
  assert_outputs (json_array_get (json_object_get (r, "outputs"), 0), want, 2);
  json_decref (r);
  tmp_file_free (&f);
  osh_graph_free (g);
}

/* tfjs finds weights by "<layer>/<role>": a nested layer named like an outer one would
 * take the other's weights, so the writer refuses and names both. */
static void
test_tfjs_duplicate_names (void)
{
  OshGraph *g = build_functional ();
  int conv = osh_graph_find_path (g, "backbone/conv");
  g_assert_true (osh_graph_rename_layer (g, conv, "proj", NULL));
  char *dir = tmp_dir ();
  char *path = g_build_filename (dir, "model.json", NULL);
  OshError err = { 0 };
  g_assert_false (osh_model_save (g, path, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_nonnull (
      strstr (err.message, "layers 'backbone/proj' and 'proj' would both store weight"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  /* the Keras formats keep layers apart by their groups: fine there */
  g_free (path);
  path = g_build_filename (dir, "m.h5", NULL);
  g_assert_true (osh_model_save (g, path, &err));
  remove_tree (dir);
  g_free (path);
  g_free (dir);
  osh_graph_free (g);
}

/* Graphs made by edits export too: the backbone flattened (same outputs), and the
 * disconnected graph repaired by flattening around the inner layer. tfjs runs both. */
static void
test_tfjs_edited_graphs (void)
{
  OshError err = { 0 };
  float x[9];
  GString *input = image_input (x, 0.3f, -1.1f);
  OshGraph *g = build_functional ();
  OshGraph *flat = osh_graph_flatten_model (g, osh_graph_find_path (g, "backbone"), &err);
  g_assert_nonnull (flat);
  OshGraph *bad = build_functional ();
  break_functional (bad);
  OshConnectivity *c = osh_connectivity_analyze (bad, &err);
  g_assert_nonnull (c);
  g_assert_false (c->connected);
  osh_connectivity_free (c);
  /* the StackOverflow answer's repair: take the inner tensor from a flattened backbone */
  OshGraph *fixed = osh_graph_flatten_around (bad, "backbone/conv", &err);
  g_assert_nonnull (fixed);
  c = osh_connectivity_analyze (fixed, &err);
  g_assert_true (c->connected);
  osh_connectivity_free (c);

  const OshGraph *cases[2] = { flat, fixed };
  for (int k = 0; k < 2; k++)
    {
      TmpFile f = saved (cases[k], "model.json");
      json_t *r = tfjs_predict (f.path, input->str);
      /* after the repair, bn reaches no output: Keras would not save it, nor do we */
      int64_t dropped =
          k == 1 ? osh_graph_layer_params (cases[k], osh_graph_find_path (cases[k], "bn"), NULL)
                 : 0;
      g_assert_cmpint (dropped, ==, k == 1 ? 8 : 0);
      g_assert_cmpint (json_integer_value (json_object_get (r, "params")), ==,
                       osh_graph_total_params (cases[k], NULL) - dropped);
      char *layers = json_dumps (json_object_get (r, "layers"), JSON_COMPACT);
      g_assert_true ((strstr (layers, "\"bn\"") != NULL) == (k == 0));
      free (layers);
      g_assert_cmpstr (str_at (r, "layers.1.name"), ==, "conv"); /* inlined under its own name */
      float want1[3], want2[3];
      functional_expected_ex (cases[k], x, k == 1, want1, want2);
      assert_outputs (json_array_get (json_object_get (r, "outputs"), 0), want1, 3);
      assert_outputs (json_array_get (json_object_get (r, "outputs"), 1), want2, 3);
      json_decref (r);
      tmp_file_free (&f);
    }
  g_string_free (input, TRUE);
  osh_graph_free (fixed);
  osh_graph_free (bad);
  osh_graph_free (flat);
  osh_graph_free (g);
}

/* ---- atomic saving ---------------------------------------------------------------------- */

static char *
read_all (const char *path, gsize *len)
{
  char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, len, NULL));
  return data;
}

/* A graph whose export fails (a head wired to a tensor inside a nested model, as in the
 * StackOverflow case) leaves an existing target untouched and no temporary file behind. */
static void
test_failed_save_keeps_target (void)
{
  const char *names[] = { "m.h5", "m.keras", "model.json" };
  char *dir = tmp_dir ();
  OshError err = { 0 };
  OshGraph *good = build_functional ();
  OshGraph *bad = build_functional ();
  break_functional (bad);
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = g_build_filename (dir, names[i], NULL);
      g_assert_true (osh_model_save (good, path, &err));
      gsize before_len, after_len;
      char *before = read_all (path, &before_len);
      g_assert_false (osh_model_save (bad, path, &err));
      g_assert_cmpint (err.code, ==, OSH_ERR_DISCONNECTED);
      g_assert_nonnull (
          strstr (err.message, "layer 'gap' takes the output of layer 'backbone/conv'"));
      char *after = read_all (path, &after_len);
      g_assert_cmpmem (before, before_len, after, after_len);
      g_free (before);
      g_free (after);
      g_free (path);
    }
  /* nothing else left in the folder: the three files and the shard */
  GDir *d = g_dir_open (dir, 0, NULL);
  int count = 0;
  while (g_dir_read_name (d))
    count++;
  g_dir_close (d);
  g_assert_cmpint (count, ==, 4);
  osh_graph_free (good);
  osh_graph_free (bad);
  remove_tree (dir);
  g_free (dir);
}

/* When the temporary file cannot be created (here: a folder sits at its name; a read-only
 * folder would do the same for a non-root user), the existing target stays as it was. */
static void
test_unwritable_temp_keeps_target (void)
{
  const char *names[] = { "m.h5", "m.keras", "model.json" };
  char *dir = tmp_dir ();
  OshError err = { 0 };
  OshGraph *g = build_functional ();
  OshGraph *other = build_sequential ();
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = g_build_filename (dir, names[i], NULL);
      g_assert_true (osh_model_save (g, path, &err));
      gsize before_len, after_len;
      char *before = read_all (path, &before_len);
      char *blocker = g_strdup_printf ("%s.tmp-%ld", path, (long) getpid ());
      g_assert_cmpint (g_mkdir (blocker, 0755), ==, 0);
      g_assert_false (osh_model_save (other, path, &err));
      g_assert_cmpint (err.code, ==, OSH_ERR_IO);
      g_assert_nonnull (strstr (err.message, blocker));
      char *after = read_all (path, &after_len);
      g_assert_cmpmem (before, before_len, after, after_len);
      g_assert_true (g_file_test (blocker, G_FILE_TEST_IS_DIR));
      g_rmdir (blocker);
      g_free (blocker);
      g_free (before);
      g_free (after);
      g_free (path);
    }
  osh_graph_free (g);
  osh_graph_free (other);
  remove_tree (dir);
  g_free (dir);
}

/* Which formats a graph can be saved as: a Keras graph every one, an ONNX graph only ONNX, a
 * TF.js graph model TF.js or ONNX (the window's Export menu offers what this allows); saving
 * anyway fails with the same reason, naming the file, and writes nothing. */
static void
test_can_save_by_dialect (void)
{
  const OshFormat all[] = { OSH_FORMAT_KERAS3, OSH_FORMAT_H5, OSH_FORMAT_TFJS, OSH_FORMAT_ONNX };
  struct
  {
    const char *fixture; /* NULL: a Keras graph built here */
    OshFormat only;      /* the format allowed; UNKNOWN: all of them */
    OshFormat also;      /* a second format allowed (a graph model exports to ONNX too) */
  } cases[] = {
    { NULL, OSH_FORMAT_UNKNOWN, OSH_FORMAT_UNKNOWN },
    { "onnx/fixtures/layoutnet.onnx", OSH_FORMAT_ONNX, OSH_FORMAT_UNKNOWN },
    { "tfgraph/fixtures/ops/model.json", OSH_FORMAT_TFJS, OSH_FORMAT_ONNX },
    /* A Shape reads its open height and width: the ONNX export's own refusal, beforehand. */
    { "tfgraph/fixtures/open-sizes/model.json", OSH_FORMAT_TFJS, OSH_FORMAT_UNKNOWN },
  };
  char *dir = tmp_dir ();
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      OshError err = { 0 };
      char *path = cases[c].fixture ? osh_test_fixture (cases[c].fixture) : NULL;
      OshGraph *g = path ? osh_model_load (path, &err) : build_functional ();
      if (!g)
        g_error ("%s", err.message);
      for (size_t f = 0; f < G_N_ELEMENTS (all); f++)
        {
          gboolean allowed = cases[c].only == OSH_FORMAT_UNKNOWN || cases[c].only == all[f]
                             || cases[c].also == all[f];
          g_assert_cmpint (osh_model_can_save (g, all[f], &err), ==, allowed);
          if (allowed)
            continue;
          if (all[f] == OSH_FORMAT_ONNX && cases[c].only == OSH_FORMAT_TFJS)
            g_assert_nonnull (strstr (err.message, "input 'image' leaves sizes open (1, None, "
                                                   "None, 3)"));
          else
            g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
          char *reason = g_strdup (err.message);
          const char *ext[] = { [OSH_FORMAT_KERAS3] = "m.keras",
                                [OSH_FORMAT_H5] = "m.h5",
                                [OSH_FORMAT_TFJS] = "m.json",
                                [OSH_FORMAT_ONNX] = "m.onnx" };
          char *out = g_build_filename (dir, ext[all[f]], NULL);
          g_assert_false (osh_model_save (g, out, &err));
          char *want = g_strdup_printf ("%s: %s", out, reason);
          g_assert_cmpstr (err.message, ==, want);
          g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
          g_free (want);
          g_free (out);
          g_free (reason);
        }
      g_assert_false (osh_model_can_save (g, OSH_FORMAT_UNKNOWN, &err));
      g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
      osh_graph_free (g);
      g_free (path);
    }
  remove_tree (dir);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/writers/config/keras2-functional-nested-shared", test_config_keras2);
  g_test_add_func ("/writers/config/keras3-and-sequential", test_config_keras3);
  g_test_add_func ("/writers/names/roles-and-snake-case", test_names);
  g_test_add_func ("/writers/h5/h5py-layout", test_h5_layout);
  g_test_add_func ("/writers/keras3/zip-and-weights-layout", test_keras3_layout);
  g_test_add_func ("/writers/tfjs/loads-and-predicts", test_tfjs_predicts);
  g_test_add_func ("/writers/tfjs/duplicate-weight-names", test_tfjs_duplicate_names);
  g_test_add_func ("/writers/tfjs/flattened-and-fixed-graphs", test_tfjs_edited_graphs);
  g_test_add_func ("/writers/save/failed-export-keeps-target", test_failed_save_keeps_target);
  g_test_add_func ("/writers/save/unwritable-temp-keeps-target", test_unwritable_temp_keeps_target);
  g_test_add_func ("/writers/save/can-save-by-dialect", test_can_save_by_dialect);
  return g_test_run ();
}
