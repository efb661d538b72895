/* Small models built by hand for the writer tests (built-models.h). */
#include "built-models.h"

#include <math.h>

#include "osh-test.h"

static json_t *
cfg (const char *text)
{
  json_error_t e;
  json_t *v = json_loads (text, 0, &e);
  g_assert_nonnull (v);
  return v;
}

/* Deterministic weights that differ per layer and position (never all zero or one). */
static void
add_weight (OshGraph *g, int layer, const char *name, int rank, const int64_t *dims, bool trainable,
            float seed)
{
  OshError err = { 0 };
  OshShape s = osh_shape_make (rank, dims);
  OshTensor *t = osh_tensor_new (&s, &err);
  g_assert_nonnull (t);
  for (int64_t i = 0; i < osh_tensor_numel (t); i++)
    t->data[i] = sinf (seed + 0.37f * (float) i) * 0.5f;
  g_assert_true (osh_layer_add_weight (g, layer, name, t, trainable, &err));
}

static const char *INPUT_CFG = "{\"batch_input_shape\": [null, 3, 3, 1], \"dtype\": \"float32\"}";
static const char *CONV_CFG = "{\"filters\": 2, \"kernel_size\": [3, 3], \"strides\": [1, 1], "
                              "\"padding\": \"valid\", \"data_format\": \"channels_last\", "
                              "\"activation\": \"linear\", \"use_bias\": true}";
static const char *BN_CFG = "{\"axis\": -1, \"momentum\": 0.99, \"epsilon\": 0.001, "
                            "\"center\": true, \"scale\": true}";

/* img(3,3,1) -> backbone[conv 3x3x2 -> bn] -> gap -----------------> add -> head -> out
 *    \-> flatten -> proj(dense 2) ------------------------------------/
 *                                               gap -> head (shared, second call) -> out2 */
OshGraph *
build_functional (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  g->name = g_strdup ("outer");
  g->class_name = g_strdup ("Model");
  int img = osh_graph_add_layer (g, -1, "img", "InputLayer", cfg (INPUT_CFG), &err);
  int img_n = osh_graph_add_node (g, img, NULL, 0, 1, &err);
  OshRef x = { img_n, 0 };

  int bb = osh_graph_add_layer (g, -1, "backbone", "Functional", NULL, &err);
  int bin = osh_graph_add_layer (g, bb, "bb_in", "InputLayer", cfg (INPUT_CFG), &err);
  int bin_n = osh_graph_add_node (g, bin, NULL, 0, 1, &err);
  int conv = osh_graph_add_layer (g, bb, "conv", "Conv2D", cfg (CONV_CFG), &err);
  int conv_n = osh_graph_add_node (g, conv, &(OshRef){ bin_n, 0 }, 1, 1, &err);
  int bn = osh_graph_add_layer (g, bb, "bn", "BatchNormalization", cfg (BN_CFG), &err);
  int bn_n = osh_graph_add_node (g, bn, &(OshRef){ conv_n, 0 }, 1, 1, &err);
  g_assert_true (osh_graph_set_io (g, bb, &(OshRef){ bin_n, 0 }, 1, &(OshRef){ bn_n, 0 }, 1, &err));
  int bb_n = osh_graph_add_node (g, bb, &x, 1, 1, &err);

  int gap = osh_graph_add_layer (g, -1, "gap", "GlobalAveragePooling2D",
                                 cfg ("{\"data_format\": \"channels_last\"}"), &err);
  int gap_n = osh_graph_add_node (g, gap, &(OshRef){ bb_n, 0 }, 1, 1, &err);
  int flat = osh_graph_add_layer (g, -1, "flatten", "Flatten", NULL, &err);
  int flat_n = osh_graph_add_node (g, flat, &x, 1, 1, &err);
  int proj = osh_graph_add_layer (
      g, -1, "proj", "Dense",
      cfg ("{\"units\": 2, \"activation\": \"linear\", \"use_bias\": true}"), &err);
  int proj_n = osh_graph_add_node (g, proj, &(OshRef){ flat_n, 0 }, 1, 1, &err);
  int add = osh_graph_add_layer (g, -1, "add", "Add", NULL, &err);
  OshRef add_in[2] = { { gap_n, 0 }, { proj_n, 0 } };
  int add_n = osh_graph_add_node (g, add, add_in, 2, 1, &err);
  int head = osh_graph_add_layer (
      g, -1, "head", "Dense",
      cfg ("{\"units\": 3, \"activation\": \"linear\", \"use_bias\": true}"), &err);
  int head_n = osh_graph_add_node (g, head, &(OshRef){ add_n, 0 }, 1, 1, &err);
  int head_n2 = osh_graph_add_node (g, head, &(OshRef){ gap_n, 0 }, 1, 1, &err);
  OshRef outs[2] = { { head_n, 0 }, { head_n2, 0 } };
  g_assert_true (osh_graph_set_io (g, -1, &x, 1, outs, 2, &err));

  /* Stored names as a Keras 2 file has them, including one that differs from its layer. */
  add_weight (g, conv, "conv_1/kernel:0", 4, (int64_t[]){ 3, 3, 1, 2 }, true, 0.1f);
  add_weight (g, conv, "conv_1/bias:0", 1, (int64_t[]){ 2 }, true, 0.2f);
  add_weight (g, bn, "bn/gamma:0", 1, (int64_t[]){ 2 }, true, 1.3f);
  add_weight (g, bn, "bn/beta:0", 1, (int64_t[]){ 2 }, true, 0.4f);
  add_weight (g, bn, "bn/moving_mean:0", 1, (int64_t[]){ 2 }, false, 0.5f);
  add_weight (g, bn, "bn/moving_variance:0", 1, (int64_t[]){ 2 }, false, 1.6f);
  /* a variance must be positive */
  for (int i = 0; i < 2; i++)
    g->layers[bn].weights[3].value->data[i] =
        0.5f + fabsf (g->layers[bn].weights[3].value->data[i]);
  add_weight (g, proj, "proj/kernel:0", 2, (int64_t[]){ 9, 2 }, true, 0.7f);
  add_weight (g, proj, "proj/bias:0", 1, (int64_t[]){ 2 }, true, 0.8f);
  add_weight (g, head, "head/kernel:0", 2, (int64_t[]){ 2, 3 }, true, 0.9f);
  add_weight (g, head, "head/bias:0", 1, (int64_t[]){ 3 }, true, 1.0f);
  g_assert_cmpint (err.code, ==, OSH_OK);
  return g;
}

