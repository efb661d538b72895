/* Head specs (templates and chains) and attaching a head at a layer. */
#include "osh-heads.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-fixes.h"
#include "osh-layer-names.h"
#include "osh-op.h"
#include "osh-shapes.h"

/* ---- parsing ---- */

typedef struct
{
  const char *text;
  size_t pos;
  OshError *err;
} Parser;

static bool
parse_fail (Parser *p, size_t pos, const char *what)
{
  return osh_fail (p->err, OSH_ERR_USAGE, "head '%s', column %zu: %s", p->text, pos + 1, what);
}

static void
skip_spaces (Parser *p)
{
  while (p->text[p->pos] == ' ')
    p->pos++;
}

/* Reads [A-Za-z0-9_.-]+ into buf (lower-cased); false when empty or too long. */
static bool
read_word (Parser *p, char *buf, size_t size)
{
  size_t n = 0;
  skip_spaces (p);
  char c;
  while ((c = p->text[p->pos]) != '\0' && (isalnum ((unsigned char) c) || strchr ("_.-", c)))
    {
      if (n + 1 >= size)
        return false;
      buf[n++] = (char) tolower ((unsigned char) p->text[p->pos++]);
    }
  buf[n] = '\0';
  return n > 0;
}

static bool
parse_positive (Parser *p, size_t at, const char *word, int *out)
{
  char *end;
  long v = strtol (word, &end, 10);
  if (*end || v < 1 || v > 1000000)
    return parse_fail (p, at, "expected a positive whole number");
  *out = (int) v;
  return true;
}

static const struct
{
  const char *name;
  OshHeadKind kind;
} step_names[] = {
  { "conv2d", OSH_HEAD_CONV2D },
  { "conv", OSH_HEAD_CONV2D },
  { "batchnorm", OSH_HEAD_BATCHNORM },
  { "batch_normalization", OSH_HEAD_BATCHNORM },
  { "bn", OSH_HEAD_BATCHNORM },
  { "relu", OSH_HEAD_RELU },
  { "activation", OSH_HEAD_ACTIVATION },
  { "gap", OSH_HEAD_GAP },
  { "globalaveragepooling2d", OSH_HEAD_GAP },
  { "global_average_pooling2d", OSH_HEAD_GAP },
  { "dense", OSH_HEAD_DENSE },
};

static const char *activations[] = { "linear", "relu", "sigmoid", "softmax", "tanh" };

static bool
set_key (Parser *p, OshHeadStep *s, const char *key, size_t key_at, const char *value, size_t at)
{
  bool conv = s->kind == OSH_HEAD_CONV2D, dense = s->kind == OSH_HEAD_DENSE;
  if ((conv && strcmp (key, "filters") == 0) || (dense && strcmp (key, "units") == 0))
    return parse_positive (p, at, value, &s->filters);
  if (conv && strcmp (key, "kernel_size") == 0)
    return parse_positive (p, at, value, &s->kernel_size);
  if (conv && strcmp (key, "strides") == 0)
    return parse_positive (p, at, value, &s->strides);
  if (conv && strcmp (key, "padding") == 0)
    {
      if (strcmp (value, "same") != 0 && strcmp (value, "valid") != 0)
        return parse_fail (p, at, "padding is 'same' or 'valid'");
      s->same = strcmp (value, "same") == 0;
      return true;
    }
  if ((conv || dense) && strcmp (key, "use_bias") == 0)
    {
      if (strcmp (value, "true") != 0 && strcmp (value, "false") != 0)
        return parse_fail (p, at, "use_bias is true or false");
      s->use_bias = strcmp (value, "true") == 0;
      return true;
    }
  if ((conv || dense || s->kind == OSH_HEAD_ACTIVATION) && strcmp (key, "activation") == 0)
    {
      for (size_t i = 0; i < sizeof activations / sizeof *activations; i++)
        if (strcmp (value, activations[i]) == 0)
          {
            snprintf (s->activation, sizeof s->activation, "%.15s", value);
            return true;
          }
      return parse_fail (p, at, "activation is linear, relu, sigmoid, softmax or tanh");
    }
  if (s->kind == OSH_HEAD_BATCHNORM
      && (strcmp (key, "epsilon") == 0 || strcmp (key, "momentum") == 0))
    {
      char *end;
      double v = strtod (value, &end);
      if (*end || !(v > 0 && v < 1))
        return parse_fail (p, at, "expected a number between 0 and 1");
      *(strcmp (key, "epsilon") == 0 ? &s->epsilon : &s->momentum) = v;
      return true;
    }
  char what[160];
  snprintf (what, sizeof what, "%s takes no argument '%s'", osh_head_step_class (s), key);
  return parse_fail (p, key_at, what);
}

