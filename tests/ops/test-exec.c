/* The executor: nested models inlined (a model called twice), captures, keep-all, cancel,
 * buffer reuse by liveness, threads, FLOP counts and the errors users see. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops-test.h"
#include "osh-exec.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-onnx.h"
#include "osh-shapes.h"

static const char *conv_cfg = "{\"filters\": 2, \"kernel_size\": 3, \"padding\": \"same\"}";

static OshTensor *
ramp (const OshShape *s, float scale)
{
  OshError err = { 0 };
  OshTensor *t = osh_tensor_new (s, &err);
  for (int64_t i = 0; i < osh_tensor_numel (t); i++)
    t->data[i] = scale * (float) ((i * 37 % 23) - 11);
  return t;
}

/* x → bb → bb → add(first, second) → GAP, with outputs [gap, first call]; bb = Conv2D inside a
 * nested model. `flat` builds the same computation with two top-level convs sharing weights. */
static OshGraph *
build_twice (bool flat)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 6, 6, 2]}", 0);
  int first, second;
  if (flat)
    {
      first = ot_add (g, -1, "conv_a", "Conv2D", conv_cfg, 1, x);
      ot_weight (g, first, 4, (int64_t[]){ 3, 3, 2, 2 });
      ot_weight (g, first, 1, (int64_t[]){ 2 });
      second = ot_add (g, -1, "conv_b", "Conv2D", conv_cfg, 1, first);
      ot_weight (g, second, 4, (int64_t[]){ 3, 3, 2, 2 });
      ot_weight (g, second, 1, (int64_t[]){ 2 });
    }
  else
    {
      int bb = osh_graph_add_layer (g, -1, "bb", "Functional", NULL, &err);
      int bx = ot_add (g, bb, "bb_in", "InputLayer",
                       "{\"batch_input_shape\": [null, null, null, 2]}", 0);
      int conv = ot_add (g, bb, "conv", "Conv2D", conv_cfg, 1, bx);
      ot_weight (g, conv, 4, (int64_t[]){ 3, 3, 2, 2 });
      ot_weight (g, conv, 1, (int64_t[]){ 2 });
      ot_io (g, bb, bx, conv);
      OshRef xr = { x, 0 };
      first = osh_graph_add_node (g, bb, &xr, 1, 1, &err);
      OshRef fr = { first, 0 };
      second = osh_graph_add_node (g, bb, &fr, 1, 1, &err);
    }
  int add = ot_add (g, -1, "add", "Add", NULL, 2, first, second);
  int gap = ot_add (g, -1, "gap", "GlobalAveragePooling2D", NULL, 1, add);
  OshRef in = { x, 0 }, outs[2] = { { gap, 0 }, { first, 0 } };
  g_assert_true (osh_graph_set_io (g, -1, &in, 1, outs, 2, &err));
  g_assert_true (osh_graph_infer_shapes (g, &err));
  return g;
}

static double
max_diff (const OshTensor *a, const OshTensor *b)
{
  g_assert_true (osh_shape_equal (&a->shape, &b->shape));
  double d = 0;
  for (int64_t i = 0; i < osh_tensor_numel (a); i++)
    d = fmax (d, fabs ((double) a->data[i] - b->data[i]));
  return d;
}