static const float *
w (const OshGraph *g, const char *path, int i)
{
  int l = osh_graph_find_path (g, path);
  g_assert_cmpint (l, >=, 0);
  return g->layers[l].weights[i].value->data;
}

/* The two outputs of build_functional() on input x[9], computed by hand. */
void
functional_expected (const OshGraph *g, const float *x, float out1[3], float out2[3])
{
  functional_expected_ex (g, x, false, out1, out2);
}

void
functional_expected_ex (const OshGraph *g, const float *x, bool gap_reads_conv, float out1[3],
                        float out2[3])
{
  /* by path before flattening, by name after */
  const char *conv = osh_graph_find_path (g, "backbone/conv") >= 0 ? "backbone/conv" : "conv";
  const char *bn = osh_graph_find_path (g, "backbone/bn") >= 0 ? "backbone/bn" : "bn";
  const float *k = w (g, conv, 0), *b = w (g, conv, 1);
  const float *gamma = w (g, bn, 0), *beta = w (g, bn, 1);
  const float *mean = w (g, bn, 2), *var = w (g, bn, 3);
  float feat[2], proj[2], sum[2];
  for (int f = 0; f < 2; f++)
    {
      double acc = b[f];
      for (int i = 0; i < 9; i++)
        acc += k[i * 2 + f] * x[i]; /* kernel (3, 3, 1, 2), C order */
      feat[f] = gamma[f] * ((float) acc - mean[f]) / sqrtf (var[f] + 0.001f) + beta[f];
      if (gap_reads_conv)
        feat[f] = (float) acc;
    }
  const float *pk = w (g, "proj", 0), *pb = w (g, "proj", 1);
  for (int j = 0; j < 2; j++)
    {
      double acc = pb[j];
      for (int i = 0; i < 9; i++)
        acc += pk[i * 2 + j] * x[i];
      proj[j] = (float) acc;
      sum[j] = feat[j] + proj[j];
    }
  const float *hk = w (g, "head", 0), *hb = w (g, "head", 1);
  for (int j = 0; j < 3; j++)
    {
      out1[j] = hb[j] + sum[0] * hk[j] + sum[1] * hk[3 + j];
      out2[j] = hb[j] + feat[0] * hk[j] + feat[1] * hk[3 + j];
    }
}

