/* The window follows the system's light or dark style, canvas included, and its texts stay
 * legible on both (issue 17): the canvas background and the head panel's error text are
 * measured on the drawn window. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "offshoot-window-private.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;

/* Relative luminance (WCAG) of the pixel at x, y of the window's picture. */
static double
luminance_at (GdkTexture *t, GtkWidget *win, GtkWidget *w, double x, double y)
{
  graphene_point_t p;
  g_assert_true (gtk_widget_compute_point (w, win, &GRAPHENE_POINT_INIT (x, y), &p));
  int width = gdk_texture_get_width (t);
  guint32 px[1];
  g_autofree guint32 *all = g_new (guint32, (gsize) width * gdk_texture_get_height (t));
  gdk_texture_download (t, (guchar *) all, width * 4);
  px[0] = all[(int) p.y * width + (int) p.x];
  double c[3] = { (px[0] >> 16 & 255) / 255.0, (px[0] >> 8 & 255) / 255.0, (px[0] & 255) / 255.0 };
  for (int i = 0; i < 3; i++)
    c[i] = c[i] <= 0.04045 ? c[i] / 12.92 : pow ((c[i] + 0.055) / 1.055, 2.4);
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static double
luminance_of (const GdkRGBA *rgba)
{
  double c[3] = { rgba->red, rgba->green, rgba->blue };
  for (int i = 0; i < 3; i++)
    c[i] = c[i] <= 0.04045 ? c[i] / 12.92 : pow ((c[i] + 0.055) / 1.055, 2.4);
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static double
contrast (double a, double b)
{
  return (MAX (a, b) + 0.05) / (MIN (a, b) + 0.05);
}

/* A window on the fixture with a custom chain that does not parse in the head panel. */
static OffshootWindow *
window_with_head_error (void)
{
  g_autofree char *path = osh_test_fixture ("ui/fixtures/tiny-cnn.onnx");
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, path);
  ui_test_settle (win);
  const OshGraph *g = offshoot_window_get_graph (win);
  offshoot_graph_view_select_layer (offshoot_window_get_graph_view (win),
                                    osh_graph_find_layer (g, -1, "/block2/Relu_1"), FALSE);
  g_action_group_activate_action (G_ACTION_GROUP (win), "attach-head", NULL);
  OffshootHeadPanel *head = offshoot_window_get_head_panel (win);
  offshoot_head_panel_set_spec (head, "conv:8:3,nosuchlayer");
  const char *text = NULL;
  g_assert_false (offshoot_head_panel_check (head, &text));
  ui_test_settle (win);
  return win;
}

/* Checks the canvas is dark or light as the window is, and the error text's contrast. */
static void
check_window (OffshootWindow *win, gboolean dark, const char *shot)
{
  g_assert_cmpint (offshoot_window_is_dark (win), ==, dark);
  g_autoptr (GdkTexture) t = ui_test_draw (GTK_WIDGET (win), 2);
  const char *dir = g_getenv ("G_TEST_BUILDDIR");
  g_autofree char *path = g_build_filename (dir ? dir : ".", "ui", shot, NULL);
  gdk_texture_save_to_png (t, path);
  g_test_message ("screenshot: %s", path);
  /* The canvas's empty corner. */
  GtkWidget *view = GTK_WIDGET (offshoot_window_get_graph_view (win));
  double canvas = luminance_at (t, GTK_WIDGET (win), view, gtk_widget_get_width (view) - 4, 4);
  if (dark)
    g_assert_cmpfloat (canvas, <, 0.1);
  else
    g_assert_cmpfloat (canvas, >, 0.6);
  /* The head panel's error: its text colour against the panel right above it. */
  GtkWidget *label = GTK_WIDGET (gtk_widget_get_template_child (
      GTK_WIDGET (offshoot_window_get_head_panel (win)), OFFSHOOT_TYPE_HEAD_PANEL, "check_label"));
  g_assert_true (gtk_widget_has_css_class (label, "error"));
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (label), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  double bg = luminance_at (t, GTK_WIDGET (win), label, gtk_widget_get_width (label) - 2, -3);
  double c = contrast (luminance_of (&fg), bg);
  g_test_message ("%s: canvas %.3f, error text contrast %.1f:1", dark ? "dark" : "light", canvas,
                  c);
  g_assert_cmpfloat (c, >=, 4.5); /* WCAG AA for normal text */
}

static void
test_light_and_dark (void)
{
  GtkSettings *settings = gtk_settings_get_default ();
  g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
  OffshootWindow *win = window_with_head_error ();
  check_window (win, FALSE, "style-light.png");
  /* The desktop switches to dark (the application sets GTK's preference from the portal). */
  g_object_set (settings, "gtk-application-prefer-dark-theme", TRUE, NULL);
  ui_test_settle (win);
  check_window (win, TRUE, "style-dark.png");
  g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
  ui_test_close (win);
}

/* A dark theme without the preference (GTK_THEME=Adwaita:dark, a dark theme chosen in the
 * desktop's settings): the canvas is dark too. */
static void
test_dark_theme (void)
{
  GtkSettings *settings = gtk_settings_get_default ();
  g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, "gtk-theme-name",
                "Adwaita-dark", NULL);
  OffshootWindow *win = window_with_head_error ();
  check_window (win, TRUE, "style-dark-theme.png");
  ui_test_close (win);
  g_object_set (settings, "gtk-theme-name", "Adwaita", NULL);
}

int
main (int argc, char **argv)
{
  g_autofree char *data_home = g_dir_make_tmp ("offshoot-ui-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_unsetenv ("GTK_THEME"); /* the test sets the theme itself */
  gtk_test_init (&argc, &argv, NULL);
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  app = ui_test_application_new ("io.offshoot.Offshoot.TestStyle");
  /* The application's stylesheet, as the application loads it. */
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/io/offshoot/Offshoot/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_test_add_func ("/ui/style/light-and-dark", test_light_and_dark);
  g_test_add_func ("/ui/style/dark-theme", test_dark_theme);
  int status = g_test_run ();
  g_object_unref (app);
  ui_test_scratch_free (g_steal_pointer (&data_home));
  return status;
}
