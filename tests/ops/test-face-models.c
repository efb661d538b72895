/* The corpus face_classification models (Keras 2 .h5: Conv2D, BatchNorm, SeparableConv2D, Add,
 * MaxPooling, GlobalAveragePooling, softmax) run end to end and match tfjs's outputs on the same
 * photo (tests/parity/fixtures/face_*: input.npy and output.npy made by the parity script). */
#include <math.h>
#include <stdlib.h>

#include "osh-exec.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-test.h"

typedef struct
{
  const char *path;    /* test path */
  const char *model;   /* corpus-relative */
  const char *fixture; /* tests/parity/fixtures/<dir> */
} FaceCase;

static const FaceCase cases[] = {
  { "/ops/models/face/fer2013-mini-xception",
    "keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5",
    "face_fer2013_mini_XCEPTION" },
  { "/ops/models/face/fer2013-big-xception",
    "keras2/face_classification/fer2013_big_XCEPTION.54-0.66.hdf5", "face_fer2013_big_XCEPTION" },
  { "/ops/models/face/gender-mini-xception",
    "keras2/face_classification/gender_mini_XCEPTION.21-0.95.hdf5", "face_gender_mini_XCEPTION" },
  { "/ops/models/face/tiny-xception-kdef", "keras2/face_classification/tiny_XCEPTION_KDEF.hdf5",
    "face_tiny_XCEPTION_KDEF" },
};

static int
argmax (const float *x, int64_t n)
{
  int best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best])
      best = (int) i;
  return best;
}

static void
run_face (gconstpointer data)
{
  const FaceCase *fc = data;
  OshError err = { 0 };
  char *model = osh_test_corpus (fc->model);
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("corpus absent");
      g_free (model);
      return;
    }
  char *rel_in = g_build_filename ("parity", "fixtures", fc->fixture, "input.npy", NULL);
  char *rel_out = g_build_filename ("parity", "fixtures", fc->fixture, "output.npy", NULL);
  char *in_path = osh_test_fixture (rel_in), *out_path = osh_test_fixture (rel_out);
  OshGraph *g = osh_model_load (model, &err);
  if (!g)
    g_error ("%s", err.message);
  OshTensor *x = osh_npy_read (in_path, &err);
  OshTensor *ref = osh_npy_read (out_path, &err);
  g_assert_nonnull (x);
  g_assert_nonnull (ref);

  OshExecOptions opt = osh_exec_options_default ();
  opt.batch = x->shape.dim[0];
  OshPlan *plan = osh_plan_new (g, &opt, &err);
  if (!plan)
    g_error ("%s", err.message);
  OshTensor *y = NULL;
  if (!osh_plan_run (plan, (const OshTensor *const *) &x, 1, &y, &err))
    g_error ("%s", err.message);
  g_assert_true (osh_shape_equal (&y->shape, &ref->shape));
  double max_ref = 1, max_diff = 0;
  for (int64_t i = 0; i < osh_tensor_numel (ref); i++)
    {
      max_ref = fmax (max_ref, fabs (ref->data[i]));
      max_diff = fmax (max_diff, fabs ((double) y->data[i] - ref->data[i]));
    }
  g_test_message ("%s: %.3f GFLOP, max |diff| %.2g, class %d", fc->fixture,
                  osh_plan_flops (plan) / 1e9, max_diff, argmax (y->data, osh_tensor_numel (y)));
  g_assert_cmpfloat (max_diff, <=, 1e-4 * max_ref);
  /* The label a user sees is tfjs's. */
  int64_t classes = y->shape.dim[y->shape.rank - 1];
  g_assert_cmpint (argmax (y->data, classes), ==, argmax (ref->data, classes));

  osh_tensor_free (y);
  osh_plan_free (plan);
  osh_tensor_free (x);
  osh_tensor_free (ref);
  osh_graph_free (g);
  g_free (rel_in);
  g_free (rel_out);
  g_free (in_path);
  g_free (out_path);
  g_free (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], run_face);
  return g_test_run ();
}
