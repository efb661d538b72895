/* osh-heads.h — auxiliary heads: parsed from text, attached at a layer path.
 *
 *   OshHeadSpec spec;
 *   if (!osh_head_parse ("seg:64:2", &spec, &err)) ...   // or "classifier:4", or a chain:
 *   //
 * "conv2d(filters=128,kernel_size=3,padding=same),batchnorm,relu,conv2d(filters=1,kernel_size=1)"
 *   OshGraph *edited = osh_head_attach (g, "efficientnetb7/block5a_expand_conv", &spec,
 *                                       OSH_ATTACH_CONNECTED, &err);   // g is never modified
 *
 * The seed head `seg` is Conv2D(128, 3, same) -> BatchNormalization -> ReLU -> Conv2D(1, 1),
 * named aux_head_conv, aux_head_bn, aux_head_relu, aux_head_out (with _1, _2... when a name
 * is taken; in chains also aux_head_act, aux_head_pool, aux_head_dense; the last is always
 * aux_head_out). `classifier:N` is GlobalAveragePooling2D -> Dense(N, softmax). New layers get full
 * Keras 2 configs and fresh weights (Glorot-uniform kernels from a fixed seed, zero biases,
 * BatchNorm gamma 1, beta 0, mean 0, variance 1); the head's output becomes a new model output.
 * Every layer the model already had is marked frozen (trainable false, as a Keras user freezes a
 * backbone) and the head's layers trainable, so fitting the edited model trains the head only.
 *
 * Each step is made as that Keras layer; a graph whose dialect lowers Keras layers (ONNX:
 * osh-dialect.h, engine/onnx/osh-onnx-lower.c) gets the nodes of its own ops with the same seeded
 * numbers instead. There `path` names a node ("/layer2/layer2.1/relu_1/Relu") or a tensor
 * ("/layer2/layer2.1/relu_1/Relu_output_0"); the head's output is a new graph output.
 *
 * Modes: OSH_ATTACH_KERAS wires the head to the layer's own first call, exactly as the path says
 * (inside a nested model that is the inner tensor: Keras's "Graph disconnected"); the default
 * OSH_ATTACH_CONNECTED first flattens the nested models around the layer into the outer graph.
 */
#pragma once

#include "osh-graph.h"

#define OSH_HEAD_MAX_STEPS 32

typedef enum
{
  OSH_HEAD_CONV2D,
  OSH_HEAD_BATCHNORM,
  OSH_HEAD_RELU,
  OSH_HEAD_ACTIVATION, /* Activation(name) */
  OSH_HEAD_GAP,        /* GlobalAveragePooling2D */
  OSH_HEAD_DENSE,
} OshHeadKind;

typedef struct
{
  OshHeadKind kind;
  int filters;              /* Conv2D filters or Dense units */
  int kernel_size;          /* Conv2D */
  int strides;              /* Conv2D */
  bool same;                /* Conv2D padding */
  bool use_bias;            /* Conv2D, Dense */
  char activation[16];      /* "linear", "relu", "sigmoid", "softmax", "tanh" */
  double epsilon, momentum; /* BatchNormalization */
} OshHeadStep;

typedef struct
{
  OshHeadStep steps[OSH_HEAD_MAX_STEPS];
  int n_steps;
} OshHeadSpec;

typedef enum
{
  OSH_ATTACH_CONNECTED = 0,
  OSH_ATTACH_KERAS,
} OshAttachMode;

/* Parses a head spec; on failure err names the column (1-based) and what was expected. */
bool osh_head_parse (const char *text, OshHeadSpec *spec, OshError *err);

/* A new graph with the head attached at the layer `path` (its first call's first output) and
 * its output appended to the model outputs. Shapes are checked before anything is built; on
 * failure NULL and err names the head layer and the shapes. When `names` is not NULL it
 * receives spec->n_steps malloc'd layer names (the caller frees them). */
OshGraph *osh_head_attach (const OshGraph *g, const char *path, const OshHeadSpec *spec,
                           OshAttachMode mode, char **names, OshError *err);

/* True when `layer` was made by osh_head_attach, in this session or before the model was saved
 * (OSH_META_HEADS). */
bool osh_graph_layer_is_head (const OshGraph *g, int layer);

/* The Keras class name of a step ("Conv2D", ...). */
const char *osh_head_step_class (const OshHeadStep *step);

/* The step's Keras 2 config (all keys, as model.get_config() writes them) for an input of
 * rank `input_rank`; a new reference. */
json_t *osh_head_step_config (const OshHeadStep *step, const char *name, int input_rank);
