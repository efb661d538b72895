/* Merges: Add, Subtract, Multiply, Average, Maximum, Minimum (with Keras
 * broadcasting, e.g. squeeze-excite's (1, 1, C) × (H, W, C)) and Concatenate. */
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"

bool osh_elementwise_infer (OshOpCall *c, OshError *err);
bool osh_concat_infer (OshOpCall *c, OshError *err);

bool
osh_elementwise_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 2, 0, OSH_MAX_RANK, err))
    return false;
  if (strcmp (c->layer->class_name, "Subtract") == 0 && c->n_in != 2)
    return osh_fail (err, OSH_ERR_SHAPE, "called on %d inputs (expected 2)", c->n_in);
  OshShape r = c->in[0];
  for (int i = 1; i < c->n_in; i++)
    if (!osh_op_broadcast (&r, &c->in[i], &r))
      return osh_op_shape_fail (err, "inputs of different shapes cannot be combined", &c->in[0],
                                &c->in[i]);
  c->out[0] = r;
  return true;
}

bool
osh_concat_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1 + (c->n_in > 1), 1, OSH_MAX_RANK, err))
    return false;
  int rank = c->in[0].rank;
  int ax = osh_op_axis (osh_config_int (c->layer->config, "axis", -1), rank);
  if (ax < 0)
    return osh_fail (err, OSH_ERR_SHAPE, "axis %lld is outside rank %d",
                     (long long) osh_config_int (c->layer->config, "axis", -1), rank);
  OshShape r = c->in[0];
  for (int i = 1; i < c->n_in; i++)
    {
      const OshShape *s = &c->in[i];
      bool ok = s->rank == rank;
      for (int d = 0; ok && d < rank; d++)
        if (d != ax && s->dim[d] != r.dim[d] && s->dim[d] >= 0 && r.dim[d] >= 0)
          ok = false;
      if (!ok)
        return osh_op_shape_fail (err, "inputs differ outside the concatenation axis", &c->in[0], s);
      for (int d = 0; d < rank; d++)
        if (d != ax && r.dim[d] < 0)
          r.dim[d] = s->dim[d];
      r.dim[ax] = r.dim[ax] < 0 || s->dim[ax] < 0 ? -1 : r.dim[ax] + s->dim[ax];
    }
  c->out[0] = r;
  return true;
}
