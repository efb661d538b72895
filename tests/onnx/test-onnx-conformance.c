/* The ONNX backend conformance suite (Debian's libonnx-testdata): every node test whose ops
 * Offshoot runs must reproduce the expected outputs; what it does not run is listed, not hidden.
 *
 * Inputs of integer type (shapes, axes, indices given as graph inputs) are folded into
 * constants first, since Offshoot prepares every shape before running; a graph left with no
 * input then computes constant outputs, which it must get right too. Integer and boolean values
 * that comparisons, logic and the index ops read are fed as data (read_as_exact_values). */
#include <math.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-model.h"
#include "osh-onnx.h"
#include "osh-op.h"
#include "osh-shapes.h"
#include "osh-test.h"

#define TESTDATA "/usr/share/libonnx-testdata/data"

/* Tests that exercise what Offshoot deliberately does not model, each with the reason. */
static const struct
{
  const char *test, *reason;
} known[] = {
  { "test_cast_", "non-float element types: Offshoot computes in float32" },
  { "test_castlike_", "non-float element types" },
  { "test_dropout_default_mask", "training-mode masks" },
  { "test_training_dropout", "training mode" },
  { "test_clip_default_int8", "int8 arithmetic" },
  { "test_pow_types_int", "integer arithmetic" },
  { "test_div_uint8", "integer division" },
  { "test_mod_", "integer arithmetic" },
  { "test_round", "float16/half-way cases beyond float32" },
};

static const char *
known_reason (const char *test)
{
  for (size_t i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_str_has_prefix (test, known[i].test))
      return known[i].reason;
  return NULL;
}

static OshTensor *
read_pb (const char *path, int *type, OshError *err)
{
  g_autofree char *bytes = NULL;
  gsize size = 0;
  if (!g_file_get_contents (path, &bytes, &size, NULL))
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot read", path);
      return NULL;
    }
  *type = osh_onnx_tensor_type (bytes, size);
  return osh_onnx_tensor_read (path, bytes, size, err);
}

/* True when graph input `node` only feeds the scale/size slots of Resize/Upsample or OneHot's
 * depth: those are floats but decide shapes, so they are folded too. */
static bool
feeds_resize_parameters (const OshGraph *g, int node)
{
  bool used = false;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k].node == node)
        {
          const OshLayer *l = &g->layers[g->nodes[i].layer];
          bool resize = !strcmp (l->class_name, "Resize") || !strcmp (l->class_name, "Upsample");
          if (!(resize && k > 0) && !(!strcmp (l->class_name, "OneHot") && k == 1))
            return false;
          used = true;
        }
  return used;
}

/* True when integer or boolean graph input `node` is only read as values that comparisons,
 * logic, Where and the index ops compute on exactly in float32 (small integers, 0 and 1): it
 * is then fed as data, not folded. */
static bool
read_as_exact_values (const OshGraph *g, int node)
{
  static const char *const ops[] = {
    "Equal", "Greater", "GreaterOrEqual", "Less",     "LessOrEqual", "And",   "Or",
    "Xor",   "Not",     "Where",          "GatherND", "ArgMax",      "OneHot"
  };
  bool used = false;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k].node == node)
        {
          const OshLayer *l = &g->layers[g->nodes[i].layer];
          bool data = false;
          for (size_t o = 0; o < G_N_ELEMENTS (ops); o++)
            data |= !strcmp (l->class_name, ops[o]) && !(!strcmp (ops[o], "OneHot") && k > 0);
          if (!data)
            return false;
          used = true;
        }
  return used;
}

typedef enum
{
  PASS,
  FAIL,
  UNSUPPORTED
} Outcome;

