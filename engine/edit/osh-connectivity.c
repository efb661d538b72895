/* Connectivity analysis: computability of every output, foreign roots, bridges, unused
 * layers, cycles, and Keras 2's own "Graph disconnected" message for the first failure.
 *
 * Over 700 lines because Keras's message needs Keras's own walk (its depth map and visiting
 * order) beside Offshoot's analysis; both read the same marks, so they stay together. */
#include "osh-connectivity.h"

#include <stdlib.h>
#include <string.h>

#include "osh-fixes.h"
#include "osh-op.h"
#include "osh-strbuf.h"

enum
{
  WHITE = 0,
  GREY,
  BLACK
};

static bool
is_input_layer (const OshGraph *g, int node)
{
  return strcmp (g->layers[g->nodes[node].layer].class_name, "InputLayer") == 0;
}

static bool
is_declared_input (const OshGraph *g, OshRef r)
{
  for (int i = 0; i < g->n_inputs; i++)
    if (g->inputs[i].node == r.node && g->inputs[i].index == r.index)
      return true;
  return false;
}

/* Appends to a growable int array; false when out of memory. */
static bool
push_int (int **items, int *n, int value)
{
  if ((*n & (*n - 1)) == 0) /* grow at powers of two */
    {
      int *p = realloc (*items, (size_t) (*n ? *n * 2 : 1) * sizeof **items);
      if (!p)
        return false;
      *items = p;
    }
  (*items)[(*n)++] = value;
  return true;
}

static bool
contains_int (const int *items, int n, int value)
{
  for (int i = 0; i < n; i++)
    if (items[i] == value)
      return true;
  return false;
}

char *
osh_connectivity_output_name (const OshGraph *g, int i)
{
  return osh_graph_layer_path (g, g->nodes[g->outputs[i].node].layer);
}

char *
osh_connectivity_instance_path (const OshGraph *g, int layer)
{
  int owner = g->layers[layer].owner;
  return owner < 0 ? strdup ("") : osh_graph_layer_path (g, owner);
}

/* The shape Keras would print for a tensor: the inferred one, else the InputLayer's config. */
static void
tensor_shape_text (const OshGraph *g, OshRef t, char *buf, size_t size)
{
  const OshNode *n = &g->nodes[t.node];
  if (n->shapes && n->shapes[t.index].rank > 0)
    {
      osh_shape_format (&n->shapes[t.index], buf, size);
      return;
    }
  const json_t *config = g->layers[n->layer].config;
  json_t *dims = json_object_get (config, "batch_input_shape");
  if (!dims)
    dims = json_object_get (config, "batch_shape");
  if (json_is_array (dims) && json_array_size (dims) > 0 && json_array_size (dims) <= OSH_MAX_RANK)
    {
      OshShape s = { .rank = (int) json_array_size (dims) };
      for (int i = 0; i < s.rank; i++)
        {
          json_t *d = json_array_get (dims, (size_t) i);
          s.dim[i] = json_is_integer (d) ? json_integer_value (d) : -1;
        }
      osh_shape_format (&s, buf, size);
      return;
    }
  snprintf (buf, size, "<unknown>");
}

char *
osh_keras_tensor_repr (const OshGraph *g, OshRef t)
{
  const char *layer = g->layers[g->nodes[t.node].layer].name;
  char shape[256];
  tensor_shape_text (g, t, shape, sizeof shape);
  OshStrbuf b = { 0 };
  if (is_input_layer (g, t.node))
    osh_strbuf_printf (&b,
                       "KerasTensor(type_spec=TensorSpec(shape=%s, dtype=tf.float32, name='%s'), "
                       "name='%s', description=\"created by layer '%s'\")",
                       shape, layer, layer, layer);
  else
    osh_strbuf_printf (&b,
                       "KerasTensor(type_spec=TensorSpec(shape=%s, dtype=tf.float32, name=None), "
                       "name='%s/%d', description=\"created by layer '%s'\")",
                       shape, layer, t.index, layer);
  return osh_strbuf_steal (&b);
}

/* ---- Keras 2's _map_graph_network, to reproduce its message word for word ---- */

