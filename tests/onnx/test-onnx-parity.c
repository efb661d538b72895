/* ONNX models exported by PyTorch run in Offshoot as in ONNX Runtime (the independent reference):
 * max |diff| <= 1e-4 × max(1, max |ref|) on every output. Fixtures and references are made by
 * tools/reference/onnx-export-torch.py and onnx-ort-reference.mjs. */
#include <math.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-test.h"

static void
parity (gconstpointer data)
{
  const char *name = data;
  g_autofree char *dir = osh_test_fixture ("onnx/fixtures");
  g_autofree char *model = g_strdup_printf ("%s/%s.onnx", dir, name);
  g_autofree char *input = g_strdup_printf ("%s/%s.input.npy", dir, name);
  OshError err = { 0 };
  OshGraph *g = osh_model_load (model, &err);
  if (!g)
    g_error ("%s", err.message);
  OshTensor *x = osh_npy_read (input, &err);
  g_assert_nonnull (x);
  OshTensor *outs[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  OshExecOptions opt = osh_exec_options_default ();
  if (!osh_exec_run_once (g, &opt, (const OshTensor *const *) &x, 1, outs, &err))
    g_error ("%s", err.message);
  for (int i = 0; i < g->n_outputs; i++)
    {
      json_t *names = json_object_get (g->layers[g->nodes[g->outputs[i].node].layer].config,
                                       "onnx_output_names");
      const char *out_name =
          json_string_value (json_array_get (names, (size_t) g->outputs[i].index));
      g_autofree char *ref_path = g_strdup_printf ("%s/%s.ort.%s.npy", dir, name, out_name);
      OshTensor *ref = osh_npy_read (ref_path, &err);
      if (!ref)
        g_error ("%s", err.message);
      g_assert_cmpint (osh_tensor_numel (ref), ==, osh_tensor_numel (outs[i]));
      float max_ref = 0, max_diff = 0;
      for (int64_t k = 0; k < osh_tensor_numel (ref); k++)
        {
          max_ref = fmaxf (max_ref, fabsf (ref->data[k]));
          max_diff = fmaxf (max_diff, fabsf (ref->data[k] - outs[i]->data[k]));
        }
      g_test_message ("%s/%s: max |diff| %.3g, max |ref| %.3g", name, out_name, max_diff, max_ref);
      g_assert_cmpfloat (max_diff, <=, 1e-4f * fmaxf (1.0f, max_ref));
      osh_tensor_free (ref);
      osh_tensor_free (outs[i]);
    }
  osh_tensor_free (x);
  osh_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/onnx/parity/ops-net", "opsnet", parity);
  g_test_add_data_func ("/onnx/parity/two-outputs-label-and-mask", "segnet", parity);
  g_test_add_data_func ("/onnx/parity/mobilenet-v3-small", "mobilenet_v3_small_x025", parity);
  /* ArgMax, TopK, comparisons, logic, Where, Mod, OneHot; a constant graph output. */
  g_test_add_data_func ("/onnx/parity/decoder-ops", "decodenet", parity);
  /* Run channels-last where it can (tools/reference/onnx-layout-fixture.py). */
  g_test_add_data_func ("/onnx/parity/layout-mixed", "layoutnet", parity);
  return g_test_run ();
}
