/* Building a plan's schedule from the graph: every value resolved once per model call (nested
 * models inlined, one context per call), a step added for each node with its op's shapes and
 * preparation, and the concrete shapes of the model's inputs. Also the small helpers the other
 * passes share: growing arrays, layer paths, new values, freeing a step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-plan-internal.h"

#define MAX_CONTEXTS 100000 /* model calls, nested ones included */

bool
osh_plan_grow (void **items, int *cap, int need, size_t size, OshError *err)
{
  if (need <= *cap)
    return true;
  int next = *cap ? *cap * 2 : 64;
  while (next < need)
    next *= 2;
  void *p = realloc (*items, (size_t) next * size);
  if (!p)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory planning %d entries", need);
  *items = p;
  *cap = next;
  return true;
}

char *
osh_plan_layer_path (const OshGraph *g, int layer)
{
  char *p = osh_graph_layer_path (g, layer);
  return p ? p : strdup (g->layers[layer].name);
}

int
osh_plan_new_context (OshPlan *p, int model, OshError *err)
{
  if (p->n_ctx >= MAX_CONTEXTS)
    {
      osh_fail (err, OSH_ERR_LIMIT, "more than %d nested model calls", MAX_CONTEXTS);
      return -1;
    }
  if (!osh_plan_grow ((void **) &p->ctx, &p->cap_ctx, p->n_ctx + 1, sizeof (Context), err))
    return -1;
  Context *c = &p->ctx[p->n_ctx];
  c->model = model;
  c->memo = malloc ((size_t) (p->n_slots + 1) * sizeof (int));
  c->call_ctx = malloc ((size_t) (p->g->n_nodes + 1) * sizeof (int));
  if (!c->memo || !c->call_ctx)
    {
      free (c->memo);
      free (c->call_ctx);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a model call");
      return -1;
    }
  memset (c->memo, 0xff, (size_t) (p->n_slots + 1) * sizeof (int));
  memset (c->call_ctx, 0xff, (size_t) (p->g->n_nodes + 1) * sizeof (int));
  return p->n_ctx++;
}

int
osh_plan_new_value (OshPlan *p, const OshShape *s, int node, OshError *err)
{
  if (!osh_shape_check (s, err))
    return -1;
  if (!osh_plan_grow ((void **) &p->vals, &p->cap_vals, p->n_vals + 1, sizeof (Value), err))
    return -1;
  p->vals[p->n_vals] = (Value){ .shape = *s,
                                .numel = osh_shape_numel (s),
                                .last_use = -1,
                                .buffer = -1,
                                .node = node,
                                .twin = -1 };
  return p->n_vals++;
}

static bool
fail_at (OshError *err, const OshGraph *g, int layer, OshErrorCode code, const char *what)
{
  char *path = osh_plan_layer_path (g, layer);
  osh_fail (err, code, "layer '%s' (%s): %s", path, g->layers[layer].class_name, what);
  free (path);
  return false;
}