static Outcome
run_case (const char *dir, const char *name, bool eager, int *channels_last, GString *why)
{
  OshError err = { 0 };
  g_autofree char *model = g_build_filename (dir, name, "model.onnx", NULL);
  g_autofree char *data = g_build_filename (dir, name, "test_data_set_0", NULL);
  OshGraph *g = osh_model_load (model, &err);
  if (!g)
    {
      g_string_assign (why, err.message);
      return err.code == OSH_ERR_UNSUPPORTED ? UNSUPPORTED : FAIL;
    }
  for (int i = 0; i < g->n_layers; i++)
    if (!osh_op_find (g, g->layers[i].class_name))
      {
        g_string_printf (why, "(%s): no kernel", g->layers[i].class_name);
        osh_graph_free (g);
        return UNSUPPORTED;
      }
  OshTensor *inputs[32] = { 0 };
  OshShape shapes[32];
  int n_in = 0, original = g->n_inputs;
  Outcome outcome = PASS;
  for (int i = 0, graph_input = 0; i < original && i < 32; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/input_%d.pb", data, i);
      int type = -1;
      OshTensor *t = read_pb (path, &type, &err);
      if (!t)
        {
          g_string_assign (why, err.message);
          outcome = UNSUPPORTED;
          break;
        }
      bool integer = type != 1 && type != 10 && type != 11 && type != 16;
      int node = g->inputs[graph_input].node;
      bool fold = (integer && !read_as_exact_values (g, node)) || feeds_resize_parameters (g, node);
      if (fold && osh_onnx_fold_input (g, graph_input, t, &err))
        osh_tensor_free (t);
      else
        {
          /* The IR's rank 0 means "unknown": a scalar input is given as one element. */
          if (t->shape.rank == 0)
            t->shape = osh_shape_make (1, (int64_t[]){ 1 });
          shapes[n_in] = t->shape;
          inputs[n_in++] = t;
          graph_input++;
        }
    }
  OshExecOptions opt = osh_exec_options_default ();
  opt.input_shapes = shapes;
  opt.n_input_shapes = n_in;
  opt.eager_layout = eager;
  OshTensor *outputs[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  if (outcome == PASS && !osh_graph_infer_shapes (g, &err))
    outcome = FAIL;
  OshPlan *plan = outcome == PASS ? osh_plan_new (g, &opt, &err) : NULL;
  if (outcome == PASS
      && (!plan || !osh_plan_run (plan, (const OshTensor *const *) inputs, n_in, outputs, &err)))
    outcome = err.code == OSH_ERR_UNSUPPORTED ? UNSUPPORTED : FAIL;
  OshPlanStep step;
  for (int i = 0; plan && osh_plan_step (plan, i, &step); i++)
    if (strcmp (step.class_name, "ToNHWC") == 0)
      {
        ++*channels_last; /* a step of this case ran channels-last */
        break;
      }
  osh_plan_free (plan);
  if (outcome != PASS && why->len == 0)
    g_string_assign (why, err.message);
  for (int i = 0; outcome == PASS && i < g->n_outputs; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/output_%d.pb", data, i);
      int type = -1;
      OshTensor *ref = read_pb (path, &type, &err);
      if (!ref)
        {
          g_string_assign (why, err.message);
          outcome = UNSUPPORTED;
          break;
        }
      int64_t n = osh_tensor_numel (ref);
      if (osh_tensor_numel (outputs[i]) != n)
        {
          char a[64], b[64];
          osh_shape_format (&outputs[i]->shape, a, sizeof a);
          osh_shape_format (&ref->shape, b, sizeof b);
          g_string_printf (why, "output %d has shape %s, expected %s", i, a, b);
          outcome = FAIL;
        }
      /* ONNX's own backend test tolerance: |x - ref| <= atol + rtol·|ref|. */
      for (int64_t k = 0; outcome == PASS && k < n; k++)
        {
          float x = outputs[i]->data[k], r = ref->data[k];
          bool same =
              (isnan (x) && isnan (r)) || x == r || fabsf (x - r) <= 1e-5f + 1e-3f * fabsf (r);
          if (!same)
            {
              g_string_printf (why, "output %d element %lld: %g, expected %g", i, (long long) k, x,
                               r);
              outcome = FAIL;
            }
        }
      osh_tensor_free (ref);
    }
  for (int i = 0; i < OSH_EXEC_MAX_OUTPUTS; i++)
    osh_tensor_free (outputs[i]);
  for (int i = 0; i < n_in; i++)
    osh_tensor_free (inputs[i]);
  osh_graph_free (g);
  return outcome;
}

/* Runs the node suite; with `eager`, every step that can run channels-last does. Returns how
 * many passed. */
static int
node_suite (bool eager)
{
  const char *dir = TESTDATA "/node";
  GDir *d = g_dir_open (dir, 0, NULL);
  if (!d)
    {
      g_test_skip ("libonnx-testdata is not installed");
      return 0;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  while ((entry = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (entry));
  g_dir_close (d);
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  int pass = 0, fail = 0, unsupported = 0, excused = 0, channels_last = 0;
  GString *failures = g_string_new (NULL);
  GHashTable *missing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      GString *why = g_string_new (NULL);
      Outcome o = run_case (dir, name, eager, &channels_last, why);
      if (o == PASS)
        pass++;
      else if (o == UNSUPPORTED || known_reason (name))
        {
          o == UNSUPPORTED ? unsupported++ : excused++;
          /* Group by the op the message names ("layer 'X' (Op)"), for the summary. */
          const char *open = strchr (why->str, '(');
          g_autofree char *key = g_strdup (open ? open + 1 : why->str);
          key[strcspn (key, ")")] = '\0';
          if (g_getenv ("OSH_CONFORMANCE_VERBOSE"))
            g_test_message ("%s: %s", name, why->str);
          if (strlen (key) > 60)
            key[60] = '\0';
          g_hash_table_replace (
              missing, g_strdup (key),
              GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (missing, key)) + 1));
        }
      else
        {
          fail++;
          g_string_append_printf (failures, "  %s: %s\n", name, why->str);
        }
      g_string_free (why, TRUE);
    }
  g_test_message ("ONNX node conformance%s: %d passed, %d failed, %d not supported, %d excused "
                  "(of %u); %d converted to channels-last",
                  eager ? " (channels-last wherever possible)" : "", pass, fail, unsupported,
                  excused, names->len, channels_last);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, missing);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_test_message ("  not run: %s ×%d", (char *) key, GPOINTER_TO_INT (value));
  if (fail)
    g_test_message ("failures:\n%s", failures->str);
  g_assert_cmpint (fail, ==, 0);
  g_assert_cmpint (pass, >=, 300);
  g_string_free (failures, TRUE);
  g_hash_table_unref (missing);
  g_ptr_array_unref (names);
  return pass;
}

static int default_passes = -1;

static void
test_node_suite (void)
{
  default_passes = node_suite (false);
}

/* The same cases with every channels-last kernel in use (their references are NCHW): as many
 * pass. */
static void
test_node_suite_channels_last (void)
{
  int pass = node_suite (true);
  if (default_passes >= 0)
    g_assert_cmpint (pass, ==, default_passes);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onnx/conformance/node", test_node_suite);
  g_test_add_func ("/onnx/conformance/node-channels-last", test_node_suite_channels_last);
  return g_test_run ();
}