static void
test_nested_twice (void)
{
  OshError err = { 0 };
  OshGraph *nested = build_twice (false), *flat = build_twice (true);
  OshExecOptions opt = osh_exec_options_default ();
  opt.batch = 2;
  const char *keep[] = { "bb/conv" };
  opt.capture = keep;
  opt.n_capture = 1;
  OshPlan *p = osh_plan_new (nested, &opt, &err);
  if (!p)
    g_error ("%s", err.message);
  g_assert_cmpint (osh_plan_n_outputs (p), ==, 2);
  g_assert_cmpstr (osh_plan_output_name (p, 0), ==, "gap");
  g_assert_cmpstr (osh_plan_input_name (p, 0), ==, "in");
  g_assert_cmpint (osh_plan_input_shape (p, 0)->dim[0], ==, 2);
  /* Two convolutions of 2·6·6 pixels · 18 · 2 multiply-adds, then add and pooling. */
  g_assert_cmpfloat (osh_plan_flops (p), >=, 2 * 2.0 * 72 * 18 * 2);
  g_assert_cmpfloat (osh_plan_flops (p), <, 2 * 2.0 * 72 * 18 * 2 + 1000);
  g_assert_null (osh_plan_activation (p, "bb/conv", NULL)); /* not run yet */

  OshTensor *x = ramp (osh_plan_input_shape (p, 0), 0.1f);
  OshTensor *y[2], *ref[2];
  g_assert_true (osh_plan_run (p, (const OshTensor *const *) &x, 1, y, &err));
  OshExecOptions plain = osh_exec_options_default ();
  plain.batch = 2;
  g_assert_true (osh_exec_run_once (flat, &plain, (const OshTensor *const *) &x, 1, ref, &err));
  g_assert_cmpfloat (max_diff (y[0], ref[0]), <=, 1e-6);
  g_assert_cmpfloat (max_diff (y[1], ref[1]), <=, 1e-6);

  /* The capture is the first call's output, which is also output 1. */
  OshShape s;
  const float *act = osh_plan_activation (p, "bb/conv", &s);
  g_assert_nonnull (act);
  g_assert_true (osh_shape_equal (&s, &y[1]->shape));
  for (int64_t i = 0; i < osh_tensor_numel (y[1]); i++)
    g_assert_cmpfloat (act[i], ==, y[1]->data[i]);
  g_assert_null (osh_plan_activation (p, "add", NULL)); /* not asked for */

  /* Running again gives the same numbers. */
  OshTensor *again[2];
  g_assert_true (osh_plan_run (p, (const OshTensor *const *) &x, 1, again, &err));
  g_assert_cmpfloat (max_diff (again[0], y[0]), ==, 0);
  for (int i = 0; i < 2; i++)
    {
      osh_tensor_free (y[i]);
      osh_tensor_free (ref[i]);
      osh_tensor_free (again[i]);
    }
  osh_plan_free (p);

  /* Keep-all makes every layer readable. */
  opt.capture = NULL;
  opt.n_capture = 0;
  opt.capture_all = true;
  p = osh_plan_new (nested, &opt, &err);
  g_assert_true (osh_plan_run (p, (const OshTensor *const *) &x, 1, NULL, &err));
  g_assert_nonnull (osh_plan_activation (p, "add", &s));
  g_assert_cmpint (s.dim[3], ==, 2);
  g_assert_nonnull (osh_plan_activation (p, "in", NULL));
  osh_plan_free (p);

  /* Unknown capture paths are refused. */
  const char *bad[] = { "bb/nope" };
  opt.capture = bad;
  opt.n_capture = 1;
  g_assert_null (osh_plan_new (nested, &opt, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_NOT_FOUND);
  osh_tensor_free (x);
  osh_graph_free (nested);
  osh_graph_free (flat);
}

static void
test_cancel_and_bad_input (void)
{
  OshError err = { 0 };
  OshGraph *g = build_twice (false);
  volatile int stop = 1;
  OshExecOptions opt = osh_exec_options_default ();
  opt.cancel = &stop;
  OshPlan *p = osh_plan_new (g, &opt, &err);
  OshTensor *x = ramp (osh_plan_input_shape (p, 0), 1);
  OshTensor *y[2];
  g_assert_false (osh_plan_run (p, (const OshTensor *const *) &x, 1, y, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_CANCELLED);
  stop = 0;
  g_assert_true (osh_plan_run (p, (const OshTensor *const *) &x, 1, y, &err));
  osh_tensor_free (y[0]);
  osh_tensor_free (y[1]);
  osh_tensor_free (x);
  OshShape wrong = osh_shape_make (4, (int64_t[]){ 1, 5, 6, 2 });
  x = ramp (&wrong, 1);
  g_assert_false (osh_plan_run (p, (const OshTensor *const *) &x, 1, y, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  g_assert_nonnull (strstr (err.message, "(1, 5, 6, 2)"));
  osh_tensor_free (x);
  osh_plan_free (p);
  osh_graph_free (g);
}

/* A chain of 12 same-size layers needs about three buffers, not twelve. */
static void
test_liveness (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 32, 32, 8]}", 0);
  int prev = x;
  for (int i = 0; i < 12; i++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "act_%d", i);
      prev = ot_add (g, -1, name, "Activation", "{\"activation\": \"tanh\"}", 1, prev);
    }
  ot_io (g, -1, x, prev);
  OshExecOptions opt = osh_exec_options_default ();
  OshPlan *p = osh_plan_new (g, &opt, &err);
  int64_t one = 32 * 32 * 8 * 4;
  g_assert_cmpint (osh_plan_n_steps (p), ==, 12);
  g_assert_cmpint (osh_plan_buffer_bytes (p), <=, 3 * one);
  OshPlanStep st;
  g_assert_true (osh_plan_step (p, 11, &st));
  g_assert_cmpstr (st.path, ==, "act_11");
  g_assert_cmpstr (st.class_name, ==, "Activation");
  osh_plan_free (p);
  opt.capture_all = true;
  p = osh_plan_new (g, &opt, &err);
  g_assert_cmpint (osh_plan_buffer_bytes (p), ==, 13 * one);
  osh_plan_free (p);
  osh_graph_free (g);
}

/* Several threads give the numbers one thread gives. */
static void
test_threads (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 40, 40, 16]}", 0);
  int dw =
      ot_add (g, -1, "dw", "DepthwiseConv2D", "{\"kernel_size\": 3, \"padding\": \"same\"}", 1, x);
  ot_weight (g, dw, 4, (int64_t[]){ 3, 3, 16, 1 });
  ot_weight (g, dw, 1, (int64_t[]){ 16 });
  int c = ot_add (
      g, -1, "conv", "Conv2D",
      "{\"filters\": 24, \"kernel_size\": 3, \"strides\": 2, \"activation\": \"swish\"}", 1, dw);
  ot_weight (g, c, 4, (int64_t[]){ 3, 3, 16, 24 });
  ot_weight (g, c, 1, (int64_t[]){ 24 });
  int bn = ot_add (g, -1, "pool", "MaxPooling2D", "{\"padding\": \"same\"}", 1, c);
  ot_io (g, -1, x, bn);
  OshExecOptions opt = osh_exec_options_default ();
  OshShape s = osh_shape_make (4, (int64_t[]){ 1, 40, 40, 16 });
  OshTensor *in = ramp (&s, 0.01f), *y1, *y2;
  g_assert_true (osh_exec_run_once (g, &opt, (const OshTensor *const *) &in, 1, &y1, &err));
  opt.threads = 2;
  g_assert_true (osh_exec_run_once (g, &opt, (const OshTensor *const *) &in, 1, &y2, &err));
  g_assert_cmpfloat (max_diff (y1, y2), <=, 1e-5);
  osh_tensor_free (in);
  osh_tensor_free (y1);
  osh_tensor_free (y2);
  osh_graph_free (g);
}

