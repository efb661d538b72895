/* Fixes for a disconnected graph: proposed from the analysis, applied to a new graph. */
#include "osh-fixes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-graph-rebuild.h"
#include "osh-layer-names.h"
#include "osh-op.h"

void
osh_fixes_free (OshFix *fixes, int n)
{
  for (int i = 0; i < n; i++)
    {
      free (fixes[i].id);
      free (fixes[i].description);
    }
  free (fixes);
}

const OshFix *
osh_fix_find (const OshConnectivity *c, const char *id)
{
  for (int i = 0; c && i < c->n_fixes; i++)
    if (strcmp (c->fixes[i].id, id) == 0)
      return &c->fixes[i];
  return NULL;
}

static int
count_calls (const OshGraph *g, int layer, int *first)
{
  int n = 0;
  *first = -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].layer == layer && n++ == 0)
      *first = i;
  return n;
}

/* The model directly under the top level that contains `layer`, or -1 for a top-level layer. */
static int
top_instance (const OshGraph *g, int layer)
{
  int top = -1;
  for (int l = g->layers[layer].owner; l >= 0; l = g->layers[l].owner)
    top = l;
  return top;
}

/* True when every model around `layer` is called exactly once and the outermost call is
 * computable, so flattening them makes `layer` computable. */
static bool
reachable_by_flattening (const OshGraph *g, const OshConnectivity *c, int layer)
{
  if (g->layers[layer].owner < 0)
    {
      int node = osh_graph_layer_first_node (g, layer);
      return node >= 0 && (c->node_flags[node] & OSH_CONN_COMPUTABLE);
    }
  int call = -1;
  for (int m = g->layers[layer].owner; m >= 0; m = g->layers[m].owner)
    if (count_calls (g, m, &call) != 1)
      return false;
  count_calls (g, top_instance (g, layer), &call);
  return call >= 0 && (c->node_flags[call] & OSH_CONN_COMPUTABLE);
}

static bool
add_fix (OshConnectivity *c, OshFixKind kind, int node, int input, int target, char *id,
         char *description)
{
  bool ok = id && description && !osh_fix_find (c, id);
  OshFix *p = ok ? realloc (c->fixes, (size_t) (c->n_fixes + 1) * sizeof *p) : NULL;
  if (!p)
    {
      bool was_duplicate = id && description;
      free (id);
      free (description);
      return was_duplicate; /* a duplicate is fine; a failed allocation is not */
    }
  c->fixes = p;
  c->fixes[c->n_fixes++] = (OshFix){ id, description, kind, node, input, target, -1 };
  return true;
}

static char *format (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static char *
format (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *s = NULL;
  int n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  if (n >= 0 && (s = malloc ((size_t) n + 1)))
    {
      va_start (ap, fmt);
      vsnprintf (s, (size_t) n + 1, fmt, ap);
      va_end (ap);
    }
  return s;
}

static bool
propose_rewire (const OshGraph *g, OshConnectivity *c, const OshBridge *b)
{
  const OshNode *consumer = &g->nodes[b->to_node];
  int from_layer = g->nodes[b->from_node].layer;
  for (int l = 0; l < g->n_layers; l++)
    {
      if (l == from_layer || strcmp (g->layers[l].name, g->layers[from_layer].name) != 0
          || top_instance (g, l) == top_instance (g, from_layer)
          || !reachable_by_flattening (g, c, l))
        continue;
      for (int i = 0; i < consumer->n_inputs; i++)
        {
          if (consumer->inputs[i].node != b->from_node)
            continue;
          char *to = osh_graph_layer_path (g, consumer->layer);
          char *now = osh_graph_layer_path (g, from_layer);
          char *then = osh_graph_layer_path (g, l);
          char *inst = osh_connectivity_instance_path (g, l);
          bool ok =
              add_fix (c, OSH_FIX_REWIRE, b->to_node, i, l, format ("rewire:%s", to),
                       format ("Feed '%s' from '%s' of the model instance the inputs go "
                               "through ('%s'), not from '%s'%s.",
                               to, then, inst && *inst ? inst : "top level", now,
                               inst && *inst ? ", and flatten that instance into the model" : ""));
          free (to);
          free (now);
          free (then);
          free (inst);
          return ok;
        }
    }
  return true;
}

/* A computable tensor of `g` named `name`, or a node of that name (its first output). */
static OshRef
computable_named (const OshGraph *g, const OshConnectivity *c, const char *name)
{
  OshRef t = osh_dialect_find_tensor (g, name);
  bool ok = t.node >= 0 && (c->node_flags[t.node] & OSH_CONN_COMPUTABLE)
            && !osh_connectivity_is_missing_tensor (g, t.node);
  return ok ? t : (OshRef){ -1, 0 };
}

/* The only computable tensor whose name ends with "/" + tail, or { -1 }. */
static OshRef
computable_ending (const OshGraph *g, const OshConnectivity *c, const char *tail)
{
  OshRef found = { -1, 0 };
  size_t n = strlen (tail);
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_outputs; k++)
      {
        char *name = (c->node_flags[i] & OSH_CONN_COMPUTABLE)
                         ? osh_dialect_tensor_name (g, (OshRef){ i, k })
                         : NULL;
        size_t len = name ? strlen (name) : 0;
        bool match = len > n && name[len - n - 1] == '/' && strcmp (name + len - n, tail) == 0;
        free (name);
        if (match && found.node >= 0)
          return (OshRef){ -1, 0 }; /* two candidates: not "the" tensor */
        if (match)
          found = (OshRef){ i, k };
      }
  return found;
}

