/* offshoot-window-connectivity.c — after loading and after every edit: is every output
 * computable from the inputs? If not, the banner shows Keras's message, the plain
 * explanation and one button per fix, and the graph shows the path in red. */
#include "offshoot-window-private.h"
#include "osh-connectivity.h"
#include "osh-fixes.h"
#include "osh-heads.h"
#include "osh-scene.h"

static void
on_fix_clicked (GtkButton *button, OffshootWindow *self)
{
  const char *id = g_object_get_data (G_OBJECT (button), "fix-id");
  if (!offshoot_window_handle (self) || !id)
    return;
  const OshGraph *g = offshoot_window_handle (self)->graph;
  OshError err = { 0 };
  OshConnectivity *c = osh_connectivity_analyze (g, &err);
  const OshFix *fix = c ? osh_fix_find (c, id) : NULL;
  OshGraph *fixed = fix ? osh_fix_apply (g, fix, &err) : NULL;
  osh_connectivity_free (c);
  if (!fixed)
    {
      offshoot_window_show_error (self, err.message[0] ? err.message : "The fix no longer applies");
      return;
    }
  offshoot_window_apply_edit (self, fixed);
}

static void
clear_fixes (OffshootWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->disconnect_fixes))))
    gtk_box_remove (self->disconnect_fixes, child);
}

/* Per IR node: the styles the analysis asks for (plus attached heads). */
static uint32_t *
styles_from (const OshGraph *g, const OshConnectivity *c)
{
  uint32_t *styles = g_new0 (uint32_t, MAX (g->n_nodes, 1));
  for (int i = 0; c && i < g->n_nodes; i++)
    {
      uint32_t f = c->node_flags[i];
      if (f & (OSH_CONN_DISCONNECTED | OSH_CONN_CYCLE))
        styles[i] |= OSH_STYLE_DISCONNECTED;
      if (f & OSH_CONN_FOREIGN_ROOT)
        styles[i] |= OSH_STYLE_FOREIGN_ROOT;
      if (f & OSH_CONN_UNUSED)
        styles[i] |= OSH_STYLE_UNUSED;
    }
  return styles;
}

void
offshoot_window_update_connectivity (OffshootWindow *self)
{
  clear_fixes (self);
  self->connected = TRUE;
  if (!offshoot_window_handle (self))
    {
      gtk_revealer_set_reveal_child (self->disconnect_revealer, FALSE);
      return;
    }
  const OshGraph *g = offshoot_window_handle (self)->graph;
  OshError err = { 0 };
  OshConnectivity *c = osh_connectivity_analyze (g, &err);
  g_autofree uint32_t *styles = styles_from (g, c);
  for (guint i = 0; i < offshoot_window_handle (self)->heads->len; i++)
    {
      const OshAppliedHead *a = g_ptr_array_index (offshoot_window_handle (self)->heads, i);
      for (int k = 0; k < a->spec.n_steps; k++)
        {
          int l = osh_graph_find_layer (g, -1, a->names[k]);
          for (int n = 0; l >= 0 && n < g->n_nodes; n++)
            if (g->nodes[n].layer == l)
              styles[n] |= OSH_STYLE_NEW_HEAD;
        }
    }
  /* Heads attached before the model was saved (osh_graph_layer_is_head). */
  for (int n = 0; n < g->n_nodes; n++)
    if (osh_graph_layer_is_head (g, g->nodes[n].layer))
      styles[n] |= OSH_STYLE_NEW_HEAD;
  offshoot_graph_view_set_styles (self->graph_view, styles, g->n_nodes);
  if (!c || c->connected)
    {
      gtk_revealer_set_reveal_child (self->disconnect_revealer, FALSE);
      osh_connectivity_free (c);
      return;
    }
  self->connected = FALSE;
  gtk_label_set_text (self->disconnect_message, c->message ? c->message : "");
  gtk_label_set_text (self->disconnect_explanation, c->explanation ? c->explanation : "");
  for (int i = 0; i < c->n_fixes; i++)
    {
      GtkWidget *b = gtk_button_new_with_label (c->fixes[i].description);
      gtk_widget_set_tooltip_text (b, c->fixes[i].id);
      g_object_set_data_full (G_OBJECT (b), "fix-id", g_strdup (c->fixes[i].id), g_free);
      if (i == 0)
        gtk_widget_add_css_class (b, "suggested-action");
      gtk_label_set_wrap (GTK_LABEL (gtk_button_get_child (GTK_BUTTON (b))), TRUE);
      g_signal_connect_object (b, "clicked", G_CALLBACK (on_fix_clicked), self, 0);
      gtk_box_append (self->disconnect_fixes, b);
    }
  gtk_revealer_set_reveal_child (self->disconnect_revealer, TRUE);
  osh_connectivity_free (c);
}

int
offshoot_window_count_fixes (OffshootWindow *self)
{
  int n = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->disconnect_fixes)); c;
       c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

gboolean
offshoot_window_apply_fix (OffshootWindow *self, int index)
{
  int n = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->disconnect_fixes)); c;
       c = gtk_widget_get_next_sibling (c), n++)
    if (n == index)
      {
        g_signal_emit_by_name (c, "clicked");
        return TRUE;
      }
  return FALSE;
}
