/* ONNX graphs run channels-last between the steps that can (the executor's layout pass): the
 * outputs and captured activations are the ones the channels-first schedule gives, in NCHW, and
 * conversions sit only where an NHWC-capable step meets one that is not.
 * Fixture: tools/reference/onnx-layout-fixture.py (layoutnet: Conv, Relu, Resize, MaxPool, Add,
 * depthwise Conv, a squeeze-excite Mul, HardSwish, AveragePool, Concat, GlobalAveragePool,
 * Flatten, Gemm, an intermediate output, a Pad and Softmax that run channels-first only, and
 * constant arithmetic that folds into the steps before it). */
#include <math.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-test.h"

static const char *const captured[] = { "/Relu", "/Resize_1", "/Add_1", "/Concat_2" };
enum
{
  N_CAPTURED = 4
};

typedef struct
{
  OshGraph *g;
  OshTensor *x;
} Fixture;

static Fixture
load_named (const char *name)
{
  g_autofree char *dir = osh_test_fixture ("onnx/fixtures");
  g_autofree char *model = g_strdup_printf ("%s/%s.onnx", dir, name);
  g_autofree char *input = g_strdup_printf ("%s/%s.input.npy", dir, name);
  OshError err = { 0 };
  Fixture f = { osh_model_load (model, &err), NULL };
  if (!f.g)
    g_error ("%s", err.message);
  f.x = osh_npy_read (input, &err);
  if (!f.x)
    g_error ("%s", err.message);
  return f;
}

static Fixture
load (void)
{
  return load_named ("layoutnet");
}

static OshPlan *
plan (const Fixture *f, bool keep_layout, bool capture)
{
  OshExecOptions opt = osh_exec_options_default ();
  opt.keep_layout = keep_layout;
  if (capture)
    {
      opt.capture = captured;
      opt.n_capture = N_CAPTURED;
    }
  OshError err = { 0 };
  OshPlan *p = osh_plan_new (f->g, &opt, &err);
  if (!p)
    g_error ("%s", err.message);
  return p;
}

static int
count_class (const OshPlan *p, const char *cls)
{
  int n = 0;
  OshPlanStep s;
  for (int i = 0; osh_plan_step (p, i, &s); i++)
    n += strcmp (s.class_name, cls) == 0;
  return n;
}

static bool
has_step (const OshPlan *p, const char *path)
{
  OshPlanStep s;
  for (int i = 0; osh_plan_step (p, i, &s); i++)
    if (strcmp (s.path, path) == 0)
      return true;
  return false;
}

/* max |a - b| <= 1e-5 × max (1, max |b|): float rounding, not a layout mix-up. */
static void
assert_close (const char *what, const float *a, const float *b, int64_t n)
{
  float max_ref = 0, max_diff = 0;
  for (int64_t k = 0; k < n; k++)
    {
      max_ref = fmaxf (max_ref, fabsf (b[k]));
      max_diff = fmaxf (max_diff, fabsf (a[k] - b[k]));
    }
  g_test_message ("%s: max |diff| %.3g, max |ref| %.3g", what, max_diff, max_ref);
  g_assert_cmpfloat (max_ref, >, 0);
  g_assert_cmpfloat (max_diff, <=, 1e-5f * fmaxf (1.0f, max_ref));
}

static void
run (OshPlan *p, const Fixture *f, OshTensor **outs)
{
  OshError err = { 0 };
  if (!osh_plan_run (p, (const OshTensor *const *) &f->x, 1, outs, &err))
    g_error ("%s", err.message);
}

