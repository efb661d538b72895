/* osh-scene-styles.h — the seam between the connectivity analysis and the scene: maps
 * osh-connectivity.h's per-node flags to OshStyle words, so the scene needs no analysis.
 *
 *   OshConnectivity *c = osh_connectivity_analyze (g, &err);
 *   uint32_t *styles = g_new0 (uint32_t, g->n_nodes);
 *   osh_styles_add_connectivity (c->node_flags, g->n_nodes, styles);
 *   osh_scene_set_styles (scene, styles, g->n_nodes);
 */
#pragma once

#include <stdint.h>

/* ORs into styles[n]: DISCONNECTED for nodes on a disconnected path, in a cycle or on a
 * bridge; FOREIGN_ROOT for foreign roots; UNUSED for nodes that reach no output. */
void osh_styles_add_connectivity (const uint32_t *node_flags, int n_nodes, uint32_t *styles);
