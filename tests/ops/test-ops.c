/* Every op against independent numpy references (tests/ops/fixtures/ops.json, written by
 * tools/reference/ops-fixtures.py): one graph Input(s) → layer per case, run through the
 * executor. Tolerance: max |diff| ≤ 1e-4 · max(1, max |ref|). */
#include <math.h>
#include <stdlib.h>

#include "ops-test.h"
#include "osh-exec.h"
#include "osh-shapes.h"

static OshTensor *
tensor_from_json (const json_t *j)
{
  OshError err = { 0 };
  const json_t *shape = json_object_get (j, "shape"), *data = json_object_get (j, "data");
  OshShape s = { .rank = (int) json_array_size (shape) };
  for (int i = 0; i < s.rank; i++)
    s.dim[i] = json_integer_value (json_array_get (shape, (size_t) i));
  OshTensor *t = osh_tensor_new (&s, &err);
  g_assert_nonnull (t);
  g_assert_cmpint (osh_tensor_numel (t), ==, (int64_t) json_array_size (data));
  for (size_t i = 0; i < json_array_size (data); i++)
    t->data[i] = (float) json_number_value (json_array_get (data, i));
  return t;
}

static void
run_case (gconstpointer data)
{
  const json_t *c = data;
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  const char *kv = json_string_value (json_object_get (c, "keras_version"));
  if (kv)
    json_object_set_new (g->meta, "keras_version", json_string (kv));
  const json_t *inputs = json_object_get (c, "inputs");
  int n_in = (int) json_array_size (inputs);
  OshTensor *x[8];
  OshRef in_refs[8];
  g_assert_cmpint (n_in, <=, 8);
  for (int i = 0; i < n_in; i++)
    {
      x[i] = tensor_from_json (json_array_get (inputs, (size_t) i));
      json_t *cfg = json_object ();
      json_t *bis = json_array ();
      json_array_append_new (bis, json_null ());
      for (int d = 1; d < x[i]->shape.rank; d++)
        json_array_append_new (bis, json_integer (x[i]->shape.dim[d]));
      json_object_set_new (cfg, "batch_input_shape", bis);
      char name[32];
      g_snprintf (name, sizeof name, "input_%d", i);
      int l = osh_graph_add_layer (g, -1, name, "InputLayer", cfg, &err);
      in_refs[i] = (OshRef){ osh_graph_add_node (g, l, NULL, 0, 1, &err), 0 };
    }
  int l = osh_graph_add_layer (g, -1, "op", json_string_value (json_object_get (c, "class_name")),
                               json_deep_copy (json_object_get (c, "config")), &err);
  g_assert_cmpint (l, >=, 0);
  const json_t *weights = json_object_get (c, "weights");
  for (size_t i = 0; i < json_array_size (weights); i++)
    g_assert_true (osh_layer_add_weight (g, l, "w", tensor_from_json (json_array_get (weights, i)),
                                         true, &err));
  OshRef out = { osh_graph_add_node (g, l, in_refs, n_in, 1, &err), 0 };
  const json_t *kwargs = json_object_get (c, "kwargs");
  if (json_is_object (kwargs))
    g->nodes[out.node].kwargs = json_deep_copy (kwargs);
  g_assert_true (osh_graph_set_io (g, -1, in_refs, n_in, &out, 1, &err));
  if (!osh_graph_infer_shapes (g, &err))
    g_error ("%s", err.message);

  OshExecOptions opt = osh_exec_options_default ();
  opt.batch = x[0]->shape.dim[0];
  OshTensor *y = NULL;
  if (!osh_exec_run_once (g, &opt, (const OshTensor *const *) x, n_in, &y, &err))
    {
      g_test_fail_printf ("%s", err.message);
      goto done;
    }
  OshTensor *ref = tensor_from_json (json_object_get (c, "output"));
  /* Shape inference agrees with the executor and the reference. */
  OshShape inferred = g->nodes[out.node].shapes[0];
  inferred.dim[0] = ref->shape.dim[0];
  g_assert_true (osh_shape_equal (&inferred, &ref->shape));
  g_assert_true (osh_shape_equal (&y->shape, &ref->shape));
  double max_ref = 1, max_diff = 0;
  for (int64_t i = 0; i < osh_tensor_numel (ref); i++)
    {
      max_ref = fmax (max_ref, fabs (ref->data[i]));
      max_diff = fmax (max_diff, fabs ((double) y->data[i] - ref->data[i]));
    }
  if (!(max_diff <= 1e-4 * max_ref))
    g_test_fail_printf ("max |diff| %g over the tolerance %g", max_diff, 1e-4 * max_ref);
  osh_tensor_free (ref);
  osh_tensor_free (y);
done:
  for (int i = 0; i < n_in; i++)
    osh_tensor_free (x[i]);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  char *path = osh_test_fixture ("ops/fixtures/ops.json");
  json_error_t jerr;
  json_t *root = json_load_file (path, 0, &jerr);
  if (!root)
    g_error ("%s: %s", path, jerr.text);
  const json_t *cases = json_object_get (root, "cases");
  for (size_t i = 0; i < json_array_size (cases); i++)
    {
      const json_t *c = json_array_get (cases, i);
      g_test_add_data_func (json_string_value (json_object_get (c, "path")), c, run_case);
    }
  int rc = g_test_run ();
  json_decref (root);
  g_free (path);
  return rc;
}