static void
test_errors (void)
{
  OshError err = { 0 };
  OshExecOptions opt = osh_exec_options_default ();
  /* A Lambda cannot run: the message names the layer, its class and why. */
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"input_shape\": [4]}", 0);
  int lam = ot_add (g, -1, "lambda_1", "Lambda", NULL, 1, x);
  ot_io (g, -1, x, lam);
  g_assert_null (osh_plan_new (g, &opt, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "layer 'lambda_1' (Lambda)"));
  g_assert_nonnull (strstr (err.message, "Python"));
  osh_graph_free (g);

  /* An unknown class too. */
  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"input_shape\": [4]}", 0);
  int cu = ot_add (g, -1, "mine", "MyLayer", NULL, 1, x);
  ot_io (g, -1, x, cu);
  g_assert_null (osh_plan_new (g, &opt, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "layer 'mine' (MyLayer)"));
  osh_graph_free (g);

  /* An output that needs a foreign input: Graph disconnected, naming that input. */
  g = osh_graph_new ();
  x = ot_add (g, -1, "input_1", "InputLayer", "{\"input_shape\": [4]}", 0);
  int other = ot_add (g, -1, "input_2", "InputLayer", "{\"input_shape\": [4]}", 0);
  int add = ot_add (g, -1, "add", "Add", NULL, 2, x, other);
  ot_io (g, -1, x, add);
  g_assert_null (osh_plan_new (g, &opt, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_DISCONNECTED);
  g_assert_nonnull (strstr (err.message, "input_2"));
  osh_graph_free (g);

  /* A model input of unknown spatial size needs explicit shapes. */
  g = osh_graph_new ();
  x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, null, null, 3]}", 0);
  int gp = ot_add (g, -1, "gap", "GlobalAveragePooling2D", NULL, 1, x);
  ot_io (g, -1, x, gp);
  g_assert_null (osh_plan_new (g, &opt, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_SHAPE);
  OshShape s = osh_shape_make (4, (int64_t[]){ 1, 5, 7, 3 });
  opt.input_shapes = &s;
  opt.n_input_shapes = 1;
  OshPlan *p = osh_plan_new (g, &opt, &err);
  g_assert_nonnull (p);
  g_assert_cmpint (osh_plan_output_shape (p, 0)->dim[1], ==, 3);
  osh_plan_free (p);
  /* Given shapes must agree with what the model declares. */
  OshShape wrong = osh_shape_make (4, (int64_t[]){ 1, 5, 7, 4 });
  opt.input_shapes = &wrong;
  g_assert_null (osh_plan_new (g, &opt, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  g_assert_nonnull (
      strstr (err.message, "(1, 5, 7, 4) does not fit the model's (1, None, None, 3)"));
  osh_graph_free (g);
}

/* An op with several outputs (ONNX Split) against the conformance suite's expected outputs. */
static OshTensor *
read_pb (const char *dir, const char *name)
{
  OshError err = { 0 };
  char *path = g_build_filename (dir, "test_data_set_0", name, NULL);
  char *data = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (path, &data, &size, NULL));
  OshTensor *t = osh_onnx_tensor_read (path, data, size, &err);
  g_assert_nonnull (t);
  g_free (data);
  g_free (path);
  return t;
}

static void
test_multi_output (void)
{
  const char *dir = "/usr/share/libonnx-testdata/data/node/test_split_equal_parts_2d";
  char *model = g_build_filename (dir, "model.onnx", NULL);
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("libonnx-testdata is not installed");
      g_free (model);
      return;
    }
  OshError err = { 0 };
  OshGraph *g = osh_model_load (model, &err);
  g_assert_nonnull (g);
  OshTensor *x = read_pb (dir, "input_0.pb");
  OshExecOptions opt = osh_exec_options_default ();
  opt.input_shapes = &x->shape;
  opt.n_input_shapes = 1;
  OshPlan *p = osh_plan_new (g, &opt, &err);
  if (!p)
    g_error ("%s", err.message);
  g_assert_cmpint (osh_plan_n_outputs (p), ==, 2);
  OshTensor *y[2];
  g_assert_true (osh_plan_run (p, (const OshTensor *const *) &x, 1, y, &err));
  for (int i = 0; i < 2; i++)
    {
      char name[32];
      g_snprintf (name, sizeof name, "output_%d.pb", i);
      OshTensor *ref = read_pb (dir, name);
      g_assert_cmpfloat (max_diff (y[i], ref), ==, 0);
      osh_tensor_free (ref);
      osh_tensor_free (y[i]);
    }
  osh_plan_free (p);
  osh_tensor_free (x);
  osh_graph_free (g);
  g_free (model);
}

