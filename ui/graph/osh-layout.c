/* osh-layout.c — IR → DOT text → graphviz `dot` in-process → plain geometry.
 *
 * The graph drawn is made of "items": one per IR node, except that everything inside a
 * collapsed group becomes one item and a call of an expanded nested model is drawn by the
 * model's inner layers (edges bind the call's inputs to the inner Input layers and the inner
 * outputs to the call's consumers). Expanded groups become graphviz clusters. */
#define _GNU_SOURCE /* dladdr */
#include "osh-layout.h"

#include <dlfcn.h>
#include <glib.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <string.h>

#include "osh-graphviz-read.h"
#include "osh-node-text.h"
#include "osh-op.h"
#include "osh-topo.h"

/* ---- Families ---------------------------------------------------------------------------- */

static const char *const family_names[OSH_FAMILY_COUNT] = {
  [OSH_FAMILY_UNKNOWN] = "unknown", [OSH_FAMILY_INPUT] = "input",
  [OSH_FAMILY_CONV] = "conv",       [OSH_FAMILY_DENSE] = "dense",
  [OSH_FAMILY_NORM] = "norm",       [OSH_FAMILY_ACTIVATION] = "activation",
  [OSH_FAMILY_POOLING] = "pooling", [OSH_FAMILY_MERGE] = "merge",
  [OSH_FAMILY_RESHAPE] = "reshape", [OSH_FAMILY_MODEL] = "model",
};

const char *
osh_family_name (OshFamily f)
{
  return f >= 0 && f < OSH_FAMILY_COUNT ? family_names[f] : "unknown";
}

static bool
has (const char *s, const char *part)
{
  return strstr (s, part) != NULL;
}

OshFamily
osh_layer_family (const char *class_name)
{
  if (!class_name)
    return OSH_FAMILY_UNKNOWN;
  char lower[96];
  g_strlcpy (lower, class_name, sizeof lower);
  for (char *p = lower; *p; p++)
    *p = g_ascii_tolower (*p);
  if (has (lower, "input"))
    return OSH_FAMILY_INPUT;
  if (!strcmp (lower, "functional") || !strcmp (lower, "sequential") || !strcmp (lower, "model"))
    return OSH_FAMILY_MODEL;
  if (has (lower, "pool"))
    return OSH_FAMILY_POOLING;
  if (has (lower, "conv"))
    return OSH_FAMILY_CONV;
  if (has (lower, "norm") || has (lower, "rescaling"))
    return OSH_FAMILY_NORM;
  if (!strcmp (lower, "dense") || !strcmp (lower, "gemm") || !strcmp (lower, "matmul")
      || has (lower, "embedding"))
    return OSH_FAMILY_DENSE;
  static const char *const merge[] = { "add",    "subtract", "multiply", "mul",     "sub",
                                       "sum",    "average",  "maximum",  "minimum", "concatenate",
                                       "concat", "dot",      "div" };
  for (size_t i = 0; i < G_N_ELEMENTS (merge); i++)
    if (!strcmp (lower, merge[i]))
      return OSH_FAMILY_MERGE;
  static const char *const act[] = { "activation", "relu", "softmax",        "sigmoid",
                                     "tanh",       "elu",  "dropout",        "leakyrelu",
                                     "prelu",      "clip", "hardsigmoid",    "hardswish",
                                     "swish",      "gelu", "thresholdedrelu" };
  for (size_t i = 0; i < G_N_ELEMENTS (act); i++)
    if (has (lower, act[i]))
      return OSH_FAMILY_ACTIVATION;
  static const char *const reshape[] = { "reshape",   "flatten",      "padding",    "pad",
                                         "cropping",  "permute",      "transpose",  "squeeze",
                                         "unsqueeze", "repeatvector", "upsampling", "resize",
                                         "slice",     "split",        "gather",     "lambda",
                                         "shape",     "identity" };
  for (size_t i = 0; i < G_N_ELEMENTS (reshape); i++)
    if (has (lower, reshape[i]))
      return OSH_FAMILY_RESHAPE;
  return OSH_FAMILY_UNKNOWN;
}

/* ---- Grouping ---------------------------------------------------------------------------- */

/* The repeated-block prefix of a layer name: "block5a_expand_conv" → "block5a",
 * "conv2_block1_1_conv" → "conv2_block1", "block_3_project" → "block_3"; NULL for none. */
static char *
block_prefix (const char *name)
{
  char **tok = g_strsplit (name, "_", -1);
  int n = (int) g_strv_length (tok);
  int end = -1;
  for (int k = 0; k < n - 1 && end < 0; k++)
    {
      const char *b = strstr (tok[k], "block");
      if (!b)
        continue;
      const char *d = b + 5;
      if (g_ascii_isdigit (*d))
        end = k;
      else if (*d == '\0' && k + 1 < n - 1 && g_ascii_isdigit (tok[k + 1][0]))
        end = k + 1;
    }
  char *prefix = NULL;
  if (end >= 0)
    {
      char *saved = tok[end + 1];
      tok[end + 1] = NULL;
      prefix = g_strjoinv ("_", tok);
      tok[end + 1] = saved;
    }
  g_strfreev (tok);
  return prefix;
}

/* ONNX graphs exported by PyTorch name nodes by module path: "/block1/conv_a/Conv". The
 * first level makes the blocks ("block1"), unless one module holds most of the model
 * ("/features/features.3/block/..."): then the second level does ("features/features.3").
 * `crowded` says whether the first level is such a module. */
static char *
module_prefix (const char *name, bool crowded)
{
  char **tok = g_strsplit (name + 1, "/", -1);
  int n = (int) g_strv_length (tok);
  char *prefix = NULL;
  if (crowded && n >= 3 && *tok[1])
    prefix = g_strdup_printf ("%s/%s", tok[0], tok[1]);
  else if (!crowded && n >= 2 && *tok[0])
    prefix = g_strdup (tok[0]);
  g_strfreev (tok);
  return prefix;
}

/* TensorFlow graphs (TF.js graph models) name nodes by name scope, without a leading '/':
 * "StatefulPartitionedCall/model_1/block1_conv1_act/Relu". How many leading scopes every
 * scoped name shares (the SavedModel's wrappers), so blocks start after them. */
static int
shared_scopes (const OshGraph *g)
{
  char **first = NULL;
  int shared = -1;
  for (int i = 0; i < g->n_layers; i++)
    {
      const char *name = g->layers[i].name;
      if (name[0] == '/' || !strchr (name, '/'))
        continue;
      char **tok = g_strsplit (name, "/", -1);
      if (!first)
        {
          first = tok;
          shared = (int) g_strv_length (tok) - 1;
          continue;
        }
      int k = 0;
      while (k < shared && tok[k] && strcmp (tok[k], first[k]) == 0)
        k++;
      shared = k;
      g_strfreev (tok);
    }
  g_strfreev (first);
  return shared < 0 ? 0 : shared;
}

/* The scope block of a TF node name: the scopes up to the first after the shared ones
 * ("StatefulPartitionedCall/model_1/block1_conv1_act"), or NULL when the name is not deeper. */
static char *
scope_prefix (const char *name, int shared)
{
  char **tok = g_strsplit (name, "/", -1);
  char *prefix = NULL;
  if ((int) g_strv_length (tok) >= shared + 2)
    {
      char *saved = tok[shared + 1];
      tok[shared + 1] = NULL;
      prefix = g_strjoinv ("/", tok);
      tok[shared + 1] = saved;
    }
  g_strfreev (tok);
  return prefix;
}