typedef struct
{
  const OshGraph *g;
  int *order; /* nodes in the order Keras's nodes_depths dict receives them */
  int n_order;
  int *node_depth; /* -1 = not in the dict */
  int *layer_depth;
} KerasDepths;

static bool
depth_insert (KerasDepths *d, int node, int depth)
{
  if (d->node_depth[node] < 0)
    {
      d->node_depth[node] = depth;
      return push_int (&d->order, &d->n_order, node);
    }
  if (depth > d->node_depth[node])
    d->node_depth[node] = depth;
  return true;
}

/* Keras's build_map: post-order DFS from the outputs, not stopping at declared inputs.
 * Returns the finished nodes in order; on a cycle sets *cycle_ref to the repeated tensor. */
static int *
keras_build_map (const OshGraph *g, int *n_out, OshRef *cycle_ref, int *cycle_layer_node)
{
  unsigned char *state = calloc ((size_t) g->n_nodes + 1, 1);
  int *stack = malloc (((size_t) g->n_nodes + 1) * sizeof *stack);
  int *next = calloc ((size_t) g->n_nodes + 1, sizeof *next);
  int *done = malloc (((size_t) g->n_nodes + 1) * sizeof *done);
  int n_done = 0;
  cycle_ref->node = -1;
  if (!state || !stack || !next || !done)
    goto fail;
  for (int o = 0; o < g->n_outputs && cycle_ref->node < 0; o++)
    {
      int root = g->outputs[o].node;
      if (state[root] == BLACK)
        continue;
      int top = 0;
      stack[top++] = root;
      state[root] = GREY;
      while (top > 0 && cycle_ref->node < 0)
        {
          int n = stack[top - 1];
          const OshNode *node = &g->nodes[n];
          int k = next[n]++;
          if (!is_input_layer (g, n) && k < node->n_inputs)
            {
              int p = node->inputs[k].node;
              if (state[p] == GREY)
                {
                  *cycle_ref = node->inputs[k];
                  *cycle_layer_node = p;
                }
              else if (state[p] == WHITE)
                {
                  state[p] = GREY;
                  stack[top++] = p;
                }
              continue;
            }
          state[n] = BLACK;
          done[n_done++] = n;
          top--;
        }
    }
  free (state);
  free (stack);
  free (next);
  *n_out = n_done;
  return done;
fail:
  free (state);
  free (stack);
  free (next);
  free (done);
  return NULL;
}

bool
osh_connectivity_is_missing_tensor (const OshGraph *g, int node)
{
  const OshLayer *l = &g->layers[g->nodes[node].layer];
  return strcmp (l->class_name, "InputLayer") == 0
         && osh_config_bool (l->config, OSH_INPUT_UNPRODUCED, false);
}

/* OSH_WORDING_NODE_INPUT (ONNX): the first node (in file order) that reads a foreign root. */
static bool
node_input_message (const OshGraph *g, const OshConnectivity *c, char **out)
{
  *out = NULL;
  for (int n = 0; n < g->n_nodes && !*out; n++)
    for (int i = 0; i < g->nodes[n].n_inputs && !*out; i++)
      {
        int root = g->nodes[n].inputs[i].node;
        if (!(c->node_flags[root] & OSH_CONN_FOREIGN_ROOT))
          continue;
        const OshLayer *l = &g->layers[g->nodes[n].layer];
        OshStrbuf b = { 0 };
        osh_strbuf_printf (&b, "Graph disconnected: node '%s' (%s) reads tensor '%s', ", l->name,
                           l->class_name, g->layers[g->nodes[root].layer].name);
        osh_strbuf_printf (&b, osh_connectivity_is_missing_tensor (g, root)
                                   ? "which no node of this graph produces and which is not a "
                                     "graph input or an initializer."
                                   : "an input layer that is not among the graph's inputs.");
        if (!(*out = osh_strbuf_steal (&b)))
          return false;
      }
  return true;
}

