/* The malformed-input corpus (tests/robustness/malformed/, written by
 * tools/reference/malformed-make-corpus.py): every file fails with the exact error class and a
 * message naming the file and the place — or, for NaN/Inf weights, loads with a warning that
 * names the layer. Model files read through HDF5 are also read through the HDF5 guard, which
 * must give the very same error. Runs under the sanitizers in CI: none may crash or leak. */
#include <string.h>

#include "osh-exec.h"
#include "osh-hdf5-guard.h"
#include "osh-image.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-test.h"

typedef enum
{
  LOAD_MODEL,
  PLAN_MODEL, /* loads (to be looked at and fixed), but cannot be planned for a run */
  LOAD_NPY,
  LOAD_IMAGE,
} Loader;

typedef struct
{
  const char *file; /* under tests/robustness/malformed/ */
  Loader loader;
  const char *code;  /* osh_error_code_name, or "ok" for a file that loads */
  const char *place; /* must appear in the message (besides the file's path) */
  const char *what;  /* and this too: what was wrong */
} Case;

static const Case cases[] = {
  /* Keras 2 .h5 */
  { "h5-truncated.h5", LOAD_MODEL, "format", "6496 bytes", "truncated or damaged" },
  { "h5-flipped-superblock.h5", LOAD_MODEL, "format", "12992 bytes", "HDF5 cannot open" },
  { "h5-layers-not-a-list.h5", LOAD_MODEL, "format", "'config.layers'", "is a number" },
  { "h5-units-a-string.h5", LOAD_MODEL, "format", "layer 'fc' (Dense): config 'units'",
    "is a string, expected a whole number" },
  { "h5-cycle.h5", LOAD_MODEL, "format", "'fc' → 'out' → 'fc'", "is part of a cycle" },
  { "h5-dangling-inbound.h5", LOAD_MODEL, "not-found", "layer 'out' call 0",
    "refers to layer 'ghost', which is not in this model" },
  { "h5-duplicate-names.h5", LOAD_MODEL, "format", "\"fc\"", "is used more than once" },
  { "h5-kernel-shape-mismatch.h5", LOAD_MODEL, "shape",
    "layer 'fc' (Dense): weight 0 'fc/kernel:0'", "has shape (3, 5), the config implies (?, 4)" },
  { "h5-nan-weights.h5", LOAD_MODEL, "ok", "layer 'fc' weight 'fc/kernel:0'",
    "holds 2 NaN/Inf values" },
  /* Keras 3 .keras */
  { "keras3-truncated.keras", LOAD_MODEL, "format", "zip", "not a readable zip archive" },
  { "keras3-kernel-shape-mismatch.keras", LOAD_MODEL, "shape",
    "layer 'fc' (Dense): weight 0 'vars/0'", "has shape (3, 6), the config implies (?, 4)" },
  { "keras3-inbound-not-a-list.keras", LOAD_MODEL, "format", "layer 'fc': 'inbound_nodes'",
    "is an object, expected a list of calls" },
  { "keras3-inf-weights.keras", LOAD_MODEL, "ok", "layer 'fc' weight 'vars/0'",
    "holds 1 NaN/Inf values" },
  /* TF.js */
  { "tfjs-truncated/model.json", LOAD_MODEL, "format", "line 1, column 216", "not valid JSON" },
  { "tfjs-missing-shard/model.json", LOAD_MODEL, "io", "weight shard 'group1-shard1of1.bin'",
    "cannot be read" },
  { "tfjs-short-shard/model.json", LOAD_MODEL, "format", "weight 'fc/kernel' needs 24 bytes",
    "the shards hold 20 in all" },
  { "tfjs-shape-a-string/model.json", LOAD_MODEL, "format", "weightsManifest: weight 'fc/kernel'",
    "'shape' is not a list of at most 8 sizes" },
  /* TF.js graph models (engine/tfgraph; tfjs-graph-model/ is a good one, tests/tfgraph runs it):
   * a loop (control flow), a Const without a value and a short shard are refused naming the
   * node or weight; ops without a kernel still open, and a run names them all at once. */
  { "tfjs-graph-cycle/model.json", LOAD_MODEL, "format", "node 'Relu' (Relu) is on a cycle",
    "control flow such as while loops is not supported" },
  { "tfjs-graph-missing-const/model.json", LOAD_MODEL, "format", "Const node 'conv/filter'",
    "has no value in the weights manifest" },
  { "tfjs-graph-short-shard/model.json", LOAD_MODEL, "format",
    "weight 'conv/filter' needs 12 bytes", "the shards hold 10 in all" },
  { "tfjs-graph-unknown-ops/model.json", PLAN_MODEL, "unsupported", "2 TensorFlow ops",
    "Cumsum (1 node), NonMaxSuppressionV5 (2 nodes)" },
  /* Kinds Offshoot recognises but does not open: the message says what the file is. */
  { "tfjs-weights-manifest/tiny_face_detector_model-weights_manifest.json", LOAD_MODEL,
    "unsupported", "a TF.js weights manifest", "Open the model.json that lists these shards" },
  { "tflite-model.tflite", LOAD_MODEL, "unsupported", "a TensorFlow Lite model",
    "Offshoot cannot open TFLite files" },
  { "savedmodel-file/saved_model.pb", LOAD_MODEL, "unsupported", "a TensorFlow SavedModel",
    "Offshoot cannot open SavedModels" },
  { "savedmodel-folder", LOAD_MODEL, "unsupported", "a TensorFlow SavedModel",
    "Offshoot cannot open SavedModels" },
  /* ONNX */
  { "onnx-truncated.onnx", LOAD_MODEL, "format", "115 bytes", "not a valid ONNX file" },
  /* A tensor nothing produces is a foreign root, as in Keras's "Graph disconnected": the model
   * opens so `check` can explain it, and a run is refused naming the tensor. */
  { "onnx-missing-initializer.onnx", PLAN_MODEL, "disconnected", "layer 'w' (InputLayer)",
    "Graph disconnected" },
  /* Nodes out of order are sorted (converters append nodes at the end); only a real cycle is
   * refused, naming a node on it. */
  { "onnx-cycle.onnx", LOAD_MODEL, "format", "node 1 ('second', Relu) is on a cycle",
    "its input 'a' is computed from its own output" },
  /* .npy inputs */
  { "npy-complex-dtype.npy", LOAD_NPY, "unsupported", "'<c8'", "dtype" },
  { "npy-shape-past-data.npy", LOAD_NPY, "format", "data at byte 128",
    "holds 20 bytes, expected 48" },
  { "npy-truncated-header.npy", LOAD_NPY, "format", "header of 118 bytes at byte 10",
    "does not fit in the 30-byte file" },
  /* pictures for `run` and the window (the reasons after "picture:" are libpng's and libjpeg's) */
  { "image-text.png", LOAD_IMAGE, "format", "first bytes",
    "not a PNG, JPEG, GIF, BMP or TIFF picture" },
  { "image-truncated.png", LOAD_IMAGE, "format", "after row 31 of 64", "png picture's data ends" },
  { "image-zero-size.png", LOAD_IMAGE, "format", "png picture", "Invalid IHDR data" },
  { "image-truncated.jpg", LOAD_IMAGE, "format", "jpeg picture", "cannot decode" },
  { "image-huge.png", LOAD_IMAGE, "limit", "30000x30000 pixels", "at most 134217728 in all" },
};

