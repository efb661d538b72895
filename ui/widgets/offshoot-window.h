/* offshoot-window.h — the main window: one model, its graph, panels. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_WINDOW (offshoot_window_get_type ())
G_DECLARE_FINAL_TYPE (OffshootWindow, offshoot_window, OFFSHOOT, WINDOW, GtkApplicationWindow)

OffshootWindow *offshoot_window_new (GtkApplication *app);
void offshoot_window_open_file (OffshootWindow *self, GFile *file);
void offshoot_window_open_default (OffshootWindow *self);

G_END_DECLS