/* Builds Keras 2's message for the first failure, or NULL (in *out) when Keras would accept. */
static bool
keras_message (const OshGraph *g, char **out)
{
  *out = NULL;
  int n_done = 0, cycle_consumer = -1;
  OshRef cycle_ref;
  int *done = keras_build_map (g, &n_done, &cycle_ref, &cycle_consumer);
  if (!done)
    return false;
  OshStrbuf b = { 0 };
  if (cycle_ref.node >= 0)
    {
      char *repr = osh_keras_tensor_repr (g, cycle_ref);
      osh_strbuf_printf (&b, "The tensor %s at layer \"%s\" is part of a cycle.", repr ? repr : "?",
                         g->layers[g->nodes[cycle_consumer].layer].name);
      free (repr);
      free (done);
      *out = osh_strbuf_steal (&b);
      return *out != NULL;
    }

  KerasDepths d = { .g = g };
  d.node_depth = malloc (((size_t) g->n_nodes + 1) * sizeof *d.node_depth);
  d.layer_depth = malloc (((size_t) g->n_layers + 1) * sizeof *d.layer_depth);
  bool *computable = NULL;
  int *names = NULL, n_names = 0;
  bool ok = d.node_depth && d.layer_depth;
  if (ok)
    {
      memset (d.node_depth, 0xff, ((size_t) g->n_nodes + 1) * sizeof *d.node_depth);
      memset (d.layer_depth, 0xff, ((size_t) g->n_layers + 1) * sizeof *d.layer_depth);
    }
  for (int i = n_done - 1; ok && i >= 0; i--)
    {
      int n = done[i];
      ok = depth_insert (&d, n, 0);
      int depth = d.node_depth[n];
      int layer = g->nodes[n].layer;
      if (d.layer_depth[layer] > depth)
        depth = d.layer_depth[layer];
      d.layer_depth[layer] = depth;
      d.node_depth[n] = depth;
      if (!is_input_layer (g, n))
        for (int k = 0; ok && k < g->nodes[n].n_inputs; k++)
          ok = depth_insert (&d, g->nodes[n].inputs[k].node, depth + 1);
    }
  /* Declared inputs that no output reaches still get depth 0. */
  for (int i = 0; ok && i < g->n_inputs; i++)
    if (d.layer_depth[g->nodes[g->inputs[i].node].layer] < 0)
      {
        d.layer_depth[g->nodes[g->inputs[i].node].layer] = 0;
        ok = depth_insert (&d, g->inputs[i].node, 0);
      }

  int max_depth = 0;
  for (int i = 0; ok && i < d.n_order; i++)
    if (d.node_depth[d.order[i]] > max_depth)
      max_depth = d.node_depth[d.order[i]];
  /* Keras visits depth by depth, deepest first, each depth in dict insertion order: a stable
   * bucket sort of `order` by descending depth. */
  int *start = ok ? calloc ((size_t) max_depth + 2, sizeof *start) : NULL;
  int *sorted = ok ? malloc (((size_t) d.n_order + 1) * sizeof *sorted) : NULL;
  ok = ok && start && sorted;
  for (int i = 0; ok && i < d.n_order; i++)
    start[max_depth - d.node_depth[d.order[i]] + 1]++;
  for (int k = 1; ok && k <= max_depth + 1; k++)
    start[k] += start[k - 1];
  for (int i = 0; ok && i < d.n_order; i++)
    sorted[start[max_depth - d.node_depth[d.order[i]]]++] = d.order[i];
  /* Computable tensors, as node flags: a node's outputs all become computable together. */
  computable = ok ? calloc ((size_t) g->n_nodes + 1, sizeof *computable) : NULL;
  ok = ok && computable;
  bool failed = false;
  for (int i = 0; ok && !failed && i < d.n_order; i++)
    {
      int n = sorted[i];
      if (is_input_layer (g, n))
        continue;
      const OshNode *node = &g->nodes[n];
      for (int k = 0; k < node->n_inputs; k++)
        {
          OshRef x = node->inputs[k];
          if (computable[x.node] || is_declared_input (g, x))
            continue;
          char *repr = osh_keras_tensor_repr (g, x);
          osh_strbuf_printf (
              &b,
              "Graph disconnected: cannot obtain value for tensor %s at layer \"%s\". "
              "The following previous layers were accessed without issue: [",
              repr ? repr : "?", g->layers[node->layer].name);
          free (repr);
          for (int j = 0; j < n_names; j++)
            osh_strbuf_printf (&b, "%s'%s'", j ? ", " : "", g->layers[names[j]].name);
          osh_strbuf_printf (&b, "]");
          failed = true;
          break;
        }
      if (!failed)
        {
          computable[n] = true;
          ok = push_int (&names, &n_names, node->layer);
        }
    }
  if (ok && failed)
    ok = (*out = osh_strbuf_steal (&b)) != NULL;
  osh_strbuf_clear (&b);
  free (start);
  free (sorted);
  free (computable);
  free (names);
  free (d.order);
  free (d.node_depth);
  free (d.layer_depth);
  free (done);
  return ok;
}

