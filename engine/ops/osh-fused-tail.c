/* The fused tail of a convolution step (osh-fused-tail.h): the rules for taking in the steps
 * around it, shared by every convolution front end, and the record that lets a kernel packed
 * again take the same folds. */
#include "osh-fused-tail.h"

#include <stdlib.h>
#include <string.h>

void
osh_fused_tail_init (OshFusedTail *t, int64_t channels)
{
  memset (t, 0, sizeof *t);
  t->scale_in = t->residual_in = -1;
  t->channels = channels;
  t->epilogue = osh_epilogue_none ();
}

void
osh_fused_tail_clear (OshFusedTail *t)
{
  osh_conv_gemm_free (t->gemm);
  osh_depthwise_free (t->dw);
  osh_depthwise_free (t->then_dw);
  if (t->other)
    t->other_class->free (t->other);
  free (t->affine);
  osh_fused_tail_init (t, t->channels);
}

bool
osh_fused_tail_empty (const OshFusedTail *t)
{
  return !t->folded && t->scale_in < 0;
}

bool
osh_fused_tail_closed (const OshFusedTail *t)
{
  return t->means_out;
}

static bool
kernel_has_epilogue (const OshFusedTail *t)
{
  if (t->gemm)
    return osh_conv_gemm_has_epilogue (t->gemm);
  if (t->dw)
    return osh_depthwise_has_epilogue (t->dw);
  return t->other_class->has_epilogue (t->other);
}

static bool
kernel_set_epilogue (OshFusedTail *t, const OshEpilogue *e)
{
  if (t->gemm)
    return osh_conv_gemm_set_epilogue (t->gemm, e);
  if (t->dw)
    return osh_depthwise_set_epilogue (t->dw, e);
  return t->other_class->set_epilogue (t->other, e);
}

/* An affine map goes in before any epilogue, and before the residual is added. */
static bool
kernel_fold_affine (OshFusedTail *t, const float *scale, const float *shift)
{
  if (kernel_has_epilogue (t) || (t->gemm && t->residual_in >= 0))
    return false;
  if (t->gemm)
    osh_conv_gemm_fold_affine (t->gemm, scale, shift);
  else if (t->dw)
    return osh_depthwise_fold_affine (t->dw, scale, shift);
  else
    t->other_class->fold_affine (t->other, scale, shift);
  return true;
}

/* After a streamed depthwise convolution, what follows goes into it (and is not replayed: the
 * streamed pair is channels-last inside already). */
static bool
take_into_then_dw (OshFusedTail *t, const OshOpCall *next, OshFuseKind kind, OshTailRead read)
{
  int64_t ch = t->then_dw_channels;
  float *scale = malloc ((size_t) ch * 2 * sizeof *scale);
  OshEpilogue e;
  bool ok = false;
  switch (scale ? read (next, kind, ch, scale, scale + ch, &e) : OSH_TAIL_NOTHING)
    {
    case OSH_TAIL_EPILOGUE: ok = osh_depthwise_set_epilogue (t->then_dw, &e); break;
    case OSH_TAIL_AFFINE: ok = osh_depthwise_fold_affine (t->then_dw, scale, scale + ch); break;
    case OSH_TAIL_NOTHING: break;
    }
  free (scale);
  return ok;
}

bool
osh_fused_tail_take_next (OshFusedTail *t, const OshOpCall *next, OshFuseKind kind,
                          OshTailRead read)
{
  if (t->then_dw)
    return take_into_then_dw (t, next, kind, read);
  if (!t->gemm && !t->dw && !t->other)
    return false;
  /* Room for one more pair in the record, read into directly. */
  size_t pair = (size_t) t->channels * 2;
  float *all = realloc (t->affine, (size_t) (t->n_affine + 1) * pair * sizeof *all);
  if (!all)
    return false;
  t->affine = all;
  float *scale = all + (size_t) t->n_affine * pair, *shift = scale + t->channels;
  OshEpilogue e;
  switch (read (next, kind, t->channels, scale, shift, &e))
    {
    case OSH_TAIL_EPILOGUE:
      if (!kernel_set_epilogue (t, &e))
        return false;
      t->epilogue = e;
      t->has_epilogue = true;
      break;
    case OSH_TAIL_AFFINE:
      if (!kernel_fold_affine (t, scale, shift))
        return false;
      t->n_affine++;
      break;
    case OSH_TAIL_NOTHING: return false;
    }
  t->folded = true;
  return true;
}

bool
osh_fused_tail_take_residual (OshFusedTail *t, OshOpCall *c, const OshOpCall *sum)
{
  if (!osh_op_call_is (sum, OSH_CAT_SUM) || !t->gemm || t->residual_in >= 0 || t->then_dw
      || osh_conv_gemm_has_epilogue (t->gemm))
    return false;
  t->residual_in = c->n_in;
  t->folded = true;
  c->out_over_last_in = true; /* each tile reads its residual before storing there */
  return true;
}

int64_t
osh_fused_tail_take_scale (OshFusedTail *t, const OshOpCall *c, const OshOpCall *mul, int chan_axis,
                           int64_t cin)
{
  if (!osh_op_call_is (mul, OSH_CAT_PRODUCT) || mul->n_in != 2 || !t->gemm || t->scale_in >= 0
      || t->then_dw || c->in[0].rank != 4)
    return 0;
  int64_t work = osh_conv_gemm_work_floats (t->gemm);
  for (int k = 0; k < 2; k++)
    {
      const OshShape *x = &mul->in[k], *s = &mul->in[1 - k];
      bool per_channel = s->rank == 4;
      for (int i = 0; per_channel && i < 4; i++)
        per_channel = s->dim[i] == (i == chan_axis ? cin : 1);
      if (osh_shape_equal (x, &c->in[0]) && per_channel)
        {
          t->scale_in = 1 - k;
          return work > 0 ? work : 1;
        }
    }
  return 0;
}

bool
osh_fused_tail_can_stream (const OshFusedTail *t)
{
  return t->gemm && !t->then_dw && t->scale_in < 0 && t->residual_in < 0;
}

void
osh_fused_tail_take_stream (OshFusedTail *t, OshOpCall *c, const OshOpCall *next, OshDepthwise *dw,
                            int64_t channels)
{
  t->then_dw = dw;
  t->then_dw_channels = channels;
  t->folded = true;
  c->flops += next->flops;
}

bool
osh_fused_tail_take_mean (OshFusedTail *t, const OshOpCall *pool, const OshShape *out,
                          int chan_axis, bool sums)
{
  if (!sums || !osh_op_call_is (pool, OSH_CAT_GLOBAL_MEAN) || pool->n_in != 1 || out->rank != 4
      || !osh_shape_equal (&pool->in[0], out)
      || osh_shape_numel (&pool->out[0]) != out->dim[0] * out->dim[chan_axis])
    return false;
  t->means_out = true;
  t->folded = true;
  return true;
}

bool
osh_fused_tail_replay (const OshFusedTail *t, OshConvGemm *gemm, OshDepthwise *dw)
{
  for (int i = 0; i < t->n_affine; i++)
    {
      const float *scale = t->affine + (size_t) i * 2 * (size_t) t->channels;
      if (gemm)
        osh_conv_gemm_fold_affine (gemm, scale, scale + t->channels);
      else if (!osh_depthwise_fold_affine (dw, scale, scale + t->channels))
        return false;
    }
  if (!t->has_epilogue)
    return true;
  return gemm ? osh_conv_gemm_set_epilogue (gemm, &t->epilogue)
              : osh_depthwise_set_epilogue (dw, &t->epilogue);
}