/* The first path component of a module-path name ("/features/..." → "features"), or NULL. */
static char *
module_root (const char *name)
{
  if (name[0] != '/' || !strchr (name + 1, '/'))
    return NULL;
  return g_strndup (name + 1, (gsize) (strchr (name + 1, '/') - (name + 1)));
}

static int
add_group (GArray *groups, OshGroupKind kind, char *name, int parent, int layer)
{
  OshGroup grp = { .kind = kind, .name = name, .parent = parent, .layer = layer };
  g_array_append_val (groups, grp);
  return (int) groups->len - 1;
}

/* The consumers of every node and a search's scratch, made once for all the convexity checks
 * of one grouping. */
typedef struct
{
  const OshGraph *g;
  int *first, *consumers; /* node n's consumers: consumers[first[n] .. first[n + 1]) */
  int *rank;              /* each node's place in a dependency order; NULL: none (a cycle) */
  int *seen, *stack;
  int stamp;
} Reach;

static void
reach_init (Reach *r, const OshGraph *g)
{
  *r = (Reach){ .g = g };
  r->first = g_new0 (int, g->n_nodes + 1);
  for (int n = 0; n < g->n_nodes; n++)
    for (int i = 0; i < g->nodes[n].n_inputs; i++)
      if (g->nodes[n].inputs[i].node >= 0 && g->nodes[n].inputs[i].node < g->n_nodes)
        r->first[g->nodes[n].inputs[i].node + 1]++;
  for (int n = 0; n < g->n_nodes; n++)
    r->first[n + 1] += r->first[n];
  r->consumers = g_new (int, MAX (1, r->first[g->n_nodes]));
  int *fill = g_memdup2 (r->first, sizeof (int) * (size_t) (g->n_nodes + 1));
  for (int n = 0; n < g->n_nodes; n++)
    for (int i = 0; i < g->nodes[n].n_inputs; i++)
      if (g->nodes[n].inputs[i].node >= 0 && g->nodes[n].inputs[i].node < g->n_nodes)
        r->consumers[fill[g->nodes[n].inputs[i].node]++] = n;
  g_free (fill);
  OshError err = { 0 };
  int *order = osh_topo_order (g, &err);
  if (order)
    {
      r->rank = g_new (int, MAX (1, g->n_nodes));
      for (int k = 0; k < g->n_nodes; k++)
        r->rank[order[k]] = k;
      free (order);
    }
  osh_error_clear (&err);
  r->seen = g_new0 (int, MAX (1, g->n_nodes));
  r->stack = g_new (int, MAX (1, g->n_nodes));
}

static void
reach_clear (Reach *r)
{
  g_free (r->first);
  g_free (r->consumers);
  g_free (r->rank);
  g_free (r->seen);
  g_free (r->stack);
}

/* True when a path leaves block `grp` (layers with member[layer] == grp) and comes back into
 * it: a name prefix shared by layers interleaved with others (mini_XCEPTION's block1_bn
 * between unnamed convs). Such a block collapsed into one box would feed itself, so it is not
 * a group. Nodes after the block's last member in dependency order cannot lead back into it:
 * the search stays within the block's span. */
static bool
block_leaks (Reach *r, const int *member, int grp)
{
  const OshGraph *g = r->g;
  int stamp = ++r->stamp, last = g->n_nodes, top = 0;
  if (r->rank)
    {
      last = -1;
      for (int n = 0; n < g->n_nodes; n++)
        if (member[g->nodes[n].layer] == grp)
          last = MAX (last, r->rank[n]);
    }
  for (int n = 0; n < g->n_nodes; n++)
    if (member[g->nodes[n].layer] == grp)
      for (int k = r->first[n]; k < r->first[n + 1]; k++)
        {
          int c = r->consumers[k];
          if (member[g->nodes[c].layer] != grp && r->seen[c] != stamp
              && (!r->rank || r->rank[c] < last))
            {
              r->seen[c] = stamp;
              r->stack[top++] = c;
            }
        }
  while (top > 0)
    {
      int n = r->stack[--top];
      for (int k = r->first[n]; k < r->first[n + 1]; k++)
        {
          int c = r->consumers[k];
          if (member[g->nodes[c].layer] == grp)
            return true;
          if (r->seen[c] != stamp && (!r->rank || r->rank[c] < last))
            {
              r->seen[c] = stamp;
              r->stack[top++] = c;
            }
        }
    }
  return false;
}

static void
drop_nonconvex_blocks (OshGrouping *gr, const OshGraph *g)
{
  Reach reach;
  reach_init (&reach, g);
  int *renumber = g_new (int, MAX (1, gr->n_groups));
  int kept = 0;
  for (int grp = 0; grp < gr->n_groups; grp++)
    {
      bool drop =
          gr->groups[grp].kind != OSH_GROUP_MODEL && block_leaks (&reach, gr->layer_group, grp);
      renumber[grp] = drop ? -1 : kept;
      if (drop)
        {
          g_free (gr->groups[grp].name);
          continue;
        }
      gr->groups[kept++] = gr->groups[grp];
    }
  /* Blocks and modules are never parents, so only layers point at dropped groups. */
  for (int l = 0; l < g->n_layers; l++)
    {
      int old = gr->layer_group[l];
      if (old >= 0 && renumber[old] < 0)
        gr->layer_group[l] = g->layers[l].owner >= 0 ? -2 : -1;
      else if (old >= 0)
        gr->layer_group[l] = renumber[old];
    }
  for (int i = 0; i < kept; i++)
    if (gr->groups[i].parent >= 0)
      gr->groups[i].parent = renumber[gr->groups[i].parent];
  /* A dropped block's layers go back to their owner's model group. */
  for (int l = 0; l < g->n_layers; l++)
    if (gr->layer_group[l] == -2)
      {
        gr->layer_group[l] = -1;
        for (int i = 0; i < kept; i++)
          if (gr->groups[i].kind == OSH_GROUP_MODEL && gr->groups[i].layer == g->layers[l].owner)
            gr->layer_group[l] = i;
      }
  gr->n_groups = kept;
  g_free (renumber);
  reach_clear (&reach);
}

/* The stage a block belongs to: "block5a" → "block5" (EfficientNet's seven stages),
 * "conv2_block1" → "conv2" (ResNet's); NULL when the name says none. Only the last path
 * component is looked at; the model path in front is kept. */
static char *
stage_name (const char *block)
{
  const char *slash = strrchr (block, '/');
  const char *last = slash ? slash + 1 : block;
  size_t head = (size_t) (last - block);
  const char *under = strstr (last, "_block");
  if (under && under > last)
    return g_strndup (block, head + (size_t) (under - last));
  size_t n = strlen (last), k = n;
  while (k > 0 && g_ascii_islower (last[k - 1]))
    k--;
  if (k == n || k == 0 || !g_ascii_isdigit (last[k - 1]))
    return NULL;
  return g_strndup (block, head + k);
}

/* Groups blocks of one stage ("block5a" ... "block5j" → "block5") so a big network shows a
 * dozen boxes at the top level instead of 60. A stage must hold two blocks and be convex
 * like a block (no path leaving it and coming back). Groups are reordered so parents still
 * come before their children. */
