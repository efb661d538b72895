/* osh-graph.h — the graph IR: layers, nodes (layer calls) and tensor references.
 *
 * Keras semantics, with ONNX mapped onto it:
 *  - a LAYER has a name, a class ("Conv2D", "BatchNormalization", an unknown
 *    class kept verbatim), its config (a jansson object, kept whole so writers
 *    can round-trip it) and its weights in file order (Keras binds by position);
 *  - a NODE is one call of a layer on input tensors; a layer called twice
 *    (a shared layer) has two nodes. InputLayer nodes have no inputs;
 *  - a TENSOR is referred to as (node, output index): OshRef;
 *  - a MODEL used as a layer (a nested model) is a layer with `is_model` set; the
 *    layers it owns have `owner` = its index, and its own inner `inputs`/`outputs`
 *    refer to nodes inside it. A node calling it binds its inner inputs, in order,
 *    to the node's inputs. Paths name nested layers: "efficientnetb7/block5a_expand_conv".
 *
 * All layers and nodes of all nesting levels live in two flat arrays of the
 * graph, so a reference may cross a model boundary. That is exactly how Keras's
 * "Graph disconnected" arises (a tensor taken from inside a nested model whose
 * own Input is not an input of the outer model), and the analysis finds it.
 *
 * Building a graph by hand (readers, head templates and tests do this):
 *
 *   OshGraph *g = osh_graph_new ();
 *   int in = osh_graph_add_layer (g, -1, "input_1", "InputLayer", json_object (), &err);
 *   int in_node = osh_graph_add_node (g, in, NULL, 0, 1, &err);
 *   int fc = osh_graph_add_layer (g, -1, "dense", "Dense", config, &err);
 *   OshRef x = { in_node, 0 };
 *   int fc_node = osh_graph_add_node (g, fc, &x, 1, 1, &err);
 *   osh_graph_set_io (g, -1, &x, 1, &(OshRef){ fc_node, 0 }, 1, &err);
 *   ...
 *   osh_graph_free (g);
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "osh-error.h"
#include "osh-tensor.h"

typedef struct
{
  int32_t node;  /* index into graph->nodes, -1 for none */
  int32_t index; /* which output of that node */
} OshRef;

typedef struct
{
  char *name; /* as stored ("conv1/kernel:0", "block1/conv/kernel", "vars/0") */
  OshTensor *value;
  bool trainable; /* false for BatchNorm moving statistics and frozen layers */
  /* An integer constant of the graph (an axis, a shape, indices: a TF graph's int32 Const), not
   * a learned value: parameter counts leave it out. */
  bool index;
} OshWeight;

/* What one input of an op holds, for dialects whose ops take weights as inputs in their own
 * order (ONNX's initializers): an activation (a tensor the node is called on), a weight of the
 * layer, or nothing (an absent optional input). */
typedef enum
{
  OSH_SLOT_ABSENT = 0,
  OSH_SLOT_ACTIVATION,
  OSH_SLOT_WEIGHT,
} OshSlotKind;

typedef struct
{
  OshSlotKind kind;
  int index; /* into the node's inputs (activation) or the layer's weights (weight) */
} OshSlot;

typedef struct
{
  char *name;       /* unique among the layers of its owner */
  char *class_name; /* "Conv2D", "Functional", "Sequential", ONNX op type, ... */
  json_t *config;   /* the layer's config object, owned, never NULL */
  int owner;        /* index of the owning model layer, -1 for the top-level model */
  bool trainable;

  OshWeight *weights; /* in file order */
  int n_weights;
  /* The op's inputs in its own order, typed (osh_layer_set_slots); NULL: the node's inputs in
   * order and the weights apart, as a Keras layer takes them. */
  OshSlot *slots;
  int n_slots;

  /* Only for model layers (is_model): the model's own input and output tensors. */
  bool is_model;
  OshRef *inputs;
  int n_inputs;
  OshRef *outputs;
  int n_outputs;
} OshLayer;

