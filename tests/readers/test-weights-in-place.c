/* Weights used where they lie in the file's bytes (osh-tensor.h: borrowed tensors): a .keras
 * that Offshoot wrote loads without copying its weights, with the same values and the same
 * outputs as the model it was written from; the file can be truncated on disk while the model
 * is open (the weights live in a sealed copy, so no SIGBUS); a weight changed in place changes
 * only that model; the weights outlive everything else of the load; the view of the copy that
 * the HDF5 guard's child gets cannot change it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "osh-crc32.h"
#include "osh-file-bytes.h"
#include "osh-heads.h"
#include "osh-model.h"
#include "osh-test.h"
#include "osh-zoo.h"

static OshGraph *
build_mobilenet (void)
{
  OshZooOptions o;
  g_assert_true (osh_zoo_options_init (&o, "MobileNet"));
  o.height = o.width = 32;
  o.include_top = false;
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("MobileNet", &o, &err);
  if (!g)
    g_error ("%s", err.message);
  return g;
}

static char *
saved_as (const OshGraph *g, const char *file, char **dir)
{
  GError *gerr = NULL;
  *dir = g_dir_make_tmp ("osh-in-place-XXXXXX", &gerr);
  g_assert_no_error (gerr);
  char *path = g_build_filename (*dir, file, NULL);
  OshError err = { 0 };
  if (!osh_model_save (g, path, &err))
    g_error ("%s", err.message);
  return path;
}

static char *
saved (const OshGraph *g, char **dir)
{
  return saved_as (g, "mobilenet.keras", dir);
}

/* The model saved at `path`, read as `offshoot` reads it. */
static OshGraph *
load (const char *path)
{
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  if (!g)
    g_error ("%s", err.message);
  return g;
}

static void
remove_saved (char *dir, char *path)
{
  unlink (path);
  rmdir (dir);
  g_free (path);
  g_free (dir);
}

/* Counts the weights of `g` that are borrowed, and checks that each weight of `g` holds the
 * same bits as the one of `ref` at the same place. */
static int
compare_weights (const OshGraph *g, const OshGraph *ref, int *n_weights)
{
  g_assert_cmpint (g->n_layers, ==, ref->n_layers);
  int borrowed = 0;
  *n_weights = 0;
  for (int i = 0; i < g->n_layers; i++)
    {
      g_assert_cmpint (g->layers[i].n_weights, ==, ref->layers[i].n_weights);
      for (int w = 0; w < g->layers[i].n_weights; w++)
        {
          const OshTensor *a = g->layers[i].weights[w].value, *b = ref->layers[i].weights[w].value;
          g_assert_true (osh_shape_equal (&a->shape, &b->shape));
          size_t bytes = (size_t) osh_tensor_numel (a) * sizeof (float);
          g_assert_cmpint (memcmp (a->data, b->data, bytes), ==, 0);
          borrowed += a->borrowed != NULL;
          (*n_weights)++;
        }
    }
  return borrowed;
}

/* Runs `g` on a fixed 32 × 32 picture; `outputs` gets its g->n_outputs results. */
static void
run_into (const OshGraph *g, OshTensor **outputs)
{
  OshShape s = osh_shape_make (4, (int64_t[]){ 1, 32, 32, 3 });
  OshError err = { 0 };
  OshTensor *x = osh_tensor_new (&s, &err);
  for (int64_t k = 0; k < osh_tensor_numel (x); k++)
    x->data[k] = (float) ((k * 37) % 101) / 101.0f;
  OshExecOptions opt = osh_exec_options_default ();
  if (!osh_exec_run_once (g, &opt, (const OshTensor *const[]){ x }, 1, outputs, &err))
    g_error ("%s", err.message);
  osh_tensor_free (x);
}

static OshTensor *
run (const OshGraph *g)
{
  OshTensor *out = NULL;
  run_into (g, &out);
  return out;
}

static void
test_written_keras_is_borrowed (void)
{
  OshGraph *built = build_mobilenet ();
  char *dir, *path = saved (built, &dir);
  OshGraph *g = load (path);
  int n = 0, borrowed = compare_weights (g, built, &n);
  /* Everything but weights under 64 bytes (none in MobileNet: the smallest is a 32-channel
   * BatchNorm vector, 128 bytes). */
  g_assert_cmpint (n, >, 80);
  g_assert_cmpint (borrowed, ==, n);
  OshTensor *a = run (built), *b = run (g);
  g_assert_cmpint (osh_tensor_numel (a), ==, 1024);
  g_assert_cmpint (memcmp (a->data, b->data, 1024 * sizeof (float)), ==, 0);
  osh_tensor_free (a);
  osh_tensor_free (b);
  osh_graph_free (g);
  osh_graph_free (built);
  remove_saved (dir, path);
}

