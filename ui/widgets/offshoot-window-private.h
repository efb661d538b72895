/* offshoot-window-private.h — the window's state, shared by its files (core, actions,
 * drag and drop). */
#pragma once

#include "offshoot-head-panel.h"
#include "offshoot-run-panel.h"
#include "offshoot-window.h"
#include "osh-graph-handle.h"

struct _OffshootWindow
{
  GtkApplicationWindow parent_instance;

  /* Template children. */
  GtkMenuButton *export_button;
  GtkToggleButton *search_button;
  GtkSearchBar *search_bar;
  GtkSearchEntry *search_entry;
  GtkLabel *search_status;
  GtkRevealer *error_revealer;
  GtkLabel *error_label;
  GtkButton *error_close;
  GtkRevealer *disconnect_revealer;
  GtkLabel *disconnect_message, *disconnect_explanation;
  GtkBox *disconnect_fixes;
  GtkStack *main_stack, *side_stack;
  GtkSpinner *loading_spinner;
  GtkLabel *loading_label, *empty_title, *empty_detail, *status_label;
  GtkProgressBar *loading_progress;
  OffshootGraphView *graph_view;
  OffshootLayerPanel *layer_panel;
  OffshootRunPanel *run_panel;
  OffshootHeadPanel *head_panel;
  GMenu *recent_submenu;

  /* The model. Graphs behind handles are never modified: an edit makes a new one and the
   * old one goes on the undo stack. */
  OshGraphHandle *graph;
  char *spec;             /* the path (or "@default") it came from */
  char *title;            /* the window title of a model built in the window, NULL for files */
  GPtrArray *undo, *redo; /* OshGraphHandle *, most recent last */

  GCancellable *load_cancel;
  guint pulse_id;
  gboolean loading;
  int exporting; /* model saves running in workers */
  char *error;

  OshGraphHandle *original; /* as loaded: the snippet edits this one */
  gboolean connected;
  int select_after_layout; /* a layer to select when the next layout is up, or -1 */

  GtkFileChooserNative *chooser;
};

/* offshoot-window-actions.c */
void offshoot_window_init_actions (OffshootWindow *self);
/* Enables and disables every action from the current state, in one place. */
void offshoot_window_update_actions (OffshootWindow *self);
void offshoot_window_rebuild_recent (OffshootWindow *self);
/* Writes the Python snippet for the heads attached so far. */
gboolean offshoot_window_write_snippet (OffshootWindow *self, const char *path, GError **error);
/* Saves the model (format by extension) in a worker; errors show in the banner. */
void offshoot_window_export_model_to (OffshootWindow *self, const char *path);

/* offshoot-window-connectivity.c */
void offshoot_window_update_connectivity (OffshootWindow *self);

/* offshoot-window-dnd.c */
void offshoot_window_init_dnd (OffshootWindow *self);

/* offshoot-window.c */
void offshoot_window_show_error (OffshootWindow *self, const char *message);
/* Replaces the model by an edited copy (`g` is taken over) and records the undo step. */
void offshoot_window_apply_edit (OffshootWindow *self, OshGraph *g);
/* The same with a ready handle (an attached head carries its description). */
void offshoot_window_apply_handle (OffshootWindow *self, OshGraphHandle *h);
void offshoot_window_undo (OffshootWindow *self);
void offshoot_window_redo (OffshootWindow *self);
void offshoot_window_cancel_load (OffshootWindow *self);
void offshoot_window_search_step (OffshootWindow *self, int direction);
/* Sets the image (or .npy) the next run uses; FALSE when it cannot be used. */
gboolean offshoot_window_set_run_input (OffshootWindow *self, GFile *file);
