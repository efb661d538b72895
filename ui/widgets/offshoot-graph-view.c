/* offshoot-graph-view.c — drawing and input for the layer graph.
 *
 * Drawing: with a GPU renderer the scene is rasterized into a texture (a tile) kept until the
 * layout, the zoom, the size or the styles change; panning only moves the tile, which is
 * rendered with a margin around the view once a pan starts, so a drag costs a texture draw per
 * frame. With GSK's cairo renderer the visible part is recorded each frame and replayed
 * (a texture costs more there). tools/frame-bench.py measures both. The hover outline and the
 * minimap are drawn on top each frame.
 * Layout: one worker thread owns graphviz for the whole process (it is not thread-safe). */
#include "offshoot-graph-view.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "osh-flops.h"
#include "osh-layout.h"
#include "osh-scene.h"
#include "osh-workers.h"

#define CLICK_SLOP 4.0  /* pixels a click may move and still be a click */
#define WHEEL_STEP 1.2  /* zoom factor per wheel notch */
#define KEY_PAN 60.0    /* pixels per arrow key */
#define FLY_USEC 450000 /* fly-to duration */
#define MINIMAP_W 160.0
#define MINIMAP_MARGIN 12.0

struct _OffshootGraphView
{
  GtkWidget parent_instance;

  OshGraphHandle *graph;
  OshGrouping *grouping;
  OshScene *scene;
  /* What the scene on screen was laid out from: a cancelled layout goes back to it. */
  OshGraphHandle *laid_graph;
  OshGrouping *laid_grouping;
  char *error;
  GCancellable *layout_cancel;
  gboolean fit_pending;

  OshCamera cam;
  GdkTexture *tile;    /* the scene rasterized around the view */
  OshViewport tile_vp; /* world → tile pixels (logical) it was drawn with */
  double tile_w, tile_h;
  uint32_t *fills; /* per IR node fill colours (set_fills), or NULL */
  int n_fills;

  uint32_t *base_styles; /* from the window, per IR node */
  int n_base;
  gboolean dark;

  int selected_layer;
  int selected_group; /* a collapsed block or stage clicked, -1 for none */
  int hover_item;
  double pointer_x, pointer_y;

  /* Search: matches are layers, found in collapsed groups too. */
  GArray *matches; /* layer indices */
  int match_pos;
  char *search_text;
  OshGraphHandle *search_graph; /* the graph the matches index (not a reference) */
  int reveal_layer;             /* fly to it once the layout that expands it is up */

  /* OFFSHOOT_FRAME_TIMES: each frame's draw time on stderr. */
  gboolean frame_times;
  gint64 paint_start;
  double paint_cpu_start; /* the main thread's CPU seconds: a busy machine does not inflate it */
  gboolean drew_this_frame;
  double scene_ms;
  gulong before_paint_id, after_paint_id;
  GdkFrameClock *timed_clock;

  /* Drag and pinch. */
  double drag_cx, drag_cy;
  double pinch_zoom;
  double press_x, press_y;
  gboolean dragging_minimap;

  /* The layer menu (right-click, Menu key); its items are the window's actions. */
  GtkWidget *menu;
  GMenuModel *menu_model;

  /* Fly-to. */
  guint fly_tick;
  gint64 fly_start;
  OshCamera fly_from, fly_to;
};

G_DEFINE_FINAL_TYPE (OffshootGraphView, offshoot_graph_view, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_LAYER_SELECTED,
  SIGNAL_LAYOUT_DONE,
  SIGNAL_LAYOUT_STARTED,
  SIGNAL_GROUP_SELECTED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* ---- Layout worker ----------------------------------------------------------------------- */

typedef struct
{
  OshGraphHandle *graph;
  OshGrouping *grouping;
} LayoutJob;

static void
layout_job_free (LayoutJob *job)
{
  osh_graph_handle_unref (job->graph);
  osh_grouping_free (job->grouping);
  g_free (job);
}

static void
layout_worker (gpointer data, gpointer user_data)
{
  (void) user_data;
  GTask *task = data;
  LayoutJob *job = g_task_get_task_data (task);
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  OshError err = { 0 };
  OshGraphLayout *lay = osh_layout_compute (job->graph->graph, job->grouping, &err);
  if (lay)
    g_task_return_pointer (task, lay, (GDestroyNotify) osh_layout_free);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
  g_object_unref (task);
}

static GThreadPool *
layout_pool (void)
{
  static GThreadPool *pool;
  if (g_once_init_enter (&pool))
    {
      /* Exclusive and one thread: the same thread runs every layout, one at a time. */
      GThreadPool *p = g_thread_pool_new (layout_worker, NULL, 1, TRUE, NULL);
      g_once_init_leave (&pool, p);
    }
  return pool;
}

/* ---- Styles ------------------------------------------------------------------------------ */

static const OshGraphLayout *
layout_of (OffshootGraphView *self)
{
  return self->scene ? osh_scene_get_layout (self->scene) : NULL;
}

static void
invalidate (OffshootGraphView *self)
{
  g_clear_object (&self->tile);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
push_styles (OffshootGraphView *self)
{
  if (!self->scene)
    return;
  const OshGraph *g = self->graph->graph;
  g_autofree uint32_t *styles = g_new0 (uint32_t, MAX (g->n_nodes, 1));
  for (int i = 0; i < g->n_nodes && i < self->n_base; i++)
    styles[i] = self->base_styles[i];
  g_autofree gboolean *hit = g_new0 (gboolean, MAX (g->n_layers, 1));
  for (guint m = 0; self->matches && m < self->matches->len; m++)
    {
      int layer = g_array_index (self->matches, int, m);
      if (layer >= 0 && layer < g->n_layers)
        hit[layer] = TRUE;
    }
  for (int i = 0; i < g->n_nodes; i++)
    {
      int layer = g->nodes[i].layer;
      if ((self->selected_layer >= 0 && layer == self->selected_layer)
          || (self->selected_group >= 0
              && osh_grouping_layer_in (self->grouping, layer, self->selected_group)))
        styles[i] |= OSH_STYLE_SELECTED;
      /* A collapsed group shows its members' hits: search lights up the block. */
      if (hit[layer])
        styles[i] |= OSH_STYLE_SEARCH_HIT;
    }
  osh_scene_set_styles (self->scene, styles, g->n_nodes);
  invalidate (self);
}

void
offshoot_graph_view_set_styles (OffshootGraphView *self, const uint32_t *styles, int n)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  g_clear_pointer (&self->base_styles, g_free);
  self->n_base = styles ? n : 0;
  if (styles && n > 0)
    self->base_styles = g_memdup2 (styles, sizeof (uint32_t) * n);
  push_styles (self);
}

void
offshoot_graph_view_set_fills (OffshootGraphView *self, const uint32_t *rgba, int n)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  g_clear_pointer (&self->fills, g_free);
  self->n_fills = rgba ? n : 0;
  if (rgba && n > 0)
    self->fills = g_memdup2 (rgba, sizeof (uint32_t) * (size_t) n);
  if (self->scene)
    osh_scene_set_node_fills (self->scene, self->fills, self->n_fills);
  invalidate (self);
}

