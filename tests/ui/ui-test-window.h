/* ui-test-window.h — the application, windows and scratch folder of the UI tests. */
#pragma once

#include <glib/gstdio.h>

#include "offshoot-window.h"

static inline OffshootWindow *
ui_test_window_new (GtkApplication *app)
{
  OffshootWindow *win = offshoot_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (win), 1100, 760);
  gtk_window_present (GTK_WINDOW (win));
  return win;
}

/* How long a UI test waits for the window before it fails: not a time limit on the program
 * (every wait ends within a second or two when the window works), a bound so that a window that
 * never gets there fails with a message instead of hanging until meson's timeout. */
#define UI_TEST_WAIT_SECONDS 120

static inline gboolean
ui_test_wake (gpointer data)
{
  (void) data;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop while `busy` holds; fails the test naming `what` after
 * UI_TEST_WAIT_SECONDS. A 100 ms timer wakes the loop so the bound is checked even when
 * nothing else happens. */
#define UI_TEST_WAIT_WHILE(busy, what)                                                             \
  G_STMT_START                                                                                     \
  {                                                                                                \
    gint64 ui_deadline_ = g_get_monotonic_time () + UI_TEST_WAIT_SECONDS * G_USEC_PER_SEC;         \
    guint ui_wake_ = g_timeout_add (100, ui_test_wake, NULL);                                      \
    while (busy)                                                                                   \
      {                                                                                            \
        if (g_get_monotonic_time () > ui_deadline_)                                                \
          g_error ("%s:%d: still waiting for %s after %d s", __FILE__, __LINE__, what,             \
                   UI_TEST_WAIT_SECONDS);                                                          \
        g_main_context_iteration (NULL, TRUE);                                                     \
      }                                                                                            \
    g_source_remove (ui_wake_);                                                                    \
  }                                                                                                \
  G_STMT_END

/* Runs the main loop until the window is idle and, on the graph page, its view has a size. */
static inline void
ui_test_settle (OffshootWindow *win)
{
  UI_TEST_WAIT_WHILE (
      offshoot_window_is_busy (win)
          || (g_strcmp0 (offshoot_window_get_page (win), "graph") == 0
              && gtk_widget_get_width (GTK_WIDGET (offshoot_window_get_graph_view (win))) == 0),
      "the window to finish loading and lay out");
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Destroys a window and runs the main loop until it is finalized. */
static inline void
ui_test_close (gpointer window)
{
  gpointer weak = window;
  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  gtk_window_destroy (GTK_WINDOW (window));
  UI_TEST_WAIT_WHILE (weak, "the closed window to be finalized");
}

/* A registered application with the app's resources, not unique, as the windows need. */
static inline GtkApplication *
ui_test_application_new (const char *id)
{
  GtkApplication *app = gtk_application_new (id, G_APPLICATION_NON_UNIQUE);
  g_application_set_resource_base_path (G_APPLICATION (app), "/io/offshoot/Offshoot");
  g_application_register (G_APPLICATION (app), NULL, NULL);
  return app;
}

/* Removes a scratch folder the test used as XDG_DATA_HOME (with the recent-files list the
 * window writes there) and frees its name. */
static inline void
ui_test_scratch_free (char *dir)
{
  g_autofree char *recent = g_build_filename (dir, "recently-used.xbel", NULL);
  g_remove (recent);
  g_rmdir (dir);
  g_free (dir);
}
