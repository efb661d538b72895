#include "osh-node-text.h"

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

PangoLayout *
osh_node_text_layout (PangoContext *ctx, const char *title, const char *subtitle,
                      const char *shape, int64_t params)
{
  char count[32] = "";
  if (params > 0)
    osh_format_count (params, count, sizeof count);
  GString *text = g_string_new (title ? title : "");
  guint title_end = text->len;
  g_string_append_c (text, '\n');
  g_string_append (text, subtitle ? subtitle : "");
  if ((shape && *shape) || params > 0)
    {
      g_string_append_c (text, '\n');
      if (shape && *shape)
        g_string_append (text, shape);
      if (params > 0)
        g_string_append_printf (text, "%s%s params", shape && *shape ? "  ·  " : "", count);
    }

  /* Attributes rather than markup: names need no escaping and nothing is parsed. */
  PangoAttrList *attrs = pango_attr_list_new ();
  PangoAttribute *a = pango_attr_weight_new (PANGO_WEIGHT_BOLD);
  a->start_index = 0;
  a->end_index = title_end;
  pango_attr_list_insert (attrs, a);
  a = pango_attr_size_new (8 * PANGO_SCALE);
  a->start_index = title_end;
  a->end_index = text->len;
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
