/* offshoot-window.c — the main window: loading models off the main thread, the pages
 * (empty, loading, graph), the banners, selection and the undo stack. Actions live in
 * offshoot-window-actions.c, drag and drop in offshoot-window-dnd.c. */
#include "offshoot-window.h"

#include "offshoot-window-private.h"
#include "osh-default-model.h"
#include "osh-workers.h"

G_DEFINE_FINAL_TYPE (OffshootWindow, offshoot_window, GTK_TYPE_APPLICATION_WINDOW)

/* With OFFSHOOT_TRACE set, what the user did and what came of it goes to stderr, one line
 * each: the end-to-end script (real pointer events, tests/ui/e2e-xdotool.sh) checks these. */
static void trace (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
trace (const char *fmt, ...)
{
  static int on = -1;
  if (on < 0)
    on = g_getenv ("OFFSHOOT_TRACE") != NULL;
  if (!on)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("offshoot-trace: %s\n", text);
}

/* ---- Banners ----------------------------------------------------------------------------- */

void
offshoot_window_show_error (OffshootWindow *self, const char *message)
{
  if (message)
    trace ("error %s", message);
  g_free (self->error);
  self->error = message ? g_strdup (message) : NULL;
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_revealer_set_reveal_child (self->error_revealer, message != NULL);
}

static void
on_error_close (GtkButton *button, OffshootWindow *self)
{
  (void) button;
  offshoot_window_show_error (self, NULL);
}

/* ---- Showing a model --------------------------------------------------------------------- */

static void
update_status (OffshootWindow *self)
{
  if (!self->graph)
    {
      gtk_label_set_text (self->status_label, "");
      return;
    }
  const OshGraph *g = self->graph->graph;
  int64_t trainable = 0, total = osh_graph_total_params (g, &trainable);
  g_autofree char *text = g_strdup_printf (
      "%s · %s · %d layers · %" G_GINT64_FORMAT " parameters (%" G_GINT64_FORMAT " trainable)",
      g->name ? g->name : "model", g->format ? g->format : "?", g->n_layers, total, trainable);
  gtk_label_set_text (self->status_label, text);
}

static void
show_graph (OffshootWindow *self, OshGraphHandle *h, gboolean keep_view)
{
  OshGraphHandle *old = self->graph;
  self->graph = osh_graph_handle_ref (h);
  osh_graph_handle_unref (old);
  const OshGraph *g = h->graph;
  g_autofree char *base = self->spec && g_strcmp0 (self->spec, "@default") != 0
                              ? g_path_get_basename (self->spec)
                              : g_strdup ("default model");
  const char *name = self->title ? self->title : g->name && *g->name ? g->name : base;
  g_autofree char *title = g_strdup_printf ("%s — Offshoot", name);
  gtk_window_set_title (GTK_WINDOW (self), title);
  offshoot_graph_view_set_graph (self->graph_view, h, keep_view);
  offshoot_run_panel_set_graph (self->run_panel, h);
  offshoot_head_panel_set_target (
      self->head_panel, h,
      keep_view ? offshoot_graph_view_get_selected_layer (self->graph_view) : -1);
  if (!keep_view)
    offshoot_layer_panel_set_layer (self->layer_panel, g, -1);
  else
    offshoot_layer_panel_set_layer (self->layer_panel, g,
                                    offshoot_graph_view_get_selected_layer (self->graph_view));
  gtk_stack_set_visible_child_name (self->main_stack, "graph");
  offshoot_window_update_connectivity (self);
  update_status (self);
  offshoot_window_update_actions (self);
}

static void
clear_history (OffshootWindow *self)
{
  g_ptr_array_set_size (self->undo, 0);
  g_ptr_array_set_size (self->redo, 0);
}

void
offshoot_window_apply_handle (OffshootWindow *self, OshGraphHandle *h)
{
  g_ptr_array_add (self->undo, osh_graph_handle_ref (self->graph));
  g_ptr_array_set_size (self->redo, 0);
  show_graph (self, h, TRUE);
}

void
offshoot_window_apply_edit (OffshootWindow *self, OshGraph *g)
{
  OshGraphHandle *h = osh_graph_handle_new_edit (g, self->graph, NULL);
  offshoot_window_apply_handle (self, h);
  osh_graph_handle_unref (h);
}

static void
on_head_attach (OffshootHeadPanel *panel, OshGraph *edited, const char *path,
                const OshHeadSpec *spec, char **names, OffshootWindow *self)
{
  (void) panel;
  OshAppliedHead head = { .path = (char *) path, .spec = *spec };
  for (int i = 0; i < spec->n_steps; i++)
    head.names[i] = names[i];
  OshGraphHandle *h = osh_graph_handle_new_edit (edited, self->graph, &head);
  offshoot_window_apply_handle (self, h);
  osh_graph_handle_unref (h);
  trace ("attached %s at %s", names[spec->n_steps - 1], path);
  /* Show the new output once it is laid out. */
  self->select_after_layout = osh_graph_find_layer (edited, -1, names[spec->n_steps - 1]);
}

static void
step_history (OffshootWindow *self, GPtrArray *from, GPtrArray *to)
{
  if (from->len == 0 || !self->graph)
    return;
  OshGraphHandle *h = g_ptr_array_steal_index (from, from->len - 1);
  g_ptr_array_add (to, osh_graph_handle_ref (self->graph));
  show_graph (self, h, TRUE);
  osh_graph_handle_unref (h);
}

void
offshoot_window_undo (OffshootWindow *self)
{
  step_history (self, self->undo, self->redo);
}

void
offshoot_window_redo (OffshootWindow *self)
{
  step_history (self, self->redo, self->undo);
}

/* ---- Loading in a worker ----------------------------------------------------------------- */

static void
load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  OshError err = { 0 };
  OshGraph *g = osh_load_model_spec (data, &err);
  if (g)
    g_task_return_pointer (task, osh_graph_handle_new (g), (GDestroyNotify) osh_graph_handle_unref);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
}