uint32_t
offshoot_graph_view_get_fill (OffshootGraphView *self, int node)
{
  return self->fills && node >= 0 && node < self->n_fills ? self->fills[node] : 0;
}

void
offshoot_graph_view_set_dark (OffshootGraphView *self, gboolean dark)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  self->dark = dark;
  if (self->scene)
    osh_scene_set_dark (self->scene, dark);
  invalidate (self);
}

/* ---- Camera ------------------------------------------------------------------------------ */

static OshViewport
scene_viewport (const OshCamera *cam)
{
  OshCameraTransform t = osh_camera_transform (cam);
  return (OshViewport){ .x = t.offset_x, .y = t.offset_y, .scale = t.scale };
}

static void
stop_fly (OffshootGraphView *self)
{
  if (self->fly_tick)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->fly_tick);
  self->fly_tick = 0;
}

/* The tile stays: the next frame moves it, or draws a new one when the zoom changed or the
 * view left it. */
static void
camera_changed (OffshootGraphView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
fly_step (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  (void) data;
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (widget);
  double t = (double) (gdk_frame_clock_get_frame_time (clock) - self->fly_start) / FLY_USEC;
  OshCamera frame;
  osh_camera_fly (&self->fly_from, &self->fly_to, MIN (t, 1.0), &frame);
  /* The view may have been resized meanwhile: keep the current size. */
  frame.view_w = self->cam.view_w;
  frame.view_h = self->cam.view_h;
  self->cam = frame;
  osh_camera_clamp (&self->cam);
  camera_changed (self);
  if (t >= 1.0)
    {
      self->fly_tick = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
fly_to (OffshootGraphView *self, double wx, double wy, double zoom)
{
  stop_fly (self);
  OshCamera target = self->cam;
  osh_camera_center_on (&target, wx, wy, zoom);
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)) || !gtk_settings_get_default ())
    {
      self->cam = target;
      camera_changed (self);
      return;
    }
  gboolean animate = TRUE;
  g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", &animate,
                NULL);
  if (!animate)
    {
      self->cam = target;
      camera_changed (self);
      return;
    }
  self->fly_from = self->cam;
  self->fly_to = target;
  self->fly_start = gdk_frame_clock_get_frame_time (gtk_widget_get_frame_clock (GTK_WIDGET (self)));
  self->fly_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), fly_step, NULL, NULL);
}

static void
fly_to_item (OffshootGraphView *self, int item)
{
  const OshGraphLayout *lay = layout_of (self);
  if (!lay || item < 0 || item >= lay->n_items)
    return;
  OshRect b = lay->items[item].box;
  /* Readable but with context: at least 1:1, or the current zoom when closer. */
  double zoom = MAX (self->cam.zoom, 1.0);
  fly_to (self, b.x + b.w / 2, b.y + b.h / 2, zoom);
}

void
offshoot_graph_view_zoom (OffshootGraphView *self, double factor)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  stop_fly (self);
  osh_camera_zoom_at (&self->cam, factor, self->cam.view_w / 2, self->cam.view_h / 2);
  camera_changed (self);
}

void
offshoot_graph_view_zoom_fit (OffshootGraphView *self)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  stop_fly (self);
  osh_camera_fit (&self->cam);
  camera_changed (self);
}

OshCamera *
offshoot_graph_view_get_camera (OffshootGraphView *self)
{
  return &self->cam;
}

void
offshoot_graph_view_set_camera (OffshootGraphView *self, double cx, double cy, double zoom)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  stop_fly (self);
  osh_camera_center_on (&self->cam, cx, cy, zoom);
  camera_changed (self);
}

/* ---- Layout results ---------------------------------------------------------------------- */

static int
item_of_layer (OffshootGraphView *self, int layer)
{
  const OshGraphLayout *lay = layout_of (self);
  if (!lay || layer < 0)
    return -1;
  for (int i = 0; i < lay->n_items; i++)
    if (lay->items[i].layer == layer)
      return i;
  /* Hidden inside a collapsed group, or a nested model shown by its inner layers. */
  int node = osh_graph_layer_first_node (self->graph->graph, layer);
  if (node >= 0 && node < lay->n_nodes)
    return lay->node_item[node];
  return -1;
}

static void
layout_done (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) source;
  g_autoptr (OffshootGraphView) self = data; /* dropped here, on the main thread */
  g_autoptr (GError) error = NULL;
  OshGraphLayout *lay = g_task_propagate_pointer (G_TASK (res), &error);
  osh_worker_end (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (g_task_get_cancellable (G_TASK (res)) != self->layout_cancel)
    {
      /* A newer layout is on its way. */
      if (lay)
        osh_layout_free (lay);
      return;
    }
  g_clear_object (&self->layout_cancel);
  g_clear_pointer (&self->error, g_free);
  if (!lay)
    {
      self->error = g_strdup (error->message);
      g_signal_emit (self, signals[SIGNAL_LAYOUT_DONE], 0);
      invalidate (self);
      return;
    }
  g_clear_pointer (&self->scene, osh_scene_free);
  self->scene = osh_scene_new (lay);
  LayoutJob *job = g_task_get_task_data (G_TASK (res));
  osh_graph_handle_unref (self->laid_graph);
  self->laid_graph = osh_graph_handle_ref (job->graph);
  g_clear_pointer (&self->laid_grouping, osh_grouping_free);
  self->laid_grouping = job->grouping ? osh_grouping_copy (job->grouping) : NULL;
  osh_scene_set_dark (self->scene, self->dark);
  osh_scene_set_node_fills (self->scene, self->fills, self->n_fills);
  self->hover_item = -1;
  if (self->search_graph != self->graph)
    {
      g_array_set_size (self->matches, 0);
      self->match_pos = -1;
    }
  osh_camera_set_world (&self->cam, lay->bounds.x, lay->bounds.y, lay->bounds.w, lay->bounds.h);
  if (self->fit_pending)
    osh_camera_home (&self->cam);
  self->fit_pending = FALSE;
  if (self->selected_group >= 0 && layout_of (self)->group_item[self->selected_group] < 0)
    self->selected_group = -1; /* expanded: no longer a box */
  push_styles (self);
  if (self->reveal_layer >= 0)
    fly_to_item (self, item_of_layer (self, self->reveal_layer));
  self->reveal_layer = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_LAYOUT_DONE], 0);
}

static void
cancel_layout (OffshootGraphView *self)
{
  if (self->layout_cancel)
    g_cancellable_cancel (self->layout_cancel);
  g_clear_object (&self->layout_cancel);
}