/* The .h5 writer aligns its weights too, and an .h5 is its own image: no archive around it. */
static void
test_written_h5_is_borrowed (void)
{
  OshGraph *built = build_mobilenet ();
  char *dir, *path = saved_as (built, "mobilenet.h5", &dir);
  OshGraph *g = load (path);
  int n = 0;
  g_assert_cmpint (compare_weights (g, built, &n), ==, n);
  g_assert_cmpint (n, >, 80);
  osh_graph_free (g);
  osh_graph_free (built);
  remove_saved (dir, path);
}

static void
test_truncated_under_us (void)
{
  OshGraph *built = build_mobilenet ();
  char *dir, *path = saved (built, &dir);
  OshError err = { 0 };
  OshGraph *g = load (path);
  /* Another program cuts the file while the model is open: a mapping of the file would fault
   * (SIGBUS) on the first weight read past the new end. */
  g_assert_cmpint (truncate (path, 100), ==, 0);
  int n = 0;
  g_assert_cmpint (compare_weights (g, built, &n), ==, n);
  OshTensor *a = run (built), *b = run (g);
  g_assert_cmpint (memcmp (a->data, b->data, 1024 * sizeof (float)), ==, 0);
  osh_tensor_free (a);
  osh_tensor_free (b);
  /* Loading it again now fails cleanly. */
  OshGraph *again = osh_model_load (path, &err);
  g_assert_null (again);
  g_assert_cmpint (err.code, ==, OSH_ERR_FORMAT);
  g_assert_nonnull (strstr (err.message, path));
  osh_graph_free (g);
  osh_graph_free (built);
  remove_saved (dir, path);
}

static void
test_changed_in_place_and_kept_alone (void)
{
  OshGraph *built = build_mobilenet ();
  char *dir, *path = saved (built, &dir);
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err), *h = osh_model_load (path, &err);
  if (!g || !h)
    g_error ("%s", err.message);
  int conv = osh_graph_find_layer (g, -1, "conv1");
  g_assert_cmpint (conv, >=, 0);
  OshTensor *t = g->layers[conv].weights[0].value;
  g_assert_nonnull (t->borrowed);
  float before = t->data[5];
  t->data[5] = before + 1.0f; /* a private page of g's own: the file's copy is sealed */
  g_assert_cmpfloat (h->layers[conv].weights[0].value->data[5], ==, before);
  /* A copy owns its values; the borrowed tensor outlives the graph and the load it came from. */
  OshTensor *copy = osh_tensor_copy (t, &err);
  g_assert_null (copy->borrowed);
  g_assert_cmpint (memcmp (copy->data, t->data, (size_t) osh_tensor_numel (t) * 4), ==, 0);
  g->layers[conv].weights[0].value = copy; /* g frees the copy; t is ours now */
  osh_graph_free (g);
  g_assert_cmpfloat (t->data[5], ==, before + 1.0f);
  /* Saved and read back, the change is in the new file. */
  g_assert_cmpint (unlink (path), ==, 0);
  h->layers[conv].weights[0].value->data[5] = before + 1.0f;
  if (!osh_model_save (h, path, &err))
    g_error ("%s", err.message);
  OshGraph *back = osh_model_load (path, &err);
  g_assert_nonnull (back);
  g_assert_cmpfloat (back->layers[conv].weights[0].value->data[5], ==, before + 1.0f);
  osh_graph_free (back);
  osh_tensor_free (t);
  osh_graph_free (h);
  osh_graph_free (built);
  remove_saved (dir, path);
}

/* An edit shares the values read from the file instead of copying them (B7: 254 MiB per edit
 * in the window, and again for every version its undo keeps): the edited graph's own layers
 * read the very same memory, the head's weights are its own, both run as before, either can
 * go first, a writer's copy leaves the other alone, and pages are given back only by the last
 * tensor reading them. */
