/* engine/train's backward against finite differences of its own forward, on one head that
 * chains every layer kind (no reference but the forward itself, so this also covers layer
 * combinations the PyTorch fixture does not): d/dx and d/dw of f = sum(output · dout) by
 * central differences of ±1e-2, against the analytic gradients within 0.2 % of the largest.
 * Dropout's masks change from one forward to the next, so it is checked apart: scaled by
 * 1/(1 − rate) where kept, the gradient through the same mask, the identity in inference, the
 * same masks from the same seed. */
#include <glib.h>
#include <math.h>

#include "osh-shapes.h"
#include "osh-train.h"

static OshGraph *g;
static int next_node;

static int
add (const char *name, const char *cls, const char *config, int n_in, const int *inputs)
{
  OshError err = { 0 };
  json_error_t je;
  json_t *c = json_loads (config, 0, &je);
  g_assert_nonnull (c);
  json_object_set_new (c, "name", json_string (name));
  int l = osh_graph_add_layer (g, -1, name, cls, c, &err);
  g_assert_cmpint (l, >=, 0);
  OshRef refs[4];
  for (int i = 0; i < n_in; i++)
    refs[i] = (OshRef){ inputs[i], 0 };
  next_node = osh_graph_add_node (g, l, refs, n_in, 1, &err);
  g_assert_cmpint (next_node, >=, 0);
  return l;
}

static void
weight (int layer, int rank, const int64_t *dims, double scale, double offset, GRand *r)
{
  OshError err = { 0 };
  OshShape s = osh_shape_make (rank, dims);
  OshTensor *t = osh_tensor_new (&s, &err);
  for (int64_t i = 0; i < osh_tensor_numel (t); i++)
    t->data[i] = (float) (offset + scale * g_rand_double_range (r, -1, 1));
  bool moving = strcmp (g->layers[layer].class_name, "BatchNormalization") == 0
                && g->layers[layer].n_weights >= 2;
  g_assert_true (osh_layer_add_weight (g, layer, "w", t, !moving, &err));
}

static double
objective (OshTrainer *t, const float *x, int64_t batch, const float *dout)
{
  OshError err = { 0 };
  g_assert_true (osh_trainer_forward_backward (t, (const float *[]){ x }, batch, true, NULL, &err));
  const float *y = osh_trainer_output (t);
  double f = 0;
  for (int64_t i = 0; i < batch * osh_trainer_output_numel (t); i++)
    f += (double) y[i] * dout[i];
  return f;
}

static void
check (const char *what, float *values, const float *analytic, int64_t n, OshTrainer *t,
       const float *x, int64_t batch, const float *dout)
{
  double worst = 0, peak = 1e-6;
  for (int64_t i = 0; i < n; i++)
    peak = fmax (peak, fabs (analytic[i]));
  for (int64_t i = 0; i < n; i++)
    {
      float keep = values[i];
      values[i] = keep + 1e-2f;
      double up = objective (t, x, batch, dout);
      values[i] = keep - 1e-2f;
      double down = objective (t, x, batch, dout);
      values[i] = keep;
      double numeric = (up - down) / (2e-2 * 1.0);
      worst = fmax (worst, fabs (numeric - analytic[i]));
    }
  g_test_message ("%s: worst |numeric - analytic| %.3g of peak %.3g", what, worst, peak);
  if (worst > 2e-3 * peak)
    g_error ("%s: finite differences differ by %.3g (peak gradient %.3g)", what, worst, peak);
}