/* ---- Offshoot's own analysis ---- */

typedef struct
{
  const OshGraph *g;
  OshConnectivity *c;
  unsigned char *state;
  bool *comp; /* node computable (valid once BLACK) */
} Walk;

static bool
tensor_ok (const Walk *w, OshRef r)
{
  return is_declared_input (w->g, r) || (w->state[r.node] == BLACK && w->comp[r.node]);
}

/* Post-order DFS from `root` deciding computability; a grey producer is a cycle. */
static bool
walk_computable (Walk *w, int root, int *stack, int *next)
{
  const OshGraph *g = w->g;
  if (w->state[root] != WHITE)
    return true;
  int top = 0;
  stack[top++] = root;
  w->state[root] = GREY;
  while (top > 0)
    {
      int n = stack[top - 1];
      const OshNode *node = &g->nodes[n];
      int k = next[n]++;
      if (k < node->n_inputs)
        {
          OshRef r = node->inputs[k];
          if (is_declared_input (g, r))
            continue;
          if (w->state[r.node] == GREY)
            {
              /* Everything on the stack from the producer up is on the cycle. */
              int from = top - 1;
              while (from > 0 && stack[from] != r.node)
                from--;
              for (int s = from; s < top; s++)
                if (!(w->c->node_flags[stack[s]] & OSH_CONN_CYCLE))
                  {
                    w->c->node_flags[stack[s]] |= OSH_CONN_CYCLE;
                    if (!push_int (&w->c->cycle_nodes, &w->c->n_cycle_nodes, stack[s]))
                      return false;
                  }
            }
          else if (w->state[r.node] == WHITE)
            {
              w->state[r.node] = GREY;
              stack[top++] = r.node;
            }
          continue;
        }
      bool ok = !is_input_layer (g, n) && !(w->c->node_flags[n] & OSH_CONN_CYCLE);
      for (int i = 0; ok && i < node->n_inputs; i++)
        ok = tensor_ok (w, node->inputs[i]);
      w->comp[n] = ok;
      if (ok)
        w->c->node_flags[n] |= OSH_CONN_COMPUTABLE;
      w->state[n] = BLACK;
      top--;
    }
  return true;
}

static bool
add_bridge (OshConnectivity *c, int from, int to, int output)
{
  for (int i = 0; i < c->n_bridges; i++)
    if (c->bridges[i].from_node == from && c->bridges[i].to_node == to)
      return true;
  OshBridge *p = realloc (c->bridges, (size_t) (c->n_bridges + 1) * sizeof *p);
  if (!p)
    return false;
  c->bridges = p;
  c->bridges[c->n_bridges++] = (OshBridge){ from, to, output };
  c->node_flags[from] |= OSH_CONN_BRIDGE;
  if (to >= 0)
    c->node_flags[to] |= OSH_CONN_BRIDGE;
  return true;
}

/* True when the edge producer -> consumer leaves the producer's model, or joins computable
 * tensors (the consumer also reads something the inputs give). */
