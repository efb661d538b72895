/* .npy reading and writing against files written and read by numpy itself
 * (tools/reference/parity-npy.py makes tests/parity/npy/). */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "osh-npy.h"
#include "osh-test.h"

static OshTensor *
read_fixture (const char *name, OshError *err)
{
  char *rel = g_strdup_printf ("parity/npy/%s.npy", name);
  char *path = osh_test_fixture (rel);
  OshTensor *t = osh_npy_read (path, err);
  g_free (path);
  g_free (rel);
  return t;
}

/* Every supported dtype gives the same 2×3×4 values numpy wrote: i * 0.5 - 3. */
static void
test_dtypes (void)
{
  const char *names[] = { "f4", "f8", "i4", "i8", "v2", "v3" };
  for (size_t k = 0; k < G_N_ELEMENTS (names); k++)
    {
      OshError err = { 0 };
      OshTensor *t = read_fixture (names[k], &err);
      g_assert_nonnull (t);
      g_assert_cmpint (t->shape.rank, ==, 3);
      g_assert_cmpint (t->shape.dim[0], ==, 2);
      g_assert_cmpint (t->shape.dim[1], ==, 3);
      g_assert_cmpint (t->shape.dim[2], ==, 4);
      bool integer = names[k][0] == 'i';
      for (int i = 0; i < 24; i++)
        {
          double want = i * 0.5 - 3.0;
          if (integer) /* numpy's astype truncates toward zero */
            want = (double) (long) want;
          g_assert_cmpfloat_with_epsilon (t->data[i], want, 1e-6);
        }
      osh_tensor_free (t);
    }
}

static void
test_small_shapes (void)
{
  OshError err = { 0 };
  OshTensor *u = read_fixture ("u1", &err);
  g_assert_nonnull (u);
  g_assert_cmpint (u->shape.rank, ==, 2);
  g_assert_cmpfloat (u->data[23], ==, 230.0f);
  OshTensor *s = read_fixture ("scalar", &err);
  g_assert_nonnull (s);
  g_assert_cmpint (s->shape.rank, ==, 0);
  g_assert_cmpfloat (s->data[0], ==, 2.5f);
  OshTensor *v = read_fixture ("vector", &err);
  g_assert_nonnull (v);
  g_assert_cmpint (v->shape.rank, ==, 1);
  g_assert_cmpfloat (v->data[2], ==, 3.0f);
  OshTensor *e = read_fixture ("empty", &err);
  g_assert_nonnull (e);
  g_assert_cmpint (e->shape.dim[0], ==, 0);
  g_assert_cmpint (e->shape.dim[1], ==, 3);
  osh_tensor_free (u);
  osh_tensor_free (s);
  osh_tensor_free (v);
  osh_tensor_free (e);
}