static void
start_layout (OffshootGraphView *self)
{
  cancel_layout (self);
  if (!self->graph)
    return;
  self->layout_cancel = g_cancellable_new ();
  LayoutJob *job = g_new0 (LayoutJob, 1);
  job->graph = osh_graph_handle_ref (self->graph);
  job->grouping = self->grouping ? osh_grouping_copy (self->grouping) : NULL;
  /* No source object: the task may be finalized in the worker, and a widget must never
   * be (its last reference goes with the callback's data, on the main thread). */
  GTask *task = g_task_new (NULL, self->layout_cancel, layout_done, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) layout_job_free);
  osh_worker_begin ();
  g_thread_pool_push (layout_pool (), task, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_LAYOUT_STARTED], 0);
}

static gboolean
same_grouping (const OshGrouping *a, const OshGrouping *b)
{
  if (!a || !b)
    return a == b;
  if (a->n_groups != b->n_groups)
    return FALSE;
  for (int i = 0; i < a->n_groups; i++)
    if (a->groups[i].collapsed != b->groups[i].collapsed)
      return FALSE;
  return TRUE;
}

/* What a Cancel of the layout under way goes back to: the view on screen when it shows this
 * graph, else the graph's overview (collapsed when big, the quickest to lay out); NULL when the
 * layout under way is already that. */
static OshGrouping *
fallback_grouping (OffshootGraphView *self)
{
  if (!self->layout_cancel || !self->graph)
    return NULL;
  OshGrouping *back;
  if (self->scene && self->laid_graph == self->graph)
    back = self->laid_grouping ? osh_grouping_copy (self->laid_grouping) : NULL;
  else
    {
      back = osh_grouping_new (self->graph->graph);
      if (back)
        osh_grouping_overview (back, self->graph->graph);
    }
  if (same_grouping (back, self->grouping))
    {
      osh_grouping_free (back);
      return NULL;
    }
  return back;
}

gboolean
offshoot_graph_view_can_cancel_layout (OffshootGraphView *self)
{
  OshGrouping *back = fallback_grouping (self);
  osh_grouping_free (back);
  return back != NULL;
}

gboolean
offshoot_graph_view_cancel_layout (OffshootGraphView *self)
{
  g_return_val_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self), FALSE);
  OshGrouping *back = fallback_grouping (self);
  if (!back)
    return FALSE;
  osh_grouping_free (self->grouping);
  self->grouping = back;
  self->reveal_layer = -1;
  if (self->scene && self->laid_graph == self->graph)
    {
      /* graphviz cannot be stopped: its result is dropped when it comes. The scene, the
       * selection and the camera stay as they are (no "layout-done": nothing was laid out). */
      cancel_layout (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  else
    start_layout (self);
  return TRUE;
}

void
offshoot_graph_view_set_graph (OffshootGraphView *self, OshGraphHandle *h, gboolean keep_view)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  stop_fly (self);
  OshGraphHandle *old = self->graph;
  self->graph = osh_graph_handle_ref (h);
  gboolean same_shape = old && h && old->graph->n_layers <= h->graph->n_layers;
  osh_graph_handle_unref (old);
  if (!keep_view || !same_shape)
    {
      g_clear_pointer (&self->grouping, osh_grouping_free);
      if (h)
        self->grouping = osh_grouping_new (h->graph);
      if (h)
        osh_grouping_overview (self->grouping, h->graph);
      self->fit_pending = TRUE;
      self->selected_layer = -1;
      self->selected_group = -1;
    }
  else
    {
      /* An edit added layers: carry the collapsed state over by group name. */
      OshGrouping *fresh = osh_grouping_new (h->graph);
      for (int i = 0; fresh && self->grouping && i < self->grouping->n_groups; i++)
        {
          int j = osh_grouping_find (fresh, self->grouping->groups[i].name);
          if (j >= 0)
            osh_grouping_set_collapsed (fresh, j, self->grouping->groups[i].collapsed);
        }
      g_clear_pointer (&self->grouping, osh_grouping_free);
      self->grouping = fresh;
      self->selected_group = -1;
    }
  g_clear_pointer (&self->base_styles, g_free);
  self->n_base = 0;
  if (!h)
    {
      g_clear_pointer (&self->scene, osh_scene_free);
      invalidate (self);
      return;
    }
  start_layout (self);
}

gboolean
offshoot_graph_view_is_laying_out (OffshootGraphView *self)
{
  return self->layout_cancel != NULL;
}

const char *
offshoot_graph_view_get_error (OffshootGraphView *self)
{
  return self->error;
}

const OshGraphLayout *
offshoot_graph_view_get_layout (OffshootGraphView *self)
{
  return layout_of (self);
}

gboolean
offshoot_graph_view_blocks_collapsed (OffshootGraphView *self)
{
  for (int i = 0; self->grouping && i < self->grouping->n_groups; i++)
    if (self->grouping->groups[i].kind != OSH_GROUP_MODEL && self->grouping->groups[i].collapsed)
      return TRUE;
  return FALSE;
}

int
offshoot_graph_view_count_items (OffshootGraphView *self)
{
  const OshGraphLayout *lay = layout_of (self);
  return lay ? lay->n_items : 0;
}

void
offshoot_graph_view_collapse_blocks (OffshootGraphView *self, gboolean collapsed)
{
  if (!self->grouping)
    return;
  /* Keras blocks and ONNX modules alike (as `offshoot render --collapse-blocks`); stages
   * hold blocks: they open with them (they close only in the overview). */
  osh_grouping_collapse_kind (self->grouping, OSH_GROUP_BLOCK, collapsed);
  osh_grouping_collapse_kind (self->grouping, OSH_GROUP_MODULE, collapsed);
  if (!collapsed)
    osh_grouping_collapse_kind (self->grouping, OSH_GROUP_STAGE, false);
  if (self->selected_layer >= 0)
    osh_grouping_expand_path (self->grouping, self->graph->graph, self->selected_layer);
  start_layout (self);
}

static void
toggle_group (OffshootGraphView *self, int group)
{
  gboolean collapsed = self->grouping->groups[group].collapsed;
  osh_grouping_set_collapsed (self->grouping, group, !collapsed);
  start_layout (self);
}

gboolean
offshoot_graph_view_toggle_group (OffshootGraphView *self, const char *name)
{
  int group = self->grouping ? osh_grouping_find (self->grouping, name) : -1;
  if (group < 0)
    return FALSE;
  toggle_group (self, group);
  return TRUE;
}

/* ---- Selection and search ---------------------------------------------------------------- */

int
offshoot_graph_view_get_selected_layer (OffshootGraphView *self)
{
  return self->selected_layer;
}

