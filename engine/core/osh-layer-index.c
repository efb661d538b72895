#include "osh-layer-index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing: slots hold layer index + 1 (0 = empty), at most half
 * full. Keys are unique (osh_graph_add_layer refuses a name its owner already has). */
struct OshLayerIndex
{
  int32_t *slots;
  uint32_t mask; /* capacity - 1, a power of two */
  int count;
};

static uint32_t
key_hash (int owner, const char *name)
{
  uint32_t h = 2166136261u ^ (uint32_t) (owner + 1) * 16777619u; /* FNV-1a, owner first */
  for (const unsigned char *p = (const unsigned char *) name; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h ^ (h >> 15);
}

void
osh_layer_index_free (struct OshLayerIndex *index)
{
  if (!index)
    return;
  free (index->slots);
  free (index);
}

static void
put (struct OshLayerIndex *index, const OshGraph *g, int layer)
{
  uint32_t at = key_hash (g->layers[layer].owner, g->layers[layer].name) & index->mask;
  while (index->slots[at])
    at = (at + 1) & index->mask;
  index->slots[at] = layer + 1;
  index->count++;
}

/* A fresh index with room for `n` entries, holding layers [0, filled). */
static struct OshLayerIndex *
build (const OshGraph *g, int filled, int n)
{
  struct OshLayerIndex *index = calloc (1, sizeof *index);
  uint32_t cap = 64;
  while (cap < (uint32_t) n * 2)
    cap *= 2;
  if (!index || !(index->slots = calloc (cap, sizeof *index->slots)))
    {
      free (index);
      return NULL;
    }
  index->mask = cap - 1;
  for (int i = 0; i < filled; i++)
    put (index, g, i);
  return index;
}

void
osh_layer_index_rebuild (OshGraph *g)
{
  osh_layer_index_free (g->layer_index);
  g->layer_index = build (g, g->n_layers, g->n_layers);
}

void
osh_layer_index_add (OshGraph *g, int layer)
{
  struct OshLayerIndex *index = g->layer_index;
  if (!index || (uint32_t) (index->count + 1) * 2 > index->mask + 1)
    {
      /* Grows by doubling: building a graph layer by layer stays linear. */
      osh_layer_index_free (index);
      g->layer_index = index = build (g, layer, (layer + 1) * 2);
      if (!index)
        return;
    }
  put (index, g, layer);
}

int
osh_layer_index_find (const OshGraph *g, int owner, const char *name)
{
  const struct OshLayerIndex *index = g->layer_index;
  if (!index)
    return -2;
  for (uint32_t at = key_hash (owner, name) & index->mask; index->slots[at];
       at = (at + 1) & index->mask)
    {
      const OshLayer *l = &g->layers[index->slots[at] - 1];
      if (l->owner == owner && strcmp (l->name, name) == 0)
        return index->slots[at] - 1;
    }
  return -1;
}