static void
step_defaults (OshHeadStep *s, OshHeadKind kind)
{
  *s = (OshHeadStep){
    .kind = kind, .strides = 1, .use_bias = true, .epsilon = 1e-3, .momentum = 0.99
  };
  snprintf (s->activation, sizeof s->activation, "linear");
}

static bool
parse_step (Parser *p, OshHeadStep *s)
{
  char word[64], value[64];
  skip_spaces (p);
  size_t at = p->pos;
  if (!read_word (p, word, sizeof word))
    return parse_fail (p, at, "expected a layer (conv2d, batchnorm, relu, activation, gap, dense)");
  size_t k = 0;
  while (k < sizeof step_names / sizeof *step_names && strcmp (step_names[k].name, word) != 0)
    k++;
  if (k == sizeof step_names / sizeof *step_names)
    {
      char what[160];
      snprintf (what, sizeof what,
                "unknown layer '%s'; expected conv2d, batchnorm, relu, activation, "
                "gap or dense",
                word);
      return parse_fail (p, at, what);
    }
  step_defaults (s, step_names[k].kind);
  s->activation[0] = s->kind == OSH_HEAD_ACTIVATION ? '\0' : s->activation[0];
  skip_spaces (p);
  if (p->text[p->pos] == '(')
    {
      p->pos++;
      skip_spaces (p);
      while (p->text[p->pos] != ')')
        {
          size_t key_at = p->pos;
          if (!read_word (p, word, sizeof word))
            return parse_fail (p, key_at, "expected name=value or ')'");
          skip_spaces (p);
          if (p->text[p->pos] != '=')
            return parse_fail (p, p->pos, "expected '=' after the argument name");
          p->pos++;
          skip_spaces (p);
          size_t value_at = p->pos;
          if (!read_word (p, value, sizeof value))
            return parse_fail (p, value_at, "expected a value");
          if (!set_key (p, s, word, key_at, value, value_at))
            return false;
          skip_spaces (p);
          if (p->text[p->pos] == ',')
            p->pos++;
          else if (p->text[p->pos] != ')')
            return parse_fail (p, p->pos, "expected ',' or ')'");
          skip_spaces (p);
        }
      p->pos++;
    }
  if ((s->kind == OSH_HEAD_CONV2D && (s->filters == 0 || s->kernel_size == 0))
      || (s->kind == OSH_HEAD_DENSE && s->filters == 0)
      || (s->kind == OSH_HEAD_ACTIVATION && !s->activation[0]))
    return parse_fail (p, at,
                       s->kind == OSH_HEAD_CONV2D  ? "conv2d needs filters= and kernel_size="
                       : s->kind == OSH_HEAD_DENSE ? "dense needs units="
                                                   : "activation needs activation=");
  return true;
}

