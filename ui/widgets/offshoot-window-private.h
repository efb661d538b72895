/* offshoot-window-private.h — the window's state, shared by its files (core, actions,
 * drag and drop). */
#pragma once

#include "offshoot-document.h"
#include "offshoot-head-panel.h"
#include "offshoot-probe-panel.h"
#include "offshoot-run-panel.h"
#include "offshoot-trace.h"
#include "offshoot-train-panel.h"
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
  /* The status bar's activity: background work with its progress and Cancel. */
  GtkBox *activity_box;
  GtkLabel *activity_label;
  GtkProgressBar *activity_progress;
  GtkButton *activity_cancel, *activity_load;
  guint activity_pulse_id;
  OffshootGraphView *graph_view;
  OffshootLayerPanel *layer_panel;
  OffshootRunPanel *run_panel;
  OffshootHeadPanel *head_panel;
  OffshootTrainPanel *train_panel; /* under the head panel on the Head page */
  GtkPaned *head_paned;            /* between the two */
  int head_split;                  /* the position the window gave it; -1: the user moved it */
  OffshootProbePanel *probe_panel; /* the Probe page, made in code */
  GMenu *recent_submenu;
  GMenu *export_model_section; /* the formats the model can be saved as */
  guint export_offered;        /* bit i: export_formats[i] is in that section */
  gboolean export_menu_filled;
  char *export_tooltip; /* the Export button's own tooltip, before any reason is added */
  /* The graph the section was last filled for, held so its address cannot be reused (an ONNX
   * answer may convert it: asked again only for another graph, or when its weights come in;
   * a graph behind a handle is never edited). */
  OshGraphHandle *export_handle;
  gboolean export_deferred;

  /* The open model with its history, file state, run settings and selection; NULL before
   * the first one. Opening another model replaces it with a new one. */
  OffshootDocument *doc;
  GtkLabel *title_label, *subtitle_label;

  GCancellable *load_cancel;
  guint pulse_id;
  gboolean loading;
  int exporting;                /* model saves running in workers */
  GCancellable *export_cancel;  /* of the saves not cancelled yet */
  char *export_name;            /* the file the latest save writes */
  GCancellable *weights_cancel; /* while the weights are read on a worker */
  char *weights_error;          /* why they cannot be read, once known */
  gboolean weights_started;     /* the document's weights were asked for once */
  gint64 weights_began;         /* when the weights worker started */
  gboolean run_queued;          /* Run was asked for before the weights were in */
  gint64 open_started;          /* when the latest open began (the first-drawn trace) */
  char *error;

  gboolean connected;
  int select_after_layout; /* a layer to select when the next layout is up, or -1 */
  gboolean restore_view;   /* after undo/redo: put the camera back once laid out */
  double view_cx, view_cy, view_zoom;

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
/* The graph picture as the view shows it, written by a worker (Cancel: no file). */
void offshoot_window_export_picture_to (OffshootWindow *self, const char *path);

/* offshoot-window-export-menu.c */
/* Whether the model can be exported as `target` ("keras", "h5", "json", "onnx"); when not,
 * *why (if not NULL) gets the reason, g_free'd by the caller. */
gboolean offshoot_window_can_export (OffshootWindow *self, const char *target, char **why);
/* The save dialog's filter for `target`, floating; NULL for an unknown one. */
GtkFileFilter *offshoot_window_export_filter (const char *target);
/* Offers in the Export menu only the formats the open model can be saved as. */
void offshoot_window_update_export_menu (OffshootWindow *self);

/* offshoot-window-connectivity.c */
void offshoot_window_update_connectivity (OffshootWindow *self);

/* offshoot-window-weights.c */
/* Reads the document's weight values on a worker (nothing when it has them or already reads). */
void offshoot_window_load_weights (OffshootWindow *self);
void offshoot_window_cancel_weights (OffshootWindow *self);
/* The Run action: runs now, or once the weights are in (reading them if needed). */
void offshoot_window_run (OffshootWindow *self);
/* Shows or hides the status bar's activity (weights, saves) from the window's state. */
void offshoot_window_update_activity (OffshootWindow *self);

/* offshoot-window-actions.c: abandons the saves in flight (nothing is left on disk). */
void offshoot_window_cancel_export (OffshootWindow *self);

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
