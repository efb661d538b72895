/* osh-heads-fitted.c — a classifier head with given weights (osh-heads-fitted.h). */
#include "osh-heads-fitted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The head's Dense weights, wherever the dialect put them: Keras keeps kernel (dim, n) and
 * bias (n) on the layer; a lowered dialect may hold the kernel transposed. */
static bool
place_weights (OshGraph *e, char **names, int n_names, long dim, int c, const float *kernel,
               const float *bias, OshError *err)
{
  bool have_kernel = false, have_bias = false;
  for (int i = 0; i < n_names; i++)
    {
      int l = osh_graph_find_layer (e, -1, names[i]);
      for (int w = 0; l >= 0 && w < e->layers[l].n_weights; w++)
        {
          OshTensor *t = e->layers[l].weights[w].value;
          if (!t)
            continue;
          const OshShape *s = &t->shape;
          if (s->rank == 2 && s->dim[0] == dim && s->dim[1] == c && !have_kernel)
            memcpy (t->data, kernel, sizeof (float) * (size_t) (dim * c)), have_kernel = true;
          else if (s->rank == 2 && s->dim[0] == c && s->dim[1] == dim && !have_kernel)
            {
              for (long j = 0; j < dim; j++)
                for (int k = 0; k < c; k++)
                  t->data[k * dim + j] = kernel[j * c + k];
              have_kernel = true;
            }
          else if (s->rank == 1 && s->dim[0] == c && !have_bias)
            memcpy (t->data, bias, sizeof (float) * (size_t) c), have_bias = true;
        }
    }
  return (have_kernel && have_bias)
         || osh_fail (err, OSH_ERR_UNSUPPORTED,
                      "the head's Dense weights (%ld × %d and %d) were not found to set", dim, c,
                      c);
}

OshGraph *
osh_head_attach_fitted (const OshGraph *g, const char *path, bool pooled, long dim, int n_classes,
                        const float *kernel, const float *bias, OshHeadSpec *spec, char **names,
                        OshError *err)
{
  char text[64];
  if (pooled)
    snprintf (text, sizeof text, "classifier:%d", n_classes);
  else
    snprintf (text, sizeof text, "dense(units=%d,activation=softmax)", n_classes);
  if (!osh_head_parse (text, spec, err))
    return NULL;
  OshGraph *e = osh_head_attach (g, path, spec, OSH_ATTACH_CONNECTED, names, err);
  if (!e)
    return NULL;
  if (!place_weights (e, names, spec->n_steps, dim, n_classes, kernel, bias, err))
    {
      for (int i = 0; i < spec->n_steps; i++)
        free (names[i]), names[i] = NULL;
      osh_graph_free (e);
      return NULL;
    }
  return e;
}
