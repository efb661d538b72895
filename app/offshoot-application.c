/* offshoot-application.c — the GtkApplication: one instance, files opened into windows,
 * app-wide actions and every keyboard shortcut, the stylesheet, and a dark style that
 * follows the desktop's preference (read from the settings portal; GTK 4.8 does not). */
#include "offshoot-application.h"

#include "offshoot-window.h"

struct _OffshootApplication
{
  GtkApplication parent_instance;
  GDBusConnection *bus;
  guint portal_signal;
};

G_DEFINE_FINAL_TYPE (OffshootApplication, offshoot_application, GTK_TYPE_APPLICATION)

/* ---- Light and dark ---------------------------------------------------------------------- */

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define PORTAL_SETTINGS "org.freedesktop.portal.Settings"

static void
set_dark (gboolean dark)
{
  GtkSettings *settings = gtk_settings_get_default ();
  if (settings)
    g_object_set (settings, "gtk-application-prefer-dark-theme", dark, NULL);
}

/* color-scheme: 0 no preference, 1 prefer dark, 2 prefer light. */
static void
apply_color_scheme (GVariant *value)
{
  if (value && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    set_dark (g_variant_get_uint32 (value) == 1);
}

static void
on_portal_read (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) data;
  g_autoptr (GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, NULL);
  if (!ret)
    return; /* no portal: keep the theme's default */
  g_autoptr (GVariant) v = NULL;
  g_variant_get (ret, "(v)", &v);
  g_autoptr (GVariant) inner = g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT)
                                   ? g_variant_get_variant (v)
                                   : g_variant_ref (v);
  apply_color_scheme (inner);
}

static void
on_portal_changed (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                   const char *signal, GVariant *params, gpointer data)
{
  (void) bus;
  (void) sender;
  (void) path;
  (void) iface;
  (void) signal;
  (void) data;
  const char *ns = NULL, *key = NULL;
  g_autoptr (GVariant) v = NULL;
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(ssv)")))
    return;
  g_variant_get (params, "(&s&sv)", &ns, &key, &v);
  if (g_str_equal (ns, "org.freedesktop.appearance") && g_str_equal (key, "color-scheme"))
    apply_color_scheme (v);
}

static void
follow_system_style (OffshootApplication *self)
{
  const char *forced = g_getenv ("OFFSHOOT_STYLE"); /* "dark" or "light", for screenshots */
  if (forced && *forced)
    {
      set_dark (g_str_equal (forced, "dark"));
      return;
    }
  self->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (!self->bus)
    return;
  self->portal_signal = g_dbus_connection_signal_subscribe (
      self->bus, PORTAL_NAME, PORTAL_SETTINGS, "SettingChanged", PORTAL_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_portal_changed, NULL, NULL);
  g_dbus_connection_call (self->bus, PORTAL_NAME, PORTAL_PATH, PORTAL_SETTINGS, "ReadOne",
                          g_variant_new ("(ss)", "org.freedesktop.appearance", "color-scheme"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL,
                          on_portal_read, NULL);
}

/* ---- Windows and actions ----------------------------------------------------------------- */

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
      g_autofree char *arg = g_file_get_basename (files[i]);
      /* `offshoot @default` arrives as a file named "@default" in the working directory. */
      if (g_strcmp0 (arg, "@default") == 0 && !g_file_query_exists (files[i], NULL))
        offshoot_window_open_default (win);
      else
        offshoot_window_open_file (win, files[i]);
      gtk_window_present (GTK_WINDOW (win));
    }
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer app)
{
  (void) action;
  (void) param;
  /* Each window closes as its close button would: one with an edited model asks first.
   * The application ends with its last window. */
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
  g_list_free (windows);
}

static void
about_activated (GSimpleAction *action, GVariant *param, gpointer app)
{
  (void) action;
  (void) param;
  static const char *const authors[] = { "The Offshoot developers", NULL };
  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (app)), "program-name",
                         "Offshoot", "logo-icon-name", OFFSHOOT_APP_ID, "version", OFFSHOOT_VERSION,
                         "comments",
                         "Look inside trained vision models, attach auxiliary heads, "
                         "explain “Graph disconnected” and run them on images.",
                         "license-type", GTK_LICENSE_MIT_X11, "authors", authors, NULL);
}

typedef struct
{
  const char *action;
  const char *accels[3];
} Shortcut;

static const Shortcut shortcuts[] = {
  { "app.quit", { "<Control>q", NULL } },
  { "win.open", { "<Control>o", NULL } },
  { "win.new-from-architecture", { "<Control><Shift>n", NULL } },
  { "win.export", { "<Control>e", NULL } },
  { "win.find", { "<Control>f", NULL } },
  { "win.find-next", { "<Control>g", NULL } },
  { "win.find-previous", { "<Control><Shift>g", NULL } },
  { "win.zoom-in", { "<Control>plus", "<Control>equal", NULL } },
  { "win.zoom-out", { "<Control>minus", NULL } },
  { "win.zoom-fit", { "<Control>0", NULL } },
  { "win.run", { "F5", NULL } },
  { "win.undo", { "<Control>z", NULL } },
  { "win.redo", { "<Control><Shift>z", NULL } },
  { "win.attach-head", { "<Control>h", NULL } },
  { "win.cancel", { "Escape", NULL } },
};

void
offshoot_application_set_accels (GtkApplication *app)
{
  for (size_t i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    gtk_application_set_accels_for_action (app, shortcuts[i].action, shortcuts[i].accels);
}

static void
offshoot_application_startup (GApplication *app)
{
  G_APPLICATION_CLASS (offshoot_application_parent_class)->startup (app);
  g_set_application_name ("Offshoot");
  gtk_window_set_default_icon_name (OFFSHOOT_APP_ID);
  static const GActionEntry entries[] = {
    { .name = "quit", .activate = quit_activated },
    { .name = "about", .activate = about_activated },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  offshoot_application_set_accels (GTK_APPLICATION (app));

  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/io/offshoot/Offshoot/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  follow_system_style (OFFSHOOT_APPLICATION (app));
}

static void
offshoot_application_shutdown (GApplication *app)
{
  OffshootApplication *self = OFFSHOOT_APPLICATION (app);
  if (self->portal_signal)
    g_dbus_connection_signal_unsubscribe (self->bus, self->portal_signal);
  self->portal_signal = 0;
  g_clear_object (&self->bus);
  G_APPLICATION_CLASS (offshoot_application_parent_class)->shutdown (app);
}

static void
offshoot_application_class_init (OffshootApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  app_class->activate = offshoot_application_activate;
  app_class->open = offshoot_application_open;
  app_class->startup = offshoot_application_startup;
  app_class->shutdown = offshoot_application_shutdown;
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
                       G_APPLICATION_HANDLES_OPEN, "resource-base-path", "/io/offshoot/Offshoot",
                       NULL);
}
