/* A TF.js graph model in the window: select a node, attach the seed head (lowered to TF nodes),
 * run it, export the edited model as a graph model and read it back. The model is the op
 * fixture of tests/tfgraph (in the repository, so this never skips). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "offshoot-application.h"
#include "offshoot-window-private.h"
#include "osh-model.h"
#include "osh-test.h"
#include "ui-test-window.h"

static GtkApplication *app;

static void
test_attach_run_export_graph_model (void)
{
  g_autofree char *path = osh_test_fixture ("tfgraph/fixtures/ops/model.json");
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_spec (win, path);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  const OshGraph *g = offshoot_window_get_graph (win);
  int n_outputs = g->n_outputs;
  int layer = osh_graph_find_layer (g, -1, "block1/LeakyRelu");
  g_assert_cmpint (layer, >=, 0);
  OffshootGraphView *view = offshoot_window_get_graph_view (win);
  offshoot_graph_view_select_layer (view, layer, TRUE);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "attach-head"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "attach-head", NULL);

  OffshootHeadPanel *head = offshoot_window_get_head_panel (win);
  const char *check = NULL;
  offshoot_head_panel_set_spec (head, "seg");
  g_assert_true (offshoot_head_panel_check (head, &check));
  g_assert_true (offshoot_head_panel_apply (head));
  ui_test_settle (win);
  g = offshoot_window_get_graph (win);
  g_assert_cmpint (g->n_outputs, ==, n_outputs + 1);
  /* The head's layers are TF ops: the last 1×1 convolution's bias is the output. */
  int out = osh_graph_find_layer (g, -1, "aux_head_out");
  g_assert_cmpint (out, >=, 0);
  g_assert_cmpstr (g->layers[out].class_name, ==, "BiasAdd");
  g_assert_cmpstr (g->layers[osh_graph_find_layer (g, -1, "aux_head_bn")].class_name, ==,
                   "FusedBatchNormV3");

  /* It runs with the head: one result more than the model's outputs. */
  g_autofree char *picture = osh_test_fixture ("../resources/samples/circle-1.png");
  g_autoptr (GFile) file = g_file_new_for_path (picture);
  offshoot_window_set_run_input (win, file);
  g_action_group_activate_action (G_ACTION_GROUP (win), "run", NULL);
  ui_test_settle (win);
  OffshootRunPanel *run = offshoot_window_get_run_panel (win);
  g_assert_null (offshoot_run_panel_get_error (run));
  g_assert_cmpint (offshoot_run_panel_get_n_results (run), ==, n_outputs + 1);

  g_autofree char *dir = g_dir_make_tmp ("offshoot-export-XXXXXX", NULL);
  g_autofree char *saved = g_build_filename (dir, "ops_aux.json", NULL);
  g_autofree char *shard = g_build_filename (dir, "ops_aux.bin", NULL);
  offshoot_window_export_model_to (win, saved);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  OshError err = { 0 };
  OshGraph *back = osh_model_load (saved, &err);
  if (!back)
    g_error ("%s", err.message);
  g_assert_cmpint (back->n_outputs, ==, n_outputs + 1);
  g_assert_cmpint (osh_graph_find_layer (back, -1, "aux_head_conv/Conv2D"), >=, 0);
  osh_graph_free (back);
  g_remove (saved);
  g_remove (shard);
  g_assert_cmpint (g_rmdir (dir), ==, 0); /* nothing else was left there */
  ui_test_close (win);
}

/* The export-model targets the Export menu's Model section offers, comma-separated. */
static char *
offered_exports (OffshootWindow *win)
{
  GMenuModel *menu = gtk_menu_button_get_menu_model (win->export_button);
  GString *out = g_string_new (NULL);
  for (int s = 0; s < g_menu_model_get_n_items (menu); s++)
    {
      g_autoptr (GMenuModel) section = g_menu_model_get_item_link (menu, s, G_MENU_LINK_SECTION);
      for (int i = 0; section && i < g_menu_model_get_n_items (section); i++)
        {
          g_autofree char *action = NULL, *target = NULL;
          g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_ACTION, "s", &action);
          if (g_strcmp0 (action, "win.export-model") != 0)
            continue;
          g_assert_true (
              g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_TARGET, "s", &target));
          g_string_append_printf (out, "%s%s", out->len ? "," : "", target);
        }
    }
  return g_string_free (out, FALSE);
}