static void
test_refusals (void)
{
  OshError err = { 0 };
  g_assert_null (read_fixture ("fortran", &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "Fortran order"));
  g_assert_null (read_fixture ("big-endian", &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "'>f4'"));
  g_assert_null (read_fixture ("no-such-file", &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_IO);
}

/* Hand-made headers: each malformation is a clear error, never a crash or a huge allocation. */
static OshTensor *
from_header (const char *dict, size_t data_bytes, OshError *err)
{
  size_t len = strlen (dict);
  size_t size = 10 + len + data_bytes;
  unsigned char *buf = g_malloc0 (size);
  memcpy (buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char) (len & 0xff);
  buf[9] = (unsigned char) (len >> 8);
  memcpy (buf + 10, dict, len);
  OshTensor *t = osh_npy_read_bytes ("hand.npy", buf, size, err);
  g_free (buf);
  return t;
}

static void
test_malformed (void)
{
  OshError err = { 0 };
  OshTensor *ok =
      from_header ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, &err);
  g_assert_nonnull (ok);
  osh_tensor_free (ok);

  static const struct
  {
    const char *dict;
    OshErrorCode code;
    const char *says;
  } cases[] = {
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", OSH_ERR_FORMAT,
      "expected 12" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }\n", OSH_ERR_LIMIT,
      "limit" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 65536), }\n", OSH_ERR_LIMIT,
      "limit" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", OSH_ERR_FORMAT,
      "non-negative" },
    { "{'descr': '<f4', 'fortran_order': False, }\n", OSH_ERR_FORMAT, "'shape'" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", OSH_ERR_FORMAT, "keys" },
    { "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n", OSH_ERR_UNSUPPORTED, "'<c8'" },
    { "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }\n", OSH_ERR_FORMAT,
      "fortran_order" },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,) garbage", OSH_ERR_FORMAT, "byte" },
    { "[1, 2]\n", OSH_ERR_FORMAT, "byte 10" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      osh_error_clear (&err);
      g_assert_null (from_header (cases[i].dict, 8, &err));
      g_assert_cmpint (err.code, ==, cases[i].code);
      g_assert_nonnull (strstr (err.message, "hand.npy"));
      if (!strstr (err.message, cases[i].says))
        g_error ("case %zu: '%s' does not say '%s'", i, err.message, cases[i].says);
    }
  g_assert_null (osh_npy_read_bytes ("short.npy", "\x93NUMPY\x01", 7, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  g_assert_null (osh_npy_read_bytes ("png.npy", "\x89PNG\r\n\x1a\n\0\0\0\0", 12, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  /* A header length pointing past the end of the file. */
  g_assert_null (osh_npy_read_bytes ("long.npy", "\x93NUMPY\x01\x00\xff\xff{", 11, &err));
  g_assert_nonnull (strstr (err.message, "does not fit"));
}

/* What we write, numpy reads back with the same shape and values. */
static void
test_write_numpy_reads (void)
{
  OshError err = { 0 };
  char *dir = g_dir_make_tmp ("osh-npy-XXXXXX", NULL);
  const int64_t shapes[][4] = { { 2, 3, 5, 7 }, { 1, 1, 1, 1 } };
  const int ranks[] = { 4, 1 };
  for (int k = 0; k < 2; k++)
    {
      OshShape s = osh_shape_make (ranks[k], shapes[k]);
      OshTensor *t = osh_tensor_new (&s, &err);
      g_assert_nonnull (t);
      for (int64_t i = 0; i < osh_tensor_numel (t); i++)
        t->data[i] = (float) i * 0.25f - 1.0f;
      char *path = g_build_filename (dir, "out.npy", NULL);
      g_assert_true (osh_npy_write (path, t, &err));
      char *cmd =
          g_strdup_printf ("/usr/bin/python3 -c \"import numpy as n; a = n.load('%s'); "
                           "print(a.dtype, a.shape, repr(float(a.sum())), a.flags.c_contiguous)\"",
                           path);
      char *out = NULL;
      int status = 0;
      g_assert_true (g_spawn_command_line_sync (cmd, &out, NULL, &status, NULL));
      g_assert_cmpint (status, ==, 0);
      int64_t n = osh_tensor_numel (t);
      double sum = 0;
      for (int64_t i = 0; i < n; i++)
        sum += t->data[i];
      g_autofree char *shape_text = k == 0 ? g_strdup ("(2, 3, 5, 7)") : g_strdup ("(1,)");
      g_assert_true (g_str_has_prefix (out, "float32 "));
      g_assert_nonnull (strstr (out, shape_text));
      g_assert_nonnull (strstr (out, "True"));
      double got = g_ascii_strtod (strstr (out, ")") + 2, NULL);
      g_assert_cmpfloat_with_epsilon (got, sum, 1e-3);
      /* Created like any new file (0666 less the umask), not mkstemp's 0600. */
      GStatBuf st;
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      mode_t mask = umask (0);
      umask (mask);
      g_assert_cmpint (st.st_mode & 0777, ==, 0666 & ~mask);
      /* And we read our own file back exactly. */
      OshTensor *back = osh_npy_read (path, &err);
      g_assert_nonnull (back);
      g_assert_true (osh_shape_equal (&back->shape, &t->shape));
      g_assert_cmpmem (back->data, n * 4, t->data, n * 4);
      osh_tensor_free (back);
      g_free (out);
      g_free (cmd);
      g_remove (path);
      g_free (path);
      osh_tensor_free (t);
    }
  /* Writing into a missing folder fails cleanly and leaves nothing behind. */
  OshShape s = osh_shape_make (1, (int64_t[]){ 3 });
  OshTensor *t = osh_tensor_new (&s, &err);
  char *bad = g_build_filename (dir, "missing", "x.npy", NULL);
  g_assert_false (osh_npy_write (bad, t, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_IO);
  g_free (bad);
  osh_tensor_free (t);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/npy/read/dtypes", test_dtypes);
  g_test_add_func ("/npy/read/small-shapes", test_small_shapes);
  g_test_add_func ("/npy/read/refusals", test_refusals);
  g_test_add_func ("/npy/read/malformed", test_malformed);
  g_test_add_func ("/npy/write/numpy-reads", test_write_numpy_reads);
  return g_test_run ();
}
