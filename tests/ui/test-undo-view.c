/* Undo and redo bring the view back (issue 17: "undo restores the camera"): the graph, its
 * selection and where the view looked at it return together, even when the step changes the
 * layout (an edit that removes layers refits the view without this). */
#include <gtk/gtk.h>

#include "offshoot-window-private.h"
#include "osh-default-model.h"
#include "osh-model.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;
static char *scratch;

typedef struct
{
  double cx, cy, zoom;
} View;

static View
view_of (OffshootWindow *win)
{
  const OshCamera *cam = offshoot_graph_view_get_camera (offshoot_window_get_graph_view (win));
  return (View){ cam->cx, cam->cy, cam->zoom };
}

static void
assert_view (OffshootWindow *win, View want, const char *when)
{
  View got = view_of (win);
  if (fabs (got.cx - want.cx) > 1e-6 || fabs (got.cy - want.cy) > 1e-6
      || fabs (got.zoom - want.zoom) > 1e-9)
    g_error ("%s: the view is at (%.2f, %.2f) zoom %.4f, expected (%.2f, %.2f) zoom %.4f", when,
             got.cx, got.cy, got.zoom, want.cx, want.cy, want.zoom);
}

static void
test_undo_restores_the_view (void)
{
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_default (win);
  ui_test_settle (win);
  if (!offshoot_window_get_graph (win))
    {
      g_test_skip ("this build has no embedded default model");
      ui_test_close (win);
      return;
    }
  /* Looked at closely, somewhere away from where the view opened. */
  ui_test_activate (win, "zoom-in");
  ui_test_activate (win, "zoom-in");
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  OshCamera *cam = offshoot_graph_view_get_camera (view);
  offshoot_graph_view_set_camera (view, cam->world_x + cam->world_w * 0.3,
                                  cam->world_y + cam->world_h * 0.6, cam->zoom);
  View before = view_of (win);

  /* An edit adds an output (the graph is laid out again, the view stays)... */
  OshGraph *edited = ui_test_with_foreign_branch (offshoot_window_get_graph (win));
  offshoot_window_apply_edit (win, edited);
  ui_test_settle (win);
  /* ...and the user zooms out to see it all. */
  ui_test_activate (win, "zoom-fit");
  View after = view_of (win);
  g_assert_true (fabs (after.zoom - before.zoom) > 1e-6);

  /* Undo removes layers: the view would refit; it comes back where it was instead. */
  ui_test_activate (win, "undo");
  ui_test_settle (win);
  g_assert_cmpint (osh_graph_find_layer (offshoot_window_get_graph (win), -1, "foreign_relu"), <,
                   0);
  assert_view (win, before, "after undo");

  ui_test_activate (win, "redo");
  ui_test_settle (win);
  g_assert_cmpint (osh_graph_find_layer (offshoot_window_get_graph (win), -1, "foreign_relu"), >=,
                   0);
  assert_view (win, after, "after redo");
  ui_test_close (win);
}

int
main (int argc, char **argv)
{
  scratch = g_dir_make_tmp ("offshoot-undo-view-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", scratch, TRUE); /* recent files */
  gtk_test_init (&argc, &argv, NULL);
  app = ui_test_application_new ("io.offshoot.Offshoot.TestUndoView");
  g_test_add_func ("/ui/undo/restores-the-view", test_undo_restores_the_view);
  int status = g_test_run ();
  g_object_unref (app);
  ui_test_scratch_free (scratch);
  return status;
}
