/* Round trips: every corpus model (and hand-built nested ones) written by each writer and
 * read back must have the same layers, classes, wiring and bit-identical weights. */
#include <glib/gstdio.h>
#include <string.h>

#include "built-models.h"
#include "osh-model.h"
#include "osh-test.h"
#include "references.h"

static const char *corpus_models[] = {
  "keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5",
  "keras2/face_classification/fer2013_big_XCEPTION.54-0.66.hdf5",
  "keras2/face_classification/gender_mini_XCEPTION.21-0.95.hdf5",
  "keras2/face_classification/tiny_XCEPTION_KDEF.hdf5",
  "keras3/fashion_mnist_cnn.keras",
  "keras3/mnist_cnn.keras",
  "keras2/dl4j/examples/12net.h5",
  "keras2/dl4j/examples/cnn1d/cnn1d_flatten_tf_keras2.h5",
  "keras2/dl4j/examples/gans/wgan_discriminator.h5",
  "keras2/dl4j/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5",
  "keras2/dl4j/examples/simple_lstm/simple_lstm_th_keras_1_model.h5",
  "keras2/dl4j/fullconfigs/cnn/cnn_batch_norm.h5",
  "keras2/dl4j/tfkeras/issue_9349.hdf5",
  "keras2/dl4j/tfkeras/cnn2d_100.h5",
  "keras2/dl4j/tfkeras/cnn3d_16.h5",
  "keras2/dl4j/tfkeras/mlp_100.h5",
  "keras2/dl4j/tfkeras/GAPError.h5",
  "keras2/dl4j/tfkeras/misc_0.h5",
  "keras2/dl4j/tfkeras/cnn_1d_doublecount.h5.h5",
  "keras2/dl4j/weights/sepconv2d_tensorflow_2.h5",
};

/* tfjs-saved models with nested models (tools/reference/writers-make-fixtures.mjs). */
static const char *fixture_models[] = {
  "writers/fixtures/so_nested/model.json",
  "writers/fixtures/nested_sequential/model.json",
};

static const char *targets[] = { "m.h5", "m.keras", "model.json" };

typedef struct
{
  const char *model;  /* corpus path */
  const char *target; /* file name, which picks the writer */
} Case;

/* A model class as Keras would rebuild it: "Model" and "Functional" are the same thing. */
static const char *
model_kind (const OshLayer *l)
{
  if (!l->is_model)
    return l->class_name;
  return strcmp (l->class_name, "Sequential") == 0 ? "Sequential" : "Functional";
}

static void
assert_same_ref (const OshGraph *a, OshRef ra, const OshGraph *b, OshRef rb, const char *where)
{
  char *pa = osh_graph_layer_path (a, a->nodes[ra.node].layer);
  char *pb = osh_graph_layer_path (b, b->nodes[rb.node].layer);
  if (strcmp (pa, pb) != 0 || ra.index != rb.index)
    g_error ("%s: reads %s[%d] before, %s[%d] after", where, pa, ra.index, pb, rb.index);
  /* the same call of that layer: count the calls before it */
  int ka = 0, kb = 0;
  for (int n = 0; n < ra.node; n++)
    ka += a->nodes[n].layer == a->nodes[ra.node].layer;
  for (int n = 0; n < rb.node; n++)
    kb += b->nodes[n].layer == b->nodes[rb.node].layer;
  if (ka != kb)
    g_error ("%s: reads call %d of %s before, call %d after", where, ka, pa, kb);
  g_free (pa);
  g_free (pb);
}

static void
assert_same_io (const OshGraph *a, const OshRef *ra, int na, const OshGraph *b, const OshRef *rb,
                int nb, const char *what)
{
  g_assert_cmpint (na, ==, nb);
  for (int i = 0; i < na; i++)
    assert_same_ref (a, ra[i], b, rb[i], what);
}

