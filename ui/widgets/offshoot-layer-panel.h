/* offshoot-layer-panel.h — what the selected layer is: class, owner, shapes, parameters,
 * weight statistics, configuration, and after a run its activation.
 *
 *   offshoot_layer_panel_set_layer (panel, graph, osh_graph_find_path (graph, "conv2d_1"));
 *   offshoot_layer_panel_set_activation (panel, texture, tensor);  // after a run, or NULLs
 *
 * The panel copies what it shows; the graph need not outlive the call.
 */
#pragma once

#include <gtk/gtk.h>

#include "osh-graph.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_LAYER_PANEL (offshoot_layer_panel_get_type ())
G_DECLARE_FINAL_TYPE (OffshootLayerPanel, offshoot_layer_panel, OFFSHOOT, LAYER_PANEL, GtkWidget)

GtkWidget *offshoot_layer_panel_new (void);
/* layer < 0 shows the "nothing selected" hint. */
void offshoot_layer_panel_set_layer (OffshootLayerPanel *self, const OshGraph *g, int layer);
/* A collapsed block or stage: its name, kind ("stage"), size, parameters, FLOPs of one run
 * (< 0: unknown, not shown) with the input sizes they were counted at when the model leaves
 * them open ("" or NULL: its own), and "in → out". */
void offshoot_layer_panel_set_group (OffshootLayerPanel *self, const char *name, const char *kind,
                                     int n_layers, int n_groups, int64_t params, double flops,
                                     const char *flops_at, const char *shapes);
/* The selected layer's activation: a heatmap picture and the tensor for statistics. */
void offshoot_layer_panel_set_activation (OffshootLayerPanel *self, GdkPaintable *picture,
                                          const OshTensor *activation);
/* The texts shown, for tests and accessibility checks: "class", "outputs", "params",
 * "weights", "activation", "config". */
const char *offshoot_layer_panel_get_text (OffshootLayerPanel *self, const char *what);

G_END_DECLS
