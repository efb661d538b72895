/* Layout geometry: every node has a box, boxes do not overlap, data flows down, edges touch
 * their boxes; grouping: collapse keeps external edges, nested models bind through, blocks
 * are found by name, the path to a layer opens on its own. */
#include <math.h>
#include <string.h>

#include "layout-graphs.h"
#include "osh-layout.h"
#include "osh-shapes.h"
#include "osh-test.h"
#include "osh-zoo.h"

static OshGraphLayout *
lay_out (const OshGraph *g, const OshGrouping *gr)
{
  OshError err = { 0 };
  OshGraphLayout *lay = osh_layout_compute (g, gr, &err);
  if (!lay)
    g_error ("layout failed: %s", err.message);
  return lay;
}

static double
distance_to_box (OshRect r, OshPoint p)
{
  double dx = MAX (MAX (r.x - p.x, 0), p.x - (r.x + r.w));
  double dy = MAX (MAX (r.y - p.y, 0), p.y - (r.y + r.h));
  return hypot (dx, dy);
}

static bool
overlap (OshRect a, OshRect b)
{
  return a.x < b.x + b.w - 0.01 && b.x < a.x + a.w - 0.01 && a.y < b.y + b.h - 0.01
         && b.y < a.y + a.h - 0.01;
}

/* The checks every layout must pass. Boxes are tested pairwise within a y-sorted sweep. */
static void
check_geometry (const OshGraph *g, const OshGraphLayout *lay)
{
  g_assert_cmpint (lay->n_nodes, ==, g->n_nodes);
  for (int n = 0; n < g->n_nodes; n++)
    {
      const OshLayer *l = &g->layers[g->nodes[n].layer];
      if (lay->node_item[n] < 0)
        g_assert_true (l->is_model); /* only an expanded model's call has no box of its own */
      else
        g_assert_cmpint (lay->node_item[n], <, lay->n_items);
    }
  for (int i = 0; i < lay->n_items; i++)
    {
      OshRect r = lay->items[i].box;
      g_assert_cmpfloat (r.w, >=, 90);
      g_assert_cmpfloat (r.h, >=, 20);
      g_assert_cmpfloat (r.x, >=, -0.5);
      g_assert_cmpfloat (r.y, >=, -0.5);
      g_assert_cmpfloat (r.x + r.w, <=, lay->bounds.w + 0.5);
      g_assert_cmpfloat (r.y + r.h, <=, lay->bounds.h + 0.5);
      for (int j = i + 1; j < lay->n_items; j++)
        if (overlap (r, lay->items[j].box))
          g_error ("boxes of %s and %s overlap", lay->items[i].title, lay->items[j].title);
    }
  for (int k = 0; k < lay->n_edges; k++)
    {
      const OshLayoutEdge *e = &lay->edges[k];
      OshRect from = lay->items[e->from].box, to = lay->items[e->to].box;
      /* TB: the producer sits above the consumer. */
      g_assert_cmpfloat (from.y + from.h, <=, to.y + 0.5);
      g_assert_cmpint (e->n_points, >=, 4);
      g_assert_cmpint ((e->n_points - 1) % 3, ==, 0);
      g_assert_true (e->arrow);
      /* A shape label is never under a box (boxes are drawn over edges). */
      if (e->label[0])
        {
          g_assert_cmpfloat (e->label_w, >, 10);
          OshRect lr = { e->label_pos.x, e->label_pos.y, e->label_w, e->label_h };
          for (int i = 0; i < lay->n_items; i++)
            if (overlap (lr, lay->items[i].box))
              g_error ("the label %s of the edge %s → %s is under the box of %s", e->label,
                       lay->items[e->from].title, lay->items[e->to].title, lay->items[i].title);
        }
      double d0 = distance_to_box (from, e->points[0]);
      double d1 = distance_to_box (to, e->arrow_tip);
      if (d0 > 1.5 || d1 > 1.5)
        g_error ("edge %s → %s ends %.1f / %.1f pt away from its boxes", lay->items[e->from].title,
                 lay->items[e->to].title, d0, d1);
    }
}

static int
item_named (const OshGraphLayout *lay, const char *title)
{
  for (int i = 0; i < lay->n_items; i++)
    if (!strcmp (lay->items[i].title, title))
      return i;
  return -1;
}