typedef struct
{
  int layer;      /* the layer this node calls */
  OshRef *inputs; /* the tensors it is called on, in order */
  int n_inputs;
  int n_outputs;
  OshShape *shapes; /* n_outputs inferred output shapes (osh_graph_infer_shapes); open sizes
                       (Keras None, ONNX symbolic sizes) are -1 */
  json_t *kwargs;   /* call keyword arguments as stored (may be NULL) */
} OshNode;

typedef enum
{
  OSH_LAYOUT_CHANNELS_LAST = 0, /* NHWC: Keras and TF.js */
  OSH_LAYOUT_CHANNELS_FIRST,    /* NCHW: ONNX, Theano-era Keras */
} OshLayout;

typedef struct OshDialect OshDialect; /* osh-dialect.h */

/* g->meta key set by a Keras-family reader: the runtime whose semantics the file was made for
 * when its keras_version does not say (3: a .keras file, OSH_KERAS_RUNTIME_TFJS: a TF.js
 * model.json). Ops whose Keras versions differ read it (osh_op_keras3); writers ignore it. */
#define OSH_META_KERAS_RUNTIME "keras_runtime"
#define OSH_KERAS_RUNTIME_TFJS 100

/* g->meta key: the paths of the layers heads attached (an array of strings). The Keras writers
 * save it as the model config's "offshoot_heads" and the readers read it back, so a saved model
 * still shows its heads (Keras and tfjs ignore the key). */
#define OSH_META_HEADS "offshoot_heads"

/* g->meta key: the model's class names (an array of strings, class index order), saved and read
 * like OSH_META_HEADS (ONNX: metadata_props); the rule that names an output is osh-class-names.h. */
#define OSH_META_CLASS_NAMES "offshoot_class_names"

/* Config key of an InputLayer that stands for a tensor the file reads but nothing produces (not
 * a graph input, a weight or a node output): the graph loads, and the connectivity analysis
 * reports it as a foreign root. */
#define OSH_INPUT_UNPRODUCED "unproduced_tensor"

typedef struct
{
  /* The top-level model. */
  char *name;
  char *class_name; /* "Functional", "Sequential", "Model", "onnx" */
  OshRef *inputs;
  int n_inputs;
  OshRef *outputs;
  int n_outputs;

  OshLayer *layers;
  int n_layers;
  OshNode *nodes;
  int n_nodes;

  OshLayout layout;
  const OshDialect *dialect; /* set by the reader; NULL: Keras (osh-dialect.h) */
  char *format;              /* "keras3", "keras-h5", "tfjs", "onnx", "builder" */
  char *source_path;         /* the file it came from, or NULL */
  json_t *meta; /* format extras kept for round-trips (keras_version, backend, ...); owned */

  int layers_cap, nodes_cap; /* private */
  /* Private: (owner, name) → layer, kept by osh_graph_add_layer and osh_graph_rename_layer
   * (so a layer's name changes only through osh_graph_rename_layer). Read-only in lookups, so
   * readers of one graph may share it across threads. */
  struct OshLayerIndex *layer_index;
} OshGraph;

OshGraph *osh_graph_new (void);
void osh_graph_free (OshGraph *g);
OshGraph *osh_graph_copy (const OshGraph *g, OshError *err); /* deep copy, weights included */
/* A deep copy whose weights are shapes without values (data NULL, as osh_model_load_graph reads
 * them): enough to infer shapes, count parameters and check an edit (the window's head
 * preview), without copying the values (B7: 254 MiB); not to be run or saved. */
OshGraph *osh_graph_copy_structure (const OshGraph *g, OshError *err);
/* A deep copy whose weights read the same values as g's (osh_tensor_share) instead of copies:
 * an edit of a big model costs no copy of its weights, and the versions an undo history keeps
 * share them. The copy may be run, saved and edited like any graph; code that changes a
 * weight's values in place makes that tensor their only reader first (osh_tensor_make_owned),
 * as training does. */