/* The computable tensor that a missing tensor `name` stands for: a node of that
 * name (its first output) or a tensor of that name, also once leading scopes are taken off
 * ("backbone/x" or "backbone::x" -> "x"), or else the only tensor that ends in the same scopes
 * ("copy/features.2/Relu_output_0" -> "/features/features.2/Relu_output_0"). */
static OshRef
same_named_tensor (const OshGraph *g, const OshConnectivity *c, const char *name)
{
  OshRef t = { -1, 0 };
  for (const char *p = name; t.node < 0 && p && *p;)
    {
      t = computable_named (g, c, p);
      const char *slash = strchr (p, '/'), *colons = strstr (p, "::");
      p = slash && (!colons || slash < colons) ? slash + 1 : colons ? colons + 2 : NULL;
    }
  const char *tail = strchr (name, '/');
  return t.node >= 0 || !tail || !tail[1] ? t : computable_ending (g, c, tail + 1);
}

/* Every node reading a missing tensor (OSH_INPUT_UNPRODUCED) is re-pointed at the tensor of the same name. */
static bool
propose_rewire_by_name (const OshGraph *g, OshConnectivity *c, int root)
{
  const char *missing = g->layers[g->nodes[root].layer].name;
  OshRef t = same_named_tensor (g, c, missing);
  for (int n = 0; t.node >= 0 && n < g->n_nodes; n++)
    for (int i = 0; i < g->nodes[n].n_inputs; i++)
      {
        if (g->nodes[n].inputs[i].node != root)
          continue;
        const char *to = g->layers[g->nodes[n].layer].name;
        const char *from = g->layers[g->nodes[t.node].layer].name;
        char *tensor = osh_dialect_tensor_name (g, t);
        int before = c->n_fixes;
        bool ok =
            add_fix (c, OSH_FIX_REWIRE, n, i, g->nodes[t.node].layer, format ("rewire:%s", to),
                     format ("Feed '%s' from the tensor '%s' of this graph (the output of "
                             "'%s'), not from the missing '%s'.",
                             to, tensor ? tensor : "?", from, missing));
        free (tensor);
        if (!ok)
          return false;
        if (c->n_fixes > before)
          c->fixes[before].target_output = t.index;
      }
  return true;
}

