#include "osh-node-text.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

PangoContext *
osh_node_text_context (void)
{
  PangoFontMap *map = pango_cairo_font_map_get_default ();
  PangoContext *ctx = pango_font_map_create_context (map);
  cairo_font_options_t *fo = cairo_font_options_create ();
  /* Hinted metrics change with the scale; boxes are measured once for every zoom. */
  cairo_font_options_set_hint_metrics (fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (fo, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (ctx, fo);
  cairo_font_options_destroy (fo);
  pango_cairo_context_set_resolution (ctx, 72.0); /* 1 pt = 1 world unit */
  return ctx;
}

void
osh_format_count (int64_t n, char *buf, size_t size)
{
  if (n >= 1000000000)
    snprintf (buf, size, "%.1fG", (double) n / 1e9);
  else if (n >= 1000000)
    snprintf (buf, size, "%.1fM", (double) n / 1e6);
  else if (n >= 10000)
    snprintf (buf, size, "%.1fk", (double) n / 1e3);
  else
    snprintf (buf, size, "%lld", (long long) n);
}

void
osh_node_text_third_line (const char *shape, int64_t params, char *buf, size_t size)
{
  char count[32] = "";
  if (params > 0)
    osh_format_count (params, count, sizeof count);
  bool has_shape = shape && *shape;
  if (params > 0)
    g_snprintf (buf, size, "%s%s%s params", has_shape ? shape : "", has_shape ? "  ·  " : "",
                count);
  else
    g_snprintf (buf, size, "%s", has_shape ? shape : "");
}

PangoLayout *
osh_node_text_layout (PangoContext *ctx, const char *title, const char *subtitle, const char *shape,
                      int64_t params)
{
  char third[256];
  osh_node_text_third_line (shape, params, third, sizeof third);
  GString *text = g_string_new (title ? title : "");
  guint title_end = text->len;
  g_string_append_c (text, '\n');
  g_string_append (text, subtitle ? subtitle : "");
  if (*third)
    {
      g_string_append_c (text, '\n');
      g_string_append (text, third);
    }

  /* Attributes rather than markup: names need no escaping and nothing is parsed. */
  PangoAttrList *attrs = pango_attr_list_new ();
  PangoAttribute *a = pango_attr_weight_new (PANGO_WEIGHT_BOLD);
  a->start_index = 0;
  a->end_index = title_end;
  pango_attr_list_insert (attrs, a);
  a = pango_attr_size_new (8 * PANGO_SCALE);
  a->start_index = title_end;
  a->end_index = PANGO_ATTR_INDEX_TO_TEXT_END; /* an empty last line is small text too */
  pango_attr_list_insert (attrs, a);

  static gsize once;
  static PangoFontDescription *font;
  if (g_once_init_enter (&once))
    {
      font = pango_font_description_from_string ("Sans 10");
      g_once_init_leave (&once, 1);
    }
  PangoLayout *layout = pango_layout_new (ctx);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text->str, (int) text->len);
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  g_string_free (text, TRUE);
  return layout;
}

void
osh_node_text_box_size (PangoLayout *layout, double *w, double *h)
{
  PangoRectangle ink, logical;
  pango_layout_get_extents (layout, &ink, &logical);
  double tw = (double) logical.width / PANGO_SCALE;
  double th = (double) logical.height / PANGO_SCALE;
  *w = MAX (OSH_NODE_MIN_W, tw + 2 * OSH_NODE_PAD_X);
  *h = th + 2 * OSH_NODE_PAD_Y;
}

struct _OshNodeMeasure
{
  PangoLayout *title, *small;
  GHashTable *small_width; /* class names and shapes repeat: measured once */
  double height2, height3; /* box heights for two and three lines */
};

static double
line_width (PangoLayout *layout, const char *text)
{
  PangoRectangle logical;
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_extents (layout, NULL, &logical);
  return (double) logical.width / PANGO_SCALE;
}

OshNodeMeasure *
osh_node_measure_new (PangoContext *ctx)
{
  OshNodeMeasure *m = g_new0 (OshNodeMeasure, 1);
  /* The same fonts osh_node_text_layout sets through attributes. */
  PangoFontDescription *font = pango_font_description_from_string ("Sans Bold 10");
  m->title = pango_layout_new (ctx);
  pango_layout_set_font_description (m->title, font);
  pango_font_description_free (font);
  font = pango_font_description_from_string ("Sans 8");
  m->small = pango_layout_new (ctx);
  pango_layout_set_font_description (m->small, font);
  pango_font_description_free (font);
  m->small_width = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  double w;
  PangoLayout *probe = osh_node_text_layout (ctx, "Ag", "Ag", "", 0);
  osh_node_text_box_size (probe, &w, &m->height2);
  g_object_unref (probe);
  probe = osh_node_text_layout (ctx, "Ag", "Ag", "Ag", 0);
  osh_node_text_box_size (probe, &w, &m->height3);
  g_object_unref (probe);
  return m;
}

static double
small_width (OshNodeMeasure *m, const char *text)
{
  double *w = g_hash_table_lookup (m->small_width, text);
  if (!w)
    {
      w = g_new (double, 1);
      *w = line_width (m->small, text);
      g_hash_table_insert (m->small_width, g_strdup (text), w);
    }
  return *w;
}

void
osh_node_measure_box (OshNodeMeasure *m, const char *title, const char *subtitle, const char *shape,
                      int64_t params, double *w, double *h)
{
  char third[256];
  osh_node_text_third_line (shape, params, third, sizeof third);
  double tw = line_width (m->title, title ? title : "");
  tw = MAX (tw, small_width (m, subtitle ? subtitle : ""));
  if (*third)
    tw = MAX (tw, small_width (m, third));
  *w = MAX (OSH_NODE_MIN_W, tw + 2 * OSH_NODE_PAD_X);
  *h = *third ? m->height3 : m->height2;
}

void
osh_node_measure_free (OshNodeMeasure *m)
{
  if (!m)
    return;
  g_object_unref (m->title);
  g_object_unref (m->small);
  g_hash_table_destroy (m->small_width);
  g_free (m);
}
