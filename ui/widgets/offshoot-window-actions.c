/* offshoot-window-actions.c — every win.* action, and the one function that enables and
 * disables them from the window's state. Keyboard shortcuts are set by the application
 * (offshoot-application.c) on these names. */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "offshoot-new-dialog.h"
#include "offshoot-window-private.h"
#include "osh-class-names.h"
#include "osh-model.h"
#include "osh-scene.h"
#include "osh-snippet.h"
#include "osh-workers.h"

#define MAX_RECENT 8

static const char *const model_patterns[] = {
  "*.keras", "*.h5", "*.hdf5", "*.json", "*.onnx", NULL
};

/* ---- Open -------------------------------------------------------------------------------- */

static GtkFileFilter *
model_filter (void)
{
  GtkFileFilter *f = gtk_file_filter_new ();
  gtk_file_filter_set_name (f, "Models (.keras, .h5, model.json, .onnx)");
  for (int i = 0; model_patterns[i]; i++)
    gtk_file_filter_add_pattern (f, model_patterns[i]);
  return f;
}

typedef void (*ChooserDone) (OffshootWindow *self, GFile *file, const char *target);
static void export_model_chosen (OffshootWindow *self, GFile *file, const char *target);

static void
on_chooser_response (GtkNativeDialog *dialog, int response, OffshootWindow *self)
{
  ChooserDone done = g_object_get_data (G_OBJECT (dialog), "done");
  const char *target = g_object_get_data (G_OBJECT (dialog), "target");
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT
                               ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))
                               : NULL;
  if (file)
    done (self, file, target);
  else if (done == export_model_chosen)
    offshoot_window_saved (self, FALSE); /* a Save from the unsaved-changes question */
  gtk_native_dialog_destroy (dialog);
  if (self->chooser == GTK_FILE_CHOOSER_NATIVE (dialog))
    g_clear_object (&self->chooser);
}

static void
run_chooser (OffshootWindow *self, const char *title, GtkFileChooserAction action,
             const char *suggested, GtkFileFilter *filter, ChooserDone done, const char *target)
{
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, NULL, NULL);
  GtkFileChooser *fc = GTK_FILE_CHOOSER (self->chooser);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  if (filter)
    gtk_file_chooser_add_filter (fc, filter);
  if (suggested)
    gtk_file_chooser_set_current_name (fc, suggested);
  g_object_set_data (G_OBJECT (self->chooser), "done", done);
  g_object_set_data_full (G_OBJECT (self->chooser), "target", g_strdup (target), g_free);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_chooser_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
open_chosen (OffshootWindow *self, GFile *file, const char *target)
{
  (void) target;
  offshoot_window_open_file (self, file);
}

static void
open_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  run_chooser (data, "Open Model", GTK_FILE_CHOOSER_ACTION_OPEN, NULL, model_filter (), open_chosen,
               NULL);
}

static void
open_default_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_open_default (data);
}

static void
new_dialog_done (OshGraph *g, const char *title, gpointer data)
{
  offshoot_window_open_graph (data, g, title);
}

static void
new_from_architecture_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootNewDialog *d = offshoot_new_dialog_new (GTK_WINDOW (data), new_dialog_done, data);
  gtk_window_present (GTK_WINDOW (d));
}

static void
open_recent_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  g_autoptr (GFile) file = g_file_new_for_uri (g_variant_get_string (p, NULL));
  offshoot_window_open_file (data, file);
}

static void
cancel_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  if (self->loading)
    offshoot_window_cancel_load (self);
  else if (self->error)
    offshoot_window_show_error (self, NULL);
  else
    offshoot_window_cancel_work (self);
}

/* The status bar's Cancel: stops the background work it lists (weights, saves). */
static void
cancel_work_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_cancel_work (data);
}

static void
load_weights_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_load_weights (data);
}

static gboolean
is_model_name (const char *name)
{
  for (int i = 0; model_patterns[i]; i++)
    if (g_str_has_suffix (name, model_patterns[i] + 1))
      return TRUE;
  return FALSE;
}

