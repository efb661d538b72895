/* offshoot-layer-panel.c — the facts about one layer, read from the IR. */
#include "offshoot-layer-panel.h"

#include <string.h>

#include "osh-tensor-stats.h"

struct _OffshootLayerPanel
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkLabel *name_label, *hint_label, *class_label, *owner_label, *inputs_label, *outputs_label,
      *params_label, *weights_heading, *weights_label, *activation_heading, *activation_label;
  GtkWidget *facts_grid, *config_expander;
  GtkPicture *activation_picture;
  GtkTextView *config_view;
  char *config_text;
};

G_DEFINE_FINAL_TYPE (OffshootLayerPanel, offshoot_layer_panel, GTK_TYPE_WIDGET)

static void
offshoot_layer_panel_dispose (GObject *object)
{
  OffshootLayerPanel *self = OFFSHOOT_LAYER_PANEL (object);
  gtk_widget_dispose_template (GTK_WIDGET (self), OFFSHOOT_TYPE_LAYER_PANEL);
  g_clear_pointer (&self->config_text, g_free);
  G_OBJECT_CLASS (offshoot_layer_panel_parent_class)->dispose (object);
}

static void
offshoot_layer_panel_class_init (OffshootLayerPanelClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = offshoot_layer_panel_dispose;
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (wc,
                                               "/io/offshoot/Offshoot/ui/offshoot-layer-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child (wc, OffshootLayerPanel, name)
  BIND (scroller);
  BIND (name_label);
  BIND (hint_label);
  BIND (class_label);
  BIND (owner_label);
  BIND (inputs_label);
  BIND (outputs_label);
  BIND (params_label);
  BIND (weights_heading);
  BIND (weights_label);
  BIND (activation_heading);
  BIND (activation_label);
  BIND (activation_picture);
  BIND (facts_grid);
  BIND (config_expander);
  BIND (config_view);
#undef BIND
  gtk_widget_class_set_accessible_role (wc, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
offshoot_layer_panel_init (OffshootLayerPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
offshoot_layer_panel_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_LAYER_PANEL, NULL);
}

static void
append_shape (GString *s, const OshGraph *g, OshRef r)
{
  char buf[128] = "?";
  if (r.node >= 0 && r.node < g->n_nodes && r.index < g->nodes[r.node].n_outputs
      && g->nodes[r.node].shapes)
    osh_shape_format (&g->nodes[r.node].shapes[r.index], buf, sizeof buf);
  const char *producer =
      r.node >= 0 && r.node < g->n_nodes ? g->layers[g->nodes[r.node].layer].name : "?";
  g_string_append_printf (s, "%s%s  ← %s", s->len ? "\n" : "", buf, producer);
}

static void
format_stats (GString *s, const char *name, const OshShape *shape, const OshTensorStats *st)
{
  char dims[128];
  osh_shape_format (shape, dims, sizeof dims);
  g_string_append_printf (s, "%s%s %s\n  min %.4g  max %.4g\n  mean %.4g  std %.4g",
                          s->len ? "\n" : "", name, dims, st->min, st->max, st->mean, st->std);
  if (st->n_nan || st->n_inf)
    g_string_append_printf (s, "\n  NaN %" G_GINT64_FORMAT "  Inf %" G_GINT64_FORMAT, st->n_nan,
                            st->n_inf);
  else
    g_string_append (s, "\n  no NaN or Inf");
}

static void
show_facts (OffshootLayerPanel *self, gboolean on)
{
  gtk_widget_set_visible (self->facts_grid, on);
  gtk_widget_set_visible (self->config_expander, on);
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), !on);
}

void
offshoot_layer_panel_set_layer (OffshootLayerPanel *self, const OshGraph *g, int layer)
{
  g_return_if_fail (OFFSHOOT_IS_LAYER_PANEL (self));
  offshoot_layer_panel_set_activation (self, NULL, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->weights_heading), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->weights_label), FALSE);
  if (!g || layer < 0 || layer >= g->n_layers)
    {
      gtk_label_set_text (self->name_label, "No layer selected");
      show_facts (self, FALSE);
      return;
    }
  const OshLayer *l = &g->layers[layer];
  g_autofree char *path = osh_graph_layer_path (g, layer);
  gtk_label_set_text (self->name_label, path ? path : l->name);
  gtk_label_set_text (self->class_label, l->class_name);
  gtk_label_set_text (self->owner_label,
                      l->owner >= 0 ? g->layers[l->owner].name : "the top-level model");
  show_facts (self, TRUE);

  g_autoptr (GString) ins = g_string_new (NULL), outs = g_string_new (NULL);
  int node = osh_graph_layer_first_node (g, layer);
  if (node >= 0)
    {
      const OshNode *n = &g->nodes[node];
      for (int i = 0; i < n->n_inputs; i++)
        append_shape (ins, g, n->inputs[i]);
      for (int i = 0; i < n->n_outputs; i++)
        {
          char buf[128] = "?";
          if (n->shapes)
            osh_shape_format (&n->shapes[i], buf, sizeof buf);
          g_string_append_printf (outs, "%s%s", outs->len ? "\n" : "", buf);
        }
    }
  gtk_label_set_text (self->inputs_label, ins->len ? ins->str : "—");
  gtk_label_set_text (self->outputs_label, outs->len ? outs->str : "—");

  int64_t trainable = 0, params = osh_graph_layer_params (g, layer, &trainable);
  g_autofree char *ptext =
      params == trainable
          ? g_strdup_printf ("%'" G_GINT64_FORMAT, params)
          : g_strdup_printf ("%'" G_GINT64_FORMAT " (%'" G_GINT64_FORMAT " trainable)", params,
                             trainable);
  gtk_label_set_text (self->params_label, ptext);

  if (l->n_weights > 0)
    {
      g_autoptr (GString) w = g_string_new (NULL);
      for (int i = 0; i < l->n_weights; i++)
        {
          const OshTensor *t = l->weights[i].value;
          if (!t)
            continue;
          if (!t->data)
            {
              /* A graph opened first: the values come later (the window reads them). */
              char dims[128];
              osh_shape_format (&t->shape, dims, sizeof dims);
              g_string_append_printf (w, "%s%s %s\n  values not loaded yet", w->len ? "\n" : "",
                                      l->weights[i].name, dims);
              continue;
            }
          OshTensorStats st;
          osh_tensor_stats (t->data, osh_tensor_numel (t), &st);
          format_stats (w, l->weights[i].name, &t->shape, &st);
        }
      gtk_label_set_text (self->weights_label, w->str);
      gtk_widget_set_visible (GTK_WIDGET (self->weights_heading), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->weights_label), TRUE);
    }

  g_clear_pointer (&self->config_text, g_free);
  char *json = json_dumps (l->config, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  self->config_text = g_strdup (json ? json : "{}");
  free (json);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->config_view), self->config_text, -1);
}

