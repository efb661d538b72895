/* The Keras snippet: valid Python (checked with /usr/bin/python3's own parser), the tapped
 * layer read through the SAME nested instance, the head layers with Offshoot's names. */
#include <glib/gstdio.h>

#include "edit-graphs.h"
#include "osh-graph-rebuild.h"
#include "osh-heads.h"
#include "osh-snippet.h"

/* Parses `code` with Python's ast module; fails the test with Python's message otherwise. */
static void
assert_python_parses (const char *code)
{
  char *dir = g_dir_make_tmp ("osh-snippet-XXXXXX", NULL);
  char *file = g_build_filename (dir, "snippet.py", NULL);
  g_assert_true (g_file_set_contents (file, code, -1, NULL));
  const char *argv[] = { "/usr/bin/python3", "-c",
                         "import ast, sys; ast.parse(open(sys.argv[1]).read())", file, NULL };
  char *err_text = NULL;
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               &err_text, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("the snippet is not valid Python: %s\n%s", err_text, code);
  g_remove (file);
  g_rmdir (dir);
  g_free (err_text);
  g_free (file);
  g_free (dir);
}

static char *
snippet_for (const OshGraph *g, const char *path, const char *head, char **names)
{
  OshError err = { 0 };
  OshHeadSpec spec;
  g_assert_true (osh_head_parse (head, &spec, &err));
  OshGraph *e = osh_head_attach (g, path, &spec, OSH_ATTACH_CONNECTED, names, &err);
  if (!e)
    g_error ("%s", err.message);
  osh_graph_free (e);
  OshSnippetHead h = { path, &spec, names };
  char *py = osh_snippet_python (g, &h, 1, "my \"model\".h5", "edited.keras", &err);
  g_assert_cmpstr (err.message, ==, "");
  return py;
}

static void
test_nested (void)
{
  OshGraph *g = eg_seed (NULL, NULL);
  char *names[4];
  char *py = snippet_for (g, "efficientnet/block5a_expand_conv", "seg", names);
  assert_python_parses (py);
  g_assert_nonnull (
      strstr (py, "model = keras.models.load_model(\"my \\\"model\\\".h5\", compile=False)"));
  /* Offshoot's attach freezes the model the head goes on; the snippet does the same. */
  g_assert_nonnull (strstr (py, "compile=False)\nmodel.trainable = False"));
  /* The StackOverflow answer: everything from the SAME instance's own input. */
  g_assert_nonnull (strstr (py, "inner = model.get_layer(\"efficientnet\")\n"
                                "y_gap = model.get_layer(\"gap\")(inner.outputs[0])\n"
                                "y_dense = model.get_layer(\"dense\")(y_gap)\n"));
  g_assert_nonnull (strstr (py, "x = inner.get_layer(\"block5a_expand_conv\").output\n"));
  g_assert_null (strstr (py, "tap_1"));
  g_assert_nonnull (
      strstr (py, "x = layers.Conv2D(filters=128, kernel_size=3, strides=1, padding=\"same\""));
  g_assert_nonnull (strstr (py, "name=\"aux_head_conv\")(x)"));
  g_assert_nonnull (strstr (
      py, "x = layers.BatchNormalization(momentum=0.99, epsilon=0.001, name=\"aux_head_bn\")(x)"));
  g_assert_nonnull (strstr (py, "x = layers.ReLU(name=\"aux_head_relu\")(x)"));
  g_assert_nonnull (strstr (py, "aux_1 = layers.Conv2D(filters=1, kernel_size=1"));
  g_assert_nonnull (strstr (py, "name=\"aux_head_out\")(x)"));
  g_assert_nonnull (
      strstr (py, "edited = keras.Model(inner.inputs, [y_dense, aux_1], name=model.name)"));
  g_assert_nonnull (strstr (py, "edited.save(\"edited.keras\")"));
  g_free (py);
  for (int i = 0; i < 4; i++)
    free (names[i]);
  osh_graph_free (g);
}

static void
test_top_level (void)
{
  OshGraph *g = eg_seed (NULL, NULL);
  char *names[2];
  char *py = snippet_for (
      g, "gap", "dense(units=3,activation=sigmoid),activation(activation=softmax)", names);
  assert_python_parses (py);
  g_assert_nonnull (strstr (py, "x = model.get_layer(\"gap\").output"));
  g_assert_nonnull (strstr (py, "x = layers.Dense(units=3, activation=\"sigmoid\", use_bias=True"));
  g_assert_nonnull (
      strstr (py, "aux_1 = layers.Activation(\"softmax\", name=\"aux_head_out\")(x)"));
  g_assert_null (strstr (py, "inner ="));
  g_free (py);
  free (names[0]);
  free (names[1]);
  osh_graph_free (g);
}

/* A layer in front of the nested model: the instance is read through a sub-model of itself,
 * called on the tensor the outer model feeds it. */
static void
test_preprocessed (void)
{
  int call;
  OshGraph *g = eg_seed (&call, NULL);
  int pre = eg_conv (g, -1, "rescaling", g->inputs[0], 1, 3);
  g->nodes[call].inputs[0] = (OshRef){ pre, 0 };
  OshRebuild r; /* the call now reads a later node: restore the IR's node order */
  g_assert_true (osh_rebuild_init (&r, g, NULL));
  OshGraph *sorted = osh_rebuild_run (&r, g->outputs, g->n_outputs, NULL);
  osh_rebuild_clear (&r);
  osh_graph_free (g);
  g = sorted;
  g_assert_nonnull (g);
  char *names[4];
  char *py = snippet_for (g, "efficientnet/top_conv", "seg:8:1", names);
  assert_python_parses (py);
  g_assert_nonnull (
      strstr (py, "tap_1 = keras.Model(inner.inputs, inner.get_layer(\"top_conv\").output"));
  g_assert_nonnull (strstr (py, "x = tap_1(model.get_layer(\"rescaling\").output)"));
  g_assert_nonnull (
      strstr (py, "edited = keras.Model(model.inputs, model.outputs + [aux_1], name=model.name)"));
  g_free (py);
  for (int i = 0; i < 4; i++)
    free (names[i]);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/edit/snippet/nested", test_nested);
  g_test_add_func ("/edit/snippet/top-level", test_top_level);
  g_test_add_func ("/edit/snippet/preprocessed", test_preprocessed);
  return g_test_run ();
}