static gboolean
pulse (gpointer data)
{
  OffshootWindow *self = data;
  gtk_progress_bar_pulse (self->loading_progress);
  return G_SOURCE_CONTINUE;
}

static void
stop_loading_ui (OffshootWindow *self)
{
  self->loading = FALSE;
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  gtk_spinner_stop (self->loading_spinner);
}

static void
load_done (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) source;
  g_autoptr (OffshootWindow) self = data; /* dropped here, on the main thread */
  g_autoptr (GError) error = NULL;
  OshGraphHandle *h = g_task_propagate_pointer (G_TASK (res), &error);
  osh_worker_end (error);
  GCancellable *c = g_task_get_cancellable (G_TASK (res));
  if (g_cancellable_is_cancelled (c) || c != self->load_cancel)
    {
      /* The user cancelled or opened something else meanwhile. */
      osh_graph_handle_unref (h);
      return;
    }
  g_clear_object (&self->load_cancel);
  stop_loading_ui (self);
  const char *spec = g_task_get_task_data (G_TASK (res));
  if (!h)
    {
      if (g_strcmp0 (spec, "@default") == 0 && !self->graph)
        {
          /* No embedded model in this build: a friendly start instead of an error. */
          gtk_label_set_text (self->empty_title, "Open a trained model");
          gtk_stack_set_visible_child_name (self->main_stack, "empty");
        }
      else
        {
          offshoot_window_show_error (self, error->message);
          gtk_stack_set_visible_child_name (self->main_stack, self->graph ? "graph" : "empty");
        }
      offshoot_window_update_actions (self);
      return;
    }
  g_free (self->spec);
  self->spec = g_strdup (spec);
  g_clear_pointer (&self->title, g_free);
  clear_history (self);
  osh_graph_handle_unref (self->original);
  self->original = osh_graph_handle_ref (h);
  offshoot_window_show_error (self, NULL);
  if (g_strcmp0 (spec, "@default") != 0)
    {
      g_autoptr (GFile) file = g_file_new_for_path (spec);
      g_autofree char *uri = g_file_get_uri (file);
      gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
    }
  show_graph (self, h, FALSE);
  osh_graph_handle_unref (h);
}

void
offshoot_window_cancel_load (OffshootWindow *self)
{
  if (!self->load_cancel)
    return;
  g_cancellable_cancel (self->load_cancel);
  g_clear_object (&self->load_cancel);
  stop_loading_ui (self);
  gtk_stack_set_visible_child_name (self->main_stack, self->graph ? "graph" : "empty");
  offshoot_window_update_actions (self);
}

