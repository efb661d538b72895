/* The scene: viewport maths, hit-testing against a brute-force search, culling, highlight
 * styles reaching the pixels, and PNG / SVG / PDF export. */
#include <cairo.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "layout-graphs.h"
#include "osh-connectivity.h"
#include "osh-node-text.h"
#include "osh-scene-styles.h"
#include "osh-scene.h"
#include "osh-test.h"
#include "osh-zoo.h"

static OshScene *
scene_of (OshGraph *g, bool collapse_blocks)
{
  OshError err = { 0 };
  OshGrouping *gr = osh_grouping_new (g);
  osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, collapse_blocks);
  OshGraphLayout *lay = osh_layout_compute (g, gr, &err);
  osh_grouping_free (gr);
  if (!lay)
    g_error ("layout failed: %s", err.message);
  return osh_scene_new (lay);
}

static void
test_viewport (void)
{
  OshViewport vp = { 10, 20, 2 };
  double vx, vy, wx, wy;
  osh_viewport_to_view (&vp, 5, 5, &vx, &vy);
  g_assert_cmpfloat (vx, ==, 20);
  g_assert_cmpfloat (vy, ==, 30);
  osh_viewport_to_world (&vp, vx, vy, &wx, &wy);
  g_assert_cmpfloat (wx, ==, 5);
  g_assert_cmpfloat (wy, ==, 5);
  /* Zooming keeps the world point under the cursor where it was. */
  osh_viewport_to_world (&vp, 100, 80, &wx, &wy);
  osh_viewport_zoom_at (&vp, 100, 80, 1.5, 0.1, 8);
  g_assert_cmpfloat (vp.scale, ==, 3);
  osh_viewport_to_view (&vp, wx, wy, &vx, &vy);
  g_assert_cmpfloat (fabs (vx - 100) + fabs (vy - 80), <, 1e-9);
  osh_viewport_zoom_at (&vp, 0, 0, 100, 0.1, 8);
  g_assert_cmpfloat (vp.scale, ==, 8);
  /* Fit: a 1000 × 500 world in a 220 × 220 view with 10 px margins → scale 0.2, centred. */
  osh_viewport_fit (&vp, (OshRect){ 0, 0, 1000, 500 }, 220, 220, 10, 1);
  g_assert_cmpfloat (fabs (vp.scale - 0.2), <, 1e-12);
  OshRect v = osh_viewport_visible (&vp, 220, 220);
  g_assert_cmpfloat (fabs (v.x + 50), <, 1e-9);
  g_assert_cmpfloat (fabs (v.w - 1100), <, 1e-9);
  g_assert_cmpfloat (fabs (v.y - (250 - 550)), <, 1e-9);
  osh_viewport_center_on (&vp, 500, 250, 220, 220);
  osh_viewport_to_view (&vp, 500, 250, &vx, &vy);
  g_assert_cmpfloat (fabs (vx - 110) + fabs (vy - 110), <, 1e-9);
}

static int
brute_hit (const OshGraphLayout *lay, double x, double y)
{
  int hit = -1;
  for (int i = 0; i < lay->n_items; i++)
    {
      OshRect r = lay->items[i].box;
      if (x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h)
        hit = i;
    }
  return hit;
}