void
offshoot_graph_view_select_layer (OffshootGraphView *self, int layer, gboolean fly)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  if (!self->graph || layer >= self->graph->graph->n_layers)
    layer = -1;
  self->selected_layer = layer;
  self->selected_group = -1;
  push_styles (self);
  if (fly && layer >= 0)
    fly_to_item (self, item_of_layer (self, layer));
  g_signal_emit (self, signals[SIGNAL_LAYER_SELECTED], 0, layer);
}

/* Shows a layer: flies to its box, or first expands the collapsed groups hiding it (the
 * flight follows the new layout). */
static void
reveal (OffshootGraphView *self, int layer)
{
  if (osh_grouping_layer_collapsed_group (self->grouping, layer) >= 0)
    {
      for (int grp = self->grouping->layer_group[layer]; grp >= 0;
           grp = self->grouping->groups[grp].parent)
        osh_grouping_set_collapsed (self->grouping, grp, false);
      self->reveal_layer = layer;
      start_layout (self);
      return;
    }
  fly_to_item (self, item_of_layer (self, layer));
}

void
offshoot_graph_view_select_group (OffshootGraphView *self, int group)
{
  g_return_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self));
  if (!self->grouping || group >= self->grouping->n_groups)
    group = -1;
  /* The layer selection goes (listeners clear their layer views), then the group's. */
  offshoot_graph_view_select_layer (self, -1, FALSE);
  self->selected_group = group;
  push_styles (self);
  g_signal_emit (self, signals[SIGNAL_GROUP_SELECTED], 0, group);
}

int
offshoot_graph_view_get_selected_group (OffshootGraphView *self)
{
  return self->selected_group;
}

gboolean
offshoot_graph_view_group_summary (OffshootGraphView *self, int group, OffshootGroupSummary *out)
{
  const OshGraphLayout *lay = layout_of (self);
  memset (out, 0, sizeof *out);
  if (!lay || !self->grouping || group < 0 || group >= self->grouping->n_groups)
    return FALSE;
  const OshGroup *grp = &self->grouping->groups[group];
  const OshGraph *g = self->graph->graph;
  out->name = grp->name;
  out->kind = grp->kind == OSH_GROUP_MODEL    ? "nested model"
              : grp->kind == OSH_GROUP_STAGE  ? "stage"
              : grp->kind == OSH_GROUP_MODULE ? "module"
                                              : "block";
  out->n_layers = grp->n_layers;
  for (int i = 0; i < self->grouping->n_groups; i++)
    for (int up = self->grouping->groups[i].parent; up >= 0; up = self->grouping->groups[up].parent)
      if (up == group)
        {
          out->n_groups++;
          break;
        }
  /* Counted on every click: no weights are packed, so even B7 takes a few milliseconds. */
  g_autofree double *flops = g_new0 (double, MAX (1, g->n_layers));
  OshError err = { 0 };
  bool counted =
      osh_graph_layer_flops_proposed (g, 1, flops, NULL, out->flops_at, sizeof out->flops_at, &err);
  for (int l = 0; l < g->n_layers; l++)
    if (osh_grouping_layer_in (self->grouping, l, group))
      {
        if (!g->layers[l].is_model)
          out->params += osh_graph_layer_params (g, l, NULL);
        out->flops += flops[l];
      }
  if (!counted)
    out->flops = -1;
  int item = lay->group_item[group];
  out->shapes = item >= 0 ? lay->items[item].shape_text : "";
  return TRUE;
}

int
offshoot_graph_view_search (OffshootGraphView *self, const char *text)
{
  g_return_val_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self), 0);
  const OshGraphLayout *lay = layout_of (self);
  if (lay && text && *text && self->search_graph == self->graph
      && !g_strcmp0 (text, self->search_text) && self->match_pos >= 0)
    {
      /* The same search on a new layout (a group opened to show the match): stay on it. */
      push_styles (self);
      reveal (self, g_array_index (self->matches, int, self->match_pos));
      return self->matches->len;
    }
  g_array_set_size (self->matches, 0);
  self->match_pos = -1;
  g_free (self->search_text);
  self->search_text = g_strdup (text);
  self->search_graph = self->graph;
  if (lay && text && *text)
    {
      /* Every layer, shown or inside a collapsed group. Exact names first, then names
       * starting with the text, then the rest, each in layer order: typing a full name
       * goes straight to that layer. */
      const OshGraph *g = self->graph->graph;
      g_autofree char *needle = g_utf8_casefold (text, -1);
      g_autofree int *rank = g_new (int, MAX (1, g->n_layers));
      for (int l = 0; l < g->n_layers; l++)
        {
          g_autofree char *name = g_utf8_casefold (g->layers[l].name, -1);
          const char *at = strstr (name, needle);
          rank[l] = !at ? -1 : strcmp (name, needle) == 0 ? 0 : at == name ? 1 : 2;
        }
      for (int r = 0; r < 3; r++)
        for (int l = 0; l < g->n_layers; l++)
          if (rank[l] == r)
            g_array_append_val (self->matches, l);
    }
  push_styles (self);
  if (self->matches->len > 0)
    offshoot_graph_view_search_step (self, +1);
  return self->matches->len;
}

int
offshoot_graph_view_search_step (OffshootGraphView *self, int direction)
{
  g_return_val_if_fail (OFFSHOOT_IS_GRAPH_VIEW (self), -1);
  int n = self->matches->len;
  if (n == 0)
    return -1;
  self->match_pos = ((self->match_pos + (direction >= 0 ? 1 : -1)) % n + n) % n;
  reveal (self, g_array_index (self->matches, int, self->match_pos));
  return self->match_pos;
}

int
offshoot_graph_view_search_count (OffshootGraphView *self)
{
  return self->matches->len;
}

int
offshoot_graph_view_search_layer (OffshootGraphView *self)
{
  if (self->match_pos < 0 || self->match_pos >= (int) self->matches->len)
    return -1;
  return g_array_index (self->matches, int, self->match_pos);
}

int
offshoot_graph_view_search_position (OffshootGraphView *self)
{
  return self->match_pos;
}

gboolean
offshoot_graph_view_layer_position (OffshootGraphView *self, int layer, double *vx, double *vy)
{
  int item = item_of_layer (self, layer);
  if (item < 0)
    return FALSE;
  OshRect b = layout_of (self)->items[item].box;
  osh_camera_world_to_view (&self->cam, b.x + b.w / 2, b.y + b.h / 2, vx, vy);
  return TRUE;
}

OshScene *
offshoot_graph_view_dup_scene (OffshootGraphView *self)
{
  return self->scene ? osh_scene_copy (self->scene) : NULL;
}

/* ---- Drawing ----------------------------------------------------------------------------- */

static gboolean
minimap_shown (OffshootGraphView *self)
{
  const OshGraphLayout *lay = layout_of (self);
  if (!lay)
    return FALSE;
  /* Only when the graph is much larger than what the view shows. */
  return lay->bounds.h * self->cam.zoom > 2.5 * self->cam.view_h
         || lay->bounds.w * self->cam.zoom > 2.5 * self->cam.view_w;
}