/* "seg", "seg:F", "seg:F:K", "classifier:N"; false (no error) when `text` is not a template. */
static bool
parse_template (Parser *p, OshHeadSpec *spec, bool *is_template)
{
  char word[64];
  *is_template = false;
  size_t save = p->pos;
  if (!read_word (p, word, sizeof word)
      || (strcmp (word, "seg") != 0 && strcmp (word, "classifier") != 0))
    {
      p->pos = save;
      return true;
    }
  skip_spaces (p);
  if (p->text[p->pos] != ':' && p->text[p->pos] != '\0')
    {
      p->pos = save;
      return true;
    }
  *is_template = true;
  int nums[2] = { 128, 1 }, n = 0;
  bool seg = strcmp (word, "seg") == 0;
  while (p->text[p->pos] == ':')
    {
      p->pos++;
      size_t at = p->pos;
      char num[32];
      if (n == (seg ? 2 : 1))
        return parse_fail (p, at - 1,
                           seg ? "seg takes at most two numbers: seg:FILTERS:CLASSES"
                               : "classifier takes one number: classifier:CLASSES");
      if (!read_word (p, num, sizeof num))
        return parse_fail (p, at, "expected a positive whole number");
      if (!parse_positive (p, at, num, &nums[n]))
        return false;
      n++;
    }
  skip_spaces (p);
  if (p->text[p->pos] != '\0')
    return parse_fail (p, p->pos, "unexpected text after the template");
  if (!seg && n == 0)
    return parse_fail (p, p->pos, "classifier needs the number of classes: classifier:N");
  OshHeadStep *s = spec->steps;
  if (seg)
    {
      step_defaults (&s[0], OSH_HEAD_CONV2D);
      s[0].filters = nums[0];
      s[0].kernel_size = 3;
      s[0].same = true;
      step_defaults (&s[1], OSH_HEAD_BATCHNORM);
      step_defaults (&s[2], OSH_HEAD_RELU);
      step_defaults (&s[3], OSH_HEAD_CONV2D);
      s[3].filters = nums[1];
      s[3].kernel_size = 1;
      spec->n_steps = 4;
    }
  else
    {
      step_defaults (&s[0], OSH_HEAD_GAP);
      step_defaults (&s[1], OSH_HEAD_DENSE);
      s[1].filters = nums[0];
      snprintf (s[1].activation, sizeof s[1].activation, "softmax");
      spec->n_steps = 2;
    }
  return true;
}

bool
osh_head_parse (const char *text, OshHeadSpec *spec, OshError *err)
{
  Parser p = { text, 0, err };
  memset (spec, 0, sizeof *spec);
  bool is_template;
  if (!parse_template (&p, spec, &is_template))
    return false;
  if (is_template)
    return true;
  for (;;)
    {
      if (spec->n_steps == OSH_HEAD_MAX_STEPS)
        return parse_fail (&p, p.pos, "too many layers in one head");
      if (!parse_step (&p, &spec->steps[spec->n_steps++]))
        return false;
      skip_spaces (&p);
      if (p.text[p.pos] == '\0')
        return true;
      if (p.text[p.pos] != ',')
        return parse_fail (&p, p.pos, "expected ',' between layers");
      p.pos++;
    }
}

/* ---- configs ---- */

const char *
osh_head_step_class (const OshHeadStep *step)
{
  switch (step->kind)
    {
    case OSH_HEAD_CONV2D: return "Conv2D";
    case OSH_HEAD_BATCHNORM: return "BatchNormalization";
    case OSH_HEAD_RELU: return "ReLU";
    case OSH_HEAD_ACTIVATION: return "Activation";
    case OSH_HEAD_GAP: return "GlobalAveragePooling2D";
    case OSH_HEAD_DENSE: return "Dense";
    }
  return "?";
}

static json_t *
initializer (const char *class_name)
{
  if (strcmp (class_name, "GlorotUniform") == 0)
    return json_pack ("{s:s, s:{s:n}}", "class_name", class_name, "config", "seed");
  return json_pack ("{s:s, s:{}}", "class_name", class_name, "config");
}

/* Regularizers and constraints: all null, as Keras writes them. */
static void
set_nulls (json_t *c, const char *const *keys)
{
  for (; *keys; keys++)
    json_object_set_new (c, *keys, json_null ());
}

