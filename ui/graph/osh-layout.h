/* osh-layout.h — layer graphs laid out by graphviz `dot`, run in-process; groups of layers.
 *
 * This module is the only code that includes graphviz headers. It turns an OshGraph plus a
 * grouping state into plain geometry (boxes, Bézier edges, cluster boxes) the UI keeps:
 *
 *   OshGrouping *gr = osh_grouping_new (g);        // nested models and repeated blocks
 *   osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, true);
 *   osh_grouping_expand_path (gr, g, selected_layer);  // inputs → selected layer stay open
 *   OshError err = { 0 };
 *   OshGraphLayout *lay = osh_layout_compute (g, gr, &err);
 *   if (!lay) { puts (err.message); ... }
 *   for (int i = 0; i < lay->n_items; i++)
 *     draw_box (lay->items[i].box, lay->items[i].title);
 *   osh_layout_free (lay);
 *   osh_grouping_free (gr);
 *
 * Coordinates are graphviz points (1/72 inch) with y growing DOWN and the bounding box at
 * (0, 0): inputs are at the top. Node sizes come from the text the scene draws (osh-scene.h),
 * so boxes fit their labels.
 *
 * Graphviz is not thread-safe: call osh_layout_compute from one thread at a time (a worker
 * that owns all layouts). The result is plain data: any thread may read it once handed over.
 * The graph needs inferred shapes (osh_graph_infer_shapes) for shape labels; without them
 * the labels are empty.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"

typedef struct
{
  double x, y;
} OshPoint;

typedef struct
{
  double x, y, w, h; /* top-left corner and size */
} OshRect;

/* Layer families: the colour of a box. */
typedef enum
{
  OSH_FAMILY_UNKNOWN = 0,
  OSH_FAMILY_INPUT,
  OSH_FAMILY_CONV,       /* Conv*, SeparableConv*, DepthwiseConv*, Conv*Transpose */
  OSH_FAMILY_DENSE,      /* Dense, Gemm, MatMul, Embedding */
  OSH_FAMILY_NORM,       /* BatchNormalization, LayerNormalization, Rescaling, Normalization */
  OSH_FAMILY_ACTIVATION, /* Activation, ReLU, Softmax, Sigmoid, Dropout ... */
  OSH_FAMILY_POOLING,    /* MaxPooling*, AveragePooling*, Global*Pooling* */
  OSH_FAMILY_MERGE,      /* Add, Multiply, Concatenate, Sum, Mul ... */
  OSH_FAMILY_RESHAPE,    /* Reshape, Flatten, ZeroPadding*, Cropping*, Permute, Transpose ... */
  OSH_FAMILY_MODEL,      /* a nested model, or a collapsed group */
  OSH_FAMILY_COUNT
} OshFamily;

OshFamily osh_layer_family (const char *class_name);
const char *osh_family_name (OshFamily f); /* "conv", "norm", ... */

/* ---- Grouping ---------------------------------------------------------------------------- */

typedef enum
{
  OSH_GROUP_MODEL,  /* a nested model (a layer with is_model) */
  OSH_GROUP_BLOCK,  /* layers sharing a repeated-block name prefix: "block5a_", "conv2_block1_" */
  OSH_GROUP_MODULE, /* ONNX nodes sharing a module path: "/features/features.3/..." */
  OSH_GROUP_STAGE,  /* blocks of one stage: "block5a" ... "block5j" → "block5" */
} OshGroupKind;

typedef struct
{
  OshGroupKind kind;
  char *name;     /* the model's path ("efficientnetb7"), "block5a" / "model/block5a", or a
                     module path without its leading '/' ("features/features.3") */
  int parent;     /* the enclosing group, -1 at top level */
  int layer;      /* OSH_GROUP_MODEL: the model layer; -1 for blocks */
  int n_layers;   /* layers inside, at every depth */
  bool collapsed; /* drawn as one box */
} OshGroup;

typedef struct
{
  OshGroup *groups; /* parents come before their children */
  int n_groups;
  int *layer_group; /* per layer: the innermost group holding it, -1 for none */
  int n_layers;
} OshGrouping;

/* Finds nested models and repeated blocks; everything starts expanded. NULL only on OOM. */
OshGrouping *osh_grouping_new (const OshGraph *g);
void osh_grouping_free (OshGrouping *gr);
OshGrouping *osh_grouping_copy (const OshGrouping *gr);

/* A group by name ("block5a", "efficientnetb7/block5a"); a unique last path component is
 * enough. -1 when absent or ambiguous. */
int osh_grouping_find (const OshGrouping *gr, const char *name);

void osh_grouping_set_collapsed (OshGrouping *gr, int group, bool collapsed);
/* Collapses or expands every group of one kind. */
void osh_grouping_collapse_kind (OshGrouping *gr, OshGroupKind kind, bool collapsed);
/* Big graphs open as an overview: above this many layers the window and `offshoot render`
 * start with stages, blocks and modules collapsed (EfficientNetB7 expanded is 50,000 points
 * tall, a hairline when fitted; collapsed, twenty boxes). */