bool
osh_fixes_propose (const OshGraph *g, OshConnectivity *c, OshError *err)
{
  bool ok = true;
  for (int i = 0; ok && i < c->n_foreign_roots; i++)
    if (osh_connectivity_is_missing_tensor (g, c->foreign_roots[i]))
      ok = propose_rewire_by_name (g, c, c->foreign_roots[i]);
  for (int i = 0; ok && i < c->n_bridges; i++)
    if (c->bridges[i].to_node >= 0)
      ok = propose_rewire (g, c, &c->bridges[i]);
  for (int i = 0; ok && i < c->n_bridges; i++)
    {
      int layer = g->nodes[c->bridges[i].from_node].layer;
      int model = top_instance (g, layer);
      if (model < 0 || !reachable_by_flattening (g, c, layer))
        continue;
      char *path = osh_graph_layer_path (g, layer);
      ok = add_fix (
          c, OSH_FIX_FLATTEN, -1, -1, model, format ("flatten:%s", g->layers[model].name),
          format ("Flatten the nested model '%s' into the outer model, so '%s' is computed "
                  "from the model's inputs (in Keras: build from the same instance, "
                  "Model(%s.input, [outputs..., aux])).",
                  g->layers[model].name, path, g->layers[model].name));
      free (path);
    }
  for (int i = 0; ok && i < c->n_foreign_roots; i++)
    {
      int node = c->foreign_roots[i];
      const OshLayer *root = &g->layers[g->nodes[node].layer];
      if (osh_connectivity_is_missing_tensor (g, node)
          && !json_is_array (json_object_get (root->config, "batch_input_shape")))
        continue; /* an input needs a shape, and the file gives none for this tensor */
      char *path = osh_graph_layer_path (g, g->nodes[node].layer);
      ok = add_fix (
          c, OSH_FIX_ADD_INPUT, node, 0, -1, format ("add-input:%s", path),
          format ("Add '%s' as an input of the model (it must then be fed separately).", path));
      free (path);
    }
  int n_ok = 0;
  for (int o = 0; o < c->n_outputs; o++)
    n_ok += c->output_ok[o];
  for (int o = 0; ok && n_ok > 0 && o < c->n_outputs; o++)
    if (!c->output_ok[o])
      {
        char *name = osh_connectivity_output_name (g, o);
        ok = add_fix (c, OSH_FIX_DROP_BRANCH, -1, -1, o, format ("drop-branch:%s", name),
                      format ("Remove the output '%s' and the layers only it uses.", name));
        free (name);
      }
  if (!ok)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory listing fixes");
  return true;
}

/* A name for `layer` moving into `owner` that no layer there has (Keras-style _1, _2...). */
static char *
free_name (const OshGraph *g, const OshRebuild *r, int owner, int layer)
{
  const char *base = g->layers[layer].name;
  size_t n = strlen (base) + 16;
  char *name = malloc (n);
  for (int k = 1; name; k++)
    {
      snprintf (name, n, "%s_%d", base, k);
      bool taken = osh_graph_find_layer (g, owner, name) >= 0;
      for (int l = 0; !taken && l < g->n_layers; l++)
        taken = r->rename[l] && r->owner[l] == owner && strcmp (r->rename[l], name) == 0;
      if (!taken)
        break;
    }
  return name;
}

/* Flattens `model`; when `follow` >= 0 returns its new index in *followed (-1 if dropped). */
static OshGraph *
flatten (const OshGraph *g, int model, int follow, int *followed, OshError *err)
{
  if (model < 0 || model >= g->n_layers || !g->layers[model].is_model)
    {
      osh_fail (err, OSH_ERR_USAGE, "layer %d is not a nested model", model);
      return NULL;
    }
  const OshLayer *m = &g->layers[model];
  int call = -1, n_calls = count_calls (g, model, &call);
  if (n_calls != 1)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED,
                "model '%s' is called %d times; only a model called once can be flattened", m->name,
                n_calls);
      return NULL;
    }
  const OshNode *c = &g->nodes[call];
  if (c->n_inputs != m->n_inputs || c->n_outputs > m->n_outputs)
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "model '%s' has %d inputs and %d outputs but is called with %d and %d", m->name,
                m->n_inputs, m->n_outputs, c->n_inputs, c->n_outputs);
      return NULL;
    }
  OshRebuild r;
  if (!osh_rebuild_init (&r, g, err))
    return NULL;
  bool ok = true;
  r.drop_layer[model] = true;
  r.drop_node[call] = true;
  r.redirect[call] = m->outputs;
  for (int k = 0; k < m->n_inputs; k++)
    {
      int in_node = m->inputs[k].node;
      r.drop_node[in_node] = true;
      r.redirect[in_node] = &c->inputs[k];
      r.drop_layer[g->nodes[in_node].layer] = true;
    }
  /* Inner layers keep their names unless the outer model already uses one. */
  for (int l = 0; ok && l < g->n_layers; l++)
    {
      if (g->layers[l].owner != model || r.drop_layer[l])
        continue;
      r.owner[l] = m->owner;
      int clash = osh_graph_find_layer (g, m->owner, g->layers[l].name);
      if (clash >= 0 && clash != model && !(r.rename[l] = free_name (g, &r, m->owner, l)))
        ok = osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  OshGraph *out = ok ? osh_rebuild_run (&r, g->outputs, g->n_outputs, err) : NULL;
  if (out && follow >= 0)
    *followed = r.layer_map[follow];
  osh_rebuild_clear (&r);
  return out;
}

