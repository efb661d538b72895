/* offshoot-train-panel.h — the Train view under the Head tab: fits the model's attached heads
 * on a data folder (ui/fit/osh-fit.h, the same driver and defaults as `offshoot fit`) in a
 * worker, with progress, an ETA, Stop, and the loss and metric curves of train and validation.
 *
 *   offshoot_train_panel_set_graph (panel, handle, has_weights);  // the model to train
 *   offshoot_train_panel_set_data (panel, "/data/shapes");        // or the folder chooser
 *   g_signal_connect_object (panel, "trained", G_CALLBACK (on_trained), win, 0);
 *   offshoot_train_panel_start (panel);
 *   // on_trained (panel, OshGraph *trained, win): the handler owns `trained` and applies it
 *   // as one undoable step
 *
 * The worker trains a copy of the graph: Stop (or closing the window) drops the copy, so the
 * model is unchanged until a run ends; a run whose model changed meanwhile (an undo, another
 * edit) is not applied. */
#pragma once

#include <gtk/gtk.h>

#include "offshoot-train-curves.h"
#include "osh-graph-handle.h"
#include "osh-train.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_TRAIN_PANEL (offshoot_train_panel_get_type ())
G_DECLARE_FINAL_TYPE (OffshootTrainPanel, offshoot_train_panel, OFFSHOOT, TRAIN_PANEL, GtkWidget)

GtkWidget *offshoot_train_panel_new (void);

/* The model to train (the document's current graph) and whether its weights are read. */
void offshoot_train_panel_set_graph (OffshootTrainPanel *self, OshGraphHandle *h,
                                     gboolean has_weights);
/* The data folder; read now, the panel says what it holds. FALSE when it cannot be used. */
gboolean offshoot_train_panel_set_data (OffshootTrainPanel *self, const char *dir);
/* The settings (the CLI's defaults: 10 epochs, batch 32, Adam at 0.001). */
void offshoot_train_panel_set_settings (OffshootTrainPanel *self, int epochs, int batch,
                                        double learning_rate, OshOptimKind optimizer);

/* Starts training in a worker; FALSE (the panel says why) without a model, weights or data. */
gboolean offshoot_train_panel_start (OffshootTrainPanel *self);
/* Stops the worker at its next picture or batch; the model stays as it was. */
void offshoot_train_panel_stop (OffshootTrainPanel *self);
gboolean offshoot_train_panel_is_running (OffshootTrainPanel *self);
/* Training steps done in the running (or last) run. */
int64_t offshoot_train_panel_steps_done (OffshootTrainPanel *self);

/* The last run's curves: point 0 is the fresh head (validation only), point e the end of epoch
 * e. NaN where there is no value. The metric is the first output's ("iou", "accuracy", ...);
 * every trained output's is in offshoot_train_panel_get_curves. */
typedef struct
{
  double loss, val_loss, metric, val_metric;
} OffshootTrainPoint;

int offshoot_train_panel_get_n_points (OffshootTrainPanel *self);
OffshootTrainPoint offshoot_train_panel_get_point (OffshootTrainPanel *self, int i);
const char *offshoot_train_panel_get_metric_name (OffshootTrainPanel *self);
/* What the plot draws: the loss and each trained output's metric, by output. */
const OffshootTrainCurves *offshoot_train_panel_get_curves (OffshootTrainPanel *self);
/* What the panel says under the data folder and under the progress bar. */
const char *offshoot_train_panel_get_data_summary (OffshootTrainPanel *self);
const char *offshoot_train_panel_get_status (OffshootTrainPanel *self);

G_END_DECLS