static graphene_rect_t
minimap_rect (OffshootGraphView *self)
{
  const OshGraphLayout *lay = layout_of (self);
  /* A fixed width; as tall as the graph's proportions ask, up to 60 % of the view (a taller
   * graph scrolls inside it: osh_scene_draw_minimap). */
  double w = MINIMAP_W;
  double h = MAX (24, MIN (self->cam.view_h * 0.6, w * lay->bounds.h / MAX (lay->bounds.w, 1)));
  return GRAPHENE_RECT_INIT (self->cam.view_w - w - MINIMAP_MARGIN, MINIMAP_MARGIN, w, h);
}

static void
draw_message (OffshootGraphView *self, GtkSnapshot *snapshot, const char *text)
{
  PangoLayout *pl = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  int w, h;
  pango_layout_set_width (pl, (int) (self->cam.view_w * 0.8) * PANGO_SCALE);
  pango_layout_set_alignment (pl, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (pl, &w, &h);
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (
      snapshot, &GRAPHENE_POINT_INIT ((self->cam.view_w - w) / 2, (self->cam.view_h - h) / 2));
  gtk_snapshot_append_layout (snapshot, pl, &fg);
  gtk_snapshot_restore (snapshot);
  g_object_unref (pl);
}

static void
free_surface_bytes (gpointer surface)
{
  cairo_surface_destroy (surface);
}

/* Draws the scene around the view (`margin` logical pixels on each side) into a new tile, at
 * the screen's scale factor. */
static void
render_tile (OffshootGraphView *self, const OshViewport *vp, double w, double h, double margin)
{
  gint64 t0 = g_get_monotonic_time ();
  int sf = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int tw = (int) ceil (w + 2 * margin), th = (int) ceil (h + 2 * margin);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, tw * sf, th * sf);
  cairo_surface_set_device_scale (surface, sf, sf);
  cairo_t *cr = cairo_create (surface);
  OshViewport tv = *vp;
  tv.x += margin;
  tv.y += margin;
  osh_scene_draw (self->scene, cr, &tv, tw, th);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  /* The texture takes the pixels as they are (cairo's ARGB32 is GDK's default format). */
  GBytes *bytes = g_bytes_new_with_free_func (cairo_image_surface_get_data (surface),
                                              (gsize) cairo_image_surface_get_stride (surface)
                                                  * (gsize) (th * sf),
                                              free_surface_bytes, surface);
  g_clear_object (&self->tile);
  self->tile = gdk_memory_texture_new (tw * sf, th * sf, GDK_MEMORY_DEFAULT, bytes,
                                       (gsize) cairo_image_surface_get_stride (surface));
  g_bytes_unref (bytes);
  self->tile_vp = tv;
  self->tile_w = tw;
  self->tile_h = th;
  self->scene_ms = (g_get_monotonic_time () - t0) / 1000.0;
}

/* GPU renderers: the tile moves while panning, a texture draw per frame (tools/frame-bench.py:
 * a third of the main thread's time of drawing the scene again). */
static void
draw_tile (OffshootGraphView *self, GtkSnapshot *snapshot, const OshViewport *vp, double w,
           double h)
{
  double dx = vp->x - self->tile_vp.x, dy = vp->y - self->tile_vp.y;
  gboolean same_zoom = self->tile && self->tile_vp.scale == vp->scale;
  if (!same_zoom || dx > 0.5 || dy > 0.5 || dx + self->tile_w < w - 0.5
      || dy + self->tile_h < h - 0.5)
    {
      /* Panning (same zoom, the view left the tile): a margin for the next frames; zooming:
       * just the view, as each zoom step draws anew anyway. */
      render_tile (self, vp, w, h, same_zoom ? 0.35 * MAX (w, h) : 0);
      dx = vp->x - self->tile_vp.x;
      dy = vp->y - self->tile_vp.y;
    }
  gtk_snapshot_append_texture (
      snapshot, self->tile,
      &GRAPHENE_RECT_INIT (round (dx), round (dy), self->tile_w, self->tile_h));
}

static void
offshoot_graph_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (widget);
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w < 1 || h < 1)
    return;
  if (!self->scene)
    {
      if (self->error)
        draw_message (self, snapshot, self->error);
      else if (self->layout_cancel)
        draw_message (self, snapshot, "Laying out the graph…");
      return;
    }
  self->drew_this_frame = TRUE;
  OshViewport vp = scene_viewport (&self->cam);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  if (GSK_IS_CAIRO_RENDERER (renderer))
    {
      /* Software rendering: a texture would be converted back to a cairo surface every
       * frame (twice the CPU of drawing again, tools/frame-bench.py); the scene is recorded
       * for the view alone and replayed onto the window by the renderer. */
      g_clear_object (&self->tile);
      gint64 t0 = g_get_monotonic_time ();
      GskRenderNode *node = gsk_cairo_node_new (&GRAPHENE_RECT_INIT (0, 0, w, h));
      cairo_t *cr = gsk_cairo_node_get_draw_context (node);
      osh_scene_draw (self->scene, cr, &vp, w, h);
      cairo_destroy (cr);
      self->scene_ms = (g_get_monotonic_time () - t0) / 1000.0;
      gtk_snapshot_append_node (snapshot, node);
      gsk_render_node_unref (node);
    }
  else
    draw_tile (self, snapshot, &vp, w, h);

  const OshGraphLayout *lay = layout_of (self);
  if (self->hover_item >= 0 && self->hover_item < lay->n_items)
    {
      OshRect b = lay->items[self->hover_item].box;
      double x0, y0, x1, y1;
      osh_camera_world_to_view (&self->cam, b.x, b.y, &x0, &y0);
      osh_camera_world_to_view (&self->cam, b.x + b.w, b.y + b.h, &x1, &y1);
      GskRoundedRect rr;
      gsk_rounded_rect_init_from_rect (
          &rr, &GRAPHENE_RECT_INIT (x0 - 2, y0 - 2, x1 - x0 + 4, y1 - y0 + 4), 6);
      GdkRGBA accent = { 0.21, 0.52, 0.89, 0.9 };
      float widths[4] = { 2, 2, 2, 2 };
      GdkRGBA colors[4] = { accent, accent, accent, accent };
      gtk_snapshot_append_border (snapshot, &rr, widths, colors);
    }

  if (minimap_shown (self))
    {
      graphene_rect_t r = minimap_rect (self);
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &r);
      cairo_translate (cr, r.origin.x, r.origin.y);
      osh_scene_draw_minimap (self->scene, cr, r.size.width, r.size.height, &vp, w, h);
      cairo_destroy (cr);
    }
  if (self->layout_cancel)
    draw_message (self, snapshot, "Laying out the graph…");
}

