/* osh-heads-fitted.c — a classifier head with given weights (osh-heads-fitted.h). */
#include "osh-heads-fitted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies kernel and bias into the weights of layer l that have their shapes (the kernel maybe
 * transposed); sets the flags for what it found. */
static void
place_in_layer (OshGraph *e, int l, long dim, int c, const float *kernel, const float *bias,
                bool *have_kernel, bool *have_bias)
{
  for (int w = 0; w < e->layers[l].n_weights; w++)
    {
      OshTensor *t = e->layers[l].weights[w].value;
      if (!t)
        continue;
      const OshShape *s = &t->shape;
      if (s->rank == 2 && s->dim[0] == dim && s->dim[1] == c && !*have_kernel)
        memcpy (t->data, kernel, sizeof (float) * (size_t) (dim * c)), *have_kernel = true;
      else if (s->rank == 2 && s->dim[0] == c && s->dim[1] == dim && !*have_kernel)
        {
          for (long j = 0; j < dim; j++)
            for (int k = 0; k < c; k++)
              t->data[k * dim + j] = kernel[j * c + k];
          *have_kernel = true;
        }
      else if (s->rank == 1 && s->dim[0] == c && !*have_bias)
        memcpy (t->data, bias, sizeof (float) * (size_t) c), *have_bias = true;
    }
}

/* The head's Dense weights, wherever the dialect put them: Keras keeps kernel (dim, n) and
 * bias (n) on the layer named `last`; a dialect that lowers the head (ONNX) puts them on its own
 * nodes' layers, added after the original `first` ones. */
static bool
place_weights (OshGraph *e, const char *last, int first, long dim, int c, const float *kernel,
               const float *bias, OshError *err)
{
  bool have_kernel = false, have_bias = false;
  int named = osh_graph_find_layer (e, -1, last);
  if (named >= 0)
    place_in_layer (e, named, dim, c, kernel, bias, &have_kernel, &have_bias);
  for (int l = first; l < e->n_layers && !(have_kernel && have_bias); l++)
    if (l != named)
      place_in_layer (e, l, dim, c, kernel, bias, &have_kernel, &have_bias);
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
  if (!place_weights (e, names[spec->n_steps - 1], g->n_layers, dim, n_classes, kernel, bias, err))
    {
      for (int i = 0; i < spec->n_steps; i++)
        free (names[i]), names[i] = NULL;
      osh_graph_free (e);
      return NULL;
    }
  return e;
}
