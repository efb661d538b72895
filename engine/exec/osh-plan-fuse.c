/* Fusion as a table of rewrite patterns (MLIR's greedy driver, tinygrad's PatternMatcher): each
 * pattern looks at one step and the steps around it by their ops' categories (OshOpCat), never
 * their class names, offers the step it would fold to the op's absorb, and on success rewires
 * the plan and drops that step. `patterns[]` below lists every fusion there is; osh_plan_fuse
 * applies them until none applies. Values someone keeps (outputs, captures) are never folded
 * away. Adding a fusion: one pattern in the table, one test (tests/ops/test-fusion.c). */
#include <stdlib.h>
#include <string.h>

#include "osh-op-kernels.h"
#include "osh-plan-internal.h"

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
has_cat (const Step *st, unsigned cats)
{
  return (st->op->cats & cats) == cats;
}

/* True when step st has one input and one output, and its output is not kept: a step another
 * may fold away. */
static bool
foldable (const OshPlan *p, const Step *st, int n_in)
{
  return st->call.n_in == n_in && st->call.n_out == 1 && !p->vals[st->out_vals[0]].keep;
}

/* The one step reading step s's only output, which nobody keeps; -1 when there is none or more. */
static int
only_reader (const OshPlan *p, int s)
{
  const Step *a = &p->steps[s];
  int r;
  if (a->call.n_out != 1 || p->vals[a->out_vals[0]].keep
      || readers_of (p, a->out_vals[0], &r, 1) != 1)
    return -1;
  return r;
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

/* Offers `next` to st as it is (inputs and outputs unchanged). */
static bool
offer (Step *st, const Step *next, OshFuseKind kind)
{
  return st->op->absorb && st->op->absorb (&st->call, &next->call, kind);
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

/* Step s now writes step r's output instead of its own, and r is dropped (r comes after s). */
static void
take_output (OshPlan *p, int s, int r, OshFolded what)
{
  Step *a = &p->steps[s];
  a->call.out[0] = p->steps[r].call.out[0];
  a->out_vals[0] = p->steps[r].out_vals[0];
  a->folded |= what;
  drop_step (p, r);
}

/* ---- the patterns ---- */

/* A zero padding read only by a convolution, which then treats the border as zeros itself. */
static bool
pad_into_reader (OshPlan *p, int s)
{
  Step *a = &p->steps[s];
  int r = only_reader (p, s);
  if (!has_cat (a, OSH_CAT_ZERO_PAD) || !foldable (p, a, 1) || r < 0 || p->steps[r].call.n_in != 1
      || !offer (&p->steps[r], a, OSH_FUSE_PAD))
    return false;
  p->steps[r].in_vals[0] = a->in_vals[0];
  p->steps[r].folded |= OSH_FOLDED_PAD;
  drop_step (p, s);
  return true;
}

/* A product read only by a step that scales its input itself (squeeze-excite's x · s before a
 * 1×1 convolution), which then reads the product's two inputs. Only a plain product of two
 * values: one that has taken a step in computes more than its inputs' product (HardSwish's
 * x · f(x) reads x twice, f folded in), which the reader would not know of. */
static bool
scale_into_reader (OshPlan *p, int s)
{
  Step *a = &p->steps[s];
  int r = only_reader (p, s);
  if (!has_cat (a, OSH_CAT_PRODUCT) || !foldable (p, a, 2) || a->folded
      || a->in_vals[0] == a->in_vals[1] || r < 0 || p->steps[r].call.n_in != 1
      || !p->steps[r].op->absorb
      || !fold_with_inputs (&p->steps[r], a, OSH_FUSE_SCALE, a->in_vals, a->call.in, 2))
    return false;
  p->steps[r].folded |= OSH_FOLDED_SCALE;
  drop_step (p, s);
  return true;
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
      if (has_cat (s, OSH_CAT_SIGMOID) && foldable (p, s, 1) && has_cat (m, OSH_CAT_PRODUCT)
          && m->call.n_in == 2 && m->call.n_out == 1
          && readers_of (p, s->out_vals[0], &other, 1) == 1
          && (m->in_vals[0] == s->out_vals[0] || m->in_vals[1] == s->out_vals[0])
          && osh_shape_equal (&s->call.out[0], &m->call.out[0]))
        {
          *sig = r[k], *mul = r[1 - k];
          return true;
        }
    }
  return false;
}

/* x · sigmoid (x) written as two steps reading x (ONNX's SiLU), folded into x's producer. */
static bool
silu_into_producer (OshPlan *p, int s)
{
  Step *a = &p->steps[s];
  int r[2], sig, mul;
  if (a->call.n_out != 1 || p->vals[a->out_vals[0]].keep
      || readers_of (p, a->out_vals[0], r, 2) != 2 || !swish_pair (p, r, &sig, &mul)
      || !osh_shape_equal (&a->call.out[0], &p->steps[sig].call.out[0])
      || !offer (a, &p->steps[sig], OSH_FUSE_SWISH))
    return false;
  /* Readers come after their producer: `a` does not move. */
  a->out_vals[0] = p->steps[mul].out_vals[0];
  a->folded |= OSH_FOLDED_EPILOGUE;
  drop_step (p, sig > mul ? sig : mul);
  drop_step (p, sig > mul ? mul : sig);
  return true;
}

/* A sum of step s's output and a value of the same shape computed before s (a residual Add),
 * added by s itself, which then reads that value as its last input. */
static bool
residual_into_producer (OshPlan *p, int s)
{
  Step *a = &p->steps[s];
  int r = only_reader (p, s);
  if (r < 0)
    return false;
  Step *b = &p->steps[r];
  if (!has_cat (b, OSH_CAT_SUM) || b->call.n_in != 2 || b->call.n_out != 1 || a->call.n_in >= 8
      || !a->op->absorb || !osh_shape_equal (&b->call.in[0], &b->call.in[1])
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
  if (!fold_with_inputs (a, b, OSH_FUSE_RESIDUAL, vals, shapes, a->call.n_in + 1))
    return false;
  a->out_vals[0] = b->out_vals[0];
  a->folded |= OSH_FOLDED_RESIDUAL;
  drop_step (p, r);
  return true;
}

/* The one-input step reading step s's output alone (or a product of that output with itself,
 * x · f(x) once f is folded into it), -1 when there is none. */
static int
element_reader (const OshPlan *p, int s)
{
  const Step *a = &p->steps[s];
  if (a->call.n_out != 1 || p->vals[a->out_vals[0]].keep)
    return -1;
  int r, n = readers_of (p, a->out_vals[0], &r, 1);
  if (n == -1 && (r = squaring_reader (p, a->out_vals[0])) >= 0)
    n = 1; /* offered as any one-input step: it computes a function of a's output */
  if (n != 1)
    return -1;
  const Step *b = &p->steps[r];
  bool squaring = b->call.n_in == 2 && b->in_vals[0] == b->in_vals[1];
  return (b->call.n_in == 1 || squaring) && b->call.n_out == 1 ? r : -1;
}

/* What follows step s alone, of the same shape: a copy is dropped, a per-channel affine map or
 * an activation goes into s's kernel (a convolution's BatchNormalization and ReLU, an Add's
 * ReLU, a Rescaling's Normalization). */
static bool
next_into_producer (OshPlan *p, int s)
{
  Step *a = &p->steps[s];
  int r = element_reader (p, s);
  if (r < 0 || !osh_shape_equal (&a->call.out[0], &p->steps[r].call.out[0]))
    return false;
  const Step *b = &p->steps[r];
  if (has_cat (b, OSH_CAT_COPY) && b->call.n_in == 1)
    {
      take_output (p, s, r, OSH_FOLDED_COPY);
      return true;
    }
  if (!offer (a, b, OSH_FUSE_NEXT))
    return false;
  take_output (p, s, r, has_cat (b, OSH_CAT_AFFINE) ? OSH_FOLDED_AFFINE : OSH_FOLDED_EPILOGUE);
  return true;
}

/* What follows step s alone with another shape, computed by s while its own output is made a
 * few rows at a time (a depthwise convolution after a 1×1 expansion). */
static bool
stream_into_producer (OshPlan *p, int s)
{
  int r = element_reader (p, s);
  if (r < 0 || !offer (&p->steps[s], &p->steps[r], OSH_FUSE_STREAM))
    return false;
  take_output (p, s, r, OSH_FOLDED_DEPTHWISE);
  return true;
}

/* A step computing one operand of its only reader, a product, from the reader's other operand
 * (x · clip (x + 3, 0, 6) / 6, HardSwish written out): the reader computes it itself. */
static bool
operand_into_reader (OshPlan *p, int s)
{
  Step *a = &p->steps[s];
  int r = only_reader (p, s);
  if (!foldable (p, a, 1) || r < 0)
    return false;
  Step *m = &p->steps[r];
  int k = m->call.n_in == 2 && m->in_vals[0] == a->out_vals[0] ? 0 : 1;
  if (m->call.n_in != 2 || m->call.n_out != 1 || m->in_vals[1 - k] != a->in_vals[0]
      || !offer (m, a, OSH_FUSE_OPERAND))
    return false;
  m->in_vals[k] = a->in_vals[0];
  m->folded |= OSH_FOLDED_OPERAND;
  drop_step (p, s);
  return true;
}

/* A global average pooling of step s's output, which other steps read too (squeeze-excite's
 * squeeze beside the excite): s writes the means as a second output while the values are in
 * registers. */
static bool
mean_into_producer (OshPlan *p, int s)
{
  Step *a = &p->steps[s];
  /* Not when the value is kept: capturing layers turns folds off. */
  if (a->call.n_out != 1 || !a->op->absorb || p->vals[a->out_vals[0]].keep)
    return false;
  for (int t = s + 1; t < p->n_steps; t++)
    {
      const Step *g = &p->steps[t];
      if (!has_cat (g, OSH_CAT_GLOBAL_MEAN) || g->call.n_in != 1 || g->call.n_out != 1
          || g->in_vals[0] != a->out_vals[0])
        continue;
      int out_vals[2] = { a->out_vals[0], g->out_vals[0] };
      OshShape out[2] = { a->call.out[0], g->call.out[0] };
      if (!refold (a, g, OSH_FUSE_MEAN, a->in_vals, a->call.in, a->call.n_in, out_vals, out, 2))
        continue;
      a->folded |= OSH_FOLDED_MEAN;
      drop_step (p, t);
      return true;
    }
  return false;
}

/* Every fusion, tried in this order on each step; each drops at least one step when it applies.
 * The order matters where two could apply to one step: a SiLU or a residual before the generic
 * "next". A `last` pattern waits until no other applies anywhere: nothing folds into a step
 * after it (the means are of the output as it stands). */
static const struct
{
  const char *name;
  bool (*rewrite) (OshPlan *p, int s);
  bool last;
} patterns[] = {
  { "pad into conv", pad_into_reader },         /* ZERO_PAD → its conv reader pads itself */
  { "scale into reader", scale_into_reader },   /* PRODUCT x · s → its 1×1 conv reader scales */
  { "SiLU pair", silu_into_producer },          /* SIGMOID and PRODUCT of x → x's producer */
  { "residual", residual_into_producer },       /* SUM of s's output and an earlier value → s */
  { "next", next_into_producer },               /* COPY dropped; AFFINE, EPILOGUE → producer */
  { "stream depthwise", stream_into_producer }, /* a depthwise conv → its 1×1 producer */
  { "operand", operand_into_reader },           /* f (x) read by PRODUCT x · f (x) → it */
  { "mean", mean_into_producer, true },         /* GLOBAL_MEAN of s's output → s's 2nd output */
};

/* One sweep: steps in order (producers before their readers, so a convolution has taken its
 * BatchNormalization before anyone looks at its activation), every pattern (the `last` ones
 * too when `last`) on each step until none applies. True when anything changed. */
static bool
sweep (OshPlan *p, bool last)
{
  enum
  {
    N_PATTERNS = sizeof patterns / sizeof patterns[0]
  };
  bool changed = false;
  for (int s = 0; s < p->n_steps; s++)
    for (int k = 0; k < N_PATTERNS && s < p->n_steps; k++)
      if ((last || !patterns[k].last) && patterns[k].rewrite (p, s))
        changed = true, k = -1; /* the step changed (or another took its place): again */
  return changed;
}

/* The greedy driver: sweeps until one changes nothing — a fold can open another at an earlier
 * step (a padding folded into a convolution makes it the direct reader of the step before) —
 * then the `last` patterns, and again while they change something. */
void
osh_plan_fuse (OshPlan *p)
{
  while (sweep (p, false) || sweep (p, true))
    ;
}