static void
add_stages (OshGrouping *gr, const OshGraph *g)
{
  int n = gr->n_groups;
  int *stage_of = g_new (int, MAX (1, n)); /* per group: its candidate stage, -1 for none */
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GArray *parents = g_array_new (FALSE, FALSE, sizeof (int));
  GArray *counts = g_array_new (FALSE, TRUE, sizeof (int));
  for (int i = 0; i < n; i++)
    {
      stage_of[i] = -1;
      char *name = gr->groups[i].kind == OSH_GROUP_BLOCK ? stage_name (gr->groups[i].name) : NULL;
      if (!name)
        continue;
      for (guint s = 0; s < names->len && stage_of[i] < 0; s++)
        if (!strcmp (g_ptr_array_index (names, s), name)
            && g_array_index (parents, int, s) == gr->groups[i].parent)
          stage_of[i] = (int) s;
      if (stage_of[i] < 0)
        {
          stage_of[i] = (int) names->len;
          g_ptr_array_add (names, name);
          g_array_append_val (parents, gr->groups[i].parent);
          g_array_set_size (counts, names->len);
        }
      else
        g_free (name);
      g_array_index (counts, int, stage_of[i])++;
    }
  int n_stages = (int) names->len;
  /* Per layer its candidate stage, for the convexity check. */
  int *member = g_new (int, MAX (1, g->n_layers));
  for (int l = 0; l < g->n_layers; l++)
    {
      int grp = gr->layer_group[l];
      member[l] = grp >= 0 ? stage_of[grp] : -1;
    }
  Reach reach = { 0 };
  if (n_stages)
    reach_init (&reach, g);
  bool *keep = g_new0 (bool, MAX (1, n_stages));
  int kept = 0;
  for (int s = 0; s < n_stages; s++)
    {
      keep[s] = g_array_index (counts, int, s) >= 2 && !block_leaks (&reach, member, s);
      kept += keep[s];
    }
  if (kept > 0)
    {
      /* New order: each stage just before its first block. */
      OshGroup *out = g_new0 (OshGroup, n + kept);
      int *renumber = g_new (int, MAX (1, n));
      int *stage_index = g_new (int, MAX (1, n_stages));
      for (int s = 0; s < n_stages; s++)
        stage_index[s] = -1;
      int m = 0;
      for (int i = 0; i < n; i++)
        {
          int s = stage_of[i];
          if (s >= 0 && keep[s] && stage_index[s] < 0)
            {
              stage_index[s] = m;
              out[m++] = (OshGroup){ .kind = OSH_GROUP_STAGE,
                                     .name = g_strdup (g_ptr_array_index (names, s)),
                                     .parent = gr->groups[i].parent,
                                     .layer = -1 };
            }
          renumber[i] = m;
          out[m++] = gr->groups[i];
        }
      for (int i = 0; i < m; i++)
        if (out[i].kind != OSH_GROUP_STAGE && out[i].parent >= 0)
          out[i].parent = renumber[out[i].parent];
      for (int s = 0; s < n_stages; s++)
        if (stage_index[s] >= 0 && out[stage_index[s]].parent >= 0)
          out[stage_index[s]].parent = renumber[out[stage_index[s]].parent];
      for (int i = 0; i < n; i++)
        if (stage_of[i] >= 0 && keep[stage_of[i]])
          out[renumber[i]].parent = stage_index[stage_of[i]];
      for (int l = 0; l < g->n_layers; l++)
        if (gr->layer_group[l] >= 0)
          gr->layer_group[l] = renumber[gr->layer_group[l]];
      g_free (gr->groups);
      gr->groups = out;
      gr->n_groups = m;
      g_free (renumber);
      g_free (stage_index);
    }
  g_free (keep);
  reach_clear (&reach);
  g_free (member);
  g_free (stage_of);
  g_ptr_array_free (names, TRUE);
  g_array_free (parents, TRUE);
  g_array_free (counts, TRUE);
}

OshGrouping *
osh_grouping_new (const OshGraph *g)
{
  OshGrouping *gr = g_new0 (OshGrouping, 1);
  GArray *groups = g_array_new (FALSE, TRUE, sizeof (OshGroup));
  gr->n_layers = g->n_layers;
  gr->layer_group = g_new (int, MAX (1, g->n_layers));
  int *model_group = g_new (int, MAX (1, g->n_layers)); /* per model layer: its group */

  /* Nested models first: an owner always precedes the layers it owns. */
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      int outer = l->owner >= 0 ? model_group[l->owner] : -1;
      gr->layer_group[i] = outer;
      model_group[i] = -1;
      if (l->is_model)
        {
          model_group[i] =
              add_group (groups, OSH_GROUP_MODEL, osh_graph_layer_path (g, i), outer, i);
          gr->layer_group[i] = model_group[i];
        }
    }

  /* Repeated blocks: a prefix shared by two or more (non-model) layers of one owner. */
  GHashTable *blocks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char **keys = g_new0 (char *, MAX (1, g->n_layers));
  /* Flat names with '/' (ONNX module paths, TF name scopes) make blocks; Keras's are paths. */
  bool scoped = !osh_dialect_of (g)->nested_paths;
  int shared = scoped ? shared_scopes (g) : 0;
  GHashTable *roots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < g->n_layers; i++)
    {
      char *top = module_root (g->layers[i].name);
      if (top)
        g_hash_table_replace (
            roots, top, GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (roots, top)) + 1));
    }
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      char *prefix = NULL;
      if (l->is_model)
        ;
      else if (l->name[0] == '/')
        {
          char *top = module_root (l->name);
          bool crowded =
              top && GPOINTER_TO_INT (g_hash_table_lookup (roots, top)) * 2 > g->n_layers;
          prefix = module_prefix (l->name, crowded);
          g_free (top);
        }
      else if (scoped && strchr (l->name, '/'))
        prefix = scope_prefix (l->name, shared);
      else
        prefix = block_prefix (l->name);
      if (!prefix)
        continue;
      keys[i] = g_strdup_printf ("%d/%s", l->owner, prefix);
      g_free (prefix);
      gpointer c = g_hash_table_lookup (counts, keys[i]);
      g_hash_table_replace (counts, g_strdup (keys[i]), GINT_TO_POINTER (GPOINTER_TO_INT (c) + 1));
    }
  for (int i = 0; i < g->n_layers; i++)
    {
      if (!keys[i] || GPOINTER_TO_INT (g_hash_table_lookup (counts, keys[i])) < 2)
        continue;
      const OshLayer *l = &g->layers[i];
      gpointer found;
      int grp;
      if (g_hash_table_lookup_extended (blocks, keys[i], NULL, &found))
        grp = GPOINTER_TO_INT (found);
      else
        {
          const char *prefix = strchr (keys[i], '/') + 1;
          char *name =
              l->owner >= 0 ? g_strdup_printf (
                  "%s/%s", g_array_index (groups, OshGroup, model_group[l->owner]).name, prefix)
                            : g_strdup (prefix);
          int parent = l->owner >= 0 ? model_group[l->owner] : -1;
          /* Module paths start with '/' (module_prefix); name prefixes do not. */
          OshGroupKind kind = l->name[0] == '/' ? OSH_GROUP_MODULE : OSH_GROUP_BLOCK;
          grp = add_group (groups, kind, name, parent, -1);
          g_hash_table_insert (blocks, g_strdup (keys[i]), GINT_TO_POINTER (grp));
        }
      gr->layer_group[i] = grp;
    }
  for (int i = 0; i < g->n_layers; i++)
    g_free (keys[i]);
  g_free (keys);
  g_hash_table_destroy (blocks);
  g_hash_table_destroy (counts);
  g_hash_table_destroy (roots);
  g_free (model_group);

  gr->n_groups = (int) groups->len;
  gr->groups = (OshGroup *) g_array_free (groups, FALSE);
  drop_nonconvex_blocks (gr, g);
  add_stages (gr, g);
  for (int i = 0; i < g->n_layers; i++)
    for (int grp = gr->layer_group[i]; grp >= 0; grp = gr->groups[grp].parent)
      gr->groups[grp].n_layers++;
  return gr;
}