/* Creates the step computing `node` in context `cx` from its resolved inputs. */
static bool
add_step (OshPlan *p, int cx, int node, OshError *err)
{
  const OshGraph *g = p->g;
  const OshNode *n = &g->nodes[node];
  const OshLayer *l = &g->layers[n->layer];
  const OshOp *op = osh_op_find (g, l->class_name);
  char msg[256];
  if (!op || !op->run)
    {
      snprintf (msg, sizeof msg, "class %s cannot run in Offshoot%s", l->class_name,
                strcmp (l->class_name, "Lambda") == 0 || strcmp (l->class_name, "TFOpLambda") == 0
                    ? " (a Lambda holds Python code, which is not stored in the file)"
                    : " (no kernel for it)");
      return fail_at (err, g, n->layer, OSH_ERR_UNSUPPORTED, msg);
    }
  if (!osh_plan_grow ((void **) &p->steps, &p->cap_steps, p->n_steps + 1, sizeof (Step), err))
    return false;
  Step *st = &p->steps[p->n_steps];
  memset (st, 0, sizeof *st);
  st->node = node;
  st->op = op;
  st->path = osh_plan_layer_path (g, n->layer);
  st->in_vals = malloc ((size_t) (n->n_inputs + 1) * sizeof (int));
  st->out_vals = malloc ((size_t) (n->n_outputs + 1) * sizeof (int));
  OshShape *shapes = malloc ((size_t) (n->n_inputs + n->n_outputs + 1) * sizeof (OshShape));
  st->call = (OshOpCall){ .graph = g,
                          .layer = l,
                          .in = shapes,
                          .n_in = n->n_inputs,
                          .out = shapes ? shapes + n->n_inputs : NULL,
                          .n_out = n->n_outputs,
                          .kwargs = n->kwargs,
                          .count_only = p->count_only };
  p->n_steps++; /* owned from here on, freed with the plan */
  if (!st->path || !st->in_vals || !st->out_vals || !shapes)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory planning a step");
  if (n->n_outputs < 1)
    return fail_at (err, g, n->layer, OSH_ERR_FORMAT, "a call with no outputs");
  Context *c = &p->ctx[cx];
  for (int i = 0; i < n->n_inputs; i++)
    {
      int v = c->memo[p->off[n->inputs[i].node] + n->inputs[i].index];
      st->in_vals[i] = v;
      shapes[i] = p->vals[v].shape;
    }
  memset (st->call.out, 0, (size_t) n->n_outputs * sizeof (OshShape));
  bool ok = op->infer (&st->call, err) && (!op->prepare || op->prepare (&st->call, err));
  for (int k = 0; ok && k < n->n_outputs; k++)
    {
      int v = osh_plan_new_value (p, &st->call.out[k], node, err);
      ok = v >= 0;
      if (ok)
        {
          st->out_vals[k] = v;
          c->memo[p->off[node] + k] = v;
          if (p->first_val[p->off[node] + k] < 0)
            p->first_val[p->off[node] + k] = v;
        }
    }
  if (ok && st->call.scratch > (size_t) OSH_MAX_ELEMENTS)
    ok = osh_fail (err, OSH_ERR_LIMIT, "needs %zu floats of scratch (over the limit of %lld)",
                   st->call.scratch, (long long) OSH_MAX_ELEMENTS);
  if (ok)
    {
      osh_plan_release_step (p, st);
      p->flops += st->call.flops;
      if (st->call.scratch > p->scratch_size)
        p->scratch_size = st->call.scratch;
    }
  if (!ok)
    osh_error_prefix (err, "layer '%s' (%s): ", st->path, l->class_name);
  return ok;
}

void
osh_plan_free_step (Step *st)
{
  if (st->call.params)
    (st->call.free_params ? st->call.free_params : free) (st->call.params);
  free ((void *) st->call.in);
  free (st->in_vals);
  free (st->out_vals);
  free (st->path);
}