static void
test_hit (void)
{
  OshGraph *g = lg_efficientnet (NULL);
  OshScene *s = scene_of (g, false);
  const OshGraphLayout *lay = osh_scene_get_layout (s);
  OshViewport vp = { -37, 120, 0.75 };
  for (int i = 0; i < lay->n_items; i++)
    {
      double vx, vy;
      OshRect r = lay->items[i].box;
      osh_viewport_to_view (&vp, r.x + r.w / 2, r.y + r.h / 2, &vx, &vy);
      g_assert_cmpint (osh_scene_hit_test (s, &vp, vx, vy), ==, i);
    }
  GRand *rand = g_rand_new_with_seed (7);
  int hits = 0;
  for (int k = 0; k < 20000; k++)
    {
      double wx = g_rand_double_range (rand, -50, lay->bounds.w + 50);
      double wy = g_rand_double_range (rand, -50, lay->bounds.h + 50);
      double vx, vy;
      osh_viewport_to_view (&vp, wx, wy, &vx, &vy);
      int want = brute_hit (lay, wx, wy);
      g_assert_cmpint (osh_scene_hit_test (s, &vp, vx, vy), ==, want);
      hits += want >= 0;
    }
  g_assert_cmpint (hits, >, 100);
  g_rand_free (rand);
  /* A block frame is found by its group. */
  const OshLayoutCluster *cl = &lay->clusters[3];
  double vx, vy;
  osh_viewport_to_view (&vp, cl->box.x + 2, cl->box.y + 2, &vx, &vy);
  g_assert_cmpint (osh_scene_hit_group (s, &vp, vx, vy), ==, cl->group);
  /* The query returns what intersects, nothing else. */
  int out[4096];
  OshRect q = { 0, lay->bounds.h / 2, lay->bounds.w, 400 };
  int n = osh_scene_query (s, q, out, 4096);
  int want = 0;
  for (int i = 0; i < lay->n_items; i++)
    {
      OshRect r = lay->items[i].box;
      want += r.y <= q.y + q.h && q.y <= r.y + r.h;
    }
  g_assert_cmpint (n, ==, want);
  g_assert_cmpint (n, >, 3);
  osh_scene_free (s);
  osh_graph_free (g);
}

static void
pixel (cairo_surface_t *img, double x, double y, double *r, double *gr, double *b)
{
  cairo_surface_flush (img);
  const unsigned char *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  uint32_t v = *(const uint32_t *) (data + (int) y * stride + (int) x * 4);
  *r = (v >> 16 & 255) / 255.0;
  *gr = (v >> 8 & 255) / 255.0;
  *b = (v & 255) / 255.0;
}

static void
test_styles_and_culling (void)
{
  OshGraph *g = lg_residual ();
  OshScene *s = scene_of (g, false);
  const OshGraphLayout *lay = osh_scene_get_layout (s);
  uint32_t *styles = g_new0 (uint32_t, g->n_nodes);
  styles[3] = OSH_STYLE_DISCONNECTED; /* block1_bn */
  styles[0] = OSH_STYLE_FOREIGN_ROOT;
  styles[8] = OSH_STYLE_UNUSED;
  osh_scene_set_styles (s, styles, g->n_nodes);
  g_free (styles);
  int w = (int) lay->bounds.w + 40, h = (int) lay->bounds.h + 40;
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create (img);
  OshViewport vp = { 20, 20, 1 };
  g_assert_cmpint (osh_scene_draw (s, cr, &vp, w, h), ==, lay->n_items);
  double r, gg, b;
  OshRect bn = lay->items[lay->node_item[3]].box;
  pixel (img, bn.x + 20 + 0.5, bn.y + 20 + bn.h / 2, &r, &gg, &b); /* on the border */
  g_assert_cmpfloat (r, >, 0.7);
  g_assert_cmpfloat (gg, <, 0.35);
  OshRect relu = lay->items[lay->node_item[4]].box;
  pixel (img, relu.x + 20 + 0.5, relu.y + 20 + relu.h / 2, &r, &gg, &b);
  g_assert_cmpfloat (fabs (r - gg), <, 0.25); /* a plain dark border */
  /* Faded: the unused box is close to the background. */
  OshRect out = lay->items[lay->node_item[8]].box;
  pixel (img, out.x + 20 + out.w - 4, out.y + 20 + out.h - 4, &r, &gg, &b);
  g_assert_cmpfloat (r + gg + b, >, 2.5);
  /* Hover changes one item without a new array. */
  osh_scene_set_node_style (s, 4, OSH_STYLE_HOVERED);
  g_assert_cmpuint (osh_scene_item_style (s, lay->node_item[4]), ==, OSH_STYLE_HOVERED);

  /* Culling: a view over the top quarter draws only what is there. */
  OshViewport top = { 0, 0, 1 };
  int drawn = osh_scene_draw (s, cr, &top, lay->bounds.w, lay->bounds.h / 4);
  g_assert_cmpint (drawn, >, 0);
  g_assert_cmpint (drawn, <, lay->n_items / 2);
  cairo_destroy (cr);
  cairo_surface_destroy (img);

  /* The minimap draws into a small surface without touching anything outside it. */
  img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 120, 200);
  cr = cairo_create (img);
  osh_scene_set_dark (s, true);
  osh_scene_draw_minimap (s, cr, 120, 200, &top, lay->bounds.w, lay->bounds.h / 4);
  pixel (img, 1, 1, &r, &gg, &b);
  g_assert_cmpfloat (r, <, 0.3); /* the dark background */
  double wx, wy;
  osh_scene_minimap_to_world (s, 120, 200, NULL, 0, 0, 60, 100, &wx, &wy);
  g_assert_cmpfloat (fabs (wx - lay->bounds.w / 2), <, 2);
  g_assert_cmpfloat (fabs (wy - lay->bounds.h / 2), <, 2);
  cairo_destroy (cr);
  cairo_surface_destroy (img);
  osh_scene_free (s);
  osh_graph_free (g);
}

