#include "offshoot-window.h"

#include "osh-default-model.h"
#include "osh-graph.h"

struct _OffshootWindow
{
  GtkApplicationWindow parent_instance;

  GtkLabel *summary_label;
  OshGraph *graph;
};

G_DEFINE_FINAL_TYPE (OffshootWindow, offshoot_window, GTK_TYPE_APPLICATION_WINDOW)

static void
offshoot_window_finalize (GObject *object)
{
  OffshootWindow *self = OFFSHOOT_WINDOW (object);
  osh_graph_free (self->graph);
  G_OBJECT_CLASS (offshoot_window_parent_class)->finalize (object);
}

static void
offshoot_window_class_init (OffshootWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->finalize = offshoot_window_finalize;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/offshoot/Offshoot/ui/offshoot-window.ui");
  gtk_widget_class_bind_template_child (widget_class, OffshootWindow, summary_label);
}

static void
offshoot_window_init (OffshootWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

OffshootWindow *
offshoot_window_new (GtkApplication *app)
{
  return g_object_new (OFFSHOOT_TYPE_WINDOW, "application", app, NULL);
}

static void
show_model (OffshootWindow *self, const char *spec)
{
  OshError err = { 0 };
  OshGraph *g = osh_load_model_spec (spec, &err);
  if (!g)
    {
      gtk_label_set_text (self->summary_label, err.message);
      return;
    }
  osh_graph_free (self->graph);
  self->graph = g;
  g_autofree char *text = g_strdup_printf ("%s — %d layers, %lld parameters", g->name ? g->name : spec,
                                           g->n_layers, (long long) osh_graph_total_params (g, NULL));
  gtk_label_set_text (self->summary_label, text);
  gtk_window_set_title (GTK_WINDOW (self), g->name ? g->name : "Offshoot");
}

void
offshoot_window_open_file (OffshootWindow *self, GFile *file)
{
  g_autofree char *path = g_file_get_path (file);
  if (path)
    show_model (self, path);
}

void
offshoot_window_open_default (OffshootWindow *self)
{
  show_model (self, "@default");
}
