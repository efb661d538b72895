#include "osh-scene-styles.h"

#include "osh-connectivity.h"
#include "osh-scene.h"

void
osh_styles_add_connectivity (const uint32_t *node_flags, int n_nodes, uint32_t *styles)
{
  for (int n = 0; node_flags && n < n_nodes; n++)
    {
      uint32_t f = node_flags[n];
      if (f & (OSH_CONN_DISCONNECTED | OSH_CONN_CYCLE | OSH_CONN_BRIDGE))
        styles[n] |= OSH_STYLE_DISCONNECTED;
      if (f & OSH_CONN_FOREIGN_ROOT)
        styles[n] |= OSH_STYLE_FOREIGN_ROOT;
      /* A disconnected path reaches no output either; red says more than faded. */
      if ((f & OSH_CONN_UNUSED) && !(styles[n] & OSH_STYLE_DISCONNECTED))
        styles[n] |= OSH_STYLE_UNUSED;
    }
}
