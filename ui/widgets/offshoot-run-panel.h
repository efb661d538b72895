/* offshoot-run-panel.h — run the model on a picture: choose it (or a bundled sample), see
 * and edit the preprocessing, run in a worker with a Stop button, and see every output: a
 * label with top-k bars, or a heatmap over the picture with a colour bar and an opacity
 * slider. After a run any layer's activation can be asked for.
 *
 *   offshoot_run_panel_set_document (panel, doc);      // its model and run settings
 *   offshoot_run_panel_set_input (panel, file);        // a PNG/JPEG, or resource:// sample
 *   offshoot_run_panel_run (panel);                    // "run-finished" when done
 *   const char *top = offshoot_run_panel_get_result_text (panel, 0);  // "happy 61.2 %"
 */
#pragma once

#include <gtk/gtk.h>

#include "offshoot-document.h"
#include "osh-graph-handle.h"
#include "osh-image.h"

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_RUN_PANEL (offshoot_run_panel_get_type ())
G_DECLARE_FINAL_TYPE (OffshootRunPanel, offshoot_run_panel, OFFSHOOT, RUN_PANEL, GtkWidget)

GtkWidget *offshoot_run_panel_new (void);

/* The document to run (a ref is taken; NULL clears): its graph, preprocessing, class names
 * and heatmap opacity, all followed as they change. Clears the results. */
void offshoot_run_panel_set_document (OffshootRunPanel *self, OffshootDocument *doc);
/* The picture to run on (decoded in the worker when the run starts). */
void offshoot_run_panel_set_input (OffshootRunPanel *self, GFile *file);
/* The model's inputs after the first (the picture): how many, and the file for each (a
 * .npy array used as it is, or a picture preprocessed as the first). A run needs them all. */
int offshoot_run_panel_get_n_more_inputs (OffshootRunPanel *self);
void offshoot_run_panel_set_more_input (OffshootRunPanel *self, int i, GFile *file);
/* Names for the classes of a label output, comma-separated in index order ("angry,disgust,
 * ..."); used by the next run's results. */
void offshoot_run_panel_set_class_names (OffshootRunPanel *self, const char *names);
/* The layer whose activation should be kept when the model is too big to keep them all. */
void offshoot_run_panel_set_focus_layer (OffshootRunPanel *self, const char *path);

gboolean offshoot_run_panel_can_run (OffshootRunPanel *self);
gboolean offshoot_run_panel_is_running (OffshootRunPanel *self);
void offshoot_run_panel_run (OffshootRunPanel *self);
void offshoot_run_panel_cancel (OffshootRunPanel *self);

/* The preprocessing the next run uses (as edited in the panel). */
void offshoot_run_panel_get_preprocess (OffshootRunPanel *self, OshPreprocess *pp);

/* After a run: one result per model output. The text is what the panel shows as the
 * output's headline ("happy 61.2 %", "heatmap 16×16, 0.01 … 0.97"); the picture is the
 * heatmap overlay (NULL for other kinds). NULL when there is no such result. */
int offshoot_run_panel_get_n_results (OffshootRunPanel *self);
const char *offshoot_run_panel_get_result_text (OffshootRunPanel *self, int i);
GdkPaintable *offshoot_run_panel_get_result_picture (OffshootRunPanel *self, int i);
/* The top-1 class index of output i, or -1. */
int offshoot_run_panel_get_result_class (OffshootRunPanel *self, int i);
/* TRUE when settings changed after the run that made the results shown (dimmed, with a
 * note saying so). */
gboolean offshoot_run_panel_results_are_stale (OffshootRunPanel *self);
/* The warning shown when the class names do not fit the label output, or NULL. */
const char *offshoot_run_panel_get_names_warning (OffshootRunPanel *self);
/* The opacity slider of heatmap result i (-1 when it has none), and moving it. */
double offshoot_run_panel_get_opacity (OffshootRunPanel *self, int i);
void offshoot_run_panel_set_opacity (OffshootRunPanel *self, int i, double opacity);
/* The line under Run ("Running…", "Ran in 12 ms", or what the window says while a run waits,
 * e.g. "Waiting for the weights…"). */
void offshoot_run_panel_set_status (OffshootRunPanel *self, const char *text);
const char *offshoot_run_panel_get_status (OffshootRunPanel *self);
/* The last run's error, or NULL. */
const char *offshoot_run_panel_get_error (OffshootRunPanel *self);

/* The activation of the layer at `path` in the last run: a picture (heatmap over the input
 * when spatial, else NULL) and a copy of the tensor (caller frees). FALSE when the run did
 * not keep it. */
gboolean offshoot_run_panel_get_activation (OffshootRunPanel *self, const char *path,
                                            GdkPaintable **picture, OshTensor **tensor);

/* A cairo image surface as a texture (for GtkPicture). */
GdkTexture *osh_texture_from_surface (cairo_surface_t *surface);

G_END_DECLS
