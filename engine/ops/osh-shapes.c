/* Shape inference over the whole graph: every node's output shapes from its
 * inputs' shapes and its layer's config and weights (through the op table), in
 * dependency order. A node calling a nested model gets the model's output shapes
 * computed with the call's own input shapes. */
#include "osh-shapes.h"

#include <stdlib.h>
#include <string.h>

#include "osh-op.h"
#include "osh-topo.h"

typedef struct
{
  OshGraph *g;
  int *order;  /* every node, inputs before users */
  int64_t *off; /* node → first slot of its outputs in a flat shape array */
  int64_t total;
} Infer;

static bool eval_node (Infer *in, OshShape *s, int node, int depth, OshError *err);

/* Shapes of the outputs of `model` called on shapes `args`; `s` holds the current shapes of
 * every node (so references that cross the model boundary still resolve). When `store` is set
 * the inner nodes' shapes are written back into `s` (the first call decides what the inner
 * layers show). */
static bool
eval_model (Infer *in, OshShape *s, int model, const OshShape *args, int n_args, OshShape *out,
            int n_out, bool store, int depth, OshError *err)
{
  OshGraph *g = in->g;
  OshLayer *m = &g->layers[model];
  if (depth > OSH_MAX_NESTING)
    return osh_fail (err, OSH_ERR_LIMIT, "models nested more than %d deep", OSH_MAX_NESTING);
  if (n_args != m->n_inputs)
    return osh_fail (err, OSH_ERR_SHAPE, "model called on %d inputs (it has %d)", n_args,
                     m->n_inputs);
  if (n_out != m->n_outputs)
    return osh_fail (err, OSH_ERR_FORMAT, "the call has %d outputs (the model has %d)", n_out,
                     m->n_outputs);
  OshShape *t = malloc ((size_t) (in->total ? in->total : 1) * sizeof *t);
  bool *bound = calloc ((size_t) g->n_nodes + 1, sizeof *bound);
  bool ok = t && bound;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory inferring the shapes of a nested model");
  else
    memcpy (t, s, (size_t) in->total * sizeof *t);
  for (int i = 0; ok && i < n_args; i++)
    {
      OshRef r = m->inputs[i];
      t[in->off[r.node] + r.index] = args[i];
      bound[r.node] = true;
    }
  for (int k = 0; ok && k < g->n_nodes; k++)
    {
      int n = in->order[k];
      int l = g->nodes[n].layer;
      if (!bound[n] && l != model && osh_graph_layer_within (g, l, model))
        ok = eval_node (in, t, n, depth + 1, err);
    }
  for (int i = 0; ok && i < n_out; i++)
    out[i] = t[in->off[m->outputs[i].node] + m->outputs[i].index];
  if (ok && store)
    for (int n = 0; n < g->n_nodes; n++)
      if (g->nodes[n].layer != model && osh_graph_layer_within (g, g->nodes[n].layer, model))
        memcpy (&s[in->off[n]], &t[in->off[n]], (size_t) g->nodes[n].n_outputs * sizeof *t);
  free (t);
  free (bound);
  return ok;
}

static bool
eval_node (Infer *in, OshShape *s, int node, int depth, OshError *err)
{
  OshGraph *g = in->g;
  OshNode *n = &g->nodes[node];
  OshLayer *l = &g->layers[n->layer];
  OshShape *out = &s[in->off[node]];
  memset (out, 0, (size_t) n->n_outputs * sizeof *out);

  enum { STACK_ARGS = 16 };
  OshShape stack_args[STACK_ARGS];
  OshShape *args = n->n_inputs <= STACK_ARGS ? stack_args
                                             : malloc ((size_t) n->n_inputs * sizeof *args);
  if (!args)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory for %d input shapes", n->n_inputs);
  bool unknown = false;
  for (int i = 0; i < n->n_inputs; i++)
    {
      args[i] = s[in->off[n->inputs[i].node] + n->inputs[i].index];
      unknown |= args[i].rank == 0;
    }

  bool ok = true;
  const OshOp *op = osh_op_find (g, l->class_name);
  if (l->is_model)
    {
      if (!unknown)
        ok = eval_model (in, s, n->layer, args, n->n_inputs, out, n->n_outputs,
                         osh_graph_layer_first_node (g, n->layer) == node, depth, err);
    }
  else if (op && !(unknown && n->n_inputs > 0))
    {
      /* Keras layers have one output; ONNX ops (Split, Dropout) may have several. */
      OshOpCall c = { .graph = g, .layer = l, .in = args, .n_in = n->n_inputs, .out = out,
                      .n_out = n->n_outputs, .kwargs = n->kwargs };
      ok = op->infer (&c, err);
    }
  /* Unknown classes and unknown inputs leave rank-0 (unknown) shapes. */
  if (args != stack_args)
    free (args);
  if (!ok)
    {
      char *path = osh_graph_layer_path (g, n->layer);
      osh_error_prefix (err, "layer '%s' (%s): ", path ? path : l->name, l->class_name);
      free (path);
    }
  return ok;
}

