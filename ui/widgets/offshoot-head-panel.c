/* offshoot-head-panel.c — the head editor: template controls write the spec text, the spec
 * is checked by attaching it to the model (the engine checks shapes before building), and
 * the check lists every new layer with its output shape. The check attaches to a copy of the
 * model without weight values (osh_graph_copy_structure), made once per graph: a copy with
 * them was B7's 254 MiB on every keystroke and selection. */
#include "offshoot-head-panel.h"

#include <stdlib.h>

#include "offshoot-trace.h"

#define CHECK_DELAY_MS 250 /* typing pauses this long before a check */

enum
{
  TEMPLATE_SEG,
  TEMPLATE_CLASSIFIER,
  TEMPLATE_CHAIN
};

struct _OffshootHeadPanel
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkLabel *at_label, *check_label, *filters_caption, *outputs_caption;
  GtkDropDown *template_drop;
  GtkSpinButton *filters_spin, *outputs_spin;
  GtkEntry *spec_entry;
  GtkCheckButton *keras_check;
  GtkButton *apply_button;

  OshGraphHandle *graph;
  OshGraphHandle *structure_of; /* the graph `structure` is a copy of (a reference held) */
  OshGraph *structure;          /* its copy without weight values, for the checks */
  int layer;
  gboolean writing; /* the controls are writing the spec */
  guint check_id;
  gboolean ok;
  char *check_text;
};

G_DEFINE_FINAL_TYPE (OffshootHeadPanel, offshoot_head_panel, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_ATTACH,
  SIGNAL_CHECKED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
free_names (char **names, int n)
{
  for (int i = 0; names && i < n; i++)
    free (names[i]);
}

/* The graph without weight values a check attaches to; NULL with err when out of memory. */
static const OshGraph *
structure (OffshootHeadPanel *self, OshError *err)
{
  if (self->structure_of != self->graph)
    {
      osh_graph_free (self->structure);
      osh_graph_handle_unref (self->structure_of);
      self->structure = osh_graph_copy_structure (self->graph->graph, err);
      self->structure_of = self->structure ? osh_graph_handle_ref (self->graph) : NULL;
    }
  return self->structure;
}

/* Parses and attaches, to the model itself or (`preview`) to its structure; on success returns
 * the edited graph and fills names[]. */
static OshGraph *
attach (OffshootHeadPanel *self, gboolean preview, OshHeadSpec *spec, char **names, char **path_out,
        OshError *err)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->spec_entry));
  if (!self->graph || self->layer < 0)
    {
      osh_fail (err, OSH_ERR_USAGE, "Select a layer in the graph first.");
      return NULL;
    }
  if (!osh_head_parse (text, spec, err))
    return NULL;
  const OshGraph *on = preview ? structure (self, err) : self->graph->graph;
  if (!on)
    return NULL;
  g_autofree char *path = osh_graph_layer_path (on, self->layer);
  OshAttachMode mode =
      gtk_check_button_get_active (self->keras_check) ? OSH_ATTACH_KERAS : OSH_ATTACH_CONNECTED;
  OshGraph *edited = osh_head_attach (on, path, spec, mode, names, err);
  if (edited && path_out)
    *path_out = g_steal_pointer (&path);
  return edited;
}

static gboolean
run_check (gpointer data)
{
  OffshootHeadPanel *self = data;
  self->check_id = 0;
  OshHeadSpec spec;
  char *names[OSH_HEAD_MAX_STEPS] = { 0 };
  OshError err = { 0 };
  OshGraph *edited = attach (self, TRUE, &spec, names, NULL, &err);
  g_autoptr (GString) s = g_string_new (NULL);
  self->ok = edited != NULL;
  if (edited)
    {
      /* The preview: each new layer with the shape it produces. */
      for (int i = 0; i < spec.n_steps; i++)
        {
          int l = osh_graph_find_layer (edited, -1, names[i]);
          int node = l >= 0 ? osh_graph_layer_first_node (edited, l) : -1;
          char shape[96] = "?";
          if (node >= 0 && edited->nodes[node].shapes)
            osh_shape_format (&edited->nodes[node].shapes[0], shape, sizeof shape);
          /* The class as made: Conv2D for a Keras graph, Conv for an ONNX one. */
          g_string_append_printf (
              s, "%s+ %s (%s) → %s", i ? "\n" : "", names[i],
              l >= 0 ? edited->layers[l].class_name : osh_head_step_class (&spec.steps[i]), shape);
        }
      int64_t before = osh_graph_total_params (self->graph->graph, NULL);
      g_string_append_printf (
          s, "\n%" G_GINT64_FORMAT " new parameters; the head's output becomes output %d.",
          osh_graph_total_params (edited, NULL) - before, edited->n_outputs);
      osh_graph_free (edited);
      free_names (names, spec.n_steps);
    }
  else
    g_string_append (s, err.message);
  g_free (self->check_text);
  self->check_text = g_string_free (g_steal_pointer (&s), FALSE);
  gtk_label_set_text (self->check_label, self->check_text);
  gtk_widget_set_sensitive (GTK_WIDGET (self->apply_button), self->ok);
  if (self->ok)
    gtk_widget_remove_css_class (GTK_WIDGET (self->check_label), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->check_label), "error");
  g_signal_emit (self, signals[SIGNAL_CHECKED], 0);
  return G_SOURCE_REMOVE;
}