#define OSH_OVERVIEW_ABOVE_LAYERS 200
/* Collapses stages, blocks and modules when the graph has more than
 * OSH_OVERVIEW_ABOVE_LAYERS layers; returns whether it did. */
bool osh_grouping_overview (OshGrouping *gr, const OshGraph *g);
/* True when `group` or one of its ancestors is collapsed. */
bool osh_grouping_hidden (const OshGrouping *gr, int group);
/* The outermost collapsed group hiding `layer`, or -1 when the layer is visible. */
int osh_grouping_layer_collapsed_group (const OshGrouping *gr, int layer);
/* True when `layer` is inside `group` (at any depth). */
bool osh_grouping_layer_in (const OshGrouping *gr, int layer, int group);

/* Expands every group holding a layer on a path from the inputs to `layer` (the layer's
 * ancestors in the data flow, and the layer itself); other groups keep their state. */
void osh_grouping_expand_path (OshGrouping *gr, const OshGraph *g, int layer);

/* ---- Layout ------------------------------------------------------------------------------ */

typedef enum
{
  OSH_ITEM_NODE,  /* one IR node (one call of a layer) */
  OSH_ITEM_GROUP, /* a collapsed group */
} OshItemKind;

typedef struct
{
  OshItemKind kind;
  int node;  /* OSH_ITEM_NODE: the IR node; else -1 */
  int group; /* OSH_ITEM_GROUP: the group; else -1 */
  int layer; /* the node's layer, or the model layer of a model group, or -1 */
  OshRect box;
  OshFamily family;
  char *title;      /* layer name, or group name */
  char *subtitle;   /* class name, or "block · 17 layers" */
  char *shape_text; /* "(None, 7, 7, 1280)"; "" when unknown */
  int64_t params;   /* Keras-counted parameters (the whole group for a group) */
} OshLayoutItem;

typedef struct
{
  int from, to;     /* item indices */
  OshPoint *points; /* cubic Bézier control points: 1 + 3k of them */
  int n_points;
  bool arrow;              /* an arrowhead from points[n_points - 1] to arrow_tip */
  OshPoint arrow_tip;      /* touches the target box */
  char *label;             /* the tensor shape carried, "" when unknown */
  OshPoint label_pos;      /* the label's top-left corner: beside the curve, clear of every box */
  double label_w, label_h; /* its size as the scene draws it */
  OshRect bounds;          /* covers the curve, arrowhead and label */
} OshLayoutEdge;

typedef struct
{
  int group; /* an expanded group drawn as a frame */
  OshRect box;
  char *label;
  int depth; /* 0 for top-level groups */
} OshLayoutCluster;

typedef struct
{
  OshLayoutItem *items;
  int n_items;
  OshLayoutEdge *edges;
  int n_edges;
  OshLayoutCluster *clusters; /* outer clusters before inner ones */
  int n_clusters;
  OshRect bounds; /* everything, starting at (0, 0) */

  int *node_item; /* per IR node: the item showing it (itself or its collapsed group), or -1
                     for a call of an expanded nested model (its inner layers show it) */
  int n_nodes;
  int *group_item; /* per group: its item when collapsed and visible, else -1 */
  int n_groups;

  char *dot;             /* the DOT text given to graphviz */
  double seconds_build;  /* IR → DOT text, text measuring included */
  double seconds_layout; /* graphviz: parse, dot layout, geometry read-back */
  int extra_refs;        /* private: owners beyond the first (osh_layout_ref) */
} OshGraphLayout;

/* Lays out `g` with the grouping state `gr` (NULL: no groups). `gr` must come from
 * osh_grouping_new on this graph: after an edit rebuilds the graph, make a new grouping
 * (a grouping of another layer count is ignored). NULL with err set on failure. */
OshGraphLayout *osh_layout_compute (const OshGraph *g, const OshGrouping *gr, OshError *err);
/* A layout is read-only once computed: a picture export in a worker shares it with the view
 * (osh_scene_copy). osh_layout_ref adds an owner; osh_layout_free drops one, the last frees. */
OshGraphLayout *osh_layout_ref (OshGraphLayout *lay);
void osh_layout_free (OshGraphLayout *lay);

/* Label fonts found and measured on a thread of their own while the caller does other work
 * (reading a model: fontconfig's start alone takes as long as parsing a big config).
 * osh_text_warm_finish waits for it and makes those fonts the calling thread's default, so
 * the layouts and scenes that thread then makes find them ready. Call it before the thread
 * first measures text (osh_layout_compute, osh_scene_new with text). */
typedef struct _OshTextWarm OshTextWarm;
OshTextWarm *osh_text_warm_start (void);
void osh_text_warm_finish (OshTextWarm *w);

/* The DOT text alone (what osh_layout_compute would give graphviz); g_free it. */
char *osh_layout_dot_text (const OshGraph *g, const OshGrouping *gr, OshError *err);
