/* osh-graph-handle.c — an atomic reference count around OshGraph. */
#include "osh-graph-handle.h"

#include <glib.h>

static void
clear_graph (gpointer data)
{
  OshGraphHandle *h = data;
  osh_graph_free (h->graph);
}

OshGraphHandle *
osh_graph_handle_new (OshGraph *g)
{
  OshGraphHandle *h = g_atomic_rc_box_new0 (OshGraphHandle);
  h->graph = g;
  return h;
}

OshGraphHandle *
osh_graph_handle_ref (OshGraphHandle *h)
{
  return h ? g_atomic_rc_box_acquire (h) : NULL;
}

void
osh_graph_handle_unref (OshGraphHandle *h)
{
  if (h)
    g_atomic_rc_box_release_full (h, clear_graph);
}
