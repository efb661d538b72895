/* Ops whose output has the input's shape: activations, normalisations, dropouts,
 * noise and regularisers (identity at inference), Rescaling. */
#include <string.h>

#include "osh-op.h"

bool osh_same_infer (OshOpCall *c, OshError *err);

bool
osh_same_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 0, OSH_MAX_RANK, err))
    return false;
  c->out[0] = c->in[0];
  return true;
}

/* InputLayer, identity layers and channels-last Reshape copy their input. */
bool osh_input_prepare (OshOpCall *c, OshError *err);
void osh_copy_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

bool
osh_input_prepare (OshOpCall *c, OshError *err)
{
  (void) c;
  (void) err;
  return true;
}

void
osh_copy_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  int64_t n = osh_shape_numel (&c->out[0]);
  memcpy (out[0], in[0], (size_t) n * sizeof (float));
}