void
osh_grouping_free (OshGrouping *gr)
{
  if (!gr)
    return;
  for (int i = 0; i < gr->n_groups; i++)
    g_free (gr->groups[i].name);
  g_free (gr->groups);
  g_free (gr->layer_group);
  g_free (gr);
}

OshGrouping *
osh_grouping_copy (const OshGrouping *gr)
{
  OshGrouping *c = g_new0 (OshGrouping, 1);
  c->n_groups = gr->n_groups;
  c->n_layers = gr->n_layers;
  c->groups = g_memdup2 (gr->groups, sizeof (OshGroup) * MAX (1, gr->n_groups));
  for (int i = 0; i < gr->n_groups; i++)
    c->groups[i].name = g_strdup (gr->groups[i].name);
  c->layer_group = g_memdup2 (gr->layer_group, sizeof (int) * MAX (1, gr->n_layers));
  return c;
}

int
osh_grouping_find (const OshGrouping *gr, const char *name)
{
  if (!gr || !name)
    return -1;
  int found = -1, matches = 0;
  for (int i = 0; i < gr->n_groups; i++)
    {
      const char *full = gr->groups[i].name;
      if (!strcmp (full, name))
        return i;
      const char *last = strrchr (full, '/');
      if (last && !strcmp (last + 1, name))
        {
          found = i;
          matches++;
        }
    }
  return matches == 1 ? found : -1;
}

void
osh_grouping_set_collapsed (OshGrouping *gr, int group, bool collapsed)
{
  if (gr && group >= 0 && group < gr->n_groups)
    gr->groups[group].collapsed = collapsed;
}

void
osh_grouping_collapse_kind (OshGrouping *gr, OshGroupKind kind, bool collapsed)
{
  for (int i = 0; gr && i < gr->n_groups; i++)
    if (gr->groups[i].kind == kind)
      gr->groups[i].collapsed = collapsed;
}

bool
osh_grouping_overview (OshGrouping *gr, const OshGraph *g)
{
  if (!gr || g->n_layers <= OSH_OVERVIEW_ABOVE_LAYERS)
    return false;
  osh_grouping_collapse_kind (gr, OSH_GROUP_STAGE, true);
  osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, true);
  osh_grouping_collapse_kind (gr, OSH_GROUP_MODULE, true);
  return true;
}

bool
osh_grouping_hidden (const OshGrouping *gr, int group)
{
  for (; gr && group >= 0; group = gr->groups[group].parent)
    if (gr->groups[group].collapsed)
      return true;
  return false;
}

int
osh_grouping_layer_collapsed_group (const OshGrouping *gr, int layer)
{
  if (!gr || layer < 0 || layer >= gr->n_layers)
    return -1;
  int outer = -1;
  for (int grp = gr->layer_group[layer]; grp >= 0; grp = gr->groups[grp].parent)
    if (gr->groups[grp].collapsed)
      outer = grp;
  return outer;
}

bool
osh_grouping_layer_in (const OshGrouping *gr, int layer, int group)
{
  if (!gr || layer < 0 || layer >= gr->n_layers)
    return false;
  for (int grp = gr->layer_group[layer]; grp >= 0; grp = gr->groups[grp].parent)
    if (grp == group)
      return true;
  return false;
}

static void
expand_layer (OshGrouping *gr, int layer)
{
  for (int grp = gr->layer_group[layer]; grp >= 0; grp = gr->groups[grp].parent)
    gr->groups[grp].collapsed = false;
}

void
osh_grouping_expand_path (OshGrouping *gr, const OshGraph *g, int layer)
{
  if (!gr || layer < 0 || layer >= g->n_layers || gr->n_layers != g->n_layers)
    return;
  bool *seen = g_new0 (bool, MAX (1, g->n_nodes));
  GArray *stack = g_array_new (FALSE, FALSE, sizeof (int));
  for (int n = 0; n < g->n_nodes; n++)
    if (g->nodes[n].layer == layer)
      {
        seen[n] = true;
        g_array_append_val (stack, n);
      }
  expand_layer (gr, layer);
  while (stack->len)
    {
      int n = g_array_index (stack, int, stack->len - 1);
      g_array_set_size (stack, stack->len - 1);
      const OshNode *node = &g->nodes[n];
      const OshLayer *l = &g->layers[node->layer];
      expand_layer (gr, node->layer);
      /* Upstream: the node's inputs; a model call's inner outputs; for an inner Input
       * layer, what the calls of its model bind to it. */
      GArray *up = g_array_new (FALSE, FALSE, sizeof (int));
      for (int i = 0; i < node->n_inputs; i++)
        g_array_append_val (up, node->inputs[i].node);
      if (l->is_model)
        for (int i = 0; i < l->n_outputs; i++)
          g_array_append_val (up, l->outputs[i].node);
      if (l->owner >= 0)
        {
          const OshLayer *m = &g->layers[l->owner];
          for (int i = 0; i < m->n_inputs; i++)
            if (m->inputs[i].node == n)
              for (int c = 0; c < g->n_nodes; c++)
                if (g->nodes[c].layer == l->owner && i < g->nodes[c].n_inputs)
                  g_array_append_val (up, g->nodes[c].inputs[i].node);
        }
      for (guint k = 0; k < up->len; k++)
        {
          int u = g_array_index (up, int, k);
          if (u >= 0 && u < g->n_nodes && !seen[u])
            {
              seen[u] = true;
              g_array_append_val (stack, u);
            }
        }
      g_array_free (up, TRUE);
    }
  g_array_free (stack, TRUE);
  g_free (seen);
}

/* ---- Items and edges --------------------------------------------------------------------- */

typedef struct
{
  const OshGraph *g;
  const OshGrouping *gr;
  GArray *items;     /* OshLayoutItem */
  GArray *edges;     /* OshLayoutEdge */
  GHashTable *pairs; /* "from,to" → edge index + 1 */
  int *node_item;
  int *group_item;
  int *item_cluster; /* per item: the expanded group it sits in, -1 at top level */
  PangoContext *text;
  OshNodeMeasure *measure;
} Builder;

static bool
model_transparent (const Builder *b, int layer)
{
  const OshLayer *l = &b->g->layers[layer];
  return l->is_model && l->n_outputs > 0 && osh_grouping_layer_collapsed_group (b->gr, layer) < 0;
}

static void
shape_text (const OshGraph *g, OshRef r, char *buf, size_t size)
{
  buf[0] = '\0';
  if (r.node < 0 || r.node >= g->n_nodes)
    return;
  const OshNode *n = &g->nodes[r.node];
  if (!n->shapes || r.index < 0 || r.index >= n->n_outputs || n->shapes[r.index].rank <= 0)
    return;
  osh_shape_format (&n->shapes[r.index], buf, size);
}

static void
measure (Builder *b, OshLayoutItem *it)
{
  osh_node_measure_box (b->measure, it->title, it->subtitle, it->shape_text, it->params, &it->box.w,
                        &it->box.h);
}

