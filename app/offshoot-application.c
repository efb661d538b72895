#include "offshoot-application.h"

#include "offshoot-window.h"

struct _OffshootApplication
{
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (OffshootApplication, offshoot_application, GTK_TYPE_APPLICATION)

static void
offshoot_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (!window)
    {
      OffshootWindow *win = offshoot_window_new (GTK_APPLICATION (app));
      offshoot_window_open_default (win);
      window = GTK_WINDOW (win);
    }
  gtk_window_present (window);
}

static void
offshoot_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  (void) hint;
  for (int i = 0; i < n_files; i++)
    {
      OffshootWindow *win = offshoot_window_new (GTK_APPLICATION (app));
      offshoot_window_open_file (win, files[i]);
      gtk_window_present (GTK_WINDOW (win));
    }
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer app)
{
  (void) action;
  (void) param;
  g_application_quit (G_APPLICATION (app));
}

static void
offshoot_application_startup (GApplication *app)
{
  G_APPLICATION_CLASS (offshoot_application_parent_class)->startup (app);
  static const GActionEntry entries[] = {
    { .name = "quit", .activate = quit_activated },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  static const char *const quit_accels[] = { "<Control>q", NULL };
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
}

static void
offshoot_application_class_init (OffshootApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  app_class->activate = offshoot_application_activate;
  app_class->open = offshoot_application_open;
  app_class->startup = offshoot_application_startup;
}

static void
offshoot_application_init (OffshootApplication *self)
{
  (void) self;
}

OffshootApplication *
offshoot_application_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_APPLICATION, "application-id", OFFSHOOT_APP_ID, "flags",
                       G_APPLICATION_HANDLES_OPEN, NULL);
}
