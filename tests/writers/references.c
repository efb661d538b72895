/* The independent references the writer tests ask (references.h). */
#include "references.h"

#include "osh-test.h"

/* Runs an independent reference (python3 or node) and parses its one-JSON-document output. */
static json_t *
run_reference (const char *const *argv)
{
  char *out = NULL, *errout = NULL;
  int status = 0;
  GError *error = NULL;
  gboolean spawned = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                   &out, &errout, &status, &error);
  g_assert_no_error (error);
  g_assert_true (spawned);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed (%s): %s", argv[1], argv[2], errout && *errout ? errout : out);
  json_error_t e;
  json_t *doc = json_loads (out, 0, &e);
  if (!doc)
    g_error ("%s printed no JSON (%s): %s", argv[1], e.text, out);
  g_free (out);
  g_free (errout);
  return doc;
}

json_t *
h5py_summary (const char *path, bool keras)
{
  char *script = osh_test_fixture ("writers/h5_summary.py");
  const char *argv[] = { "/usr/bin/python3", script, keras ? "--keras" : path, keras ? path : NULL,
                         NULL };
  json_t *doc = run_reference (argv);
  g_free (script);
  return doc;
}

json_t *
tfjs_predict (const char *model_json, const char *input)
{
  char *script = osh_test_fixture ("writers/tfjs_predict.mjs");
  const char *argv[] = { "node", script, model_json, input, NULL };
  json_t *doc = run_reference (argv);
  g_free (script);
  return doc;
}