OshGraph *
osh_graph_flatten_model (const OshGraph *g, int model, OshError *err)
{
  return flatten (g, model, -1, NULL, err);
}

/* Flattens the models around `layer` from the outside in, until it is top level; takes `g`
 * over (frees it) and returns the layer's final index in *out_layer. */
static OshGraph *
flatten_around (OshGraph *g, int layer, int *out_layer, OshError *err)
{
  while (g->layers[layer].owner >= 0)
    {
      OshGraph *next = flatten (g, top_instance (g, layer), layer, &layer, err);
      if (next && layer < 0)
        {
          osh_fail (err, OSH_ERR_USAGE,
                    "that layer is the nested model's own input, which flattening "
                    "replaces by the outer tensor; attach to that tensor instead");
          osh_graph_free (next);
          next = NULL;
        }
      osh_graph_free (g);
      if (!next)
        return NULL;
      g = next;
    }
  if (out_layer)
    *out_layer = layer;
  return g;
}

OshGraph *
osh_graph_flatten_around_layer (const OshGraph *g, int layer, int *new_layer, OshError *err)
{
  if (layer < 0 || layer >= g->n_layers)
    {
      osh_fail (err, OSH_ERR_USAGE, "layer %d does not exist", layer);
      return NULL;
    }
  OshGraph *c = osh_graph_copy_sharing (g, err);
  return c ? flatten_around (c, layer, new_layer, err) : NULL;
}

OshGraph *
osh_graph_flatten_around (const OshGraph *g, const char *path, OshError *err)
{
  int layer = osh_graph_find_path (g, path);
  if (layer < 0)
    {
      osh_fail_no_layer (g, path, err);
      return NULL;
    }
  return osh_graph_flatten_around_layer (g, layer, NULL, err);
}

static OshGraph *
drop_branch (const OshGraph *g, int output, OshError *err)
{
  bool *keep_used = calloc ((size_t) g->n_nodes + 1, sizeof *keep_used);
  bool *drop_used = calloc ((size_t) g->n_nodes + 1, sizeof *drop_used);
  OshRef *outputs = malloc (((size_t) g->n_outputs + 1) * sizeof *outputs);
  OshRebuild r = { 0 };
  OshGraph *out = NULL;
  int n_out = 0;
  for (int o = 0; outputs && o < g->n_outputs; o++)
    if (o != output)
      outputs[n_out++] = g->outputs[o];
  bool ok = keep_used && drop_used && outputs && osh_graph_mark_used (g, outputs, n_out, keep_used)
            && osh_graph_mark_used (g, &g->outputs[output], 1, drop_used);
  if (!ok)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory dropping an output");
  ok = ok && osh_rebuild_init (&r, g, err);
  /* Remove the top-level calls only the dropped output needs, then the top-level layers left
   * without calls, with everything inside them. Models that stay keep all their contents. */
  for (int n = 0; ok && n < g->n_nodes; n++)
    if (drop_used[n] && !keep_used[n] && g->layers[g->nodes[n].layer].owner < 0)
      r.drop_node[n] = true;
  for (int l = 0; ok && l < g->n_layers; l++)
    {
      int owner = g->layers[l].owner;
      if (owner >= 0)
        {
          r.drop_layer[l] = r.drop_layer[owner]; /* owners come before what they own */
          continue;
        }
      int first = osh_graph_layer_first_node (g, l);
      bool all_dropped = first >= 0;
      for (int n = first; all_dropped && n < g->n_nodes; n++)
        if (g->nodes[n].layer == l && !r.drop_node[n])
          all_dropped = false;
      r.drop_layer[l] = all_dropped;
    }
  for (int n = 0; ok && n < g->n_nodes; n++)
    if (r.drop_layer[g->nodes[n].layer])
      r.drop_node[n] = true;
  if (ok)
    out = osh_rebuild_run (&r, outputs, n_out, err);
  osh_rebuild_clear (&r);
  free (keep_used);
  free (drop_used);
  free (outputs);
  return out;
}