void
break_functional (OshGraph *g)
{
  int gap = osh_graph_find_path (g, "gap");
  int conv_node = osh_graph_layer_first_node (g, osh_graph_find_path (g, "backbone/conv"));
  for (int n = 0; n < g->n_nodes; n++)
    if (g->nodes[n].layer == gap)
      g->nodes[n].inputs[0] = (OshRef){ conv_node, 0 };
}

/* input(4) -> dense(3, relu) -> dense_1(2, softmax), a Keras 3 Sequential (vars/N names). */
OshGraph *
build_sequential (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  g->name = g_strdup ("sequential");
  g->class_name = g_strdup ("Sequential");
  g->meta = json_pack ("{s:s}", "keras_version", "3.10.0");
  int in = osh_graph_add_layer (g, -1, "input_layer", "InputLayer",
                                cfg ("{\"batch_shape\": [null, 4], \"dtype\": \"float32\"}"), &err);
  int in_n = osh_graph_add_node (g, in, NULL, 0, 1, &err);
  json_t *policy = cfg ("{\"units\": 3, \"activation\": \"relu\", \"use_bias\": true, \"dtype\": "
                        "{\"module\": \"keras\", \"class_name\": \"DTypePolicy\", \"config\": "
                        "{\"name\": \"float32\"}, \"registered_name\": null}}");
  int d1 = osh_graph_add_layer (g, -1, "dense", "Dense", policy, &err);
  int d1_n = osh_graph_add_node (g, d1, &(OshRef){ in_n, 0 }, 1, 1, &err);
  int d2 = osh_graph_add_layer (
      g, -1, "dense_1", "Dense",
      cfg ("{\"units\": 2, \"activation\": \"softmax\", \"use_bias\": true}"), &err);
  int d2_n = osh_graph_add_node (g, d2, &(OshRef){ d1_n, 0 }, 1, 1, &err);
  g_assert_true (osh_graph_set_io (g, -1, &(OshRef){ in_n, 0 }, 1, &(OshRef){ d2_n, 0 }, 1, &err));
  add_weight (g, d1, "vars/0", 2, (int64_t[]){ 4, 3 }, true, 2.1f);
  add_weight (g, d1, "vars/1", 1, (int64_t[]){ 3 }, true, 2.2f);
  add_weight (g, d2, "vars/0", 2, (int64_t[]){ 3, 2 }, true, 2.3f);
  add_weight (g, d2, "vars/1", 1, (int64_t[]){ 2 }, true, 2.4f);
  g_assert_cmpint (err.code, ==, OSH_OK);
  return g;
}

void
sequential_expected (const OshGraph *g, const float *x, float out[2])
{
  const float *k1 = w (g, "dense", 0), *b1 = w (g, "dense", 1);
  const float *k2 = w (g, "dense_1", 0), *b2 = w (g, "dense_1", 1);
  float h[3], z[2];
  for (int j = 0; j < 3; j++)
    {
      float acc = b1[j];
      for (int i = 0; i < 4; i++)
        acc += x[i] * k1[i * 3 + j];
      h[j] = acc > 0 ? acc : 0;
    }
  for (int j = 0; j < 2; j++)
    {
      z[j] = b2[j];
      for (int i = 0; i < 3; i++)
        z[j] += h[i] * k2[i * 2 + j];
    }
  float m = fmaxf (z[0], z[1]), e0 = expf (z[0] - m), e1 = expf (z[1] - m);
  out[0] = e0 / (e0 + e1);
  out[1] = e1 / (e0 + e1);
}

/* left(6), right(6) -> features[Sequential: fc1(5, tanh) -> fc2(3)] called on each
 * -> concatenate -> score(2). */
