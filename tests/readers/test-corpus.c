/* Every file of ../shared/corpus through osh_model_load in one process (fast enough to run
 * under the sanitizers): files that hold a Keras model open, every other file fails with an
 * error naming it. The graph-first load (osh_model_load_graph, then osh_model_load_weights)
 * gives every file the same graph, shapes, parameter counts and weight values as the whole
 * load, and refuses what it refuses with the same error class. Which files hold a model is decided without the readers: HDF5's own API
 * for the `model_config` attribute, jansson for JSON, the zip signature for .keras. The
 * h5py totals are checked by test_corpus_sweep.py. */
#include <hdf5.h>
#include <string.h>

#include "osh-model.h"
#include "osh-test.h"

typedef struct
{
  int opened, refused, graph_first;
  GString *problems;
} Sweep;

/* Why the graph-first load of `path` differs from the whole load `full` (or its error), or
 * NULL. */
static char *
graph_first_difference (const char *path, const OshGraph *full, const OshError *full_err)
{
  OshError err = { 0 };
  OshGraph *g = osh_model_load_graph (path, &err);
  char *why = NULL;
  if (!full)
    {
      if (g && !osh_model_weights_error (g) && !g_str_has_suffix (path, ".json"))
        why = g_strdup ("the graph opens although the whole load fails");
      else if (!g && err.code != full_err->code)
        why = g_strdup_printf ("refused as %s, not %s: %s", osh_error_code_name (err.code),
                               osh_error_code_name (full_err->code), err.message);
      osh_graph_free (g);
      return why;
    }
  int64_t tf = 0, tg = 0;
  if (!g)
    why = g_strdup_printf ("the graph does not open: %s", err.message);
  else if (g->n_layers != full->n_layers || g->n_nodes != full->n_nodes)
    why = g_strdup ("other layers or nodes");
  else if (osh_graph_total_params (g, &tg) != osh_graph_total_params (full, &tf) || tg != tf)
    why = g_strdup ("other parameter counts");
  for (int n = 0; !why && n < g->n_nodes; n++)
    for (int o = 0; !why && o < g->nodes[n].n_outputs; o++)
      if (!osh_shape_equal (&g->nodes[n].shapes[o], &full->nodes[n].shapes[o]))
        why = g_strdup_printf ("node %d: another output shape", n);
  if (!why && !osh_model_load_weights (g, &err))
    why = g_strdup_printf ("the weights do not load: %s", err.message);
  for (int i = 0; !why && i < g->n_layers; i++)
    for (int w = 0; !why && w < g->layers[i].n_weights; w++)
      {
        const OshTensor *a = g->layers[i].weights[w].value, *b = full->layers[i].weights[w].value;
        size_t bytes = (size_t) osh_tensor_numel (b) * sizeof (float);
        if (!osh_shape_equal (&a->shape, &b->shape) || (a->data == NULL) != (b->data == NULL)
            || (bytes && memcmp (a->data, b->data, bytes) != 0))
          why = g_strdup_printf ("layer '%s' weight %d: other values", g->layers[i].name, w);
      }
  if (!why && g_strcmp0 (osh_model_weights_warning (g), osh_model_weights_warning (full)) != 0)
    why = g_strdup ("another NaN/Inf warning");
  osh_graph_free (g);
  return why;
}

static gboolean
holds_model (const char *path)
{
  guint8 head[8] = { 0 };
  FILE *f = fopen (path, "rb");
  size_t n = f ? fread (head, 1, sizeof head, f) : 0;
  if (f)
    fclose (f);
  if (n == 8 && memcmp (head, "\x89HDF\r\n\x1a\n", 8) == 0)
    {
      H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
      hid_t h = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
      gboolean yes = h >= 0 && H5Aexists (h, "model_config") > 0;
      if (h >= 0)
        H5Fclose (h);
      return yes;
    }
  if (n >= 4 && memcmp (head, "PK\x03\x04", 4) == 0)
    return TRUE;
  if (n >= 1 && head[0] == '{')
    {
      json_t *doc = json_load_file (path, JSON_ALLOW_NUL, NULL);
      const char *cls = json_string_value (json_object_get (doc, "class_name"));
      gboolean yes = json_object_get (doc, "modelTopology")
                     || (cls
                         && (strcmp (cls, "Sequential") == 0 || strcmp (cls, "Model") == 0
                             || strcmp (cls, "Functional") == 0));
      json_decref (doc);
      return yes;
    }
  return FALSE;
}

static void
sweep_dir (const char *dir, Sweep *s)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (!d)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        sweep_dir (path, s);
      else
        {
          OshError err = { 0 };
          OshGraph *g = osh_model_load (path, &err);
          gboolean model = holds_model (path);
          if (g && model)
            s->opened++;
          else if (!g && !model && strstr (err.message, name))
            s->refused++;
          else
            g_string_append_printf (s->problems, "%s: %s\n", path,
                                    g ? "opened, but holds no model" : err.message);
          char *why = graph_first_difference (path, g, &err);
          if (why)
            g_string_append_printf (s->problems, "%s: graph first: %s\n", path, why);
          else
            s->graph_first++;
          g_free (why);
          osh_graph_free (g);
        }
      g_free (path);
    }
  g_dir_close (d);
}

static void
test_sweep (void)
{
  char *root = osh_test_corpus ("");
  if (!g_file_test (root, G_FILE_TEST_IS_DIR))
    {
      g_free (root);
      g_test_skip ("corpus absent");
      return;
    }
  Sweep s = { 0, 0, 0, g_string_new ("") };
  sweep_dir (root, &s);
  g_test_message ("%d files hold a model and open; %d others are refused with their name; %d "
                  "give the same through the graph-first load",
                  s.opened, s.refused, s.graph_first);
  if (s.problems->len)
    g_error ("%s", s.problems->str);
  /* 607 .h5 models + 165 JSON configs + 2 .keras (the dl4j suite, face_classification, keras3). */
  g_assert_cmpint (s.opened, >=, 770);
  g_assert_cmpint (s.refused, >=, 190);
  g_assert_cmpint (s.graph_first, ==, s.opened + s.refused);
  g_string_free (s.problems, TRUE);
  g_free (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/readers/corpus/every-file", test_sweep);
  return g_test_run ();
}
