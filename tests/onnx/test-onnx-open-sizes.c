/* Open input sizes have one representation in both dialects: a Keras graph with input
 * (None, None, None, 3) and its ONNX export (symbolic sizes, through a .onnx file) infer -1 for
 * the same sizes; the same head attaches to both at the same layer (a valid 3×3 convolution on
 * an open-size tensor included); both run, at two sizes, to the same outputs; an ONNX graph
 * without input shapes fails to plan naming the open input; a contradicting shape is refused
 * naming both. */
#include <glib/gstdio.h>
#include <string.h>

#include "../ops/ops-test.h"
#include "osh-heads.h"
#include "osh-model.h"
#include "osh-onnx.h"
#include "osh-shapes.h"

/* Conv2D `name` of `filters` k×k filters on node x, with a deterministic kernel and bias. */
static int
conv (OshGraph *g, const char *name, int x, int64_t cin, int64_t filters, int k, int stride,
      const char *padding, const char *act)
{
  char cfg[256];
  g_snprintf (cfg, sizeof cfg,
              "{\"filters\": %lld, \"kernel_size\": [%d, %d], \"strides\": [%d, %d], "
              "\"padding\": \"%s\", \"activation\": \"%s\", \"use_bias\": true}",
              (long long) filters, k, k, stride, stride, padding, act);
  int n = ot_add (g, -1, name, "Conv2D", cfg, 1, x);
  ot_weight (g, n, 4, (int64_t[]){ k, k, cin, filters });
  OshTensor *b = ot_weight (g, n, 1, (int64_t[]){ filters });
  for (int64_t i = 0; i < filters; i++)
    b->data[i] = ot_pattern (i, 3);
  return n;
}

/* in (None, None, None, 3) -> c1 (same, stride 2, relu) -> bn -> two branches added -> concat
 * with c1 -> valid 3×3 -> max pool (same, stride 2). */