static bool
is_bridge (const Walk *w, int producer, int consumer)
{
  const OshGraph *g = w->g;
  int owner = g->layers[g->nodes[producer].layer].owner;
  if (owner >= 0 && !osh_graph_layer_within (g, g->nodes[consumer].layer, owner))
    return true;
  const OshNode *c = &g->nodes[consumer];
  for (int i = 0; i < c->n_inputs; i++)
    if (tensor_ok (w, c->inputs[i]))
      return true;
  return false;
}

/* Marks the disconnected region behind output `o`: foreign roots and bridges. */
static bool
mark_disconnected (Walk *w, int o, int *stack, bool *seen)
{
  const OshGraph *g = w->g;
  OshConnectivity *c = w->c;
  OshRef out = g->outputs[o];
  if (g->layers[g->nodes[out.node].layer].owner >= 0 && !add_bridge (c, out.node, -1, o))
    return false;
  memset (seen, 0, (size_t) g->n_nodes * sizeof *seen);
  int top = 0;
  stack[top++] = out.node;
  seen[out.node] = true;
  while (top > 0)
    {
      int n = stack[--top];
      c->node_flags[n] |= OSH_CONN_DISCONNECTED;
      if (is_input_layer (g, n))
        {
          c->node_flags[n] |= OSH_CONN_FOREIGN_ROOT;
          if (!contains_int (c->foreign_roots, c->n_foreign_roots, n)
              && !push_int (&c->foreign_roots, &c->n_foreign_roots, n))
            return false;
          continue;
        }
      const OshNode *node = &g->nodes[n];
      for (int i = 0; i < node->n_inputs; i++)
        {
          OshRef r = node->inputs[i];
          if (tensor_ok (w, r))
            continue;
          if (is_bridge (w, r.node, n) && !add_bridge (c, r.node, n, o))
            return false;
          if (!seen[r.node])
            {
              seen[r.node] = true;
              stack[top++] = r.node;
            }
        }
    }
  return true;
}

bool
osh_graph_mark_used (const OshGraph *g, const OshRef *outputs, int n_outputs, bool *used)
{
  int *stack = malloc (((size_t) g->n_nodes + 1) * sizeof *stack);
  if (!stack)
    return false;
  int top = 0;
  for (int o = 0; o < n_outputs; o++)
    if (!used[outputs[o].node])
      {
        used[outputs[o].node] = true;
        stack[top++] = outputs[o].node;
      }
  while (top > 0)
    {
      int n = stack[--top];
      const OshNode *node = &g->nodes[n];
      const OshLayer *l = &g->layers[node->layer];
      int n_more = l->is_model ? l->n_outputs : 0;
      for (int i = 0; i < node->n_inputs + n_more; i++)
        {
          OshRef r = i < node->n_inputs ? node->inputs[i] : l->outputs[i - node->n_inputs];
          if (i < node->n_inputs && is_declared_input (g, r))
            {
              used[r.node] = true;
              continue;
            }
          if (!used[r.node])
            {
              used[r.node] = true;
              stack[top++] = r.node;
            }
        }
    }
  free (stack);
  return true;
}

static bool
find_unused (const OshGraph *g, OshConnectivity *c)
{
  bool *used = calloc ((size_t) g->n_nodes + 1, sizeof *used);
  bool *layer_used = calloc ((size_t) g->n_layers + 1, sizeof *layer_used);
  bool ok = used && layer_used && osh_graph_mark_used (g, g->outputs, g->n_outputs, used);
  for (int n = 0; ok && n < g->n_nodes; n++)
    {
      if (used[n])
        layer_used[g->nodes[n].layer] = true;
      else
        c->node_flags[n] |= OSH_CONN_UNUSED;
    }
  /* A nested model is used when one of its calls is; list the top-most unused layer only. */
  for (int l = 0; ok && l < g->n_layers; l++)
    if (!layer_used[l])
      {
        c->layer_flags[l] |= OSH_CONN_UNUSED;
        int owner = g->layers[l].owner;
        if ((owner < 0 || layer_used[owner])
            && !push_int (&c->unused_layers, &c->n_unused_layers, l))
          ok = false;
      }
  free (used);
  free (layer_used);
  return ok;
}