/* OpenBLAS's helper threads spin on a core for a while after each threaded call: a one-thread
 * run stops them, so none steals the other core (or counts in the process's CPU time), and a
 * threaded run after it gets them back, with the same numbers. */
extern int blas_thread_shutdown_ (void) __attribute__ ((weak));

static void
test_blas_threads (void)
{
  if (g_get_num_processors () < 2 || !blas_thread_shutdown_ || osh_exec_thread_count () < 0)
    {
      g_test_skip ("needs two CPUs, /proc and OpenBLAS's pthreads build");
      return;
    }
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 512]}", 0);
  int fc = ot_add (g, -1, "fc", "Dense", "{\"units\": 512}", 1, x); /* a threaded sgemv */
  ot_weight (g, fc, 2, (int64_t[]){ 512, 512 });
  ot_weight (g, fc, 1, (int64_t[]){ 512 });
  ot_io (g, -1, x, fc);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  OshExecOptions opt = osh_exec_options_default ();
  opt.threads = 2;
  OshPlan *plan = osh_plan_new (g, &opt, &err);
  g_assert_nonnull (plan);
  OshShape s = osh_shape_make (2, (int64_t[]){ 1, 512 });
  OshTensor *in = ramp (&s, 0.01f), *y[3];
  const OshTensor *const *xs = (const OshTensor *const *) &in;
  g_assert_true (osh_plan_run (plan, xs, 1, &y[0], &err));
  int threaded = osh_exec_thread_count ();
  osh_plan_set_threads (plan, 1);
  g_assert_true (osh_plan_run (plan, xs, 1, &y[1], &err));
  int single = osh_exec_thread_count ();
  g_assert_cmpint (single, <, threaded);
  osh_tensor_free (y[1]);
  g_assert_true (osh_plan_run (plan, xs, 1, &y[1], &err)); /* and none comes back */
  g_assert_cmpint (osh_exec_thread_count (), ==, single);
  osh_plan_set_threads (plan, 2);
  g_assert_true (osh_plan_run (plan, xs, 1, &y[2], &err));
  g_assert_cmpint (osh_exec_thread_count (), ==, threaded);
  g_assert_cmpfloat (max_diff (y[0], y[1]), <=, 1e-4);
  g_assert_cmpfloat (max_diff (y[0], y[2]), ==, 0);
  g_assert_cmpfloat (fabs (y[0]->data[7]), >, 0); /* the weights are not all zero */
  for (int i = 0; i < 3; i++)
    osh_tensor_free (y[i]);
  osh_tensor_free (in);
  osh_plan_free (plan);
  osh_graph_free (g);
}