static int
group_item (Builder *b, int grp)
{
  if (b->group_item[grp] >= 0)
    return b->group_item[grp];
  const OshGraph *g = b->g;
  const OshGroup *group = &b->gr->groups[grp];
  OshLayoutItem it = { .kind = OSH_ITEM_GROUP,
                       .node = -1,
                       .group = grp,
                       .layer = group->layer,
                       .family = OSH_FAMILY_MODEL };
  const char *slash = strrchr (group->name, '/');
  it.title = g_strdup (slash ? slash + 1 : group->name);
  char shape[128] = "";
  if (group->kind == OSH_GROUP_MODEL)
    {
      const OshLayer *m = &g->layers[group->layer];
      it.subtitle = g_strdup_printf ("%s · %d layers", m->class_name, group->n_layers - 1);
      it.params = osh_graph_layer_params (g, group->layer, NULL);
      if (m->n_outputs > 0)
        shape_text (g, m->outputs[0], shape, sizeof shape);
    }
  else
    {
      it.subtitle = g_strdup_printf ("%s · %d layers",
                                     group->kind == OSH_GROUP_MODULE  ? "module"
                                     : group->kind == OSH_GROUP_STAGE ? "stage"
                                                                      : "block",
                                     group->n_layers);
      int last = -1;
      for (int l = 0; l < g->n_layers; l++)
        if (osh_grouping_layer_in (b->gr, l, grp))
          {
            it.params += osh_graph_layer_params (g, l, NULL);
            last = l;
          }
      /* Blocks are built in order: the last layer's output is the block's. */
      int node = last >= 0 ? osh_graph_layer_first_node (g, last) : -1;
      if (node >= 0)
        shape_text (g, (OshRef){ node, 0 }, shape, sizeof shape);
    }
  /* "in → out": what enters the group first (from outside it) and what leaves it. */
  char in[128] = "";
  for (int n = 0; n < g->n_nodes && !in[0]; n++)
    if (osh_grouping_layer_in (b->gr, g->nodes[n].layer, grp))
      for (int i = 0; i < g->nodes[n].n_inputs && !in[0]; i++)
        {
          OshRef r = g->nodes[n].inputs[i];
          if (r.node >= 0 && r.node < g->n_nodes
              && !osh_grouping_layer_in (b->gr, g->nodes[r.node].layer, grp))
            shape_text (g, r, in, sizeof in);
        }
  it.shape_text = in[0] && shape[0] ? g_strdup_printf ("%s → %s", in, shape) : g_strdup (shape);
  measure (b, &it);
  g_array_append_val (b->items, it);
  b->group_item[grp] = (int) b->items->len - 1;
  return b->group_item[grp];
}

/* The item drawing node n: itself, its collapsed group, or -1 for an expanded model call. */
static int
item_of_node (Builder *b, int n)
{
  if (b->node_item[n] != -2)
    return b->node_item[n];
  const OshGraph *g = b->g;
  int layer = g->nodes[n].layer;
  int cg = osh_grouping_layer_collapsed_group (b->gr, layer);
  int item;
  if (cg >= 0)
    item = group_item (b, cg);
  else if (model_transparent (b, layer))
    item = -1;
  else
    {
      const OshLayer *l = &g->layers[layer];
      OshLayoutItem it = { .kind = OSH_ITEM_NODE,
                           .node = n,
                           .group = -1,
                           .layer = layer,
                           .family = osh_layer_family (l->class_name) };
      it.title = g_strdup (l->name);
      /* Inside a block named by a path (an ONNX module "/features/features.3", a TF name scope
       * "StatefulPartitionedCall/model/block1") the frame already says the path: the box says
       * the rest. */
      int grp = b->gr ? b->gr->layer_group[layer] : -1;
      const char *path = l->name + (l->name[0] == '/');
      if (grp >= 0 && l->owner < 0)
        {
          const char *prefix = b->gr->groups[grp].name;
          size_t len = strlen (prefix);
          if (!strncmp (path, prefix, len) && path[len] == '/' && path[len + 1])
            {
              g_free (it.title);
              it.title = g_strdup (path + len + 1);
            }
        }
      it.subtitle = g_strdup (l->class_name);
      char shape[128];
      shape_text (g, (OshRef){ n, 0 }, shape, sizeof shape);
      it.shape_text = g_strdup (shape);
      it.params = osh_graph_layer_params (g, layer, NULL);
      measure (b, &it);
      g_array_append_val (b->items, it);
      item = (int) b->items->len - 1;
    }
  b->node_item[n] = item;
  return item;
}

/* Follows a reference through expanded nested models to the node that computes it. */
static OshRef
resolve (Builder *b, OshRef r)
{
  for (int hops = 0; hops <= b->g->n_layers && r.node >= 0 && r.node < b->g->n_nodes; hops++)
    {
      int layer = b->g->nodes[r.node].layer;
      const OshLayer *l = &b->g->layers[layer];
      if (!model_transparent (b, layer) || r.index < 0 || r.index >= l->n_outputs)
        break;
      r = l->outputs[r.index];
    }
  return r;
}

static void
add_edge (Builder *b, OshRef src, int to)
{
  src = resolve (b, src);
  if (src.node < 0 || src.node >= b->g->n_nodes || to < 0)
    return;
  int from = item_of_node (b, src.node);
  if (from < 0 || from == to)
    return;
  char key[32];
  g_snprintf (key, sizeof key, "%d,%d", from, to);
  if (g_hash_table_contains (b->pairs, key))
    return;
  char shape[128];
  shape_text (b->g, src, shape, sizeof shape);
  OshLayoutEdge e = { .from = from, .to = to, .label = g_strdup (shape) };
  g_array_append_val (b->edges, e);
  g_hash_table_insert (b->pairs, g_strdup (key), GINT_TO_POINTER (b->edges->len));
}

static void
build_items (Builder *b)
{
  const OshGraph *g = b->g;
  for (int n = 0; n < g->n_nodes; n++)
    b->node_item[n] = -2;
  for (int n = 0; n < g->n_nodes; n++)
    {
      const OshNode *node = &g->nodes[n];
      int to = item_of_node (b, n);
      if (to >= 0)
        {
          for (int i = 0; i < node->n_inputs; i++)
            add_edge (b, node->inputs[i], to);
          continue;
        }
      /* An expanded model call: its inputs feed the model's inner Input layers. */
      const OshLayer *m = &g->layers[node->layer];
      for (int i = 0; i < node->n_inputs && i < m->n_inputs; i++)
        if (m->inputs[i].node >= 0 && m->inputs[i].node < g->n_nodes)
          add_edge (b, node->inputs[i], item_of_node (b, m->inputs[i].node));
    }
}

/* Above this many items edges carry no graphviz labels (see build_dot). */
#define OSH_LAYOUT_LABEL_LIMIT 400

/* ---- DOT text ---------------------------------------------------------------------------- */

static void
emit_cluster (Builder *b, GString *dot, int grp, GPtrArray **members, GPtrArray **children,
              int depth)
{
  const OshGroup *group = &b->gr->groups[grp];
  const char *slash = strrchr (group->name, '/');
  char *label = g_strescape (slash ? slash + 1 : group->name, NULL);
  g_string_append_printf (dot, "%*ssubgraph cluster_%d {\n%*slabel=\"%s\";\n", depth * 2, "", grp,
                          depth * 2 + 2, "", label);
  g_free (label);
  if (members[grp])
    for (guint k = 0; k < members[grp]->len; k++)
      g_string_append_printf (dot, "%*sn%d;\n", depth * 2 + 2, "",
                              GPOINTER_TO_INT (g_ptr_array_index (members[grp], k)));
  if (children[grp])
    for (guint k = 0; k < children[grp]->len; k++)
      emit_cluster (b, dot, GPOINTER_TO_INT (g_ptr_array_index (children[grp], k)), members,
                    children, depth + 1);
  g_string_append_printf (dot, "%*s}\n", depth * 2, "");
}

