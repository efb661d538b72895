/* Tensor names of ONNX graphs in the IR (see osh-onnx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-onnx.h"

char *
osh_onnx_tensor_name (const OshGraph *g, OshRef ref)
{
  if (ref.node < 0 || ref.node >= g->n_nodes)
    return NULL;
  const OshLayer *l = &g->layers[g->nodes[ref.node].layer];
  json_t *names = json_object_get (l->config, OSH_ONNX_OUTPUT_NAMES);
  const char *stored = json_string_value (json_array_get (names, (size_t) ref.index));
  if (stored && *stored)
    return strdup (stored);
  if (strcmp (l->class_name, "InputLayer") == 0)
    return strdup (l->name);
  size_t size = strlen (l->name) + 32;
  char *buf = malloc (size);
  if (buf)
    snprintf (buf, size, "%s_output_%d", l->name, ref.index);
  return buf;
}

OshRef
osh_onnx_find_tensor (const OshGraph *g, const char *name)
{
  for (int n = 0; n < g->n_nodes; n++)
    for (int k = 0; k < g->nodes[n].n_outputs; k++)
      {
        char *have = osh_onnx_tensor_name (g, (OshRef){ n, k });
        bool same = have && strcmp (have, name) == 0;
        free (have);
        if (same)
          return (OshRef){ n, k };
      }
  return (OshRef){ -1, 0 };
}

bool
osh_onnx_int64_input (const char *op, size_t slot)
{
  static const struct
  {
    const char *op;
    unsigned slots; /* bit i: input i is int64 */
  } table[] = {
    { "Reshape", 1u << 1 },    { "Pad", 1u << 1 },       { "Slice", 0x1eu },
    { "Squeeze", 1u << 1 },    { "Unsqueeze", 1u << 1 }, { "Expand", 1u << 1 },
    { "Tile", 1u << 1 },       { "Resize", 1u << 3 },    { "Split", 1u << 1 },
    { "ReduceMean", 1u << 1 }, { "ReduceSum", 1u << 1 }, { "ReduceMax", 1u << 1 },
    { "ReduceMin", 1u << 1 },  { "Gather", 1u << 1 },    { "TopK", 1u << 1 },
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp (table[i].op, op) == 0)
      return slot < 32 && (table[i].slots >> slot) & 1u;
  return false;
}