void
offshoot_window_open_spec (OffshootWindow *self, const char *spec)
{
  g_return_if_fail (OFFSHOOT_IS_WINDOW (self));
  if (self->load_cancel)
    g_cancellable_cancel (self->load_cancel);
  g_clear_object (&self->load_cancel);
  self->load_cancel = g_cancellable_new ();
  self->loading = TRUE;
  offshoot_window_show_error (self, NULL);

  g_autofree char *base = g_strcmp0 (spec, "@default") == 0 ? g_strdup ("the default model")
                                                            : g_path_get_basename (spec);
  g_autofree char *text = g_strdup_printf ("Loading %s…", base);
  gtk_label_set_text (self->loading_label, text);
  gtk_spinner_start (self->loading_spinner);
  if (!self->pulse_id)
    self->pulse_id = g_timeout_add (120, pulse, self);
  gtk_stack_set_visible_child_name (self->main_stack, "loading");
  offshoot_window_update_actions (self);

  /* No source object: the task may be finalized in the worker, a window must not be. */
  GTask *task = g_task_new (NULL, self->load_cancel, load_done, g_object_ref (self));
  g_task_set_task_data (task, g_strdup (spec), g_free);
  osh_worker_begin ();
  g_task_run_in_thread (task, load_thread);
  g_object_unref (task);
}

void
offshoot_window_open_file (OffshootWindow *self, GFile *file)
{
  g_autofree char *path = g_file_get_path (file);
  if (!path)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_autofree char *msg = g_strdup_printf ("%s: only local files can be opened", uri);
      offshoot_window_show_error (self, msg);
      return;
    }
  offshoot_window_open_spec (self, path);
}

void
offshoot_window_open_default (OffshootWindow *self)
{
  offshoot_window_open_spec (self, "@default");
}

void
offshoot_window_open_graph (OffshootWindow *self, OshGraph *g, const char *title)
{
  g_return_if_fail (OFFSHOOT_IS_WINDOW (self) && g != NULL);
  offshoot_window_cancel_load (self);
  g_free (self->spec);
  /* No file behind it: exports and the Python snippet suggest "<model name>.keras". */
  self->spec = g_strdup_printf ("%s.keras", g->name && *g->name ? g->name : "model");
  g_free (self->title);
  self->title = g_strdup (title);
  OshGraphHandle *h = osh_graph_handle_new (g);
  clear_history (self);
  osh_graph_handle_unref (self->original);
  self->original = osh_graph_handle_ref (h);
  offshoot_window_show_error (self, NULL);
  show_graph (self, h, FALSE);
  osh_graph_handle_unref (h);
}

/* ---- Run ------------------------------------------------------------------------------- */

gboolean
offshoot_window_set_run_input (OffshootWindow *self, GFile *file)
{
  offshoot_run_panel_set_input (self->run_panel, file);
  gtk_stack_set_visible_child_name (self->side_stack, "run");
  offshoot_window_update_actions (self);
  return TRUE;
}

/* The selected layer's activation from the last run, if it kept one. */
static void
show_activation (OffshootWindow *self, int layer)
{
  if (!self->graph || layer < 0)
    return;
  g_autofree char *path = osh_graph_layer_path (self->graph->graph, layer);
  GdkPaintable *picture = NULL;
  OshTensor *t = NULL;
  if (offshoot_run_panel_get_activation (self->run_panel, path, &picture, &t))
    offshoot_layer_panel_set_activation (self->layer_panel, picture, t);
  g_clear_object (&picture);
  osh_tensor_free (t);
}

static void
on_run_finished (OffshootRunPanel *panel, OffshootWindow *self)
{
  (void) panel;
  for (int i = 0; i < offshoot_run_panel_get_n_results (panel); i++)
    trace ("result %d %s", i, offshoot_run_panel_get_result_text (panel, i));
  if (offshoot_run_panel_get_error (panel))
    trace ("run failed %s", offshoot_run_panel_get_error (panel));
  show_activation (self, offshoot_graph_view_get_selected_layer (self->graph_view));
  offshoot_window_update_actions (self);
}

static void
on_run_state (OffshootRunPanel *panel, OffshootWindow *self)
{
  (void) panel;
  offshoot_window_update_actions (self);
}

/* ---- Selection --------------------------------------------------------------------------- */

static void
on_layer_selected (OffshootGraphView *view, int layer, OffshootWindow *self)
{
  (void) view;
  offshoot_layer_panel_set_layer (self->layer_panel, self->graph ? self->graph->graph : NULL,
                                  layer);
  g_autofree char *path =
      self->graph && layer >= 0 ? osh_graph_layer_path (self->graph->graph, layer) : NULL;
  trace ("selected %s", path ? path : "(none)");
  offshoot_run_panel_set_focus_layer (self->run_panel, path);
  show_activation (self, layer);
  offshoot_head_panel_set_target (self->head_panel, self->graph, layer);
  if (layer >= 0 && g_strcmp0 (gtk_stack_get_visible_child_name (self->side_stack), "head") != 0)
    gtk_stack_set_visible_child_name (self->side_stack, "layer");
  offshoot_window_update_actions (self);
}

