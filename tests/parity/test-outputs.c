/* Output classification for display: label vs heatmap vs tensor, softmax only for logits,
 * top-k order, heatmap channel selection in both layouts. */
#include <math.h>
#include <string.h>

#include "osh-outputs.h"
#include "osh-test.h"

static OshTensor *
tensor_of (int rank, const int64_t *dims, const float *values)
{
  OshShape s = osh_shape_make (rank, dims);
  OshTensor *t = osh_tensor_new (&s, NULL);
  g_assert_nonnull (t);
  if (values)
    memcpy (t->data, values, (size_t) osh_tensor_numel (t) * sizeof (float));
  return t;
}

static void
test_classify (void)
{
  static const struct
  {
    int rank;
    int64_t dims[4];
    OshLayout layout;
    OshOutputKind kind;
  } cases[] = {
    { 2, { 1, 7 }, OSH_LAYOUT_CHANNELS_LAST, OSH_OUTPUT_LABEL },  /* fer2013: 7 emotions */
    { 2, { 1, 1 }, OSH_LAYOUT_CHANNELS_LAST, OSH_OUTPUT_TENSOR }, /* one sigmoid unit */
    { 4, { 1, 8, 8, 1 }, OSH_LAYOUT_CHANNELS_LAST, OSH_OUTPUT_HEATMAP },
    { 4, { 1, 1, 1, 128 }, OSH_LAYOUT_CHANNELS_LAST, OSH_OUTPUT_TENSOR }, /* keepdims GAP */
    { 4, { 1, 3, 1, 1 }, OSH_LAYOUT_CHANNELS_FIRST, OSH_OUTPUT_TENSOR },
    { 4, { 1, 21, 14, 14 }, OSH_LAYOUT_CHANNELS_FIRST, OSH_OUTPUT_HEATMAP },
    { 3, { 1, 10, 4 }, OSH_LAYOUT_CHANNELS_LAST, OSH_OUTPUT_TENSOR },
    { 1, { 10 }, OSH_LAYOUT_CHANNELS_LAST, OSH_OUTPUT_TENSOR },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      OshShape s = osh_shape_make (cases[i].rank, cases[i].dims);
      g_assert_cmpstr (osh_output_kind_name (osh_output_classify (&s, cases[i].layout)), ==,
                       osh_output_kind_name (cases[i].kind));
    }
}

/* Logits get a softmax (values computed with numpy); a softmax output
 * is used as it is. */
static void
test_top_k (void)
{
  OshError err = { 0 };
  OshTensor *logits = tensor_of (2, (int64_t[]){ 2, 4 }, (float[]){ 9, 9, 9, 9, 1, 3, 2, 0 });
  OshTopEntry top[3];
  g_assert_cmpint (osh_output_top_k (logits, 1, 3, top, &err), ==, 3);
  g_assert_cmpint (top[0].index, ==, 1);
  g_assert_cmpint (top[1].index, ==, 2);
  g_assert_cmpint (top[2].index, ==, 0);
  /* softmax([1, 3, 2, 0]) = [0.0871443, 0.6439143, 0.2368828, 0.0320586] */
  g_assert_cmpfloat_with_epsilon (top[0].p, 0.6439143f, 1e-6);
  g_assert_cmpfloat_with_epsilon (top[1].p, 0.2368828f, 1e-6);
  g_assert_cmpfloat_with_epsilon (top[2].p, 0.0871443f, 1e-6);
  /* Row 0: equal logits, ties keep the lower index first. */
  g_assert_cmpint (osh_output_top_k (logits, 0, 2, top, &err), ==, 2);
  g_assert_cmpint (top[0].index, ==, 0);
  g_assert_cmpint (top[1].index, ==, 1);
  g_assert_cmpfloat_with_epsilon (top[0].p, 0.25f, 1e-6);
  g_assert_cmpint (osh_output_top_k (logits, 2, 2, top, &err), ==, 0);
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);

  OshTensor *probs = tensor_of (2, (int64_t[]){ 1, 3 }, (float[]){ 0.2f, 0.7f, 0.1f });
  g_assert_true (osh_output_is_distribution (probs->data, 3));
  g_assert_cmpint (osh_output_top_k (probs, 0, 10, top, &err), ==, 3);
  g_assert_cmpint (top[0].index, ==, 1);
  g_assert_cmpfloat (top[0].p, ==, 0.7f);
  g_assert_cmpfloat (top[2].p, ==, 0.1f);
  /* In [0, 1] but not summing to 1 (independent sigmoids): treated as logits. */
  g_assert_false (osh_output_is_distribution ((float[]){ 0.9f, 0.8f }, 2));
  g_assert_false (osh_output_is_distribution ((float[]){ NAN, 1.0f }, 2));
  osh_tensor_free (logits);
  osh_tensor_free (probs);
}

/* A 2×3 map with two channels: pixel i has channels (i, 5 - i). */
static void
test_heatmap (void)
{
  OshError err = { 0 };
  float nhwc[12], nchw[12];
  for (int i = 0; i < 6; i++)
    {
      nhwc[2 * i] = (float) i, nhwc[2 * i + 1] = (float) (5 - i);
      nchw[i] = (float) i, nchw[6 + i] = (float) (5 - i);
    }
  OshTensor *a = tensor_of (4, (int64_t[]){ 1, 2, 3, 2 }, nhwc);
  OshTensor *b = tensor_of (4, (int64_t[]){ 1, 2, 2, 3 }, nchw);
  const float want_max[6] = { 5, 4, 3, 3, 4, 5 };
  const float want_arg[6] = { 1, 1, 1, 0, 0, 0 };
  for (int k = 0; k < 2; k++)
    {
      OshTensor *t = k ? b : a;
      OshLayout layout = k ? OSH_LAYOUT_CHANNELS_FIRST : OSH_LAYOUT_CHANNELS_LAST;
      OshTensor *m = osh_output_heatmap (t, layout, 0, OSH_HEATMAP_AUTO, -1, &err);
      g_assert_nonnull (m);
      g_assert_cmpint (m->shape.dim[0], ==, 2);
      g_assert_cmpint (m->shape.dim[1], ==, 3);
      g_assert_cmpmem (m->data, sizeof want_max, want_max, sizeof want_max);
      osh_tensor_free (m);
      m = osh_output_heatmap (t, layout, 0, OSH_HEATMAP_ARGMAX, -1, &err);
      g_assert_cmpmem (m->data, sizeof want_arg, want_arg, sizeof want_arg);
      osh_tensor_free (m);
      m = osh_output_heatmap (t, layout, 0, OSH_HEATMAP_CHANNEL, 1, &err);
      g_assert_cmpfloat (m->data[0], ==, 5.0f);
      g_assert_cmpfloat (m->data[5], ==, 0.0f);
      osh_tensor_free (m);
      g_assert_null (osh_output_heatmap (t, layout, 0, OSH_HEATMAP_CHANNEL, 2, &err));
      g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
    }
  g_assert_null (osh_output_heatmap (a, OSH_LAYOUT_CHANNELS_LAST, 1, OSH_HEATMAP_AUTO, -1, &err));
  osh_tensor_free (a);
  osh_tensor_free (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/outputs/classify", test_classify);
  g_test_add_func ("/outputs/top-k", test_top_k);
  g_test_add_func ("/outputs/heatmap", test_heatmap);
  return g_test_run ();
}
