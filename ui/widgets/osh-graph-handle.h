/* osh-graph-handle.h — a reference-counted OshGraph, so the layout worker, the run worker,
 * the undo stack and the window share one graph without copying its weights; with the
 * heads attached since the model was opened (for the Python snippet and the "new head"
 * highlight).
 *
 *   OshGraphHandle *h = osh_graph_handle_new (osh_model_load (path, &err));
 *   start_layout_in_worker (osh_graph_handle_ref (h));   // the worker unrefs when done
 *   osh_graph_handle_unref (h);                          // freed by the last owner
 *
 * A graph behind a handle is never modified: an edit makes a new graph and a new handle
 * (osh_graph_handle_new_edit carries the head list over).
 */
#pragma once

#include <glib.h>

#include "osh-graph.h"
#include "osh-heads.h"

typedef struct
{
  char *path; /* where it was attached */
  OshHeadSpec spec;
  char *names[OSH_HEAD_MAX_STEPS]; /* spec.n_steps layer names given by osh_head_attach */
} OshAppliedHead;

typedef struct
{
  OshGraph *graph;  /* owned, read-only once shared */
  GPtrArray *heads; /* OshAppliedHead *, in the order they were attached */
} OshGraphHandle;

OshGraphHandle *osh_graph_handle_new (OshGraph *g); /* takes ownership of g */
/* A handle for `g` (taken over), an edit of `from`: inherits its heads, plus `head` if given
 * (copied). */
OshGraphHandle *osh_graph_handle_new_edit (OshGraph *g, const OshGraphHandle *from,
                                           const OshAppliedHead *head);
OshGraphHandle *osh_graph_handle_ref (OshGraphHandle *h);
void osh_graph_handle_unref (OshGraphHandle *h);