/* Same layers (paths, classes), calls, wiring and weight bits; weight names may differ. */
static void
assert_same_graph (const OshGraph *a, const OshGraph *b)
{
  g_assert_cmpint (a->n_layers, ==, b->n_layers);
  for (int i = 0; i < a->n_layers; i++)
    {
      const OshLayer *la = &a->layers[i], *lb = &b->layers[i];
      char *pa = osh_graph_layer_path (a, i), *pb = osh_graph_layer_path (b, i);
      g_assert_cmpstr (pa, ==, pb);
      g_assert_cmpstr (model_kind (la), ==, model_kind (lb));
      g_assert_cmpint (la->trainable, ==, lb->trainable);
      if (la->n_weights != lb->n_weights)
        g_error ("%s: %d weights before, %d after", pa, la->n_weights, lb->n_weights);
      for (int k = 0; k < la->n_weights; k++)
        {
          const OshTensor *ta = la->weights[k].value, *tb = lb->weights[k].value;
          if (!osh_shape_equal (&ta->shape, &tb->shape))
            g_error ("%s weight %d: shape changed", pa, k);
          if (memcmp (ta->data, tb->data, (size_t) osh_tensor_numel (ta) * sizeof (float)) != 0)
            g_error ("%s weight %d: values changed", pa, k);
          g_assert_cmpint (la->weights[k].trainable, ==, lb->weights[k].trainable);
        }
      /* the calls of this layer, in order, and what each one reads */
      int na = 0, nb = 0;
      for (int n = 0; n < a->n_nodes; n++)
        na += a->nodes[n].layer == i;
      for (int n = 0; n < b->n_nodes; n++)
        nb += b->nodes[n].layer == i;
      g_assert_cmpint (na, ==, nb);
      for (int n = 0, m = 0; n < a->n_nodes; n++)
        {
          if (a->nodes[n].layer != i)
            continue;
          while (b->nodes[m].layer != i)
            m++;
          const OshNode *x = &a->nodes[n], *y = &b->nodes[m++];
          g_assert_cmpint (x->n_inputs, ==, y->n_inputs);
          for (int k = 0; k < x->n_inputs; k++)
            assert_same_ref (a, x->inputs[k], b, y->inputs[k], pa);
        }
      if (la->is_model)
        {
          assert_same_io (a, la->inputs, la->n_inputs, b, lb->inputs, lb->n_inputs, pa);
          assert_same_io (a, la->outputs, la->n_outputs, b, lb->outputs, lb->n_outputs, pa);
        }
      g_free (pa);
      g_free (pb);
    }
  assert_same_io (a, a->inputs, a->n_inputs, b, b->inputs, b->n_inputs, "model inputs");
  assert_same_io (a, a->outputs, a->n_outputs, b, b->outputs, b->n_outputs, "model outputs");
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
      g_free (p);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
}

static bool
not_implemented (const OshError *err)
{
  return err->code == OSH_ERR_UNSUPPORTED && strstr (err->message, "not implemented yet");
}

/* What was read back is written and read once more: the written file is a fixed point. */
static void
round_trip_again (const OshGraph *g, const OshGraph *back, const char *path)
{
  OshError err = { 0 };
  assert_same_graph (g, back);
  if (!osh_model_save (back, path, &err))
    g_error ("writing %s again: %s", path, err.message);
  OshGraph *again = osh_model_load (path, &err);
  if (!again)
    g_error ("reading %s again: %s", path, err.message);
  assert_same_graph (g, again);
  osh_graph_free (again);
}

/* Writes `g` as `target`, reads it back, compares; then once more, to show the written
 * file is itself a fixed point. */
static void
round_trip (const OshGraph *g, const char *target)
{
  char *dir = g_dir_make_tmp ("osh-roundtrip-XXXXXX", NULL);
  g_assert_nonnull (dir);
  char *path = g_build_filename (dir, target, NULL);
  OshError err = { 0 };
  if (!osh_model_save (g, path, &err))
    g_error ("writing %s: %s", target, err.message);
  OshGraph *back = osh_model_load (path, &err);
  if (!back && not_implemented (&err))
    g_test_skip ("the reader for this format has not landed in this branch");
  else if (!back)
    g_error ("reading back %s: %s", target, err.message);
  else
    round_trip_again (g, back, path);
  osh_graph_free (back);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

static void
test_corpus_model (gconstpointer data)
{
  const Case *c = data;
  char *path = g_str_has_prefix (c->model, "writers/") ? osh_test_fixture (c->model)
                                                       : osh_test_corpus (c->model);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("corpus not available");
      g_free (path);
      return;
    }
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  if (!g && not_implemented (&err))
    {
      g_test_skip ("the reader for this format has not landed in this branch");
      g_free (path);
      return;
    }
  if (!g)
    g_error ("%s", err.message);
  round_trip (g, c->target);
  osh_graph_free (g);
  g_free (path);
}

static void
test_built (gconstpointer data)
{
  const char *target = data;
  OshGraph *g = build_functional ();
  round_trip (g, target);
  osh_graph_free (g);
  g = build_sequential ();
  round_trip (g, target);
  osh_graph_free (g);
  g = build_siamese ();
  round_trip (g, target);
  osh_graph_free (g);
}

