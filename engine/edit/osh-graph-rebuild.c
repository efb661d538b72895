/* Rebuilding a graph without some layers and nodes (see osh-graph-rebuild.h). */
#include "osh-graph-rebuild.h"

#include <stdlib.h>
#include <string.h>

bool
osh_rebuild_init (OshRebuild *r, const OshGraph *g, OshError *err)
{
  *r = (OshRebuild){ .g = g };
  r->drop_layer = calloc ((size_t) g->n_layers + 1, sizeof *r->drop_layer);
  r->owner = malloc (((size_t) g->n_layers + 1) * sizeof *r->owner);
  r->drop_node = calloc ((size_t) g->n_nodes + 1, sizeof *r->drop_node);
  r->redirect = calloc ((size_t) g->n_nodes + 1, sizeof *r->redirect);
  r->rename = calloc ((size_t) g->n_layers + 1, sizeof *r->rename);
  r->layer_map = malloc (((size_t) g->n_layers + 1) * sizeof *r->layer_map);
  if (!r->drop_layer || !r->owner || !r->drop_node || !r->redirect || !r->rename || !r->layer_map)
    {
      osh_rebuild_clear (r);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory editing a graph of %d layers",
                       g->n_layers);
    }
  for (int l = 0; l < g->n_layers; l++)
    r->owner[l] = g->layers[l].owner;
  return true;
}

void
osh_rebuild_clear (OshRebuild *r)
{
  free (r->drop_layer);
  free (r->owner);
  free (r->drop_node);
  free (r->redirect);
  for (int l = 0; r->rename && l < r->g->n_layers; l++)
    free (r->rename[l]);
  free (r->rename);
  free (r->layer_map);
  *r = (OshRebuild){ 0 };
}

OshRef
osh_rebuild_resolve (const OshRebuild *r, OshRef t)
{
  for (int guard = 0; guard <= r->g->n_nodes && t.node >= 0 && r->redirect[t.node]; guard++)
    t = r->redirect[t.node][t.index];
  return t;
}

/* Maps old references to new ones; false (err set) when one points at something removed. */
static bool
map_refs (const OshRebuild *r, const int *node_map, const OshRef *in, int n, OshRef *out,
          const char *what, OshError *err)
{
  for (int i = 0; i < n; i++)
    {
      OshRef t = osh_rebuild_resolve (r, in[i]);
      if (t.node < 0 || r->drop_node[t.node] || node_map[t.node] < 0)
        {
          const char *name = t.node >= 0 ? r->g->layers[r->g->nodes[t.node].layer].name : "?";
          return osh_fail (err, OSH_ERR_USAGE,
                           "%s: its input %d would come from layer '%s', which the "
                           "edit removes",
                           what, i, name);
        }
      out[i] = (OshRef){ node_map[t.node], t.index };
    }
  return true;
}

static bool
copy_layers (const OshRebuild *r, OshGraph *c, int *layer_map, OshError *err)
{
  const OshGraph *g = r->g;
  for (int l = 0; l < g->n_layers; l++)
    {
      layer_map[l] = -1;
      if (r->drop_layer[l])
        continue;
      const OshLayer *src = &g->layers[l];
      int owner = r->owner[l] < 0 ? -1 : layer_map[r->owner[l]];
      if (r->owner[l] >= 0 && owner < 0)
        return osh_fail (err, OSH_ERR_USAGE, "layer '%s': its model is removed by the edit",
                         src->name);
      json_t *config = json_deep_copy (src->config);
      const char *name = r->rename[l] ? r->rename[l] : src->name;
      if (r->rename[l] && config)
        json_object_set_new (config, "name", json_string (name));
      int nl = osh_graph_add_layer (c, owner, name, src->class_name, config, err);
      if (nl < 0)
        return false;
      layer_map[l] = nl;
      c->layers[nl].trainable = src->trainable;
      c->layers[nl].is_model = src->is_model;
      for (int w = 0; w < src->n_weights; w++)
        {
          OshTensor *v = osh_tensor_share (src->weights[w].value, err);
          if (!v
              || !osh_layer_add_weight (c, nl, src->weights[w].name, v, src->weights[w].trainable,
                                        err))
            return false;
          c->layers[nl].weights[w].index = src->weights[w].index;
        }
      if (!osh_layer_copy_slots (c, nl, src, err))
        return false;
    }
  return true;
}

