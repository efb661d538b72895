/* offshoot-window.h — the main window: one open model (an OffshootDocument, replaced by a new
 * one for each model opened), its graph, the layer, run and head panels.
 *
 *   OffshootWindow *win = offshoot_window_new (app);
 *   offshoot_window_open_file (win, file);          // loads in a worker; errors show inline
 *   gtk_window_present (GTK_WINDOW (win));
 *
 * Everything the window does is reachable as an action (win.open, win.run, win.zoom-fit,
 * win.attach-head, ...; offshoot-window-actions.c lists them), which is how the tests and
 * keyboard shortcuts drive it.
 */
#pragma once

#include <gtk/gtk.h>

#include "offshoot-graph-view.h"
#include "offshoot-head-panel.h"
#include "offshoot-layer-panel.h"
#include "offshoot-probe-panel.h"
#include "offshoot-run-panel.h"
#include "offshoot-train-panel.h"
#include "osh-graph.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_WINDOW (offshoot_window_get_type ())
G_DECLARE_FINAL_TYPE (OffshootWindow, offshoot_window, OFFSHOOT, WINDOW, GtkApplicationWindow)

OffshootWindow *offshoot_window_new (GtkApplication *app);
void offshoot_window_open_file (OffshootWindow *self, GFile *file);
void offshoot_window_open_default (OffshootWindow *self);
/* Opens a path or "@default". */
void offshoot_window_open_spec (OffshootWindow *self, const char *spec);
/* Shows a model made in the window (taken over; no file behind it) under `title`, e.g.
 * "EfficientNetB0 (untrained)" from New from Architecture (offshoot-new-dialog.h). */
void offshoot_window_open_graph (OffshootWindow *self, OshGraph *g, const char *title);

/* What the window holds, for tests and the end-to-end script. */
const OshGraph *offshoot_window_get_graph (OffshootWindow *self);
/* TRUE while a model or its weights load, a layout, a run or a save is in progress. */
gboolean offshoot_window_is_busy (OffshootWindow *self);
/* TRUE while the open model's weight values are read on a worker (the graph is shown). */
gboolean offshoot_window_weights_loading (OffshootWindow *self);
/* Stops the background work the status bar lists (weights, saves); their results are dropped
 * and a cancelled save leaves no file. */
void offshoot_window_cancel_work (OffshootWindow *self);
/* What the status bar's activity says ("Loading weights…"), or "" when it is hidden. */
const char *offshoot_window_get_activity (OffshootWindow *self);
/* For tests: while held, the weights worker waits before reading (the window shows the graph
 * with "Loading weights…" as long as needed to look at it). */
void offshoot_window_hold_weights (gboolean hold);
/* The error shown in the window's banner, or NULL. */
const char *offshoot_window_get_error (OffshootWindow *self);
/* TRUE when the window (and its canvas) is drawn dark: the desktop prefers it or the
 * theme is dark. */
gboolean offshoot_window_is_dark (OffshootWindow *self);
/* "empty", "loading" or "graph". */
const char *offshoot_window_get_page (OffshootWindow *self);
OffshootGraphView *offshoot_window_get_graph_view (OffshootWindow *self);
OffshootLayerPanel *offshoot_window_get_layer_panel (OffshootWindow *self);
OffshootRunPanel *offshoot_window_get_run_panel (OffshootWindow *self);
OffshootHeadPanel *offshoot_window_get_head_panel (OffshootWindow *self);
OffshootProbePanel *offshoot_window_get_probe_panel (OffshootWindow *self);
OffshootTrainPanel *offshoot_window_get_train_panel (OffshootWindow *self);
/* The disconnection banner's fix buttons: how many, and clicking one (by position). */
int offshoot_window_count_fixes (OffshootWindow *self);
gboolean offshoot_window_apply_fix (OffshootWindow *self, int index);

G_END_DECLS