/* Graphviz 2.43 spends seconds building the x-positioning tree of a big flat graph; the
 * same graph cut into small clusters lays out ~6x faster and narrower (3,000-layer chain:
 * 3.0 s → 0.5 s of CPU). So above this size, runs of consecutive top-level items (node
 * order is a topological order) go into invisible "chunk" clusters the UI never sees. */
#define OSH_LAYOUT_CHUNK_ABOVE 1000
#define OSH_LAYOUT_CHUNK_SIZE 60

static void
emit_chunks (Builder *b, GString *dot, int n_items)
{
  int chunk = 0;
  for (int i = 0; i < n_items;)
    {
      if (b->item_cluster[i] >= 0)
        {
          i++;
          continue;
        }
      g_string_append_printf (dot, "  subgraph cluster_chunk%d {\n    peripheries=0;\n   ",
                              chunk++);
      for (int k = 0; k < OSH_LAYOUT_CHUNK_SIZE && i < n_items && b->item_cluster[i] < 0; k++, i++)
        g_string_append_printf (dot, " n%d;", i);
      g_string_append (dot, "\n  }\n");
    }
}

static char *
build_dot (Builder *b)
{
  GString *dot = g_string_new ("digraph offshoot {\n");
  int n_items = (int) b->items->len;
  /* dot's x-positioning (network simplex) dominates above ~1,000 nodes: cap its
   * iterations there; a low limit keeps the width sane (NOTES.md). */
  g_string_append (dot, "  graph [rankdir=TB, nodesep=0.3, ranksep=0.3, fontsize=9, "
                        "fontname=\"Sans\"");
  if (n_items > 1000)
    g_string_append (dot, ", nslimit=0.02, nslimit1=2, mclimit=0.5");
  else if (n_items > 400)
    g_string_append (dot, ", nslimit=0.5");
  g_string_append (dot, "];\n  node [shape=box, fixedsize=true, label=\"\"];\n"
                        "  edge [arrowsize=0.7, fontsize=7, fontname=\"Sans\"];\n");
  for (int i = 0; i < n_items; i++)
    {
      const OshLayoutItem *it = &g_array_index (b->items, OshLayoutItem, i);
      char *tip = g_strescape (it->title, NULL);
      g_string_append_printf (dot, "  n%d [width=%.3f, height=%.3f, tooltip=\"%s\"];\n", i,
                              it->box.w / 72.0, it->box.h / 72.0, tip);
      g_free (tip);
    }

  /* Clusters: expanded groups that hold something visible, nested as the groups are. */
  int n_groups = b->gr ? b->gr->n_groups : 0;
  GPtrArray **members = g_new0 (GPtrArray *, MAX (1, n_groups));
  GPtrArray **children = g_new0 (GPtrArray *, MAX (1, n_groups));
  bool *used = g_new0 (bool, MAX (1, n_groups));
  for (int i = 0; i < n_items; i++)
    {
      const OshLayoutItem *it = &g_array_index (b->items, OshLayoutItem, i);
      int grp = it->kind == OSH_ITEM_GROUP ? b->gr->groups[it->group].parent
                : b->gr                    ? b->gr->layer_group[it->layer]
                                           : -1;
      b->item_cluster[i] = grp;
      if (grp < 0)
        continue;
      if (!members[grp])
        members[grp] = g_ptr_array_new ();
      g_ptr_array_add (members[grp], GINT_TO_POINTER (i));
      for (int up = grp; up >= 0 && !used[up]; up = b->gr->groups[up].parent)
        {
          used[up] = true;
          int parent = b->gr->groups[up].parent;
          if (parent >= 0)
            {
              if (!children[parent])
                children[parent] = g_ptr_array_new ();
              g_ptr_array_add (children[parent], GINT_TO_POINTER (up));
            }
        }
    }
  for (int grp = 0; grp < n_groups; grp++)
    if (used[grp] && b->gr->groups[grp].parent < 0)
      emit_cluster (b, dot, grp, members, children, 1);
  if (n_items > OSH_LAYOUT_CHUNK_ABOVE)
    emit_chunks (b, dot, n_items);
  for (int grp = 0; grp < n_groups; grp++)
    {
      if (members[grp])
        g_ptr_array_free (members[grp], TRUE);
      if (children[grp])
        g_ptr_array_free (children[grp], TRUE);
    }
  g_free (members);
  g_free (children);
  g_free (used);

  bool labels = n_items <= OSH_LAYOUT_LABEL_LIMIT;
  for (guint k = 0; k < b->edges->len; k++)
    {
      const OshLayoutEdge *e = &g_array_index (b->edges, OshLayoutEdge, k);
      /* Small graphs let dot make room for shape labels; big ones would grow twice as
       * tall and slow, so their labels go beside the curve's middle instead. */
      if (labels && e->label[0])
        g_string_append_printf (dot, "  n%d -> n%d [label=\"%s\"];\n", e->from, e->to, e->label);
      else
        g_string_append_printf (dot, "  n%d -> n%d;\n", e->from, e->to);
    }
  g_string_append (dot, "}\n");
  return g_string_free (dot, FALSE);
}

static void
builder_init (Builder *b, const OshGraph *g, const OshGrouping *gr)
{
  memset (b, 0, sizeof *b);
  b->g = g;
  b->gr = gr && gr->n_layers == g->n_layers ? gr : NULL;
  b->items = g_array_new (FALSE, TRUE, sizeof (OshLayoutItem));
  b->edges = g_array_new (FALSE, TRUE, sizeof (OshLayoutEdge));
  b->pairs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b->node_item = g_new (int, MAX (1, g->n_nodes));
  int n_groups = b->gr ? b->gr->n_groups : 0;
  b->group_item = g_new (int, MAX (1, n_groups));
  for (int i = 0; i < n_groups; i++)
    b->group_item[i] = -1;
  b->text = osh_node_text_context ();
  b->measure = osh_node_measure_new (b->text);
}

static void
free_items (OshLayoutItem *items, int n)
{
  for (int i = 0; i < n; i++)
    {
      g_free (items[i].title);
      g_free (items[i].subtitle);
      g_free (items[i].shape_text);
    }
  g_free (items);
}

static void
free_edges (OshLayoutEdge *edges, int n)
{
  for (int i = 0; i < n; i++)
    {
      g_free (edges[i].points);
      g_free (edges[i].label);
    }
  g_free (edges);
}

static void
builder_clear (Builder *b)
{
  if (b->items)
    {
      int n = (int) b->items->len;
      free_items ((OshLayoutItem *) (void *) g_array_free (b->items, FALSE), n);
    }
  if (b->edges)
    {
      int n = (int) b->edges->len;
      free_edges ((OshLayoutEdge *) (void *) g_array_free (b->edges, FALSE), n);
    }
  g_hash_table_destroy (b->pairs);
  g_free (b->node_item);
  g_free (b->group_item);
  g_free (b->item_cluster);
  osh_node_measure_free (b->measure);
  g_object_unref (b->text);
}

static char *
builder_run (Builder *b)
{
  build_items (b);
  b->item_cluster = g_new (int, MAX (1, (int) b->items->len));
  return build_dot (b);
}

char *
osh_layout_dot_text (const OshGraph *g, const OshGrouping *gr, OshError *err)
{
  (void) err;
  Builder b;
  builder_init (&b, g, gr);
  char *dot = builder_run (&b);
  builder_clear (&b);
  return dot;
}

/* ---- Graphviz ---------------------------------------------------------------------------- */

static GMutex graphviz_lock; /* graphviz keeps global state: one layout at a time */
static GVC_t *graphviz;
static char graphviz_message[512];

