/* A guarded .keras or .h5 read takes its weights from the guard child's map of offsets
 * (engine/io/osh-weights-by-offset.h) and makes no HDF5 call; this test program is its own guard
 * child. The weights must be bit-identical to an HDF5 read (the default model saved as .keras,
 * the corpus's .keras and Keras 1/2 .h5 files); a file the map cannot serve (a chunked or
 * float16 dataset, made by make-offset-variants.py with h5py) falls back to HDF5 with the same
 * numbers; a truncated weights entry still fails when the weights are needed; and a hostile
 * child's map (truncated, counts too big, offsets past the end) is an error or a fallback,
 * never a crash. Which path ran: OSH_META_WEIGHTS_BY_OFFSET in g->meta. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osh-default-model.h"
#include "osh-hdf5-guard.h"
#include "osh-model.h"
#include "osh-test.h"
#include "osh-weights-by-offset.h"

static char *scratch;

static const char *
default_keras (void)
{
  static char *path;
  if (!path)
    {
      path = g_build_filename (scratch, "default.keras", NULL);
      OshError err = { 0 };
      OshGraph *g = osh_load_model_spec ("@default", &err);
      g_assert_nonnull (g);
      g_assert_true (osh_model_save (g, path, &err));
      osh_graph_free (g);
    }
  return path;
}

static OshGraph *
load (const char *path, bool guarded, OshError *err)
{
  osh_hdf5_guard_enable (guarded ? "/proc/self/exe" : NULL);
  OshGraph *g = osh_model_load (path, err);
  osh_hdf5_guard_enable (NULL);
  return g;
}

static bool
by_offset (const OshGraph *g)
{
  return json_is_true (json_object_get (g->meta, OSH_META_WEIGHTS_BY_OFFSET));
}

/* Same layers, same weights in the same order, same names, shapes and bits. Returns the number
 * of weights compared. */
static int
assert_same_weights (const OshGraph *a, const OshGraph *b)
{
  int compared = 0;
  g_assert_cmpint (a->n_layers, ==, b->n_layers);
  for (int i = 0; i < a->n_layers; i++)
    {
      const OshLayer *la = &a->layers[i], *lb = &b->layers[i];
      g_assert_cmpstr (la->name, ==, lb->name);
      g_assert_cmpint (la->n_weights, ==, lb->n_weights);
      for (int w = 0; w < la->n_weights; w++)
        {
          const OshTensor *ta = la->weights[w].value, *tb = lb->weights[w].value;
          g_assert_cmpstr (la->weights[w].name, ==, lb->weights[w].name);
          g_assert_cmpint (la->weights[w].trainable, ==, lb->weights[w].trainable);
          g_assert_true (osh_shape_equal (&ta->shape, &tb->shape));
          int64_t n = osh_shape_numel (&ta->shape);
          if (n > 0)
            g_assert_cmpint (memcmp (ta->data, tb->data, (size_t) n * sizeof (float)), ==, 0);
          compared++;
        }
    }
  return compared;
}