/* EfficientNetB7 expanded is a column 120 times taller than wide: its minimap keeps the
 * proportions, shows the part around the view (at least four views' height, the view's
 * rectangle a small part of it, at the view's fraction of the height) and maps a click
 * there back to the same world point. Before, it was a 3-pixel-wide strip. */
static void
test_tall_minimap (void)
{
  OshGraph *g = lg_efficientnet (NULL);
  OshScene *s = scene_of (g, false);
  const OshGraphLayout *lay = osh_scene_get_layout (s);
  g_assert_cmpfloat (lay->bounds.h, >, 100 * lay->bounds.w);
  const double w = 160, h = 400, view_w = 700, view_h = 680;
  OshViewport vp = { 0, 0, 1 }; /* 1:1, centred across, at 30 % of the height */
  osh_viewport_center_on (&vp, lay->bounds.w / 2, 0.3 * lay->bounds.h, view_w, view_h);
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) w, (int) h);
  cairo_t *cr = cairo_create (img);
  osh_scene_draw_minimap (s, cr, w, h, &vp, view_w, view_h);
  cairo_destroy (cr);
  cairo_surface_flush (img);
  /* Boxes fill a good part of the width (not a strip), proportions kept. */
  int stride = cairo_image_surface_get_stride (img);
  const uint32_t *px = (const uint32_t *) cairo_image_surface_get_data (img);
  uint32_t bg = px[(int) (h / 2) * (stride / 4) + 2];
  int left = (int) w, right = -1;
  for (int x = 0; x < (int) w; x++)
    for (int y = 20; y < (int) h - 20; y += 3)
      if ((px[y * (stride / 4) + x] & 0xffffff) != (bg & 0xffffff) && x > 2 && x < w - 3)
        {
          left = MIN (left, x);
          right = MAX (right, x);
        }
  g_assert_cmpint (right - left, >, 30);
  /* The view's rectangle (the selection blue) at the view's height fraction, a quarter of the
   * minimap's height at most. */
  int top = (int) h, bottom = -1;
  for (int y = 0; y < (int) h; y++)
    for (int x = 0; x < (int) w; x++)
      {
        uint32_t c = px[y * (stride / 4) + x] & 0xffffff;
        if ((int) (c & 255) - (int) ((c >> 16) & 255) > 150) /* #1c71d8 */
          {
            top = MIN (top, y);
            bottom = MAX (bottom, y);
          }
      }
  g_assert_cmpint (bottom, >, top);
  g_assert_cmpfloat (bottom - top, <=, h / 4 + 2);
  g_assert_cmpfloat (fabs ((top + bottom) / 2.0 - 0.3 * h), <, 3);
  /* A click there is the view's centre. */
  double wx, wy;
  osh_scene_minimap_to_world (s, w, h, &vp, view_w, view_h, w / 2, 0.3 * h, &wx, &wy);
  g_assert_cmpfloat (fabs (wx - lay->bounds.w / 2), <, 2);
  g_assert_cmpfloat (fabs (wy - 0.3 * lay->bounds.h), <, 2);
  cairo_surface_destroy (img);
  osh_scene_free (s);
  osh_graph_free (g);
}