static void
test_edits_share_the_values (void)
{
  OshGraph *built = build_mobilenet ();
  char *dir, *path = saved (built, &dir);
  OshError err = { 0 };
  OshGraph *g = load (path);
  OshHeadSpec spec;
  g_assert_true (osh_head_parse ("conv2d(filters=4,kernel_size=1),relu", &spec, &err));
  OshGraph *e = osh_head_attach (g, "conv_pw_13_relu", &spec, OSH_ATTACH_CONNECTED, NULL, &err);
  if (!e)
    g_error ("%s", err.message);
  int shared = 0, head = 0;
  for (int i = 0; i < e->n_layers; i++)
    {
      int same = osh_graph_find_layer (g, -1, e->layers[i].name);
      for (int w = 0; w < e->layers[i].n_weights; w++)
        {
          const OshTensor *t = e->layers[i].weights[w].value;
          if (same < 0)
            {
              g_assert_null (t->borrowed);
              head++;
              continue;
            }
          g_assert_true (t->data == g->layers[same].weights[w].value->data);
          g_assert_nonnull (t->borrowed);
          shared++;
        }
    }
  g_assert_cmpint (head, ==, 2);
  g_assert_cmpint (shared, >, 80);
  /* The edited graph runs the model's output as before, with the original gone. */
  OshTensor *a = run (g);
  osh_graph_free (g);
  g_assert_cmpint (e->n_outputs, ==, 2);
  OshTensor *outs[2] = { 0 };
  run_into (e, outs);
  g_assert_cmpint (memcmp (a->data, outs[0]->data, 1024 * sizeof (float)), ==, 0);
  int n = 0;
  OshGraph *again = osh_graph_copy_sharing (e, &err);
  g_assert_cmpint (compare_weights (again, e, &n), ==, n - 2);

  /* A writer's own copy leaves the other reader alone. */
  int conv = osh_graph_find_layer (e, -1, "conv_pw_13");
  OshTensor *t = e->layers[conv].weights[0].value, *u = again->layers[conv].weights[0].value;
  int64_t numel = osh_tensor_numel (t);
  g_assert_cmpint (numel * (int64_t) sizeof (float), >, 3 * 4096);
  float *keep = g_memdup2 (t->data, (size_t) numel * sizeof (float));
  g_assert_true (osh_tensor_make_owned (t, &err));
  g_assert_null (t->borrowed);
  g_assert_true (t->data != u->data);
  t->data[7] += 1.0f;
  g_assert_cmpfloat (u->data[7], ==, keep[7]);

  /* Pages go back only when the last reader lets go for good. */
  OshTensor *v = osh_tensor_share (u, &err);
  again->layers[conv].weights[0].value = osh_tensor_shape_only (u, &err);
  osh_tensor_free_for_good (u);
  g_assert_cmpint (memcmp (v->data, keep, (size_t) numel * sizeof (float)), ==, 0);
  const float *gone = v->data;
  size_t middle = 4096 / sizeof (float) * 2; /* inside a whole page of the tensor */
  g_assert_true (gone[middle] != 0 || gone[middle + 1] != 0);
  osh_tensor_free_for_good (v);
  /* The mapping stays (the graphs' other weights read it): those pages read as zeros now. */
  g_assert_cmpfloat (gone[middle], ==, 0);
  g_assert_cmpfloat (gone[middle + 1], ==, 0);
  /* Read through the edited graph's copy of the same kernel, owned now: unchanged. */
  g_assert_cmpint (memcmp (t->data + 8, keep + 8, (size_t) (numel - 8) * sizeof (float)), ==, 0);

  g_free (keep);
  osh_tensor_free (a);
  osh_tensor_free (outs[0]);
  osh_tensor_free (outs[1]);
  osh_graph_free (again);
  osh_graph_free (e);
  osh_graph_free (built);
  remove_saved (dir, path);
}

/* Values a graph owns (built in memory, or read from a file whose weights sit unaligned) are
 * shared by an edit too, and live as long as their last reader. */
static void
test_edits_share_owned_values (void)
{
  OshGraph *built = build_mobilenet ();
  OshError err = { 0 };
  OshHeadSpec spec;
  g_assert_true (osh_head_parse ("conv2d(filters=4,kernel_size=1),relu", &spec, &err));
  OshGraph *e = osh_head_attach (built, "conv_pw_13_relu", &spec, OSH_ATTACH_CONNECTED, NULL, &err);
  if (!e)
    g_error ("%s", err.message);
  int conv = osh_graph_find_layer (e, -1, "conv_pw_13");
  OshTensor *t = e->layers[conv].weights[0].value;
  g_assert_null (t->borrowed);
  g_assert_true (t->data == built->layers[conv].weights[0].value->data);
  OshTensor *a = run (built);
  osh_graph_free (built); /* e still reads the values */
  OshTensor *outs[2] = { 0 };
  run_into (e, outs);
  g_assert_cmpint (memcmp (a->data, outs[0]->data, 1024 * sizeof (float)), ==, 0);
  /* The only reader left owns its values already: nothing is copied. */
  const float *before = t->data;
  g_assert_true (osh_tensor_make_owned (t, &err));
  g_assert_true (t->data == before);
  /* A second reader again: the writer gets a copy, the other keeps the values. */
  OshTensor *u = osh_tensor_share (t, &err);
  g_assert_true (u->data == t->data);
  g_assert_true (osh_tensor_make_owned (t, &err));
  g_assert_true (t->data != u->data);
  t->data[3] += 1.0f;
  g_assert_cmpfloat (u->data[3] + 1.0f, ==, t->data[3]);
  osh_tensor_free (u);
  osh_tensor_free (a);
  osh_tensor_free (outs[0]);
  osh_tensor_free (outs[1]);
  osh_graph_free (e);
}

