/* The TF.js reader against fixtures built by tfjs (tools/reference/readers-make-tfjs-fixtures.mjs):
 * structure, parameter counts and every weight value as tfjs itself reads them back
 * (expected.json), for a nested model with a shared layer and for uint8/uint16/float16
 * quantized weights split over two shards. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "osh-model.h"
#include "osh-test.h"

static json_t *
load_expected (const char *dir)
{
  char *rel = g_build_filename ("readers", "fixtures", dir, "expected.json", NULL);
  char *path = osh_test_fixture (rel);
  json_t *e = json_load_file (path, 0, NULL);
  g_assert_nonnull (e);
  g_free (rel);
  g_free (path);
  return e;
}

static OshGraph *
load_fixture (const char *dir, OshError *err)
{
  char *rel = g_build_filename ("readers", "fixtures", dir, "model.json", NULL);
  char *path = osh_test_fixture (rel);
  OshGraph *g = osh_model_load (path, err);
  g_free (rel);
  g_free (path);
  return g;
}

/* The expected layer list (tfjs's model.layers, recursively) against the IR's layers of `owner`. */
static void
check_layers (const OshGraph *g, int owner, const json_t *expected)
{
  size_t i;
  json_t *e;
  int seen = 0;
  /* Keras's Sequential.layers leaves out the InputLayer that the IR makes explicit. */
  for (int l = 0; l < g->n_layers; l++)
    if (g->layers[l].owner == owner
        && !(strcmp (g->layers[l].class_name, "InputLayer") == 0
             && g_str_has_suffix (g->layers[l].name, "_input")))
      seen++;
  g_assert_cmpint (seen, ==, (int) json_array_size (expected));
  json_array_foreach (expected, i, e)
    {
      const char *name = json_string_value (json_object_get (e, "name"));
      int l = osh_graph_find_layer (g, owner, name);
      if (l < 0)
        g_error ("layer '%s' missing", name);
      g_assert_cmpstr (g->layers[l].class_name, ==,
                       json_string_value (json_object_get (e, "class_name")));
      g_assert_cmpint (osh_graph_layer_params (g, l, NULL), ==,
                       json_integer_value (json_object_get (e, "params")));
      if (json_object_get (e, "layers"))
        {
          g_assert_true (g->layers[l].is_model);
          check_layers (g, l, json_object_get (e, "layers"));
        }
    }
}

static const OshWeight *
find_weight (const OshGraph *g, const char *name)
{
  for (int l = 0; l < g->n_layers; l++)
    for (int w = 0; w < g->layers[l].n_weights; w++)
      if (strcmp (g->layers[l].weights[w].name, name) == 0)
        return &g->layers[l].weights[w];
  return NULL;
}

static void
check_shapes (const OshGraph *g, const OshRef *refs, int n, const json_t *expected)
{
  g_assert_cmpint (n, ==, (int) json_array_size (expected));
  for (int i = 0; i < n; i++)
    {
      const json_t *dims = json_array_get (expected, (size_t) i);
      const OshShape *s = &g->nodes[refs[i].node].shapes[refs[i].index];
      g_assert_cmpint (s->rank, ==, (int) json_array_size (dims));
      for (int d = 0; d < s->rank; d++)
        {
          const json_t *v = json_array_get (dims, (size_t) d);
          g_assert_cmpint (s->dim[d], ==, json_is_null (v) ? -1 : json_integer_value (v));
        }
    }
}

static void
test_fixture (gconstpointer data)
{
  const char *dir = data;
  json_t *e = load_expected (dir);
  OshError err = { 0 };
  OshGraph *g = load_fixture (dir, &err);
  if (!g)
    g_error ("%s", err.message);
  g_assert_cmpstr (g->format, ==, "tfjs");
  int64_t trainable = 0;
  g_assert_cmpint (osh_graph_total_params (g, &trainable), ==,
                   json_integer_value (json_object_get (e, "total_params")));
  g_assert_cmpint (trainable, ==, json_integer_value (json_object_get (e, "trainable_params")));
  check_layers (g, -1, json_object_get (e, "layers"));
  check_shapes (g, g->inputs, g->n_inputs, json_object_get (e, "inputs"));
  check_shapes (g, g->outputs, g->n_outputs, json_object_get (e, "outputs"));

  const char *name;
  json_t *w;
  json_object_foreach (json_object_get (e, "weights"), name, w)
    {
      const OshWeight *ow = find_weight (g, name);
      if (!ow)
        g_error ("weight '%s' missing", name);
      g_assert_cmpint (ow->trainable, ==, json_is_true (json_object_get (w, "trainable")));
      const json_t *shape = json_object_get (w, "shape");
      g_assert_cmpint (ow->value->shape.rank, ==, (int) json_array_size (shape));
      for (int d = 0; d < ow->value->shape.rank; d++)
        g_assert_cmpint (ow->value->shape.dim[d], ==,
                         json_integer_value (json_array_get (shape, (size_t) d)));
      double sum = 0;
      for (int64_t i = 0; i < osh_tensor_numel (ow->value); i++)
        sum += ow->value->data[i];
      g_assert_cmpfloat_with_epsilon (sum, json_real_value (json_object_get (w, "sum")), 1e-4);
      const json_t *first = json_object_get (w, "first");
      for (size_t i = 0; i < json_array_size (first); i++)
        g_assert_cmpfloat_with_epsilon (ow->value->data[i],
                                        json_number_value (json_array_get (first, i)), 1e-6);
    }
  osh_graph_free (g);
  json_decref (e);
}