void
offshoot_window_rebuild_recent (OffshootWindow *self)
{
  g_menu_remove_all (self->recent_submenu);
  GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  int n = 0;
  for (GList *l = items; l && n < MAX_RECENT; l = l->next)
    {
      GtkRecentInfo *info = l->data;
      const char *uri = gtk_recent_info_get_uri (info);
      if (!gtk_recent_info_is_local (info) || !is_model_name (uri)
          || !gtk_recent_info_has_application (info, g_get_application_name ()))
        continue;
      g_autoptr (GMenuItem) item = g_menu_item_new (gtk_recent_info_get_display_name (info), NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent", "s", uri);
      g_menu_append_item (self->recent_submenu, item);
      n++;
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
  if (n == 0)
    g_menu_append (self->recent_submenu, "No recent models", "win.no-recent");
}

/* ---- Export ------------------------------------------------------------------------------ */

/* Models and graph pictures are written into a fresh folder beside the target by a worker and
 * moved into place on the main thread, so a cancelled export leaves nothing behind (TF.js
 * writes model.json and its shard). They share the status bar's "Saving …" and its Cancel. */

static char *
staged_path (GTask *task)
{
  const char *path = g_object_get_data (G_OBJECT (task), "path");
  const char *staging = g_object_get_data (G_OBJECT (task), "staging");
  g_autofree char *base = g_path_get_basename (path);
  return g_build_filename (staging, base, NULL);
}

static void
export_model_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  OshGraphHandle *h = data;
  g_autofree char *staged = staged_path (task);
  OshError err = { 0 };
  /* Names typed in the window go into the file. The shared graph is never modified: the
   * writers read it through a shallow copy with its own meta (osh_class_names_set touches
   * nothing else). */
  GStrv typed = g_object_get_data (G_OBJECT (task), "class-names");
  OshGraph with_names = *h->graph;
  if (typed)
    {
      with_names.meta = h->graph->meta ? json_deep_copy (h->graph->meta) : json_object ();
      osh_class_names_set (&with_names, (const char *const *) typed, g_strv_length (typed));
    }
  gboolean saved = osh_model_save (&with_names, staged, &err);
  if (typed)
    json_decref (with_names.meta);
  if (saved)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                             err.message); /* names the staged file: said below */
}

/* The picture is drawn from a copy of the view's scene (the view keeps drawing its own). */
static void
export_picture_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  g_autofree char *staged = staged_path (task);
  OshError err = { 0 };
  if (osh_scene_export (data, staged, 1.0, &err))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
}

/* Moves every file of `staging` into `dir` (when `keep`) or deletes it, then the folder. */
static gboolean
finish_staging (const char *staging, const char *dir, gboolean keep, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (staging, 0, NULL);
  const char *name;
  gboolean ok = TRUE;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *from = g_build_filename (staging, name, NULL);
      g_autofree char *to = g_build_filename (dir, name, NULL);
      if (keep && ok && g_rename (from, to) != 0)
        {
          int e = errno;
          ok = FALSE;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                       "%s: cannot move into place: %s", to, g_strerror (e));
        }
      g_remove (from); /* gone already when moved */
    }
  g_rmdir (staging);
  return ok;
}