static void
schedule_check (OffshootHeadPanel *self)
{
  g_clear_handle_id (&self->check_id, g_source_remove);
  self->check_id = g_timeout_add (CHECK_DELAY_MS, run_check, self);
}

gboolean
offshoot_head_panel_check (OffshootHeadPanel *self, const char **text)
{
  g_clear_handle_id (&self->check_id, g_source_remove);
  run_check (self);
  if (text)
    *text = self->check_text;
  return self->ok;
}

/* Template controls → spec text. */
static void
write_spec (OffshootHeadPanel *self)
{
  guint t = gtk_drop_down_get_selected (self->template_drop);
  int f = gtk_spin_button_get_value_as_int (self->filters_spin);
  int k = gtk_spin_button_get_value_as_int (self->outputs_spin);
  gtk_widget_set_visible (GTK_WIDGET (self->filters_spin), t == TEMPLATE_SEG);
  gtk_widget_set_visible (GTK_WIDGET (self->filters_caption), t == TEMPLATE_SEG);
  gtk_widget_set_visible (GTK_WIDGET (self->outputs_spin), t != TEMPLATE_CHAIN);
  gtk_widget_set_visible (GTK_WIDGET (self->outputs_caption), t != TEMPLATE_CHAIN);
  gtk_label_set_text (self->outputs_caption,
                      t == TEMPLATE_CLASSIFIER ? "Classes" : "Output channels");
  g_autofree char *spec = NULL;
  if (t == TEMPLATE_SEG)
    spec = f == 128 && k == 1 ? g_strdup ("seg") : g_strdup_printf ("seg:%d:%d", f, k);
  else if (t == TEMPLATE_CLASSIFIER)
    spec = g_strdup_printf ("classifier:%d", k);
  else
    spec = g_strdup_printf ("conv2d(filters=%d,kernel_size=3,padding=same),batchnorm,relu,"
                            "conv2d(filters=%d,kernel_size=1)",
                            f, k);
  self->writing = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->spec_entry), spec);
  self->writing = FALSE;
  schedule_check (self);
}

static void
on_template_changed (GObject *o, GParamSpec *p, OffshootHeadPanel *self)
{
  (void) o;
  (void) p;
  if (gtk_drop_down_get_selected (self->template_drop) == TEMPLATE_CLASSIFIER
      && gtk_spin_button_get_value_as_int (self->outputs_spin) == 1)
    gtk_spin_button_set_value (self->outputs_spin, 2); /* a one-class softmax means nothing */
  write_spec (self);
}

static void
on_spec_changed (GtkEditable *e, OffshootHeadPanel *self)
{
  (void) e;
  if (!self->writing)
    schedule_check (self);
}

static void
on_mode_toggled (GtkCheckButton *b, OffshootHeadPanel *self)
{
  (void) b;
  schedule_check (self);
}

void
offshoot_head_panel_set_spec (OffshootHeadPanel *self, const char *spec)
{
  gtk_editable_set_text (GTK_EDITABLE (self->spec_entry), spec);
  offshoot_head_panel_check (self, NULL);
}