static char *
slurp (const char *path, gsize *len)
{
  char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, len, NULL));
  return data;
}

static int
count (const char *hay, gsize len, const char *needle)
{
  int n = 0;
  size_t nl = strlen (needle);
  for (gsize i = 0; i + nl <= len; i++)
    n += memcmp (hay + i, needle, nl) == 0;
  return n;
}

static void
test_export (void)
{
  OshGraph *g = lg_nested ();
  OshScene *s = scene_of (g, false);
  const OshGraphLayout *lay = osh_scene_get_layout (s);
  char *dir = g_dir_make_tmp ("osh-scene-XXXXXX", NULL);
  char *png = g_build_filename (dir, "g.png", NULL);
  char *svg = g_build_filename (dir, "g.svg", NULL);
  char *pdf = g_build_filename (dir, "g.pdf", NULL);
  OshError err = { 0 };
  g_assert_true (osh_scene_export (s, png, 2.0, &err));
  g_assert_true (osh_scene_export (s, svg, 1.0, &err));
  g_assert_true (osh_scene_export (s, pdf, 1.0, &err));
  g_assert_false (osh_scene_export (s, "x.bmp", 1.0, &err));
  g_assert_cmpint (err.code, ==, OSH_ERR_USAGE);

  cairo_surface_t *img = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (img), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (img), ==, (int) ceil (lay->bounds.w * 2 + 32));
  g_assert_cmpint (cairo_image_surface_get_height (img), ==, (int) ceil (lay->bounds.h * 2 + 32));
  cairo_surface_destroy (img);

  gsize len;
  char *text = slurp (svg, &len);
  GMarkupParser none = { 0 };
  GMarkupParseContext *ctx = g_markup_parse_context_new (&none, 0, NULL, NULL);
  GError *error = NULL;
  g_assert_true (g_markup_parse_context_parse (ctx, text, (gssize) len, &error)
                 && g_markup_parse_context_end_parse (ctx, &error));
  g_assert_no_error (error);
  g_markup_parse_context_free (ctx);
  g_assert_nonnull (strstr (text, "<svg"));
  g_free (text);

  text = slurp (pdf, &len);
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
  g_assert_cmpint (count (text, len, "/Type /Page\n") + count (text, len, "/Type /Page ")
                       + count (text, len, "/Type /Page>"),
                   ==, 1);
  g_free (text);
  for (const char *const *p = (const char *const[]){ png, svg, pdf, NULL }; *p; p++)
    g_remove (*p);
  g_rmdir (dir);
  g_free (png);
  g_free (svg);
  g_free (pdf);
  g_free (dir);
  osh_scene_free (s);
  osh_graph_free (g);
}

/* The Keras mistake: an outer layer consumes a tensor from inside the nested backbone, so
 * the backbone's own input becomes a foreign root. The analysis flags map to red boxes. */