void
offshoot_layer_panel_set_group (OffshootLayerPanel *self, const char *name, const char *kind,
                                int n_layers, int n_groups, int64_t params, double flops,
                                const char *flops_at, const char *shapes)
{
  g_return_if_fail (OFFSHOOT_IS_LAYER_PANEL (self));
  offshoot_layer_panel_set_activation (self, NULL, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->weights_heading), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->weights_label), FALSE);
  gtk_label_set_text (self->name_label, name);
  g_autoptr (GString) what = g_string_new (kind);
  if (n_groups > 0)
    g_string_append_printf (what, " · %d blocks", n_groups);
  g_string_append_printf (what, " · %d layers", n_layers);
  /* Multiply-adds count two, as `offshoot bench` counts them. */
  if (flops >= 1e9)
    g_string_append_printf (what, " · %.2f GFLOP", flops / 1e9);
  else if (flops >= 0)
    g_string_append_printf (what, " · %.1f MFLOP", flops / 1e6);
  /* A model with open input sizes is counted at the proposed ones: say which. */
  if (flops >= 0 && flops_at && *flops_at)
    g_string_append_printf (what, " at input %s", flops_at);
  gtk_label_set_text (self->class_label, what->str);
  gtk_label_set_text (self->owner_label, "collapsed: double-click it to open");
  /* "in → out" as the box shows it. */
  const char *arrow = shapes ? strstr (shapes, " → ") : NULL;
  g_autofree char *in = arrow ? g_strndup (shapes, (gsize) (arrow - shapes)) : NULL;
  gtk_label_set_text (self->inputs_label, in ? in : "—");
  gtk_label_set_text (self->outputs_label, arrow               ? arrow + strlen (" → ")
                                           : shapes && *shapes ? shapes
                                                               : "—");
  g_autofree char *ptext = g_strdup_printf ("%'" G_GINT64_FORMAT, params);
  gtk_label_set_text (self->params_label, ptext);
  g_clear_pointer (&self->config_text, g_free);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->config_view), "", -1);
  show_facts (self, TRUE);
  gtk_widget_set_visible (self->config_expander, FALSE);
}

void
offshoot_layer_panel_set_activation (OffshootLayerPanel *self, GdkPaintable *picture,
                                     const OshTensor *activation)
{
  g_return_if_fail (OFFSHOOT_IS_LAYER_PANEL (self));
  gtk_picture_set_paintable (self->activation_picture, picture);
  gtk_widget_set_visible (GTK_WIDGET (self->activation_picture), picture != NULL);
  gboolean on = picture != NULL || activation != NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->activation_heading), on);
  gtk_widget_set_visible (GTK_WIDGET (self->activation_label), activation != NULL);
  if (activation)
    {
      OshTensorStats st;
      osh_tensor_stats (activation->data, osh_tensor_numel (activation), &st);
      g_autoptr (GString) s = g_string_new (NULL);
      format_stats (s, "output", &activation->shape, &st);
      gtk_label_set_text (self->activation_label, s->str);
    }
}

const char *
offshoot_layer_panel_get_text (OffshootLayerPanel *self, const char *what)
{
  g_return_val_if_fail (OFFSHOOT_IS_LAYER_PANEL (self), NULL);
  if (g_str_equal (what, "name"))
    return gtk_label_get_text (self->name_label);
  if (g_str_equal (what, "class"))
    return gtk_label_get_text (self->class_label);
  if (g_str_equal (what, "outputs"))
    return gtk_label_get_text (self->outputs_label);
  if (g_str_equal (what, "params"))
    return gtk_label_get_text (self->params_label);
  if (g_str_equal (what, "weights"))
    return gtk_label_get_text (self->weights_label);
  if (g_str_equal (what, "activation"))
    return gtk_label_get_text (self->activation_label);
  if (g_str_equal (what, "config"))
    return self->config_text;
  return NULL;
}