static bool
has_edge (const OshGraphLayout *lay, const char *from, const char *to)
{
  int a = item_named (lay, from), b = item_named (lay, to);
  for (int k = 0; k < lay->n_edges; k++)
    if (lay->edges[k].from == a && lay->edges[k].to == b)
      return true;
  return false;
}

static void
test_chain (void)
{
  OshGraph *g = lg_chain (12);
  OshGraphLayout *lay = lay_out (g, NULL);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 12);
  g_assert_cmpint (lay->n_edges, ==, 11);
  g_assert_cmpint (lay->n_clusters, ==, 0);
  /* A chain is one column: every box shares the centre line. */
  double cx = lay->items[0].box.x + lay->items[0].box.w / 2;
  for (int i = 1; i < lay->n_items; i++)
    g_assert_cmpfloat (fabs (lay->items[i].box.x + lay->items[i].box.w / 2 - cx), <, 1);
  g_assert_cmpstr (lay->items[1].shape_text, ==, "(None, 32, 32, 8)");
  g_assert_cmpstr (lay->edges[0].label, ==, "(None, 32, 32, 3)");
  g_assert_nonnull (strstr (lay->dot, "rankdir=TB"));
  g_assert_nonnull (strstr (lay->dot, "n0 -> n1"));
  osh_layout_free (lay);
  osh_graph_free (g);
}

static void
test_residual (void)
{
  OshGraph *g = lg_residual ();
  OshGrouping *gr = osh_grouping_new (g);
  g_assert_cmpint (gr->n_groups, ==, 1);
  g_assert_cmpstr (gr->groups[0].name, ==, "block1");
  g_assert_cmpint (gr->groups[0].n_layers, ==, 5);
  OshGraphLayout *lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 9);
  g_assert_cmpint (lay->n_edges, ==, 9);
  g_assert_cmpint (lay->n_clusters, ==, 1);
  g_assert_true (has_edge (lay, "stem_conv", "block1_add")); /* the skip */
  /* The cluster frames its five members. */
  OshRect c = lay->clusters[0].box;
  for (int i = 0; i < lay->n_items; i++)
    if (g_str_has_prefix (lay->items[i].title, "block1_"))
      {
        OshRect r = lay->items[i].box;
        g_assert_true (r.x >= c.x && r.y >= c.y && r.x + r.w <= c.x + c.w
                       && r.y + r.h <= c.y + c.h);
      }
  osh_layout_free (lay);

  osh_grouping_set_collapsed (gr, osh_grouping_find (gr, "block1"), true);
  lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 5);
  g_assert_cmpint (lay->n_clusters, ==, 0);
  int box = item_named (lay, "block1");
  g_assert_cmpint (box, >=, 0);
  g_assert_cmpint (lay->items[box].kind, ==, OSH_ITEM_GROUP);
  g_assert_cmpint (lay->group_item[0], ==, box);
  for (int n = 2; n <= 6; n++)
    g_assert_cmpint (lay->node_item[n], ==, box);
  g_assert_true (has_edge (lay, "stem_conv", "block1"));
  g_assert_true (has_edge (lay, "block1", "pool"));
  g_assert_cmpint (lay->n_edges, ==, 4);
  g_assert_cmpstr (lay->items[box].shape_text, ==, "(None, 16, 16, 8) → (None, 16, 16, 8)");
  osh_layout_free (lay);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

static void
test_nested (void)
{
  OshGraph *g = lg_nested ();
  OshGrouping *gr = osh_grouping_new (g);
  int bb = osh_grouping_find (gr, "backbone");
  g_assert_cmpint (bb, >=, 0);
  g_assert_cmpint (gr->groups[bb].kind, ==, OSH_GROUP_MODEL);
  OshGraphLayout *lay = lay_out (g, gr);
  check_geometry (g, lay);
  /* Expanded: the call binds input_1 to the inner input_2; bn feeds concat. */
  g_assert_cmpint (lay->n_items, ==, 6);
  g_assert_true (has_edge (lay, "input_1", "input_2"));
  g_assert_true (has_edge (lay, "bn", "concat"));
  g_assert_true (has_edge (lay, "input_1", "concat"));
  g_assert_cmpint (lay->n_clusters, ==, 1);
  g_assert_cmpstr (lay->clusters[0].label, ==, "backbone");
  osh_layout_free (lay);

  osh_grouping_set_collapsed (gr, bb, true);
  lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 4);
  g_assert_true (has_edge (lay, "input_1", "backbone"));
  g_assert_true (has_edge (lay, "backbone", "concat"));
  g_assert_true (has_edge (lay, "input_1", "concat")); /* the skip past the box */
  int box = item_named (lay, "backbone");
  g_assert_cmpint (lay->items[box].family, ==, OSH_FAMILY_MODEL);
  g_assert_cmpstr (lay->items[box].subtitle, ==, "Functional · 3 layers");
  osh_layout_free (lay);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