OshGraph *
osh_fix_apply (const OshGraph *g, const OshFix *fix, OshError *err)
{
  switch (fix->kind)
    {
    case OSH_FIX_FLATTEN: return osh_graph_flatten_model (g, fix->target, err);
    case OSH_FIX_DROP_BRANCH:
      if (fix->target < 0 || fix->target >= g->n_outputs)
        break;
      return drop_branch (g, fix->target, err);
    case OSH_FIX_ADD_INPUT:
      {
        if (fix->node < 0 || fix->node >= g->n_nodes)
          break;
        OshGraph *c = osh_graph_copy_sharing (g, err);
        OshRef *ins = malloc (((size_t) g->n_inputs + 1) * sizeof *ins);
        bool ok = c && ins;
        if (ok)
          {
            memcpy (ins, g->inputs, (size_t) g->n_inputs * sizeof *ins);
            ins[g->n_inputs] = (OshRef){ fix->node, 0 };
            ok = osh_graph_set_io (c, -1, ins, g->n_inputs + 1, g->outputs, g->n_outputs, err);
          }
        else if (c)
          osh_fail (err, OSH_ERR_NOMEM, "out of memory");
        free (ins);
        if (!ok)
          {
            osh_graph_free (c);
            return NULL;
          }
        return c;
      }
    case OSH_FIX_REWIRE:
      {
        if (fix->node < 0 || fix->node >= g->n_nodes || fix->target < 0
            || fix->target >= g->n_layers || fix->input < 0
            || fix->input >= g->nodes[fix->node].n_inputs)
          break;
        int source = osh_graph_layer_first_node (g, fix->target);
        int index = fix->target_output >= 0 ? fix->target_output
                                            : g->nodes[fix->node].inputs[fix->input].index;
        int before = g->nodes[fix->node].inputs[fix->input].node;
        if (source < 0 || index >= g->nodes[source].n_outputs)
          {
            osh_fail (err, OSH_ERR_USAGE, "layer '%s' has no call to take output %d from",
                      g->layers[fix->target].name, index);
            return NULL;
          }
        OshGraph *c = osh_graph_copy_sharing (g, err);
        if (c)
          {
            c->nodes[fix->node].inputs[fix->input] = (OshRef){ source, index };
            c = flatten_around (c, fix->target, NULL, err);
          }
        /* The source may come after the consumer in node order: put the nodes back in an
         * order where every input exists first, as the IR expects. */
        /* A missing tensor nothing reads any more goes with the rewire. */
        bool drop = c && osh_connectivity_is_missing_tensor (c, before);
        for (int n = 0; drop && n < c->n_nodes; n++)
          for (int i = 0; i < c->nodes[n].n_inputs; i++)
            drop &= c->nodes[n].inputs[i].node != before;
        if (c && (source > fix->node || drop))
          {
            OshRebuild r;
            bool init = osh_rebuild_init (&r, c, err);
            if (init && drop)
              r.drop_node[before] = r.drop_layer[c->nodes[before].layer] = true;
            OshGraph *sorted = init ? osh_rebuild_run (&r, c->outputs, c->n_outputs, err) : NULL;
            osh_rebuild_clear (&r);
            osh_graph_free (c);
            c = sorted;
          }
        return c;
      }
    }
  osh_fail (err, OSH_ERR_USAGE, "fix '%s' does not fit this graph", fix->id ? fix->id : "?");
  return NULL;
}