static void
offshoot_graph_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  (void) baseline;
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (widget);
  gboolean first = self->cam.view_w <= 1;
  osh_camera_set_view_size (&self->cam, width, height);
  if (first && self->scene)
    osh_camera_home (&self->cam);
  invalidate (self);
  if (self->menu)
    gtk_popover_present (GTK_POPOVER (self->menu));
}

/* ---- Input ------------------------------------------------------------------------------- */

static int
hit_item (OffshootGraphView *self, double x, double y)
{
  if (!self->scene)
    return -1;
  OshViewport vp = scene_viewport (&self->cam);
  return osh_scene_hit_test (self->scene, &vp, x, y);
}

static gboolean
in_minimap (OffshootGraphView *self, double x, double y)
{
  if (!minimap_shown (self))
    return FALSE;
  graphene_rect_t r = minimap_rect (self);
  return graphene_rect_contains_point (&r, &GRAPHENE_POINT_INIT (x, y));
}

static void
jump_minimap (OffshootGraphView *self, double x, double y)
{
  graphene_rect_t r = minimap_rect (self);
  double wx, wy;
  OshViewport vp = scene_viewport (&self->cam);
  osh_scene_minimap_to_world (self->scene, r.size.width, r.size.height, &vp, self->cam.view_w,
                              self->cam.view_h, x - r.origin.x, y - r.origin.y, &wx, &wy);
  stop_fly (self);
  osh_camera_center_on (&self->cam, wx, wy, 0);
  camera_changed (self);
}

static void
on_motion (GtkEventControllerMotion *c, double x, double y, OffshootGraphView *self)
{
  (void) c;
  self->pointer_x = x;
  self->pointer_y = y;
  int item = in_minimap (self, x, y) ? -1 : hit_item (self, x, y);
  if (item != self->hover_item)
    {
      self->hover_item = item;
      gtk_widget_queue_draw (GTK_WIDGET (self)); /* the cached graph stays */
    }
}

static void
on_leave (GtkEventControllerMotion *c, OffshootGraphView *self)
{
  (void) c;
  if (self->hover_item >= 0)
    {
      self->hover_item = -1;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static gboolean
on_scroll (GtkEventControllerScroll *c, double dx, double dy, OffshootGraphView *self)
{
  if (!self->scene)
    return FALSE;
  stop_fly (self);
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (c));
  gboolean wheel = gtk_event_controller_scroll_get_unit (c) == GDK_SCROLL_UNIT_WHEEL;
  if (wheel || (mods & GDK_CONTROL_MASK))
    {
      /* A wheel zooms at the cursor; on a touchpad Ctrl+scroll does. */
      double step = wheel ? dy : dy / 10.0;
      osh_camera_zoom_at (&self->cam, pow (WHEEL_STEP, -step), self->pointer_x, self->pointer_y);
    }
  else
    osh_camera_pan (&self->cam, -dx, -dy);
  camera_changed (self);
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, OffshootGraphView *self)
{
  (void) g;
  stop_fly (self);
  self->drag_cx = self->cam.cx;
  self->drag_cy = self->cam.cy;
  self->dragging_minimap = in_minimap (self, x, y);
  if (self->dragging_minimap)
    jump_minimap (self, x, y);
}

static void
on_drag_update (GtkGestureDrag *g, double ox, double oy, OffshootGraphView *self)
{
  if (self->dragging_minimap)
    {
      double sx, sy;
      gtk_gesture_drag_get_start_point (g, &sx, &sy);
      jump_minimap (self, sx + ox, sy + oy);
      return;
    }
  self->cam.cx = self->drag_cx - ox / self->cam.zoom;
  self->cam.cy = self->drag_cy - oy / self->cam.zoom;
  osh_camera_clamp (&self->cam);
  camera_changed (self);
}

static void
on_pinch_begin (GtkGesture *g, GdkEventSequence *seq, OffshootGraphView *self)
{
  (void) g;
  (void) seq;
  stop_fly (self);
  self->pinch_zoom = self->cam.zoom;
}

static void
on_pinch_scale (GtkGestureZoom *g, double scale, OffshootGraphView *self)
{
  double cx, cy;
  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (g), &cx, &cy))
    {
      cx = self->cam.view_w / 2;
      cy = self->cam.view_h / 2;
    }
  osh_camera_zoom_at (&self->cam, self->pinch_zoom * scale / self->cam.zoom, cx, cy);
  camera_changed (self);
}