static void
test_disconnected_is_red (void)
{
  OshGraph *g = lg_nested ();
  int conv = osh_graph_layer_first_node (g, osh_graph_find_path (g, "backbone/conv"));
  int aux = lg_add1 (g, -1, "aux", "Dense", conv, 0, 0, 1);
  OshRef outs[2] = { g->outputs[0], { aux, 0 } };
  g_assert_true (osh_graph_set_io (g, -1, g->inputs, 1, outs, 2, NULL));
  OshError err = { 0 };
  OshConnectivity *c = osh_connectivity_analyze (g, &err);
  g_assert_nonnull (c);
  g_assert_false (c->connected);
  uint32_t *styles = g_new0 (uint32_t, g->n_nodes);
  osh_styles_add_connectivity (c->node_flags, g->n_nodes, styles);
  osh_connectivity_free (c);
  int root = osh_graph_layer_first_node (g, osh_graph_find_path (g, "backbone/input_2"));
  g_assert_cmpuint (styles[root] & OSH_STYLE_FOREIGN_ROOT, !=, 0);
  g_assert_cmpuint (styles[aux] & OSH_STYLE_DISCONNECTED, !=, 0);
  g_assert_cmpuint (styles[0], ==, 0); /* input_1 is fine */

  OshScene *s = scene_of (g, false);
  osh_scene_set_styles (s, styles, g->n_nodes);
  const OshGraphLayout *lay = osh_scene_get_layout (s);
  int w = (int) lay->bounds.w + 40, h = (int) lay->bounds.h + 40;
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create (img);
  OshViewport vp = { 20, 20, 1 };
  osh_scene_draw (s, cr, &vp, w, h);
  double r, gg, b;
  OshRect box = lay->items[lay->node_item[aux]].box;
  pixel (img, box.x + 20 + 0.5, box.y + 20 + box.h / 2, &r, &gg, &b);
  g_assert_cmpfloat (r, >, 0.7);
  g_assert_cmpfloat (gg + b, <, 0.6);
  box = lay->items[lay->node_item[0]].box;
  pixel (img, box.x + 20 + 0.5, box.y + 20 + box.h / 2, &r, &gg, &b);
  g_assert_cmpfloat (fabs (r - gg), <, 0.25);
  /* The edge from conv to aux is red too: sample the curve's middle. */
  for (int k = 0; k < lay->n_edges; k++)
    if (lay->edges[k].to == lay->node_item[aux])
      {
        const OshLayoutEdge *e = &lay->edges[k];
        const OshPoint *q = e->points; /* the first segment at t = 1/2 */
        double mx = (q[0].x + 3 * q[1].x + 3 * q[2].x + q[3].x) / 8;
        double my = (q[0].y + 3 * q[1].y + 3 * q[2].y + q[3].y) / 8;
        pixel (img, mx + 20, my + 20, &r, &gg, &b);
        g_assert_cmpfloat (r, >, gg + 0.3);
      }
  cairo_destroy (cr);
  cairo_surface_destroy (img);
  g_free (styles);
  osh_scene_free (s);
  osh_graph_free (g);
}

/* The layout sizes boxes with cached line widths; the scene draws full layouts. They agree. */
static void
test_measure_matches_drawn_text (void)
{
  PangoContext *ctx = osh_node_text_context ();
  OshNodeMeasure *m = osh_node_measure_new (ctx);
  /* Plain titles are shaped alone, others (accents, other scripts, fallback fonts) laid out. */
  const char *titles[] = {
    "input_1",      "block5a_expand_conv", "x", "a_very_long_layer_name_indeed_2",
    "AVAWAY To·Tf", "naïve_卷积_1",        ""
  };
  const char *subs[] = { "InputLayer", "Conv2D", "", "GlobalAveragePooling2D" };
  const char *shapes[] = { "(None, 64, 64, 1)", "", "(None, 7)", "(None, 300, 300, 1280)" };
  const int64_t params[] = { 0, 1234567, 12, 0 };
  for (int t = 0; t < (int) G_N_ELEMENTS (titles); t++)
    for (int k = 0; k < 4; k++)
      {
        double w1, h1, w2, h2;
        osh_node_measure_box (m, titles[t], subs[(t + k) % 4], shapes[k], params[(t + 2 * k) % 4],
                              &w1, &h1);
        PangoLayout *pl = osh_node_text_layout (ctx, titles[t], subs[(t + k) % 4], shapes[k],
                                                params[(t + 2 * k) % 4]);
        osh_node_text_box_size (pl, &w2, &h2);
        g_object_unref (pl);
        g_assert_cmpfloat (fabs (w1 - w2), <, 0.5);
        g_assert_cmpfloat (fabs (h1 - h2), <, 0.5);
      }
  osh_node_measure_free (m);
  g_object_unref (ctx);
}