/* Every node's output shapes into s (in->off gives each node's first slot). */
static bool
infer_all (Infer *in, OshShape *s, OshError *err)
{
  bool ok = true;
  memset (s, 0, (size_t) in->total * sizeof *s);
  /* Top level first, in dependency order; nodes inside models get their shapes from the inner
   * inputs' configs unless a call of their model already gave them. */
  for (int k = 0; ok && k < in->g->n_nodes; k++)
    ok = eval_node (in, s, in->order[k], 0, err);
  return ok;
}

/* The sizes that follow a graph's symbolic input sizes (OshDialect.open_inputs), which inference
 * takes as 1: found by inferring again with them at another size and keeping -1 (shown as None)
 * wherever the two differ, into each node's `shown`. Nothing is marked when the second pass fails. */
static void
mark_open_sizes (Infer *in, const OshShape *s)
{
  OshGraph *g = in->g;
  OshShape *t = malloc ((size_t) (in->total ? in->total : 1) * sizeof *t);
  OshError ignored = { 0 };
  g->open_size_probe = 64; /* a multiple of the usual strides, so skip connections still meet */
  bool ok = t && infer_all (in, t, &ignored);
  g->open_size_probe = 0;
  for (int i = 0; ok && i < g->n_nodes; i++)
    {
      OshNode *n = &g->nodes[i];
      n->shown = malloc ((size_t) (n->n_outputs ? n->n_outputs : 1) * sizeof (OshShape));
      if (!n->shown)
        break;
      for (int k = 0; k < n->n_outputs; k++)
        {
          OshShape a = s[in->off[i] + k];
          const OshShape *b = &t[in->off[i] + k];
          for (int d = 0; a.rank == b->rank && d < a.rank; d++)
            if (a.dim[d] != b->dim[d])
              a.dim[d] = -1;
          n->shown[k] = a;
        }
    }
  free (t);
}

bool
osh_graph_infer_shapes (OshGraph *g, OshError *err)
{
  Infer in = { .g = g };
  bool ok = true;
  in.off = malloc ((size_t) (g->n_nodes + 1) * sizeof *in.off);
  if (!in.off)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory for shapes");
  for (int i = 0; i < g->n_nodes; i++)
    {
      in.off[i] = in.total;
      in.total += g->nodes[i].n_outputs;
      free (g->nodes[i].shown); /* derived from the shapes: made again below when needed */
      g->nodes[i].shown = NULL;
    }
  OshShape *s = calloc ((size_t) (in.total ? in.total : 1), sizeof *s);
  in.order = osh_topo_order (g, err);
  if (!s || !in.order)
    ok = in.order ? osh_fail (err, OSH_ERR_NOMEM, "out of memory for shapes") : false;
  ok = ok && infer_all (&in, s, err);
  for (int i = 0; ok && i < g->n_nodes; i++)
    {
      OshNode *n = &g->nodes[i];
      free (n->shapes);
      n->shapes = malloc ((size_t) (n->n_outputs ? n->n_outputs : 1) * sizeof (OshShape));
      if (!n->shapes)
        ok = osh_fail (err, OSH_ERR_NOMEM, "out of memory for shapes");
      else
        memcpy (n->shapes, &s[in.off[i]], (size_t) n->n_outputs * sizeof (OshShape));
    }
  if (ok && osh_graph_open_inputs (g))
    mark_open_sizes (&in, s);
  free (s);
  free (in.order);
  free (in.off);
  return ok;
}

const OshShape *
osh_node_shown_shape (const OshNode *n, int k)
{
  return n->shown ? &n->shown[k] : &n->shapes[k];
}

bool
osh_graph_open_inputs (const OshGraph *g)
{
  const OshDialect *d = osh_dialect_of (g);
  return d->open_inputs && d->open_inputs (g);
}

bool
osh_graph_specialize (OshGraph *g, const OshShape *shapes, int n, OshError *err)
{
  const OshDialect *d = osh_dialect_of (g);
  if (!d->specialize || !osh_graph_open_inputs (g))
    return osh_fail (err, OSH_ERR_USAGE, "the model has no open input sizes to fix");
  return d->specialize (g, shapes, n, err);
}