void
offshoot_head_panel_set_target (OffshootHeadPanel *self, OshGraphHandle *h, int layer)
{
  g_return_if_fail (OFFSHOOT_IS_HEAD_PANEL (self));
  OshGraphHandle *old = self->graph;
  self->graph = osh_graph_handle_ref (h);
  osh_graph_handle_unref (old);
  self->layer = h && layer < h->graph->n_layers ? layer : -1;
  if (self->layer >= 0)
    {
      g_autofree char *path = osh_graph_layer_path (h->graph, self->layer);
      g_autofree char *text = g_strdup_printf ("Attach at %s", path);
      gtk_label_set_text (self->at_label, text);
    }
  else
    gtk_label_set_text (self->at_label, "Select a layer in the graph to attach a head to it.");
  schedule_check (self);
}

gboolean
offshoot_head_panel_apply (OffshootHeadPanel *self)
{
  g_return_val_if_fail (OFFSHOOT_IS_HEAD_PANEL (self), FALSE);
  OshHeadSpec spec;
  char *names[OSH_HEAD_MAX_STEPS] = { 0 };
  OshError err = { 0 };
  g_autofree char *path = NULL;
  gint64 start = g_get_monotonic_time ();
  OshGraph *edited = attach (self, FALSE, &spec, names, &path, &err);
  offshoot_window_trace ("head %s in %.0f ms", edited ? "attached" : "refused",
                         (double) (g_get_monotonic_time () - start) / 1e3);
  if (!edited)
    {
      gtk_label_set_text (self->check_label, err.message);
      return FALSE;
    }
  /* The handler takes the graph over; names stay ours. */
  g_signal_emit (self, signals[SIGNAL_ATTACH], 0, edited, path, &spec, names);
  free_names (names, spec.n_steps);
  return TRUE;
}

static void
on_apply_clicked (GtkButton *b, OffshootHeadPanel *self)
{
  (void) b;
  offshoot_head_panel_apply (self);
}

static void
offshoot_head_panel_dispose (GObject *object)
{
  OffshootHeadPanel *self = OFFSHOOT_HEAD_PANEL (object);
  g_clear_handle_id (&self->check_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), OFFSHOOT_TYPE_HEAD_PANEL);
  G_OBJECT_CLASS (offshoot_head_panel_parent_class)->dispose (object);
}

static void
offshoot_head_panel_finalize (GObject *object)
{
  OffshootHeadPanel *self = OFFSHOOT_HEAD_PANEL (object);
  osh_graph_handle_unref (self->graph);
  osh_graph_handle_unref (self->structure_of);
  osh_graph_free (self->structure);
  g_free (self->check_text);
  G_OBJECT_CLASS (offshoot_head_panel_parent_class)->finalize (object);
}

static void
offshoot_head_panel_class_init (OffshootHeadPanelClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = offshoot_head_panel_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_head_panel_finalize;
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (wc,
                                               "/io/offshoot/Offshoot/ui/offshoot-head-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child (wc, OffshootHeadPanel, name)
  BIND (scroller);
  BIND (at_label);
  BIND (check_label);
  BIND (filters_caption);
  BIND (outputs_caption);
  BIND (template_drop);
  BIND (filters_spin);
  BIND (outputs_spin);
  BIND (spec_entry);
  BIND (keras_check);
  BIND (apply_button);
#undef BIND
  /* ::attach (OshGraph *edited, const char *path, const OshHeadSpec *spec, char **names):
   * the handler owns `edited` from then on. */
  signals[SIGNAL_ATTACH] =
      g_signal_new ("attach", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 4, G_TYPE_POINTER, G_TYPE_STRING, G_TYPE_POINTER, G_TYPE_POINTER);
  /* ::checked: the check's lines (and so the panel's natural height) may have changed. */
  signals[SIGNAL_CHECKED] = g_signal_new ("checked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
offshoot_head_panel_init (OffshootHeadPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->layer = -1;
  g_signal_connect_object (self->template_drop, "notify::selected",
                           G_CALLBACK (on_template_changed), self, 0);
  g_signal_connect_object (self->filters_spin, "value-changed", G_CALLBACK (write_spec), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->outputs_spin, "value-changed", G_CALLBACK (write_spec), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->spec_entry, "changed", G_CALLBACK (on_spec_changed), self, 0);
  g_signal_connect_object (self->keras_check, "toggled", G_CALLBACK (on_mode_toggled), self, 0);
  g_signal_connect_object (self->apply_button, "clicked", G_CALLBACK (on_apply_clicked), self, 0);
  write_spec (self);
}

GtkWidget *
offshoot_head_panel_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_HEAD_PANEL, NULL);
}
