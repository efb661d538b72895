/* offshoot render MODEL [EDITS] -o OUT — the layer graph as PNG, SVG, PDF or DOT, with
 * groups collapsed or expanded and the connectivity check's highlights applied. A graph of
 * more than 200 layers is drawn as the window opens it, collapsed into stages and blocks
 * (--expand-all draws every layer; --expand NAME opens one group). */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-edits.h"
#include "cli.h"
#include "osh-connectivity.h"
#include "osh-heads.h"
#include "osh-layer-names.h"
#include "osh-layout.h"
#include "osh-scene-styles.h"
#include "osh-scene.h"

typedef struct
{
  const char *out;
  double scale;
  bool dark;
  bool collapse_blocks;
  bool expand_all;                        /* big graphs too: no overview */
  GPtrArray *collapse, *expand, *path_to; /* names, in order */
} RenderOptions;

/* Highlights for `g`: the connectivity check, plus the layers the edits added. */
static uint32_t *
render_styles (const OshGraph *g, GHashTable *paths_before, OshError *err)
{
  uint32_t *styles = g_new0 (uint32_t, MAX (1, g->n_nodes));
  OshConnectivity *c = osh_connectivity_analyze (g, err);
  if (!c)
    {
      g_free (styles);
      return NULL;
    }
  osh_styles_add_connectivity (c->node_flags, g->n_nodes, styles);
  osh_connectivity_free (c);
  for (int n = 0; n < g->n_nodes; n++)
    {
      char *path = osh_graph_layer_path (g, g->nodes[n].layer);
      if (!g_hash_table_contains (paths_before, path)
          || osh_graph_layer_is_head (g, g->nodes[n].layer))
        styles[n] |= OSH_STYLE_NEW_HEAD;
      free (path);
    }
  return styles;
}

static int
apply_groups (const char *cmd, OshGrouping *gr, const OshGraph *g, const RenderOptions *o)
{
  /* As the window opens it: a big graph as its overview of stages and blocks. */
  if (!o->expand_all)
    osh_grouping_overview (gr, g);
  if (o->collapse_blocks)
    {
      osh_grouping_collapse_kind (gr, OSH_GROUP_BLOCK, true);
      osh_grouping_collapse_kind (gr, OSH_GROUP_MODULE, true);
    }
  for (guint i = 0; i < o->collapse->len; i++)
    {
      const char *name = g_ptr_array_index (o->collapse, i);
      int grp = osh_grouping_find (gr, name);
      if (grp < 0)
        return osh_cli_usage_error (cmd,
                                    "no group '%s' (nested models and blocks such as "
                                    "'block5a' are groups)",
                                    name);
      osh_grouping_set_collapsed (gr, grp, true);
    }
  for (guint i = 0; i < o->expand->len; i++)
    {
      const char *name = g_ptr_array_index (o->expand, i);
      int grp = osh_grouping_find (gr, name);
      if (grp < 0)
        return osh_cli_usage_error (cmd, "no group '%s' to expand", name);
      osh_grouping_set_collapsed (gr, grp, false);
      for (int up = gr->groups[grp].parent; up >= 0; up = gr->groups[up].parent)
        osh_grouping_set_collapsed (gr, up, false);
    }
  for (guint i = 0; i < o->path_to->len; i++)
    {
      const char *name = g_ptr_array_index (o->path_to, i);
      int layer = osh_graph_find_path (g, name);
      if (layer < 0)
        {
          OshError err = { 0 };
          osh_fail_no_layer (g, name, &err);
          return osh_cli_usage_error (cmd, "%s", err.message);
        }
      osh_grouping_expand_path (gr, g, layer);
    }
  return OSH_EXIT_OK;
}

static int
render (const char *cmd, OshGraph *g, GHashTable *paths_before, const RenderOptions *o)
{
  OshError err = { 0 };
  OshGrouping *gr = osh_grouping_new (g);
  int code = apply_groups (cmd, gr, g, o);
  if (code != OSH_EXIT_OK)
    {
      osh_grouping_free (gr);
      return code;
    }
  if (g_str_has_suffix (o->out, ".dot") || g_str_has_suffix (o->out, ".gv"))
    {
      char *dot = osh_layout_dot_text (g, gr, &err);
      GError *error = NULL;
      bool ok = dot && g_file_set_contents (o->out, dot, -1, &error);
      if (error)
        osh_fail (&err, OSH_ERR_IO, "%s: %s", o->out, error->message);
      g_clear_error (&error);
      g_free (dot);
      osh_grouping_free (gr);
      if (ok && osh_cli_json_mode ())
        osh_cli_print_json (json_pack ("{s:s, s:s}", "output", o->out, "format", "dot"));
      return ok ? OSH_EXIT_OK : osh_cli_report (cmd, &err);
    }
  OshGraphLayout *lay = osh_layout_compute (g, gr, &err);
  osh_grouping_free (gr);
  if (!lay)
    return osh_cli_report (cmd, &err);
  if (g_getenv ("OFFSHOOT_TRACE")) /* tools/open-bench.py sets it: graphviz's part beside dot's */
    fprintf (
        stderr,
        "offshoot %s: DOT built in %.1f ms (labels measured), laid out by graphviz in %.1f ms\n",
        cmd, lay->seconds_build * 1e3, lay->seconds_layout * 1e3);
  OshScene *scene = osh_scene_new (lay);
  osh_scene_set_dark (scene, o->dark);
  uint32_t *styles = render_styles (g, paths_before, &err);
  if (!styles)
    {
      osh_scene_free (scene);
      return osh_cli_report (cmd, &err);
    }
  osh_scene_set_styles (scene, styles, g->n_nodes);
  uint32_t *styles_kept = styles; /* counted after the export */
  bool ok = osh_scene_export (scene, o->out, o->scale, &err);
  int heads = 0;
  for (int n = 0; n < g->n_nodes; n++)
    heads += (styles_kept[n] & OSH_STYLE_NEW_HEAD) != 0;
  g_free (styles_kept);
  if (ok && osh_cli_json_mode ())
    osh_cli_print_json (json_pack ("{s:s, s:i, s:i, s:i, s:i, s:f, s:f}", "output", o->out, "boxes",
                                   lay->n_items, "edges", lay->n_edges, "frames", lay->n_clusters,
                                   "head_layers", heads, "width_pt", lay->bounds.w, "height_pt",
                                   lay->bounds.h));
  else if (ok)
    printf ("%s: %d boxes, %d edges, %d frames, %.0f × %.0f pt%s\n", o->out, lay->n_items,
            lay->n_edges, lay->n_clusters, lay->bounds.w, lay->bounds.h,
            heads ? ", the attached heads highlighted" : "");
  osh_scene_free (scene);
  return ok ? OSH_EXIT_OK : osh_cli_report (cmd, &err);
}

