/* The Keras snippet for an attach edit (see osh-snippet.h). */
#include "osh-snippet.h"

#include <stdlib.h>
#include <string.h>

#include "osh-connectivity.h"
#include "osh-op.h"
#include "osh-strbuf.h"

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
    case OSH_HEAD_ACTIVATION: osh_strbuf_printf (b, "\"%s\", ", s->activation); break;
    case OSH_HEAD_RELU:
    case OSH_HEAD_GAP: break;
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
  osh_strbuf_printf (b, ")\ntap_%d = keras.Model(inner.inputs, inner.get_layer(", k);
  py_str (b, g->layers[layer].name);
  osh_strbuf_printf (b, ").output, name=\"%s_tap_%d\")\nx = tap_%d(", g->layers[owner].name, k, k);
  if (!feed_code (b, g, call, err))
    return false;
  osh_strbuf_printf (b, ")\n");
  return true;
}

/* ---- rebuilding from a nested instance's own input (the StackOverflow answer) ---- */

typedef struct
{
  const OshGraph *g;
  int model; /* the nested model the heads read from */
  int call;  /* its one call */
} Replay;

/* A Python name for node `n`'s result: y_<layer>, with the call number for shared layers. */
static void
var_name (OshStrbuf *b, const OshGraph *g, int n)
{
  const OshLayer *l = &g->layers[g->nodes[n].layer];
  osh_strbuf_printf (b, "y_");
  for (const char *c = l->name; *c; c++)
    osh_strbuf_printf (
        b, "%c",
        (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ? *c
                                                                                         : '_');
  int k = 0, calls = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].layer == g->nodes[n].layer)
      {
        k += i < n;
        calls++;
      }
  if (calls > 1)
    osh_strbuf_printf (b, "_%d", k);
}

static bool
tensor_expr (OshStrbuf *b, const Replay *r, OshRef t, OshError *err)
{
  const OshGraph *g = r->g;
  if (t.node == r->call)
    {
      /* inputs/outputs, not input/output: the model is called too, so it has two nodes */
      osh_strbuf_printf (b, "inner.outputs[%d]", t.index);
      return true;
    }
  if (t.node == g->inputs[0].node && t.index == g->inputs[0].index)
    {
      osh_strbuf_printf (b, "inner.inputs[0]"); /* the same values the outer input carried */
      return true;
    }
  const OshLayer *l = &g->layers[g->nodes[t.node].layer];
  if (l->owner >= 0 || strcmp (l->class_name, "InputLayer") == 0)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "snippet: layer '%s' is not computed from the model's "
                     "input",
                     l->name);
  var_name (b, g, t.node);
  if (g->nodes[t.node].n_outputs > 1)
    osh_strbuf_printf (b, "[%d]", t.index);
  return true;
}

/* True when the heads can be written as the StackOverflow answer: every nested head sits in
 * the same model, called once on the model's only input. */
static bool
replay_fits (const OshGraph *g, const OshSnippetHead *heads, int n_heads, Replay *r)
{
  *r = (Replay){ g, -1, -1 };
  for (int k = 0; k < n_heads; k++)
    {
      int layer = osh_graph_find_path (g, heads[k].path);
      if (layer < 0 || g->layers[layer].owner < 0)
        continue;
      if (osh_graph_layer_depth (g, layer) != 1
          || (r->model >= 0 && r->model != g->layers[layer].owner))
        return false;
      r->model = g->layers[layer].owner;
    }
  if (r->model < 0 || g->n_inputs != 1)
    return false;
  int calls = 0;
  for (int n = 0; n < g->n_nodes; n++)
    if (g->nodes[n].layer == r->model && calls++ == 0)
      r->call = n;
  const OshNode *c = calls == 1 ? &g->nodes[r->call] : NULL;
  return c && c->n_inputs == 1 && c->inputs[0].node == g->inputs[0].node
         && c->inputs[0].index == g->inputs[0].index;
}