static OshGraph *
keras_graph (void)
{
  OshGraph *g = osh_graph_new ();
  int in = ot_add (g, -1, "in", "InputLayer", "{\"batch_input_shape\": [null, null, null, 3]}", 0);
  int c1 = conv (g, "c1", in, 3, 8, 3, 2, "same", "relu");
  int bn = ot_add (g, -1, "bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, c1);
  for (int i = 0; i < 4; i++)
    {
      OshTensor *w = ot_weight (g, bn, 1, (int64_t[]){ 8 });
      for (int64_t k = 0; k < 8; k++)
        w->data[k] = i == 3 ? 0.5f + 0.1f * (float) k : ot_pattern (k, i);
    }
  int a = conv (g, "a", bn, 8, 6, 3, 1, "same", "linear");
  int b = conv (g, "b", bn, 8, 6, 1, 1, "valid", "linear");
  int add = ot_add (g, -1, "add", "Add", NULL, 2, a, b);
  int cat = ot_add (g, -1, "cat", "Concatenate", "{\"axis\": -1}", 2, add, bn);
  int v = conv (g, "v", cat, 14, 5, 3, 1, "valid", "relu");
  int pool = ot_add (g, -1, "pool", "MaxPooling2D",
                     "{\"pool_size\": [2, 2], \"strides\": [2, 2], \"padding\": \"same\"}", 1, v);
  ot_io (g, -1, in, pool);
  OshError err = { 0 };
  g_assert_true (osh_graph_infer_shapes (g, &err));
  return g;
}

/* The ONNX export of `k`, written to a .onnx file and read back (symbolic sizes on disk). */
static OshGraph *
onnx_graph (const OshGraph *k)
{
  OshError err = { 0 };
  OshGraph *o = osh_onnx_from_keras (k, &err);
  if (!o)
    g_error ("%s", err.message);
  g_autofree char *dir = g_dir_make_tmp ("osh-open-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "open.onnx", NULL);
  if (!osh_model_save (o, path, &err))
    g_error ("%s", err.message);
  osh_graph_free (o);
  o = osh_model_load (path, &err);
  if (!o)
    g_error ("%s", err.message);
  g_unlink (path);
  g_rmdir (dir);
  return o;
}

/* The ONNX layer whose output is Keras layer `keras`'s: the last node made for it. */
static const char *
onnx_layer_of (const OshGraph *o, const char *keras)
{
  g_autofree char *prefix = g_strconcat (keras, "/", NULL);
  const char *found = NULL;
  for (int i = 0; i < o->n_layers; i++)
    if (g_str_has_prefix (o->layers[i].name, prefix))
      found = o->layers[i].name;
  g_assert_nonnull (found);
  return found;
}

static OshGraph *
attach (const OshGraph *g, const char *at)
{
  OshError err = { 0 };
  OshHeadSpec spec;
  g_assert_true (osh_head_parse ("conv2d(filters=4,kernel_size=3),relu", &spec, &err));
  OshGraph *w = osh_head_attach (g, at, &spec, OSH_ATTACH_CONNECTED, NULL, &err);
  if (!w)
    g_error ("attaching at %s: %s", at, err.message);
  return w;
}

static void
assert_output_shape (const OshGraph *g, int output, const char *expected)
{
  char text[160];
  OshRef r = g->outputs[output];
  osh_shape_format (&g->nodes[r.node].shapes[r.index], text, sizeof text);
  g_assert_cmpstr (text, ==, expected);
}

/* Runs g on x (its shape given, so open sizes are fixed); outs[] receive the outputs. */
static void
run (const OshGraph *g, const OshTensor *x, OshTensor **outs)
{
  OshError err = { 0 };
  OshExecOptions opt = osh_exec_options_default ();
  opt.input_shapes = &x->shape;
  opt.n_input_shapes = 1;
  OshPlan *p = osh_plan_new (g, &opt, &err);
  if (!p)
    g_error ("%s", err.message);
  if (!osh_plan_run (p, (const OshTensor *[]){ x }, 1, outs, &err))
    g_error ("%s", err.message);
  osh_plan_free (p);
}

/* NCHW `t` as a new NHWC tensor. */
static OshTensor *
to_nhwc (const OshTensor *t)
{
  OshError err = { 0 };
  const int64_t *d = t->shape.dim;
  OshShape s = osh_shape_make (4, (int64_t[]){ d[0], d[2], d[3], d[1] });
  OshTensor *o = osh_tensor_new (&s, &err);
  for (int64_t n = 0; n < d[0]; n++)
    for (int64_t c = 0; c < d[1]; c++)
      for (int64_t y = 0; y < d[2]; y++)
        for (int64_t x = 0; x < d[3]; x++)
          o->data[((n * d[2] + y) * d[3] + x) * d[1] + c] =
              t->data[((n * d[1] + c) * d[2] + y) * d[3] + x];
  return o;
}

static void
assert_close (const OshTensor *want, const OshTensor *got)
{
  g_assert_true (osh_shape_equal (&want->shape, &got->shape));
  double peak;
  double worst = osh_test_worst_diff (want->data, got->data, osh_tensor_numel (want), &peak);
  if (worst > 1e-4 * fmax (1.0, peak))
    g_error ("outputs differ by %g (peak %g)", worst, peak);
}

static void
test_same_network_both_dialects (void)
{
  OshGraph *k = keras_graph ();
  OshGraph *o = onnx_graph (k);
  /* One representation: -1 where the sizes are open, the batch too. */
  assert_output_shape (k, 0, "(None, None, None, 5)");
  assert_output_shape (o, 0, "(None, None, None, 5)");
  g_assert_true (osh_graph_open_inputs (k));
  g_assert_true (osh_graph_open_inputs (o));
  g_assert_false (osh_graph_needs_specialize (k));
  g_assert_true (osh_graph_needs_specialize (o));

  /* The same head at the concatenation (a valid 3×3 convolution on an open-size tensor). */
  OshGraph *kh = attach (k, "cat");
  OshGraph *oh = attach (o, onnx_layer_of (o, "cat"));
  assert_output_shape (kh, 1, "(None, None, None, 4)");
  assert_output_shape (oh, 1, "(None, 4, None, None)"); /* ONNX heads stay NCHW */

  static const int64_t sizes[][4] = { { 1, 32, 48, 3 }, { 1, 41, 25, 3 } };
  for (int s = 0; s < 2; s++)
    {
      OshError err = { 0 };
      OshShape xs = osh_shape_make (4, sizes[s]);
      OshTensor *x = osh_tensor_new (&xs, &err);
      for (int64_t i = 0; i < osh_tensor_numel (x); i++)
        x->data[i] = ot_pattern (i, s + 7);
      OshTensor *ko[2] = { 0 }, *oo[2] = { 0 };
      run (kh, x, ko);
      run (oh, x, oo);
      assert_close (ko[0], oo[0]);
      OshTensor *head = to_nhwc (oo[1]);
      assert_close (ko[1], head);
      /* valid 3×3 after a stride-2 "same" convolution, then a stride-2 pool */
      int64_t h = (sizes[s][1] + 1) / 2 - 2, w = (sizes[s][2] + 1) / 2 - 2;
      g_assert_cmpint (ko[0]->shape.dim[1], ==, (h + 1) / 2);
      g_assert_cmpint (ko[0]->shape.dim[2], ==, (w + 1) / 2);
      g_assert_cmpint (ko[1]->shape.dim[1], ==, h);
      g_assert_cmpint (ko[1]->shape.dim[2], ==, w);
      for (int i = 0; i < 2; i++)
        {
          osh_tensor_free (ko[i]);
          osh_tensor_free (oo[i]);
        }
      osh_tensor_free (head);
      osh_tensor_free (x);
    }
  osh_graph_free (kh);
  osh_graph_free (oh);
  osh_graph_free (k);
  osh_graph_free (o);
}

/* err is a usage error whose message holds both `a` and `b`. */
static void
assert_usage_error (const OshError *err, const char *a, const char *b)
{
  g_assert_cmpint (err->code, ==, OSH_ERR_USAGE);
  if (!strstr (err->message, a) || !strstr (err->message, b))
    g_error ("expected %s and %s in: %s", a, b, err->message);
}

static void
test_specialize (void)
{
  OshGraph *k = keras_graph ();
  OshGraph *o = onnx_graph (k);
  OshError err = { 0 };

  /* No shapes: planning the ONNX graph fails, naming the open input. */
  OshExecOptions opt = osh_exec_options_default ();
  g_assert_null (osh_plan_new (o, &opt, &err));
  assert_usage_error (&err, "input 'in'", "(None, None, None, 3)");

  /* A shape that contradicts a declared size: both named. */
  OshShape bad = osh_shape_make (4, (int64_t[]){ 1, 8, 8, 4 });
  err = (OshError){ 0 };
  g_assert_false (osh_graph_specialize (o, &bad, 1, &err));
  assert_usage_error (&err, "(1, 8, 8, 4)", "(None, None, None, 3)");

  /* Both dialects specialize the same way. */
  OshShape xs = osh_shape_make (4, (int64_t[]){ 2, 20, 30, 3 });
  err = (OshError){ 0 };
  g_assert_true (osh_graph_specialize (k, &xs, 1, &err));
  g_assert_true (osh_graph_specialize (o, &xs, 1, &err));
  g_assert_false (osh_graph_open_inputs (k));
  g_assert_false (osh_graph_open_inputs (o));
  assert_output_shape (k, 0, "(None, 4, 7, 5)"); /* Keras keeps its batch None */
  assert_output_shape (o, 0, "(2, 4, 7, 5)");
  osh_graph_free (k);
  osh_graph_free (o);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onnx/open-sizes/same-network-both-dialects", test_same_network_both_dialects);
  g_test_add_func ("/onnx/open-sizes/specialize", test_specialize);
  return g_test_run ();
}