static int
graphviz_error (char *message)
{
  /* Graphviz sends "Error", ": " and the text in separate calls. */
  g_strlcat (graphviz_message, message, sizeof graphviz_message);
  g_strchomp (graphviz_message);
  return 0;
}

/* The dot layout plugin is loaded by hand from beside libgvc, so no `dot -c` config file
 * is needed; when that fails, the plugins the config names are used. */
static GVC_t *
graphviz_context (void)
{
  if (graphviz)
    return graphviz;
  Dl_info info;
  if (dladdr ((void *) gvContext, &info) && info.dli_fname)
    {
      char *dir = g_path_get_dirname (info.dli_fname);
      static const char *const names[] = { "libgvplugin_dot_layout.so.6",
                                           "libgvplugin_dot_layout.so" };
      for (size_t i = 0; i < G_N_ELEMENTS (names) && !graphviz; i++)
        {
          char *path = g_build_filename (dir, "graphviz", names[i], NULL);
          void *h = dlopen (path, RTLD_NOW | RTLD_LOCAL);
          g_free (path);
          gvplugin_library_t *lib = h ? dlsym (h, "gvplugin_dot_layout_LTX_library") : NULL;
          if (lib)
            {
              static lt_symlist_t no_builtins[] = { { NULL, NULL } };
              graphviz = gvContextPlugins (no_builtins, 0);
              gvAddLibrary (graphviz, lib);
            }
        }
      g_free (dir);
    }
  if (!graphviz)
    graphviz = gvContext ();
  agseterrf (graphviz_error);
  agseterr (AGERR); /* warnings stay quiet; errors come back through graphviz_error */
  return graphviz;
}

static OshRect
rect_from_box (boxf bb, double height)
{
  return (OshRect){ bb.LL.x, height - bb.UR.y, bb.UR.x - bb.LL.x, bb.UR.y - bb.LL.y };
}

static void
read_clusters (Agraph_t *sg, double height, GArray *out, int depth)
{
  for (int i = 1; i <= GD_n_cluster (sg); i++)
    {
      Agraph_t *c = GD_clust (sg)[i];
      const char *name = agnameof (c);
      if (g_str_has_prefix (name, "cluster_chunk"))
        continue; /* layout aid, not a group (emit_chunks) */
      OshLayoutCluster cl = { .group = atoi (name + strlen ("cluster_")), .depth = depth };
      cl.box = rect_from_box (GD_bb (c), height);
      g_array_append_val (out, cl);
      read_clusters (c, height, out, depth + 1);
    }
}

static void
grow_rect (OshRect *r, double x, double y)
{
  if (x < r->x)
    {
      r->w += r->x - x;
      r->x = x;
    }
  if (y < r->y)
    {
      r->h += r->y - y;
      r->y = y;
    }
  r->w = MAX (r->w, x - r->x);
  r->h = MAX (r->h, y - r->y);
}

static void
read_edge (OshLayoutEdge *e, Agedge_t *ge, double height)
{
  splines *spl = ED_spl (ge);
  if (!spl || spl->size < 1)
    return;
  /* Concatenate the pieces (dot gives one for a plain edge). */
  int total = 0;
  for (int i = 0; i < spl->size; i++)
    total += spl->list[i].size;
  e->points = g_new (OshPoint, MAX (1, total));
  for (int i = 0; i < spl->size; i++)
    {
      const bezier *bz = &spl->list[i];
      for (int k = 0; k < bz->size; k++)
        {
          if (i > 0 && k == 0)
            continue; /* pieces share their joint */
          e->points[e->n_points++] = (OshPoint){ bz->list[k].x, height - bz->list[k].y };
        }
    }
  const bezier *last = &spl->list[spl->size - 1];
  e->arrow = last->eflag != 0;
  e->arrow_tip =
      e->arrow ? (OshPoint){ last->ep.x, height - last->ep.y } : e->points[e->n_points - 1];
  e->bounds = (OshRect){ e->points[0].x, e->points[0].y, 0, 0 };
  for (int k = 1; k < e->n_points; k++)
    grow_rect (&e->bounds, e->points[k].x, e->points[k].y);
  grow_rect (&e->bounds, e->arrow_tip.x, e->arrow_tip.y);
  textlabel_t *tl = ED_label (ge);
  if (tl && tl->set)
    e->label_pos = (OshPoint){ tl->pos.x - tl->dimen.x / 2, height - tl->pos.y - tl->dimen.y / 2 };
  else
    {
      /* No room made by dot: beside the curve's middle joint. */
      int mid = (e->n_points / 2) / 3 * 3;
      e->label_pos = (OshPoint){ e->points[mid].x + 4, e->points[mid].y - 5 };
    }
  if (e->label && *e->label)
    grow_rect (&e->bounds, e->label_pos.x + 4.2 * (double) strlen (e->label), e->label_pos.y + 10);
}

/* A point of the edge's Bézier chain at t in [0, 1] (over the whole chain). */
static OshPoint
edge_point (const OshLayoutEdge *e, double t)
{
  int segs = (e->n_points - 1) / 3;
  if (segs < 1)
    return e->points[0];
  double at = CLAMP (t, 0, 1) * segs;
  int k = MIN ((int) at, segs - 1);
  double u = at - k, v = 1 - u;
  const OshPoint *p = &e->points[3 * k];
  return (OshPoint){
    v * v * v * p[0].x + 3 * v * v * u * p[1].x + 3 * v * u * u * p[2].x + u * u * u * p[3].x,
    v * v * v * p[0].y + 3 * v * v * u * p[1].y + 3 * v * u * u * p[2].y + u * u * u * p[3].y
  };
}

/* The boxes sorted by their top, so a label is tested only against boxes at its height. */
typedef struct
{
  OshRect *rects;
  int n;
  double tallest;
} BoxRows;

static int
compare_top (const void *a, const void *b)
{
  double ya = ((const OshRect *) a)->y, yb = ((const OshRect *) b)->y;
  return (ya > yb) - (ya < yb);
}

static BoxRows
box_rows (const OshLayoutItem *items, int n_items)
{
  BoxRows rows = { g_new (OshRect, MAX (1, n_items)), n_items, 0 };
  for (int i = 0; i < n_items; i++)
    {
      rows.rects[i] = items[i].box;
      rows.tallest = MAX (rows.tallest, items[i].box.h);
    }
  qsort (rows.rects, (size_t) n_items, sizeof (OshRect), compare_top);
  return rows;
}

static bool
label_hits_box (const BoxRows *rows, OshRect r)
{
  /* The first box whose top could still reach down to the label. */
  double from = r.y - rows->tallest - 1;
  int lo = 0, hi = rows->n;
  while (lo < hi)
    {
      int mid = lo + (hi - lo) / 2;
      if (rows->rects[mid].y < from)
        lo = mid + 1;
      else
        hi = mid;
    }
  for (int i = lo; i < rows->n && rows->rects[i].y - 1 < r.y + r.h; i++)
    {
      OshRect b = rows->rects[i];
      if (r.x < b.x + b.w + 1 && b.x - 1 < r.x + r.w && r.y < b.y + b.h + 1)
        return true;
    }
  return false;
}

/* Shape labels never sit under a box (boxes are drawn over edges): each label goes beside
 * its curve at the first place along it, from the middle outwards, right then left, that
 * keeps clear of every box; a label with no such place is left out. Sizes are the scene's
 * ("Sans 7", osh-scene.c). */
