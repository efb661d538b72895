/* Dense: a matrix product over the last axis of an input of any rank. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op-kernels.h"
#include "osh-op.h"

bool osh_dense_infer (OshOpCall *c, OshError *err);

bool
osh_dense_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 2, OSH_MAX_RANK, err))
    return false;
  const OshShape *in = &c->in[0];
  int64_t units = osh_config_int (c->layer->config, "units", -1);
  if (c->layer->n_weights > 0)
    {
      OshWeightRule rule;
      osh_dense_weights (c, &rule, err);
      for (int i = 0; i < rule.n; i++)
        if (!osh_op_check_weight (c, i, rule.shape[i].rank, rule.shape[i].dim, rule.what[i], err))
          return false;
      units = osh_op_weight (c, 0)->shape.dim[1];
    }
  if (units <= 0)
    return osh_fail (err, OSH_ERR_FORMAT, "no \"units\" in the config and no kernel weight");
  c->out[0] = *in;
  c->out[0].dim[in->rank - 1] = units;
  return true;
}

/* The kernel (input features, units), then the bias (units). */
bool
osh_dense_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err)
{
  (void) err;
  int64_t units = osh_config_int (c->layer->config, "units", -1);
  const OshTensor *k = osh_op_weight (c, 0);
  int64_t din = c->n_in > 0 && c->in[0].rank >= 2 ? c->in[0].dim[c->in[0].rank - 1] : -1;
  memset (rule, 0, sizeof *rule);
  rule->shape[0] = (OshShape){ .rank = 2, .dim = { din, units } };
  rule->what[0] = "kernel";
  rule->n = 1;
  if (units <= 0 && k && k->shape.rank == 2)
    units = k->shape.dim[1];
  if (osh_config_bool (c->layer->config, "use_bias", true))
    {
      rule->shape[1] = (OshShape){ .rank = 1, .dim = { units } };
      rule->what[rule->n++] = "bias";
    }
  return true;
}

#include <cblas.h>
#include <string.h>

typedef struct
{
  int64_t rows, din, units;
  const float *kernel, *bias;
  OshAct act;
} DenseParams;

bool osh_dense_prepare (OshOpCall *c, OshError *err);
void osh_dense_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

bool
osh_dense_prepare (OshOpCall *c, OshError *err)
{
  DenseParams *dp = calloc (1, sizeof *dp);
  if (!dp)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing Dense");
  c->params = dp;
  if (c->layer->n_weights == 0)
    return osh_fail (err, OSH_ERR_SHAPE, "the layer has no weights");
  if (!osh_act_from_config (c, &dp->act, err))
    return false;
  const OshShape *in = &c->in[0];
  dp->din = in->dim[in->rank - 1];
  dp->units = c->out[0].dim[in->rank - 1];
  dp->rows = osh_shape_numel (in) / (dp->din ? dp->din : 1);
  if (dp->rows > INT_MAX || dp->din > INT_MAX || dp->units > INT_MAX)
    return osh_fail (err, OSH_ERR_LIMIT, "the product is too large for one matrix product");
  dp->kernel = osh_op_weight (c, 0)->data;
  dp->bias =
      osh_config_bool (c->layer->config, "use_bias", true) ? osh_op_weight (c, 1)->data : NULL;
  c->flops = 2.0 * dp->rows * dp->din * dp->units;
  return true;
}

void
osh_dense_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const DenseParams *dp = c->params;
  float *o = out[0];
  for (int64_t r = 0; r < dp->rows; r++)
    {
      if (dp->bias)
        memcpy (o + r * dp->units, dp->bias, (size_t) dp->units * sizeof (float));
      else
        memset (o + r * dp->units, 0, (size_t) dp->units * sizeof (float));
    }
  /* One row (a classifier at batch 1) is bound by reading the kernel: OpenBLAS's matrix-vector
   * product streams it about twice as fast as its matrix product does. */
  if (dp->rows == 1)
    cblas_sgemv (CblasRowMajor, CblasTrans, (int) dp->din, (int) dp->units, 1.0f, dp->kernel,
                 (int) dp->units, in[0], 1, 1.0f, o, 1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) dp->rows, (int) dp->units,
                 (int) dp->din, 1.0f, in[0], (int) dp->din, dp->kernel, (int) dp->units, 1.0f, o,
                 (int) dp->units);
  osh_act_apply (&dp->act, o, dp->rows, dp->units, c->threads);
}