/* The Export menu offers only what can be saved: a Keras model every format, a TF.js graph
 * model only TF.js (the reason in the Export button's tooltip), an ONNX graph only ONNX. A
 * format asked for anyway (a direct action call) shows the reason and opens no save dialog. */
static void
test_export_offers_savable_formats (void)
{
  OffshootWindow *win = ui_test_window_new (app);
  offshoot_window_open_default (win);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_autofree char *keras = offered_exports (win);
  g_assert_cmpstr (keras, ==, "keras,h5,json,onnx");
  const char *keras_tip = gtk_widget_get_tooltip_text (GTK_WIDGET (win->export_button));
  g_assert_null (strstr (keras_tip, "Not offered"));

  g_autofree char *dir = g_dir_make_tmp ("offshoot-export-XXXXXX", NULL);
  g_autofree char *onnx = g_build_filename (dir, "default.onnx", NULL);
  OshError err = { 0 };
  g_assert_true (osh_model_save (offshoot_window_handle (win)->graph, onnx, &err));
  offshoot_window_open_spec (win, onnx);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_autofree char *onnx_offered = offered_exports (win);
  g_assert_cmpstr (onnx_offered, ==, "onnx");

  g_autofree char *path = osh_test_fixture ("tfgraph/fixtures/ops/model.json");
  offshoot_window_open_spec (win, path);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_autofree char *graph = offered_exports (win);
  g_assert_cmpstr (graph, ==, "json,onnx");
  const char *tip = gtk_widget_get_tooltip_text (GTK_WIDGET (win->export_button));
  g_assert_nonnull (strstr (tip, "Not offered: a TF.js graph model is saved as a TF.js graph"));

  g_assert_null (strstr (tip, "leaves sizes open"));

  g_action_group_activate_action (G_ACTION_GROUP (win), "export-model",
                                  g_variant_new_string ("keras"));
  g_assert_null (win->chooser);
  g_assert_nonnull (strstr (offshoot_window_get_error (win), "converting it to Keras"));

  /* A graph model whose Shape reads its open height and width has no ONNX form until they are
   * fixed: .onnx is not offered, and the tooltip says why before anyone tries. */
  g_autofree char *open_sizes = osh_test_fixture ("tfgraph/fixtures/open-sizes/model.json");
  offshoot_window_open_spec (win, open_sizes);
  ui_test_settle (win);
  g_assert_null (offshoot_window_get_error (win));
  g_autofree char *open_offered = offered_exports (win);
  g_assert_cmpstr (open_offered, ==, "json");
  const char *open_tip = gtk_widget_get_tooltip_text (GTK_WIDGET (win->export_button));
  g_assert_nonnull (
      strstr (open_tip, "Not offered: a TF.js graph model is saved as a TF.js graph"));
  g_assert_nonnull (strstr (open_tip,
                            "\nNot offered: the ONNX export writes the sizes a Shape node "
                            "reads as constants"));
  g_assert_nonnull (strstr (open_tip, "input 'image' leaves sizes open (1, None, None, 3)"));
  g_remove (onnx);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  ui_test_close (win);
}

int
main (int argc, char **argv)
{
  g_autofree char *data_home = g_dir_make_tmp ("offshoot-ui-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  gtk_test_init (&argc, &argv, NULL);
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  app = gtk_application_new ("io.offshoot.Offshoot.Test", G_APPLICATION_NON_UNIQUE);
  g_application_set_resource_base_path (G_APPLICATION (app), "/io/offshoot/Offshoot");
  g_application_register (G_APPLICATION (app), NULL, NULL);
  g_test_add_func ("/ui/graph-model/attach-run-export", test_attach_run_export_graph_model);
  g_test_add_func ("/ui/graph-model/export-offers-savable", test_export_offers_savable_formats);
  int status = g_test_run ();
  g_object_unref (app);
  return status;
}
