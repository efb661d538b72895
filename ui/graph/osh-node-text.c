#include "osh-node-text.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "osh-layout.h"

static PangoContext *
context_for (PangoFontMap *map)
{
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

PangoContext *
osh_node_text_context (void)
{
  return context_for (pango_cairo_font_map_get_default ());
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

bool
osh_node_text_is_plain (const char *text)
{
  for (const unsigned char *c = (const unsigned char *) text; *c; c++)
    if (*c < 0x20 || *c > 0x7e)
      {
        if (c[0] != 0xc2 || c[1] != 0xb7)
          return false;
        c++;
      }
  return true;
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

/* One line's font for measuring. Titles are all different and the third lines nearly so: a
 * plain line is shaped alone, in the font and with the flags its layout would use, skipping
 * the layout's itemizing and line breaking (the same width: tests/layout/test-scene.c). */
typedef struct
{
  PangoLayout *layout; /* for other text, and the source of the analysis */
  PangoAnalysis analysis;
  bool direct;
} LineFont;

static void
line_font_init (LineFont *f, PangoContext *ctx, const char *font_name)
{
  PangoFontDescription *font = pango_font_description_from_string (font_name);
  f->layout = pango_layout_new (ctx);
  pango_layout_set_font_description (f->layout, font);
  pango_font_description_free (font);
  pango_layout_set_text (f->layout, "Ag", -1);
  PangoLayoutLine *line = pango_layout_get_line_readonly (f->layout, 0);
  f->direct = line && line->runs && !line->runs->next;
  if (f->direct)
    {
      f->analysis = ((PangoGlyphItem *) line->runs->data)->item->analysis;
      f->analysis.extra_attrs = NULL;
      g_object_ref (f->analysis.font);
    }
}

static void
line_font_clear (LineFont *f)
{
  if (f->direct)
    g_object_unref (f->analysis.font);
  g_object_unref (f->layout);
}

static double
line_width (LineFont *f, PangoGlyphString *glyphs, PangoShapeFlags flags, const char *text)
{
  if (!*text) /* Pango shapes nothing, with a warning */
    return 0;
  if (f->direct && osh_node_text_is_plain (text))
    {
      int n = (int) strlen (text);
      pango_shape_with_flags (text, n, text, n, &f->analysis, glyphs, flags);
      bool covered = true;
      for (int i = 0; i < glyphs->num_glyphs; i++)
        covered &= !(glyphs->glyphs[i].glyph & PANGO_GLYPH_UNKNOWN_FLAG);
      if (covered) /* else a fallback font would draw it: laid out below */
        return (double) pango_glyph_string_get_width (glyphs) / PANGO_SCALE;
    }
  PangoRectangle logical;
  pango_layout_set_text (f->layout, text, -1);
  pango_layout_get_extents (f->layout, NULL, &logical);
  return (double) logical.width / PANGO_SCALE;
}

struct _OshNodeMeasure
{
  LineFont title, small; /* the same fonts osh_node_text_layout sets through attributes */
  PangoGlyphString *glyphs;
  PangoShapeFlags shape_flags;
  GHashTable *small_width; /* class names and shapes repeat: measured once */
  double height2, height3; /* box heights for two and three lines */
};

OshNodeMeasure *
osh_node_measure_new (PangoContext *ctx)
{
  OshNodeMeasure *m = g_new0 (OshNodeMeasure, 1);
  line_font_init (&m->title, ctx, "Sans Bold 10");
  line_font_init (&m->small, ctx, "Sans 8");
  m->glyphs = pango_glyph_string_new ();
  m->shape_flags = pango_context_get_round_glyph_positions (ctx) ? PANGO_SHAPE_ROUND_POSITIONS
                                                                 : PANGO_SHAPE_NONE;
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
      *w = line_width (&m->small, m->glyphs, m->shape_flags, text);
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
  if (!title || !*title || !osh_node_text_is_plain (title)
      || !osh_node_text_is_plain (subtitle ? subtitle : "") || !osh_node_text_is_plain (third))
    {
      /* A fallback font (or an empty title line) makes the box's height differ from the
       * probe's: the whole text, laid out. */
      PangoLayout *pl = osh_node_text_layout (pango_layout_get_context (m->title.layout), title,
                                              subtitle, shape, params);
      osh_node_text_box_size (pl, w, h);
      g_object_unref (pl);
      return;
    }
  double tw = line_width (&m->title, m->glyphs, m->shape_flags, title ? title : "");
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
  line_font_clear (&m->title);
  line_font_clear (&m->small);
  pango_glyph_string_free (m->glyphs);
  g_hash_table_destroy (m->small_width);
  g_free (m);
}

/* Pango's font maps are per thread and not thread-safe: the thread fills a map of its own
 * (fontconfig's start, every label font found, printable ASCII shaped in each) and hands it
 * over whole when joined. */
struct _OshTextWarm
{
  GThread *thread;
};

static gpointer
warm_fonts (gpointer data)
{
  (void) data;
  PangoFontMap *map = pango_cairo_font_map_new ();
  PangoContext *ctx = context_for (map);
  osh_node_measure_free (osh_node_measure_new (ctx));
  char ascii[0x7f - 0x20 + 1];
  for (int c = 0x20; c < 0x7f; c++)
    ascii[c - 0x20] = (char) c;
  ascii[sizeof ascii - 1] = '\0';
  /* The box lines' fonts, then the frame and edge labels' (osh-scene.c). */
  static const char *const fonts[] = { "Sans Bold 10", "Sans 8", "Sans Italic 9", "Sans 7" };
  PangoLayout *pl = pango_layout_new (ctx);
  pango_layout_set_text (pl, ascii, -1);
  for (size_t i = 0; i < G_N_ELEMENTS (fonts); i++)
    {
      PangoFontDescription *font = pango_font_description_from_string (fonts[i]);
      pango_layout_set_font_description (pl, font);
      pango_font_description_free (font);
      PangoRectangle logical;
      pango_layout_get_extents (pl, NULL, &logical);
    }
  g_object_unref (pl);
  g_object_unref (ctx);
  return map;
}

OshTextWarm *
osh_text_warm_start (void)
{
  OshTextWarm *w = g_new0 (OshTextWarm, 1);
  w->thread = g_thread_try_new ("osh-fonts", warm_fonts, NULL, NULL);
  return w;
}

void
osh_text_warm_finish (OshTextWarm *w)
{
  if (!w)
    return;
  if (w->thread) /* else the fonts load when first measured, as without the warm-up */
    {
      PangoFontMap *map = g_thread_join (w->thread);
      pango_cairo_font_map_set_default (PANGO_CAIRO_FONT_MAP (map));
      g_object_unref (map);
    }
  g_free (w);
}
