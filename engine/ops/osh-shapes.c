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
  int *order;   /* every node, inputs before users */
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

  enum
  {
    STACK_ARGS = 16
  };
  OshShape stack_args[STACK_ARGS];
  OshShape *args =
      n->n_inputs <= STACK_ARGS ? stack_args : malloc ((size_t) n->n_inputs * sizeof *args);
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
      OshOpCall c = { .graph = g,
                      .layer = l,
                      .in = args,
                      .n_in = n->n_inputs,
                      .out = out,
                      .n_out = n->n_outputs,
                      .kwargs = n->kwargs };
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
  free (s);
  free (in.order);
  free (in.off);
  return ok;
}

/* The shape of graph input `i`: as inferred, else as its layer declares it (rank 0: unknown). */
static OshShape
input_shape (const OshGraph *g, int i)
{
  OshRef r = g->inputs[i];
  const OshNode *n = &g->nodes[r.node];
  OshShape s = { 0 };
  if (n->shapes)
    return n->shapes[r.index];
  const OshOp *op = osh_op_find (g, g->layers[n->layer].class_name);
  OshOpCall c = { .graph = g, .layer = &g->layers[n->layer], .out = &s, .n_out = 1 };
  if (!op || n->n_inputs != 0 || n->n_outputs != 1 || !op->infer (&c, NULL))
    s.rank = 0;
  return s;
}

/* The first input with a size beyond the batch open, or -1. */
static int
first_open_input (const OshGraph *g)
{
  for (int i = 0; i < g->n_inputs; i++)
    {
      OshShape s = input_shape (g, i);
      for (int d = 1; d < s.rank; d++)
        if (s.dim[d] < 0)
          return i;
    }
  return -1;
}

bool
osh_graph_open_inputs (const OshGraph *g)
{
  return first_open_input (g) >= 0;
}

/* True when a Shape node reads a tensor with an open size: an open batch matters to folding
 * only there (BlazeFace's Reshapes sized from Shape of its (None, 128, 128, 3) input). */
static bool
shape_reads_open_size (const OshGraph *g)
{
  for (int i = 0; i < g->n_nodes; i++)
    {
      const OshNode *n = &g->nodes[i];
      if (n->n_inputs != 1 || strcmp (g->layers[n->layer].class_name, "Shape") != 0)
        continue;
      const OshNode *from = &g->nodes[n->inputs[0].node];
      if (!from->shapes)
        continue;
      const OshShape *s = &from->shapes[n->inputs[0].index];
      for (int d = 0; d < s->rank; d++)
        if (s->dim[d] < 0)
          return true;
    }
  return false;
}

bool
osh_graph_needs_specialize (const OshGraph *g)
{
  return osh_dialect_of (g)->fold_constants
         && (osh_graph_open_inputs (g) || shape_reads_open_size (g));
}

/* Gives graph input `i` the sizes of `s` (the key its InputLayer reads them from, as the
 * readers of both dialects write it), after checking those it declares. */
static bool
fix_input (OshGraph *g, int i, const OshShape *s, OshError *err)
{
  OshShape declared = input_shape (g, i);
  int layer = g->nodes[g->inputs[i].node].layer;
  char *path = osh_graph_layer_path (g, layer);
  char given[160], want[160];
  osh_shape_format (s, given, sizeof given);
  osh_shape_format (&declared, want, sizeof want);
  bool ok = true;
  if (declared.rank > 0 && declared.rank != s->rank)
    ok = osh_fail (err, OSH_ERR_USAGE,
                   "input '%s': shape %s (rank %d) given, the model declares "
                   "%s (rank %d)",
                   path, given, s->rank, want, declared.rank);
  for (int d = 0; ok && d < s->rank; d++)
    if (s->dim[d] < 0
        || (d < declared.rank && declared.dim[d] >= 0 && declared.dim[d] != s->dim[d]))
      ok = osh_fail (err, OSH_ERR_USAGE, "input '%s': shape %s given, the model declares %s", path,
                     given, want);
  free (path);
  if (!ok)
    return false;
  json_t *dims = json_array ();
  for (int d = 0; d < s->rank; d++)
    json_array_append_new (dims, json_integer (s->dim[d]));
  json_t *cfg = g->layers[layer].config;
  bool only_batch_shape = json_is_array (json_object_get (cfg, "batch_shape"))
                          && !json_is_array (json_object_get (cfg, "batch_input_shape"));
  json_object_set_new (cfg, only_batch_shape ? "batch_shape" : "batch_input_shape", dims);
  return true;
}

/* The shapes again from the fixed inputs, then what became constant folded (its own shapes
 * inferred once more). */
static bool
infer_and_fold (OshGraph *g, OshError *err)
{
  const OshDialect *d = osh_dialect_of (g);
  return osh_graph_infer_shapes (g, err)
         && (!d->fold_constants || (d->fold_constants (g, err) && osh_graph_infer_shapes (g, err)));
}

bool
osh_graph_specialize (OshGraph *g, const OshShape *shapes, int n, OshError *err)
{
  int open = first_open_input (g);
  if ((!shapes || n == 0) && open >= 0)
    {
      OshShape s = input_shape (g, open);
      char text[160];
      char *path = osh_graph_layer_path (g, g->nodes[g->inputs[open].node].layer);
      osh_shape_format (&s, text, sizeof text);
      osh_fail (err, OSH_ERR_USAGE, "input '%s' leaves sizes open %s: give its shape to fix them",
                path, text);
      free (path);
      return false;
    }
  if (shapes && n != g->n_inputs)
    return osh_fail (err, OSH_ERR_USAGE, "the model has %d inputs, %d shapes given", g->n_inputs,
                     n);
  for (int i = 0; shapes && i < n; i++)
    if (!fix_input (g, i, &shapes[i], err))
      return false;
  return infer_and_fold (g, err);
}

bool
osh_graph_specialize_batch (OshGraph *g, int64_t batch, OshError *err)
{
  if (first_open_input (g) >= 0)
    return osh_graph_specialize (g, NULL, 0, err); /* fails, naming the open input */
  for (int i = 0; i < g->n_inputs; i++)
    {
      OshShape s = input_shape (g, i);
      if (s.rank == 0 || s.dim[0] >= 0)
        continue;
      s.dim[0] = batch > 0 ? batch : 1;
      if (!fix_input (g, i, &s, err))
        return false;
    }
  return infer_and_fold (g, err);
}
