/* layout-graphs.h — hand-built graphs for the layout tests and tools/layout-bench.c:
 * a chain, a residual block, a nested model, an EfficientNetB7-shaped graph (~800 layers,
 * 55 blocks with squeeze-excite branches and skips) and a very deep residual net.
 * Shapes are set by hand (NHWC) so labels have something to show. */
#pragma once

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "osh-graph.h"

/* Adds a layer of `owner` called once on `inputs`; the node's output gets `shape`. Returns
 * the node. Aborts (test code) on failure. */
static inline int
lg_add (OshGraph *g, int owner, const char *name, const char *cls, const int *inputs, int n,
        int64_t h, int64_t w, int64_t c)
{
  OshError err = { 0 };
  int layer = osh_graph_add_layer (g, owner, name, cls, NULL, &err);
  OshRef refs[8];
  for (int i = 0; i < n && i < 8; i++)
    refs[i] = (OshRef){ inputs[i], 0 };
  int node = layer >= 0 ? osh_graph_add_node (g, layer, refs, n, 1, &err) : -1;
  if (node < 0)
    {
      fprintf (stderr, "layout-graphs: %s\n", err.message);
      abort ();
    }
  g->nodes[node].shapes = calloc (1, sizeof (OshShape));
  g->nodes[node].shapes[0] = h > 0 ? osh_shape_make (4, (int64_t[]){ -1, h, w, c })
                                   : osh_shape_make (2, (int64_t[]){ -1, c });
  return node;
}

static inline int
lg_add1 (OshGraph *g, int owner, const char *name, const char *cls, int input, int64_t h, int64_t w,
         int64_t c)
{
  return lg_add (g, owner, name, cls, input >= 0 ? &input : NULL, input >= 0 ? 1 : 0, h, w, c);
}

static inline void
lg_io (OshGraph *g, int model, int in, int out)
{
  OshRef i = { in, 0 }, o = { out, 0 };
  osh_graph_set_io (g, model, &i, 1, &o, 1, NULL);
}

/* input → conv_1 → ... → conv_{n-2} → dense */
static inline OshGraph *
lg_chain (int n)
{
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input_1", "InputLayer", -1, 32, 32, 3);
  int x = in;
  for (int i = 1; i < n - 1; i++)
    {
      char name[32];
      g_snprintf (name, sizeof name, "conv_%d", i);
      x = lg_add1 (g, -1, name, "Conv2D", x, 32, 32, 8);
    }
  x = lg_add1 (g, -1, "dense", "Dense", x, 0, 0, 10);
  lg_io (g, -1, in, x);
  return g;
}

/* One residual block: input → conv_a → bn → relu → conv_b → add(input-side, conv_b) → out */
static inline OshGraph *
lg_residual (void)
{
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input_1", "InputLayer", -1, 16, 16, 8);
  int stem = lg_add1 (g, -1, "stem_conv", "Conv2D", in, 16, 16, 8);
  int a = lg_add1 (g, -1, "block1_conv_a", "Conv2D", stem, 16, 16, 8);
  int bn = lg_add1 (g, -1, "block1_bn", "BatchNormalization", a, 16, 16, 8);
  int relu = lg_add1 (g, -1, "block1_relu", "ReLU", bn, 16, 16, 8);
  int b = lg_add1 (g, -1, "block1_conv_b", "Conv2D", relu, 16, 16, 8);
  int add = lg_add (g, -1, "block1_add", "Add", (int[]){ stem, b }, 2, 16, 16, 8);
  int pool = lg_add1 (g, -1, "pool", "GlobalAveragePooling2D", add, 0, 0, 8);
  int out = lg_add1 (g, -1, "predictions", "Dense", pool, 0, 0, 10);
  lg_io (g, -1, in, out);
  return g;
}

/* input_1 → backbone (nested: input_2 → conv → bn) → dense; plus a skip from input_1 into
 * a concatenate after the backbone so a collapsed backbone keeps an edge past it. */
static inline OshGraph *
lg_nested (void)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input_1", "InputLayer", -1, 8, 8, 3);
  int bb = osh_graph_add_layer (g, -1, "backbone", "Functional", NULL, &err);
  int bin = lg_add1 (g, bb, "input_2", "InputLayer", -1, 8, 8, 3);
  int conv = lg_add1 (g, bb, "conv", "Conv2D", bin, 8, 8, 4);
  int bn = lg_add1 (g, bb, "bn", "BatchNormalization", conv, 8, 8, 4);
  lg_io (g, bb, bin, bn);
  OshRef call_in = { in, 0 };
  int call = osh_graph_add_node (g, bb, &call_in, 1, 1, &err);
  g->nodes[call].shapes = calloc (1, sizeof (OshShape));
  g->nodes[call].shapes[0] = osh_shape_make (4, (int64_t[]){ -1, 8, 8, 4 });
  int cat = lg_add (g, -1, "concat", "Concatenate", (int[]){ call, in }, 2, 8, 8, 7);
  int out = lg_add1 (g, -1, "dense", "Dense", cat, 0, 0, 2);
  lg_io (g, -1, in, out);
  return g;
}

/* EfficientNetB7-shaped: stem, 55 MBConv blocks in 7 stages (block1a ... block7d) with
 * squeeze-excite and residual adds, top. About 800 layers. When `owner_name` is set the
 * whole network is a nested model of that name under an input and a small head. */
