/* osh-graph-handle.c — an atomic reference count around OshGraph and its head list. */
#include "osh-graph-handle.h"

#include <string.h>

static void
applied_head_free (OshAppliedHead *a)
{
  for (int i = 0; i < a->spec.n_steps; i++)
    g_free (a->names[i]);
  g_free (a->path);
  g_free (a);
}

static OshAppliedHead *
applied_head_copy (const OshAppliedHead *a)
{
  OshAppliedHead *c = g_new0 (OshAppliedHead, 1);
  c->path = g_strdup (a->path);
  c->spec = a->spec;
  for (int i = 0; i < a->spec.n_steps; i++)
    c->names[i] = g_strdup (a->names[i]);
  return c;
}

static void
clear_graph (gpointer data)
{
  OshGraphHandle *h = data;
  osh_graph_free (h->graph);
  g_ptr_array_unref (h->heads);
}

OshGraphHandle *
osh_graph_handle_new (OshGraph *g)
{
  OshGraphHandle *h = g_atomic_rc_box_new0 (OshGraphHandle);
  h->graph = g;
  h->heads = g_ptr_array_new_with_free_func ((GDestroyNotify) applied_head_free);
  return h;
}

OshGraphHandle *
osh_graph_handle_new_edit (OshGraph *g, const OshGraphHandle *from, const OshAppliedHead *head)
{
  OshGraphHandle *h = osh_graph_handle_new (g);
  for (guint i = 0; from && i < from->heads->len; i++)
    g_ptr_array_add (h->heads, applied_head_copy (g_ptr_array_index (from->heads, i)));
  if (head)
    g_ptr_array_add (h->heads, applied_head_copy (head));
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
