/* offshoot-probe-panel.h — "Probe Layers…": a linear probe per layer (engine/train/osh-probe.h,
 * the same recipe as `offshoot probe`) on a data folder, run in a worker with progress and
 * Cancel; the result colours every probed node of the graph view by its validation accuracy
 * (osh-colormap.h, a colour bar below the curve says how) and draws accuracy against depth.
 * A click on a point selects that layer and flies the view to it; "Keep as Head" attaches the
 * probe there with its fitted weights (osh-heads-fitted.h) through ::keep.
 *
 *   offshoot_probe_panel_set_view (panel, graph_view);      // colours it, flies in it
 *   offshoot_probe_panel_set_graph (panel, handle);         // the model to probe
 *   g_signal_connect_object (panel, "keep", G_CALLBACK (on_keep), win, 0);
 *   // on_keep (panel, OshGraph *edited, const char *path, const OshHeadSpec *spec,
 *   //          char **names, win): as the head panel's ::attach, the handler owns `edited`
 *
 * The data folder is a folder per class (sub-folder names are the classes, sorted; pictures
 * in them), as `offshoot probe --data`. */
#pragma once

#include <gtk/gtk.h>

#include "offshoot-graph-view.h"
#include "osh-graph-handle.h"
#include "osh-probe.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_PROBE_PANEL (offshoot_probe_panel_get_type ())
G_DECLARE_FINAL_TYPE (OffshootProbePanel, offshoot_probe_panel, OFFSHOOT, PROBE_PANEL, GtkWidget)

GtkWidget *offshoot_probe_panel_new (void);

void offshoot_probe_panel_set_view (OffshootProbePanel *self, OffshootGraphView *view);
/* The model to probe; a result stays while the new graph still has every probed layer (an
 * edit), else it is dropped with its colours. */
void offshoot_probe_panel_set_graph (OffshootProbePanel *self, OshGraphHandle *h);
/* The data folder (a folder per class); read when the probe starts. */
void offshoot_probe_panel_set_data (OffshootProbePanel *self, const char *dir);
/* Opens the folder chooser; the probe starts once a folder is picked. */
void offshoot_probe_panel_choose_data (OffshootProbePanel *self);
/* Starts probing every layer in a worker; FALSE (the panel says why) without a model or data. */
gboolean offshoot_probe_panel_start (OffshootProbePanel *self);
void offshoot_probe_panel_cancel (OffshootProbePanel *self);
gboolean offshoot_probe_panel_is_running (OffshootProbePanel *self);
/* The last finished result, or NULL. */
const OshProbeResult *offshoot_probe_panel_get_result (OffshootProbePanel *self);
/* What the panel says (progress, the summary or the error). */
const char *offshoot_probe_panel_get_status (OffshootProbePanel *self);
/* The selected point (an index into the result's layers), -1 without one. */
int offshoot_probe_panel_get_selected (OffshootProbePanel *self);
/* Where point `index` is drawn, in the coordinates of `widget` (for tests). */
gboolean offshoot_probe_panel_point_position (OffshootProbePanel *self, int index,
                                              GtkWidget *widget, double *x, double *y);
/* The plot widget (the target of clicks). */
GtkWidget *offshoot_probe_panel_get_plot (OffshootProbePanel *self);
/* Attaches the selected point's probe as a head: emits ::keep and returns TRUE, or FALSE with
 * the panel saying why not. */
gboolean offshoot_probe_panel_keep (OffshootProbePanel *self);

G_END_DECLS
