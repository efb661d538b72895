/* Shapes and tensors: formatting like Keras, limits checked before allocation. */
#include <string.h>

#include "osh-tensor.h"
#include "osh-test.h"

static void
test_format (void)
{
  char buf[64];
  OshShape s = osh_shape_make (4, (int64_t[]){ -1, 7, 7, 1280 });
  osh_shape_format (&s, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "(None, 7, 7, 1280)");
  OshShape one = osh_shape_make (1, (int64_t[]){ 10 });
  osh_shape_format (&one, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "(10,)");
  OshShape scalar = osh_shape_make (0, NULL);
  osh_shape_format (&scalar, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "()");
  g_assert_cmpint (osh_shape_numel (&s), ==, -1);
  g_assert_cmpint (osh_shape_numel (&scalar), ==, 1);
}

static void
test_limits (void)
{
  OshError err = { 0 };
  OshShape huge = osh_shape_make (3, (int64_t[]){ 1 << 20, 1 << 20, 1 << 20 });
  g_assert_null (osh_tensor_new (&huge, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_LIMIT);
  g_assert_nonnull (strstr (err.message, "(1048576, 1048576, 1048576)"));
  OshShape unknown = osh_shape_make (2, (int64_t[]){ -1, 3 });
  g_assert_null (osh_tensor_new (&unknown, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_SHAPE);
}

static void
test_alloc_copy (void)
{
  OshError err = { 0 };
  OshShape s = osh_shape_make (2, (int64_t[]){ 2, 3 });
  OshTensor *t = osh_tensor_new (&s, &err);
  g_assert_nonnull (t);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (t->data[i], ==, 0.0f);
  t->data[5] = 4.5f;
  OshTensor *c = osh_tensor_copy (t, &err);
  g_assert_cmpfloat (c->data[5], ==, 4.5f);
  g_assert_true (osh_shape_equal (&c->shape, &t->shape));
  osh_tensor_free (t);
  osh_tensor_free (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/tensor/format", test_format);
  g_test_add_func ("/engine/tensor/limits", test_limits);
  g_test_add_func ("/engine/tensor/alloc-copy", test_alloc_copy);
  return g_test_run ();
}
