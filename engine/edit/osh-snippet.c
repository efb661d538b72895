/* The Keras snippet for an attach edit (see osh-snippet.h). */
#include "osh-snippet.h"

#include "osh-strbuf.h"

#include <stdlib.h>
#include <string.h>

/* A Python string literal. */
static void
py_str (OshStrbuf *b, const char *s)
{
  osh_strbuf_printf (b, "\"");
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (c == '"' || c == '\\')
        osh_strbuf_printf (b, "\\%c", c);
      else if (c < 0x20 || c == 0x7f)
        osh_strbuf_printf (b, "\\x%02x", c);
      else
        osh_strbuf_printf (b, "%c", c);
    }
  osh_strbuf_printf (b, "\"");
}

static void
py_bool (OshStrbuf *b, bool v)
{
  osh_strbuf_printf (b, "%s", v ? "True" : "False");
}

/* `layers.Conv2D(...)` with the arguments that make the config Offshoot gave the layer. */
static void
step_code (OshStrbuf *b, const OshHeadStep *s, const char *name)
{
  osh_strbuf_printf (b, "layers.%s(", osh_head_step_class (s));
  switch (s->kind)
    {
    case OSH_HEAD_CONV2D:
      osh_strbuf_printf (b, "filters=%d, kernel_size=%d, strides=%d, padding=\"%s\", ", s->filters,
                         s->kernel_size, s->strides, s->same ? "same" : "valid");
      __attribute__ ((fallthrough));
    case OSH_HEAD_DENSE:
      if (s->kind == OSH_HEAD_DENSE)
        osh_strbuf_printf (b, "units=%d, ", s->filters);
      osh_strbuf_printf (b, "activation=\"%s\", use_bias=", s->activation);
      py_bool (b, s->use_bias);
      osh_strbuf_printf (b, ", kernel_initializer=\"glorot_uniform\", ");
      break;
    case OSH_HEAD_BATCHNORM:
      osh_strbuf_printf (b, "momentum=%g, epsilon=%g, ", s->momentum, s->epsilon);
      break;
    case OSH_HEAD_ACTIVATION:
      osh_strbuf_printf (b, "\"%s\", ", s->activation);
      break;
    case OSH_HEAD_RELU:
    case OSH_HEAD_GAP:
      break;
    }
  osh_strbuf_printf (b, "name=");
  py_str (b, name);
  osh_strbuf_printf (b, ")");
}

/* The Python expression for the tensor the outer model feeds into the call `call`. */
static bool
feed_code (OshStrbuf *b, const OshGraph *g, int call, OshError *err)
{
  const OshNode *c = &g->nodes[call];
  const char *model = g->layers[c->layer].name;
  if (c->n_inputs != 1)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "snippet: model '%s' takes %d inputs; only one is "
                     "supported",
                     model, c->n_inputs);
  OshRef t = c->inputs[0];
  for (int i = 0; i < g->n_inputs; i++)
    if (g->inputs[i].node == t.node && g->inputs[i].index == t.index)
      {
        osh_strbuf_printf (b, "model.inputs[%d]", i);
        return true;
      }
  const OshLayer *p = &g->layers[g->nodes[t.node].layer];
  if (p->owner >= 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "snippet: model '%s' is fed from inside another model", model);
  osh_strbuf_printf (b, "model.get_layer(");
  py_str (b, p->name);
  osh_strbuf_printf (b, ").output");
  return true;
}