static void
export_done (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) source;
  g_autoptr (OffshootWindow) self = data; /* dropped here, on the main thread */
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (res), &error);
  osh_worker_end (error);
  self->exporting--;
  const char *path = g_object_get_data (G_OBJECT (res), "path");
  const char *staging = g_object_get_data (G_OBJECT (res), "staging");
  gboolean picture = g_object_get_data (G_OBJECT (res), "picture") != NULL;
  gboolean cancelled = g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (res)));
  g_autofree char *dir = g_path_get_dirname (path);
  if (ok && !cancelled)
    ok = finish_staging (staging, dir, TRUE, &error);
  else
    finish_staging (staging, dir, FALSE, NULL);
  if (!self->status_label)
    return; /* the window was closed meanwhile: the file is saved (or not), nobody to tell */
  if (self->exporting == 0)
    g_clear_object (&self->export_cancel);
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
  if (cancelled)
    {
      g_autofree char *text = g_strdup_printf ("Not saved: %s (cancelled)", path);
      gtk_label_set_text (self->status_label, text);
      ok = FALSE;
    }
  else if (!ok)
    offshoot_window_show_error (self, error->message);
  else
    {
      g_autofree char *text = g_strdup_printf ("Saved %s", path);
      gtk_label_set_text (self->status_label, text);
      /* What was saved is the unmodified state, if the model is still that one. */
      OshGraphHandle *saved = picture ? NULL : g_task_get_task_data (G_TASK (res));
      if (saved && self->doc && offshoot_document_get_graph (self->doc) == saved)
        offshoot_document_mark_saved (self->doc, path);
    }
  if (!picture)
    offshoot_window_saved (self, ok);
}

/* A task that writes `path` through a staging folder from `data` (owned by the task), for
 * run_export to start; FALSE, with the error shown, when that folder cannot be made. */
static gboolean
start_export (OffshootWindow *self, const char *path, gpointer data, GDestroyNotify free_data,
              GTask **task_out)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *pattern = g_build_filename (dir, ".offshoot-save-XXXXXX", NULL);
  if (!g_mkdtemp (pattern))
    {
      int e = errno;
      g_autofree char *msg =
          g_strdup_printf ("%s: cannot write in this folder: %s", path, g_strerror (e));
      offshoot_window_show_error (self, msg);
      free_data (data);
      return FALSE;
    }
  if (!self->export_cancel)
    self->export_cancel = g_cancellable_new ();
  /* No source object: the task may be finalized in the worker, a window must not be. */
  GTask *task = g_task_new (NULL, self->export_cancel, export_done, g_object_ref (self));
  g_object_set_data_full (G_OBJECT (task), "path", g_strdup (path), g_free);
  g_object_set_data_full (G_OBJECT (task), "staging", g_strdup (pattern), g_free);
  g_task_set_task_data (task, data, free_data);
  if (task_out)
    *task_out = task; /* to add what the thread reads before it starts */
  self->exporting++;
  g_free (self->export_name);
  self->export_name = g_path_get_basename (path);
  osh_worker_begin ();
  return TRUE;
}

static void
run_export (OffshootWindow *self, GTask *task, GTaskThreadFunc thread)
{
  g_task_run_in_thread (task, thread);
  g_object_unref (task);
  offshoot_window_update_activity (self);
  offshoot_window_update_actions (self);
}

/* Saves the current model to `path` in a worker (the handle keeps the graph alive). */
void
offshoot_window_export_model_to (OffshootWindow *self, const char *path)
{
  if (!self->doc)
    return;
  if (!offshoot_document_has_weights (self->doc))
    {
      offshoot_window_show_error (
          self, self->weights_error ? "The model cannot be saved: its weights cannot be read"
                                    : "The model can be saved once its weights are loaded");
      offshoot_window_saved (self, FALSE);
      return;
    }
  GTask *task = NULL;
  if (!start_export (self, path, osh_graph_handle_ref (offshoot_window_handle (self)),
                     (GDestroyNotify) osh_graph_handle_unref, &task))
    {
      offshoot_window_saved (self, FALSE);
      return;
    }
  int n_typed = 0;
  GStrv typed = offshoot_document_dup_typed_class_names (self->doc, &n_typed);
  g_object_set_data_full (G_OBJECT (task), "class-names", typed, (GDestroyNotify) g_strfreev);
  run_export (self, task, export_model_thread);
}