/* Resolves the value of (cx, node) and everything it needs, without recursion. */
bool
osh_plan_resolve (OshPlan *p, int cx0, int node0, OshError *err)
{
  const OshGraph *g = p->g;
  typedef struct
  {
    int cx, node;
  } Item;
  Item *stack = NULL;
  int top = 0, cap = 0;
  bool ok = osh_plan_grow ((void **) &stack, &cap, 1, sizeof (Item), err);
  if (ok)
    stack[top++] = (Item){ cx0, node0 };
  while (ok && top > 0)
    {
      Item it = stack[top - 1];
      Context *c = &p->ctx[it.cx];
      const OshNode *n = &g->nodes[it.node];
      const OshLayer *l = &g->layers[n->layer];
      if (c->memo[p->off[it.node]] >= 0)
        {
          top--;
          continue;
        }
      /* A source that is not a bound input: an unbound Input (Keras's "Graph disconnected"), or
       * an op computed from its weights alone (ONNX's constant-fed nodes), which simply runs. */
      if (n->n_inputs == 0 && !l->is_model && strcmp (l->class_name, "InputLayer") != 0)
        {
          ok = add_step (p, it.cx, it.node, err);
          top--;
          continue;
        }
      if (n->n_inputs == 0 && !l->is_model)
        {
          char *mpath = c->model >= 0 ? osh_plan_layer_path (g, c->model) : NULL;
          char msg[600];
          snprintf (msg, sizeof msg,
                    "Graph disconnected: this tensor is not an input of %s%s%s, so the layers "
                    "after it cannot be computed",
                    mpath ? "the model '" : "the model", mpath ? mpath : "", mpath ? "'" : "");
          free (mpath);
          ok = fail_at (err, g, n->layer, OSH_ERR_DISCONNECTED, msg);
          break;
        }
      /* Inputs first. */
      int pending = 0;
      for (int i = 0; i < n->n_inputs && ok; i++)
        if (c->memo[p->off[n->inputs[i].node] + n->inputs[i].index] < 0)
          {
            ok = osh_plan_grow ((void **) &stack, &cap, top + 1, sizeof (Item), err);
            if (ok)
              stack[top++] = (Item){ it.cx, n->inputs[i].node };
            pending++;
          }
      if (!ok || pending)
        continue;
      if (!l->is_model)
        {
          ok = add_step (p, it.cx, it.node, err);
          top--;
          continue;
        }
      /* A model call: its own context binds the model's inputs to the call's inputs. */
      if (n->n_inputs != l->n_inputs || n->n_outputs != l->n_outputs)
        {
          ok = fail_at (err, g, n->layer, OSH_ERR_SHAPE,
                        "called with a different number of inputs or outputs than the model has");
          break;
        }
      int sub = c->call_ctx[it.node];
      if (sub < 0)
        {
          sub = osh_plan_new_context (p, n->layer, err);
          if (sub < 0)
            {
              ok = false;
              break;
            }
          c = &p->ctx[it.cx]; /* osh_plan_new_context may move the array */
          c->call_ctx[it.node] = sub;
          for (int i = 0; i < l->n_inputs; i++)
            p->ctx[sub].memo[p->off[l->inputs[i].node] + l->inputs[i].index] =
                c->memo[p->off[n->inputs[i].node] + n->inputs[i].index];
        }
      for (int i = 0; i < l->n_outputs && ok; i++)
        if (p->ctx[sub].memo[p->off[l->outputs[i].node] + l->outputs[i].index] < 0)
          {
            ok = osh_plan_grow ((void **) &stack, &cap, top + 1, sizeof (Item), err);
            if (ok)
              stack[top++] = (Item){ sub, l->outputs[i].node };
            pending++;
          }
      if (!ok || pending)
        continue;
      for (int i = 0; i < l->n_outputs; i++)
        c->memo[p->off[it.node] + i] =
            p->ctx[sub].memo[p->off[l->outputs[i].node] + l->outputs[i].index];
      top--;
    }
  free (stack);
  return ok;
}

/* The concrete shape of model input `i`: the declared one with the batch filled in, or the
 * caller's, which must agree with every size the model declares. */
bool
osh_plan_concrete_input_shape (OshPlan *p, const OshExecOptions *opt, int i, OshShape *s,
                               OshError *err)
{
  const OshGraph *g = p->g;
  OshRef r = g->inputs[i];
  const OshNode *n = &g->nodes[r.node];
  char *path = osh_plan_layer_path (g, n->layer);
  OshShape declared = { 0 };
  const OshOp *op = osh_op_find (g, g->layers[n->layer].class_name);
  OshOpCall c = { .graph = g, .layer = &g->layers[n->layer], .out = &declared, .n_out = 1 };
  bool ok = true;
  if (n->n_inputs == 0 && n->n_outputs == 1 && op)
    ok = op->infer (&c, err);
  else if (n->shapes)
    declared = n->shapes[r.index];
  if (ok && opt->input_shapes && i < opt->n_input_shapes)
    {
      *s = opt->input_shapes[i];
      bool fits = declared.rank == 0 || declared.rank == s->rank;
      for (int d = 0; fits && d < declared.rank; d++)
        fits = declared.dim[d] < 0 || declared.dim[d] == s->dim[d];
      if (!fits)
        {
          char given[160], want[160];
          OshShape shown = declared; /* with the caller's batch, the way they wrote theirs */
          if (shown.rank > 0 && shown.dim[0] < 0 && s->rank > 0)
            shown.dim[0] = s->dim[0];
          osh_shape_format (s, given, sizeof given);
          osh_shape_format (&shown, want, sizeof want);
          ok = osh_fail (err, OSH_ERR_USAGE, "input '%s': shape %s does not fit the model's %s",
                         path, given, want);
        }
    }
  else if (ok)
    {
      *s = declared;
      if (s->rank > 0 && s->dim[0] < 0)
        s->dim[0] = opt->batch > 0 ? opt->batch : 1;
    }
  if (ok && s->rank == 0)
    ok = osh_fail (err, OSH_ERR_SHAPE, "input '%s' has no known shape: give input_shapes", path);
  if (ok && !osh_shape_check (s, err))
    {
      ok = false;
      osh_error_prefix (err, "input '%s': ", path);
    }
  free (path);
  return ok;
}
