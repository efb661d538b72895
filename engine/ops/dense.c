/* Dense: a matrix product over the last axis of an input of any rank. */
#include <stdlib.h>

#include "osh-op.h"

bool osh_dense_infer (OshOpCall *c, OshError *err);

bool
osh_dense_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 2, OSH_MAX_RANK, err))
    return false;
  const OshShape *in = &c->in[0];
  int64_t units = osh_config_int (c->layer->config, "units", -1);
  int64_t din = in->dim[in->rank - 1];
  if (c->layer->n_weights > 0)
    {
      int64_t kd[2] = { din, units };
      if (!osh_op_check_weight (c, 0, 2, kd, "kernel", err))
        return false;
      units = osh_op_weight (c, 0)->shape.dim[1];
      if (osh_config_bool (c->layer->config, "use_bias", true)
          && !osh_op_check_weight (c, 1, 1, (int64_t[]){ units }, "bias", err))
        return false;
    }
  if (units <= 0)
    return osh_fail (err, OSH_ERR_FORMAT, "no \"units\" in the config and no kernel weight");
  c->out[0] = *in;
  c->out[0].dim[in->rank - 1] = units;
  return true;
}