static void
test_efficientnet (void)
{
  OshGraph *g = lg_efficientnet ("efficientnetb7");
  g_assert_cmpint (g->n_layers, >, 800);
  OshGrouping *gr = osh_grouping_new (g);
  g_assert_cmpint (gr->n_groups, ==, 63); /* the model, its 7 stages and 55 blocks */
  int b5a = osh_grouping_find (gr, "block5a");
  g_assert_cmpint (b5a, >=, 0);
  g_assert_cmpstr (gr->groups[b5a].name, ==, "efficientnetb7/block5a");
  int stage5 = osh_grouping_find (gr, "block5");
  g_assert_cmpint (gr->groups[stage5].kind, ==, OSH_GROUP_STAGE);
  g_assert_cmpint (gr->groups[b5a].parent, ==, stage5);
  g_assert_cmpint (gr->groups[stage5].parent, ==, osh_grouping_find (gr, "efficientnetb7"));
  g_assert_cmpint (stage5, <, b5a);                               /* parents first */
  g_assert_cmpint (gr->groups[stage5].n_layers, ==, 13 + 9 * 15); /* 5a has no residual */

  OshGraphLayout *lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_clusters, ==, 63);
  osh_layout_free (lay);

  osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, true);
  lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 2 + 7 + 55 + 6); /* image, head, stem, blocks, top */
  g_assert_true (has_edge (lay, "block1a", "block1b"));
  g_assert_true (has_edge (lay, "stem_activation", "block1a"));
  g_assert_true (has_edge (lay, "block7d", "top_conv"));
  osh_layout_free (lay);

  /* The overview: stages collapsed, twenty boxes from the image to the head. */
  osh_grouping_collapse_kind (gr, OSH_GROUP_STAGE, true);
  lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 2 + 7 + 7 + 6);
  g_assert_true (has_edge (lay, "block4", "block5"));
  int s5 = lay->group_item[stage5];
  g_assert_cmpint (s5, >=, 0);
  g_assert_cmpstr (lay->items[s5].subtitle, ==, "stage · 148 layers");
  osh_layout_free (lay);
  osh_grouping_collapse_kind (gr, OSH_GROUP_STAGE, false);

  /* Open the path to block3b_project_conv alone: everything upstream expands. */
  osh_grouping_expand_path (gr, g, osh_graph_find_path (g, "efficientnetb7/block3b_project_conv"));
  g_assert_false (gr->groups[osh_grouping_find (gr, "block1a")].collapsed);
  g_assert_false (gr->groups[osh_grouping_find (gr, "block3b")].collapsed);
  g_assert_true (gr->groups[osh_grouping_find (gr, "block3c")].collapsed);
  g_assert_true (gr->groups[osh_grouping_find (gr, "block7d")].collapsed);
  lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_true (has_edge (lay, "block3b_add", "block3c"));
  osh_layout_free (lay);

  /* The whole model collapsed: one box between the image and the head. */
  osh_grouping_set_collapsed (gr, osh_grouping_find (gr, "efficientnetb7"), true);
  lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 3);
  g_assert_true (has_edge (lay, "image", "efficientnetb7"));
  g_assert_true (has_edge (lay, "efficientnetb7", "head"));
  osh_layout_free (lay);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