static bool
load (const Case *c, const char *path, OshError *err, char **warning)
{
  *warning = NULL;
  switch (c->loader)
    {
    case LOAD_MODEL:
      {
        OshGraph *g = osh_model_load (path, err);
        if (g && osh_model_weights_warning (g))
          *warning = g_strdup (osh_model_weights_warning (g));
        osh_graph_free (g);
        return g != NULL;
      }
    case PLAN_MODEL:
      {
        OshGraph *g = osh_model_load (path, err);
        g_assert_nonnull (g);
        OshExecOptions opt = osh_exec_options_default ();
        OshPlan *plan = osh_plan_new (g, &opt, err);
        osh_plan_free (plan);
        osh_graph_free (g);
        return plan != NULL;
      }
    case LOAD_NPY:
      {
        OshTensor *t = osh_npy_read (path, err);
        osh_tensor_free (t);
        return t != NULL;
      }
    case LOAD_IMAGE:
      {
        OshImage *img = osh_image_load (path, err);
        osh_image_free (img);
        return img != NULL;
      }
    }
  return false;
}

static void
check (const Case *c, const char *path, bool ok, const OshError *err, const char *warning)
{
  if (strcmp (c->code, "ok") == 0)
    {
      g_assert_true (ok);
      g_assert_nonnull (warning);
      g_assert_nonnull (strstr (warning, c->place));
      g_assert_nonnull (strstr (warning, c->what));
      return;
    }
  g_assert_false (ok);
  g_test_message ("%s", err->message);
  g_assert_cmpstr (osh_error_code_name (err->code), ==, c->code);
  /* A plan is made from a graph, which no longer knows its file. */
  if (c->loader != PLAN_MODEL)
    g_assert_nonnull (strstr (err->message, path));
  g_assert_nonnull (strstr (err->message, c->place));
  g_assert_nonnull (strstr (err->message, c->what));
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *relative = g_build_filename ("robustness/malformed", c->file, NULL);
  g_autofree char *path = osh_test_fixture (relative);
  OshError err = { 0 };
  g_autofree char *warning = NULL;
  bool ok = load (c, path, &err, &warning);
  check (c, path, ok, &err, warning);

  OshFormat f = c->loader == LOAD_MODEL ? osh_format_from_name (path) : OSH_FORMAT_UNKNOWN;
  if (f == OSH_FORMAT_H5 || f == OSH_FORMAT_KERAS3)
    {
      OshError guarded = { 0 };
      g_autofree char *guarded_warning = NULL;
      osh_hdf5_guard_enable ("/proc/self/exe");
      bool guarded_ok = load (c, path, &guarded, &guarded_warning);
      osh_hdf5_guard_enable (NULL);
      check (c, path, guarded_ok, &guarded, guarded_warning);
      g_assert_cmpstr (guarded.message, ==, err.message);
    }
}

int
main (int argc, char **argv)
{
  int status = osh_hdf5_guard_child_main (argc, argv);
  if (status >= 0)
    return status;
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *name = g_strdup (cases[i].file);
      char *slash = strchr (name, '/');
      if (slash)
        *slash = '\0';
      g_autofree char *test_path = g_strdup_printf ("/robustness/malformed/%s", name);
      g_free (name);
      g_test_add_data_func (test_path, &cases[i], test_case);
    }
  return g_test_run ();
}