static void
test_default_model_bit_identical (void)
{
  const char *path = default_keras ();
  OshError err = { 0 };
  OshGraph *plain = load (path, false, &err);
  g_assert_cmpstr (err.message, ==, "");
  OshGraph *guarded = load (path, true, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_false (by_offset (plain));
  g_assert_true (by_offset (guarded));
  int n = assert_same_weights (plain, guarded);
  g_assert_cmpint (n, >=, 10);
  /* Aligned weights are used in place, as the HDF5 read does. */
  int borrowed = 0;
  for (int i = 0; i < guarded->n_layers; i++)
    for (int w = 0; w < guarded->layers[i].n_weights; w++)
      borrowed += guarded->layers[i].weights[w].value->borrowed != NULL;
  g_assert_cmpint (borrowed, >, 0);
  osh_graph_free (plain);
  osh_graph_free (guarded);

  /* Graph first, weights later (the window's way) takes the same path. */
  OshGraph *later = osh_model_load_graph (path, &err);
  g_assert_nonnull (later);
  osh_hdf5_guard_enable ("/proc/self/exe");
  g_assert_true (osh_model_load_weights (later, &err));
  osh_hdf5_guard_enable (NULL);
  plain = load (path, false, &err);
  g_assert_cmpint (assert_same_weights (plain, later), ==, n);
  osh_graph_free (plain);
  osh_graph_free (later);
}

/* A corpus file read through the guard is the file read without it: the same weights to the
 * bit, or the same error. Returns whether the offsets path ran. */
static bool
assert_same_as_plain (const char *path)
{
  OshError plain_err = { 0 }, guarded_err = { 0 };
  OshGraph *plain = load (path, false, &plain_err);
  OshGraph *guarded = load (path, true, &guarded_err);
  g_assert_cmpint (guarded_err.code, ==, plain_err.code);
  g_assert_cmpstr (guarded_err.message, ==, plain_err.message);
  bool offsets = guarded && by_offset (guarded);
  if (plain)
    {
      assert_same_weights (plain, guarded);
      /* The same notes in g->meta (version, backend, kernels flipped, ...) but the path's. */
      json_object_del (guarded->meta, OSH_META_WEIGHTS_BY_OFFSET);
      g_assert_true (json_equal (plain->meta, guarded->meta));
    }
  osh_graph_free (plain);
  osh_graph_free (guarded);
  return offsets;
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Keras's own .keras files (weights off any 4-byte boundary, so copied, not borrowed) and
 * Keras 1/2 .h5 files of every kind in the corpus (one per folder: nested models, RNNs,
 * Theano-era kernels) take the offsets path with the same bits. */
static void
test_corpus_files (void)
{
  const char *folders[] = { "keras3",
                            "keras2/face_classification",
                            "keras2/dl4j/tfkeras",
                            "keras2/dl4j/weights",
                            "keras2/dl4j/examples/conv1d",
                            "keras2/dl4j/examples/simple_lstm",
                            "keras2/dl4j/examples/activations",
                            "keras2/dl4j/examples/lambda",
                            "keras2/dl4j/fullconfigs/cnn",
                            "keras2/dl4j/optimizers",
                            NULL };
  g_autofree char *root = osh_test_corpus_or_skip ("keras3/mnist_cnn.keras");
  if (!root)
    return;
  int files = 0, offsets = 0;
  for (int i = 0; folders[i]; i++)
    {
      g_autofree char *folder = osh_test_corpus (folders[i]);
      GDir *dir = g_dir_open (folder, 0, NULL);
      g_assert_nonnull (dir);
      GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
      const char *entry;
      while ((entry = g_dir_read_name (dir)))
        if (g_str_has_suffix (entry, ".keras") || g_str_has_suffix (entry, ".h5")
            || g_str_has_suffix (entry, ".hdf5"))
          g_ptr_array_add (names, g_strdup (entry));
      g_dir_close (dir);
      g_ptr_array_sort (names, by_name);
      /* The whole of small folders, the first of a large one (the suite stays quick). */
      for (guint k = 0; k < names->len && (k == 0 || names->len <= 8); k++)
        {
          g_autofree char *path = g_build_filename (folder, names->pdata[k], NULL);
          bool took = assert_same_as_plain (path);
          g_test_message ("%s: %s", path, took ? "by offsets" : "HDF5");
          files++;
          offsets += took;
        }
      g_ptr_array_unref (names);
    }
  /* Keras 1 files of the Theano era (kernels converted and flipped after reading), recurrent
   * and bidirectional layers. */
  const char *more[] = { "keras2/dl4j/weights/conv2d_theano_1.h5",
                         "keras2/dl4j/weights/conv2d_theano_2.h5",
                         "keras2/dl4j/weights/bidirectional_lstm_theano_2.h5",
                         "keras2/dl4j/examples/simple_lstm/simple_lstm_th_keras_1_model.h5", NULL };
  for (int i = 0; more[i]; i++)
    {
      g_autofree char *path = osh_test_corpus (more[i]);
      bool took = assert_same_as_plain (path);
      g_test_message ("%s: %s", path, took ? "by offsets" : "HDF5");
      files++;
      offsets += took;
    }
  g_test_message ("%d of %d files by offsets", offsets, files);
  g_assert_cmpint (files, >=, 10);
  g_assert_cmpint (offsets, >=, files / 2);
  /* Both Keras 3's own archives and Keras 2's files. */
  g_autofree char *keras = osh_test_corpus ("keras3/mnist_cnn.keras");
  g_autofree char *h5 =
      osh_test_corpus ("keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5");
  g_assert_true (assert_same_as_plain (keras));
  g_assert_true (assert_same_as_plain (h5));
}

/* The variants of default.keras, or NULL (then the test is skipped) without python3 and h5py. */
/* make-offset-variants.py run on `source` into the scratch folder; false when it could not run
 * (no python3 with h5py). */
static bool
make_variants (const char *source)
{
  g_autofree char *script = osh_test_fixture ("robustness/make-offset-variants.py");
  const char *argv[] = { "/usr/bin/python3", script, source, scratch, NULL };
  int status = -1;
  g_autofree char *errors = NULL;
  bool ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                          &errors, &status, NULL)
            && g_spawn_check_wait_status (status, NULL);
  if (!ok)
    g_test_message ("make-offset-variants.py: %s", errors ? errors : "did not run");
  return ok;
}

static char *
variant (const char *which)
{
  static bool made, usable;
  if (!made)
    {
      made = true;
      usable = make_variants (default_keras ());
    }
  return usable ? g_build_filename (scratch, which, NULL) : NULL;
}

/* The same for a Keras 2 .h5: its first weight chunked, its second float16. */
static void
test_h5_chunked_and_float16_fall_back (void)
{
  g_autofree char *source =
      osh_test_corpus_or_skip ("keras2/face_classification/tiny_XCEPTION_KDEF.hdf5");
  if (!source)
    return;
  if (!make_variants (source))
    {
      g_test_skip ("python3 with h5py absent");
      return;
    }
  g_autofree char *path = g_build_filename (scratch, "mixed.h5", NULL);
  g_assert_false (assert_same_as_plain (path));
  g_assert_true (assert_same_as_plain (source));
}

static void
test_chunked_and_float16_fall_back (void)
{
  g_autofree char *path = variant ("mixed.keras");
  if (!path)
    {
      g_test_skip ("python3 with h5py absent");
      return;
    }
  OshError err = { 0 };
  OshGraph *plain = load (path, false, &err);
  g_assert_cmpstr (err.message, ==, "");
  OshGraph *guarded = load (path, true, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_false (by_offset (guarded));
  g_assert_cmpint (assert_same_weights (plain, guarded), >=, 10);
  /* And the numbers are the original's: exact for the chunked one, to float16's precision for
   * the other. */
  OshGraph *original = load (default_keras (), false, &err);
  int exact = 0, close = 0;
  for (int i = 0; i < original->n_layers; i++)
    for (int w = 0; w < original->layers[i].n_weights; w++)
      {
        const OshTensor *a = original->layers[i].weights[w].value;
        const OshTensor *b = guarded->layers[i].weights[w].value;
        int64_t n = osh_shape_numel (&a->shape);
        bool same = n == 0 || memcmp (a->data, b->data, (size_t) n * sizeof (float)) == 0;
        exact += same;
        for (int64_t k = 0; !same && k < n; k++)
          g_assert_cmpfloat (fabsf (a->data[k] - b->data[k]), <=, 1e-3f * fabsf (a->data[k]));
        close += !same;
      }
  g_assert_cmpint (close, ==, 1);
  g_assert_cmpint (exact, >=, 10);
  osh_graph_free (original);
  osh_graph_free (plain);
  osh_graph_free (guarded);
}

static void
test_truncated_weights_fail_when_needed (void)
{
  g_autofree char *path = variant ("truncated.keras");
  if (!path)
    {
      g_test_skip ("python3 with h5py absent");
      return;
    }
  OshError err = { 0 };
  g_assert_null (load (path, true, &err));
  g_assert_cmpstr (osh_error_code_name (err.code), ==, "format");
  g_assert_nonnull (strstr (err.message, "model.weights.h5"));
  /* The graph opens; the weights fail when they are asked for. */
  OshError graph_err = { 0 }, weights_err = { 0 };
  osh_hdf5_guard_enable ("/proc/self/exe");
  OshGraph *g = osh_model_load_graph (path, &graph_err);
  g_assert_cmpstr (graph_err.message, ==, "");
  g_assert_nonnull (g);
  g_assert_false (osh_model_load_weights (g, &weights_err));
  osh_hdf5_guard_enable (NULL);
  g_assert_cmpstr (osh_error_code_name (weights_err.code), ==, "format");
  g_assert_nonnull (strstr (weights_err.message, "model.weights.h5"));
  osh_graph_free (g);
}

/* ---- a hostile child's map ---- */

static void
assert_refused (const void *msg, size_t size, const char *what)
{
  OshWeightMap map = { 0 };
  OshError err = { 0 };
  if (what)
    g_test_message ("%s", what);
  g_assert_false (osh_weight_map_decode ("m.keras", msg, size, &map, &err));
  g_assert_cmpstr (osh_error_code_name (err.code), ==, "format");
  g_assert_true (g_str_has_prefix (err.message, "m.keras: the HDF5 guard process sent a "
                                                "malformed weight map"));
  g_assert_null (map.places);
  g_assert_cmpuint (map.n, ==, 0);
}

static void
test_malformed_maps_refused (void)
{
  OshWeightMap map = { 0 };
  OshShape kernel = osh_shape_make (4, (int64_t[]){ 3, 3, 1, 8 });
  OshShape scalar = osh_shape_make (0, NULL);
  g_assert_true (osh_weight_map_add (&map, 1, "vars/0", &kernel, 4096));
  g_assert_true (osh_weight_map_add (&map, 2, "vars/1", &scalar, -1));
  size_t size = 0;
  g_autofree char *msg = osh_weight_map_encode (&map, &size);
  osh_weight_map_clear (&map);

  OshWeightMap back = { 0 };
  OshError err = { 0 };
  g_assert_true (osh_weight_map_decode ("m.keras", msg, size, &back, &err));
  g_assert_cmpuint (back.n, ==, 2);
  g_assert_cmpint (back.places[0].layer, ==, 1);
  g_assert_cmpstr (back.places[0].name, ==, "vars/0");
  g_assert_true (osh_shape_equal (&back.places[0].shape, &kernel));
  g_assert_cmpint (back.places[0].offset, ==, 4096);
  g_assert_cmpint (back.places[1].shape.rank, ==, 0);
  g_assert_cmpint (back.places[1].offset, ==, -1);
  g_assert_null (back.config);
  osh_weight_map_clear (&back);

  /* A .h5's map carries its attributes; the backend's are the message's last bytes. */
  g_assert_true (osh_weight_map_add (&map, 1, "dense/kernel:0", &kernel, 4096));
  g_assert_true (osh_weight_map_set_h5_attrs (&map, "{}", NULL, "tensorflow"));
  size_t h5_size = 0;
  g_autofree char *h5_msg = osh_weight_map_encode (&map, &h5_size);
  osh_weight_map_clear (&map);
  g_assert_true (osh_weight_map_decode ("m.h5", h5_msg, h5_size, &back, &err));
  g_assert_cmpstr (back.config, ==, "{}");
  g_assert_null (back.version);
  g_assert_cmpstr (back.backend, ==, "tensorflow");
  osh_weight_map_clear (&back);
  g_autofree char *h5_bad = g_memdup2 (h5_msg, h5_size);
  h5_bad[h5_size - 3] = '\0';
  assert_refused (h5_bad, h5_size, "a NUL in an attribute");
  memcpy (h5_bad, h5_msg, h5_size);
  uint32_t huge = 5000; /* the backend's length: over the limit and the message */
  memcpy (h5_bad + h5_size - 14, &huge, 4);
  assert_refused (h5_bad, h5_size, "an attribute longer than the message");

  /* Every cut of a good message is refused. */
  for (size_t cut = 0; cut < size; cut++)
    assert_refused (msg, cut, NULL); /* truncated */
  g_autofree char *longer = g_malloc0 (size + 1);
  memcpy (longer, msg, size);
  assert_refused (longer, size + 1, "a byte too many");

  /* Layout of the first place: count 0..3, layer 4..7, name length 8, name 9..14, rank 15,
   * sizes 16..47, offset 48..55. */
  g_autofree char *bad = g_memdup2 (msg, size);
  uint32_t count = 1u << 30;
  memcpy (bad, &count, 4);
  assert_refused (bad, size, "a count over the limit");
  count = 3;
  memcpy (bad, &count, 4);
  assert_refused (bad, size, "a count over what the message holds");

  struct
  {
    size_t at;
    int64_t value;
    int bytes;
    const char *what;
  } edits[] = {
    { 4, -1, 4, "a negative layer" },
    { 4, 1 << 30, 4, "a layer past any graph" },
    { 8, 0, 1, "an empty name" },
    { 8, 255, 1, "a name running past the message" },
    { 10, 0, 1, "a NUL inside the name" },
    { 15, OSH_MAX_RANK + 1, 1, "a rank over the limit" },
    { 16, -5, 8, "a negative size" },
    { 16, INT64_C (1) << 40, 8, "a size over the limit" },
    { 24, INT64_C (1) << 30, 8, "too many elements" },
    { 48, -2, 8, "an offset below -1" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      memcpy (bad, msg, size);
      memcpy (bad + edits[i].at, &edits[i].value, (size_t) edits[i].bytes);
      if (edits[i].at == 24)
        memcpy (bad + 16, &edits[i].value, 8); /* 2^30 × 2^30 elements */
      assert_refused (bad, size, edits[i].what);
    }
}

/* The real map of default.keras, as the guard's child sends it. */
static void
real_map (const char *path, const void *data, size_t size, OshWeightMap *map)
{
  OshError err = { 0 };
  osh_hdf5_guard_enable ("/proc/self/exe");
  g_assert_true (
      osh_hdf5_guard_check_map (path, OSH_FORMAT_KERAS3, OSH_READ_ALL, data, size, -1, map, &err));
  osh_hdf5_guard_enable (NULL);
  g_assert_false (map->incomplete);
  g_assert_cmpuint (map->n, >=, 10);
}

/* A map whose places do not fit the file is not used: the caller reads with HDF5 (err clear). A
 * map that fits but names shapes the config contradicts is an error. */
static void
test_maps_that_do_not_fit (void)
{
  const char *path = default_keras ();
  g_autofree char *data = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (path, &data, &size, NULL));
  OshWeightMap map = { 0 };
  real_map (path, data, size, &map);
  OshError err = { 0 };
  OshGraph *g = osh_keras3_read_by_offsets (path, data, size, &map, OSH_READ_ALL, NULL, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_true (by_offset (g));
  osh_graph_free (g);

  OshWeightPlace *first = &map.places[0];
  OshWeightPlace saved = *first;
  int64_t bytes = osh_shape_numel (&first->shape) * 4;
  struct
  {
    int64_t offset;
    int32_t layer;
    const char *what;
  } misfits[] = {
    { (int64_t) size, saved.layer, "an offset at the end of the file" },
    { (int64_t) size - bytes + 4, saved.layer, "values running past the end" },
    { INT64_MAX, saved.layer, "an offset that overflows" },
    { 0, saved.layer, "an offset before model.weights.h5" },
    { -1, saved.layer, "no offset" },
    { saved.offset, 1 << 20, "a layer the graph does not have" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (misfits); i++)
    {
      g_test_message ("%s", misfits[i].what);
      first->offset = misfits[i].offset;
      first->layer = misfits[i].layer;
      g_assert_null (osh_keras3_read_by_offsets (path, data, size, &map, OSH_READ_ALL, NULL, &err));
      g_assert_cmpstr (err.message, ==, "");
    }
  *first = saved;

  /* The first place over and over: each lies in the file, all of them together are more bytes
   * than the whole archive. */
  OshWeightMap repeated = { 0 };
  while ((int64_t) repeated.n * bytes <= (int64_t) size)
    g_assert_true (
        osh_weight_map_add (&repeated, saved.layer, saved.name, &saved.shape, saved.offset));
  g_assert_null (
      osh_keras3_read_by_offsets (path, data, size, &repeated, OSH_READ_ALL, NULL, &err));
  g_assert_cmpstr (err.message, ==, "");
  osh_weight_map_clear (&repeated);

  map.incomplete = true;
  g_assert_null (osh_keras3_read_by_offsets (path, data, size, &map, OSH_READ_ALL, NULL, &err));
  g_assert_cmpstr (err.message, ==, "");
  map.incomplete = false;

  /* The same number of values in another shape: the layer's own rule refuses it. */
  g_assert_cmpint (first->shape.rank, ==, 4);
  int64_t swap = first->shape.dim[0];
  first->shape.dim[0] = first->shape.dim[3];
  first->shape.dim[3] = swap;
  if (first->shape.dim[0] != first->shape.dim[3])
    {
      g_assert_null (osh_keras3_read_by_offsets (path, data, size, &map, OSH_READ_ALL, NULL, &err));
      g_assert_cmpstr (osh_error_code_name (err.code), ==, "shape");
    }
  osh_weight_map_clear (&map);
}

/* A child that sends a map the parent cannot take: an error naming the file, never a crash.
 * The child is a shell script writing raw bytes to its socket (descriptor 3). */
static void
test_hostile_child_message (void)
{
  const char *path = default_keras ();
  g_autofree char *script = g_build_filename (scratch, "liar.sh", NULL);
  /* 'M' and a length of 2^40 bytes. */
  g_assert_true (g_file_set_contents (
      script, "#!/bin/sh\nprintf 'M\\000\\000\\000\\000\\000\\001\\000\\000' >&3\nsleep 5\n", -1,
      NULL));
  g_assert_cmpint (chmod (script, 0700), ==, 0);
  osh_hdf5_guard_enable (script);
  OshError err = { 0 };
  g_assert_null (osh_model_load (path, &err));
  osh_hdf5_guard_enable (NULL);
  g_assert_cmpstr (osh_error_code_name (err.code), ==, "format");
  g_autofree char *want =
      g_strdup_printf ("%s: the HDF5 guard process sent a malformed weight map", path);
  g_assert_cmpstr (err.message, ==, want);
  osh_error_clear (&err);

  /* A well-formed map whose one place lies past the end, then success: the parent reads the
   * file with HDF5 instead, with the file's own weights. Payload: count 1, layer 1, "vars/0",
   * rank 0, offset 2^63 - 1, no attributes. */
  g_assert_true (g_file_set_contents (script,
                                      "#!/bin/sh\nprintf 'M\\044\\000\\000\\000\\000\\000\\000\\000"
                                      "\\001\\000\\000\\000\\001\\000\\000\\000\\006vars/0\\000"
                                      "\\377\\377\\377\\377\\377\\377\\377\\177"
                                      "\\377\\377\\377\\377\\377\\377\\377\\377\\377\\377\\377\\377"
                                      "R\\000\\000\\000\\000' >&3\n",
                                      -1, NULL));
  g_assert_cmpint (chmod (script, 0700), ==, 0); /* g_file_set_contents made a new file */
  osh_hdf5_guard_enable (script);
  OshGraph *g = osh_model_load (path, &err);
  osh_hdf5_guard_enable (NULL);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_false (by_offset (g));
  OshGraph *plain = load (path, false, &err);
  assert_same_weights (plain, g);
  osh_graph_free (plain);
  osh_graph_free (g);
  unlink (script);
}

int
main (int argc, char **argv)
{
  int status = osh_hdf5_guard_child_main (argc, argv);
  if (status >= 0)
    return status;
  g_test_init (&argc, &argv, NULL);
  scratch = g_dir_make_tmp ("osh-by-offset-XXXXXX", NULL);
  g_test_add_func ("/robustness/weights-by-offset/default-model-bit-identical",
                   test_default_model_bit_identical);
  g_test_add_func ("/robustness/weights-by-offset/corpus-files", test_corpus_files);
  g_test_add_func ("/robustness/weights-by-offset/chunked-and-float16-fall-back",
                   test_chunked_and_float16_fall_back);
  g_test_add_func ("/robustness/weights-by-offset/h5-chunked-and-float16-fall-back",
                   test_h5_chunked_and_float16_fall_back);
  g_test_add_func ("/robustness/weights-by-offset/truncated-weights-fail-when-needed",
                   test_truncated_weights_fail_when_needed);
  g_test_add_func ("/robustness/weights-by-offset/malformed-maps-refused",
                   test_malformed_maps_refused);
  g_test_add_func ("/robustness/weights-by-offset/maps-that-do-not-fit", test_maps_that_do_not_fit);
  g_test_add_func ("/robustness/weights-by-offset/hostile-child-message",
                   test_hostile_child_message);
  int result = g_test_run ();
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", scratch);
  if (system (rm) != 0)
    g_printerr ("could not remove %s\n", scratch);
  return result;
}