static void
test_deep (void)
{
  OshGraph *g = lg_deep (3000);
  g_assert_cmpint (g->n_layers, >=, 2990);
  OshGrouping *gr = osh_grouping_new (g);
  g_assert_cmpint (osh_grouping_find (gr, "conv2_block1"), >=, 0);
  OshGraphLayout *lay = lay_out (g, gr);
  check_geometry (g, lay);
  /* A sane width: the skip edges do not spread the net sideways. */
  g_assert_cmpfloat (lay->bounds.w, <, 2000);
  osh_layout_free (lay);
  /* Without groups the big graph is cut into invisible chunks for speed: same checks, and
   * no chunk leaks out as a frame. */
  lay = lay_out (g, NULL);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_clusters, ==, 0);
  g_assert_nonnull (strstr (lay->dot, "cluster_chunk"));
  g_assert_cmpfloat (lay->bounds.w, <, 2000);
  osh_layout_free (lay);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

/* big_XCEPTION names its BN and activation layers block1_* but leaves the convs between
 * them unnamed: collapsing "block1" would make a box that feeds itself. Not a group. */
static void
test_interleaved_prefix_is_not_a_block (void)
{
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input_1", "InputLayer", -1, 8, 8, 1);
  int bn1 = lg_add1 (g, -1, "block1_conv1_bn", "BatchNormalization", in, 8, 8, 1);
  int conv = lg_add1 (g, -1, "conv2d_2", "Conv2D", bn1, 8, 8, 4);
  int bn2 = lg_add1 (g, -1, "block1_conv2_bn", "BatchNormalization", conv, 8, 8, 4);
  int b2a = lg_add1 (g, -1, "block2_a", "Conv2D", bn2, 8, 8, 4);
  int b2b = lg_add1 (g, -1, "block2_b", "ReLU", b2a, 8, 8, 4);
  lg_io (g, -1, in, b2b);
  OshGrouping *gr = osh_grouping_new (g);
  g_assert_cmpint (osh_grouping_find (gr, "block1"), ==, -1);
  int b2 = osh_grouping_find (gr, "block2");
  g_assert_cmpint (b2, ==, 0);
  g_assert_cmpint (gr->n_groups, ==, 1);
  g_assert_cmpint (gr->layer_group[1], ==, -1);
  g_assert_cmpint (gr->layer_group[4], ==, 0);
  osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, true);
  OshGraphLayout *lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, 5);
  g_assert_true (has_edge (lay, "block1_conv2_bn", "block2"));
  osh_layout_free (lay);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

/* Fonts found on a thread of their own and handed to another (render reads the model
 * meanwhile) measure every box exactly as the thread's own fonts would, text in other scripts
 * included. Each case runs on a fresh thread: Pango's default font map is per thread. */
static OshGraph *
text_graph (void)
{
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input_1", "InputLayer", -1, 8, 8, 1);
  int a = lg_add1 (g, -1, "block1_expand_conv", "Conv2D", in, 8, 8, 4);
  int b = lg_add1 (g, -1, "block2_caf\xc3\xa9_\xe2\x86\x92_\xe5\x8d\xb7\xe7\xa7\xaf_activation",
                   "ReLU", a, 8, 8, 4);
  int c = lg_add1 (g, -1, "predictions", "Dense", b, 0, 0, 10);
  lg_io (g, -1, in, c);
  return g;
}

static gpointer
boxes_on_this_thread (gpointer warm)
{
  OshTextWarm *w = warm ? osh_text_warm_start () : NULL;
  osh_text_warm_finish (w); /* NULL: nothing, the thread's own fonts */
  OshGraph *g = text_graph ();
  OshGraphLayout *lay = lay_out (g, NULL);
  GArray *boxes = g_array_new (FALSE, FALSE, sizeof (OshRect));
  for (int i = 0; i < lay->n_items; i++)
    g_array_append_val (boxes, lay->items[i].box);
  osh_layout_free (lay);
  osh_graph_free (g);
  return boxes;
}

