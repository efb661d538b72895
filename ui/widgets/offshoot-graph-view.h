/* offshoot-graph-view.h — the layer graph: laid out in a worker thread, drawn through the
 * scene (ui/graph/osh-scene.h), explored with the mouse, touchpad and keyboard.
 *
 *   OffshootGraphView *view = OFFSHOOT_GRAPH_VIEW (offshoot_graph_view_new ());
 *   g_signal_connect_object (view, "layer-selected", G_CALLBACK (on_layer), win, 0);
 *   offshoot_graph_view_set_graph (view, handle);       // lays out off the main thread
 *   ...
 *   offshoot_graph_view_search (view, "block5a");       // highlights every match
 *   offshoot_graph_view_search_step (view, +1);         // flies to the next one
 *
 * Input: wheel zooms at the cursor, Ctrl+touchpad scroll and pinch zoom, drag and touchpad
 * scroll pan, arrow keys pan, +/- zoom, a click (press and release within a few pixels)
 * selects (a collapsed block: "group-selected"), a double click on a nested model or block
 * group collapses or expands it. A minimap appears when the graph is much larger than the
 * view. Graphs of more than 200 layers open collapsed into stages and blocks; search finds
 * layers inside them and opens the group holding the current match.
 *
 * OFFSHOOT_FRAME_TIMES=1 in the environment prints each frame's draw time to stderr:
 *   frame-time 3.42 ms (scene 2.10 ms)
 * (tools/frame-bench.py reads it).
 */
#pragma once

#include <gtk/gtk.h>
#include <stdint.h>

#include "osh-camera.h"
#include "osh-graph-handle.h"
#include "osh-layout.h"
#include "osh-scene.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_GRAPH_VIEW (offshoot_graph_view_get_type ())
G_DECLARE_FINAL_TYPE (OffshootGraphView, offshoot_graph_view, OFFSHOOT, GRAPH_VIEW, GtkWidget)

GtkWidget *offshoot_graph_view_new (void);

/* Shows `h` (a ref is taken; NULL clears). Layout runs in the layout worker; "layout-done"
 * fires when the new picture is up. When `keep_view` is set the camera stays where it is
 * (an edit), otherwise the graph is fitted. */
void offshoot_graph_view_set_graph (OffshootGraphView *self, OshGraphHandle *h, gboolean keep_view);
gboolean offshoot_graph_view_is_laying_out (OffshootGraphView *self);
/* The last layout failure, or NULL. */
/* Cancel of the layout under way: back to the view on screen when it shows this graph (a
 * block opened, Expand All), else to the graph's overview; never a half state. FALSE, and the
 * layout goes on, when it is already that overview (can_cancel says so beforehand). */
gboolean offshoot_graph_view_cancel_layout (OffshootGraphView *self);
gboolean offshoot_graph_view_can_cancel_layout (OffshootGraphView *self);
const char *offshoot_graph_view_get_error (OffshootGraphView *self);

/* Highlights that come from analysis (disconnected path, new head, unused), one OshStyle
 * word per IR node; the view adds selection, hover and search hits on top. */
void offshoot_graph_view_set_styles (OffshootGraphView *self, const uint32_t *styles, int n);
void offshoot_graph_view_set_dark (OffshootGraphView *self, gboolean dark);
/* Fill colours per IR node (0xRRGGBBAA, alpha 0: the family colour; NULL clears), kept across
 * re-layouts until cleared: osh_scene_set_node_fills. */
void offshoot_graph_view_set_fills (OffshootGraphView *self, const uint32_t *rgba, int n);
/* A node's fill colour as set (0: none). */
uint32_t offshoot_graph_view_get_fill (OffshootGraphView *self, int node);

int offshoot_graph_view_get_selected_layer (OffshootGraphView *self);
/* Selects a layer (-1 clears); `fly` animates the camera to it. Emits "layer-selected". */
void offshoot_graph_view_select_layer (OffshootGraphView *self, int layer, gboolean fly);