static void
place_edge_labels (Builder *b, const OshLayoutItem *items, int n_items, OshLayoutEdge *edges,
                   int n_edges)
{
  static const double along[] = { 0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9 };
  PangoLayout *pl = pango_layout_new (b->text);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 7");
  pango_layout_set_font_description (pl, font);
  pango_font_description_free (font);
  GHashTable *sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free); /* int[2] */
  BoxRows rows = box_rows (items, n_items);
  for (int k = 0; k < n_edges; k++)
    {
      OshLayoutEdge *e = &edges[k];
      if (!e->label || !*e->label || e->n_points < 4)
        continue;
      /* Shapes repeat along a network: each is measured once. */
      int *size = g_hash_table_lookup (sizes, e->label);
      if (!size)
        {
          size = g_new (int, 2);
          pango_layout_set_text (pl, e->label, -1);
          pango_layout_get_pixel_size (pl, &size[0], &size[1]);
          g_hash_table_insert (sizes, g_strdup (e->label), size);
        }
      int pw = size[0], ph = size[1];
      OshRect r = { e->label_pos.x, e->label_pos.y, pw, ph };
      e->label_w = pw;
      e->label_h = ph;
      if (!label_hits_box (&rows, r))
        continue;
      bool placed = false;
      for (size_t a = 0; a < G_N_ELEMENTS (along) && !placed; a++)
        for (int side = 0; side < 2 && !placed; side++)
          {
            OshPoint p = edge_point (e, along[a]);
            r.x = side == 0 ? p.x + 4 : p.x - 4 - pw;
            r.y = p.y - ph / 2.0;
            placed = !label_hits_box (&rows, r);
          }
      if (placed)
        e->label_pos = (OshPoint){ r.x, r.y };
      else
        e->label[0] = '\0';
    }
  g_hash_table_destroy (sizes);
  g_free (rows.rects);
  g_object_unref (pl);
}

static bool
run_graphviz (Builder *b, const char *dot, OshGraphLayout *lay, OshError *err)
{
  g_mutex_lock (&graphviz_lock);
  GVC_t *gvc = graphviz_context ();
  graphviz_message[0] = '\0';
  Agraph_t *ag = osh_graphviz_read (dot);
  if (!ag)
    {
      osh_fail (err, OSH_ERR_FORMAT, "graphviz could not read the generated DOT text: %s",
                graphviz_message);
      g_mutex_unlock (&graphviz_lock);
      return false;
    }
  if (gvLayout (gvc, ag, "dot") != 0)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED, "graphviz dot layout failed: %s",
                graphviz_message[0] ? graphviz_message
                                    : "is the dot layout plugin installed (dot -c)?");
      agclose (ag);
      g_mutex_unlock (&graphviz_lock);
      return false;
    }
  boxf bb = GD_bb (ag);
  double height = bb.UR.y;
  lay->bounds = (OshRect){ 0, 0, bb.UR.x - bb.LL.x, bb.UR.y - bb.LL.y };
  OshLayoutItem *items = (OshLayoutItem *) (void *) b->items->data;
  OshLayoutEdge *edges = (OshLayoutEdge *) (void *) b->edges->data;
  for (Agnode_t *n = agfstnode (ag); n; n = agnxtnode (ag, n))
    {
      int id = atoi (agnameof (n) + 1);
      if (id < 0 || id >= (int) b->items->len)
        continue;
      double w = ND_width (n) * 72.0, h = ND_height (n) * 72.0;
      items[id].box = (OshRect){ ND_coord (n).x - w / 2, height - ND_coord (n).y - h / 2, w, h };
      for (Agedge_t *ge = agfstout (ag, n); ge; ge = agnxtout (ag, ge))
        {
          char key[32];
          g_snprintf (key, sizeof key, "%d,%d", id, atoi (agnameof (aghead (ge)) + 1));
          int k = GPOINTER_TO_INT (g_hash_table_lookup (b->pairs, key)) - 1;
          if (k >= 0)
            read_edge (&edges[k], ge, height);
        }
    }
  place_edge_labels (b, items, (int) b->items->len, edges, (int) b->edges->len);
  for (guint k = 0; k < b->edges->len; k++)
    if (edges[k].n_points)
      {
        if (edges[k].label[0])
          {
            grow_rect (&edges[k].bounds, edges[k].label_pos.x, edges[k].label_pos.y);
            grow_rect (&edges[k].bounds, edges[k].label_pos.x + edges[k].label_w,
                       edges[k].label_pos.y + edges[k].label_h);
          }
        grow_rect (&lay->bounds, edges[k].bounds.x, edges[k].bounds.y);
        grow_rect (&lay->bounds, edges[k].bounds.x + edges[k].bounds.w,
                   edges[k].bounds.y + edges[k].bounds.h);
      }
  GArray *clusters = g_array_new (FALSE, TRUE, sizeof (OshLayoutCluster));
  read_clusters (ag, height, clusters, 0);
  for (guint i = 0; i < clusters->len; i++)
    {
      OshLayoutCluster *cl = &g_array_index (clusters, OshLayoutCluster, i);
      const char *name = b->gr->groups[cl->group].name;
      const char *slash = strrchr (name, '/');
      cl->label = g_strdup (slash ? slash + 1 : name);
    }
  lay->n_clusters = (int) clusters->len;
  lay->clusters = (OshLayoutCluster *) (void *) g_array_free (clusters, FALSE);
  gvFreeLayout (gvc, ag);
  agclose (ag);
  g_mutex_unlock (&graphviz_lock);
  return true;
}

OshGraphLayout *
osh_layout_compute (const OshGraph *g, const OshGrouping *gr, OshError *err)
{
  gint64 t0 = g_get_monotonic_time ();
  Builder b;
  builder_init (&b, g, gr);
  char *dot = builder_run (&b);
  gint64 t1 = g_get_monotonic_time ();
  OshGraphLayout *lay = g_new0 (OshGraphLayout, 1);
  if (!run_graphviz (&b, dot, lay, err))
    {
      g_free (dot);
      g_free (lay);
      builder_clear (&b);
      return NULL;
    }
  lay->dot = dot;
  lay->n_items = (int) b.items->len;
  lay->items = (OshLayoutItem *) (void *) g_array_free (b.items, FALSE);
  lay->n_edges = (int) b.edges->len;
  lay->edges = (OshLayoutEdge *) (void *) g_array_free (b.edges, FALSE);
  b.items = NULL;
  b.edges = NULL;
  lay->n_nodes = g->n_nodes;
  lay->node_item = b.node_item;
  b.node_item = NULL;
  lay->n_groups = b.gr ? b.gr->n_groups : 0;
  lay->group_item = b.group_item;
  b.group_item = NULL;
  builder_clear (&b);
  gint64 t2 = g_get_monotonic_time ();
  lay->seconds_build = (double) (t1 - t0) / 1e6;
  lay->seconds_layout = (double) (t2 - t1) / 1e6;
  return lay;
}

OshGraphLayout *
osh_layout_ref (OshGraphLayout *lay)
{
  if (lay)
    g_atomic_int_inc (&lay->extra_refs);
  return lay;
}

void
osh_layout_free (OshGraphLayout *lay)
{
  /* g_atomic_int_add gives the count before: above 0, another owner remains. */
  if (!lay || g_atomic_int_add (&lay->extra_refs, -1) > 0)
    return;
  free_items (lay->items, lay->n_items);
  free_edges (lay->edges, lay->n_edges);
  for (int i = 0; i < lay->n_clusters; i++)
    g_free (lay->clusters[i].label);
  g_free (lay->clusters);
  g_free (lay->node_item);
  g_free (lay->group_item);
  g_free (lay->dot);
  g_free (lay);
}