/* Zoomed out below full text (the window opens a big model's overview so), each box shows its
 * title alone; titles stay inside their boxes: EfficientNetB0's overview has short boxes with
 * long names ("stem_conv_pad", "top_activation") that ran past their edges into the next
 * names. Title ink (the text colour's dark cores; box outlines and edges are lighter) outside
 * every box is counted on the drawn pixels. */
static void
test_titles_inside_boxes (void)
{
  OshZooOptions o;
  g_assert_true (osh_zoo_options_init (&o, "EfficientNetB0"));
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("EfficientNetB0", &o, &err);
  g_assert_nonnull (g);
  OshGrouping *gr = osh_grouping_new (g);
  osh_grouping_overview (gr, g);
  OshGraphLayout *lay = osh_layout_compute (g, gr, &err);
  osh_grouping_free (gr);
  g_assert_nonnull (lay);
  OshScene *s = osh_scene_new (lay);
  const double scales[] = { 0.4, 0.5, 0.6, OSH_SCENE_TEXT_SCALE - 0.01 };
  for (size_t k = 0; k < G_N_ELEMENTS (scales); k++)
    {
      double scale = scales[k], margin = 40;
      int w = (int) ceil (lay->bounds.w * scale + 2 * margin);
      int h = (int) ceil (lay->bounds.h * scale + 2 * margin);
      OshViewport vp = { margin - lay->bounds.x * scale, margin - lay->bounds.y * scale, scale };
      cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
      cairo_t *cr = cairo_create (surf);
      osh_scene_draw (s, cr, &vp, w, h);
      cairo_destroy (cr);
      cairo_surface_flush (surf);
      const unsigned char *px = cairo_image_surface_get_data (surf);
      int stride = cairo_image_surface_get_stride (surf);
      int ink = 0, outside = 0;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            const unsigned char *p = px + (size_t) y * stride + 4 * x;
            if (MAX (p[0], MAX (p[1], p[2])) >= 0x30)
              continue;
            ink++;
            bool in_box = false;
            for (int i = 0; i < lay->n_items && !in_box; i++)
              {
                OshRect b = lay->items[i].box;
                double bx, by;
                osh_viewport_to_view (&vp, b.x, b.y, &bx, &by);
                in_box = x >= bx - 1 && x <= bx + b.w * scale + 1 && y >= by - 1
                         && y <= by + b.h * scale + 1;
              }
            if (!in_box)
              {
                if (outside == 0)
                  g_test_message ("scale %.2f: title ink outside every box at (%d, %d)", scale, x,
                                  y);
                outside++;
              }
          }
      cairo_surface_destroy (surf);
      g_assert_cmpint (ink, >, 200); /* titles were drawn */
      g_assert_cmpint (outside, ==, 0);
    }
  osh_scene_free (s);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scene/viewport", test_viewport);
  g_test_add_func ("/scene/tall-minimap", test_tall_minimap);
  g_test_add_func ("/scene/measure-matches-drawn-text", test_measure_matches_drawn_text);
  g_test_add_func ("/scene/hit-test-matches-brute-force", test_hit);
  g_test_add_func ("/scene/styles-reach-pixels-and-culling", test_styles_and_culling);
  g_test_add_func ("/scene/export-png-svg-pdf", test_export);
  g_test_add_func ("/scene/disconnected-path-is-red", test_disconnected_is_red);
  g_test_add_func ("/scene/titles-inside-boxes", test_titles_inside_boxes);
  return g_test_run ();
}