void offshoot_graph_view_zoom (OffshootGraphView *self, double factor);
void offshoot_graph_view_zoom_fit (OffshootGraphView *self);
OshCamera *offshoot_graph_view_get_camera (OffshootGraphView *self);
/* Puts world point (cx, cy) at the centre at `zoom` (clamped as a pan or zoom would be). */
void offshoot_graph_view_set_camera (OffshootGraphView *self, double cx, double cy, double zoom);

/* Live search by layer name (case-insensitive substring); returns the number of matches
 * and flies to the first. step moves to the next (+1) or previous (-1) match and returns
 * its position (0-based), or -1 without matches. */
int offshoot_graph_view_search (OffshootGraphView *self, const char *text);
int offshoot_graph_view_search_step (OffshootGraphView *self, int direction);
int offshoot_graph_view_search_count (OffshootGraphView *self);
/* The layer of the current search match, or -1. */
int offshoot_graph_view_search_layer (OffshootGraphView *self);
/* The menu a layer opens (right-click on it, the Menu key or Shift+F10 on the selection);
 * its items name actions of the window (a ref is taken). */
void offshoot_graph_view_set_layer_menu (OffshootGraphView *self, GMenuModel *model);
/* Opens it for the selected layer at x, y (view coordinates); FALSE without a selection. */
gboolean offshoot_graph_view_popup_layer_menu (OffshootGraphView *self, double x, double y);
gboolean offshoot_graph_view_layer_menu_is_open (OffshootGraphView *self);
/* The current match's position among the matches, or -1. */
int offshoot_graph_view_search_position (OffshootGraphView *self);

/* Where a layer's box centre is in view coordinates (for tests and the end-to-end script);
 * FALSE when it is not in the layout. */
gboolean offshoot_graph_view_layer_position (OffshootGraphView *self, int layer, double *vx,
                                             double *vy);
/* A collapsed block, stage or module as the side panel sums it up. */
typedef struct
{
  const char *name;   /* "efficientnetb7/block5", valid while the layout lives */
  const char *kind;   /* "block", "stage", "module", "nested model" */
  int n_layers;       /* at every depth */
  int n_groups;       /* blocks inside (a stage's) */
  int64_t params;     /* Keras-counted */
  double flops;       /* one run at batch 1, as the run plan counts them; -1 when the model
                         cannot be planned (a Lambda) */
  char flops_at[160]; /* open input sizes: the sizes counted at ("1×3×640×640"), else "" */
  const char *shapes; /* "in → out" as its box shows it, "" when unknown */
} OffshootGroupSummary;

/* Selects a group (-1: none) as a click on its box does; the layer selection is cleared
 * first. Emits "layer-selected" (-1) then "group-selected". */
void offshoot_graph_view_select_group (OffshootGraphView *self, int group);
int offshoot_graph_view_get_selected_group (OffshootGraphView *self);
gboolean offshoot_graph_view_group_summary (OffshootGraphView *self, int group,
                                            OffshootGroupSummary *out);
/* TRUE when a block, stage or module is drawn collapsed (big graphs open so). */
gboolean offshoot_graph_view_blocks_collapsed (OffshootGraphView *self);
/* Collapses or expands every repeated block and ONNX module (expanding opens stages too). */
void offshoot_graph_view_collapse_blocks (OffshootGraphView *self, gboolean collapsed);
/* Toggles a group by its name; FALSE when there is no such group. */
gboolean offshoot_graph_view_toggle_group (OffshootGraphView *self, const char *name);
int offshoot_graph_view_count_items (OffshootGraphView *self);
/* The layout on screen (NULL before the first one), for tests: valid until the next. */
const OshGraphLayout *offshoot_graph_view_get_layout (OffshootGraphView *self);

/* A copy of the scene on screen for a worker to export (osh_scene_export, then
 * osh_scene_free); NULL before the first layout. */
OshScene *offshoot_graph_view_dup_scene (OffshootGraphView *self);

G_END_DECLS
