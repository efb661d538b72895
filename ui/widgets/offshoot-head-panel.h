/* offshoot-head-panel.h — attach an auxiliary head at the selected layer: the seed head
 * (seg, seg:F:K), a classifier (classifier:N) or a custom chain, checked as you type
 * (shapes of every new layer shown), applied as one undoable edit.
 *
 *   offshoot_head_panel_set_target (panel, handle, layer);
 *   g_signal_connect_object (panel, "attach", G_CALLBACK (on_attach), win, 0);
 *   // on_attach (panel, gpointer edited_graph, win): the window takes the new graph over
 *   g_signal_connect_object (panel, "checked", G_CALLBACK (on_checked), win, 0);
 *   // after each check: its lines, and so the panel's natural height, may have changed
 *
 * The panel only calls osh_head_parse and osh_head_attach (engine/edit/osh-heads.h), the
 * same functions as `offshoot attach`.
 */
#pragma once

#include <gtk/gtk.h>

#include "osh-graph-handle.h"
#include "osh-heads.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_HEAD_PANEL (offshoot_head_panel_get_type ())
G_DECLARE_FINAL_TYPE (OffshootHeadPanel, offshoot_head_panel, OFFSHOOT, HEAD_PANEL, GtkWidget)

GtkWidget *offshoot_head_panel_new (void);

/* The model and the layer to attach at (-1: none). */
void offshoot_head_panel_set_target (OffshootHeadPanel *self, OshGraphHandle *h, int layer);
/* Sets the spec text (as typed) and checks it now. */
void offshoot_head_panel_set_spec (OffshootHeadPanel *self, const char *spec);
/* The check's verdict: TRUE when the head fits; `text` is what the panel shows. */
gboolean offshoot_head_panel_check (OffshootHeadPanel *self, const char **text);
/* Attaches: emits ::attach (OshGraph *edited, const char *path, const OshHeadSpec *spec,
 * char **names) and returns TRUE, or FALSE with the panel showing why not. */
gboolean offshoot_head_panel_apply (OffshootHeadPanel *self);

G_END_DECLS
