/* offshoot-window-private.h — the window's state, shared by its files (core, actions,
 * drag and drop). */
#pragma once

#include "offshoot-document.h"
#include "offshoot-head-panel.h"
#include "offshoot-probe-panel.h"
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
  OffshootProbePanel *probe_panel; /* the Probe page, made in code */
  GMenu *recent_submenu;

  /* The open model with its history, file state, run settings and selection; NULL before
   * the first one. Opening another model replaces it with a new one. */
  OffshootDocument *doc;
  GtkLabel *title_label, *subtitle_label;

  GCancellable *load_cancel;
  guint pulse_id;
  gboolean loading;
  int exporting; /* model saves running in workers */
  char *error;

  gboolean connected;
  int select_after_layout; /* a layer to select when the next layout is up, or -1 */

  GtkFileChooserNative *chooser;
  GtkWindow *unsaved_dialog; /* the Save / Discard / Cancel question, while it is open */
  char *after_save;          /* what to do once the model is saved: "close" or a spec to open */
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

/* offshoot-window-unsaved.c */
/* Runs `then` ("close", or a spec to open) now when the model is unmodified, else after
 * asking Save / Discard / Cancel. */
void offshoot_window_confirm_then (OffshootWindow *self, const char *then);
/* A save the question started has finished (ok or not). */
void offshoot_window_saved (OffshootWindow *self, gboolean ok);
/* Asks before the window closes over an edited model. */
void offshoot_window_init_unsaved (OffshootWindow *self);

/* offshoot-window.c */
/* The current model's graph, or NULL. */
OshGraphHandle *offshoot_window_handle (OffshootWindow *self);
/* Opens a spec without asking about unsaved changes. */
void offshoot_window_load_spec (OffshootWindow *self, const char *spec);
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