/* An ONNX model's input read only by its conversion to channels-last (opsnet's): that step reads
 * the caller's tensor in place instead of a copy: the tensor stays as it was, each run sees the
 * input it was given, and the numbers are ONNX Runtime's. */
static void
test_input_read_in_place (void)
{
  char *model = g_test_build_filename (G_TEST_DIST, "onnx", "fixtures", "opsnet.onnx", NULL);
  char *input = g_test_build_filename (G_TEST_DIST, "onnx", "fixtures", "opsnet.input.npy", NULL);
  char *ort =
      g_test_build_filename (G_TEST_DIST, "onnx", "fixtures", "opsnet.ort.output_0.npy", NULL);
  OshError err = { 0 };
  OshGraph *g = osh_model_load (model, &err);
  g_assert_nonnull (g);
  OshTensor *x = osh_npy_read (input, &err), *want = osh_npy_read (ort, &err);
  g_assert_nonnull (x);
  g_assert_nonnull (want);
  OshExecOptions opt = osh_exec_options_default ();
  OshPlan *plan = osh_plan_new (g, &opt, &err);
  g_assert_nonnull (plan);
  OshPlanStep first;
  g_assert_true (osh_plan_step (plan, 0, &first));
  if (strcmp (first.class_name, "ToNHWC") != 0)
    {
      /* The baseline path convolves channels-first: no conversion reads the input. */
      g_test_skip ("this kernel path reads the input with a convolution, not a conversion");
      osh_plan_free (plan);
      osh_graph_free (g);
      osh_tensor_free (x);
      osh_tensor_free (want);
      g_free (model);
      g_free (input);
      g_free (ort);
      return;
    }
  OshTensor *x_before = osh_tensor_copy (x, &err), *half = osh_tensor_copy (x, &err), *y[3];
  for (int64_t i = 0; i < osh_tensor_numel (half); i++)
    half->data[i] *= 0.5f;
  const OshTensor *const *xs = (const OshTensor *const *) &x;
  g_assert_true (osh_plan_run (plan, xs, 1, &y[0], &err));
  g_assert_true (osh_plan_run (plan, (const OshTensor *const *) &half, 1, &y[1], &err));
  g_assert_true (osh_plan_run (plan, xs, 1, &y[2], &err));
  g_assert_cmpmem (x->data, osh_tensor_numel (x) * sizeof (float), x_before->data,
                   osh_tensor_numel (x) * sizeof (float));
  g_assert_cmpfloat (max_diff (y[0], y[2]), ==, 0);
  g_assert_cmpfloat (max_diff (y[0], y[1]), >, 1e-3);
  double tol = 0;
  for (int64_t i = 0; i < osh_tensor_numel (want); i++)
    tol = fmax (tol, fabs (want->data[i]));
  OshTensor *flat = osh_tensor_copy (y[0], &err);
  flat->shape = want->shape;
  g_assert_cmpfloat (max_diff (flat, want), <=, 1e-4 * fmax (1, tol));
  osh_tensor_free (flat);
  for (int i = 0; i < 3; i++)
    osh_tensor_free (y[i]);
  osh_tensor_free (x);
  osh_tensor_free (x_before);
  osh_tensor_free (half);
  osh_tensor_free (want);
  osh_plan_free (plan);
  osh_graph_free (g);
  g_free (model);
  g_free (input);
  g_free (ort);
}

