/* offshoot-new-dialog.h — "New from Architecture…": pick a keras.applications architecture
 * from the zoo (engine/zoo/osh-zoo.h), its top, input shape and classes, and build it in a
 * worker thread. The model goes to the caller's callback; build errors (an input too small
 * for the architecture) stay in the dialog.
 *
 *   static void
 *   on_created (OshGraph *g, const char *title, gpointer data)   // g is the caller's now
 *   {
 *     offshoot_window_open_graph (data, g, title);               // "EfficientNetB0 (untrained)"
 *   }
 *
 *   OffshootNewDialog *d = offshoot_new_dialog_new (GTK_WINDOW (win), on_created, win);
 *   gtk_window_present (GTK_WINDOW (d));   // modal; closes itself on success
 */
#pragma once

#include <gtk/gtk.h>

#include "osh-graph.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_NEW_DIALOG (offshoot_new_dialog_get_type ())
G_DECLARE_FINAL_TYPE (OffshootNewDialog, offshoot_new_dialog, OFFSHOOT, NEW_DIALOG, GtkWindow)

/* Receives the built model (ownership passes) and its display title. */
typedef void (*OffshootNewDialogDone) (OshGraph *g, const char *title, gpointer data);

OffshootNewDialog *offshoot_new_dialog_new (GtkWindow *parent, OffshootNewDialogDone done,
                                            gpointer data);

/* What the controls do, for tests: select an architecture by name (its default input shape
 * fills the spin buttons), set the input shape, press Create. */
gboolean offshoot_new_dialog_select (OffshootNewDialog *self, const char *name);
void offshoot_new_dialog_set_input (OffshootNewDialog *self, int height, int width, int channels);
void offshoot_new_dialog_set_top (OffshootNewDialog *self, gboolean include_top, int classes);
void offshoot_new_dialog_create (OffshootNewDialog *self);
/* TRUE while the worker builds; the error shown in the dialog, or NULL. */
gboolean offshoot_new_dialog_is_busy (OffshootNewDialog *self);
const char *offshoot_new_dialog_get_error (OffshootNewDialog *self);

G_END_DECLS
