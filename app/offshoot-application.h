/* offshoot-application.h — the GtkApplication: single instance, opens files, owns actions. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define OFFSHOOT_APP_ID "io.offshoot.Offshoot"
#define OFFSHOOT_TYPE_APPLICATION (offshoot_application_get_type ())
G_DECLARE_FINAL_TYPE (OffshootApplication, offshoot_application, OFFSHOOT, APPLICATION,
                      GtkApplication)

OffshootApplication *offshoot_application_new (void);
/* Every keyboard shortcut (Ctrl+O open, Ctrl+E export, Ctrl+F find, Ctrl+plus/minus/0 zoom,
 * F5 run, Ctrl+Z / Ctrl+Shift+Z undo/redo, Ctrl+H attach head, Ctrl+Q quit) on `app`. */
void offshoot_application_set_accels (GtkApplication *app);

G_END_DECLS