static const char *
option_value (int argc, char **argv, int *i)
{
  const char *eq = strchr (argv[*i], '=');
  if (eq && g_str_has_prefix (argv[*i], "--"))
    return eq + 1;
  return *i + 1 < argc ? argv[++*i] : NULL;
}

static bool
is_option (const char *arg, const char *name)
{
  size_t n = strlen (name);
  return !strncmp (arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

int
osh_cmd_render (int argc, char **argv)
{
  const char *cmd = argv[0];
  if (argc < 2 || argv[1][0] == '-')
    return osh_cli_usage_error (cmd, "no MODEL given (a model file or @default, first)");
  OshError err = { 0 };
  /* Drawing needs no weight values: the graph alone opens in a fraction of the time, and the
   * label fonts load beside it. */
  OshTextWarm *fonts = osh_text_warm_start ();
  OshGraph *g = osh_cli_load_graph (argv[1], &err);
  osh_text_warm_finish (fonts);
  if (!g)
    return osh_cli_report (cmd, &err);
  GHashTable *paths_before = g_hash_table_new_full (g_str_hash, g_str_equal, free, NULL);
  for (int l = 0; l < g->n_layers; l++)
    g_hash_table_add (paths_before, osh_graph_layer_path (g, l));

  RenderOptions o = { .scale = 1.0,
                      .collapse = g_ptr_array_new (),
                      .expand = g_ptr_array_new (),
                      .path_to = g_ptr_array_new () };
  int code = OSH_EXIT_OK;
  if (!osh_cli_apply_edits (&argc, argv, &g, &err))
    code = osh_cli_report (cmd, &err);
  for (int i = 2; i < argc && code == OSH_EXIT_OK; i++)
    {
      const char *a = argv[i];
      const char *v = NULL;
      if (!strcmp (a, "-o") || is_option (a, "--output"))
        o.out = v = option_value (argc, argv, &i);
      else if (is_option (a, "--collapse"))
        g_ptr_array_add (o.collapse, (void *) (v = option_value (argc, argv, &i)));
      else if (is_option (a, "--expand"))
        g_ptr_array_add (o.expand, (void *) (v = option_value (argc, argv, &i)));
      else if (is_option (a, "--expand-path"))
        g_ptr_array_add (o.path_to, (void *) (v = option_value (argc, argv, &i)));
      else if (is_option (a, "--scale"))
        {
          v = option_value (argc, argv, &i);
          char *end = NULL;
          o.scale = v ? g_ascii_strtod (v, &end) : 0;
          if (!v || *end || !(o.scale > 0 && o.scale <= 16))
            code = osh_cli_bad_value (cmd, "--scale", v, "a number above 0, at most 16");
          continue;
        }
      else if (!strcmp (a, "--collapse-blocks"))
        o.collapse_blocks = true, v = a;
      else if (!strcmp (a, "--expand-all"))
        o.expand_all = true, v = a;
      else if (!strcmp (a, "--dark"))
        o.dark = true, v = a;
      else if (!strcmp (a, "--json"))
        v = a; /* osh_cli_json_mode */
      else
        code = osh_cli_usage_error (
            cmd, a[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", a);
      if (code == OSH_EXIT_OK && !v)
        code = osh_cli_usage_error (cmd, "%s needs a value", a);
    }
  if (code == OSH_EXIT_OK && !o.out)
    code = osh_cli_usage_error (cmd, "-o OUT is required (.png, .svg, .pdf or .dot)");
  if (code == OSH_EXIT_OK)
    code = render (cmd, g, paths_before, &o);
  g_ptr_array_free (o.collapse, TRUE);
  g_ptr_array_free (o.expand, TRUE);
  g_ptr_array_free (o.path_to, TRUE);
  g_hash_table_destroy (paths_before);
  osh_graph_free (g);
  return code;
}