static void
test_fonts_warmed_on_a_thread (void)
{
  GArray *cold = g_thread_join (g_thread_new ("cold", boxes_on_this_thread, NULL));
  GArray *warm = g_thread_join (g_thread_new ("warm", boxes_on_this_thread, GINT_TO_POINTER (1)));
  g_assert_cmpuint (cold->len, ==, 4);
  g_assert_cmpuint (warm->len, ==, cold->len);
  for (guint i = 0; i < cold->len; i++)
    {
      OshRect a = g_array_index (cold, OshRect, i), b = g_array_index (warm, OshRect, i);
      g_assert_cmpfloat (a.w, ==, b.w);
      g_assert_cmpfloat (a.h, ==, b.h);
      g_assert_cmpfloat (a.x, ==, b.x);
      g_assert_cmpfloat (a.y, ==, b.y);
    }
  /* The name in three scripts is wider than the box minimum: text was measured. */
  g_assert_cmpfloat (g_array_index (cold, OshRect, 2).w, >, 100);
  g_array_unref (cold);
  g_array_unref (warm);
}

/* A path out of a block and back in may be long, and a block's output may feed a long tail:
 * the convexity search follows every detour that can return (anything before the block's last
 * layer) and still sees the clean block through the tail. */
static void
test_block_detour_leaks (void)
{
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input_1", "InputLayer", -1, 8, 8, 1);
  int a1 = lg_add1 (g, -1, "block1_a", "Conv2D", in, 8, 8, 4);
  int x = a1;
  char name[32];
  for (int i = 0; i < 6; i++) /* unnamed layers between two block1 layers */
    {
      g_snprintf (name, sizeof name, "conv2d_%d", i);
      x = lg_add1 (g, -1, name, "ReLU", x, 8, 8, 4);
    }
  int a2 = lg_add1 (g, -1, "block1_b", "ReLU", x, 8, 8, 4);
  int b = lg_add1 (g, -1, "block2_a", "Conv2D", a2, 8, 8, 4);
  int c = lg_add1 (g, -1, "block2_b", "ReLU", b, 8, 8, 4);
  for (int i = 0; i < 40; i++) /* a long tail after the clean block */
    {
      g_snprintf (name, sizeof name, "tail_%d", i);
      c = lg_add1 (g, -1, name, "ReLU", c, 8, 8, 4);
    }
  lg_io (g, -1, in, c);
  OshGrouping *gr = osh_grouping_new (g);
  g_assert_cmpint (osh_grouping_find (gr, "block1"), ==, -1);
  g_assert_cmpint (osh_grouping_find (gr, "block2"), >=, 0);
  g_assert_cmpint (gr->layer_group[a1], ==, -1);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

/* PyTorch-exported ONNX names nodes by module path: the first two levels are the blocks, and
 * a box inside a block drops the prefix its frame already shows. */
static void
test_onnx_module_paths (void)
{
  OshGraph *g = osh_graph_new ();
  int in = lg_add1 (g, -1, "input", "InputLayer", -1, 8, 8, 3);
  int c = lg_add1 (g, -1, "/features/features.1/conv/Conv", "Conv", in, 8, 8, 4);
  int r = lg_add1 (g, -1, "/features/features.1/Relu", "Relu", c, 8, 8, 4);
  int c2 = lg_add1 (g, -1, "/features/features.2/Conv", "Conv", r, 8, 8, 4);
  int r2 = lg_add1 (g, -1, "/features/features.2/Relu", "Relu", c2, 8, 8, 4);
  int f = lg_add1 (g, -1, "/Flatten", "Flatten", r2, 0, 0, 256);
  int d = lg_add1 (g, -1, "/classifier/classifier.0/Gemm", "Gemm", f, 0, 0, 10);
  lg_io (g, -1, in, d);
  OshGrouping *gr = osh_grouping_new (g);
  /* "features" holds most layers: its children are the blocks; the classifier's lone Gemm
   * is no block. */
  g_assert_cmpint (gr->n_groups, ==, 2);
  g_assert_cmpstr (gr->groups[0].name, ==, "features/features.1");
  g_assert_cmpint (gr->groups[0].kind, ==, OSH_GROUP_MODULE);
  g_assert_cmpint (osh_grouping_find (gr, "features.1"), ==, 0);
  g_assert_cmpint (osh_grouping_find (gr, "features.2"), ==, 1);
  OshGraphLayout *lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (item_named (lay, "conv/Conv"), ==, lay->node_item[c]);
  g_assert_cmpint (item_named (lay, "Relu"), ==, lay->node_item[r]);
  g_assert_cmpint (item_named (lay, "/Flatten"), ==, lay->node_item[f]);
  g_assert_cmpint (lay->n_clusters, ==, 2);
  for (int i = 0; i < 2; i++)
    g_assert_cmpstr (lay->clusters[i].label, ==,
                     lay->clusters[i].group == 0 ? "features.1" : "features.2");
  osh_layout_free (lay);
  osh_grouping_free (gr);
  osh_graph_free (g);

  /* A small model whose modules are the blocks: "/block1/conv_a/Conv" → "block1". */
  g = osh_graph_new ();
  in = lg_add1 (g, -1, "image", "InputLayer", -1, 8, 8, 3);
  c = lg_add1 (g, -1, "/stem/Conv", "Conv", in, 8, 8, 4);
  int a = lg_add1 (g, -1, "/block1/conv_a/Conv", "Conv", c, 8, 8, 4);
  int bn = lg_add1 (g, -1, "/block1/bn_a/BatchNormalization", "BatchNormalization", a, 8, 8, 4);
  int add = lg_add (g, -1, "/block1/Add", "Add", (int[]){ bn, c }, 2, 8, 8, 4);
  d = lg_add1 (g, -1, "/fc/Gemm", "Gemm", add, 0, 0, 2);
  lg_io (g, -1, in, d);
  gr = osh_grouping_new (g);
  g_assert_cmpint (gr->n_groups, ==, 1);
  g_assert_cmpstr (gr->groups[0].name, ==, "block1");
  g_assert_cmpint (gr->groups[0].kind, ==, OSH_GROUP_MODULE);
  g_assert_cmpint (gr->groups[0].n_layers, ==, 3);
  /* Keras-style blocks and modules collapse separately. */
  osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, true);
  g_assert_false (gr->groups[0].collapsed);
  osh_grouping_collapse_kind (gr, OSH_GROUP_MODULE, true);
  g_assert_true (gr->groups[0].collapsed);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

/* The same graph is laid out the same, wherever graphviz's objects land in memory: cgraph's
 * own IDs are the addresses of the names, and it orders clusters by them (ResNet50's 20
 * stage and block frames came out differently from run to run). Blocks of other sizes are
 * held between the two layouts, so the second one's names sit elsewhere. */
static void
test_layout_independent_of_heap (void)
{
  OshZooOptions o;
  g_assert_true (osh_zoo_options_init (&o, "ResNet50"));
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("ResNet50", &o, &err);
  g_assert_nonnull (g);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  OshGrouping *gr = osh_grouping_new (g);
  osh_grouping_overview (gr, g); /* as `render` and the window open it */
  OshGraphLayout *first = osh_layout_compute (g, gr, &err);
  g_assert_nonnull (first);
  g_assert_cmpint (first->n_clusters, >, 4);
  for (int round = 0; round < 3; round++)
    {
      GPtrArray *held = g_ptr_array_new_with_free_func (g_free);
      for (int i = 0; i < 2000 * (round + 1); i++)
        g_ptr_array_add (held, g_malloc (8 + (size_t) (i * 37 + round * 11) % 120));
      OshGraphLayout *again = osh_layout_compute (g, gr, &err);
      g_assert_nonnull (again);
      g_assert_cmpint (again->n_items, ==, first->n_items);
      for (int i = 0; i < first->n_items; i++)
        g_assert_true (memcmp (&again->items[i].box, &first->items[i].box, sizeof (OshRect)) == 0);
      g_assert_cmpint (again->n_clusters, ==, first->n_clusters);
      for (int i = 0; i < first->n_clusters; i++)
        {
          g_assert_cmpint (again->clusters[i].group, ==, first->clusters[i].group);
          g_assert_true (memcmp (&again->clusters[i].box, &first->clusters[i].box, sizeof (OshRect))
                         == 0);
        }
      osh_layout_free (again);
      g_ptr_array_free (held, TRUE);
    }
  osh_layout_free (first);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

/* The real keras.applications EfficientNetB0 (engine/zoo): its 16 MBConv blocks are found
 * by name, collapse to 16 boxes, and everything stays a sane layout. */
static void
test_zoo_efficientnetb0 (void)
{
  OshZooOptions o;
  g_assert_true (osh_zoo_options_init (&o, "EfficientNetB0"));
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("EfficientNetB0", &o, &err);
  g_assert_nonnull (g);
  g_assert_true (osh_graph_infer_shapes (g, &err));
  OshGrouping *gr = osh_grouping_new (g);
  /* 16 blocks and 5 stages (block1 and block7 hold one block each: no stage). */
  g_assert_cmpint (gr->n_groups, ==, 16 + 5);
  g_assert_cmpint (osh_grouping_find (gr, "block1"), ==, -1);
  g_assert_cmpint (gr->groups[osh_grouping_find (gr, "block6")].kind, ==, OSH_GROUP_STAGE);
  int in_blocks = 0;
  for (int i = 0; i < gr->n_groups; i++)
    if (gr->groups[i].kind == OSH_GROUP_BLOCK)
      in_blocks += gr->groups[i].n_layers;
  OshGraphLayout *lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_clusters, ==, 16 + 5);
  g_assert_cmpstr (lay->items[lay->node_item[osh_graph_layer_first_node (
                                  g, osh_graph_find_path (g, "block5a_expand_conv"))]]
                       .shape_text,
                   ==, "(None, 14, 14, 480)");
  osh_layout_free (lay);
  osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, true);
  lay = lay_out (g, gr);
  check_geometry (g, lay);
  g_assert_cmpint (lay->n_items, ==, g->n_layers - in_blocks + 16);
  g_assert_true (has_edge (lay, "block5a", "block5b"));
  g_assert_true (has_edge (lay, "block4c", "block5a"));
  g_assert_true (has_edge (lay, "block7a", "top_conv"));
  osh_layout_free (lay);
  osh_grouping_free (gr);
  osh_graph_free (g);
}