/* The copy's size is sealed (a mapping of it can never fault) and b->fd, which the guard's
 * child gets, cannot write, map writable, punch a hole or be opened writable again (except by
 * root, who could trace the parent anyway). */
static void
test_guard_view_is_read_only (void)
{
  OshGraph *built = build_mobilenet ();
  char *dir, *path = saved (built, &dir);
  OshError err = { 0 };
  OshFileBytes *b = osh_file_bytes_open (path, OSH_FILE_BYTES_SHARED, &err);
  if (!b)
    g_error ("%s", err.message);
  int seals = fcntl (b->fd, F_GET_SEALS);
  g_assert_cmpint (seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), ==,
                   F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  g_assert_cmpint (write (b->fd, "x", 1), ==, -1);
  g_assert_cmpint (pwrite (b->fd, "x", 1, 0), ==, -1);
  g_assert_true (mmap (NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0) == MAP_FAILED);
  g_assert_cmpint (fallocate (b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), ==, -1);
  g_assert_cmpint (ftruncate (b->fd, 0), ==, -1);
  char self[64];
  snprintf (self, sizeof self, "/proc/self/fd/%d", b->fd);
  if (geteuid () != 0)
    g_assert_cmpint (open (self, O_RDWR), ==, -1);
  /* What a child maps is still the file. */
  gchar *file = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (path, &file, &size, NULL));
  const char *view = mmap (NULL, size, PROT_READ, MAP_PRIVATE, b->fd, 0);
  g_assert_true (view != MAP_FAILED);
  g_assert_cmpint (size, ==, b->size);
  g_assert_cmpint (memcmp (view, file, size), ==, 0);
  munmap ((void *) view, size);
  g_free (file);
  osh_file_bytes_close (b);
  osh_graph_free (built);
  remove_saved (dir, path);
}

static void
test_borrow_refuses_outside_and_misaligned (void)
{
  size_t size = 4096;
  float *block = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true (block != MAP_FAILED);
  OshMapping *m = osh_mapping_new (block, size);
  OshShape s = osh_shape_make (1, (int64_t[]){ 8 });
  OshError err = { 0 };
  g_assert_null (osh_tensor_borrow (&s, block + 1, m, &err)); /* 4 bytes off */
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  g_assert_null (osh_tensor_borrow (&s, block + 1020, m, &err)); /* past the end */
  OshTensor *t = osh_tensor_borrow (&s, block + 4, m, &err);
  g_assert_nonnull (t);
  g_assert_true (t->borrowed == m && t->data == block + 4);
  /* The creator lets go first: the tensor's reference keeps the memory mapped. */
  osh_mapping_unref (m);
  t->data[7] = 3.0f;
  g_assert_cmpfloat (block[11], ==, 3.0f);
  osh_tensor_free (t); /* the last reference: unmapped */
}

/* The checksum that guards the weights is zlib's, at every length and start (the fast path
 * folds 64 bytes a step and hands the last 0..15 to zlib). */
static void
test_crc32_agrees_with_zlib (void)
{
  size_t n = 5000;
  unsigned char *b = g_malloc (n + 8);
  for (size_t i = 0; i < n + 8; i++)
    b[i] = (unsigned char) ((i * 2654435761u) >> 13);
  for (size_t len = 0; len < n; len += len < 300 ? 1 : 97)
    for (int off = 0; off < 5; off++)
      {
        g_assert_cmphex (osh_crc32 (0, b + off, len), ==, crc32_z (0, b + off, len));
        g_assert_cmphex (osh_crc32 (0xdeadbeef, b + off, len), ==,
                         crc32_z (0xdeadbeef, b + off, len));
      }
  g_free (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/weights-in-place/written-keras-is-borrowed", test_written_keras_is_borrowed);
  g_test_add_func ("/weights-in-place/written-h5-is-borrowed", test_written_h5_is_borrowed);
  g_test_add_func ("/weights-in-place/truncated-under-us", test_truncated_under_us);
  g_test_add_func ("/weights-in-place/changed-in-place", test_changed_in_place_and_kept_alone);
  g_test_add_func ("/weights-in-place/edits-share-the-values", test_edits_share_the_values);
  g_test_add_func ("/weights-in-place/edits-share-owned-values", test_edits_share_owned_values);
  g_test_add_func ("/weights-in-place/crc32", test_crc32_agrees_with_zlib);
  g_test_add_func ("/weights-in-place/borrow-checks", test_borrow_refuses_outside_and_misaligned);
  g_test_add_func ("/weights-in-place/guard-view-read-only", test_guard_view_is_read_only);
  return g_test_run ();
}