static void
test_sgemm_yardstick (void)
{
  g_assert_cmpfloat (osh_exec_sgemm_gflops (64, 1), >, 0);
}

/* A convolution that folded a residual Add writes its output over the residual when nothing
 * reads that after: in c1 = conv1 (x), c2 = conv2 (c1) + x, conv3 (c2) + c1, each sum goes over
 * its residual, so two maps of memory do where three would, and the numbers are those of the
 * unfused steps. */
static void
test_output_over_residual (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 12, 10, 32]}", 0);
  int c1 = ot_add (g, -1, "conv1", "Conv2D", "{\"filters\": 32, \"kernel_size\": 1}", 1, x);
  ot_weight (g, c1, 4, (int64_t[]){ 1, 1, 32, 32 });
  ot_weight (g, c1, 1, (int64_t[]){ 32 });
  int c2 = ot_add (g, -1, "conv2", "Conv2D",
                   "{\"filters\": 32, \"kernel_size\": 3, \"padding\": \"same\"}", 1, c1);
  ot_weight (g, c2, 4, (int64_t[]){ 3, 3, 32, 32 });
  ot_weight (g, c2, 1, (int64_t[]){ 32 });
  int a2 = ot_add (g, -1, "add2", "Add", NULL, 2, c2, x);
  int c3 = ot_add (g, -1, "conv3", "Conv2D", "{\"filters\": 32, \"kernel_size\": 1}", 1, a2);
  ot_weight (g, c3, 4, (int64_t[]){ 1, 1, 32, 32 });
  ot_weight (g, c3, 1, (int64_t[]){ 32 });
  int a = ot_add (g, -1, "add3", "Add", NULL, 2, c3, c1);
  ot_io (g, -1, x, a);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  OshPlan *pf, *pp;
  osh_test_fused_and_plain (g, 1, &pf, &pp);
  if (osh_test_packed_conv ())
    {
      int64_t one = 12 * 10 * 32 * 4;
      g_assert_cmpint (osh_plan_n_steps (pf), ==, 3);
      g_assert_cmpint (osh_plan_buffer_bytes (pf), ==, 2 * one);
    }
  OshShape s = osh_shape_make (4, (int64_t[]){ 1, 12, 10, 32 });
  OshTensor *in = osh_tensor_new (&s, &err), *yf = NULL, *yp = NULL;
  for (int64_t i = 0; i < osh_tensor_numel (in); i++)
    in->data[i] = ot_pattern (i, 9);
  for (int run = 0; run < 2; run++) /* the input's buffer is written over: a second run too */
    {
      g_assert_true (osh_plan_run (pf, (const OshTensor *const *) &in, 1, &yf, &err));
      g_assert_true (osh_plan_run (pp, (const OshTensor *const *) &in, 1, &yp, &err));
      double peak, worst = osh_test_worst_diff (yp->data, yf->data, osh_tensor_numel (yp), &peak);
      g_assert_cmpfloat (peak, >, 0.1);
      g_assert_cmpfloat (worst, <=, 1e-5 * peak);
      osh_tensor_free (yf), osh_tensor_free (yp);
      yf = yp = NULL;
    }
  osh_tensor_free (in);
  osh_plan_free (pf), osh_plan_free (pp);
  osh_graph_free (g);
}

/* A run flushes denormals to zero, as TensorFlow's kernels do (a product near 1e-40 would
 * otherwise cost a ~100-cycle microcode assist per instruction), and leaves the caller's
 * floating-point mode as it found it. */