static void
test_every_layer (void)
{
  OshError err = { 0 };
  GRand *r = g_rand_new_with_seed (19);
  g = osh_graph_new ();
  int in = add ("in", "InputLayer", "{\"batch_input_shape\": [null, 6, 6, 3]}", 0, NULL);
  int in_node = next_node;
  int c1 = add ("conv", "Conv2D",
                "{\"filters\": 4, \"kernel_size\": [3, 3], \"strides\": [1, 1], \"padding\": "
                "\"same\", \"activation\": \"tanh\"}",
                1, &in_node);
  weight (c1, 4, (int64_t[]){ 3, 3, 3, 4 }, 0.4, 0, r);
  weight (c1, 1, (int64_t[]){ 4 }, 0.1, 0, r);
  int n_c1 = next_node;
  int bn = add ("bn", "BatchNormalization", "{\"epsilon\": 0.001}", 1, &n_c1);
  for (int w = 0; w < 4; w++)
    weight (bn, 1, (int64_t[]){ 4 }, 0.2, w == 0 || w == 3 ? 1.0 : 0.0, r);
  int n_bn = next_node;
  add ("pool", "AveragePooling2D", "{\"pool_size\": [2, 2], \"padding\": \"valid\"}", 1, &n_bn);
  int n_pool = next_node;
  add ("up", "UpSampling2D", "{\"size\": [2, 2]}", 1, &n_pool);
  int cat_in[] = { next_node, in_node };
  add ("cat", "Concatenate", "{\"axis\": -1}", 2, cat_in);
  int n_cat = next_node;
  int c2 = add ("dil", "Conv2D",
                "{\"filters\": 5, \"kernel_size\": [3, 3], \"strides\": [1, 1], "
                "\"dilation_rate\": [2, 2], \"padding\": \"valid\", \"activation\": \"swish\"}",
                1, &n_cat);
  weight (c2, 4, (int64_t[]){ 3, 3, 7, 5 }, 0.3, 0, r);
  weight (c2, 1, (int64_t[]){ 5 }, 0.1, 0, r);
  int n_c2 = next_node;
  add ("max", "MaxPooling2D", "{\"pool_size\": [2, 2], \"strides\": [1, 1], \"padding\": \"same\"}",
       1, &n_c2);
  int add_in[] = { next_node, n_c2 };
  add ("sum", "Add", "{}", 2, add_in);
  int n_sum = next_node;
  add ("flat", "Flatten", "{}", 1, &n_sum);
  int n_flat = next_node;
  int d = add ("dense", "Dense", "{\"units\": 3, \"activation\": \"softmax\"}", 1, &n_flat);
  weight (d, 2, (int64_t[]){ 20, 3 }, 0.4, 0, r);
  weight (d, 1, (int64_t[]){ 3 }, 0.1, 0, r);
  OshRef x_ref = { in_node, 0 }, out = { next_node, 0 };
  g_assert_true (osh_graph_set_io (g, -1, &x_ref, 1, &out, 1, &err));
  (void) in;

  OshTrainOptions opt = osh_train_options_default ();
  OshTrainer *t = osh_trainer_new (g, 0, NULL, 0, &opt, &err);
  if (!t)
    g_error ("%s", err.message);
  const int64_t batch = 2, xn = batch * osh_trainer_feature_numel (t, 0);
  const int64_t on = batch * osh_trainer_output_numel (t);
  float *x = g_new (float, xn), *dout = g_new (float, on);
  for (int64_t i = 0; i < xn; i++)
    x[i] = (float) g_rand_double_range (r, -1, 1);
  for (int64_t i = 0; i < on; i++)
    dout[i] = (float) g_rand_double_range (r, -1, 1);
  g_assert_true (osh_trainer_forward_backward (t, (const float *[]){ x }, batch, true, dout, &err));
  float *dx = g_memdup2 (osh_trainer_feature_grad (t, 0), (gsize) xn * sizeof (float));
  check ("d input", x, dx, xn, t, x, batch, dout);
  const char *layers[] = { "conv", "bn", "dil", "dense" };
  for (size_t k = 0; k < G_N_ELEMENTS (layers); k++)
    for (int w = 0; w < 2; w++)
      {
        OshLayer *l = &g->layers[osh_graph_find_layer (g, -1, layers[k])];
        g_assert_true (
            osh_trainer_forward_backward (t, (const float *[]){ x }, batch, true, dout, &err));
        int64_t n = osh_tensor_numel (l->weights[w].value);
        float *grad =
            g_memdup2 (osh_trainer_weight_grad (t, layers[k], w), (gsize) n * sizeof (float));
        char what[64];
        snprintf (what, sizeof what, "d %s weight %d", layers[k], w);
        check (what, l->weights[w].value->data, grad, n, t, x, batch, dout);
        g_free (grad);
      }
  g_free (dx);
  g_free (x);
  g_free (dout);
  osh_trainer_free (t);
  osh_graph_free (g);
  g_rand_free (r);
}

