/* release_packed_weights (osh-exec.h): EfficientNetB0 written to a .keras and read back (its
 * weights borrowed from the file's mapping) runs bit for bit as without the option, while the
 * graph gives up its convolution kernels and keeps no weight in the mapping; planning it again
 * is then a usage error naming a weight. The kernels' pages go back to the system while the
 * plan is made, not when the mapping goes: with the mapping held on purpose, the file's copy
 * in memory has shrunk by nearly all of their bytes. */
#include <dirent.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops-test.h"
#include "osh-exec.h"
#include "osh-isa.h"
#include "osh-model.h"
#include "osh-op.h"
#include "osh-zoo.h"

static void
must (const void *made, const OshError *err)
{
  if (!made)
    g_error ("%s", err->message);
}

static OshTensor **
run_b0 (OshGraph *g, bool release, int *n_out)
{
  OshError err = { 0 };
  OshExecOptions opt = osh_exec_options_default ();
  opt.release_packed_weights = release;
  OshPlan *p = osh_plan_new (g, &opt, &err);
  must (p, &err);
  OshTensor *x = osh_tensor_new (osh_plan_input_shape (p, 0), &err);
  for (int64_t i = 0; i < osh_tensor_numel (x); i++)
    x->data[i] = (float) ((i * 37 % 251) - 125);
  *n_out = osh_plan_n_outputs (p);
  OshTensor **outs = g_new0 (OshTensor *, *n_out);
  g_assert_true (osh_plan_run (p, (const OshTensor *const[]){ x }, 1, outs, &err));
  osh_tensor_free (x);
  osh_plan_free (p);
  return outs;
}

/* Bytes in memory of every copy of a model file (osh-file-bytes.c's memfds). */
static int64_t
file_copies_bytes (void)
{
  int64_t total = 0;
  DIR *d = opendir ("/proc/self/fd");
  g_assert_nonnull (d);
  for (struct dirent *e; (e = readdir (d));)
    {
      char link[320], target[256];
      snprintf (link, sizeof link, "/proc/self/fd/%s", e->d_name);
      ssize_t n = readlink (link, target, sizeof target - 1);
      struct stat st;
      if (n > 0 && (target[n] = 0, g_str_has_prefix (target, "/memfd:offshoot-model"))
          && stat (link, &st) == 0)
        total += (int64_t) st.st_blocks * 512;
    }
  closedir (d);
  return total;
}

static int64_t
conv_bytes (const OshGraph *g)
{
  int64_t bytes = 0;
  for (int i = 0; i < g->n_layers; i++)
    for (int w = 0; strstr (g->layers[i].class_name, "Conv") && w < g->layers[i].n_weights; w++)
      if (g->layers[i].weights[w].value->data)
        bytes += osh_tensor_numel (g->layers[i].weights[w].value) * 4;
  return bytes;
}

/* Weight tensors still holding values: of convolutions, of depthwise convolutions among them,
 * and of other layers; and how many borrow from the file's mapping. */
static void
count_weights (const OshGraph *g, int *conv_held, int *dw_held, int *borrowed, int *other_held)
{
  *conv_held = *dw_held = *borrowed = *other_held = 0;
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      bool conv = strstr (l->class_name, "Conv") != NULL;
      bool dw = strstr (l->class_name, "Depthwise") != NULL;
      for (int w = 0; w < l->n_weights; w++)
        {
          const OshTensor *t = l->weights[w].value;
          if (t->borrowed)
            (*borrowed)++;
          if (t->data)
            (*(conv ? conv_held : other_held))++;
          if (t->data && dw)
            (*dw_held)++;
        }
    }
}

static void
test_release_b0 (void)
{
  OshError err = { 0 };
  OshZooOptions zo;
  osh_zoo_options_init (&zo, "EfficientNetB0");
  zo.height = zo.width = 96; /* every kernel of the full model, on a smaller picture */
  OshGraph *built = osh_zoo_build ("EfficientNetB0", &zo, &err);
  must (built, &err);
  char *dir = g_dir_make_tmp ("osh-release-XXXXXX", NULL);
  char *path = g_build_filename (dir, "b0.keras", NULL);
  g_assert_true (osh_model_save (built, path, &err));
  osh_graph_free (built);

  OshGraph *kept = osh_model_load (path, &err), *given = osh_model_load (path, &err);
  must (given, &err);
  int conv_before, dw_before, borrowed_before, other_before;
  count_weights (given, &conv_before, &dw_before, &borrowed_before, &other_before);
  g_assert_cmpint (borrowed_before, >, 0); /* the case the mapping matters for */

  /* Held past planning, so that only punched holes can make the copy smaller. */
  OshMapping *held = NULL;
  for (int i = 0; i < given->n_layers && !held; i++)
    for (int w = 0; w < given->layers[i].n_weights && !held; w++)
      held = given->layers[i].weights[w].value->borrowed;
  g_assert_nonnull (held);
  osh_mapping_ref (held);
  int64_t kernels = conv_bytes (given), copies_before = file_copies_bytes ();

  int n_a, n_b;
  OshTensor **a = run_b0 (kept, false, &n_a), **b = run_b0 (given, true, &n_b);
  int64_t copies_after = file_copies_bytes ();
  osh_mapping_unref (held);
  g_assert_cmpint (n_a, ==, n_b);
  for (int i = 0; i < n_a; i++)
    {
      g_assert_true (osh_shape_equal (&a[i]->shape, &b[i]->shape));
      g_assert_cmpint (memcmp (a[i]->data, b[i]->data, (size_t) osh_tensor_numel (a[i]) * 4), ==,
                       0);
      osh_tensor_free (a[i]);
      osh_tensor_free (b[i]);
    }
  g_free (a);
  g_free (b);

  int conv_after, dw_after, borrowed_after, other_after;
  count_weights (given, &conv_after, &dw_after, &borrowed_after, &other_after);
  g_assert_cmpint (other_after, ==, other_before); /* the rest stays, as owned copies */
  g_assert_cmpint (conv_before, >, 100);
  g_assert_cmpint (dw_before, ==, 16); /* B0's sixteen depthwise kernels */
  g_assert_cmpint (dw_after, ==, 0);   /* every path packs them */
  if (osh_isa_current () != OSH_ISA_BASELINE)
    {
      /* Every convolution packed: none keeps its tensors, nothing holds the mapping. */
      g_assert_cmpint (conv_after, ==, 0);
      g_assert_cmpint (borrowed_after, ==, 0);
      /* Only pages shared with a neighbour stay (under 10 % of B0's small kernels). */
      g_assert_cmpint (kernels, >, 10 << 20);
      g_assert_cmpint (copies_before - copies_after, >, kernels * 9 / 10);
    }
  else /* the portable path runs the other convolutions from their own kernels (im2col + sgemm) */
    g_assert_cmpint (conv_after, ==, conv_before - dw_before);
  /* Planning again needs a released kernel. */
  OshExecOptions opt = osh_exec_options_default ();
  g_assert_null (osh_plan_new (given, &opt, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);
  g_assert_nonnull (strstr (err.message, "release_packed_weights"));
  /* The other graph was planned without the option and keeps everything. */
  int conv_kept, dw_kept, borrowed_kept, other_kept;
  count_weights (kept, &conv_kept, &dw_kept, &borrowed_kept, &other_kept);
  g_assert_cmpint (conv_kept, ==, conv_before);
  g_assert_cmpint (borrowed_kept, ==, borrowed_before);

  osh_graph_free (kept);
  osh_graph_free (given);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/exec/release-packed-weights", test_release_b0);
  return g_test_run ();
}
