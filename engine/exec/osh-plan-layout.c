/* The layout pass for channels-first (ONNX) graphs: rank-4 activations stay channels-last
 * (NHWC) between the steps that can work that way, with conversion steps ("ToNHWC", "ToNCHW")
 * where layouts meet and after kept values, which stay channels-first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-plan-internal.h"

/* True when a value's NHWC memory differs from its NCHW memory: rank 4 with more than one
 * channel and more than one pixel. */
static bool
layout_matters (const OshShape *s)
{
  return s->rank == 4 && s->dim[1] > 1 && s->dim[2] * s->dim[3] > 1;
}

static void
to_nhwc_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OshShape *s = &c->in[0];
  osh_op_to_channels_last (in[0], out[0], s->dim[0], s->dim[1], s->dim[2] * s->dim[3]);
}

static void
to_nchw_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const OshShape *s = &c->in[0];
  osh_op_to_channels_first (in[0], out[0], s->dim[0], s->dim[1], s->dim[2] * s->dim[3]);
}

static const OshOp to_nhwc_op = { .name = "ToNHWC", .run = to_nhwc_run, .cats = OSH_CAT_LAYOUT };
static const OshOp to_nchw_op = { .name = "ToNCHW", .run = to_nchw_run, .cats = OSH_CAT_LAYOUT };
/* What the conversion steps report as their layer (osh_plan_step's class name). */
static OshLayer to_nhwc_layer = { .name = (char *) "to_nhwc",
                                  .class_name = (char *) "ToNHWC",
                                  .owner = -1 };
static OshLayer to_nchw_layer = { .name = (char *) "to_nchw",
                                  .class_name = (char *) "ToNCHW",
                                  .owner = -1 };

/* Appends a step converting value `from` to value `to` (its twin in the other layout). */
static bool
add_conversion (OshPlan *p, int from, int to, OshError *err)
{
  if (!osh_plan_grow ((void **) &p->steps, &p->cap_steps, p->n_steps + 1, sizeof (Step), err))
    return false;
  bool nhwc = p->vals[to].nhwc;
  Step *st = &p->steps[p->n_steps];
  memset (st, 0, sizeof *st);
  OshShape *shapes = malloc (2 * sizeof *shapes);
  st->node = p->vals[from].node;
  st->op = nhwc ? &to_nhwc_op : &to_nchw_op;
  st->in_vals = malloc (sizeof (int));
  st->out_vals = malloc (sizeof (int));
  char *at = osh_plan_layer_path (p->g, p->g->nodes[st->node].layer);
  if (at && (st->path = malloc (strlen (at) + 16)))
    sprintf (st->path, "%s (to %s)", at, nhwc ? "NHWC" : "NCHW");
  free (at);
  st->call = (OshOpCall){ .graph = p->g,
                          .layer = nhwc ? &to_nhwc_layer : &to_nchw_layer,
                          .in = shapes,
                          .n_in = 1,
                          .out = shapes ? shapes + 1 : NULL,
                          .n_out = 1 };
  p->n_steps++; /* owned from here on */
  if (!shapes || !st->in_vals || !st->out_vals || !st->path)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory planning a layout conversion");
  shapes[0] = shapes[1] = p->vals[from].shape;
  st->in_vals[0] = from;
  st->out_vals[0] = to;
  return true;
}

/* The value holding v's tensor in layout `nhwc`: v itself, its twin, or a new twin computed by
 * a conversion step appended now. -1 when out of memory. */
static int
in_layout (OshPlan *p, int v, bool nhwc, OshError *err)
{
  if (p->vals[v].nhwc == nhwc || !layout_matters (&p->vals[v].shape))
    return v;
  if (p->vals[v].twin >= 0)
    return p->vals[v].twin;
  OshShape s = p->vals[v].shape;
  int t = osh_plan_new_value (p, &s, p->vals[v].node, err);
  if (t < 0)
    return -1;
  p->vals[t].nhwc = nhwc;
  p->vals[t].twin = v;
  p->vals[v].twin = t;
  return add_conversion (p, v, t, err) ? t : -1;
}

/* Whether some reader of each value could take it channels-last (readers_nhwc[v]). */
static bool *
readers_nhwc_of (OshPlan *p)
{
  bool *any = calloc ((size_t) p->n_vals + 1, sizeof *any);
  for (int s = 0; any && s < p->n_steps; s++)
    {
      Step *st = &p->steps[s];
      OshNhwcFit fit = st->op->channels_last ? st->op->channels_last (&st->call, false) : 0;
      bool can = fit == OSH_NHWC_CAN || fit == OSH_NHWC_GAINS;
      for (int i = 0; i < st->call.n_in; i++)
        any[st->in_vals[i]] |= can;
    }
  return any;
}

