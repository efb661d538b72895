/* Saving a TF.js graph model keeps each weight's stored form (engine/io/osh-tfjs-stored.c):
 * the float16 and uint8/uint16 encodings give back exactly the float32 values they can hold and
 * refuse the others, and a weight an edit changed is written float32 while the untouched ones
 * keep their dtype, quantization and bytes. tfjs loading the saved files is checked by
 * test_tfgraph_save_dtypes.py. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "osh-model.h"
#include "osh-test.h"
#include "osh-tfjs-stored.h"

static float
encode_and_back (const OshTfjsCodec *c, float v, bool *exact)
{
  unsigned char bytes[4] = { 0 };
  *exact = osh_tfjs_encode_exact (c, &v, 1, bytes);
  return osh_tfjs_decode (c, bytes, 0);
}

static void
test_float16_codec (void)
{
  json_t *entry =
      json_pack ("{s:s, s:{s:s}}", "dtype", "float32", "quantization", "dtype", "float16");
  OshTfjsCodec c;
  const char *stored;
  g_assert_true (osh_tfjs_codec (entry, &c, &stored));
  g_assert_cmpint (c.store, ==, OSH_TFJS_FLOAT16);
  bool exact;
  /* what a half holds: normal, largest, smallest normal, subnormals, signed zero, infinity */
  const float held[] = { 1.0f, -2.5f, 65504.0f, 0x1p-14f, 0x1p-24f, 0x3p-24f, -0.0f, INFINITY };
  for (size_t i = 0; i < G_N_ELEMENTS (held); i++)
    {
      float back = encode_and_back (&c, held[i], &exact);
      g_assert_true (exact);
      g_assert_cmpmem (&back, 4, &held[i], 4);
    }
  /* what it does not: refused, and the bytes are the nearest half (ties to even) */
  g_assert_cmpfloat (encode_and_back (&c, 1.0f + 0x1p-11f, &exact), ==, 1.0f);
  g_assert_false (exact);
  g_assert_cmpfloat (encode_and_back (&c, 1.0f + 0x3p-11f, &exact), ==, 1.0f + 0x1p-9f);
  g_assert_false (exact);
  g_assert_cmpfloat (encode_and_back (&c, 70000.0f, &exact), ==, INFINITY);
  g_assert_false (exact);
  json_decref (entry);
}

static void
test_uint8_codec (void)
{
  const double min = -1.0642834901809692, scale = 0.007416910751193178; /* the op fixture's */
  json_t *entry = json_pack ("{s:s, s:{s:s, s:f, s:f}}", "dtype", "float32", "quantization",
                             "dtype", "uint8", "min", min, "scale", scale);
  OshTfjsCodec c;
  const char *stored;
  g_assert_true (osh_tfjs_codec (entry, &c, &stored));
  g_assert_true (c.affine);
  bool exact;
  for (int q = 0; q < 256; q++)
    {
      float v = (float) (q * scale + min); /* tfjs: q · scale + min, to float32 */
      unsigned char byte = 0;
      g_assert_true (osh_tfjs_encode_exact (&c, &v, 1, &byte));
      g_assert_cmpint (byte, ==, q);
    }
  encode_and_back (&c, 0.3f, &exact);
  g_assert_false (exact);
  encode_and_back (&c, 2.0f, &exact); /* past the top level */
  g_assert_false (exact);
  json_decref (entry);
}

static OshWeight *
find_weight (OshGraph *g, const char *name)
{
  for (int l = 0; l < g->n_layers; l++)
    for (int w = 0; w < g->layers[l].n_weights; w++)
      if (strcmp (g->layers[l].weights[w].name, name) == 0)
        return &g->layers[l].weights[w];
  return NULL;
}

static const json_t *
manifest_entry (const json_t *doc, const char *name)
{
  size_t gi, wi;
  const json_t *group, *w;
  json_array_foreach (json_object_get (doc, "weightsManifest"), gi, group)
    json_array_foreach (json_object_get (group, "weights"), wi, w)
      if (strcmp (json_string_value (json_object_get (w, "name")), name) == 0)
        return w;
  return NULL;
}

/* An edit to the float16 weight: that one is float32 in the saved file, holding the new value
 * exactly; the uint8 and uint16 ones keep their quantization and every value. */
static void
test_changed_weight_is_float32 (void)
{
  char *path = osh_test_fixture ("tfgraph/fixtures/ops/model.json");
  OshError err = { 0 };
  OshGraph *g = osh_model_load (path, &err);
  g_assert_cmpstr (err.message, ==, "");
  OshGraph *original = osh_model_load (path, &err);
  g_assert_nonnull (original);
  /* every reader of the Const has its copy: change them all, as an edit of the Const would */
  float changed = 0;
  for (int l = 0; l < g->n_layers; l++)
    for (int w = 0; w < g->layers[l].n_weights; w++)
      if (strcmp (g->layers[l].weights[w].name, "block1/conv/w") == 0)
        {
          float *v = &g->layers[l].weights[w].value->data[0];
          *v = changed = nextafterf (*v, INFINITY); /* one float32 ulp: no half holds it */
        }
  char *dir = g_dir_make_tmp ("osh-tfsave-XXXXXX", NULL);
  char *out = g_build_filename (dir, "edited.json", NULL);
  g_assert_true (osh_model_save (g, out, &err));
  g_assert_cmpstr (err.message, ==, "");
  json_t *doc = json_load_file (out, 0, NULL);
  g_assert_nonnull (doc);
  const json_t *conv = manifest_entry (doc, "block1/conv/w");
  g_assert_nonnull (conv);
  g_assert_cmpstr (json_string_value (json_object_get (conv, "dtype")), ==, "float32");
  g_assert_null (json_object_get (conv, "quantization"));
  const char *kept[][2] = { { "block1/dw/w", "uint8" }, { "head/fc/w", "uint16" } };
  for (size_t i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      const json_t *e = manifest_entry (doc, kept[i][0]);
      g_assert_nonnull (e);
      g_assert_cmpstr (
          json_string_value (json_object_get (json_object_get (e, "quantization"), "dtype")), ==,
          kept[i][1]);
    }
  OshGraph *back = osh_model_load (out, &err);
  g_assert_cmpstr (err.message, ==, "");
  g_assert_cmpfloat (find_weight (back, "block1/conv/w")->value->data[0], ==, changed);
  for (size_t i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      const OshTensor *a = find_weight (back, kept[i][0])->value;
      const OshTensor *b = find_weight (original, kept[i][0])->value;
      g_assert_cmpmem (a->data, osh_tensor_numel (a) * 4, b->data, osh_tensor_numel (b) * 4);
    }
  json_decref (doc);
  osh_graph_free (back);
  osh_graph_free (original);
  osh_graph_free (g);
  char *bin = g_build_filename (dir, "edited.bin", NULL);
  g_unlink (bin);
  g_unlink (out);
  g_rmdir (dir);
  g_free (bin);
  g_free (out);
  g_free (dir);
  g_free (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tfgraph/save-dtypes/float16-codec", test_float16_codec);
  g_test_add_func ("/tfgraph/save-dtypes/uint8-codec", test_uint8_codec);
  g_test_add_func ("/tfgraph/save-dtypes/changed-weight-is-float32",
                   test_changed_weight_is_float32);
  return g_test_run ();
}