/* Writes the graph picture (PNG, SVG or PDF by the name) in a worker, as the view shows it. */
void
offshoot_window_export_picture_to (OffshootWindow *self, const char *path)
{
  const char *dot = strrchr (path, '.');
  if (!dot
      || !(g_ascii_strcasecmp (dot, ".png") == 0 || g_ascii_strcasecmp (dot, ".svg") == 0
           || g_ascii_strcasecmp (dot, ".pdf") == 0))
    {
      g_autofree char *msg =
          g_strdup_printf ("%s: unknown image type (use .png, .svg or .pdf)", path);
      offshoot_window_show_error (self, msg);
      return;
    }
  OshScene *scene = offshoot_graph_view_dup_scene (self->graph_view);
  if (!scene)
    {
      offshoot_window_show_error (self, "The graph is not laid out yet");
      return;
    }
  GTask *task = NULL;
  if (!start_export (self, path, scene, (GDestroyNotify) osh_scene_free, &task))
    return;
  g_object_set_data (G_OBJECT (task), "picture", GINT_TO_POINTER (1));
  run_export (self, task, export_picture_thread);
}

void
offshoot_window_cancel_export (OffshootWindow *self)
{
  if (self->export_cancel)
    g_cancellable_cancel (self->export_cancel);
  g_clear_object (&self->export_cancel);
}

static void
export_model_chosen (OffshootWindow *self, GFile *file, const char *target)
{
  (void) target;
  g_autofree char *path = g_file_get_path (file);
  if (path)
    offshoot_window_export_model_to (self, path);
  else
    offshoot_window_saved (self, FALSE);
}

static char *
suggested_name (OffshootWindow *self, const char *ext)
{
  OshGraphHandle *h = offshoot_window_handle (self);
  const char *name = h && h->graph->name && *h->graph->name ? h->graph->name : "model";
  if (g_str_equal (ext, "json"))
    return g_strdup ("model.json");
  return g_strdup_printf ("%s.%s", name, ext);
}

static void
export_model_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  OffshootWindow *self = data;
  const char *ext = g_variant_get_string (p, NULL);
  g_autofree char *why = NULL;
  if (!offshoot_window_can_export (self, ext, &why))
    {
      offshoot_window_show_error (self, why); /* the menu does not offer it; a direct call may */
      return;
    }
  g_autofree char *name = suggested_name (self, ext);
  run_chooser (self, "Export Model", GTK_FILE_CHOOSER_ACTION_SAVE, name,
               offshoot_window_export_filter (ext), export_model_chosen, ext);
}

static void
export_picture_chosen (OffshootWindow *self, GFile *file, const char *target)
{
  (void) target;
  g_autofree char *path = g_file_get_path (file);
  if (path)
    offshoot_window_export_picture_to (self, path);
}

static void
export_picture_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  OffshootWindow *self = data;
  const char *ext = g_variant_get_string (p, NULL);
  g_autofree char *name = suggested_name (self, ext);
  run_chooser (self, "Export Graph Picture", GTK_FILE_CHOOSER_ACTION_SAVE, name, NULL,
               export_picture_chosen, ext);
}

/* The Keras code that makes the attached heads on the original model. */
gboolean
offshoot_window_write_snippet (OffshootWindow *self, const char *path, GError **error)
{
  GPtrArray *heads = self->doc ? offshoot_window_handle (self)->heads : NULL;
  if (!heads || heads->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No head has been attached yet");
      return FALSE;
    }
  g_autofree OshSnippetHead *sh = g_new0 (OshSnippetHead, heads->len);
  for (guint i = 0; i < heads->len; i++)
    {
      OshAppliedHead *a = g_ptr_array_index (heads, i);
      sh[i] = (OshSnippetHead){ a->path, &a->spec, a->names };
    }
  const char *spec = offshoot_document_get_spec (self->doc);
  g_autofree char *model =
      g_strcmp0 (spec, "@default") == 0 ? g_strdup ("model.keras") : g_path_get_basename (spec);
  char *dot = strrchr (model, '.');
  g_autofree char *save =
      g_strdup_printf ("%.*s_aux.keras", dot ? (int) (dot - model) : (int) strlen (model), model);
  OshError err = { 0 };
  char *py = osh_snippet_python (offshoot_document_get_original (self->doc)->graph, sh, heads->len,
                                 model, save, &err);
  if (!py)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      return FALSE;
    }
  gboolean ok = g_file_set_contents (path, py, -1, error);
  free (py);
  return ok;
}

