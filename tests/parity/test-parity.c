/* Whole-model parity against independent references:
 *  - /parity/tfjs/NAME: small tfjs-built models covering every op family, and the corpus
 *    face_classification models on their photos (fixtures/NAME, made by
 *    tools/reference/parity-make-fixtures.mjs with tfjs's CPU backend);
 *  - /parity/keras/...: the dl4j files whose reference numbers Keras itself computed.
 * Tolerance: max |y - ref| ≤ 1e-4 × max(1, max |ref|).
 * A case is skipped (not failed) while the reader or the executor it needs reports
 * "not implemented yet"; every other failure fails. */
#include <hdf5.h>
#include <math.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-test.h"

/* Runs `g` on x (any batch) and returns its first output. */
static OshTensor *
parity_run (const OshGraph *g, const OshTensor *x, OshError *err)
{
  OshExecOptions opt = osh_exec_options_default ();
  opt.batch = x->shape.dim[0];
  OshTensor *outs[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  if (!osh_exec_run_once (g, &opt, (const OshTensor *const[]){ x }, 1, outs, err))
    return NULL;
  for (int i = 1; i < OSH_EXEC_MAX_OUTPUTS; i++)
    osh_tensor_free (outs[i]);
  return outs[0];
}

static bool
skip_if_missing (const OshError *err)
{
  if (err->code == OSH_ERR_UNSUPPORTED && strstr (err->message, "not implemented yet"))
    {
      g_test_skip (err->message);
      return true;
    }
  return false;
}

/* Loads, runs and compares; `label` names the case in failure messages. */
static void
check_parity (const char *label, const char *model_path, const OshTensor *x, const OshTensor *ref)
{
  OshError err = { 0 };
  OshGraph *g = osh_model_load (model_path, &err);
  if (!g)
    {
      if (!skip_if_missing (&err))
        g_test_fail_printf ("%s: %s", label, err.message);
      return;
    }
  OshTensor *y = parity_run (g, x, &err);
  if (!y)
    {
      osh_graph_free (g);
      if (!skip_if_missing (&err))
        g_test_fail_printf ("%s: %s", label, err.message);
      return;
    }
  if (osh_tensor_numel (y) != osh_tensor_numel (ref))
    {
      char got[128], want[128];
      osh_shape_format (&y->shape, got, sizeof got);
      osh_shape_format (&ref->shape, want, sizeof want);
      g_test_fail_printf ("%s: output shape %s, reference %s", label, got, want);
      osh_tensor_free (y);
      osh_graph_free (g);
      return;
    }
  double max_ref = 0, max_diff = 0;
  int64_t worst = 0;
  for (int64_t i = 0; i < osh_tensor_numel (ref); i++)
    {
      max_ref = fmax (max_ref, fabs (ref->data[i]));
      double d = fabs ((double) y->data[i] - ref->data[i]);
      if (!(d <= max_diff)) /* NaN counts as the worst */
        max_diff = isnan (d) ? INFINITY : d, worst = i;
    }
  double tol = 1e-4 * fmax (1.0, max_ref);
  g_test_message ("%s: max|diff| %.3g (tolerance %.3g) over %lld values", label, max_diff, tol,
                  (long long) osh_tensor_numel (ref));
  if (!(max_diff <= tol))
    g_test_fail_printf ("%s: max|diff| %.3g > %.3g at element %lld (got %.7g, reference %.7g)",
                        label, max_diff, tol, (long long) worst, y->data[worst], ref->data[worst]);
  osh_tensor_free (y);
  osh_graph_free (g);
}

static OshTensor *
read_npy_or_die (const char *path)
{
  OshError err = { 0 };
  OshTensor *t = osh_npy_read (path, &err);
  if (!t)
    g_error ("%s", err.message);
  return t;
}

/* fixtures/NAME/{model.json, input.npy, output.npy}; face_* models come from the corpus. */
static void
test_tfjs_fixture (gconstpointer data)
{
  const char *name = data;
  char *dir = g_strdup_printf ("parity/fixtures/%s", name);
  char *in_rel = g_build_filename (dir, "input.npy", NULL);
  char *out_rel = g_build_filename (dir, "output.npy", NULL);
  char *in = osh_test_fixture (in_rel), *out = osh_test_fixture (out_rel);
  char *model;
  if (g_str_has_prefix (name, "face_"))
    {
      static const char *files[][2] = {
        { "face_fer2013_mini_XCEPTION", "fer2013_mini_XCEPTION.102-0.66.hdf5" },
        { "face_fer2013_big_XCEPTION", "fer2013_big_XCEPTION.54-0.66.hdf5" },
        { "face_gender_mini_XCEPTION", "gender_mini_XCEPTION.21-0.95.hdf5" },
        { "face_tiny_XCEPTION_KDEF", "tiny_XCEPTION_KDEF.hdf5" },
      };
      const char *file = NULL;
      for (size_t i = 0; i < G_N_ELEMENTS (files); i++)
        if (strcmp (files[i][0], name) == 0)
          file = files[i][1];
      g_assert_nonnull (file);
      char *rel = g_build_filename ("keras2/face_classification", file, NULL);
      model = osh_test_corpus (rel);
      g_free (rel);
    }
  else
    {
      char *rel = g_build_filename (dir, "model.json", NULL);
      model = osh_test_fixture (rel);
      g_free (rel);
    }
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    g_test_skip ("model file not present (corpus missing?)");
  else
    {
      OshTensor *x = read_npy_or_die (in), *ref = read_npy_or_die (out);
      check_parity (name, model, x, ref);
      osh_tensor_free (x);
      osh_tensor_free (ref);
    }
  g_free (model);
  g_free (in);
  g_free (out);
  g_free (in_rel);
  g_free (out_rel);
  g_free (dir);
}

/* dl4j fullconfigs: input.npy and predictions.npy written by Keras (5 inputs, batch 5). */
static void
test_dl4j_fullconfig (gconstpointer data)
{
  const char *const *c = data; /* { folder, model file } */
  char *model_rel = g_build_filename ("keras2/dl4j/fullconfigs", c[0], c[1], NULL);
  char *in_rel = g_build_filename ("keras2/dl4j/fullconfigs", c[0], "input.npy", NULL);
  char *out_rel = g_build_filename ("keras2/dl4j/fullconfigs", c[0], "predictions.npy", NULL);
  char *model = osh_test_corpus (model_rel), *in = osh_test_corpus (in_rel),
       *out = osh_test_corpus (out_rel);
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    g_test_skip ("model file not in the corpus");
  else
    {
      OshTensor *x = read_npy_or_die (in), *ref = read_npy_or_die (out);
      check_parity (c[0], model, x, ref);
      osh_tensor_free (x);
      osh_tensor_free (ref);
    }
  g_free (model);
  g_free (in);
  g_free (out);
  g_free (model_rel);
  g_free (in_rel);
  g_free (out_rel);
}

/* The single dataset inside group `group` of an HDF5 file, as float32. */
static OshTensor *
read_h5_single (const char *path, const char *group)
{
  hid_t f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (f, >=, 0);
  hid_t g = H5Gopen2 (f, group, H5P_DEFAULT);
  g_assert_cmpint (g, >=, 0);
  char name[256];
  g_assert_cmpint (
      H5Lget_name_by_idx (g, ".", H5_INDEX_NAME, H5_ITER_INC, 0, name, sizeof name, H5P_DEFAULT), >,
      0);
  hid_t d = H5Dopen2 (g, name, H5P_DEFAULT);
  hid_t space = H5Dget_space (d);
  hsize_t dims[OSH_MAX_RANK];
  int rank = H5Sget_simple_extent_dims (space, dims, NULL);
  g_assert_cmpint (rank, >, 0);
  OshShape s = { .rank = rank };
  for (int i = 0; i < rank; i++)
    s.dim[i] = (int64_t) dims[i];
  OshTensor *t = osh_tensor_new (&s, NULL);
  g_assert_nonnull (t);
  g_assert_cmpint (H5Dread (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data), >=, 0);
  H5Sclose (space);
  H5Dclose (d);
  H5Gclose (g);
  H5Fclose (f);
  return t;
}

/* dl4j examples/activations: NAME_model.h5 with Keras's own predictions beside it. */
static void
test_dl4j_activation (gconstpointer data)
{
  const char *name = data;
  char *model_rel = g_strdup_printf ("keras2/dl4j/examples/activations/%s_model.h5", name);
  char *io_rel =
      g_strdup_printf ("keras2/dl4j/examples/activations/%s_inputs_and_outputs.h5", name);
  char *model = osh_test_corpus (model_rel), *io = osh_test_corpus (io_rel);
  if (!g_file_test (model, G_FILE_TEST_EXISTS) || !g_file_test (io, G_FILE_TEST_EXISTS))
    g_test_skip ("not in the corpus");
  else
    {
      OshTensor *x = read_h5_single (io, "inputs"), *ref = read_h5_single (io, "predictions");
      check_parity (name, model, x, ref);
      osh_tensor_free (x);
      osh_tensor_free (ref);
    }
  g_free (model);
  g_free (io);
  g_free (model_rel);
  g_free (io_rel);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static const char *tfjs[] = {
    "conv2d_valid",
    "conv2d_same_stride2",
    "conv2d_same_stride2_even",
    "conv2d_valid_strides",
    "conv2d_dilated",
    "conv2d_1x1",
    "depthwise",
    "separable",
    "conv2d_transpose",
    "dense",
    "dense_rank3",
    "batchnorm",
    "layernorm",
    "activations",
    "activation_layers",
    "pooling",
    "global_pooling",
    "global_pooling_1d",
    "pad_crop_upsample",
    "merges",
    "concat_axis1",
    "reshape_flatten_permute",
    "squeeze_excite",
    "rescaling",
    "mini_xception",
    "face_fer2013_mini_XCEPTION",
    "face_fer2013_big_XCEPTION",
    "face_gender_mini_XCEPTION",
    "face_tiny_XCEPTION_KDEF",
  };
  for (size_t i = 0; i < G_N_ELEMENTS (tfjs); i++)
    {
      char *path = g_strdup_printf ("/parity/tfjs/%s", tfjs[i]);
      g_test_add_data_func (path, tfjs[i], test_tfjs_fixture);
      g_free (path);
    }
  static const char *cnn[] = { "cnn", "cnn_batch_norm.h5" };
  static const char *cnn_bn[] = { "cnn_batch_norm", "cnn_batch_norm_medium.h5" };
  g_test_add_data_func ("/parity/keras/dl4j-fullconfigs-cnn", cnn, test_dl4j_fullconfig);
  g_test_add_data_func ("/parity/keras/dl4j-fullconfigs-cnn-batch-norm", cnn_bn,
                        test_dl4j_fullconfig);
  static const char *acts[] = { "ELU_0",  "LeakyReLU_0", "ReLU_0",    "ReLU_1",
                                "ReLU_2", "ReLU_3",      "Softmax_0", "ThresholdReLU_0" };
  for (size_t i = 0; i < G_N_ELEMENTS (acts); i++)
    {
      char *path = g_strdup_printf ("/parity/keras/dl4j-activations/%s", acts[i]);
      g_test_add_data_func (path, acts[i], test_dl4j_activation);
      g_free (path);
    }
  return g_test_run ();
}
