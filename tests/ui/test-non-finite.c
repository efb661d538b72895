/* A model whose outputs are not numbers: the window shows the run's result instead of
 * tripping over it (GTK rejects NaN as a bar's accessible value, a critical that aborts
 * under the test harness). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "offshoot-window-private.h"
#include "osh-model.h"
#include "osh-test.h"
#include "osh-zoo-build.h"
#include "ui-test-window.h"

/* Input → global pooling → Dense(10, softmax) whose kernel is all NaN. */
static char *
write_nan_model (const char *dir)
{
  OshError err = { 0 };
  OshZooBuilder b;
  osh_zoo_builder_init (&b, 3, &err);
  OshZt input = osh_zoo_input (&b, "input_1", 16, 16, 3);
  OshZt x = osh_zoo_global_pool (&b, input, "GlobalAveragePooling2D", NULL, false);
  x = osh_zoo_dense (&b, x, "classifier", 10, "softmax");
  OshGraph *g = osh_zoo_builder_finish (&b, "nan_classifier", input, x);
  if (!g)
    g_error ("%s", err.message);
  OshLayer *dense = &g->layers[osh_graph_find_layer (g, -1, "classifier")];
  OshTensor *kernel = dense->weights[0].value;
  for (int64_t i = 0; i < osh_tensor_numel (kernel); i++)
    kernel->data[i] = NAN;
  char *path = g_build_filename (dir, "nan-classifier.keras", NULL);
  if (!osh_model_save (g, path, &err))
    g_error ("%s", err.message);
  osh_graph_free (g);
  return path;
}

static GtkApplication *app;
static char *scratch;

static void
test_nan_outputs (void)
{
  g_autofree char *path = write_nan_model (scratch);
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, path);
  UI_TEST_WAIT_WHILE (offshoot_window_is_busy (win), "the window to finish its work");
  g_assert_null (offshoot_window_get_error (win));
  g_autoptr (GFile) sample =
      g_file_new_for_uri ("resource:///io/offshoot/Offshoot/samples/circle-1.png");
  offshoot_window_set_run_input (win, sample);
  g_action_group_activate_action (G_ACTION_GROUP (win), "run", NULL);
  UI_TEST_WAIT_WHILE (offshoot_window_is_busy (win), "the window to finish its work");
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  g_assert_null (offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 1);
  /* The probabilities are shown as what they are. */
  g_assert_nonnull (strstr (offshoot_run_panel_get_result_text (run, 0), "nan"));

  gpointer weak = win;
  g_object_add_weak_pointer (G_OBJECT (win), &weak);
  gtk_window_destroy (GTK_WINDOW (win));
  UI_TEST_WAIT_WHILE (weak, "the closed window to be finalized");
  g_remove (path);
}

int
main (int argc, char **argv)
{
  scratch = g_dir_make_tmp ("offshoot-nan-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", scratch, TRUE); /* recent files */
  gtk_test_init (&argc, &argv, NULL);
  app = ui_test_application_new ("io.offshoot.Offshoot.TestNan");
  g_test_add_func ("/ui/run/nan-outputs", test_nan_outputs);
  int status = g_test_run ();
  g_object_unref (app);
  ui_test_scratch_free (scratch);
  return status;
}
