/* offshoot-window-export-menu.c — the Export menu's Model section: only the formats the open
 * model can be saved as (osh_model_can_save), the others left out with the reason in the Export
 * button's tooltip, and the save dialog's file filter for the chosen format. */
#include "offshoot-window-private.h"
#include "osh-model.h"
#include "osh-weights-later.h"

typedef struct
{
  const char *target; /* the export-model action's parameter, also the extension */
  const char *label;
  const char *filter_name;
  const char *pattern;
  OshFormat format;
} ExportFormat;

static const ExportFormat export_formats[] = {
  { "keras", "Keras 3 (.keras)…", "Keras 3 (.keras)", "*.keras", OSH_FORMAT_KERAS3 },
  { "h5", "Keras 2 (.h5)…", "Keras 2 (.h5)", "*.h5", OSH_FORMAT_H5 },
  { "json", "TF.js (model.json)…", "TF.js (model.json)", "*.json", OSH_FORMAT_TFJS },
  { "onnx", "ONNX (.onnx)…", "ONNX (.onnx)", "*.onnx", OSH_FORMAT_ONNX },
};
#define N_EXPORT_FORMATS G_N_ELEMENTS (export_formats)

static const ExportFormat *
find_format (const char *target)
{
  for (guint i = 0; i < N_EXPORT_FORMATS; i++)
    if (g_str_equal (export_formats[i].target, target))
      return &export_formats[i];
  return NULL;
}

gboolean
offshoot_window_can_export (OffshootWindow *self, const char *target, char **why)
{
  const ExportFormat *f = find_format (target);
  OshGraphHandle *h = offshoot_window_handle (self);
  OshError err = { 0 };
  gboolean ok = f && (!h || osh_model_can_save (h->graph, f->format, &err));
  if (why)
    *why = ok ? NULL : g_strdup (f ? err.message : "unknown export format");
  return ok;
}

GtkFileFilter *
offshoot_window_export_filter (const char *target)
{
  const ExportFormat *f = find_format (target);
  if (!f)
    return NULL;
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, f->filter_name);
  gtk_file_filter_add_pattern (filter, f->pattern);
  if (f->format == OSH_FORMAT_H5)
    gtk_file_filter_add_pattern (filter, "*.hdf5");
  return filter;
}

void
offshoot_window_update_export_menu (OffshootWindow *self)
{
  /* update_actions runs often, and the answer for a graph model's .onnx converts the graph. */
  OshGraphHandle *h = offshoot_window_handle (self);
  const OshGraph *g = h ? h->graph : NULL;
  gboolean deferred = g && osh_weights_deferred (g);
  if (self->export_menu_filled && h == self->export_handle && deferred == self->export_deferred)
    return;
  if (h)
    osh_graph_handle_ref (h);
  g_clear_pointer (&self->export_handle, osh_graph_handle_unref);
  self->export_handle = h;
  self->export_deferred = deferred;
  guint offered = 0;
  g_autoptr (GString) why = g_string_new (NULL);
  for (guint i = 0; i < N_EXPORT_FORMATS; i++)
    {
      g_autofree char *reason = NULL;
      if (offshoot_window_can_export (self, export_formats[i].target, &reason))
        offered |= 1u << i;
      else if (!strstr (why->str, reason)) /* .keras and .h5 share theirs */
        g_string_append_printf (why, "\nNot offered: %s", reason);
    }
  if (!self->export_menu_filled) /* the first time: the tooltip is still the template's own */
    self->export_tooltip =
        g_strdup (gtk_widget_get_tooltip_text (GTK_WIDGET (self->export_button)));
  g_autofree char *tip =
      g_strconcat (self->export_tooltip ? self->export_tooltip : "", why->str, NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->export_button), tip);
  /* Rebuilt only when the set changes: an open menu must not blink. */
  if (offered == self->export_offered && self->export_menu_filled)
    return;
  self->export_offered = offered;
  self->export_menu_filled = TRUE;
  g_menu_remove_all (self->export_model_section);
  for (guint i = 0; i < N_EXPORT_FORMATS; i++)
    if (offered & (1u << i))
      {
        g_autoptr (GMenuItem) item = g_menu_item_new (export_formats[i].label, NULL);
        g_menu_item_set_action_and_target (item, "win.export-model", "s", export_formats[i].target);
        g_menu_append_item (self->export_model_section, item);
      }
}