static void
on_layout_done (OffshootGraphView *view, OffshootWindow *self)
{
  const char *err = offshoot_graph_view_get_error (view);
  if (err)
    offshoot_window_show_error (self, err);
  trace ("laid out %d boxes", offshoot_graph_view_count_items (view));
  if (self->select_after_layout >= 0)
    {
      int layer = self->select_after_layout;
      self->select_after_layout = -1;
      offshoot_graph_view_select_layer (view, layer, TRUE);
    }
  offshoot_window_update_actions (self);
}

/* ---- Search ------------------------------------------------------------------------------ */

/* Traces where the current match is on the window's surface (what xdotool clicks). */
static void
trace_match (OffshootWindow *self)
{
  int layer = offshoot_graph_view_search_layer (self->graph_view);
  double x, y, wx, wy, sx = 0, sy = 0;
  if (layer < 0 || !offshoot_graph_view_layer_position (self->graph_view, layer, &x, &y)
      || !gtk_widget_translate_coordinates (GTK_WIDGET (self->graph_view), GTK_WIDGET (self), x, y,
                                            &wx, &wy))
    return;
  gtk_native_get_surface_transform (GTK_NATIVE (self), &sx, &sy);
  trace ("found %s at %.0f %.0f", self->graph->graph->layers[layer].name, wx + sx, wy + sy);
}

static void
show_search_status (OffshootWindow *self, int n, int pos)
{
  trace_match (self);
  g_autofree char *text =
      n == 0 ? g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))[0] ? "No match"
                                                                                      : "")
             : g_strdup_printf ("%d of %d", pos + 1, n);
  gtk_label_set_text (self->search_status, text);
}

static void
on_search_changed (GtkSearchEntry *entry, OffshootWindow *self)
{
  int n =
      offshoot_graph_view_search (self->graph_view, gtk_editable_get_text (GTK_EDITABLE (entry)));
  show_search_status (self, n, 0);
}

static void
on_search_activate (GtkSearchEntry *entry, OffshootWindow *self)
{
  (void) entry;
  g_action_group_activate_action (G_ACTION_GROUP (self), "find-next", NULL);
}

static void
on_search_previous (GtkSearchEntry *entry, OffshootWindow *self)
{
  (void) entry;
  g_action_group_activate_action (G_ACTION_GROUP (self), "find-previous", NULL);
}

/* The find-next/previous actions. */
void
offshoot_window_search_step (OffshootWindow *self, int direction)
{
  int pos = offshoot_graph_view_search_step (self->graph_view, direction);
  show_search_status (self, offshoot_graph_view_search_count (self->graph_view), pos);
}

static void
on_search_mode (GObject *bar, GParamSpec *pspec, OffshootWindow *self)
{
  (void) bar;
  (void) pspec;
  if (!gtk_search_bar_get_search_mode (self->search_bar))
    {
      offshoot_graph_view_search (self->graph_view, NULL);
      gtk_widget_grab_focus (GTK_WIDGET (self->graph_view));
    }
}

/* ---- Style ------------------------------------------------------------------------------- */

static void
on_dark_changed (GtkSettings *settings, GParamSpec *pspec, OffshootWindow *self)
{
  (void) pspec;
  gboolean dark = FALSE;
  g_object_get (settings, "gtk-application-prefer-dark-theme", &dark, NULL);
  offshoot_graph_view_set_dark (self->graph_view, dark);
  if (dark)
    gtk_widget_add_css_class (GTK_WIDGET (self), "dark");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "dark");
}

/* ---- GObject ----------------------------------------------------------------------------- */

static void
offshoot_window_dispose (GObject *object)
{
  OffshootWindow *self = OFFSHOOT_WINDOW (object);
  if (self->load_cancel)
    g_cancellable_cancel (self->load_cancel);
  g_clear_object (&self->load_cancel);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), OFFSHOOT_TYPE_WINDOW);
  G_OBJECT_CLASS (offshoot_window_parent_class)->dispose (object);
}

static void
offshoot_window_finalize (GObject *object)
{
  OffshootWindow *self = OFFSHOOT_WINDOW (object);
  g_ptr_array_unref (self->undo);
  g_ptr_array_unref (self->redo);
  osh_graph_handle_unref (self->original);
  osh_graph_handle_unref (self->graph);
  g_free (self->spec);
  g_free (self->title);
  g_free (self->error);
  G_OBJECT_CLASS (offshoot_window_parent_class)->finalize (object);
}