static void
test_families (void)
{
  g_assert_cmpint (osh_layer_family ("Conv2D"), ==, OSH_FAMILY_CONV);
  g_assert_cmpint (osh_layer_family ("SeparableConv2D"), ==, OSH_FAMILY_CONV);
  g_assert_cmpint (osh_layer_family ("BatchNormalization"), ==, OSH_FAMILY_NORM);
  g_assert_cmpint (osh_layer_family ("Activation"), ==, OSH_FAMILY_ACTIVATION);
  g_assert_cmpint (osh_layer_family ("GlobalAveragePooling2D"), ==, OSH_FAMILY_POOLING);
  g_assert_cmpint (osh_layer_family ("Add"), ==, OSH_FAMILY_MERGE);
  g_assert_cmpint (osh_layer_family ("Concatenate"), ==, OSH_FAMILY_MERGE);
  g_assert_cmpint (osh_layer_family ("Flatten"), ==, OSH_FAMILY_RESHAPE);
  g_assert_cmpint (osh_layer_family ("InputLayer"), ==, OSH_FAMILY_INPUT);
  g_assert_cmpint (osh_layer_family ("Functional"), ==, OSH_FAMILY_MODEL);
  g_assert_cmpint (osh_layer_family ("Dense"), ==, OSH_FAMILY_DENSE);
  g_assert_cmpint (osh_layer_family ("FancyCustomLayer"), ==, OSH_FAMILY_UNKNOWN);
  g_assert_cmpstr (osh_family_name (OSH_FAMILY_POOLING), ==, "pooling");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layout/families", test_families);
  g_test_add_func ("/layout/chain", test_chain);
  g_test_add_func ("/layout/residual-collapse-keeps-skip", test_residual);
  g_test_add_func ("/layout/nested-model-binds-and-collapses", test_nested);
  g_test_add_func ("/layout/efficientnetb7-blocks-and-path", test_efficientnet);
  g_test_add_func ("/layout/deep-3000", test_deep);
  g_test_add_func ("/layout/onnx-module-paths", test_onnx_module_paths);
  g_test_add_func ("/layout/zoo-efficientnetb0", test_zoo_efficientnetb0);
  g_test_add_func ("/layout/independent-of-heap", test_layout_independent_of_heap);
  g_test_add_func ("/layout/interleaved-prefix-is-not-a-block",
                   test_interleaved_prefix_is_not_a_block);
  g_test_add_func ("/layout/block-detour-leaks", test_block_detour_leaks);
  g_test_add_func ("/layout/fonts-warmed-on-a-thread", test_fonts_warmed_on_a_thread);
  return g_test_run ();
}
