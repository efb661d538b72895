/* offshoot zoo — write an untrained keras.applications architecture (engine/zoo/osh-zoo.h).
 *
 *   offshoot zoo --list
 *   offshoot zoo EfficientNetB7 --no-top -o b7.keras
 *   offshoot zoo ResNet50 --input-shape 128,128,3 --classes 4 --json    (summary, nothing written)
 */
#include <glib.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "osh-model.h"
#include "osh-zoo.h"

static int
list (bool json)
{
  json_t *names = json_array ();
  for (const char *const *n = osh_zoo_names (); *n; n++)
    {
      if (json)
        json_array_append_new (names, json_string (*n));
      else
        {
          OshZooOptions o;
          osh_zoo_options_init (&o, *n);
          printf ("%-16s %" PRId64 "x%" PRId64 "x%" PRId64 "\n", *n, o.height, o.width, o.channels);
        }
    }
  if (json)
    {
      char *text = json_dumps (names, JSON_COMPACT);
      printf ("{\"architectures\":%s}\n", text ? text : "[]");
      free (text);
    }
  json_decref (names);
  return OSH_EXIT_OK;
}

/* "H,W,C" with every part a positive integer. */
static bool
parse_shape (const char *text, OshZooOptions *o)
{
  int64_t v[3];
  if (osh_cli_parse_sizes (text, v, 3) != 3)
    return false;
  o->height = v[0], o->width = v[1], o->channels = v[2];
  return true;
}

/* "25,636,712" */
static char *
grouped (int64_t n)
{
  char digits[32], out[48];
  int len = snprintf (digits, sizeof digits, "%" PRId64, n), k = 0;
  for (int i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        out[k++] = ',';
      out[k++] = digits[i];
    }
  out[k] = '\0';
  return g_strdup (out);
}

int
osh_cmd_zoo (int argc, char **argv)
{
  const char *cmd = argv[0], *name = NULL, *out = NULL, *shape = NULL;
  bool json = false, want_list = false;
  int top = -1;
  int64_t classes = -1, seed = -1;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      bool has_value = i + 1 < argc;
      if (strcmp (a, "--list") == 0)
        want_list = true;
      else if (strcmp (a, "--json") == 0)
        json = true;
      else if (strcmp (a, "--no-top") == 0)
        top = 0;
      else if (strcmp (a, "--include-top") == 0)
        top = 1;
      else if (strcmp (a, "-o") == 0 && has_value)
        out = argv[++i];
      else if (strcmp (a, "--input-shape") == 0 && has_value)
        shape = argv[++i];
      else if ((strcmp (a, "--classes") == 0 || strcmp (a, "--seed") == 0) && has_value)
        {
          char *end = NULL;
          int64_t v = g_ascii_strtoll (argv[i + 1], &end, 10);
          if (!end || *end || v < (a[2] == 's' ? 0 : 1))
            return osh_cli_bad_value (cmd, a, argv[i + 1],
                                      a[2] == 's' ? "an integer from 0" : "an integer from 1");
          *(a[2] == 's' ? &seed : &classes) = v;
          i++;
        }
      else if (a[0] == '-')
        return osh_cli_usage_error (cmd, "unknown option '%s' (or it needs a value)", a);
      else if (!name)
        name = a;
      else
        return osh_cli_usage_error (cmd, "one architecture at a time ('%s' and '%s')", name, a);
    }
  if (want_list)
    return list (json);
  if (!name)
    return osh_cli_usage_error (cmd, "which architecture? (offshoot zoo --list)");

  OshZooOptions o;
  if (!osh_zoo_options_init (&o, name))
    return osh_cli_usage_error (cmd, "no architecture called '%s' (offshoot zoo --list)", name);
  if (top >= 0)
    o.include_top = top;
  if (classes > 0)
    o.classes = classes;
  if (seed >= 0)
    o.seed = (uint64_t) seed;
  if (shape && !parse_shape (shape, &o))
    return osh_cli_bad_value (cmd, "--input-shape", shape, "H,W,C (e.g. 224,224,3)");

  for (const char *const *n = osh_zoo_names (); *n; n++)
    if (g_ascii_strcasecmp (*n, name) == 0)
      name = *n; /* the canonical spelling, for the output */
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build (name, &o, &err);
  if (!g)
    return osh_cli_report (cmd, &err);
  if (out && !osh_model_save (g, out, &err))
    {
      osh_graph_free (g);
      return osh_cli_report (cmd, &err);
    }
  int64_t trainable = 0, total = osh_graph_total_params (g, &trainable);
  if (json)
    {
      json_t *doc =
          json_pack ("{s:s, s:s, s:b, s:[n, I, I, I], s:I, s:I, s:I, s:i, s:o}", "architecture",
                     name, "model_name", g->name, "include_top", o.include_top, "input_shape",
                     (json_int_t) o.height, (json_int_t) o.width, (json_int_t) o.channels,
                     "classes", (json_int_t) (o.include_top ? o.classes : 0), "total_params",
                     (json_int_t) total, "trainable_params", (json_int_t) trainable, "layers",
                     g->n_layers, "output", out ? json_string (out) : json_null ());
      char *text = doc ? json_dumps (doc, JSON_COMPACT) : NULL;
      printf ("%s\n", text ? text : "{}");
      free (text);
      json_decref (doc);
    }
  else
    {
      char *t = grouped (total), *tr = grouped (trainable);
      /* One line: what was built, and where it went. */
      printf ("%s%s%s%s (%s): %d layers, %s parameters (%s trainable), input (None, %" PRId64
              ", %" PRId64 ", %" PRId64 ")%s\n",
              out ? "Wrote " : "", out ? out : "", out ? ": " : "", name, g->name, g->n_layers, t,
              tr, o.height, o.width, o.channels, o.include_top ? "" : ", no top");
      g_free (t);
      g_free (tr);
    }
  osh_graph_free (g);
  return OSH_EXIT_OK;
}
