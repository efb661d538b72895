/* bench-json — osh_json_parse against jansson's json_loadb on the same text in the same run. A
 * benchmark, not a test:
 *
 *   meson test -C build --benchmark --suite readers -v     (EfficientNetB7's Keras 3 config,
 *                                                            written by our own writer)
 *   build/tests/readers/bench-json config.json model.json   (any documents)
 *
 * For each document: the best of N parses (N so that each side runs ~1 s), MB/s, the ratio,
 * and json_decref's time, which both share. */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "osh-json.h"
#include "osh-write-config.h"
#include "osh-zoo.h"

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + (double) t.tv_nsec * 1e-9;
}

/* The best of `runs` parses (and the best json_decref) in seconds. */
static double
best_of (const char *text, size_t size, bool ours, int runs, double *decref)
{
  double best = 1e9, best_free = 1e9;
  for (int i = 0; i < runs; i++)
    {
      double t0 = now ();
      json_t *v = ours ? osh_json_parse (text, size, NULL)
                       : json_loadb (text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
      double t1 = now ();
      if (!v)
        {
          printf ("  %s rejects it\n", ours ? "osh_json_parse" : "json_loadb");
          return 0;
        }
      json_decref (v);
      double t2 = now ();
      best = MIN (best, t1 - t0);
      best_free = MIN (best_free, t2 - t1);
    }
  *decref = best_free;
  return best;
}

static void
bench (const char *label, const char *text, size_t size)
{
  double decref, unused;
  double once = best_of (text, size, false, 1, &unused);
  int runs = CLAMP ((int) (1.0 / MAX (once, 1e-6)), 3, 2000);
  double theirs = best_of (text, size, false, runs, &decref);
  double ours = best_of (text, size, true, runs, &unused);
  if (theirs <= 0 || ours <= 0)
    return;
  printf ("%s: %.0f KB, best of %d\n", label, (double) size / 1024, runs);
  printf ("  json_loadb      %8.2f ms  %6.1f MB/s\n", theirs * 1e3, (double) size / theirs / 1e6);
  printf ("  osh_json_parse  %8.2f ms  %6.1f MB/s  %.2fx faster\n", ours * 1e3,
          (double) size / ours / 1e6, theirs / ours);
  printf ("  json_decref     %8.2f ms\n", decref * 1e3);
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *text = NULL;
      gsize size;
      if (!g_file_get_contents (argv[i], &text, &size, NULL))
        {
          fprintf (stderr, "%s: cannot read\n", argv[i]);
          return 1;
        }
      bench (argv[i], text, size);
    }
  if (argc > 1)
    return 0;

  OshZooOptions o;
  osh_zoo_options_init (&o, "EfficientNetB7");
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build ("EfficientNetB7", &o, &err);
  OshWriteScope scope;
  if (!g || !osh_write_scope_init (&scope, g, &err))
    {
      fprintf (stderr, "%s\n", err.message);
      return 1;
    }
  json_t *config = osh_write_model_config (&scope, OSH_KERAS_CONFIG_3, &err);
  char *text = config ? json_dumps (config, JSON_PRESERVE_ORDER) : NULL;
  if (text)
    bench ("EfficientNetB7 Keras 3 config", text, strlen (text));
  free (text);
  json_decref (config);
  osh_write_scope_clear (&scope);
  osh_graph_free (g);
  return 0;
}