json_t *
osh_head_step_config (const OshHeadStep *s, const char *name, int input_rank)
{
  json_t *c = json_pack ("{s:s, s:b, s:s}", "name", name, "trainable", 1, "dtype", "float32");
  static const char *const kernel_nulls[] = { "kernel_regularizer",   "bias_regularizer",
                                              "activity_regularizer", "kernel_constraint",
                                              "bias_constraint",      NULL };
  static const char *const bn_nulls[] = { "beta_regularizer", "gamma_regularizer",
                                          "beta_constraint", "gamma_constraint", NULL };
  switch (s->kind)
    {
    case OSH_HEAD_CONV2D:
      json_object_set_new (c, "filters", json_integer (s->filters));
      json_object_set_new (c, "kernel_size", json_pack ("[i,i]", s->kernel_size, s->kernel_size));
      json_object_set_new (c, "strides", json_pack ("[i,i]", s->strides, s->strides));
      json_object_set_new (c, "padding", json_string (s->same ? "same" : "valid"));
      json_object_set_new (c, "data_format", json_string ("channels_last"));
      json_object_set_new (c, "dilation_rate", json_pack ("[i,i]", 1, 1));
      json_object_set_new (c, "groups", json_integer (1));
      __attribute__ ((fallthrough)); /* the rest is shared with Dense */
    case OSH_HEAD_DENSE:
      if (s->kind == OSH_HEAD_DENSE)
        json_object_set_new (c, "units", json_integer (s->filters));
      json_object_set_new (c, "activation", json_string (s->activation));
      json_object_set_new (c, "use_bias", json_boolean (s->use_bias));
      json_object_set_new (c, "kernel_initializer", initializer ("GlorotUniform"));
      json_object_set_new (c, "bias_initializer", initializer ("Zeros"));
      set_nulls (c, kernel_nulls);
      break;
    case OSH_HEAD_BATCHNORM:
      json_object_set_new (c, "axis", json_pack ("[i]", input_rank > 0 ? input_rank - 1 : -1));
      json_object_set_new (c, "momentum", json_real (s->momentum));
      json_object_set_new (c, "epsilon", json_real (s->epsilon));
      json_object_set_new (c, "center", json_true ());
      json_object_set_new (c, "scale", json_true ());
      json_object_set_new (c, "beta_initializer", initializer ("Zeros"));
      json_object_set_new (c, "gamma_initializer", initializer ("Ones"));
      json_object_set_new (c, "moving_mean_initializer", initializer ("Zeros"));
      json_object_set_new (c, "moving_variance_initializer", initializer ("Ones"));
      set_nulls (c, bn_nulls);
      break;
    case OSH_HEAD_RELU:
      json_object_set_new (c, "max_value", json_null ());
      json_object_set_new (c, "negative_slope", json_real (0.0));
      json_object_set_new (c, "threshold", json_real (0.0));
      break;
    case OSH_HEAD_ACTIVATION:
      json_object_set_new (c, "activation", json_string (s->activation));
      break;
    case OSH_HEAD_GAP:
      json_object_set_new (c, "data_format", json_string ("channels_last"));
      json_object_set_new (c, "keepdims", json_false ());
      break;
    }
  return c;
}

/* ---- shapes and weights ---- */

static bool
head_step_shape (const OshHeadStep *s, const char *name, const OshShape *in, OshShape *out,
                 OshError *err)
{
  char text[128];
  osh_shape_format (in, text, sizeof text);
  *out = *in;
  switch (s->kind)
    {
    case OSH_HEAD_CONV2D:
      if (in->rank != 4)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "head layer '%s' (Conv2D) needs a 4-D input "
                         "(batch, height, width, channels), got %s",
                         name, text);
      for (int d = 1; d <= 2; d++)
        {
          int64_t size = in->dim[d];
          if (size < 0)
            continue;
          out->dim[d] = osh_op_window_out (size, s->kernel_size, s->strides, 1, s->same);
          if (out->dim[d] == 0)
            return osh_fail (err, OSH_ERR_SHAPE,
                             "head layer '%s' (Conv2D %dx%d, valid padding) does "
                             "not fit its input %s",
                             name, s->kernel_size, s->kernel_size, text);
        }
      out->dim[3] = s->filters;
      return true;
    case OSH_HEAD_BATCHNORM:
    case OSH_HEAD_RELU:
    case OSH_HEAD_ACTIVATION:
      if (in->rank < 2)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "head layer '%s' (%s) needs an input with channels, got %s", name,
                         osh_head_step_class (s), text);
      return true;
    case OSH_HEAD_GAP:
      if (in->rank != 4)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "head layer '%s' (GlobalAveragePooling2D) needs a 4-D "
                         "input, got %s",
                         name, text);
      *out = osh_shape_make (2, (int64_t[]){ in->dim[0], in->dim[3] });
      return true;
    case OSH_HEAD_DENSE:
      if (in->rank < 2)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "head layer '%s' (Dense) needs an input of rank 2 or more, "
                         "got %s",
                         name, text);
      out->dim[in->rank - 1] = s->filters;
      return true;
    }
  return osh_fail (err, OSH_ERR_USAGE, "head layer '%s': unknown kind", name);
}

