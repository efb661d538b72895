/* offshoot-window-unsaved.c — an edited model is not dropped without asking: closing the
 * window (Ctrl+Q, the close button) and opening another model first ask Save / Discard /
 * Cancel. Save exports the model (the opened file itself is never overwritten) and then
 * goes on. */
#include "offshoot-window-private.h"

#define RESPONSE_DISCARD 1
#define RESPONSE_SAVE 2

/* Carries out what was asked: close the window, or open `then` (a spec). */
static void
go_on (OffshootWindow *self, const char *then)
{
  if (g_strcmp0 (then, "close") == 0)
    {
      /* Asked and answered: the next close-request lets the window go. */
      g_object_set_data (G_OBJECT (self), "offshoot-close-confirmed", GINT_TO_POINTER (1));
      gtk_window_close (GTK_WINDOW (self));
    }
  else
    offshoot_window_load_spec (self, then);
}

static const char *
save_extension (OffshootWindow *self)
{
  const char *spec = offshoot_document_get_spec (self->doc);
  if (spec && (g_str_has_suffix (spec, ".h5") || g_str_has_suffix (spec, ".hdf5")))
    return "h5";
  if (spec && g_str_has_suffix (spec, ".onnx"))
    return "onnx";
  return "keras";
}

static void
on_response (GtkDialog *dialog, int response, OffshootWindow *self)
{
  g_autofree char *then = g_steal_pointer (&self->after_save);
  /* The window may close below while the dialog is still in its signal: let go of it. */
  gtk_window_set_transient_for (GTK_WINDOW (dialog), NULL);
  gtk_window_destroy (GTK_WINDOW (dialog));
  self->unsaved_dialog = NULL;
  if (response == RESPONSE_DISCARD)
    go_on (self, then);
  else if (response == RESPONSE_SAVE)
    {
      self->after_save = g_steal_pointer (&then);
      g_action_group_activate_action (G_ACTION_GROUP (self), "export-model",
                                      g_variant_new_string (save_extension (self)));
    }
  /* Cancel (or the dialog closed): nothing happens. */
}

void
offshoot_window_confirm_then (OffshootWindow *self, const char *then)
{
  if (!self->doc || !offshoot_document_is_modified (self->doc))
    {
      go_on (self, then);
      return;
    }
  if (self->unsaved_dialog)
    {
      gtk_window_present (self->unsaved_dialog);
      return;
    }
  g_free (self->after_save);
  self->after_save = g_strdup (then);
  g_autofree char *name = offshoot_document_dup_display_name (self->doc);
  GtkWidget *d = gtk_message_dialog_new (
      GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
      GTK_BUTTONS_NONE, "Save the changes to “%s”?", name);
  gtk_message_dialog_format_secondary_text (
      GTK_MESSAGE_DIALOG (d), "%s",
      g_strcmp0 (then, "close") == 0
          ? "The model was edited (heads attached or fixes applied). Without saving, the "
            "edits are lost when the window closes."
          : "The model was edited (heads attached or fixes applied). Without saving, the "
            "edits are lost when the other model opens.");
  gtk_dialog_add_button (GTK_DIALOG (d), "_Cancel", GTK_RESPONSE_CANCEL);
  GtkWidget *discard = gtk_dialog_add_button (GTK_DIALOG (d), "_Discard", RESPONSE_DISCARD);
  gtk_widget_add_css_class (discard, "destructive-action");
  gtk_dialog_add_button (GTK_DIALOG (d), "_Save As…", RESPONSE_SAVE);
  gtk_dialog_set_default_response (GTK_DIALOG (d), RESPONSE_SAVE);
  g_signal_connect_object (d, "response", G_CALLBACK (on_response), self, 0);
  self->unsaved_dialog = GTK_WINDOW (d);
  gtk_window_present (GTK_WINDOW (d));
}

void
offshoot_window_saved (OffshootWindow *self, gboolean ok)
{
  g_autofree char *then = g_steal_pointer (&self->after_save);
  if (then && ok)
    go_on (self, then);
}

static gboolean
on_close_request (GtkWindow *window, gpointer data)
{
  (void) data;
  OffshootWindow *self = OFFSHOOT_WINDOW (window);
  if (g_object_get_data (G_OBJECT (self), "offshoot-close-confirmed") || !self->doc
      || !offshoot_document_is_modified (self->doc))
    return FALSE;
  offshoot_window_confirm_then (self, "close");
  return TRUE; /* stays open until answered */
}

void
offshoot_window_init_unsaved (OffshootWindow *self)
{
  g_signal_connect (self, "close-request", G_CALLBACK (on_close_request), NULL);
}
