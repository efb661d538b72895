/* osh-graphviz-read.h — DOT text read into a cgraph graph whose layout does not depend on
 * where things sit in memory. Internal to ui/graph (osh-layout.c).
 *
 * cgraph's default ID discipline gives a named object the address of its interned name as its
 * ID, and keeps subgraphs ordered by ID, so `dot` met the clusters in an order that changed
 * with the heap: the same DOT was laid out differently from run to run (ResNet50's stages:
 * four runs, four pictures). Here names get IDs in order of first use. */
#pragma once

#include <graphviz/cgraph.h>

/* The graph (agclose frees it), or NULL when cgraph cannot read the text. */
Agraph_t *osh_graphviz_read (const char *dot);