/* Marks in `reached` the nodes behind output `o` that cannot be computed (from the flags). */
static void
reach_disconnected (const OshGraph *g, const OshConnectivity *c, int o, bool *reached, int *stack)
{
  memset (reached, 0, (size_t) g->n_nodes * sizeof *reached);
  int top = 0;
  stack[top++] = g->outputs[o].node;
  reached[g->outputs[o].node] = true;
  while (top > 0)
    {
      const OshNode *node = &g->nodes[stack[--top]];
      for (int i = 0; i < node->n_inputs; i++)
        {
          OshRef r = node->inputs[i];
          if (reached[r.node] || is_declared_input (g, r)
              || (c->node_flags[r.node] & OSH_CONN_COMPUTABLE))
            continue;
          reached[r.node] = true;
          stack[top++] = r.node;
        }
    }
}

static void
explain (const OshGraph *g, OshConnectivity *c, OshStrbuf *b)
{
  bool *reached = malloc (((size_t) g->n_nodes + 1) * sizeof *reached);
  int *stack = malloc (((size_t) g->n_nodes + 1) * sizeof *stack);
  if (!reached || !stack)
    {
      b->failed = true;
      free (reached);
      free (stack);
      return;
    }
  OshStrbuf inputs = { 0 };
  for (int i = 0; i < g->n_inputs; i++)
    {
      char *p = osh_graph_layer_path (g, g->nodes[g->inputs[i].node].layer);
      osh_strbuf_printf (&inputs, "%s'%s'", i ? ", " : "", p ? p : "?");
      free (p);
    }
  char *input_list = osh_strbuf_steal (&inputs);
  for (int o = 0; o < g->n_outputs; o++)
    {
      if (c->output_ok[o])
        continue;
      char *name = osh_connectivity_output_name (g, o);
      osh_strbuf_printf (b, "Output '%s' cannot be computed from the model's inputs (%s).", name,
                         input_list && *input_list ? input_list : "none");
      free (name);
      reach_disconnected (g, c, o, reached, stack);
      for (int r = 0; r < c->n_foreign_roots; r++)
        {
          if (!reached[c->foreign_roots[r]])
            continue;
          int layer = g->nodes[c->foreign_roots[r]].layer;
          char *root = osh_graph_layer_path (g, layer);
          char *inst = osh_connectivity_instance_path (g, layer);
          if (osh_connectivity_is_missing_tensor (g, c->foreign_roots[r]))
            osh_strbuf_printf (b,
                               " It depends on the tensor '%s', which no node of this graph "
                               "produces (it is not a graph input, an initializer or a node's "
                               "output).",
                               root);
          else if (inst && *inst)
            osh_strbuf_printf (b,
                               " It depends on '%s', the own input of the model instance '%s', "
                               "which is not an input of the model.",
                               root, inst);
          else
            osh_strbuf_printf (b,
                               " It depends on '%s', an input layer that is not an input of the "
                               "model.",
                               root);
          free (root);
          free (inst);
        }
      for (int i = 0; i < c->n_bridges; i++)
        {
          int to_node = c->bridges[i].to_node;
          if (!reached[c->bridges[i].from_node]
              || (to_node < 0 ? g->outputs[o].node != c->bridges[i].from_node : !reached[to_node]))
            continue;
          int from_layer = g->nodes[c->bridges[i].from_node].layer;
          char *from = osh_graph_layer_path (g, from_layer);
          char *inst = osh_connectivity_instance_path (g, from_layer);
          if (c->bridges[i].to_node < 0)
            osh_strbuf_printf (b, " The output is read directly from '%s' inside '%s'.", from,
                               inst);
          else
            {
              char *to = osh_graph_layer_path (g, g->nodes[c->bridges[i].to_node].layer);
              if (inst && *inst)
                osh_strbuf_printf (b,
                                   " The path crosses at %s -> %s: '%s' reads a layer from inside "
                                   "the model instance '%s' directly instead of through that "
                                   "model's call on the inputs, so the inner layer is computed "
                                   "from the instance's own input.",
                                   from, to, to, inst);
              else
                osh_strbuf_printf (b, " The path crosses at %s -> %s.", from, to);
              free (to);
            }
          free (from);
          free (inst);
        }
      osh_strbuf_printf (b, "\n");
    }
  if (c->n_cycle_nodes > 0)
    {
      char *p = osh_graph_layer_path (g, g->nodes[c->cycle_nodes[0]].layer);
      osh_strbuf_printf (b, "Layer '%s' is part of a cycle: its value depends on itself.\n", p);
      free (p);
    }
  if (c->n_fixes > 0)
    osh_strbuf_printf (b, "Fix: %s", c->fixes[0].description);
  else
    osh_strbuf_printf (b,
                       "No automatic fix applies: connect the layers above to the model's inputs.");
  free (reached);
  free (stack);
  free (input_list);
}