/* A tfjs-saved fixture read by Offshoot and written back as model.json: tfjs computes from it
 * what it computed from the original (io.json). */
static void
test_fixture_tfjs (gconstpointer data)
{
  const char *name = data;
  char *rel = g_strdup_printf ("writers/fixtures/%s/model.json", name);
  char *path = osh_test_fixture (rel);
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  if (!g && not_implemented (&err))
    {
      g_test_skip ("the TF.js reader has not landed in this branch");
      g_free (path);
      g_free (rel);
      return;
    }
  if (!g)
    g_error ("%s", err.message);
  char *io_rel = g_strdup_printf ("writers/fixtures/%s/io.json", name);
  char *io_path = osh_test_fixture (io_rel);
  g_free (io_rel);
  json_error_t je;
  json_t *io = json_load_file (io_path, 0, &je);
  g_assert_nonnull (io);
  char *dir = g_dir_make_tmp ("osh-fixture-XXXXXX", NULL);
  char *out = g_build_filename (dir, "model.json", NULL);
  char *input = g_build_filename (dir, "input.json", NULL);
  g_assert_true (osh_model_save (g, out, &err));
  json_t *inputs = json_pack ("{s:O}", "inputs", json_object_get (io, "inputs"));
  g_assert_cmpint (json_dump_file (inputs, input, JSON_COMPACT), ==, 0);
  char *arg = g_strdup_printf ("@%s", input);
  json_t *r = tfjs_predict (out, arg);
  g_assert_cmpint (json_integer_value (json_object_get (r, "params")), ==,
                   json_integer_value (json_object_get (io, "params")));
  json_t *want = json_object_get (io, "outputs"), *got = json_object_get (r, "outputs");
  g_assert_cmpint (json_array_size (got), ==, json_array_size (want));
  for (size_t o = 0; o < json_array_size (want); o++)
    {
      json_t *a = json_array_get (want, o), *b = json_array_get (got, o);
      g_assert_cmpint (json_array_size (a), ==, json_array_size (b));
      for (size_t i = 0; i < json_array_size (a); i++)
        g_assert_cmpfloat_with_epsilon (json_number_value (json_array_get (b, i)),
                                        json_number_value (json_array_get (a, i)), 1e-5);
    }
  json_decref (r);
  json_decref (inputs);
  json_decref (io);
  osh_graph_free (g);
  g_unlink (out);
  g_unlink (input);
  char *shard = g_build_filename (dir, "group1-shard1of1.bin", NULL);
  g_unlink (shard);
  g_rmdir (dir);
  g_free (shard);
  g_free (arg);
  g_free (input);
  g_free (out);
  g_free (dir);
  g_free (io_path);
  g_free (path);
  g_free (rel);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      char *name = g_strdup_printf ("/writers/roundtrip/%s/built-nested-sequential-shared",
                                    strchr (targets[t], '.') + 1);
      g_test_add_data_func (name, targets[t], test_built);
      g_free (name);
    }
  g_test_add_data_func ("/writers/fixtures/so_nested/tfjs-agrees", "so_nested", test_fixture_tfjs);
  g_test_add_data_func ("/writers/fixtures/nested_sequential/tfjs-agrees", "nested_sequential",
                        test_fixture_tfjs);
  const char *all[G_N_ELEMENTS (corpus_models) + G_N_ELEMENTS (fixture_models)];
  size_t n_all = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (corpus_models); i++)
    all[n_all++] = corpus_models[i];
  for (size_t i = 0; i < G_N_ELEMENTS (fixture_models); i++)
    all[n_all++] = fixture_models[i];
  for (size_t i = 0; i < n_all; i++)
    for (size_t t = 0; t < G_N_ELEMENTS (targets); t++)
      {
        Case *c = g_new0 (Case, 1);
        c->model = all[i];
        c->target = targets[t];
        const char *ext = strchr (targets[t], '.') + 1;
        /* fixtures are all model.json: name them by their folder */
        char *dir = g_path_get_dirname (all[i]);
        char *base = g_path_get_basename (g_str_has_prefix (all[i], "writers/") ? dir : all[i]);
        g_free (dir);
        char *name = g_strdup_printf ("/writers/roundtrip/%s/%s", ext, base);
        g_test_add_data_func_full (name, c, test_corpus_model, g_free);
        g_free (name);
        g_free (base);
      }
  return g_test_run ();
}
