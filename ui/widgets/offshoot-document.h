/* offshoot-document.h — one open model and everything that belongs to it: the graph and
 * its edit history, the file it came from and whether it changed since, the run settings
 * (preprocessing, class names, heatmap opacity) and the selected layer. The window shows
 * one document; opening a model makes a new one, so nothing of the previous model carries
 * over. Widgets observe it through "changed".
 *
 *   OffshootDocument *doc = offshoot_document_new (handle, "/m/model.h5", NULL);
 *   offshoot_document_apply (doc, edited, "aux_head_out");   // an undoable step
 *   offshoot_document_undo (doc);                            // graph and selection back
 *   offshoot_document_is_modified (doc);                     // FALSE again
 */
#pragma once

#include <glib-object.h>

#include "osh-graph-handle.h"
#include "osh-image.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_DOCUMENT (offshoot_document_get_type ())
G_DECLARE_FINAL_TYPE (OffshootDocument, offshoot_document, OFFSHOOT, DOCUMENT, GObject)

/* A document for `h` (a ref is taken) loaded from `spec` (a path or "@default"), or made in
 * the window when `title` is set (e.g. "EfficientNetB0 (untrained)"). The preprocessing is
 * proposed from the model, the class names come from it (osh-class-names.h). */
OffshootDocument *offshoot_document_new (OshGraphHandle *h, const char *spec, const char *title);

OshGraphHandle *offshoot_document_get_graph (OffshootDocument *self);
/* The graph as opened (the Python snippet edits this one). */
OshGraphHandle *offshoot_document_get_original (OffshootDocument *self);
const char *offshoot_document_get_spec (OffshootDocument *self);
/* What the title bar shows: the file's name ("model.h5"), "default model", or the title
 * of a model made in the window. */
char *offshoot_document_dup_display_name (OffshootDocument *self);

/* Weights. A document opened graph first (osh_model_load_graph) has the structure and the
 * weights' shapes, not their values: enough to draw and explore, not to run, export or show
 * weight statistics. The window reads the values on a worker and hands them over here. */
gboolean offshoot_document_has_weights (OffshootDocument *self);
/* `h` (a ref is taken) is the same graph with its weights: it replaces the graph as opened
 * (no undo step, not a modification) and "graph-changed" is emitted. FALSE, and nothing
 * changes, when the document was edited meanwhile. */
gboolean offshoot_document_take_weights (OffshootDocument *self, OshGraphHandle *h);

/* Edited since it was opened or last saved; a model made in the window (a `title` given to
 * offshoot_document_new) is modified until it is first saved. */
gboolean offshoot_document_is_modified (OffshootDocument *self);
/* The current graph was saved to `path` (it is now the unmodified state). */
void offshoot_document_mark_saved (OffshootDocument *self, const char *path);

/* History. `h` (a ref is taken) replaces the graph as one undoable step; the selection
 * becomes `select` (a layer path), or stays when it still names a layer, else none. Undo
 * and redo bring back the graph with the selection it had. */
void offshoot_document_apply (OffshootDocument *self, OshGraphHandle *h, const char *select);
gboolean offshoot_document_can_undo (OffshootDocument *self);
gboolean offshoot_document_can_redo (OffshootDocument *self);
gboolean offshoot_document_undo (OffshootDocument *self);
gboolean offshoot_document_redo (OffshootDocument *self);

/* Where the graph view looked at the current graph (a world point at the centre and a zoom),
 * kept with it in the history: undo and redo bring the view back with the graph. The window
 * records it before each step; FALSE when none was recorded for the current graph. */
void offshoot_document_set_view (OffshootDocument *self, double cx, double cy, double zoom);
gboolean offshoot_document_get_view (OffshootDocument *self, double *cx, double *cy, double *zoom);

/* The selected layer's path, or NULL; always a layer of the current graph. */
const char *offshoot_document_get_selection (OffshootDocument *self);
void offshoot_document_set_selection (OffshootDocument *self, const char *path);
/* Its index in the current graph, or -1. */
int offshoot_document_get_selected_layer (OffshootDocument *self);

/* Run settings. The preprocessing is the document's own (edited in place by the run panel;
 * call offshoot_document_settings_changed after). */
OshPreprocess *offshoot_document_get_preprocess (OffshootDocument *self);
const char *offshoot_document_get_class_names (OffshootDocument *self);
void offshoot_document_set_class_names (OffshootDocument *self, const char *names);
double offshoot_document_get_heatmap_opacity (OffshootDocument *self);
void offshoot_document_set_heatmap_opacity (OffshootDocument *self, double opacity);
void offshoot_document_settings_changed (OffshootDocument *self);

/* How many class names are set (empty entries count: "a,,c" names 3 classes). */
int offshoot_document_count_class_names (OffshootDocument *self);
/* The names typed in the window when they differ from what the model brought (an export
 * saves them into the file), *n of them (0: the user cleared them); NULL when unchanged. */
GStrv offshoot_document_dup_typed_class_names (OffshootDocument *self, int *n);

/* Signals:
 *   "graph-changed" (void): the graph changed (edit, undo, redo); the selection may have.
 *   "settings-changed" (void): preprocessing or class names changed.
 *   "notify::modified". */

G_END_DECLS
