/* The window opens headless and shows what it loaded. */
#include <gtk/gtk.h>

#include "offshoot-window.h"
#include "osh-test.h"

static void
test_opens_corpus_model (void)
{
  g_autofree char *path = osh_test_corpus ("keras2/face_classification/fer2013_mini_XCEPTION.102-0.66.hdf5");
  GtkApplication *app = gtk_application_new ("io.offshoot.Offshoot.Test", G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);
  OffshootWindow *win = offshoot_window_new (app);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  offshoot_window_open_file (win, file);
  gtk_window_present (GTK_WINDOW (win));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (win)));
  gtk_window_destroy (GTK_WINDOW (win));
  g_object_unref (app);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/window/opens-corpus-model", test_opens_corpus_model);
  return g_test_run ();
}
