/* Iterative depth-first ordering, so graphs of any depth do not exhaust the stack. */
#include "osh-topo.h"

#include <stdlib.h>

/* Dependency `k` of node `n`: its inputs, then (for a model call) the model's outputs. */
static int
dep (const OshGraph *g, int n, int k)
{
  const OshNode *node = &g->nodes[n];
  if (k < node->n_inputs)
    return node->inputs[k].node;
  const OshLayer *l = &g->layers[node->layer];
  k -= node->n_inputs;
  if (l->is_model && k < l->n_outputs)
    return l->outputs[k].node;
  return -2; /* no more */
}

int *
osh_topo_order (const OshGraph *g, OshError *err)
{
  int n = g->n_nodes;
  int *order = malloc ((size_t) (n ? n : 1) * sizeof *order);
  char *state = calloc ((size_t) (n ? n : 1), 1); /* 0 new, 1 on the stack, 2 done */
  int *stack = malloc ((size_t) (n ? n : 1) * sizeof *stack);
  int *next = calloc ((size_t) (n ? n : 1), sizeof *next);
  int count = 0;
  if (!order || !state || !stack || !next)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory ordering %d nodes", n);
      goto fail;
    }
  for (int root = 0; root < n; root++)
    {
      if (state[root])
        continue;
      int top = 0;
      stack[top++] = root;
      state[root] = 1;
      while (top > 0)
        {
          int v = stack[top - 1];
          int d = dep (g, v, next[v]++);
          if (d == -2)
            {
              state[v] = 2;
              order[count++] = v;
              top--;
            }
          else if (d >= 0 && d < n && state[d] == 0)
            {
              state[d] = 1;
              stack[top++] = d;
            }
          else if (d >= 0 && d < n && state[d] == 1)
            {
              osh_fail (err, OSH_ERR_FORMAT, "layer '%s' is part of a cycle",
                        g->layers[g->nodes[d].layer].name);
              goto fail;
            }
        }
    }
  free (state);
  free (stack);
  free (next);
  return order;
fail:
  free (order);
  free (state);
  free (stack);
  free (next);
  return NULL;
}
