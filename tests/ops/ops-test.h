/* ops-test.h — building small graphs by hand for the shape and op tests. */
#pragma once

#include <stdarg.h>
#include <string.h>

#include "osh-graph.h"
#include "osh-test.h"

/* Adds a layer of `cls` with a JSON config (NULL = {}) owned by `owner`, and one node calling it
 * on `n` node outputs (node indices, output 0). Returns the node index. */
static inline int
ot_add (OshGraph *g, int owner, const char *name, const char *cls, const char *config, int n, ...)
{
  OshError err = { 0 };
  json_error_t jerr;
  json_t *cfg = config ? json_loads (config, 0, &jerr) : json_object ();
  g_assert_nonnull (cfg);
  int l = osh_graph_add_layer (g, owner, name, cls, cfg, &err);
  g_assert_cmpint (l, >=, 0);
  OshRef refs[16];
  va_list ap;
  va_start (ap, n);
  for (int i = 0; i < n; i++)
    refs[i] = (OshRef){ va_arg (ap, int), 0 };
  va_end (ap);
  int node = osh_graph_add_node (g, l, refs, n, 1, &err);
  g_assert_cmpint (node, >=, 0);
  return node;
}

/* A deterministic value in [-0.82, 0.82] for element i; `salt` makes different arrays differ. */
static inline float
ot_pattern (int64_t i, int64_t salt)
{
  return (float) (((i * 7919 + salt * 104729) % 211) - 105) / 128.0f;
}

/* Adds a weight to the layer of `node`, filled with `fill(i)` = a small deterministic pattern. */
static inline OshTensor *
ot_weight (OshGraph *g, int node, int rank, const int64_t *dims)
{
  OshError err = { 0 };
  OshShape s = osh_shape_make (rank, dims);
  OshTensor *t = osh_tensor_new (&s, &err);
  g_assert_nonnull (t);
  int64_t n = osh_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    t->data[i] = (float) ((i * 7919 % 97) - 48) / 64.0f;
  g_assert_true (osh_layer_add_weight (g, g->nodes[node].layer, "w", t, true, &err));
  return t;
}

static inline void
ot_io (OshGraph *g, int model, int in_node, int out_node)
{
  OshError err = { 0 };
  OshRef i = { in_node, 0 }, o = { out_node, 0 };
  g_assert_true (osh_graph_set_io (g, model, &i, 1, &o, 1, &err));
}

static inline void
ot_assert_shape (const OshGraph *g, int node, const char *expected)
{
  char text[160];
  g_assert_nonnull (g->nodes[node].shapes);
  osh_shape_format (&g->nodes[node].shapes[0], text, sizeof text);
  g_assert_cmpstr (text, ==, expected);
}