OshGraph *osh_graph_copy_sharing (const OshGraph *g, OshError *err);
/* dst (new, empty) takes src's name, class, format, source path, layout, dialect and meta:
 * every copy of a graph, whole or rebuilt, starts here. */
void osh_graph_copy_header (OshGraph *dst, const OshGraph *src);
/* dst's shapes become copies of src's. */
bool osh_node_copy_shapes (OshNode *dst, const OshNode *src, OshError *err);

/* Adds a layer owned by `owner` (-1 = top level). `config` is stolen (NULL = empty object).
 * Fails on a duplicate name within the same owner. Returns the layer index or -1. */
int osh_graph_add_layer (OshGraph *g, int owner, const char *name, const char *class_name,
                         json_t *config, OshError *err);

/* Gives `layer` a new name (its config is left alone); fails on a name its owner already has. */
bool osh_graph_rename_layer (OshGraph *g, int layer, const char *name, OshError *err);

/* Adds a call of `layer` on `inputs`; references must name existing nodes.
 * Returns the node index or -1. */
int osh_graph_add_node (OshGraph *g, int layer, const OshRef *inputs, int n_inputs, int n_outputs,
                        OshError *err);

/* Sets the inputs and outputs of the model `model_layer` (-1 = the top-level model). */
bool osh_graph_set_io (OshGraph *g, int model_layer, const OshRef *inputs, int n_inputs,
                       const OshRef *outputs, int n_outputs, OshError *err);

/* Appends a weight; `value` is taken over (freed by the graph, also on failure). */
bool osh_layer_add_weight (OshGraph *g, int layer, const char *name, OshTensor *value,
                           bool trainable, OshError *err);

/* Gives `layer` n typed input slots (kinds[i]); each slot's index counts the earlier slots of
 * its kind, so activations and weights are numbered in the order the op takes them. */
bool osh_layer_set_slots (OshGraph *g, int layer, const OshSlotKind *kinds, int n, OshError *err);
/* Gives `layer` of g the slots of `from` (a layer of any graph), or none when it has none. */
bool osh_layer_copy_slots (OshGraph *g, int layer, const OshLayer *from, OshError *err);

/* Layer lookup within one owner, or by a "/"-separated path from the top level. -1 if absent.
 * A hash lookup: big graphs are built and grouped by name. */
int osh_graph_find_layer (const OshGraph *g, int owner, const char *name);
int osh_graph_find_path (const OshGraph *g, const char *path);

/* "outer/inner/layer": a malloc'd string the caller frees. */
char *osh_graph_layer_path (const OshGraph *g, int layer);

/* Nesting depth: 0 for top-level layers. */
int osh_graph_layer_depth (const OshGraph *g, int layer);

/* True when `layer` is `ancestor` or nested (at any depth) inside it. */
bool osh_graph_layer_within (const OshGraph *g, int layer, int ancestor);

/* The first node that calls `layer` (Keras's node 0), or -1. */
int osh_graph_layer_first_node (const OshGraph *g, int layer);

/* Weight sizes summed like Keras counts parameters; a model layer counts its whole sub-tree. */
int64_t osh_graph_layer_params (const OshGraph *g, int layer, int64_t *trainable_out);
int64_t osh_graph_total_params (const OshGraph *g, int64_t *trainable_out);

/* Config accessors that tolerate missing keys (readers normalise Keras 1 names). */
int64_t osh_config_int (const json_t *config, const char *key, int64_t fallback);
double osh_config_double (const json_t *config, const char *key, double fallback);
bool osh_config_bool (const json_t *config, const char *key, bool fallback);
const char *osh_config_string (const json_t *config, const char *key, const char *fallback);
/* Reads an int or a list of ints ("kernel_size": 3 or [3, 3]) into out[n]; false if absent/bad. */
bool osh_config_ints (const json_t *config, const char *key, int64_t *out, int n);
