/* Weight and layer names as each format's writer wants them (osh-write-names.h). */
#include "osh-write-names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keras's weight order per layer class; a layer may have fewer (use_bias=False). */
typedef struct
{
  const char *class_name;
  const char *roles[4];
} RoleTable;

static const RoleTable role_tables[] = {
  { "Conv1D", { "kernel", "bias" } },
  { "Conv2D", { "kernel", "bias" } },
  { "Conv3D", { "kernel", "bias" } },
  { "Conv1DTranspose", { "kernel", "bias" } },
  { "Conv2DTranspose", { "kernel", "bias" } },
  { "Conv3DTranspose", { "kernel", "bias" } },
  { "Dense", { "kernel", "bias" } },
  { "DepthwiseConv2D", { "depthwise_kernel", "bias" } },
  { "SeparableConv1D", { "depthwise_kernel", "pointwise_kernel", "bias" } },
  { "SeparableConv2D", { "depthwise_kernel", "pointwise_kernel", "bias" } },
  { "LayerNormalization", { "gamma", "beta" } },
  { "Embedding", { "embeddings" } },
  { "PReLU", { "alpha" } },
  { "SimpleRNN", { "kernel", "recurrent_kernel", "bias" } },
  { "LSTM", { "kernel", "recurrent_kernel", "bias" } },
  { "GRU", { "kernel", "recurrent_kernel", "bias" } },
};

/* BatchNormalization drops gamma without `scale` and beta without `center`. */
static const char *
batchnorm_role (const json_t *config, int index)
{
  const char *all[4] = { "gamma", "beta", "moving_mean", "moving_variance" };
  const char *present[4];
  int n = 0;
  if (osh_config_bool (config, "scale", true))
    present[n++] = all[0];
  if (osh_config_bool (config, "center", true))
    present[n++] = all[1];
  present[n++] = all[2];
  present[n++] = all[3];
  return index < n ? present[index] : NULL;
}

static const char *
table_role (const OshLayer *l, int index)
{
  if (strcmp (l->class_name, "BatchNormalization") == 0)
    return batchnorm_role (l->config, index);
  for (size_t i = 0; i < sizeof role_tables / sizeof role_tables[0]; i++)
    if (strcmp (l->class_name, role_tables[i].class_name) == 0)
      return index < 4 ? role_tables[i].roles[index] : NULL;
  return NULL;
}

void
osh_weight_role (const OshGraph *g, int layer, int index, char *buf, size_t size)
{
  const OshLayer *l = &g->layers[layer];
  const char *role = table_role (l, index);
  if (role)
    {
      snprintf (buf, size, "%s", role);
      return;
    }
  /* Unknown class: the stored name without its layer part and ":0"
   * ("bidirectional_1/forward_lstm_1/kernel:0" -> "forward_lstm_1/kernel"), unless that is a
   * bare index as in Keras 3's "vars/0". */
  const char *stored = l->weights[index].name ? l->weights[index].name : "";
  const char *slash = strchr (stored, '/');
  const char *rest = slash && slash[1] ? slash + 1 : stored;
  size_t n = strcspn (rest, ":");
  bool numeric = n > 0 && strspn (rest, "0123456789") >= n;
  if (n == 0 || numeric)
    snprintf (buf, size, "weight_%d", index);
  else
    snprintf (buf, size, "%.*s", (int) n, rest);
}

/* True when every "/"-separated part is a usable HDF5 link name. */
static bool
valid_h5_path (const char *s)
{
  if (!*s || *s == '/')
    return false;
  const char *p = s;
  while (*p)
    {
      size_t n = strcspn (p, "/");
      if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return false;
      p += n;
      if (*p == '/')
        p++;
      else
        break;
    }
  return s[strlen (s) - 1] != '/';
}

static char *
printf_dup (const char *fmt, const char *a, const char *b)
{
  size_t n = strlen (a) + strlen (b) + 8;
  char *s = malloc (n);
  if (s)
    snprintf (s, n, fmt, a, b);
  return s;
}

