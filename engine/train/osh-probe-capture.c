/* osh-probe-capture.c — the passes over the pictures that capture probed layers' outputs, in
 * groups of layers whose features fit the memory budget (osh-probe-private.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-probe-private.h"

static OshPlan *
capture_plan (const OshGraph *g, const char *const *layers, int n, int threads, OshError *err)
{
  OshExecOptions eo = osh_exec_options_default ();
  eo.threads = threads;
  eo.capture = layers;
  eo.n_capture = n;
  return osh_plan_new (g, &eo, err);
}

static bool
run_one (OshPlan *plan, int64_t i, OshProbeInput input, void *user, OshError *err)
{
  OshTensor *x = input (i, user, err);
  bool ok = x && osh_plan_run (plan, (const OshTensor *const[]){ x }, 1, NULL, err);
  osh_tensor_free (x);
  return ok;
}

bool
osh_probe_capture (const OshGraph *g, const char *const *layers, int n_layers, int64_t n,
                   const int64_t *order, OshProbeInput input, void *input_user,
                   const OshProbeOptions *opt, OshProbeProgress progress, void *user,
                   const OshProbeKind *kind, OshProbeResult *r, OshError *err)
{
  r->layers = calloc ((size_t) n_layers, sizeof *r->layers);
  r->n_layers = n_layers;
  int64_t *sizes = calloc ((size_t) n_layers, sizeof *sizes);
  OshShape *shapes = calloc ((size_t) n_layers, sizeof *shapes);
  bool ok = (r->layers && sizes && shapes)
            || osh_fail (err, OSH_ERR_NOMEM, "%d layers: out of memory", n_layers);
  /* One picture through a plan capturing every chosen layer gives their sizes. */
  OshPlan *plan = ok ? capture_plan (g, layers, n_layers, opt->threads, err) : NULL;
  ok = plan && run_one (plan, 0, input, input_user, err);
  for (int l = 0; ok && l < n_layers; l++)
    {
      int li = osh_graph_find_path (g, layers[l]);
      ok = osh_plan_activation (plan, layers[l], &shapes[l])
           || osh_fail (err, OSH_ERR_NOT_FOUND, "layer '%s' was not captured", layers[l]);
      if (ok)
        {
          r->layers[l].path = strdup (layers[l]);
          r->layers[l].class_name = strdup (li >= 0 ? g->layers[li].class_name : "");
          sizes[l] = kind->size (kind->ctx, &shapes[l], &r->layers[l]);
          r->layers[l].train_accuracy = r->layers[l].val_accuracy = r->layers[l].val_loss =
              r->layers[l].val_iou = NAN;
        }
    }
  osh_plan_free (plan);
  /* Groups of layers whose features fit the budget; each is one pass over the pictures. */
  for (int first = 0; ok && first < n_layers;)
    {
      while (first < n_layers && sizes[first] == 0)
        {
          if (progress && !progress (&r->layers[first], first, n_layers, user))
            ok = osh_fail (err, OSH_ERR_CANCELLED, "probe cancelled");
          first++;
        }
      if (!ok || first >= n_layers)
        break;
      int last = first + 1;
      int64_t bytes = sizes[first] * n * 4;
      while (last < n_layers && bytes + sizes[last] * n * 4 <= opt->group_bytes)
        bytes += sizes[last++] * n * 4;
      float **feat = calloc ((size_t) (last - first), sizeof *feat);
      for (int l = first; ok && l < last; l++)
        if (sizes[l] > 0)
          {
            feat[l - first] = malloc ((size_t) (sizes[l] * n) * sizeof (float));
            ok = feat[l - first] != NULL;
          }
      if (!ok)
        osh_fail (err, OSH_ERR_NOMEM, "the features of %d layers: out of memory", last - first);
      plan = ok ? capture_plan (g, layers + first, last - first, opt->threads, err) : NULL;
      ok = plan != NULL;
      r->passes++;
      for (int64_t i = 0; ok && i < n; i++)
        {
          ok = run_one (plan, order[i], input, input_user, err);
          for (int l = first; ok && l < last; l++)
            {
              if (sizes[l] == 0)
                continue;
              OshShape s;
              const float *a = osh_plan_activation (plan, layers[l], &s);
              ok = (a && osh_shape_equal (&s, &shapes[l]))
                   || osh_fail (err, OSH_ERR_SHAPE, "layer '%s' changed size between pictures",
                                layers[l]);
              if (ok)
                kind->reduce (kind->ctx, a, &s, &r->layers[l], feat[l - first] + i * sizes[l]);
            }
          if (ok && progress && !progress (NULL, (int) (i + 1), (int) n, user))
            ok = osh_fail (err, OSH_ERR_CANCELLED, "probe cancelled");
        }
      osh_plan_free (plan);
      for (int l = first; ok && l < last; l++)
        {
          if (sizes[l] > 0)
            ok =
                kind->fit (kind->ctx, l, feat[l - first], sizes[l], &shapes[l], &r->layers[l], err);
          if (!ok)
            osh_error_prefix (err, "%s: ", layers[l]);
          else if (progress && !progress (&r->layers[l], l, n_layers, user))
            ok = osh_fail (err, OSH_ERR_CANCELLED, "probe cancelled");
        }
      for (int l = first; l < last; l++)
        free (feat[l - first]);
      free (feat);
      first = last;
    }
  free (sizes);
  free (shapes);
  return ok;
}