static inline OshGraph *
lg_efficientnet (const char *owner_name)
{
  OshError err = { 0 };
  OshGraph *g = osh_graph_new ();
  int outer_in = -1, owner = -1;
  if (owner_name)
    {
      outer_in = lg_add1 (g, -1, "image", "InputLayer", -1, 600, 600, 3);
      owner = osh_graph_add_layer (g, -1, owner_name, "Functional", NULL, &err);
    }
  static const int repeats[7] = { 4, 7, 7, 10, 10, 13, 4 };
  static const int channels[7] = { 32, 48, 80, 160, 224, 384, 640 };
  static const int sizes[7] = { 300, 150, 75, 38, 38, 19, 19 };
  int in = lg_add1 (g, owner, "input_1", "InputLayer", -1, 600, 600, 3);
  int x = lg_add1 (g, owner, "rescaling", "Rescaling", in, 600, 600, 3);
  x = lg_add1 (g, owner, "normalization", "Normalization", x, 600, 600, 3);
  x = lg_add1 (g, owner, "stem_conv_pad", "ZeroPadding2D", x, 601, 601, 3);
  x = lg_add1 (g, owner, "stem_conv", "Conv2D", x, 300, 300, 64);
  x = lg_add1 (g, owner, "stem_bn", "BatchNormalization", x, 300, 300, 64);
  x = lg_add1 (g, owner, "stem_activation", "Activation", x, 300, 300, 64);
  for (int s = 0; s < 7; s++)
    for (int r = 0; r < repeats[s]; r++)
      {
        char p[32], n[64];
        g_snprintf (p, sizeof p, "block%d%c_", s + 1, 'a' + r);
        int64_t hw = sizes[s], c = channels[s], e = c * 6;
#define LG(suffix, cls, input, ch)                                                                 \
  (g_snprintf (n, sizeof n, "%s%s", p, suffix), lg_add1 (g, owner, n, cls, input, hw, hw, ch))
        int skip = x;
        int y = x;
        if (!(s == 0))
          {
            y = LG ("expand_conv", "Conv2D", y, e);
            y = LG ("expand_bn", "BatchNormalization", y, e);
            y = LG ("expand_activation", "Activation", y, e);
          }
        y = LG ("dwconv", "DepthwiseConv2D", y, e);
        y = LG ("bn", "BatchNormalization", y, e);
        y = LG ("activation", "Activation", y, e);
        int se = y;
        g_snprintf (n, sizeof n, "%sse_squeeze", p);
        int sq = lg_add1 (g, owner, n, "GlobalAveragePooling2D", se, 0, 0, e);
        sq = LG ("se_reshape", "Reshape", sq, e);
        sq = LG ("se_reduce", "Conv2D", sq, c / 4);
        sq = LG ("se_expand", "Conv2D", sq, e);
        g_snprintf (n, sizeof n, "%sse_excite", p);
        y = lg_add (g, owner, n, "Multiply", (int[]){ se, sq }, 2, hw, hw, e);
        y = LG ("project_conv", "Conv2D", y, c);
        y = LG ("project_bn", "BatchNormalization", y, c);
        if (r > 0)
          {
            y = LG ("drop", "Dropout", y, c);
            g_snprintf (n, sizeof n, "%sadd", p);
            y = lg_add (g, owner, n, "Add", (int[]){ y, skip }, 2, hw, hw, c);
          }
#undef LG
        x = y;
      }
  x = lg_add1 (g, owner, "top_conv", "Conv2D", x, 19, 19, 2560);
  x = lg_add1 (g, owner, "top_bn", "BatchNormalization", x, 19, 19, 2560);
  x = lg_add1 (g, owner, "top_activation", "Activation", x, 19, 19, 2560);
  x = lg_add1 (g, owner, "avg_pool", "GlobalAveragePooling2D", x, 0, 0, 2560);
  x = lg_add1 (g, owner, "top_dropout", "Dropout", x, 0, 0, 2560);
  x = lg_add1 (g, owner, "predictions", "Dense", x, 0, 0, 1000);
  lg_io (g, owner, in, x);
  if (owner_name)
    {
      OshRef r = { outer_in, 0 };
      int call = osh_graph_add_node (g, owner, &r, 1, 1, &err);
      g->nodes[call].shapes = calloc (1, sizeof (OshShape));
      g->nodes[call].shapes[0] = osh_shape_make (2, (int64_t[]){ -1, 1000 });
      int head = lg_add1 (g, -1, "head", "Dense", call, 0, 0, 7);
      lg_io (g, -1, outer_in, head);
    }
  return g;
}

/* A very deep residual net: blocks conv{stage}_block{k}_{conv,bn,relu,add}, `n_layers` layers. */
static inline OshGraph *
lg_deep (int n_layers)
{
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input_1", "InputLayer", -1, 64, 64, 16);
  int x = lg_add1 (g, -1, "stem_conv", "Conv2D", in, 64, 64, 16);
  int blocks = (n_layers - 4) / 4;
  for (int k = 0; k < blocks; k++)
    {
      char n[64];
      int stage = 2 + k / 100;
      g_snprintf (n, sizeof n, "conv%d_block%d_conv", stage, k % 100 + 1);
      int y = lg_add1 (g, -1, n, "Conv2D", x, 64, 64, 16);
      g_snprintf (n, sizeof n, "conv%d_block%d_bn", stage, k % 100 + 1);
      y = lg_add1 (g, -1, n, "BatchNormalization", y, 64, 64, 16);
      g_snprintf (n, sizeof n, "conv%d_block%d_relu", stage, k % 100 + 1);
      y = lg_add1 (g, -1, n, "ReLU", y, 64, 64, 16);
      g_snprintf (n, sizeof n, "conv%d_block%d_add", stage, k % 100 + 1);
      x = lg_add (g, -1, n, "Add", (int[]){ x, y }, 2, 64, 64, 16);
    }
  x = lg_add1 (g, -1, "pool", "GlobalAveragePooling2D", x, 0, 0, 16);
  x = lg_add1 (g, -1, "predictions", "Dense", x, 0, 0, 10);
  lg_io (g, -1, in, x);
  return g;
}
