/* Fusion: steps fold in the steps that read their output through their op's absorb (a
 * convolution takes in its BatchNormalization and activation, a SiLU's sigmoid and product, a
 * residual Add, a padding, a squeeze-excite scale, a global average pooling), and copies are
 * dropped. Values someone keeps are never folded away. */
#include "osh-plan-internal.h"

#include <stdlib.h>
#include <string.h>

#include "osh-op-kernels.h"

/* The steps reading value v: up to `max` of them into readers[] (each step once); returns how
 * many there are, or -1 when a step reads v twice. */
static int
readers_of (const OshPlan *p, int v, int *readers, int max)
{
  int n = 0;
  for (int s = 0; s < p->n_steps; s++)
    {
      int uses = 0;
      for (int i = 0; i < p->steps[s].call.n_in; i++)
        uses += p->steps[s].in_vals[i] == v;
      if (uses > 1)
        return -1;
      if (uses && n < max)
        readers[n] = s;
      n += uses;
    }
  return n;
}

/* The one step reading value v, when it reads v in both its inputs and nothing else (a product
 * x · f(x) once f is folded into it), or -1. */
static int
squaring_reader (const OshPlan *p, int v)
{
  int found = -1;
  for (int s = 0; s < p->n_steps; s++)
    {
      const Step *st = &p->steps[s];
      bool reads = false;
      for (int i = 0; i < st->call.n_in; i++)
        reads |= st->in_vals[i] == v;
      if (!reads)
        continue;
      if (found >= 0 || st->call.n_in != 2 || st->in_vals[0] != v || st->in_vals[1] != v)
        return -1;
      found = s;
    }
  return found;
}

static void
drop_step (OshPlan *p, int r)
{
  osh_plan_free_step (&p->steps[r]);
  memmove (&p->steps[r], &p->steps[r + 1], (size_t) (p->n_steps - r - 1) * sizeof (Step));
  p->n_steps--;
}

static bool
is_class (const Step *st, const char *cls)
{
  return strcmp (st->call.layer->class_name, cls) == 0;
}

/* Whether the two readers r[] of a value are a sigmoid of it (*sig) and its product with that
 * sigmoid (*mul), together x · sigmoid (x). */
static bool
swish_pair (const OshPlan *p, const int *r, int *sig, int *mul)
{
  for (int k = 0; k < 2; k++)
    {
      const Step *s = &p->steps[r[k]], *m = &p->steps[r[1 - k]];
      int other;
      if (is_class (s, "Sigmoid") && s->call.n_in == 1 && s->call.n_out == 1
          && !p->vals[s->out_vals[0]].keep && is_class (m, "Mul") && m->call.n_in == 2
          && m->call.n_out == 1 && readers_of (p, s->out_vals[0], &other, 1) == 1
          && (m->in_vals[0] == s->out_vals[0] || m->in_vals[1] == s->out_vals[0])
          && osh_shape_equal (&s->call.out[0], &m->call.out[0]))
        {
          *sig = r[k], *mul = r[1 - k];
          return true;
        }
    }
  return false;
}

/* Offers step `next` to step `st` to fold in (`kind`); if it is taken, st reads `in_vals` (shapes
 * `in`, n_in of them) and writes `out_vals` (shapes `out`, n_out) from then on. Memory is taken
 * first, so a refusal or a failure leaves st as it was. */
static bool
refold (Step *st, const Step *next, OshFuseKind kind, const int *in_vals, const OshShape *in,
        int n_in, const int *out_vals, const OshShape *out, int n_out)
{
  OshShape *block = malloc ((size_t) (n_in + n_out + 1) * sizeof (OshShape));
  int *ins = malloc ((size_t) (n_in + 1) * sizeof (int));
  int *outs = malloc ((size_t) (n_out + 1) * sizeof (int));
  if (!block || !ins || !outs || !st->op->absorb (&st->call, &next->call, kind))
    {
      free (block), free (ins), free (outs);
      return false;
    }
  memcpy (block, in, (size_t) n_in * sizeof (OshShape));
  memcpy (block + n_in, out, (size_t) n_out * sizeof (OshShape));
  memcpy (ins, in_vals, (size_t) n_in * sizeof (int));
  memcpy (outs, out_vals, (size_t) n_out * sizeof (int));
  free ((void *) st->call.in);
  free (st->in_vals);
  free (st->out_vals);
  st->call.in = block;
  st->call.out = block + n_in;
  st->call.n_in = n_in;
  st->call.n_out = n_out;
  st->in_vals = ins;
  st->out_vals = outs;
  return true;
}

