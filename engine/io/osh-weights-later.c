/* Graphs read for their structure (OSH_READ_GRAPH): a weight failure put aside for later, and
 * the values brought in from a full read of the same file when they are first needed. */
#include "osh-weights-later.h"

#include <stdlib.h>
#include <string.h>

#include "osh-formats.h"

bool
osh_weights_defer_error (OshGraph *g, OshError *err)
{
  for (int i = 0; i < g->n_layers; i++)
    {
      OshLayer *l = &g->layers[i];
      for (int w = 0; w < l->n_weights; w++)
        {
          free (l->weights[w].name);
          osh_tensor_free (l->weights[w].value);
        }
      free (l->weights);
      l->weights = NULL;
      l->n_weights = 0;
    }
  json_object_set_new (g->meta, OSH_META_WEIGHTS_ERROR,
                       json_pack ("{s:i, s:s}", "code", (int) err->code, "message", err->message));
  osh_error_clear (err);
  return true;
}

bool
osh_weights_deferred (const OshGraph *g)
{
  return json_is_true (json_object_get (g->meta, OSH_META_WEIGHTS_DEFERRED));
}

bool
osh_weights_take (OshGraph *dst, OshGraph *src, OshError *err)
{
  const char *name = dst->source_path ? dst->source_path : "model";
  if (src->n_layers != dst->n_layers)
    return osh_fail (err, OSH_ERR_IO,
                     "%s: the file changed since its graph was read (%d layers, now %d)", name,
                     dst->n_layers, src->n_layers);
  /* The same reader on the same file builds the same layers: check, then move the values. */
  for (int i = 0; i < dst->n_layers; i++)
    {
      const OshLayer *a = &dst->layers[i], *b = &src->layers[i];
      bool same =
          strcmp (a->name, b->name) == 0 && (a->n_weights == b->n_weights || a->n_weights == 0);
      for (int w = 0; same && w < a->n_weights; w++)
        same = osh_shape_equal (&a->weights[w].value->shape, &b->weights[w].value->shape);
      if (!same && json_is_true (json_object_get (dst->meta, OSH_META_WEIGHTS_FROM_CONFIG)))
        return osh_fail (err, OSH_ERR_SHAPE,
                         "%s: layer '%s' holds %d weights in model.weights.h5 that differ from "
                         "the %d its config implies",
                         name, a->name, b->n_weights, a->n_weights);
      if (!same)
        return osh_fail (err, OSH_ERR_IO,
                         "%s: the file changed since its graph was read (layer '%s' differs)", name,
                         a->name);
    }
  for (int i = 0; i < dst->n_layers; i++)
    {
      OshLayer *a = &dst->layers[i], *b = &src->layers[i];
      if (a->n_weights == 0 && b->n_weights > 0)
        {
          /* The graph was read without weights (their error was put aside): take them whole. */
          a->weights = b->weights;
          a->n_weights = b->n_weights;
          b->weights = NULL;
          b->n_weights = 0;
          continue;
        }
      for (int w = 0; w < a->n_weights; w++)
        {
          OshTensor *t = a->weights[w].value;
          a->weights[w].value = b->weights[w].value;
          b->weights[w].value = t;
        }
    }
  json_object_del (dst->meta, OSH_META_WEIGHTS_DEFERRED);
  json_object_del (dst->meta, OSH_META_WEIGHTS_ERROR);
  json_object_del (dst->meta, OSH_META_WEIGHTS_FROM_CONFIG);
  json_t *warn = json_object_get (src->meta, "non_finite_weights");
  if (warn)
    json_object_set (dst->meta, "non_finite_weights", warn);
  return true;
}