char *
osh_weight_h5_name (const OshGraph *g, int layer, int index)
{
  const OshLayer *l = &g->layers[layer];
  const char *stored = l->weights[index].name;
  /* Keras 2 names end in ":N"; Keras 3 ("vars/0") and TF.js names do not. */
  if (stored && strchr (stored, ':') && valid_h5_path (stored))
    return strdup (stored);
  char role[128];
  osh_weight_role (g, layer, index, role, sizeof role);
  return printf_dup ("%s/%s:0", l->name, role);
}

char *
osh_weight_tfjs_name (const OshGraph *g, int layer, int index)
{
  char role[128];
  osh_weight_role (g, layer, index, role, sizeof role);
  return printf_dup ("%s/%s", g->layers[layer].name, role);
}

void
osh_keras3_var_name (int index, char *buf, size_t size)
{
  snprintf (buf, size, "vars/%d", index);
}

/* Emulates Keras's to_snake_case: drop non-word characters, split "xAbc" and "aB", lower. */
void
osh_keras3_snake_case (const char *class_name, char *buf, size_t size)
{
  size_t len = strlen (class_name);
  char *word = malloc (len + 1), *step = malloc (2 * len + 1), *out = malloc (4 * len + 1);
  if (!word || !step || !out)
    {
      snprintf (buf, size, "layer");
      free (word), free (step), free (out);
      return;
    }
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (isalnum ((unsigned char) class_name[i]) || class_name[i] == '_')
      word[n++] = class_name[i];
  word[n] = '\0';

  /* re.sub("(.)([A-Z][a-z]+)", r"\1_\2"): matches do not overlap. */
  size_t m = 0;
  for (size_t i = 0; i < n;)
    {
      if (i + 2 < n && isupper ((unsigned char) word[i + 1])
          && islower ((unsigned char) word[i + 2]))
        {
          size_t end = i + 2;
          while (end < n && islower ((unsigned char) word[end]))
            end++;
          step[m++] = word[i];
          step[m++] = '_';
          memcpy (step + m, word + i + 1, end - i - 1);
          m += end - i - 1;
          i = end;
        }
      else
        step[m++] = word[i++];
    }
  step[m] = '\0';

  /* re.sub("([a-z])([A-Z])", r"\1_\2"), then lower(). */
  size_t k = 0;
  for (size_t i = 0; i < m;)
    {
      if (i + 1 < m && islower ((unsigned char) step[i]) && isupper ((unsigned char) step[i + 1]))
        {
          out[k++] = step[i];
          out[k++] = '_';
          out[k++] = (char) tolower ((unsigned char) step[i + 1]);
          i += 2;
        }
      else
        out[k++] = (char) tolower ((unsigned char) step[i++]);
    }
  out[k] = '\0';
  snprintf (buf, size, "%s", out);
  free (word), free (step), free (out);
}

struct OshKeras3Seen
{
  char key[128];
  int count;
};

bool
osh_keras3_keys_init (OshKeras3Keys *k, int capacity)
{
  k->n = 0;
  k->cap = capacity > 0 ? capacity : 1;
  k->seen = calloc ((size_t) k->cap, sizeof *k->seen);
  return k->seen != NULL;
}

void
osh_keras3_key (OshKeras3Keys *k, const char *python_class, char *buf, size_t size)
{
  char snake[128];
  osh_keras3_snake_case (python_class, snake, sizeof snake);
  int i = 0;
  while (i < k->n && strcmp (k->seen[i].key, snake) != 0)
    i++;
  if (i < k->n)
    snprintf (buf, size, "%s_%d", snake, ++k->seen[i].count);
  else
    {
      if (k->n < k->cap)
        snprintf (k->seen[k->n++].key, sizeof k->seen[0].key, "%s", snake);
      snprintf (buf, size, "%s", snake);
    }
}

void
osh_keras3_keys_clear (OshKeras3Keys *k)
{
  free (k->seen);
  k->seen = NULL;
  k->n = k->cap = 0;
}