/* refold with new inputs (`vals`, shapes `shapes`, n of them) and the outputs as they are. */
static bool
fold_with_inputs (Step *st, const Step *next, OshFuseKind kind, const int *vals,
                  const OshShape *shapes, int n)
{
  return refold (st, next, kind, vals, shapes, n, st->out_vals, st->call.out, st->call.n_out);
}

/* True when value v is an input or computed by a step before step `s`. */
static bool
ready_before (const OshPlan *p, int v, int s)
{
  for (int t = s; t < p->n_steps; t++)
    for (int k = 0; k < p->steps[t].call.n_out; k++)
      if (p->steps[t].out_vals[k] == v)
        return false;
  return true;
}

/* Step a's output and another value added by the two-input step b (a residual Add): folds b into
 * a when a can add that value itself and it is ready before a runs. */
static bool
fold_residual (OshPlan *p, int s, Step *b)
{
  Step *a = &p->steps[s];
  if (b->call.n_in != 2 || b->call.n_out != 1 || a->call.n_in >= 8 || !a->op->absorb
      || !osh_shape_equal (&b->call.in[0], &b->call.in[1])
      || !osh_shape_equal (&a->call.out[0], &b->call.out[0]))
    return false;
  int other = b->in_vals[b->in_vals[0] == a->out_vals[0] ? 1 : 0];
  if (!ready_before (p, other, s))
    return false;
  int vals[8];
  OshShape shapes[8];
  memcpy (vals, a->in_vals, (size_t) a->call.n_in * sizeof (int));
  memcpy (shapes, a->call.in, (size_t) a->call.n_in * sizeof (OshShape));
  vals[a->call.n_in] = other;
  shapes[a->call.n_in] = p->vals[other].shape;
  return fold_with_inputs (a, b, OSH_FUSE_RESIDUAL, vals, shapes, a->call.n_in + 1);
}

/* Lets steps fold the steps that read their output (a convolution takes in the
 * BatchNormalization and the activation after it, or the sigmoid-and-multiply of a SiLU), and
 * drops copies (Dropout and the like at inference) by writing their output directly: fewer
 * passes over memory. Values someone keeps (outputs, captures) are never folded away. */