static OshTrainer *
dropout_head (uint64_t seed)
{
  OshError err = { 0 };
  g = osh_graph_new ();
  add ("in", "InputLayer", "{\"batch_input_shape\": [null, 100, 100, 1]}", 0, NULL);
  int in_node = next_node;
  add ("drop", "Dropout", "{\"rate\": 0.3}", 1, &in_node);
  OshRef x_ref = { in_node, 0 }, out = { next_node, 0 };
  g_assert_true (osh_graph_set_io (g, -1, &x_ref, 1, &out, 1, &err));
  OshTrainOptions opt = osh_train_options_default ();
  opt.seed = seed;
  opt.max_batch = 1;
  OshTrainer *t = osh_trainer_new (g, 0, NULL, 0, &opt, &err);
  g_assert_nonnull (t);
  return t;
}

static void
test_dropout (void)
{
  OshError err = { 0 };
  const int n = 10000;
  float *x = g_new (float, n), *dout = g_new (float, n), *first = g_new (float, n);
  for (int i = 0; i < n; i++)
    x[i] = 1.0f + (float) i / n, dout[i] = 0.5f;
  OshTrainer *t = dropout_head (7);
  OshGraph *g7 = g;
  g_assert_true (osh_trainer_forward_backward (t, (const float *[]){ x }, 1, true, dout, &err));
  const float *y = osh_trainer_output (t), *dx = osh_trainer_feature_grad (t, 0);
  int dropped = 0;
  for (int i = 0; i < n; i++)
    {
      bool kept = y[i] != 0.0f;
      dropped += !kept;
      if (kept)
        g_assert_cmpfloat_with_epsilon (y[i], x[i] / 0.7f, 1e-5);
      g_assert_cmpfloat_with_epsilon (dx[i], kept ? 0.5f / 0.7f : 0.0f, 1e-6);
    }
  g_test_message ("dropped %d of %d at rate 0.3", dropped, n);
  g_assert_cmpint (dropped, >, 2800);
  g_assert_cmpint (dropped, <, 3200);
  memcpy (first, y, n * sizeof (float));
  g_assert_true (osh_trainer_forward_backward (t, (const float *[]){ x }, 1, false, NULL, &err));
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (osh_trainer_output (t)[i], ==, x[i]);
  osh_trainer_free (t);
  osh_graph_free (g7);

  /* The same seed draws the same masks; another seed others. */
  for (uint64_t seed = 7; seed <= 8; seed++)
    {
      t = dropout_head (seed);
      g_assert_true (osh_trainer_forward_backward (t, (const float *[]){ x }, 1, true, NULL, &err));
      int same = 0;
      for (int i = 0; i < n; i++)
        same += osh_trainer_output (t)[i] == first[i];
      if (seed == 7)
        g_assert_cmpint (same, ==, n);
      else
        g_assert_cmpint (same, <, n * 9 / 10);
      osh_trainer_free (t);
      osh_graph_free (g);
    }
  g_free (x);
  g_free (dout);
  g_free (first);
}

static void
test_area_resize (void)
{
  /* A 4×4 mask with its top-left 3×3 set, to 2×2: 1, 0.5, 0.5, 0.25. And 3 → 2: thirds. */
  float src[16] = { 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0 }, dst[4];
  osh_train_area_resize (src, 4, 4, dst, 2, 2);
  g_assert_cmpfloat_with_epsilon (dst[0], 1.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (dst[1], 0.5f, 1e-6);
  g_assert_cmpfloat_with_epsilon (dst[2], 0.5f, 1e-6);
  g_assert_cmpfloat_with_epsilon (dst[3], 0.25f, 1e-6);
  float row[3] = { 0, 1, 0 }, two[2];
  osh_train_area_resize (row, 1, 3, two, 1, 2);
  g_assert_cmpfloat_with_epsilon (two[0], 1.0f / 3.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (two[1], 1.0f / 3.0f, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/finite-diff/every-layer", test_every_layer);
  g_test_add_func ("/train/finite-diff/dropout", test_dropout);
  g_test_add_func ("/train/area-resize", test_area_resize);
  return g_test_run ();
}