/* Copies the quantized fixture into a temporary folder and breaks its second shard. */
static char *
broken_copy (gboolean remove_shard)
{
  char *tmp = g_dir_make_tmp ("osh-tfjs-XXXXXX", NULL);
  const char *files[] = { "model.json", "group1-shard1of2.bin", "group1-shard2of2.bin" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      char *rel = g_build_filename ("readers", "fixtures", "tfjs-quantized", files[i], NULL);
      char *src = osh_test_fixture (rel);
      char *dst = g_build_filename (tmp, files[i], NULL);
      gchar *data;
      gsize size;
      g_assert_true (g_file_get_contents (src, &data, &size, NULL));
      if (i == 2 && remove_shard)
        size = 0;
      else if (i == 2)
        size -= 10;
      if (!(i == 2 && remove_shard))
        g_assert_true (g_file_set_contents (dst, data, (gssize) size, NULL));
      g_free (data);
      g_free (rel);
      g_free (src);
      g_free (dst);
    }
  return tmp;
}

static void
remove_dir (char *tmp)
{
  const char *files[] = { "model.json", "group1-shard1of2.bin", "group1-shard2of2.bin" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      char *p = g_build_filename (tmp, files[i], NULL);
      g_remove (p);
      g_free (p);
    }
  g_rmdir (tmp);
  g_free (tmp);
}

/* A missing shard is an I/O error naming it; a short one says how many bytes were needed. */
static void
test_broken_shard (gconstpointer data)
{
  gboolean missing = GPOINTER_TO_INT (data);
  char *tmp = broken_copy (missing);
  char *path = g_build_filename (tmp, "model.json", NULL);
  OshError err = { 0 };
  g_assert_null (osh_model_load (path, &err));
  g_assert_cmpint (err.code, ==, missing ? OSH_ERR_IO : OSH_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, missing ? "group1-shard2of2.bin" : "but the shards hold"));
  g_assert_nonnull (strstr (err.message, path));
  g_free (path);
  remove_dir (tmp);
}

static void
test_not_a_model (void)
{
  const char *docs[] = { "{\"format\": \"graph-model\", \"modelTopology\": null}", "{\"hello\": 1}",
                         "[1, 2]",
                         "{\"modelTopology\": {\"class_name\": \"Sequential\", \"config\": 7}}" };
  char *tmp = g_dir_make_tmp ("osh-tfjs-XXXXXX", NULL);
  char *path = g_build_filename (tmp, "model.json", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_assert_true (g_file_set_contents (path, docs[i], -1, NULL));
      OshError err = { 0 };
      g_assert_null (osh_model_load (path, &err));
      /* A document saying it is a graph model is read as one, and has no node list; the others
       * are broken layers models. */
      g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
      g_assert_true (i != 0 || strstr (err.message, "a TF.js graph model without a node list"));
      g_assert_nonnull (strstr (err.message, path));
    }
  g_remove (path);
  g_rmdir (tmp);
  g_free (path);
  g_free (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/readers/tfjs/nested-model-shared-layer", "tfjs-nested", test_fixture);
  g_test_add_data_func ("/readers/tfjs/quantized-uint8-uint16-float16-two-shards", "tfjs-quantized",
                        test_fixture);
  g_test_add_data_func ("/readers/tfjs/float16-dtype", "tfjs-float16-dtype", test_fixture);
  g_test_add_data_func ("/readers/tfjs/missing-shard", GINT_TO_POINTER (TRUE), test_broken_shard);
  g_test_add_data_func ("/readers/tfjs/short-shard", GINT_TO_POINTER (FALSE), test_broken_shard);
  g_test_add_func ("/readers/tfjs/json-not-a-model", test_not_a_model);
  return g_test_run ();
}