static void
offshoot_window_class_init (OffshootWindowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = offshoot_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_window_finalize;
  g_type_ensure (OFFSHOOT_TYPE_GRAPH_VIEW);
  g_type_ensure (OFFSHOOT_TYPE_LAYER_PANEL);
  g_type_ensure (OFFSHOOT_TYPE_RUN_PANEL);
  g_type_ensure (OFFSHOOT_TYPE_HEAD_PANEL);
  gtk_widget_class_set_template_from_resource (wc, "/io/offshoot/Offshoot/ui/offshoot-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (wc, OffshootWindow, name)
  BIND (export_button);
  BIND (search_button);
  BIND (search_bar);
  BIND (search_entry);
  BIND (search_status);
  BIND (error_revealer);
  BIND (error_label);
  BIND (error_close);
  BIND (disconnect_revealer);
  BIND (disconnect_message);
  BIND (disconnect_explanation);
  BIND (disconnect_fixes);
  BIND (main_stack);
  BIND (side_stack);
  BIND (loading_spinner);
  BIND (loading_label);
  BIND (loading_progress);
  BIND (empty_title);
  BIND (empty_detail);
  BIND (status_label);
  BIND (graph_view);
  BIND (layer_panel);
  BIND (run_panel);
  BIND (head_panel);
  BIND (recent_submenu);
#undef BIND
}

static void
offshoot_window_init (OffshootWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->undo = g_ptr_array_new_with_free_func ((GDestroyNotify) osh_graph_handle_unref);
  self->redo = g_ptr_array_new_with_free_func ((GDestroyNotify) osh_graph_handle_unref);
  self->select_after_layout = -1;
  self->connected = TRUE;

  g_signal_connect_object (self->error_close, "clicked", G_CALLBACK (on_error_close), self, 0);
  g_signal_connect_object (self->graph_view, "layer-selected", G_CALLBACK (on_layer_selected), self,
                           0);
  g_signal_connect_object (self->graph_view, "layout-done", G_CALLBACK (on_layout_done), self, 0);
  g_signal_connect_object (self->head_panel, "attach", G_CALLBACK (on_head_attach), self, 0);
  g_signal_connect_object (self->run_panel, "run-finished", G_CALLBACK (on_run_finished), self, 0);
  g_signal_connect_object (self->run_panel, "state-changed", G_CALLBACK (on_run_state), self, 0);
  g_signal_connect_object (self->search_entry, "search-changed", G_CALLBACK (on_search_changed),
                           self, 0);
  g_signal_connect_object (self->search_entry, "activate", G_CALLBACK (on_search_activate), self,
                           0);
  g_signal_connect_object (self->search_entry, "previous-match", G_CALLBACK (on_search_previous),
                           self, 0);
  g_signal_connect_object (self->search_entry, "next-match", G_CALLBACK (on_search_activate), self,
                           0);
  g_signal_connect_object (self->search_bar, "notify::search-mode-enabled",
                           G_CALLBACK (on_search_mode), self, 0);
  g_object_bind_property (self->search_button, "active", self->search_bar, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));

  GtkSettings *settings = gtk_widget_get_settings (GTK_WIDGET (self));
  g_signal_connect_object (settings, "notify::gtk-application-prefer-dark-theme",
                           G_CALLBACK (on_dark_changed), self, 0);
  on_dark_changed (settings, NULL, self);

  gtk_stack_set_visible_child_name (self->main_stack, "empty");
  offshoot_window_init_actions (self);
  offshoot_window_init_dnd (self);
  offshoot_window_rebuild_recent (self);
  offshoot_window_update_actions (self);
}

OffshootWindow *
offshoot_window_new (GtkApplication *app)
{
  return g_object_new (OFFSHOOT_TYPE_WINDOW, "application", app, NULL);
}

const OshGraph *
offshoot_window_get_graph (OffshootWindow *self)
{
  return self->graph ? self->graph->graph : NULL;
}

gboolean
offshoot_window_is_busy (OffshootWindow *self)
{
  return self->loading || self->exporting > 0
         || offshoot_graph_view_is_laying_out (self->graph_view)
         || offshoot_run_panel_is_running (self->run_panel);
}

const char *
offshoot_window_get_error (OffshootWindow *self)
{
  return self->error;
}

const char *
offshoot_window_get_page (OffshootWindow *self)
{
  return gtk_stack_get_visible_child_name (self->main_stack);
}

OffshootGraphView *
offshoot_window_get_graph_view (OffshootWindow *self)
{
  return self->graph_view;
}

OffshootHeadPanel *
offshoot_window_get_head_panel (OffshootWindow *self)
{
  return self->head_panel;
}

OffshootRunPanel *
offshoot_window_get_run_panel (OffshootWindow *self)
{
  return self->run_panel;
}

OffshootLayerPanel *
offshoot_window_get_layer_panel (OffshootWindow *self)
{
  return self->layer_panel;
}
