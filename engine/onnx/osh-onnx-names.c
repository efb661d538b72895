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
