/* Merges: Add, Subtract, Multiply, Average, Maximum, Minimum (with Keras
 * broadcasting, e.g. squeeze-excite's (1, 1, C) × (H, W, C)) and Concatenate. */
#include <stdlib.h>
#include <string.h>

#include "osh-op-kernels.h"
#include "osh-op.h"
#include "osh-vec.h"

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
        return osh_op_shape_fail (err, "inputs differ outside the concatenation axis", &c->in[0],
                                  s);
      for (int d = 0; d < rank; d++)
        if (d != ax && r.dim[d] < 0)
          r.dim[d] = s->dim[d];
      r.dim[ax] = r.dim[ax] < 0 || s->dim[ax] < 0 ? -1 : r.dim[ax] + s->dim[ax];
    }
  c->out[0] = r;
  return true;
}

/* ---- kernels ---- */

typedef enum
{
  MERGE_ADD,
  MERGE_SUB,
  MERGE_MUL,
  MERGE_AVG,
  MERGE_MAX,
  MERGE_MIN,
} MergeKind;

typedef struct
{
  MergeKind kind;
  int rank;
  int64_t dim[OSH_MAX_RANK];       /* the output's sizes */
  int64_t (*stride)[OSH_MAX_RANK]; /* per input, per output axis (0 where broadcast) */
  bool same;                       /* every input has the output's shape */
  OshAct act;                      /* an activation folded in after the merge */
  OshEpilogue pre; /* a product x · f(x), f folded in (OSH_FUSE_OPERAND): both inputs are x */
} MergeParams;

static void
merge_free (void *p)
{
  MergeParams *mp = p;
  free (mp->stride);
  free (mp);
}

bool osh_elementwise_prepare (OshOpCall *c, OshError *err);
void osh_elementwise_run (const OshOpCall *c, const float *const *in, float *const *out,
                          float *scratch);

bool
osh_elementwise_prepare (OshOpCall *c, OshError *err)
{
  static const char *names[] = { "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum" };
  MergeParams *mp = calloc (1, sizeof *mp);
  if (!mp)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing a merge");
  c->params = mp;
  c->free_params = merge_free;
  for (int k = 0; k < 6; k++)
    if (strcmp (c->layer->class_name, names[k]) == 0)
      mp->kind = (MergeKind) k;
  const OshShape *o = &c->out[0];
  mp->rank = o->rank;
  memcpy (mp->dim, o->dim, sizeof mp->dim);
  mp->stride = calloc ((size_t) c->n_in, sizeof *mp->stride);
  if (!mp->stride)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing a merge");
  mp->same = true;
  mp->pre = osh_epilogue_none ();
  for (int i = 0; i < c->n_in; i++)
    {
      const OshShape *s = &c->in[i];
      mp->same &= osh_shape_equal (s, o);
      int64_t st = 1;
      for (int d = o->rank - 1; d >= 0; d--)
        {
          int sd = d - (o->rank - s->rank);
          int64_t size = sd >= 0 ? s->dim[sd] : 1;
          mp->stride[i][d] = size == 1 ? 0 : st;
          st *= size;
        }
    }
  c->flops = (double) osh_shape_numel (o) * (c->n_in - 1);
  return true;
}

static inline float
combine (MergeKind k, float a, float b)
{
  switch (k)
    {
    case MERGE_ADD:
    case MERGE_AVG: return a + b;
    case MERGE_SUB: return a - b;
    case MERGE_MUL: return a * b;
    case MERGE_MAX: return a > b ? a : b;
    case MERGE_MIN: return a < b ? a : b;
    }
  return a;
}

/* Takes in the activation that follows (ResNet's Add → ReLU), or, for a product x · h, the step
 * computing h = min (max (x·a + b, lo), hi) from x (Keras 2's hard_swish written out as
 * x · (relu6 (x + 3) / 6), the add, ReLU and division folded into one affine step before). */
bool
osh_elementwise_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  MergeParams *mp = c->params;
  OshAct act;
  float a, b, lo, hi;
  if (mp->act.kind != OSH_ACT_LINEAR || mp->pre.kind != OSH_EPILOGUE_NONE)
    return false;
  if (kind == OSH_FUSE_OPERAND)
    {
      if (mp->kind != MERGE_MUL || c->n_in != 2 || !mp->same
          || !osh_affine_uniform_clamp (next, &a, &b, &lo, &hi))
        return false;
      mp->pre = osh_epilogue_hard (true, a, b, lo, hi);
      return true;
    }
  if (kind != OSH_FUSE_NEXT || !osh_act_layer_elementwise (next, &act))
    return false;
  mp->act = act;
  return true;
}

bool
osh_merge_epilogue (const OshOpCall *c, OshEpilogue *e)
{
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  const MergeParams *mp = c->params;
  if (!op || op->run != osh_elementwise_run || !mp || mp->pre.kind == OSH_EPILOGUE_NONE
      || mp->act.kind != OSH_ACT_LINEAR)
    return false;
  *e = mp->pre;
  return true;
}

