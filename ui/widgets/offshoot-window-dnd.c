/* offshoot-window-dnd.c — dropping files on the window: a model opens, an image becomes
 * the run input. */
#include "offshoot-window-private.h"

static gboolean
is_image_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  return g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg")
         || g_str_has_suffix (lower, ".jpeg");
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, OffshootWindow *self)
{
  (void) target;
  (void) x;
  (void) y;
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  GSList *files = g_value_get_boxed (value);
  gboolean handled = FALSE;
  for (GSList *l = files; l; l = l->next)
    {
      GFile *file = l->data;
      g_autofree char *name = g_file_get_basename (file);
      if (name && is_image_name (name))
        handled |= offshoot_window_set_run_input (self, file);
      else if (!handled)
        {
          /* One model per window: the first non-image file. */
          offshoot_window_open_file (self, file);
          handled = TRUE;
        }
    }
  return handled;
}

void
offshoot_window_init_dnd (OffshootWindow *self)
{
  GtkDropTarget *target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_object (target, "drop", G_CALLBACK (on_drop), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}