/* Adds node `n` once all its (resolved) inputs are in; iterative DFS in topological order. */
static bool
copy_node (const OshRebuild *r, OshGraph *c, int root, const int *layer_map, int *node_map,
           unsigned char *state, int *stack, int *next, OshError *err)
{
  const OshGraph *g = r->g;
  int top = 0;
  stack[top++] = root;
  state[root] = 1;
  while (top > 0)
    {
      int n = stack[top - 1];
      const OshNode *node = &g->nodes[n];
      if (next[n] < node->n_inputs)
        {
          OshRef t = osh_rebuild_resolve (r, node->inputs[next[n]++]);
          if (t.node >= 0 && !r->drop_node[t.node] && state[t.node] == 0)
            {
              state[t.node] = 1;
              stack[top++] = t.node;
            }
          else if (t.node >= 0 && state[t.node] == 1)
            return osh_fail (err, OSH_ERR_USAGE, "layer '%s': the edit would make a cycle",
                             g->layers[node->layer].name);
          continue;
        }
      char what[300];
      snprintf (what, sizeof what, "layer '%s'", g->layers[node->layer].name);
      OshRef *ins = malloc (((size_t) node->n_inputs + 1) * sizeof *ins);
      if (!ins)
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      int nn = -1;
      if (layer_map[node->layer] < 0)
        osh_fail (err, OSH_ERR_USAGE, "%s is removed but one of its calls is kept", what);
      else if (map_refs (r, node_map, node->inputs, node->n_inputs, ins, what, err))
        nn = osh_graph_add_node (c, layer_map[node->layer], ins, node->n_inputs, node->n_outputs,
                                 err);
      free (ins);
      if (nn < 0)
        return false;
      if (!osh_node_copy_shapes (&c->nodes[nn], node, err))
        return false;
      c->nodes[nn].kwargs = node->kwargs ? json_deep_copy (node->kwargs) : NULL;
      node_map[n] = nn;
      state[n] = 2;
      top--;
    }
  return true;
}

static bool
set_model_io (const OshRebuild *r, OshGraph *c, int model, const int *node_map,
              const OshRef *inputs, int n_inputs, const OshRef *outputs, int n_outputs,
              int new_model, OshError *err)
{
  OshRef *in = malloc (((size_t) n_inputs + 1) * sizeof *in);
  OshRef *out = malloc (((size_t) n_outputs + 1) * sizeof *out);
  char what[300];
  snprintf (what, sizeof what, "model '%s'", model < 0 ? "(top level)" : r->g->layers[model].name);
  bool ok = in && out && map_refs (r, node_map, inputs, n_inputs, in, what, err)
            && map_refs (r, node_map, outputs, n_outputs, out, what, err)
            && osh_graph_set_io (c, new_model, in, n_inputs, out, n_outputs, err);
  if (!in || !out)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  free (in);
  free (out);
  return ok;
}

OshGraph *
osh_rebuild_run (const OshRebuild *r, const OshRef *outputs, int n_outputs, OshError *err)
{
  const OshGraph *g = r->g;
  OshGraph *c = osh_graph_new ();
  size_t nn = (size_t) g->n_nodes + 1;
  int *layer_map = r->layer_map;
  int *node_map = malloc (nn * sizeof *node_map);
  unsigned char *state = calloc (nn, 1);
  int *stack = malloc (nn * sizeof *stack);
  int *next = calloc (nn, sizeof *next);
  bool ok = c && layer_map && node_map && state && stack && next;
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory editing a graph of %d layers", g->n_layers);
  if (ok)
    {
      osh_graph_copy_header (c, g);
      memset (node_map, 0xff, nn * sizeof *node_map);
      ok = copy_layers (r, c, layer_map, err);
    }
  for (int n = 0; ok && n < g->n_nodes; n++)
    if (!r->drop_node[n] && state[n] == 0)
      ok = copy_node (r, c, n, layer_map, node_map, state, stack, next, err);
  for (int l = 0; ok && l < g->n_layers; l++)
    if (!r->drop_layer[l] && g->layers[l].is_model)
      ok = set_model_io (r, c, l, node_map, g->layers[l].inputs, g->layers[l].n_inputs,
                         g->layers[l].outputs, g->layers[l].n_outputs, layer_map[l], err);
  ok = ok && set_model_io (r, c, -1, node_map, g->inputs, g->n_inputs, outputs, n_outputs, -1, err);
  free (node_map);
  free (state);
  free (stack);
  free (next);
  if (!ok)
    {
      osh_graph_free (c);
      return NULL;
    }
  return c;
}
