/* Activation memory by liveness: every value gets a buffer, values whose lives do not overlap
 * share one, a step that asked for it writes its output over its last input, and buffers and
 * scratch start on cache lines. */
#include <stdlib.h>

#include "osh-plan-internal.h"

typedef struct
{
  int *ids; /* buffers free for reuse */
  int n;
  int cap; /* of p->buf_size */
} FreeList;

/* Gives value `v` the smallest free buffer that holds it, else the largest free one (grown),
 * else a new buffer. */
static bool
take_buffer (OshPlan *p, int v, FreeList *fl, OshError *err)
{
  int64_t need = p->vals[v].numel;
  int fit = -1, big = -1;
  for (int f = 0; f < fl->n; f++)
    {
      int64_t size = p->buf_size[fl->ids[f]];
      if (size >= need && (fit < 0 || size < p->buf_size[fl->ids[fit]]))
        fit = f;
      if (big < 0 || size > p->buf_size[fl->ids[big]])
        big = f;
    }
  int pick = fit >= 0 ? fit : big;
  if (pick >= 0)
    {
      int b = fl->ids[pick];
      fl->ids[pick] = fl->ids[--fl->n];
      if (p->buf_size[b] < need)
        p->buf_size[b] = need;
      p->vals[v].buffer = b;
      return true;
    }
  if (!osh_plan_grow ((void **) &p->buf_size, &fl->cap, p->n_buffers + 1, sizeof (int64_t), err))
    return false;
  p->buf_size[p->n_buffers] = need;
  p->vals[v].buffer = p->n_buffers++;
  return true;
}

/* Activation memory starts on a cache line: a misaligned 64-byte vector access touches two lines
 * (large blocks from malloc sit 16 bytes past a page boundary). */
static float *
alloc_floats (int64_t n)
{
  size_t bytes = ((size_t) (n > 0 ? n : 1) * sizeof (float) + 63) & ~(size_t) 63;
  return aligned_alloc (64, bytes);
}

/* When step s may write its output over its last input (a convolution that started its sums
 * from a residual it read first) and that input is read nowhere after, nor elsewhere by s, nor
 * kept: gives the output that input's buffer and returns it, else -1. Saves the output's trip
 * through a fresh buffer (ResNet's 3.2 MB maps). */
static int
over_last_input (OshPlan *p, int s)
{
  const Step *st = &p->steps[s];
  if (!st->call.out_over_last_in || st->call.n_in < 1 || st->call.n_out < 1)
    return -1;
  int v = st->in_vals[st->call.n_in - 1];
  Value *in = &p->vals[v], *out = &p->vals[st->out_vals[0]];
  for (int i = 0; i < st->call.n_in - 1; i++)
    if (st->in_vals[i] == v)
      return -1;
  if (in->last_use != s || in->keep || in->buffer < 0 || out->buffer >= 0
      || out->numel != in->numel)
    return -1;
  out->buffer = in->buffer;
  return in->buffer;
}

/* Gives every value a buffer; values whose lives do not overlap share one. A step's output
 * is placed before its inputs are released, so kernels never see aliased memory (but for
 * over_last_input, which the step asked for). */
bool
osh_plan_assign_buffers (OshPlan *p, OshError *err)
{
  FreeList fl = { .ids = malloc ((size_t) (p->n_vals + 1) * sizeof (int)) };
  bool ok = fl.ids != NULL;
  if (!ok)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory assigning buffers");
  for (int i = 0; i < p->n_inputs && ok; i++)
    if (p->vals[p->in_vals[i]].buffer < 0)
      ok = take_buffer (p, p->in_vals[i], &fl, err);
  for (int s = 0; s < p->n_steps && ok; s++)
    {
      Step *st = &p->steps[s];
      int reused = over_last_input (p, s);
      for (int k = 0; ok && k < st->call.n_out; k++)
        if (p->vals[st->out_vals[k]].buffer < 0)
          ok = take_buffer (p, st->out_vals[k], &fl, err);
      /* Outputs nobody reads (an ONNX op's optional outputs) are free again at once. */
      for (int k = 0; ok && k < st->call.n_out; k++)
        if (p->vals[st->out_vals[k]].last_use < 0 && !p->vals[st->out_vals[k]].keep)
          fl.ids[fl.n++] = p->vals[st->out_vals[k]].buffer;
      for (int i = 0; ok && i < st->call.n_in; i++)
        {
          Value *v = &p->vals[st->in_vals[i]];
          bool dup = false;
          for (int k = 0; k < i; k++)
            dup |= st->in_vals[k] == st->in_vals[i];
          if (!dup && v->last_use == s && !v->keep && v->buffer != reused)
            fl.ids[fl.n++] = v->buffer;
        }
    }
  free (fl.ids);
  if (!ok)
    return false;
  p->buffers = calloc ((size_t) (p->n_buffers + 1), sizeof (float *));
  if (!p->buffers)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory for activation buffers");
  for (int b = 0; b < p->n_buffers; b++)
    {
      p->buffers[b] = alloc_floats (p->buf_size[b]);
      if (!p->buffers[b])
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory for a %lld-float activation buffer",
                         (long long) p->buf_size[b]);
    }
  if (p->scratch_size)
    {
      p->scratch = alloc_floats ((int64_t) p->scratch_size);
      if (!p->scratch)
        return osh_fail (err, OSH_ERR_NOMEM, "out of memory for %zu floats of scratch",
                         p->scratch_size);
    }
  return true;
}