static void
fuse_steps (OshPlan *p)
{
  for (int s = 0; s < p->n_steps; s++)
    {
      Step *a = &p->steps[s];
      int r[2], sig, mul;
      /* A padding step read only by a convolution that can treat the border itself. */
      if (is_class (a, "ZeroPadding2D") && a->call.n_in == 1 && a->call.n_out == 1
          && !p->vals[a->out_vals[0]].keep && readers_of (p, a->out_vals[0], r, 1) == 1
          && p->steps[r[0]].call.n_in == 1 && p->steps[r[0]].op->absorb
          && p->steps[r[0]].op->absorb (&p->steps[r[0]].call, &a->call, OSH_FUSE_PAD))
        {
          p->steps[r[0]].in_vals[0] = a->in_vals[0];
          drop_step (p, s--);
          continue;
        }
      /* A product read only by a step that can scale its input itself (squeeze-excite before
       * a 1×1 convolution). */
      if (a->call.n_in == 2 && a->call.n_out == 1 && !p->vals[a->out_vals[0]].keep
          && readers_of (p, a->out_vals[0], r, 1) == 1 && p->steps[r[0]].call.n_in == 1
          && p->steps[r[0]].op->absorb
          && fold_with_inputs (&p->steps[r[0]], a, OSH_FUSE_SCALE, a->in_vals, a->call.in, 2))
        {
          drop_step (p, s--);
          continue;
        }
      while (a->call.n_out == 1 && !p->vals[a->out_vals[0]].keep)
        {
          int n = readers_of (p, a->out_vals[0], r, 2);
          if (n == 2 && a->op->absorb && swish_pair (p, r, &sig, &mul)
              && osh_shape_equal (&a->call.out[0], &p->steps[sig].call.out[0])
              && a->op->absorb (&a->call, &p->steps[sig].call, OSH_FUSE_SWISH))
            {
              /* Readers come after their producer: `a` does not move. */
              a->out_vals[0] = p->steps[mul].out_vals[0];
              drop_step (p, sig > mul ? sig : mul);
              drop_step (p, sig > mul ? mul : sig);
              continue;
            }
          if (n == -1 && (r[0] = squaring_reader (p, a->out_vals[0])) >= 0)
            n = 1; /* offered as any one-input step: it computes a function of a's output */
          if (n != 1)
            break;
          Step *b = &p->steps[r[0]];
          if (fold_residual (p, s, b))
            {
              a->out_vals[0] = b->out_vals[0];
              drop_step (p, r[0]);
              continue;
            }
          bool squaring = b->call.n_in == 2 && b->in_vals[0] == b->in_vals[1];
          if ((b->call.n_in != 1 && !squaring) || b->call.n_out != 1)
            break;
          bool same = osh_shape_equal (&a->call.out[0], &b->call.out[0]);
          bool copy = same && b->op->run == osh_copy_run;
          if (!copy
              && !(same && a->op->absorb && a->op->absorb (&a->call, &b->call, OSH_FUSE_NEXT))
              && !(a->op->absorb && a->op->absorb (&a->call, &b->call, OSH_FUSE_STREAM)))
            break;
          a->call.out[0] = b->call.out[0];
          a->out_vals[0] = b->out_vals[0];
          drop_step (p, r[0]);
        }
      /* A step computing one operand of its only reader from the reader's other operand. */
      if (a->call.n_in == 1 && a->call.n_out == 1 && !p->vals[a->out_vals[0]].keep
          && readers_of (p, a->out_vals[0], r, 1) == 1)
        {
          Step *m = &p->steps[r[0]];
          int k = m->call.n_in == 2 && m->in_vals[0] == a->out_vals[0] ? 0 : 1;
          if (m->call.n_in == 2 && m->call.n_out == 1 && m->in_vals[1 - k] == a->in_vals[0]
              && m->op->absorb && m->op->absorb (&m->call, &a->call, OSH_FUSE_OPERAND))
            {
              m->in_vals[k] = a->in_vals[0];
              drop_step (p, s--);
            }
        }
    }
}

/* Gives step a (one output) a second: that of step g, which a now computes too
 * (OSH_FUSE_MEAN); g is dropped. */
static bool
fold_output (OshPlan *p, int a_idx, int g_idx)
{
  Step *a = &p->steps[a_idx], *g = &p->steps[g_idx];
  int out_vals[2] = { a->out_vals[0], g->out_vals[0] };
  OshShape out[2] = { a->call.out[0], g->call.out[0] };
  if (!refold (a, g, OSH_FUSE_MEAN, a->in_vals, a->call.in, a->call.n_in, out_vals, out, 2))
    return false;
  drop_step (p, g_idx);
  return true;
}

/* Lets a step that makes a value also make its global average pooling, read beside the value
 * itself (a depthwise convolution and squeeze-excite's squeeze). */
static void
fuse_means (OshPlan *p)
{
  for (int s = 0; s < p->n_steps; s++)
    {
      Step *a = &p->steps[s];
      /* Not when the value is kept: capturing layers turns folds off, as in fuse_steps. */
      if (a->call.n_out != 1 || !a->op->absorb || p->vals[a->out_vals[0]].keep)
        continue;
      for (int t = s + 1; t < p->n_steps; t++)
        {
          const Step *g = &p->steps[t];
          if (g->call.n_in == 1 && g->call.n_out == 1 && g->in_vals[0] == a->out_vals[0]
              && is_class (g, "GlobalAveragePooling2D") && fold_output (p, s, t))
            break;
        }
    }
}

/* The fusion passes in order; fuse_steps twice: folding a padding step into a convolution makes
 * it the direct reader of the step before, which the first pass had already passed. */
void
osh_plan_fuse (OshPlan *p)
{
  fuse_steps (p);
  fuse_steps (p);
  fuse_means (p);
}
