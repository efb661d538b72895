/* offshoot-application.h — the GtkApplication: single instance, opens files, owns actions. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define OFFSHOOT_APP_ID "io.offshoot.Offshoot"
#define OFFSHOOT_TYPE_APPLICATION (offshoot_application_get_type ())
G_DECLARE_FINAL_TYPE (OffshootApplication, offshoot_application, OFFSHOOT, APPLICATION,
                      GtkApplication)

OffshootApplication *offshoot_application_new (void);

G_END_DECLS