static void
on_pressed (GtkGestureClick *g, int n_press, double x, double y, OffshootGraphView *self)
{
  (void) g;
  (void) n_press;
  self->press_x = x;
  self->press_y = y;
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

static void
on_released (GtkGestureClick *g, int n_press, double x, double y, OffshootGraphView *self)
{
  (void) g;
  /* A click is a press and release close together; anything else was a drag. */
  if (hypot (x - self->press_x, y - self->press_y) > CLICK_SLOP || !self->scene
      || in_minimap (self, x, y))
    return;
  OshViewport vp = scene_viewport (&self->cam);
  if (n_press == 2)
    {
      int group = osh_scene_hit_group (self->scene, &vp, x, y);
      if (group >= 0)
        toggle_group (self, group);
      return;
    }
  int item = osh_scene_hit_test (self->scene, &vp, x, y);
  const OshGraphLayout *lay = layout_of (self);
  int layer = item >= 0 ? lay->items[item].layer : -1;
  if (item >= 0 && layer < 0 && lay->items[item].group >= 0)
    {
      offshoot_graph_view_select_group (self, lay->items[item].group);
      return;
    }
  offshoot_graph_view_select_layer (self, layer, FALSE);
}

/* ---- Keyboard walk ---------------------------------------------------------------------- */

static double
centre_x (const OshLayoutItem *it)
{
  return it->box.x + it->box.w / 2;
}

static double
centre_y (const OshLayoutItem *it)
{
  return it->box.y + it->box.h / 2;
}

/* From box `from` along the drawn graph: Up to a box that feeds it, Down to one it feeds
 * (the one most in line when there are several), Left / Right to the nearest box on that
 * side, preferring its own row. Only boxes of a layer (not collapsed blocks); -1 if none. */
static int
walk_item (const OshGraphLayout *lay, int from, guint key)
{
  const OshLayoutItem *f = &lay->items[from];
  int best = -1;
  double best_d = G_MAXDOUBLE;
  if (key == GDK_KEY_Up || key == GDK_KEY_Down)
    {
      for (int e = 0; e < lay->n_edges; e++)
        {
          const OshLayoutEdge *ed = &lay->edges[e];
          int other = key == GDK_KEY_Up ? (ed->to == from ? ed->from : -1)
                                        : (ed->from == from ? ed->to : -1);
          if (other < 0 || lay->items[other].layer < 0)
            continue;
          double d = fabs (centre_x (&lay->items[other]) - centre_x (f));
          if (d < best_d)
            best_d = d, best = other;
        }
      return best;
    }
  double side = key == GDK_KEY_Left ? -1 : 1;
  for (int i = 0; i < lay->n_items; i++)
    {
      const OshLayoutItem *it = &lay->items[i];
      double dx = (centre_x (it) - centre_x (f)) * side;
      if (i == from || it->layer < 0 || dx <= 0)
        continue;
      /* Another row counts as far: the same row first. */
      double dy = fabs (centre_y (it) - centre_y (f));
      double d = dx + (dy < f->box.h ? 0 : 10 * dy);
      if (d < best_d)
        best_d = d, best = i;
    }
  return best;
}

/* The topmost box of a layer: where a walk starts when nothing is selected. */
static int
first_item (const OshGraphLayout *lay)
{
  int best = -1;
  for (int i = 0; i < lay->n_items; i++)
    if (lay->items[i].layer >= 0 && (best < 0 || lay->items[i].box.y < lay->items[best].box.y))
      best = i;
  return best;
}

/* Arrows walk from the selected layer; Return or space selects the first one. FALSE when
 * the key is not a walk (nothing selected: the arrows pan). */
static gboolean
walk_key (OffshootGraphView *self, guint keyval)
{
  const OshGraphLayout *lay = layout_of (self);
  if (!lay)
    return FALSE;
  int from = item_of_layer (self, self->selected_layer);
  int to = -1;
  switch (keyval)
    {
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
      if (from >= 0)
        return TRUE; /* already selected */
      to = first_item (lay);
      break;
    case GDK_KEY_Up:
    case GDK_KEY_Down:
    case GDK_KEY_Left:
    case GDK_KEY_Right:
      if (from < 0)
        return FALSE;
      to = walk_item (lay, from, keyval);
      if (to < 0)
        {
          gtk_widget_error_bell (GTK_WIDGET (self));
          return TRUE;
        }
      break;
    default: return FALSE;
    }
  if (to >= 0)
    offshoot_graph_view_select_layer (self, lay->items[to].layer, TRUE);
  return TRUE;
}

/* ---- Layer menu ------------------------------------------------------------------------- */

void
offshoot_graph_view_set_layer_menu (OffshootGraphView *self, GMenuModel *model)
{
  g_set_object (&self->menu_model, model);
  g_clear_pointer (&self->menu, gtk_widget_unparent);
}

gboolean
offshoot_graph_view_popup_layer_menu (OffshootGraphView *self, double x, double y)
{
  if (!self->menu_model || self->selected_layer < 0)
    return FALSE;
  if (!self->menu)
    {
      self->menu = gtk_popover_menu_new_from_model (self->menu_model);
      gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
      gtk_popover_set_has_arrow (GTK_POPOVER (self->menu), FALSE);
      gtk_widget_set_halign (self->menu, GTK_ALIGN_START);
    }
  gtk_popover_set_pointing_to (GTK_POPOVER (self->menu), &(GdkRectangle){ (int) x, (int) y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->menu));
  return TRUE;
}

gboolean
offshoot_graph_view_layer_menu_is_open (OffshootGraphView *self)
{
  return self->menu && gtk_widget_get_visible (self->menu);
}

/* Right-click: the layer under the pointer is selected and its menu opens there. */
static void
on_secondary_pressed (GtkGestureClick *g, int n_press, double x, double y, OffshootGraphView *self)
{
  (void) n_press;
  if (!self->scene || in_minimap (self, x, y))
    return;
  OshViewport vp = scene_viewport (&self->cam);
  int item = osh_scene_hit_test (self->scene, &vp, x, y);
  int layer = item >= 0 ? layout_of (self)->items[item].layer : -1;
  if (layer < 0)
    return;
  gtk_gesture_set_state (GTK_GESTURE (g), GTK_EVENT_SEQUENCE_CLAIMED);
  gtk_widget_grab_focus (GTK_WIDGET (self));
  offshoot_graph_view_select_layer (self, layer, FALSE);
  offshoot_graph_view_popup_layer_menu (self, x, y);
}

/* The Menu key (or Shift+F10): the selected layer's menu, at its box. */
static gboolean
menu_key (OffshootGraphView *self)
{
  double x, y;
  if (self->selected_layer < 0
      || !offshoot_graph_view_layer_position (self, self->selected_layer, &x, &y))
    return FALSE;
  return offshoot_graph_view_popup_layer_menu (self, x, y);
}

static gboolean
on_key (GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
        OffshootGraphView *self)
{
  (void) c;
  (void) keycode;
  if (keyval == GDK_KEY_Menu || (keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK)))
    return menu_key (self);
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE; /* window shortcuts */
  if (!(state & GDK_SHIFT_MASK) && walk_key (self, keyval))
    return TRUE;
  double dx = 0, dy = 0;
  switch (keyval)
    {
    case GDK_KEY_Left: dx = KEY_PAN; break;
    case GDK_KEY_Right: dx = -KEY_PAN; break;
    case GDK_KEY_Up: dy = KEY_PAN; break;
    case GDK_KEY_Down: dy = -KEY_PAN; break;
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add: offshoot_graph_view_zoom (self, WHEEL_STEP); return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract: offshoot_graph_view_zoom (self, 1 / WHEEL_STEP); return TRUE;
    default: return FALSE;
    }
  stop_fly (self);
  osh_camera_pan (&self->cam, dx, dy);
  camera_changed (self);
  return TRUE;
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  (void) keyboard;
  (void) data;
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (widget);
  int item = in_minimap (self, x, y) ? -1 : hit_item (self, x, y);
  if (item < 0)
    return FALSE;
  const OshLayoutItem *it = &layout_of (self)->items[item];
  /* Layer names are user data: escape before using markup. */
  g_autofree char *t = g_markup_escape_text (it->title, -1);
  g_autofree char *s = g_markup_escape_text (it->subtitle ? it->subtitle : "", -1);
  g_autofree char *sh = g_markup_escape_text (it->shape_text ? it->shape_text : "", -1);
  g_autofree char *safe = g_strdup_printf ("<b>%s</b>\n%s%s%s\n%" G_GINT64_FORMAT " parameters", t,
                                           s, *sh ? " → " : "", sh, it->params);
  gtk_tooltip_set_markup (tooltip, safe);
  return TRUE;
}

/* ---- Frame times ------------------------------------------------------------------------- */

static double
thread_cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* From the frame clock's paint phase start to its end: the snapshot and GSK's rendering of
 * it (the cairo renderer rasterizes there), i.e. what a frame costs to draw. */
static void
on_before_paint (GdkFrameClock *clock, OffshootGraphView *self)
{
  (void) clock;
  self->paint_start = g_get_monotonic_time ();
  self->paint_cpu_start = thread_cpu_seconds ();
  self->drew_this_frame = FALSE;
  self->scene_ms = 0;
}