static void
export_snippet_chosen (OffshootWindow *self, GFile *file, const char *target)
{
  (void) target;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr (GError) error = NULL;
  if (path && !offshoot_window_write_snippet (self, path, &error))
    offshoot_window_show_error (self, error->message);
}

static void
export_snippet_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  g_autofree char *name = suggested_name (self, "py");
  run_chooser (self, "Export Python Snippet", GTK_FILE_CHOOSER_ACTION_SAVE, name, NULL,
               export_snippet_chosen, NULL);
}

static void
export_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  gtk_menu_button_popup (self->export_button);
}

/* ---- Find, zoom, history ------------------------------------------------------------------ */

static void
find_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
find_next_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_search_step (data, +1);
}

static void
find_previous_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_search_step (data, -1);
}

static void
zoom_in_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_graph_view_zoom (OFFSHOOT_WINDOW (data)->graph_view, 1.25);
}

static void
zoom_out_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_graph_view_zoom (OFFSHOOT_WINDOW (data)->graph_view, 0.8);
}

static void
zoom_fit_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_graph_view_zoom_fit (OFFSHOOT_WINDOW (data)->graph_view);
}

static void
collapse_blocks_changed (GSimpleAction *a, GVariant *state, gpointer data)
{
  g_simple_action_set_state (a, state);
  offshoot_graph_view_collapse_blocks (OFFSHOOT_WINDOW (data)->graph_view,
                                       g_variant_get_boolean (state));
}

static void
undo_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_undo (data);
}

static void
redo_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_redo (data);
}

static void
run_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  offshoot_window_run (data);
}

/* Probe Layers…: the Probe page, and the folder chooser when no folder was picked yet. */
static void
probe_layers_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  gtk_stack_set_visible_child_name (self->side_stack, "probe");
  if (!offshoot_probe_panel_start (self->probe_panel))
    offshoot_probe_panel_choose_data (self->probe_panel);
}

static void
attach_head_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  gtk_stack_set_visible_child_name (self->side_stack, "head");
}

static void
show_layer_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  gtk_stack_set_visible_child_name (self->side_stack, "layer");
}

static void
copy_layer_name_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  OffshootWindow *self = data;
  const char *path = self->doc ? offshoot_document_get_selection (self->doc) : NULL;
  if (path)
    gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), path);
}

static void
nothing_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  (void) a;
  (void) p;
  (void) data;
}

static const GActionEntry win_entries[] = {
  { .name = "open", .activate = open_activated },
  { .name = "open-default", .activate = open_default_activated },
  { .name = "new-from-architecture", .activate = new_from_architecture_activated },
  { .name = "open-recent", .activate = open_recent_activated, .parameter_type = "s" },
  { .name = "no-recent", .activate = nothing_activated },
  { .name = "cancel", .activate = cancel_activated },
  { .name = "cancel-work", .activate = cancel_work_activated },
  { .name = "load-weights", .activate = load_weights_activated },
  { .name = "export", .activate = export_activated },
  { .name = "export-model", .activate = export_model_activated, .parameter_type = "s" },
  { .name = "export-picture", .activate = export_picture_activated, .parameter_type = "s" },
  { .name = "export-snippet", .activate = export_snippet_activated },
  { .name = "find", .activate = find_activated },
  { .name = "find-next", .activate = find_next_activated },
  { .name = "find-previous", .activate = find_previous_activated },
  { .name = "zoom-in", .activate = zoom_in_activated },
  { .name = "zoom-out", .activate = zoom_out_activated },
  { .name = "zoom-fit", .activate = zoom_fit_activated },
  { .name = "collapse-blocks", .state = "false", .change_state = collapse_blocks_changed },
  { .name = "run", .activate = run_activated },
  { .name = "undo", .activate = undo_activated },
  { .name = "redo", .activate = redo_activated },
  { .name = "attach-head", .activate = attach_head_activated },
  { .name = "probe-layers", .activate = probe_layers_activated },
  { .name = "show-layer", .activate = show_layer_activated },
  { .name = "copy-layer-name", .activate = copy_layer_name_activated },
};