/* Emits `x = ...`: the attached layer's output, read through the instance the inputs feed. */
static bool
tap_code (OshStrbuf *b, const OshGraph *g, const char *path, int k, OshError *err)
{
  int layer = osh_graph_find_path (g, path);
  if (layer < 0)
    return osh_fail (err, OSH_ERR_NOT_FOUND, "snippet: no layer '%s' in the model", path);
  int depth = osh_graph_layer_depth (g, layer);
  if (depth == 0)
    {
      osh_strbuf_printf (b, "x = model.get_layer(");
      py_str (b, g->layers[layer].name);
      osh_strbuf_printf (b, ").output\n");
      return true;
    }
  if (depth > 1)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "snippet: '%s' is nested %d models deep; only one "
                     "level is supported",
                     path, depth);
  int owner = g->layers[layer].owner;
  int call = osh_graph_layer_first_node (g, owner);
  if (call < 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "snippet: model '%s' is never called by the outer "
                     "model",
                     g->layers[owner].name);
  osh_strbuf_printf (
      b,
      "# '%s' is inside the nested model '%s'.\n"
      "# Taking it from a second copy of that model, or from the inner layer directly,\n"
      "# gives \"Graph disconnected\": read it through a sub-model of the SAME instance\n"
      "# (same layers, same weights), called on the tensor the outer model feeds it.\n",
      g->layers[layer].name, g->layers[owner].name);
  osh_strbuf_printf (b, "inner = model.get_layer(");
  py_str (b, g->layers[owner].name);
  osh_strbuf_printf (b, ")\ntap_%d = keras.Model(inner.input, inner.get_layer(", k);
  py_str (b, g->layers[layer].name);
  osh_strbuf_printf (b, ").output, name=\"%s_tap_%d\")\nx = tap_%d(", g->layers[owner].name, k, k);
  if (!feed_code (b, g, call, err))
    return false;
  osh_strbuf_printf (b, ")\n");
  return true;
}

char *
osh_snippet_python (const OshGraph *g,
                    const OshSnippetHead *heads,
                    int n_heads,
                    const char *model_path,
                    const char *save_path,
                    OshError *err)
{
  OshStrbuf b = { 0 };
  size_t len = strlen (model_path);
  bool tfjs = len > 5 && strcmp (model_path + len - 5, ".json") == 0;
  osh_strbuf_printf (&b, "\"\"\"Attach %d auxiliary head%s to ", n_heads, n_heads == 1 ? "" : "s");
  py_str (&b, model_path);
  osh_strbuf_printf (&b, " in Keras (written by Offshoot).\n\n"
                         "Every head reads its layer through the model instance the inputs go\n"
                         "through, so the new model stays connected.\n\"\"\"\n"
                         "import keras\nfrom keras import layers\n\n");
  if (tfjs)
    {
      char *h5 = strdup (model_path);
      if (h5)
        strcpy (h5 + len - 5, ".h5");
      osh_strbuf_printf (&b,
                         "# A TF.js model: convert it for Keras first, e.g.\n"
                         "#   tensorflowjs_converter --input_format=tfjs_layers_model "
                         "--output_format=keras %s %s\nmodel = keras.models.load_model(",
                         model_path, h5 ? h5 : "model.h5");
      py_str (&b, h5 ? h5 : "model.h5");
      free (h5);
    }
  else
    {
      osh_strbuf_printf (&b, "model = keras.models.load_model(");
      py_str (&b, model_path);
    }
  osh_strbuf_printf (&b, ", compile=False)\n");
  for (int k = 1; k <= n_heads; k++)
    {
      const OshSnippetHead *h = &heads[k - 1];
      osh_strbuf_printf (&b, "\n# Head %d at %s\n", k, h->path);
      if (!tap_code (&b, g, h->path, k, err))
        {
          osh_strbuf_clear (&b);
          return NULL;
        }
      for (int i = 0; i < h->spec->n_steps; i++)
        {
          if (i == h->spec->n_steps - 1)
            osh_strbuf_printf (&b, "aux_%d = ", k);
          else
            osh_strbuf_printf (&b, "x = ");
          step_code (&b, &h->spec->steps[i], h->names[i]);
          osh_strbuf_printf (&b, "(x)\n");
        }
    }
  osh_strbuf_printf (&b, "\nedited = keras.Model(model.inputs, model.outputs + [");
  for (int k = 1; k <= n_heads; k++)
    osh_strbuf_printf (&b, "%saux_%d", k > 1 ? ", " : "", k);
  osh_strbuf_printf (&b, "], name=model.name)\nedited.summary()\nedited.save(");
  py_str (&b, save_path ? save_path : "edited.keras");
  osh_strbuf_printf (&b, ")\n");
  char *s = osh_strbuf_steal (&b);
  if (!s)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory writing the snippet");
  return s;
}