void
osh_connectivity_free (OshConnectivity *c)
{
  if (!c)
    return;
  free (c->output_ok);
  free (c->foreign_roots);
  free (c->bridges);
  free (c->unused_layers);
  free (c->cycle_nodes);
  free (c->node_flags);
  free (c->layer_flags);
  free (c->message);
  free (c->explanation);
  osh_fixes_free (c->fixes, c->n_fixes);
  free (c);
}

OshConnectivity *
osh_connectivity_analyze (const OshGraph *g, OshError *err)
{
  OshConnectivity *c = calloc (1, sizeof *c);
  size_t nn = (size_t) g->n_nodes + 1;
  Walk w = { .g = g, .c = c };
  int *stack = malloc (nn * sizeof *stack);
  int *next = calloc (nn, sizeof *next);
  bool *seen = malloc (nn * sizeof *seen);
  w.state = calloc (nn, 1);
  w.comp = calloc (nn, sizeof *w.comp);
  bool ok = c && stack && next && seen && w.state && w.comp;
  if (ok)
    {
      c->n_outputs = g->n_outputs;
      c->output_ok = calloc ((size_t) g->n_outputs + 1, sizeof *c->output_ok);
      c->node_flags = calloc (nn, sizeof *c->node_flags);
      c->layer_flags = calloc ((size_t) g->n_layers + 1, sizeof *c->layer_flags);
      ok = c->output_ok && c->node_flags && c->layer_flags;
    }
  for (int o = 0; ok && o < g->n_outputs; o++)
    ok = walk_computable (&w, g->outputs[o].node, stack, next);
  c->connected = ok && c->n_cycle_nodes == 0;
  for (int o = 0; ok && o < g->n_outputs; o++)
    {
      c->output_ok[o] = tensor_ok (&w, g->outputs[o]);
      if (!c->output_ok[o])
        {
          c->connected = false;
          ok = mark_disconnected (&w, o, stack, seen);
        }
    }
  ok = ok && find_unused (g, c);
  for (int n = 0; ok && n < g->n_nodes; n++)
    c->layer_flags[g->nodes[n].layer] |= c->node_flags[n] & ~(uint32_t) OSH_CONN_UNUSED;
  if (ok && !c->connected)
    {
      ok = osh_dialect_of (g)->wording == OSH_WORDING_NODE_INPUT
               ? node_input_message (g, c, &c->message)
               : keras_message (g, &c->message);
      if (ok && !c->message && c->n_cycle_nodes == 0)
        {
          /* Keras accepts it (an output hangs off an intermediate declared input it walks
           * past): say what Offshoot found instead. */
          c->message = strdup ("Graph disconnected: an output cannot be computed from the inputs.");
          ok = c->message != NULL;
        }
      ok = ok && osh_fixes_propose (g, c, err);
      if (ok)
        {
          OshStrbuf b = { 0 };
          explain (g, c, &b);
          ok = (c->explanation = osh_strbuf_steal (&b)) != NULL;
        }
    }
  free (stack);
  free (next);
  free (seen);
  free (w.state);
  free (w.comp);
  if (!ok)
    {
      if (!err || err->code == OSH_OK)
        osh_fail (err, OSH_ERR_NOMEM, "out of memory analysing the connectivity of %d layers",
                  g->n_layers);
      osh_connectivity_free (c);
      return NULL;
    }
  return c;
}