/* Inputs of the output's shape: one pass in blocks that stay in L1, the folded activation
 * applied to each block while it is there. */
static void
merge_same (const OshOpCall *c, const MergeParams *mp, const float *const *in, float *out)
{
  enum
  {
    BLOCK = 2048
  };
  int64_t n = osh_shape_numel (&c->out[0]);
  for (int64_t b = 0; b < n; b += BLOCK)
    {
      int64_t len = n - b < BLOCK ? n - b : BLOCK;
      float *restrict o = out + b;
      memcpy (o, in[0] + b, (size_t) len * sizeof (float));
      if (mp->pre.kind != OSH_EPILOGUE_NONE)
        {
          osh_vec_epilogue (&mp->pre, o, len); /* in[1] is in[0] */
          continue;
        }
      for (int i = 1; i < c->n_in; i++)
        {
          const float *restrict x = in[i] + b;
          if (mp->kind == MERGE_ADD || mp->kind == MERGE_AVG)
            osh_vec_add (o, x, len);
          else if (mp->kind == MERGE_MUL)
            osh_vec_mul (o, x, len);
          else
            for (int64_t k = 0; k < len; k++)
              o[k] = combine (mp->kind, o[k], x[k]);
        }
      if (mp->kind == MERGE_AVG)
        for (int64_t k = 0; k < len; k++)
          o[k] /= (float) c->n_in;
      if (mp->act.kind != OSH_ACT_LINEAR)
        osh_act_apply (&mp->act, o, 1, len, 1);
    }
}

void
osh_elementwise_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const MergeParams *mp = c->params;
  if (mp->same)
    {
      merge_same (c, mp, in, out[0]);
      return;
    }
  int64_t n = osh_shape_numel (&c->out[0]);
  int64_t last = mp->rank ? mp->dim[mp->rank - 1] : 1;
  int64_t rows = last ? n / last : 0;
  for (int i = 0; i < c->n_in; i++)
    {
      int64_t idx[OSH_MAX_RANK] = { 0 };
      int64_t base = 0; /* offset of the current row in input i */
      int64_t step = mp->rank ? mp->stride[i][mp->rank - 1] : 0;
      for (int64_t r = 0; r < rows; r++)
        {
          float *restrict o = out[0] + r * last;
          const float *restrict x = in[i] + base;
          if (i == 0)
            {
              if (step)
                memcpy (o, x, (size_t) last * sizeof (float));
              else
                for (int64_t k = 0; k < last; k++)
                  o[k] = x[0];
            }
          else if (step && (mp->kind == MERGE_ADD || mp->kind == MERGE_AVG))
            osh_vec_add (o, x, last);
          else if (step && mp->kind == MERGE_MUL)
            osh_vec_mul (o, x, last);
          else if (step)
            for (int64_t k = 0; k < last; k++)
              o[k] = combine (mp->kind, o[k], x[k]);
          else
            for (int64_t k = 0; k < last; k++)
              o[k] = combine (mp->kind, o[k], x[0]);
          /* Next row: an odometer over the leading axes. */
          for (int d = mp->rank - 2; d >= 0; d--)
            {
              base += mp->stride[i][d];
              if (++idx[d] < mp->dim[d])
                break;
              base -= mp->stride[i][d] * mp->dim[d];
              idx[d] = 0;
            }
        }
    }
  if (mp->kind == MERGE_AVG)
    for (int64_t k = 0; k < n; k++)
      out[0][k] /= (float) c->n_in;
  if (mp->act.kind != OSH_ACT_LINEAR)
    osh_act_apply (&mp->act, out[0], 1, n, c->threads);
}

/* Concatenate: for each index before the axis, each input's block in turn. */
void osh_concat_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);
bool osh_concat_prepare (OshOpCall *c, OshError *err);

/* The params: the axis, normalised. */
bool
osh_concat_prepare (OshOpCall *c, OshError *err)
{
  int *ax = osh_op_params (c, sizeof *ax, err);
  if (!ax)
    return false;
  *ax = osh_op_axis (osh_config_int (c->layer->config, "axis", -1), c->out[0].rank);
  return *ax >= 0 || osh_fail (err, OSH_ERR_SHAPE, "the axis is outside the output's rank");
}

void
osh_concat_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OshShape *o = &c->out[0];
  int ax = *(const int *) c->params;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; d++)
    outer *= o->dim[d];
  for (int d = ax + 1; d < o->rank; d++)
    inner *= o->dim[d];
  float *dst = out[0];
  for (int64_t k = 0; k < outer; k++)
    for (int i = 0; i < c->n_in; i++)
      {
        int64_t block = c->in[i].dim[ax] * inner;
        memcpy (dst, in[i] + k * block, (size_t) block * sizeof (float));
        dst += block;
      }
}
