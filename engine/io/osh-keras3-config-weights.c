/* The weights a Keras 3 layer's config implies, for reading a .keras file's graph without its
 * model.weights.h5 (osh_keras3_read_structure): HDF5 is then not touched at all, so no guard
 * child has to read the file first. Keras 3 builds a layer's variables from its config and its
 * input shape (Layer.build); this repeats that for the classes whose build it knows and says
 * "cannot tell" for any other, the caller then reading the HDF5 headers as before. Reading the
 * weights later checks every shape told here against the file's (osh_weights_take). */
#include "osh-keras3-config-weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"
#include "osh-write-names.h"

/* The input shape of the first call of `layer`, or NULL when it is never called or its input is
 * not a single tensor of known rank. */
static const OshShape *
first_input (const OshGraph *g, int layer)
{
  for (int n = 0; n < g->n_nodes; n++)
    {
      const OshNode *node = &g->nodes[n];
      if (node->layer != layer)
        continue;
      if (node->n_inputs != 1)
        return NULL;
      OshRef r = node->inputs[0];
      const OshNode *from = r.node >= 0 && r.node < g->n_nodes ? &g->nodes[r.node] : NULL;
      if (!from || !from->shapes || r.index < 0 || r.index >= from->n_outputs
          || from->shapes[r.index].rank < 1)
        return NULL;
      return &from->shapes[r.index];
    }
  return NULL;
}

/* The size of `in` along Keras axis `axis` (negative counts from the end), or -1. */
static int64_t
size_along (const OshShape *in, int64_t axis)
{
  if (axis < 0)
    axis += in->rank;
  return axis >= 1 && axis < in->rank ? in->dim[axis] : -1;
}

/* The config's axes (an int or a list of ints; `fallback` when absent); -1 when not readable. */
static int
config_axes (const json_t *config, const char *key, int64_t fallback, int64_t *axes, int max)
{
  const json_t *v = json_object_get (config, key);
  if (!v)
    {
      axes[0] = fallback;
      return 1;
    }
  if (json_is_integer (v))
    {
      axes[0] = json_integer_value (v);
      return 1;
    }
  if (!json_is_array (v) || json_array_size (v) == 0 || (int) json_array_size (v) > max)
    return -1;
  for (size_t i = 0; i < json_array_size (v); i++)
    {
      if (!json_is_integer (json_array_get (v, i)))
        return -1;
      axes[i] = json_integer_value (json_array_get (v, i));
    }
  return (int) json_array_size (v);
}

/* The shape made of the sizes of `in` along the config's axes (Keras's per-feature weights). */
static bool
shape_along_axes (const json_t *config, const char *key, const OshShape *in, OshShape *out)
{
  int64_t axes[OSH_MAX_RANK];
  int n = config_axes (config, key, -1, axes, OSH_MAX_RANK);
  if (n < 0)
    return false;
  out->rank = n;
  for (int i = 0; i < n; i++)
    if ((out->dim[i] = size_along (in, axes[i])) <= 0)
      return false;
  return true;
}

/* The weights of one layer into `rule` (n = 0: none); false when they cannot be told. */
static bool
layer_weights (const OshGraph *g, int layer, OshWeightRule *rule)
{
  const OshLayer *l = &g->layers[layer];
  memset (rule, 0, sizeof *rule);
  if (l->is_model)
    return true; /* a nested model's weights are its layers' */
  const OshOp *op = osh_op_find (g, l->class_name);
  if (!op)
    return false;
  const char *cls = l->class_name;
  bool weighted = op->weights || !strcmp (cls, "LayerNormalization")
                  || !strcmp (cls, "Normalization") || !strcmp (cls, "PReLU");
  if (!weighted)
    return true; /* the rest of Keras's op table holds no variables */
  const OshShape *in = first_input (g, layer);
  if (!in)
    return false;
  const json_t *cfg = l->config;
  if (!strcmp (cls, "BatchNormalization") || !strcmp (cls, "LayerNormalization"))
    {
      /* gamma if scale, beta if center (Keras 3's order), then BatchNormalization's moving
       * mean and variance; all along the axes. RMS scaling changes what LayerNormalization
       * holds between Keras versions: not told here. */
      OshShape s;
      bool bn = cls[0] == 'B';
      if (osh_config_bool (cfg, "rms_scaling", false) || !shape_along_axes (cfg, "axis", in, &s)
          || (bn && s.rank != 1))
        return false;
      int n = osh_config_bool (cfg, "scale", true) + osh_config_bool (cfg, "center", true)
              + (bn ? 2 : 0);
      for (int i = 0; i < n; i++)
        rule->shape[i] = s;
      rule->n = n;
      return true;
    }
  if (!strcmp (cls, "Normalization"))
    {
      /* Adapted statistics: mean, variance (along the kept axes) and the count (a scalar);
       * none when the config gives the mean and variance. */
      if (!json_is_null (json_object_get (cfg, "mean"))
          || !json_is_null (json_object_get (cfg, "variance"))
          || !shape_along_axes (cfg, "axis", in, &rule->shape[0]))
        return false;
      rule->shape[1] = rule->shape[0];
      rule->shape[2] = (OshShape){ .rank = 0 };
      rule->n = 3;
      return true;
    }
  if (!op->weights)
    return false; /* PReLU: its shared axes are not repeated here */
  OshShape out;
  OshOpCall call = { .graph = g, .layer = l, .in = in, .n_in = 1, .out = &out, .n_out = 1 };
  OshError ignored = { 0 };
  if (!op->weights (&call, rule, &ignored))
    return false;
  /* The op's rule leaves what only a held weight tells open: a depthwise kernel's depth
   * multiplier comes from the config here (as the rule's bias size does). */
  int64_t dm = osh_config_int (cfg, "depth_multiplier", 1);
  bool depthwise = !strcmp (cls, "DepthwiseConv2D") || !strcmp (cls, "SeparableConv2D");
  for (int w = 0; w < rule->n; w++)
    {
      OshShape *s = &rule->shape[w];
      if (depthwise && w == 0 && s->rank >= 2 && s->dim[s->rank - 1] < 0)
        s->dim[s->rank - 1] = dm;
      for (int d = 0; d < s->rank; d++)
        if (s->dim[d] <= 0)
          return false;
    }
  return true;
}

bool
osh_keras3_config_weights (OshGraph *g, OshError *err)
{
  OshWeightRule *rules = calloc ((size_t) g->n_layers + 1, sizeof *rules);
  if (!rules)
    return osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for the weight shapes of %d layers",
                     g->source_path ? g->source_path : "model", g->n_layers);
  bool ok = true;
  for (int i = 0; ok && i < g->n_layers; i++)
    ok = g->layers[i].n_weights == 0 && layer_weights (g, i, &rules[i]);
  /* All or nothing: the graph gains weights only when every layer's are told. */
  for (int i = 0; ok && i < g->n_layers; i++)
    for (int w = 0; ok && w < rules[i].n; w++)
      {
        OshTensor *t = calloc (1, sizeof *t);
        char name[32];
        osh_keras3_var_name (w, name, sizeof name);
        if (!t)
          {
            ok = osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for the weights of layer '%s'",
                           g->source_path ? g->source_path : "model", g->layers[i].name);
            break;
          }
        t->shape = rules[i].shape[w];
        ok = osh_layer_add_weight (g, i, name, t, true, err);
      }
  free (rules);
  return ok;
}