/* The outer layers again, called on the instance's output, in graph order. */
static bool
replay_code (OshStrbuf *b, const Replay *r, OshError *err)
{
  const OshGraph *g = r->g;
  bool *used = calloc ((size_t) g->n_nodes + 1, sizeof *used);
  if (!used || !osh_graph_mark_used (g, g->outputs, g->n_outputs, used))
    {
      free (used);
      return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
    }
  osh_strbuf_printf (b, "inner = model.get_layer(");
  py_str (b, g->layers[r->model].name);
  osh_strbuf_printf (b, ")\n");
  bool ok = true;
  for (int n = 0; ok && n < g->n_nodes; n++)
    {
      const OshNode *node = &g->nodes[n];
      const OshLayer *l = &g->layers[node->layer];
      if (!used[n] || n == r->call || l->owner >= 0 || strcmp (l->class_name, "InputLayer") == 0)
        continue;
      var_name (b, g, n);
      osh_strbuf_printf (b, " = model.get_layer(");
      py_str (b, l->name);
      osh_strbuf_printf (b, ")(%s", node->n_inputs == 1 ? "" : "[");
      for (int i = 0; ok && i < node->n_inputs; i++)
        {
          osh_strbuf_printf (b, "%s", i ? ", " : "");
          ok = tensor_expr (b, r, node->inputs[i], err);
        }
      osh_strbuf_printf (b, "%s)\n", node->n_inputs == 1 ? "" : "]");
    }
  free (used);
  return ok;
}

char *
osh_snippet_python (const OshGraph *g, const OshSnippetHead *heads, int n_heads,
                    const char *model_path, const char *save_path, OshError *err)
{
  const OshDialect *d = osh_dialect_of (g);
  if (!d->keras_writable)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED,
                "%s is an %s graph: there is no Keras code that edits it, so no snippet is "
                "written (save the edited model as %s instead)",
                model_path, d->title, d->own_format ? d->own_format : "its own format");
      return NULL;
    }
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
  osh_strbuf_printf (&b,
                     ", compile=False)\n"
                     "model.trainable = False  # frozen, as Offshoot saves it: the heads train\n");
  Replay r;
  bool replay = replay_fits (g, heads, n_heads, &r);
  if (replay)
    {
      osh_strbuf_printf (
          &b,
          "\n# The heads read layers inside the nested model '%s'. Taking them from a\n"
          "# second copy of it, or keeping the outer model's input, gives \"Graph\n"
          "# disconnected\". As in the StackOverflow answer, build the new model from\n"
          "# that SAME instance's own input: its layers, then the outer layers again\n"
          "# on its output (same layer objects, same weights).\n",
          g->layers[r.model].name);
      if (!replay_code (&b, &r, err))
        {
          osh_strbuf_clear (&b);
          return NULL;
        }
    }
  for (int k = 1; k <= n_heads; k++)
    {
      const OshSnippetHead *h = &heads[k - 1];
      osh_strbuf_printf (&b, "\n# Head %d at %s\n", k, h->path);
      int layer = osh_graph_find_path (g, h->path);
      bool ok;
      if (replay && layer >= 0 && g->layers[layer].owner >= 0)
        {
          osh_strbuf_printf (&b, "x = inner.get_layer(");
          py_str (&b, g->layers[layer].name);
          osh_strbuf_printf (&b, ").output\n");
          ok = true;
        }
      else if (replay && layer >= 0)
        {
          osh_strbuf_printf (&b, "x = ");
          int node = osh_graph_layer_first_node (g, layer);
          ok = node >= 0 && tensor_expr (&b, &r, (OshRef){ node, 0 }, err);
          osh_strbuf_printf (&b, "\n");
        }
      else
        ok = tap_code (&b, g, h->path, k, err);
      if (!ok)
        {
          if (!err || err->code == OSH_OK)
            osh_fail (err, OSH_ERR_UNSUPPORTED, "snippet: layer '%s' is never called", h->path);
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
  if (replay)
    {
      osh_strbuf_printf (&b, "\nedited = keras.Model(inner.inputs, [");
      for (int o = 0; o < g->n_outputs; o++)
        {
          tensor_expr (&b, &r, g->outputs[o], NULL);
          osh_strbuf_printf (&b, ", ");
        }
    }
  else
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