static void
on_after_paint (GdkFrameClock *clock, OffshootGraphView *self)
{
  (void) clock;
  if (!self->drew_this_frame || !self->paint_start)
    return;
  g_printerr ("frame-time %.2f ms (scene %.2f ms, cpu %.2f ms)\n",
              (g_get_monotonic_time () - self->paint_start) / 1000.0, self->scene_ms,
              (thread_cpu_seconds () - self->paint_cpu_start) * 1000.0);
  self->drew_this_frame = FALSE;
}

static void
offshoot_graph_view_realize (GtkWidget *widget)
{
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (widget);
  GTK_WIDGET_CLASS (offshoot_graph_view_parent_class)->realize (widget);
  if (!self->frame_times)
    return;
  self->timed_clock = g_object_ref (gtk_widget_get_frame_clock (widget));
  self->before_paint_id =
      g_signal_connect (self->timed_clock, "before-paint", G_CALLBACK (on_before_paint), self);
  self->after_paint_id =
      g_signal_connect (self->timed_clock, "after-paint", G_CALLBACK (on_after_paint), self);
}

static void
offshoot_graph_view_unrealize (GtkWidget *widget)
{
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (widget);
  if (self->timed_clock)
    {
      g_clear_signal_handler (&self->before_paint_id, self->timed_clock);
      g_clear_signal_handler (&self->after_paint_id, self->timed_clock);
      g_clear_object (&self->timed_clock);
    }
  GTK_WIDGET_CLASS (offshoot_graph_view_parent_class)->unrealize (widget);
}

/* ---- GObject ----------------------------------------------------------------------------- */

/* Out of its window (it is closing): a layout not yet started is skipped, one in progress
 * is dropped when it returns. The worker holds the view until then, so dispose would come
 * too late. */
static void
offshoot_graph_view_unroot (GtkWidget *widget)
{
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (widget);
  stop_fly (self);
  cancel_layout (self);
  GTK_WIDGET_CLASS (offshoot_graph_view_parent_class)->unroot (widget);
}

static void
offshoot_graph_view_dispose (GObject *object)
{
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (object);
  stop_fly (self);
  cancel_layout (self);
  g_clear_object (&self->tile);
  g_clear_pointer (&self->menu, gtk_widget_unparent);
  g_clear_object (&self->menu_model);
  G_OBJECT_CLASS (offshoot_graph_view_parent_class)->dispose (object);
}

static void
offshoot_graph_view_finalize (GObject *object)
{
  OffshootGraphView *self = OFFSHOOT_GRAPH_VIEW (object);
  g_clear_pointer (&self->scene, osh_scene_free);
  g_clear_pointer (&self->grouping, osh_grouping_free);
  g_clear_pointer (&self->laid_grouping, osh_grouping_free);
  osh_graph_handle_unref (self->laid_graph);
  osh_graph_handle_unref (self->graph);
  g_free (self->base_styles);
  g_free (self->fills);
  g_free (self->error);
  g_array_unref (self->matches);
  g_free (self->search_text);
  G_OBJECT_CLASS (offshoot_graph_view_parent_class)->finalize (object);
}

static void
offshoot_graph_view_class_init (OffshootGraphViewClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = offshoot_graph_view_dispose;
  oc->finalize = offshoot_graph_view_finalize;
  wc->snapshot = offshoot_graph_view_snapshot;
  wc->size_allocate = offshoot_graph_view_size_allocate;
  wc->unroot = offshoot_graph_view_unroot;
  wc->realize = offshoot_graph_view_realize;
  wc->unrealize = offshoot_graph_view_unrealize;
  gtk_widget_class_set_css_name (wc, "graphview");
  gtk_widget_class_set_accessible_role (wc, GTK_ACCESSIBLE_ROLE_IMG);

  /* ::layout-started: a layout began (offshoot_graph_view_cancel_layout may go back). */
  signals[SIGNAL_LAYOUT_STARTED] =
      g_signal_new ("layout-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
  /* ::layer-selected (int layer): a click or a call selected a layer (-1: none). */
  signals[SIGNAL_LAYER_SELECTED] =
      g_signal_new ("layer-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* ::layout-done: a layout finished (or failed: see offshoot_graph_view_get_error). */
  signals[SIGNAL_LAYOUT_DONE] =
      g_signal_new ("layout-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
  /* ::group-selected (int group): a click selected a collapsed block, stage or module (-1:
   * none); offshoot_graph_view_group_summary says what it holds. */
  signals[SIGNAL_GROUP_SELECTED] =
      g_signal_new ("group-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
offshoot_graph_view_init (OffshootGraphView *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  osh_camera_init (&self->cam);
  self->selected_layer = -1;
  self->selected_group = -1;
  self->reveal_layer = -1;
  self->hover_item = -1;
  self->matches = g_array_new (FALSE, FALSE, sizeof (int));
  self->frame_times = g_strcmp0 (g_getenv ("OFFSHOOT_FRAME_TIMES"), "1") == 0;
  self->match_pos = -1;
  gtk_widget_set_focusable (w, TRUE);
  gtk_widget_set_overflow (w, GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (w, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Layer graph", -1);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect_object (motion, "motion", G_CALLBACK (on_motion), self, 0);
  g_signal_connect_object (motion, "leave", G_CALLBACK (on_leave), self, 0);
  gtk_widget_add_controller (w, motion);

  GtkEventController *scroll =
      gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect_object (scroll, "scroll", G_CALLBACK (on_scroll), self, 0);
  gtk_widget_add_controller (w, scroll);

  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect_object (drag, "drag-begin", G_CALLBACK (on_drag_begin), self, 0);
  g_signal_connect_object (drag, "drag-update", G_CALLBACK (on_drag_update), self, 0);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (drag));

  GtkGesture *click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect_object (click, "pressed", G_CALLBACK (on_pressed), self, 0);
  g_signal_connect_object (click, "released", G_CALLBACK (on_released), self, 0);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (click));
  gtk_gesture_group (click, drag); /* both see the same press: a short one is a click */

  GtkGesture *secondary = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (secondary), GDK_BUTTON_SECONDARY);
  g_signal_connect_object (secondary, "pressed", G_CALLBACK (on_secondary_pressed), self, 0);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (secondary));

  GtkGesture *zoom = gtk_gesture_zoom_new ();
  g_signal_connect_object (zoom, "begin", G_CALLBACK (on_pinch_begin), self, 0);
  g_signal_connect_object (zoom, "scale-changed", G_CALLBACK (on_pinch_scale), self, 0);
  gtk_widget_add_controller (w, GTK_EVENT_CONTROLLER (zoom));

  GtkEventController *key = gtk_event_controller_key_new ();
  g_signal_connect_object (key, "key-pressed", G_CALLBACK (on_key), self, 0);
  gtk_widget_add_controller (w, key);
}

GtkWidget *
offshoot_graph_view_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_GRAPH_VIEW, NULL);
}