/* Rebuilds the schedule of an ONNX graph with rank-4 values stored channels-last where the steps
 * allow it, greedily in schedule order: a step switches when it gains by it on its own (a packed
 * convolution; unless its input is channels-first and no reader of its output can take it
 * channels-last, where switching would only add conversions), or when some input is
 * channels-last already and switching needs no more conversions of its inputs than staying
 * would; a step that reads channels-first and writes channels-last switches when some reader
 * of its output can take it so. Conversions are inserted where layouts meet and after kept values (outputs, captures),
 * which always stay channels-first. */
bool
osh_plan_choose_layouts (OshPlan *p, bool eager, OshError *err)
{
  bool *readers_nhwc = readers_nhwc_of (p);
  if (!readers_nhwc)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory choosing layouts");
  Step *old = p->steps;
  int n_old = p->n_steps;
  p->steps = NULL;
  p->n_steps = p->cap_steps = 0;
  bool ok = true;
  int s = 0;
  for (; s < n_old && ok; s++)
    {
      Step st = old[s];
      int to_last = 0, to_first = 0; /* conversions switching needs, and staying needs */
      bool some_last = false;        /* an input is channels-last already */
      for (int i = 0; i < st.call.n_in; i++)
        {
          const Value *v = &p->vals[st.in_vals[i]];
          if (!layout_matters (&v->shape))
            continue;
          some_last |= v->nhwc || v->twin >= 0;
          to_last += !v->nhwc && v->twin < 0;
          to_first += v->nhwc && v->twin < 0;
        }
      bool out_wanted = false; /* some reader can take an output channels-last */
      for (int k = 0; k < st.call.n_out; k++)
        out_wanted |= readers_nhwc[st.out_vals[k]];
      OshNhwcFit fit = st.op->channels_last ? st.op->channels_last (&st.call, false) : OSH_NHWC_NO;
      bool nhwc = (fit == OSH_NHWC_GAINS && (eager || to_last == 0 || out_wanted))
                  || (fit == OSH_NHWC_CAN && (eager || (some_last && to_last <= to_first)))
                  || (fit == OSH_NHWC_WRITES && (eager || out_wanted));
      if (nhwc)
        fit = st.op->channels_last (&st.call, true);
      nhwc = nhwc && fit != OSH_NHWC_NO;
      bool in_nhwc = nhwc && fit != OSH_NHWC_WRITES; /* its inputs stay channels-first */
      for (int i = 0; i < st.call.n_in && ok; i++)
        {
          int v = in_layout (p, st.in_vals[i], in_nhwc, err);
          ok = v >= 0;
          st.in_vals[i] = ok ? v : st.in_vals[i];
        }
      ok =
          ok
          && osh_plan_grow ((void **) &p->steps, &p->cap_steps, p->n_steps + 1, sizeof (Step), err);
      if (!ok)
        break;
      int at = p->n_steps;
      p->steps[p->n_steps++] = st;
      for (int k = 0; k < st.call.n_out && ok && nhwc; k++)
        {
          int v = st.out_vals[k];
          if (!layout_matters (&p->vals[v].shape))
            continue;
          if (!p->vals[v].keep)
            {
              p->vals[v].nhwc = true;
              continue;
            }
          /* A kept value stays NCHW: the step writes a channels-last twin, converted back. */
          OshShape shape = p->vals[v].shape;
          int t = osh_plan_new_value (p, &shape, p->vals[v].node, err);
          ok = t >= 0;
          if (!ok)
            break;
          p->vals[t].nhwc = true;
          p->vals[t].twin = v;
          p->vals[v].twin = t;
          p->steps[at].out_vals[k] = t;
          ok = add_conversion (p, t, v, err);
        }
    }
  /* Steps not moved yet (after a failure) are still owned by `old`. */
  for (; s < n_old; s++)
    osh_plan_free_step (&old[s]);
  free (old);
  free (readers_nhwc);
  p->scratch_size = 0;
  for (int k = 0; k < p->n_steps; k++)
    if (p->steps[k].call.scratch > p->scratch_size)
      p->scratch_size = p->steps[k].call.scratch;
  return ok;
}

bool
osh_plan_wants_layout_pass (const OshGraph *g, const OshExecOptions *opt)
{
  const char *env = getenv ("OFFSHOOT_KEEP_LAYOUT");
  return osh_dialect_of (g)->channels_last_pass && !opt->keep_layout && !opt->capture_all
         && !(env && strcmp (env, "1") == 0);
}