static void
set_enabled (OffshootWindow *self, const char *name, gboolean on)
{
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (self), name);
  if (a)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (a), on);
}

void
offshoot_window_update_actions (OffshootWindow *self)
{
  gboolean loading = self->loading;
  gboolean has_graph = self->doc != NULL && !loading;
  gboolean laid_out = has_graph && offshoot_graph_view_count_items (self->graph_view) > 0;
  gboolean selected = has_graph && offshoot_document_get_selected_layer (self->doc) >= 0;
  /* Run, export, edits and weight statistics need the weight values (read after the graph). */
  gboolean weights = has_graph && offshoot_document_has_weights (self->doc);

  /* Escape: stop a load, else dismiss the error banner, else stop the background work. */
  set_enabled (self, "cancel",
               loading || self->error != NULL || self->weights_cancel || self->export_cancel);
  set_enabled (self, "cancel-work",
               self->weights_cancel || self->export_cancel
                   || offshoot_graph_view_can_cancel_layout (self->graph_view));
  set_enabled (self, "load-weights",
               has_graph && !weights && !self->weights_cancel && !self->weights_error);
  set_enabled (self, "no-recent", FALSE);
  set_enabled (self, "export", has_graph);
  set_enabled (self, "export-model", weights);
  offshoot_window_update_export_menu (self);
  set_enabled (self, "export-picture", laid_out);
  set_enabled (self, "export-snippet", has_graph && offshoot_window_handle (self)->heads->len > 0);
  set_enabled (self, "find", laid_out);
  set_enabled (self, "find-next", laid_out);
  set_enabled (self, "find-previous", laid_out);
  set_enabled (self, "zoom-in", laid_out);
  set_enabled (self, "zoom-out", laid_out);
  set_enabled (self, "zoom-fit", laid_out);
  set_enabled (self, "collapse-blocks", laid_out);
  /* A big graph opens collapsed: the menu's check mark says so. */
  GAction *collapse = g_action_map_lookup_action (G_ACTION_MAP (self), "collapse-blocks");
  if (laid_out && collapse)
    g_simple_action_set_state (
        G_SIMPLE_ACTION (collapse),
        g_variant_new_boolean (offshoot_graph_view_blocks_collapsed (self->graph_view)));
  /* Run before the weights are in is queued until they are. */
  set_enabled (self, "run",
               has_graph && !self->weights_error && !self->run_queued
                   && !offshoot_run_panel_is_running (self->run_panel));
  set_enabled (self, "attach-head", selected && weights);
  set_enabled (self, "probe-layers", has_graph && weights);
  set_enabled (self, "show-layer", selected);
  set_enabled (self, "copy-layer-name", selected);
  /* Buttons that are not action-backed follow the same state. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->search_button), laid_out);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), has_graph);
  gtk_widget_set_sensitive (GTK_WIDGET (self->disconnect_fixes), weights);
  set_enabled (self, "undo", has_graph && offshoot_document_can_undo (self->doc));
  set_enabled (self, "redo", has_graph && offshoot_document_can_redo (self->doc));
}

static void
on_recent_changed (GtkRecentManager *m, OffshootWindow *self)
{
  (void) m;
  offshoot_window_rebuild_recent (self);
}

void
offshoot_window_init_actions (OffshootWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries),
                                   self);
  /* What a layer's right-click (or Menu key) offers. */
  g_autoptr (GMenu) menu = g_menu_new ();
  g_menu_append (menu, "Attach Head Here…", "win.attach-head");
  g_menu_append (menu, "Show Layer and Activation", "win.show-layer");
  g_menu_append (menu, "Copy Layer Name", "win.copy-layer-name");
  offshoot_graph_view_set_layer_menu (self->graph_view, G_MENU_MODEL (menu));
  g_signal_connect_object (gtk_recent_manager_get_default (), "changed",
                           G_CALLBACK (on_recent_changed), self, 0);
}