/* Outputs with and without the layout pass agree (and ONNX Runtime's: test-onnx-parity.c). */
static void
test_same_outputs (void)
{
  Fixture f = load ();
  OshPlan *nchw = plan (&f, true, false), *mixed = plan (&f, false, false);
  g_assert_cmpint (count_class (nchw, "ToNHWC") + count_class (nchw, "ToNCHW"), ==, 0);
  /* The pass did something, both ways: the graph mixes NHWC-capable and NCHW-only steps. */
  g_assert_cmpint (count_class (mixed, "ToNHWC"), >=, 1);
  g_assert_cmpint (count_class (mixed, "ToNCHW"), >=, 1);
  /* A convolution between two channels-first steps (Softmax over channels) stays channels-first:
   * switching it would add two conversions and save none. */
  g_assert_true (has_step (mixed, "/tail/Conv"));
  g_assert_false (has_step (mixed, "/Softmax (to NHWC)"));
  g_assert_false (has_step (mixed, "/tail/Conv (to NCHW)"));
  /* HardSwish written out (h · clip (h + 3, 0, 6) / 6 · 1.5 - 0.1): the clipped sum, the
   * division and the constant affine fold into the product, the constant gain and offset into
   * the convolution. */
  g_assert_cmpint (count_class (mixed, "Div") + count_class (mixed, "Sub"), ==, 0);
  g_assert_cmpint (count_class (nchw, "Div") + count_class (nchw, "Sub"), ==, 0);
  g_assert_false (has_step (mixed, "/Add_3"));
  g_assert_false (has_step (nchw, "/Add_3"));
  OshTensor *a[2], *b[2];
  run (nchw, &f, a);
  run (mixed, &f, b);
  for (int i = 0; i < 2; i++)
    {
      const char *name = osh_plan_output_name (mixed, i);
      g_assert_true (osh_shape_equal (&a[i]->shape, &b[i]->shape));
      assert_close (name, b[i]->data, a[i]->data, osh_tensor_numel (a[i]));
      osh_tensor_free (a[i]);
      osh_tensor_free (b[i]);
    }
  osh_plan_free (nchw);
  osh_plan_free (mixed);
  osh_tensor_free (f.x);
  osh_graph_free (f.g);
}

/* Captured activations are NCHW, as without the pass, also where the capturing step ran
 * channels-last (converted back after it). */
static void
test_captures_nchw (void)
{
  Fixture f = load ();
  OshPlan *nchw = plan (&f, true, true), *mixed = plan (&f, false, true);
  /* The convolutions switch to channels-last only where the packed kernel runs them. */
  for (int i = 0; osh_test_packed_conv () && i < N_CAPTURED; i++)
    {
      g_autofree char *back = g_strdup_printf ("%s (to NCHW)", captured[i]);
      g_assert_true (has_step (mixed, back));
    }
  run (nchw, &f, NULL);
  run (mixed, &f, NULL);
  for (int i = 0; i < N_CAPTURED; i++)
    {
      OshShape sa, sb;
      const float *a = osh_plan_activation (nchw, captured[i], &sa);
      const float *b = osh_plan_activation (mixed, captured[i], &sb);
      g_assert_nonnull (a);
      g_assert_nonnull (b);
      g_assert_true (osh_shape_equal (&sa, &sb));
      g_assert_cmpint (sb.rank, ==, 4);
      assert_close (captured[i], b, a, osh_shape_numel (&sa));
    }
  osh_plan_free (nchw);
  osh_plan_free (mixed);
  osh_tensor_free (f.x);
  osh_graph_free (f.g);
}

/* A whole small network (squeeze-excite products folded into convolutions, HardSwish,
 * standalone BatchNormalizations after narrow convolutions): the same outputs both ways. */
static void
test_mobilenet_v3 (void)
{
  Fixture f = load_named ("mobilenet_v3_small_x025");
  OshPlan *nchw = plan (&f, true, false), *mixed = plan (&f, false, false);
  g_assert_cmpint (count_class (mixed, "ToNHWC"), >=, 1);
  OshTensor *a[1], *b[1];
  run (nchw, &f, a);
  run (mixed, &f, b);
  g_assert_true (osh_shape_equal (&a[0]->shape, &b[0]->shape));
  assert_close ("logits", b[0]->data, a[0]->data, osh_tensor_numel (a[0]));
  osh_tensor_free (a[0]);
  osh_tensor_free (b[0]);
  osh_plan_free (nchw);
  osh_plan_free (mixed);
  osh_tensor_free (f.x);
  osh_graph_free (f.g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onnx/layout/mixed-graph-same-outputs", test_same_outputs);
  g_test_add_func ("/onnx/layout/captures-stay-nchw", test_captures_nchw);
  g_test_add_func ("/onnx/layout/mobilenet-v3-small-same-outputs", test_mobilenet_v3);
  return g_test_run ();
}