static void
test_denormals (void)
{
  OshGraph *g = osh_graph_new ();
  int x = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, 20]}", 0);
  int r = ot_add (g, -1, "tiny", "Rescaling", "{\"scale\": 1e-10, \"offset\": 0.0}", 1, x);
  ot_io (g, -1, x, r);
  OshError err = { 0 };
  g_assert_true (osh_graph_infer_shapes (g, &err));
  OshExecOptions o = osh_exec_options_default ();
  OshPlan *p = osh_plan_new (g, &o, &err);
  g_assert_nonnull (p);
  OshShape s = osh_shape_make (2, (int64_t[]){ 1, 20 });
  OshTensor *in = osh_tensor_new (&s, &err), *out = NULL;
  for (int i = 0; i < 20; i++)
    in->data[i] = i < 10 ? 1e-30f : 1.0f; /* 1e-40 is denormal; 1e-10 is not */
  volatile float tiny = 1e-30f, scale = 1e-10f;
  g_assert_cmpfloat (tiny * scale, >, 0.0f); /* the caller's mode keeps denormals */
  g_assert_true (osh_plan_run (p, (const OshTensor *const *) &in, 1, &out, &err));
  for (int i = 0; i < 20; i++)
    g_assert_cmpfloat (out->data[i], ==, i < 10 ? 0.0f : 1e-10f);
  g_assert_cmpfloat (tiny * scale, >, 0.0f); /* and still does after the run */
  osh_tensor_free (in), osh_tensor_free (out);
  osh_plan_free (p);
  osh_graph_free (g);
}

/* osh_plan_release_buffers: the activation memory goes, what describes the plan stays (its
 * steps, FLOPs and the size the memory had), and the plan refuses to run instead of writing
 * into freed buffers. */
static void
test_release_buffers (void)
{
  OshError err = { 0 };
  OshGraph *g = build_twice (true);
  OshExecOptions opt = osh_exec_options_default ();
  const char *keep[] = { "conv_a" };
  opt.capture = keep;
  opt.n_capture = 1;
  OshPlan *p = osh_plan_new (g, &opt, &err);
  if (!p)
    g_error ("%s", err.message);
  OshTensor *x = ramp (osh_plan_input_shape (p, 0), 0.1f);
  OshTensor *y[2];
  g_assert_true (osh_plan_run (p, (const OshTensor *const *) &x, 1, y, &err));
  g_assert_nonnull (osh_plan_activation (p, "conv_a", NULL));
  int64_t bytes = osh_plan_buffer_bytes (p);
  double flops = osh_plan_flops (p);
  int steps = osh_plan_n_steps (p);
  g_assert_cmpint (bytes, >=, (int64_t) (6 * 6 * 2 * sizeof (float)));

  osh_plan_release_buffers (p);
  g_assert_cmpint (osh_plan_buffer_bytes (p), ==, bytes);
  g_assert_cmpfloat (osh_plan_flops (p), ==, flops);
  g_assert_cmpint (osh_plan_n_steps (p), ==, steps);
  OshPlanStep info;
  g_assert_true (osh_plan_step (p, 0, &info));
  g_assert_null (osh_plan_activation (p, "conv_a", NULL));
  OshTensor *again[2] = { NULL, NULL };
  g_assert_false (osh_plan_run (p, (const OshTensor *const *) &x, 1, again, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  g_assert_nonnull (strstr (err.message, "released"));
  g_assert_null (again[0]);
  osh_plan_release_buffers (p); /* twice is harmless */
  for (int i = 0; i < 2; i++)
    osh_tensor_free (y[i]);
  osh_tensor_free (x);
  osh_plan_free (p);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/exec/nested-model-called-twice", test_nested_twice);
  g_test_add_func ("/ops/exec/cancel-and-bad-input", test_cancel_and_bad_input);
  g_test_add_func ("/ops/exec/liveness", test_liveness);
  g_test_add_func ("/ops/exec/threads", test_threads);
  g_test_add_func ("/ops/exec/errors", test_errors);
  g_test_add_func ("/ops/exec/multi-output-onnx-split", test_multi_output);
  g_test_add_func ("/ops/exec/sgemm-yardstick", test_sgemm_yardstick);
  g_test_add_func ("/ops/exec/blas-threads-stopped", test_blas_threads);
  g_test_add_func ("/ops/exec/input-read-in-place", test_input_read_in_place);
  g_test_add_func ("/ops/exec/denormals-flushed", test_denormals);
  g_test_add_func ("/ops/exec/output-over-residual", test_output_over_residual);
  g_test_add_func ("/ops/exec/release-buffers", test_release_buffers);
  return g_test_run ();
}
