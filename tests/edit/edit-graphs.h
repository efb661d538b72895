/* edit-graphs.h — small graphs built with the IR builder for the edit tests:
 * the seed scenario (a backbone nested in an outer classifier), two backbone
 * instances, a dangling branch and a cycle. Every node gets its real shape. */
#pragma once

#include <string.h>

#include "osh-graph.h"
#include "osh-test.h"

static inline json_t *
eg_input_config (const char *name, int h, int w, int c)
{
  return json_pack ("{s:s, s:[n,i,i,i], s:s, s:b}", "name", name, "batch_input_shape", h, w, c,
                    "dtype", "float32", "sparse", 0);
}

/* Adds a one-output node and gives it the shape (None, h, w, c), or (None, c) when h == 0. */
static inline int
eg_node (OshGraph *g, int layer, const OshRef *in, int n_in, int h, int w, int c)
{
  OshError err = { 0 };
  int n = osh_graph_add_node (g, layer, in, n_in, 1, &err);
  g_assert_cmpint (n, >=, 0);
  g->nodes[n].shapes = calloc (1, sizeof (OshShape));
  g->nodes[n].shapes[0] =
      h ? osh_shape_make (4, (int64_t[]){ -1, h, w, c }) : osh_shape_make (2, (int64_t[]){ -1, c });
  return n;
}

static inline int
eg_layer (OshGraph *g, int owner, const char *name, const char *class_name)
{
  OshError err = { 0 };
  int l = osh_graph_add_layer (g, owner, name, class_name, NULL, &err);
  g_assert_cmpint (l, >=, 0);
  return l;
}

/* Adds a 1x1 Conv2D (no bias) with the given stride and calls it on `x`. */
static inline int
eg_conv (OshGraph *g, int owner, const char *name, OshRef x, int stride, int cout)
{
  OshError err = { 0 };
  OshShape in = g->nodes[x.node].shapes[x.index];
  int l = osh_graph_add_layer (g, owner, name, "Conv2D",
                               json_pack ("{s:s, s:i, s:[i,i], s:[i,i], s:s, s:b, s:s}", "name",
                                          name, "filters", cout, "kernel_size", 1, 1, "strides",
                                          stride, stride, "padding", "same", "use_bias", 0,
                                          "activation", "linear"),
                               &err);
  g_assert_cmpint (l, >=, 0);
  OshShape ks = osh_shape_make (4, (int64_t[]){ 1, 1, in.dim[3], cout });
  g_assert_true (osh_layer_add_weight (g, l, "kernel", osh_tensor_new (&ks, &err), true, &err));
  int h = (int) (in.dim[1] + stride - 1) / stride, w = (int) (in.dim[2] + stride - 1) / stride;
  return eg_node (g, l, &x, 1, h, w, cout);
}

/* A backbone model owned by `owner`: input -> stem_conv -> block5a_expand_conv -> top_conv.
 * Returns the model layer; *inner_conv is the block5a_expand_conv node. */
static inline int
eg_backbone (OshGraph *g, int owner, const char *model_name, const char *input_name,
             int *inner_conv)
{
  OshError err = { 0 };
  int m = eg_layer (g, owner, model_name, "Functional");
  int in = osh_graph_add_layer (g, m, input_name, "InputLayer",
                                eg_input_config (input_name, 32, 32, 3), &err);
  int in_node = eg_node (g, in, NULL, 0, 32, 32, 3);
  int stem = eg_conv (g, m, "stem_conv", (OshRef){ in_node, 0 }, 2, 8);
  int b5 = eg_conv (g, m, "block5a_expand_conv", (OshRef){ stem, 0 }, 2, 16);
  int top = eg_conv (g, m, "top_conv", (OshRef){ b5, 0 }, 2, 32);
  g_assert_true (osh_graph_set_io (g, m, &(OshRef){ in_node, 0 }, 1, &(OshRef){ top, 0 }, 1, &err));
  if (inner_conv)
    *inner_conv = b5;
  return m;
}

/* input_1 -> efficientnet (nested backbone) -> gap -> dense: a connected classifier.
 * *call is the node calling the backbone, *b5 its inner block5a_expand_conv node. */
static inline OshGraph *
eg_seed (int *call, int *b5)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  g->name = strdup ("outer");
  int in = osh_graph_add_layer (g, -1, "input_1", "InputLayer",
                                eg_input_config ("input_1", 32, 32, 3), &err);
  int in_node = eg_node (g, in, NULL, 0, 32, 32, 3);
  int m = eg_backbone (g, -1, "efficientnet", "input_2", b5);
  int c = eg_node (g, m, &(OshRef){ in_node, 0 }, 1, 4, 4, 32);
  int gap = eg_node (g, eg_layer (g, -1, "gap", "GlobalAveragePooling2D"), &(OshRef){ c, 0 }, 1, 0,
                     0, 32);
  int dense_layer =
      osh_graph_add_layer (g, -1, "dense", "Dense",
                           json_pack ("{s:s, s:i, s:b, s:s}", "name", "dense", "units", 10,
                                      "use_bias", 0, "activation", "softmax"),
                           &err);
  OshShape ds = osh_shape_make (2, (int64_t[]){ 32, 10 });
  g_assert_true (
      osh_layer_add_weight (g, dense_layer, "kernel", osh_tensor_new (&ds, &err), true, &err));
  int dense = eg_node (g, dense_layer, &(OshRef){ gap, 0 }, 1, 0, 0, 10);
  g_assert_true (
      osh_graph_set_io (g, -1, &(OshRef){ in_node, 0 }, 1, &(OshRef){ dense, 0 }, 1, &err));
  if (call)
    *call = c;
  return g;
}

/* Appends a top-level layer reading `x` and makes it a new model output; returns its node. */
static inline int
eg_add_output (OshGraph *g, const char *name, OshRef x)
{
  OshError err = { 0 };
  int n = eg_conv (g, -1, name, x, 1, 1);
  OshRef *outs = malloc ((size_t) (g->n_outputs + 1) * sizeof *outs);
  memcpy (outs, g->outputs, (size_t) g->n_outputs * sizeof *outs);
  outs[g->n_outputs] = (OshRef){ n, 0 };
  g_assert_true (osh_graph_set_io (g, -1, g->inputs, g->n_inputs, outs, g->n_outputs + 1, &err));
  free (outs);
  return n;
}
