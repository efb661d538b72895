/* Keras's own predictions stored beside models in the dl4j corpus: the executor must reproduce
 * them (Keras 2.x, TensorFlow backend). Covers activation layers whose tfjs versions deviate
 * (ELU alpha, ReLU threshold / negative slope), Conv1D in both layouts with strides, dilation
 * and causal padding, an MLP and a BatchNorm CNN. */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-test.h"

/* A float dataset of an HDF5 file as a tensor (the corpus is read in place, never changed). */
static OshTensor *
h5_tensor (const char *path, const char *dataset)
{
  OshError err = { 0 };
  hid_t f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (f, >=, 0);
  hid_t d = H5Dopen2 (f, dataset, H5P_DEFAULT);
  g_assert_cmpint (d, >=, 0);
  hid_t sp = H5Dget_space (d);
  hsize_t dims[OSH_MAX_RANK];
  int rank = H5Sget_simple_extent_ndims (sp);
  g_assert_cmpint (rank, <=, OSH_MAX_RANK);
  H5Sget_simple_extent_dims (sp, dims, NULL);
  OshShape s = { .rank = rank };
  for (int i = 0; i < rank; i++)
    s.dim[i] = (int64_t) dims[i];
  OshTensor *t = osh_tensor_new (&s, &err);
  g_assert_true (H5Dread (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) >= 0);
  H5Sclose (sp);
  H5Dclose (d);
  H5Fclose (f);
  return t;
}

static void
check_model (const char *model, OshTensor *x, const OshTensor *ref)
{
  OshError err = { 0 };
  OshGraph *g = osh_model_load (model, &err);
  if (!g)
    g_error ("%s", err.message);
  OshExecOptions opt = osh_exec_options_default ();
  opt.batch = x->shape.dim[0];
  OshTensor *y = NULL;
  if (!osh_exec_run_once (g, &opt, (const OshTensor *const *) &x, 1, &y, &err))
    g_error ("%s", err.message);
  g_assert_cmpint (osh_tensor_numel (y), ==, osh_tensor_numel (ref));
  double max_ref = 1, max_diff = 0;
  for (int64_t i = 0; i < osh_tensor_numel (ref); i++)
    {
      max_ref = fmax (max_ref, fabs (ref->data[i]));
      max_diff = fmax (max_diff, fabs ((double) y->data[i] - ref->data[i]));
    }
  g_test_message ("max |diff| %.3g", max_diff);
  g_assert_cmpfloat (max_diff, <=, 1e-4 * max_ref);
  osh_tensor_free (y);
  osh_graph_free (g);
}

static void
test_example (gconstpointer data)
{
  const char *name = data; /* "activations/ELU_0" */
  char *rel = g_strdup_printf ("keras2/dl4j/examples/%s_model.h5", name);
  char *rel_io = g_strdup_printf ("keras2/dl4j/examples/%s_inputs_and_outputs.h5", name);
  char *model = osh_test_corpus (rel), *io = osh_test_corpus (rel_io);
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    g_test_skip ("corpus absent");
  else
    {
      /* The single input and the last layer's predictions. */
      hid_t f = H5Fopen (io, H5F_ACC_RDONLY, H5P_DEFAULT);
      char in_name[128] = "", out_name[128] = "";
      hid_t gi = H5Gopen2 (f, "inputs", H5P_DEFAULT), go = H5Gopen2 (f, "predictions", H5P_DEFAULT);
      H5Lget_name_by_idx (gi, ".", H5_INDEX_NAME, H5_ITER_INC, 0, in_name, sizeof in_name,
                          H5P_DEFAULT);
      H5Lget_name_by_idx (go, ".", H5_INDEX_NAME, H5_ITER_INC, 0, out_name, sizeof out_name,
                          H5P_DEFAULT);
      H5Gclose (gi);
      H5Gclose (go);
      H5Fclose (f);
      char *din = g_strdup_printf ("inputs/%s", in_name),
           *dout = g_strdup_printf ("predictions/%s", out_name);
      OshTensor *x = h5_tensor (io, din), *ref = h5_tensor (io, dout);
      check_model (model, x, ref);
      osh_tensor_free (x);
      osh_tensor_free (ref);
      g_free (din);
      g_free (dout);
    }
  g_free (rel);
  g_free (rel_io);
  g_free (model);
  g_free (io);
}

static void
test_cnn_batch_norm (void)
{
  OshError err = { 0 };
  char *model = osh_test_corpus ("keras2/dl4j/fullconfigs/cnn/cnn_batch_norm.h5");
  char *in = osh_test_corpus ("keras2/dl4j/fullconfigs/cnn/input.npy");
  char *out = osh_test_corpus ("keras2/dl4j/fullconfigs/cnn/predictions.npy");
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    g_test_skip ("corpus absent");
  else
    {
      OshTensor *x = osh_npy_read (in, &err), *ref = osh_npy_read (out, &err);
      g_assert_nonnull (x);
      g_assert_nonnull (ref);
      check_model (model, x, ref);
      osh_tensor_free (x);
      osh_tensor_free (ref);
    }
  g_free (model);
  g_free (in);
  g_free (out);
}

/* Every example of these folders that carries predictions (the recurrent ones cannot run). */
static void
add_examples (const char *folder)
{
  char *rel = g_strdup_printf ("keras2/dl4j/examples/%s", folder);
  char *dir_path = osh_test_corpus (rel);
  GDir *dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *names = g_ptr_array_new ();
  for (const char *f; dir && (f = g_dir_read_name (dir));)
    if (g_str_has_suffix (f, "_inputs_and_outputs.h5"))
      g_ptr_array_add (names, g_strndup (f, strlen (f) - strlen ("_inputs_and_outputs.h5")));
  g_ptr_array_sort (names, (GCompareFunc) (void *) g_ascii_strcasecmp);
  for (guint i = 0; i < names->len; i++)
    {
      /* Owned by the test run: the data outlives g_test_run. */
      char *name = g_strdup_printf ("%s/%s", folder, (char *) names->pdata[i]);
      char *path = g_strdup_printf ("/ops/models/keras-predictions/%s", name);
      g_test_add_data_func_full (path, name, test_example, g_free);
      g_free (path);
      g_free (names->pdata[i]);
    }
  g_ptr_array_free (names, true);
  if (dir)
    g_dir_close (dir);
  g_free (dir_path);
  g_free (rel);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  add_examples ("activations");
  add_examples ("conv1d");
  add_examples ("causal_conv1d");
  add_examples ("simple_sparse_xent");
  g_test_add_func ("/ops/models/keras-predictions/cnn-batch-norm", test_cnn_batch_norm);
  return g_test_run ();
}
