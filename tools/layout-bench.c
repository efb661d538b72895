/* layout-bench — layout and drawing speed on keras.applications EfficientNetB7 (816 layers,
 * from engine/zoo) and a 3,000-layer residual net (tests/layout/layout-graphs.h). A benchmark, not a test:
 *
 *   meson test -C build --benchmark --suite layout -v      (or run build/tests/layout/layout-bench)
 *
 * For each graph: IR → geometry (osh_layout_compute), `dot -Txdot` on the same DOT text in
 * the same run (the ratio says what in-process layout costs against graphviz's own CLI),
 * a full-scene draw (every item with text) cold and warm, and a visible-part redraw of a
 * 1600 × 1000 view at 100 %. Targets (DESIGN.md): 800 layers ≤ 0.3 s, 3,000 ≤ 1.5 s,
 * visible redraw ≤ 16 ms. */
#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "layout-graphs.h"
#include "osh-scene.h"
#include "osh-shapes.h"
#include "osh-zoo.h"

static double
now (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

static double
cpu (void)
{
  return (double) clock () / CLOCKS_PER_SEC;
}

static double
median3 (double a, double b, double c)
{
  return MAX (MIN (a, b), MIN (MAX (a, b), c));
}

/* Wall and CPU seconds (the child's user + system time) of `dot -Txdot` on the text. */
static double
time_dot_cli (const char *dot_text, double *cpu_seconds)
{
  *cpu_seconds = -1;
  char *path = NULL;
  int fd = g_file_open_tmp ("layout-bench-XXXXXX.dot", &path, NULL);
  if (fd < 0)
    return -1;
  close (fd);
  g_file_set_contents (path, dot_text, -1, NULL);
  char *argv[] = { "dot", "-Txdot", "-o/dev/null", path, NULL };
  double t0 = now ();
  struct rusage before, after;
  getrusage (RUSAGE_CHILDREN, &before);
  int status = 0;
  gboolean ok =
      g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL);
  double t = now () - t0;
  getrusage (RUSAGE_CHILDREN, &after);
  *cpu_seconds = (double) (after.ru_utime.tv_sec - before.ru_utime.tv_sec)
                 + (double) (after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6
                 + (double) (after.ru_stime.tv_sec - before.ru_stime.tv_sec)
                 + (double) (after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
  g_remove (path);
  g_free (path);
  return ok && status == 0 ? t : -1;
}

/* IR → geometry with the grouping the app starts with (blocks and nested models found and
 * expanded: they become graphviz clusters) or with none; median of three. */
static OshGraphLayout *
timed_layout (OshGraph *g, bool groups, double *seconds, double *cpu_seconds, OshError *err)
{
  double t[3], c[3];
  OshGraphLayout *lay = NULL;
  for (int k = 0; k < 3; k++)
    {
      osh_layout_free (lay);
      double t0 = now (), c0 = cpu ();
      OshGrouping *gr = groups ? osh_grouping_new (g) : NULL;
      lay = osh_layout_compute (g, gr, err);
      osh_grouping_free (gr);
      t[k] = now () - t0;
      c[k] = cpu () - c0;
      if (!lay)
        return NULL;
    }
  *seconds = median3 (t[0], t[1], t[2]);
  *cpu_seconds = median3 (c[0], c[1], c[2]);
  return lay;
}

static bool
bench (const char *name, OshGraph *g, double target)
{
  OshError err = { 0 };
  double ir, flat, ir_cpu, flat_cpu;
  OshGraphLayout *lay = timed_layout (g, true, &ir, &ir_cpu, &err);
  OshGraphLayout *flat_lay = lay ? timed_layout (g, false, &flat, &flat_cpu, &err) : NULL;
  if (!lay || !flat_lay)
    {
      printf ("%s: layout failed: %s\n", name, err.message);
      osh_layout_free (lay);
      return false;
    }
  double cli_cpu, flat_cli_cpu;
  double cli = time_dot_cli (lay->dot, &cli_cpu);
  double flat_cli = time_dot_cli (flat_lay->dot, &flat_cli_cpu);
  printf ("%s: %d layers → %d boxes, %d edges, %d block/model frames, %.0f × %.0f pt\n", name,
          g->n_layers, lay->n_items, lay->n_edges, lay->n_clusters, lay->bounds.w, lay->bounds.h);
  /* The machine is shared: CPU seconds say what the code costs, wall seconds what was felt. */
  printf ("  IR → geometry      %.3f s wall, %.3f s CPU (text+DOT %.3f s, graphviz %.3f s)"
          "   target ≤ %.1f s  %s\n",
          ir, ir_cpu, lay->seconds_build, lay->seconds_layout, target,
          ir <= target       ? "MET"
          : ir_cpu <= target ? "MET on CPU time"
                             : "MISSED");
  printf (
      "  dot -Txdot (CLI)   %.3f s wall, %.3f s CPU   ratio in-process / CLI = %.2f (CPU %.2f)\n",
      cli, cli_cpu, cli > 0 ? ir / cli : 0, cli_cpu > 0 ? ir_cpu / cli_cpu : 0);
  printf ("  without groups     %.3f s wall, %.3f s CPU in-process; dot -Txdot %.3f s wall, "
          "%.3f s CPU\n",
          flat, flat_cpu, flat_cli, flat_cli_cpu);
  osh_layout_free (flat_lay);

  OshScene *s = osh_scene_new (lay);
  const OshGraphLayout *L = osh_scene_get_layout (s);
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1600, 1000);
  cairo_t *cr = cairo_create (img);
  /* Whole scene at 100 % (text on), drawn into a clipped surface: the cost of every item. */
  OshViewport all = { 0, 0, 1 };
  double t0 = now ();
  osh_scene_draw (s, cr, &all, L->bounds.w, L->bounds.h);
  double cold = now () - t0;
  t0 = now ();
  osh_scene_draw (s, cr, &all, L->bounds.w, L->bounds.h);
  double warm = now () - t0;
  printf ("  full scene draw    %.1f ms cold (text layouts built), %.1f ms warm\n", cold * 1e3,
          warm * 1e3);
  /* Panning over the middle of the graph: 30 frames, 40 pt apart. */
  double worst = 0, sum = 0;
  int drawn = 0;
  for (int f = 0; f < 30; f++)
    {
      OshViewport vp = { -(L->bounds.w / 2 - 800), -(L->bounds.h / 2 + 40.0 * f), 1 };
      t0 = now ();
      drawn = osh_scene_draw (s, cr, &vp, 1600, 1000);
      cairo_surface_flush (img);
      double dt = now () - t0;
      sum += dt;
      worst = MAX (worst, dt);
    }
  printf (
      "  visible redraw     %.2f ms mean, %.2f ms worst (%d boxes in view)   target ≤ 16 ms  %s\n",
      sum / 30 * 1e3, worst * 1e3, drawn, sum / 30 <= 0.016 ? "MET" : "MISSED");
  /* Zoomed out to 25 % (text off), a typical overview frame. */
  OshViewport out = { -(L->bounds.w / 2 * 0.25 - 800), -(L->bounds.h / 2 * 0.25), 0.25 };
  t0 = now ();
  drawn = osh_scene_draw (s, cr, &out, 1600, 1000);
  printf ("  overview (25 %%)    %.2f ms (%d boxes in view)\n", (now () - t0) * 1e3, drawn);
  cairo_destroy (cr);
  cairo_surface_destroy (img);
  osh_scene_free (s);
  return true;
}

int
main (void)
{
  /* The real keras.applications EfficientNetB7 (engine/zoo), shapes inferred as on load. */
  OshZooOptions o;
  osh_zoo_options_init (&o, "EfficientNetB7");
  OshError err = { 0 };
  OshGraph *b7 = osh_zoo_build ("EfficientNetB7", &o, &err);
  if (!b7 || !osh_graph_infer_shapes (b7, &err))
    {
      printf ("EfficientNetB7: %s\n", err.message);
      return 1;
    }
  OshGraph *deep = lg_deep (3000);
  bool ok = bench ("EfficientNetB7 (zoo)", b7, 0.3);
  ok = bench ("deep residual", deep, 1.5) && ok;
  osh_graph_free (b7);
  osh_graph_free (deep);
  return ok ? 0 : 1;
}
