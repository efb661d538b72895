/* osh-graph-handle.h — a reference-counted OshGraph, so the layout worker, the undo stack
 * and the window can share one graph without copying its weights.
 *
 *   OshGraphHandle *h = osh_graph_handle_new (osh_model_load (path, &err));
 *   start_layout_in_worker (osh_graph_handle_ref (h));   // the worker unrefs when done
 *   osh_graph_handle_unref (h);                          // freed by the last owner
 *
 * A graph behind a handle is never modified: an edit makes a new graph and a new handle.
 */
#pragma once

#include "osh-graph.h"

typedef struct
{
  OshGraph *graph; /* owned, read-only once shared */
} OshGraphHandle;

OshGraphHandle *osh_graph_handle_new (OshGraph *g); /* takes ownership of g */
OshGraphHandle *osh_graph_handle_ref (OshGraphHandle *h);
void osh_graph_handle_unref (OshGraphHandle *h);