OshGraph *
build_siamese (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  g->name = g_strdup ("siamese");
  g->class_name = g_strdup ("Functional");
  const char *in_cfg = "{\"batch_input_shape\": [null, 6], \"dtype\": \"float32\"}";
  int left = osh_graph_add_layer (g, -1, "left", "InputLayer", cfg (in_cfg), &err);
  int left_n = osh_graph_add_node (g, left, NULL, 0, 1, &err);
  int right = osh_graph_add_layer (g, -1, "right", "InputLayer", cfg (in_cfg), &err);
  int right_n = osh_graph_add_node (g, right, NULL, 0, 1, &err);

  int f = osh_graph_add_layer (g, -1, "features", "Sequential", NULL, &err);
  int fin = osh_graph_add_layer (g, f, "fc1_input", "InputLayer", cfg (in_cfg), &err);
  int fin_n = osh_graph_add_node (g, fin, NULL, 0, 1, &err);
  int fc1 = osh_graph_add_layer (g, f, "fc1", "Dense",
                                 cfg ("{\"units\": 5, \"activation\": \"tanh\"}"), &err);
  int fc1_n = osh_graph_add_node (g, fc1, &(OshRef){ fin_n, 0 }, 1, 1, &err);
  int fc2 = osh_graph_add_layer (g, f, "fc2", "Dense",
                                 cfg ("{\"units\": 3, \"activation\": \"linear\"}"), &err);
  int fc2_n = osh_graph_add_node (g, fc2, &(OshRef){ fc1_n, 0 }, 1, 1, &err);
  g_assert_true (osh_graph_set_io (g, f, &(OshRef){ fin_n, 0 }, 1, &(OshRef){ fc2_n, 0 }, 1, &err));
  int f_left = osh_graph_add_node (g, f, &(OshRef){ left_n, 0 }, 1, 1, &err);
  int f_right = osh_graph_add_node (g, f, &(OshRef){ right_n, 0 }, 1, 1, &err);

  int both = osh_graph_add_layer (g, -1, "both", "Concatenate", cfg ("{\"axis\": -1}"), &err);
  OshRef parts[2] = { { f_left, 0 }, { f_right, 0 } };
  int both_n = osh_graph_add_node (g, both, parts, 2, 1, &err);
  int score = osh_graph_add_layer (g, -1, "score", "Dense",
                                   cfg ("{\"units\": 2, \"activation\": \"linear\"}"), &err);
  int score_n = osh_graph_add_node (g, score, &(OshRef){ both_n, 0 }, 1, 1, &err);
  OshRef ins[2] = { { left_n, 0 }, { right_n, 0 } };
  g_assert_true (osh_graph_set_io (g, -1, ins, 2, &(OshRef){ score_n, 0 }, 1, &err));

  add_weight (g, fc1, "fc1/kernel:0", 2, (int64_t[]){ 6, 5 }, true, 3.1f);
  add_weight (g, fc1, "fc1/bias:0", 1, (int64_t[]){ 5 }, true, 3.2f);
  add_weight (g, fc2, "fc2/kernel:0", 2, (int64_t[]){ 5, 3 }, true, 3.3f);
  add_weight (g, fc2, "fc2/bias:0", 1, (int64_t[]){ 3 }, true, 3.4f);
  add_weight (g, score, "score/kernel:0", 2, (int64_t[]){ 6, 2 }, true, 3.5f);
  add_weight (g, score, "score/bias:0", 1, (int64_t[]){ 2 }, true, 3.6f);
  g_assert_cmpint (err.code, ==, OSH_OK);
  return g;
}

static void
dense (const float *x, int n_in, const float *k, const float *b, int n_out, bool tanh_act, float *y)
{
  for (int j = 0; j < n_out; j++)
    {
      double acc = b[j];
      for (int i = 0; i < n_in; i++)
        acc += x[i] * k[i * n_out + j];
      y[j] = tanh_act ? tanhf ((float) acc) : (float) acc;
    }
}

void
siamese_expected (const OshGraph *g, const float *left, const float *right, float out[2])
{
  float h[5], both[6];
  for (int side = 0; side < 2; side++)
    {
      dense (side == 0 ? left : right, 6, w (g, "features/fc1", 0), w (g, "features/fc1", 1), 5,
             true, h);
      dense (h, 5, w (g, "features/fc2", 0), w (g, "features/fc2", 1), 3, false, both + 3 * side);
    }
  dense (both, 6, w (g, "score", 0), w (g, "score", 1), 2, false, out);
}