/* splitmix64: a fixed, platform-independent stream, so a head's weights are reproducible. */
static uint64_t
next_random (uint64_t *state)
{
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static void
head_fill (float *data, int64_t n, const char *layer_name, float fill, double glorot_limit)
{
  uint64_t state = 0x0ff5400700d5eedu;
  for (const char *c = layer_name; *c; c++)
    state = (state ^ (unsigned char) *c) * 0x100000001b3u;
  for (int64_t i = 0; i < n; i++)
    data[i] =
        glorot_limit > 0
            ? (float) ((2.0 * (double) (next_random (&state) >> 11) / 9007199254740992.0 - 1.0)
                       * glorot_limit)
            : fill;
}

static bool
add_weight (OshGraph *g, int layer, const char *what, OshShape shape, float fill,
            double glorot_limit, bool trainable, OshError *err)
{
  OshTensor *t = osh_tensor_new (&shape, err);
  if (!t)
    return false;
  head_fill (t->data, osh_tensor_numel (t), g->layers[layer].name, fill, glorot_limit);
  char name[300];
  snprintf (name, sizeof name, "%s/%s:0", g->layers[layer].name, what);
  return osh_layer_add_weight (g, layer, name, t, trainable, err);
}

static double
head_glorot_limit (const OshHeadStep *s, int64_t cin)
{
  int64_t k = s->kind == OSH_HEAD_CONV2D ? s->kernel_size : 1;
  return sqrt (6.0 / (double) (k * k * cin + k * k * s->filters));
}

static bool
add_step_weights (OshGraph *g, int layer, const OshHeadStep *s, const OshShape *in, OshError *err)
{
  int64_t cin = in->dim[in->rank - 1];
  if (cin < 1 && s->kind != OSH_HEAD_RELU && s->kind != OSH_HEAD_ACTIVATION
      && s->kind != OSH_HEAD_GAP)
    return osh_fail (err, OSH_ERR_SHAPE, "head layer '%s': the input's channel count is unknown",
                     g->layers[layer].name);
  OshShape vec =
      osh_shape_make (1, (int64_t[]){ s->kind == OSH_HEAD_BATCHNORM ? cin : s->filters });
  switch (s->kind)
    {
    case OSH_HEAD_CONV2D:
    case OSH_HEAD_DENSE:
      {
        int64_t k = s->kind == OSH_HEAD_CONV2D ? s->kernel_size : 1;
        OshShape ks = s->kind == OSH_HEAD_CONV2D
                          ? osh_shape_make (4, (int64_t[]){ k, k, cin, s->filters })
                          : osh_shape_make (2, (int64_t[]){ cin, s->filters });
        double limit = head_glorot_limit (s, cin);
        return add_weight (g, layer, "kernel", ks, 0, limit, true, err)
               && (!s->use_bias || add_weight (g, layer, "bias", vec, 0.0f, 0, true, err));
      }
    case OSH_HEAD_BATCHNORM:
      return add_weight (g, layer, "gamma", vec, 1.0f, 0, true, err)
             && add_weight (g, layer, "beta", vec, 0.0f, 0, true, err)
             && add_weight (g, layer, "moving_mean", vec, 0.0f, 0, false, err)
             && add_weight (g, layer, "moving_variance", vec, 1.0f, 0, false, err);
    default: return true;
    }
}

/* "aux_head_conv", or with _1, _2... when the top level or this head already has it. */
static char *
head_name (const OshGraph *g, const OshHeadStep *s, bool last, char **taken, int n_taken)
{
  static const char *const bases[] = {
    [OSH_HEAD_CONV2D] = "conv",    [OSH_HEAD_BATCHNORM] = "bn", [OSH_HEAD_RELU] = "relu",
    [OSH_HEAD_ACTIVATION] = "act", [OSH_HEAD_GAP] = "pool",     [OSH_HEAD_DENSE] = "dense"
  };
  char name[64];
  for (int k = 0;; k++)
    {
      const char *base = last ? "out" : bases[s->kind];
      if (k == 0)
        snprintf (name, sizeof name, "aux_head_%s", base);
      else
        snprintf (name, sizeof name, "aux_head_%s_%d", base, k);
      bool used = osh_graph_find_layer (g, -1, name) >= 0;
      for (int i = 0; i < n_taken && !used; i++)
        used = strcmp (taken[i], name) == 0;
      if (!used)
        return strdup (name);
    }
}

/* Step `s` as a Keras layer of `g` (its class, config and seeded weights); -1 on failure. */
static int
add_step_layer (OshGraph *g, const OshHeadStep *s, const char *name, const OshShape *in,
                OshError *err)
{
  int l = osh_graph_add_layer (g, -1, name, osh_head_step_class (s),
                               osh_head_step_config (s, name, in->rank), err);
  return l >= 0 && add_step_weights (g, l, s, in, err) ? l : -1;
}

/* Step `s` in a dialect that lowers Keras layers (d->lower_keras_layer): made as a Keras layer
 * in a scratch graph, then lowered into `w` on *x. */
static bool
lower_step (OshGraph *w, const OshDialect *d, const OshHeadStep *s, const char *name,
            const OshShape *in, const OshShape *out, OshRef *x, OshError *err)
{
  OshGraph *scratch = osh_graph_new ();
  if (!scratch)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  int l = add_step_layer (scratch, s, name, in, err);
  bool ok = l >= 0 && d->lower_keras_layer (w, &scratch->layers[l], in, out, x, err);
  osh_graph_free (scratch);
  return ok;
}

/* Adds the head's layers, nodes and output to `w`, which the caller owns. */
static bool
build_head (OshGraph *w, OshRef at, const OshHeadSpec *spec, char **names, OshError *err)
{
  OshShape shapes[OSH_HEAD_MAX_STEPS + 1];
  const OshDialect *d = osh_dialect_of (w);
  bool first = w->layout == OSH_LAYOUT_CHANNELS_FIRST;
  shapes[0] = w->nodes[at.node].shapes[at.index];
  /* The steps reason in channels-last terms; an NCHW tensor is checked with its channels last. */
  if (first && shapes[0].rank >= 3)
    {
      int64_t c = shapes[0].dim[1];
      memmove (&shapes[0].dim[1], &shapes[0].dim[2],
               (size_t) (shapes[0].rank - 2) * sizeof (int64_t));
      shapes[0].dim[shapes[0].rank - 1] = c;
    }
  for (int i = 0; i < spec->n_steps; i++)
    {
      names[i] = head_name (w, &spec->steps[i], i == spec->n_steps - 1, names, i);
      if (!names[i])
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      if (!head_step_shape (&spec->steps[i], names[i], &shapes[i], &shapes[i + 1], err))
        return false;
    }
  /* Everything fits: now build. */
  OshRef x = at;
  for (int i = 0; i < spec->n_steps; i++)
    {
      const OshHeadStep *s = &spec->steps[i];
      if (d->lower_keras_layer)
        {
          if (!lower_step (w, d, s, names[i], &shapes[i], &shapes[i + 1], &x, err))
            return false;
          continue;
        }
      int l = add_step_layer (w, s, names[i], &shapes[i], err);
      if (l < 0)
        return false;
      int n = osh_graph_add_node (w, l, &x, 1, 1, err);
      if (n < 0)
        return false;
      if (!(w->nodes[n].shapes = malloc (sizeof (OshShape))))
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      w->nodes[n].shapes[0] = shapes[i + 1];
      x = (OshRef){ n, 0 };
    }
  OshRef *outs = malloc (((size_t) w->n_outputs + 1) * sizeof *outs);
  if (!outs)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  memcpy (outs, w->outputs, (size_t) w->n_outputs * sizeof *outs);
  outs[w->n_outputs] = x;
  bool ok = osh_graph_set_io (w, -1, w->inputs, w->n_inputs, outs, w->n_outputs + 1, err);
  free (outs);
  return ok;
}

/* Head layers are listed in g->meta (OSH_META_HEADS), which the Keras writers save in the model
 * config, so a saved model still shows which layers were attached. */
static void
mark_head_layer (OshGraph *g, const char *name)
{
  json_t *list = json_object_get (g->meta, OSH_META_HEADS);
  if (!json_is_array (list))
    json_object_set_new (g->meta, OSH_META_HEADS, list = json_array ());
  json_array_append_new (list, json_string (name));
}

bool
osh_graph_layer_is_head (const OshGraph *g, int layer)
{
  const json_t *list = json_object_get (g->meta, OSH_META_HEADS);
  if (json_array_size (list) == 0)
    return false;
  char *path = osh_graph_layer_path (g, layer);
  size_t i;
  const json_t *v;
  bool found = false;
  /* ONNX spells a head layer as nodes under its name ("aux_head_bn/BatchNormalization_152"). */
  json_array_foreach (list, i, v)
    {
      const char *head = json_string_value (v);
      size_t n = head ? strlen (head) : 0;
      found |= path && head && strncmp (head, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
    }
  free (path);
  return found;
}

OshGraph *
osh_head_attach (const OshGraph *g, const char *path, const OshHeadSpec *spec, OshAttachMode mode,
                 char **names, OshError *err)
{
  const char *asked = path;
  const OshDialect *d = osh_dialect_of (g);
  /* Names are paths only where the dialect nests models: ONNX node names often hold '/'
   * ("/layer2/layer2.1/relu_1/Relu"). */
  OshRef tensor = osh_dialect_find_tensor (g, path);
  int layer = d->nested_paths ? osh_graph_find_path (g, path) : -1;
  /* An earlier connected-mode edit may have flattened the models this path goes through. */
  for (const char *p = path;
       layer < 0 && mode == OSH_ATTACH_CONNECTED && d->nested_paths && (p = strchr (p, '/'));)
    layer = osh_graph_find_path (g, path = ++p);
  if (layer < 0 && tensor.node >= 0)
    layer = g->nodes[tensor.node].layer;
  if (layer < 0)
    {
      osh_fail_no_layer (g, asked, err);
      return NULL;
    }
  if (spec->n_steps < 1 || spec->n_steps > OSH_HEAD_MAX_STEPS)
    {
      osh_fail (err, OSH_ERR_USAGE, "a head needs 1 to %d layers", OSH_HEAD_MAX_STEPS);
      return NULL;
    }
  if (g->layout == OSH_LAYOUT_CHANNELS_FIRST && !d->lower_keras_layer)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED, "heads on channels-first %s graphs are not supported yet",
                d->title);
      return NULL;
    }
  bool flatten = mode == OSH_ATTACH_CONNECTED && g->layers[layer].owner >= 0;
  int at_layer = layer;
  OshGraph *w = flatten ? osh_graph_flatten_around_layer (g, layer, &at_layer, err)
                        : osh_graph_copy_sharing (g, err);
  if (!w)
    {
      osh_error_prefix (err, "attaching a head at '%s': ", asked);
      return NULL;
    }
  int node = at_layer >= 0 ? osh_graph_layer_first_node (w, at_layer) : -1;
  char *made[OSH_HEAD_MAX_STEPS] = { 0 };
  bool ok = node >= 0;
  if (!ok)
    osh_fail (err, OSH_ERR_USAGE, "layer '%s' is never called, so it has no output to attach to",
              path);
  if (ok && (!w->nodes[node].shapes || w->nodes[node].shapes[0].rank == 0))
    ok = osh_graph_infer_shapes (w, err);
  if (ok && w->nodes[node].shapes[0].rank == 0)
    ok = osh_fail (err, OSH_ERR_SHAPE,
                   "the output shape of '%s' is unknown, so the head cannot be "
                   "sized",
                   path);
  /* Keras's transfer-learning convention: the model the head is put on is frozen (trainable
   * false, so `offshoot fit` and Keras's fit train only the head); the head trains, and so do
   * heads attached before it (they are not the model's own layers). */
  for (int i = 0; ok && i < w->n_layers; i++)
    if (!osh_graph_layer_is_head (w, i))
      w->layers[i].trainable = false;
  ok = ok && build_head (w, (OshRef){ node, tensor.node >= 0 ? tensor.index : 0 }, spec, made, err);
  /* The whole edited graph must still infer: this is the check a writer relies on. */
  ok = ok && osh_graph_infer_shapes (w, err);
  for (int i = 0; ok && i < spec->n_steps; i++)
    mark_head_layer (w, made[i]);
  for (int i = 0; i < spec->n_steps; i++)
    {
      if (ok && names)
        names[i] = made[i];
      else
        free (made[i]);
    }
  if (!ok)
    {
      osh_error_prefix (err, "attaching a head at '%s': ", path);
      osh_graph_free (w);
      return NULL;
    }
  return w;
}
