/* The executor: a schedule of op calls built once from the graph (nested models
 * inlined, one context per model call), activation buffers shared by liveness,
 * and a run loop that polls the cancel flag between steps. */
#include "osh-exec.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osh-shapes.h"
#include "osh-op-kernels.h"
#include "osh-op.h"
#include "osh-topo.h"

#define MAX_CONTEXTS 100000 /* model calls, nested ones included */

typedef struct
{
  OshShape shape;
  int64_t numel;
  int last_use; /* last step reading it; -1 none */
  int buffer;
  bool keep;    /* an output, a capture or capture_all: never shared */
  int node;     /* the node (and output) it is the value of */
  bool nhwc;    /* a rank-4 NCHW tensor stored channels-last (choose_layouts) */
  int twin;     /* the same tensor stored the other way, -1 none */
} Value;

typedef struct
{
  int node;
  const OshOp *op;
  OshOpCall call;
  int *in_vals;
  int *out_vals; /* call.n_out values */
  char *path;
  double ms;      /* the last run */
  double best_ms; /* the fastest run so far (0: none yet) */
} Step;

typedef struct
{
  int model;     /* -1 for the top level */
  int *memo;     /* node output slot → value id, -1 unresolved */
  int *call_ctx; /* node → context of that model call, -1 none */
} Context;

struct OshPlan
{
  const OshGraph *g;
  OshGraph *sized; /* an ONNX graph with open input sizes, fixed to the given shapes; or NULL */
  int threads;
  const volatile int *cancel;
  int64_t *off; /* node → first output slot */
  int64_t n_slots;

  Value *vals;
  int n_vals, cap_vals;
  Step *steps;
  int n_steps, cap_steps;
  Context *ctx;
  int n_ctx, cap_ctx;
  int *first_val; /* slot → first value computed for it, -1 none */

  int *in_vals; /* per model input */
  int n_inputs;
  char **in_names;
  int *out_vals;
  int n_outputs;
  char **out_names;

  float **buffers;
  int64_t *buf_size;
  int n_buffers;
  float *scratch;
  size_t scratch_size;
  double flops;
  bool has_run;
};

static bool
grow (void **items, int *cap, int need, size_t size, OshError *err)
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

static char *
layer_path (const OshGraph *g, int layer)
{
  char *p = osh_graph_layer_path (g, layer);
  return p ? p : strdup (g->layers[layer].name);
}

OshExecOptions
osh_exec_options_default (void)
{
  return (OshExecOptions){ .threads = 1, .batch = 1 };
}

static int
new_context (OshPlan *p, int model, OshError *err)
{
  if (p->n_ctx >= MAX_CONTEXTS)
    {
      osh_fail (err, OSH_ERR_LIMIT, "more than %d nested model calls", MAX_CONTEXTS);
      return -1;
    }
  if (!grow ((void **) &p->ctx, &p->cap_ctx, p->n_ctx + 1, sizeof (Context), err))
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

static int
new_value (OshPlan *p, const OshShape *s, int node, OshError *err)
{
  if (!osh_shape_check (s, err))
    return -1;
  if (!grow ((void **) &p->vals, &p->cap_vals, p->n_vals + 1, sizeof (Value), err))
    return -1;
  p->vals[p->n_vals] = (Value){ .shape = *s, .numel = osh_shape_numel (s), .last_use = -1,
                                .buffer = -1, .node = node, .twin = -1 };
  return p->n_vals++;
}

static bool
fail_at (OshError *err, const OshGraph *g, int layer, OshErrorCode code, const char *what)
{
  char *path = layer_path (g, layer);
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
  if (!grow ((void **) &p->steps, &p->cap_steps, p->n_steps + 1, sizeof (Step), err))
    return false;
  Step *st = &p->steps[p->n_steps];
  memset (st, 0, sizeof *st);
  st->node = node;
  st->op = op;
  st->path = layer_path (g, n->layer);
  st->in_vals = malloc ((size_t) (n->n_inputs + 1) * sizeof (int));
  st->out_vals = malloc ((size_t) (n->n_outputs + 1) * sizeof (int));
  OshShape *shapes = malloc ((size_t) (n->n_inputs + n->n_outputs + 1) * sizeof (OshShape));
  st->call = (OshOpCall){ .graph = g, .layer = l, .in = shapes, .n_in = n->n_inputs,
                          .out = shapes ? shapes + n->n_inputs : NULL, .n_out = n->n_outputs,
                          .kwargs = n->kwargs };
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
      int v = new_value (p, &st->call.out[k], node, err);
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
      p->flops += st->call.flops;
      if (st->call.scratch > p->scratch_size)
        p->scratch_size = st->call.scratch;
    }
  if (!ok)
    osh_error_prefix (err, "layer '%s' (%s): ", st->path, l->class_name);
  return ok;
}

/* Resolves the value of (cx, node) and everything it needs, without recursion. */
static bool
resolve (OshPlan *p, int cx0, int node0, OshError *err)
{
  const OshGraph *g = p->g;
  typedef struct
  {
    int cx, node;
  } Item;
  Item *stack = NULL;
  int top = 0, cap = 0;
  bool ok = grow ((void **) &stack, &cap, 1, sizeof (Item), err);
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
       * an ONNX node computed from constants alone, which simply runs. */
      if (n->n_inputs == 0 && !l->is_model && strcmp (l->class_name, "InputLayer") != 0
          && g->class_name && strcmp (g->class_name, "onnx") == 0)
        {
          ok = add_step (p, it.cx, it.node, err);
          top--;
          continue;
        }
      if (n->n_inputs == 0 && !l->is_model)
        {
          char *mpath = c->model >= 0 ? layer_path (g, c->model) : NULL;
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
            ok = grow ((void **) &stack, &cap, top + 1, sizeof (Item), err);
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
          sub = new_context (p, n->layer, err);
          if (sub < 0)
            {
              ok = false;
              break;
            }
          c = &p->ctx[it.cx]; /* new_context may move the array */
          c->call_ctx[it.node] = sub;
          for (int i = 0; i < l->n_inputs; i++)
            p->ctx[sub].memo[p->off[l->inputs[i].node] + l->inputs[i].index]
                = c->memo[p->off[n->inputs[i].node] + n->inputs[i].index];
        }
      for (int i = 0; i < l->n_outputs && ok; i++)
        if (p->ctx[sub].memo[p->off[l->outputs[i].node] + l->outputs[i].index] < 0)
          {
            ok = grow ((void **) &stack, &cap, top + 1, sizeof (Item), err);
            if (ok)
              stack[top++] = (Item){ sub, l->outputs[i].node };
            pending++;
          }
      if (!ok || pending)
        continue;
      for (int i = 0; i < l->n_outputs; i++)
        c->memo[p->off[it.node] + i]
            = p->ctx[sub].memo[p->off[l->outputs[i].node] + l->outputs[i].index];
      top--;
    }
  free (stack);
  return ok;
}

/* The concrete shape of model input `i`: the declared one with the batch filled in, or the
 * caller's, which must agree with every size the model declares. */
static bool
input_shape (OshPlan *p, const OshExecOptions *opt, int i, OshShape *s, OshError *err)
{
  const OshGraph *g = p->g;
  OshRef r = g->inputs[i];
  const OshNode *n = &g->nodes[r.node];
  char *path = layer_path (g, n->layer);
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
  if (!grow ((void **) &p->buf_size, &fl->cap, p->n_buffers + 1, sizeof (int64_t), err))
    return false;
  p->buf_size[p->n_buffers] = need;
  p->vals[v].buffer = p->n_buffers++;
  return true;
}

/* Gives every value a buffer; values whose lives do not overlap share one. A step's output
 * is placed before its inputs are released, so kernels never see aliased memory (but for
 * over_last_input, which the step asked for). */
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
  if (in->last_use != s || in->keep || in->buffer < 0 || out->buffer >= 0 || out->numel != in->numel)
    return -1;
  out->buffer = in->buffer;
  return in->buffer;
}

static bool
assign_buffers (OshPlan *p, OshError *err)
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

static bool
keep_node (OshPlan *p, int node, bool soft, OshError *err)
{
  for (int k = 0; k < p->g->nodes[node].n_outputs; k++)
    {
      int v = p->first_val[p->off[node] + k];
      if (v < 0)
        {
          OshError local = { 0 };
          if (!resolve (p, 0, node, soft ? &local : err))
            return soft;
          v = p->first_val[p->off[node] + k];
          if (v < 0)
            v = p->ctx[0].memo[p->off[node] + k];
        }
      if (v >= 0)
        p->vals[v].keep = true;
    }
  return true;
}

static void
free_step (Step *st)
{
  if (st->call.params)
    (st->call.free_params ? st->call.free_params : free) (st->call.params);
  free ((void *) st->call.in);
  free (st->in_vals);
  free (st->out_vals);
  free (st->path);
}

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
  free_step (&p->steps[r]);
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

/* ---- layout: ONNX activations channels-last between the steps that can work that way ---- */

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

static const OshOp to_nhwc_op = { .name = "ToNHWC", .run = to_nhwc_run };
static const OshOp to_nchw_op = { .name = "ToNCHW", .run = to_nchw_run };
/* What the conversion steps report as their layer (osh_plan_step's class name). */
static OshLayer to_nhwc_layer = { .name = (char *) "to_nhwc", .class_name = (char *) "ToNHWC",
                                  .owner = -1 };
static OshLayer to_nchw_layer = { .name = (char *) "to_nchw", .class_name = (char *) "ToNCHW",
                                  .owner = -1 };

/* Appends a step converting value `from` to value `to` (its twin in the other layout). */
static bool
add_conversion (OshPlan *p, int from, int to, OshError *err)
{
  if (!grow ((void **) &p->steps, &p->cap_steps, p->n_steps + 1, sizeof (Step), err))
    return false;
  bool nhwc = p->vals[to].nhwc;
  Step *st = &p->steps[p->n_steps];
  memset (st, 0, sizeof *st);
  OshShape *shapes = malloc (2 * sizeof *shapes);
  st->node = p->vals[from].node;
  st->op = nhwc ? &to_nhwc_op : &to_nchw_op;
  st->in_vals = malloc (sizeof (int));
  st->out_vals = malloc (sizeof (int));
  char *at = layer_path (p->g, p->g->nodes[st->node].layer);
  if (at && (st->path = malloc (strlen (at) + 16)))
    sprintf (st->path, "%s (to %s)", at, nhwc ? "NHWC" : "NCHW");
  free (at);
  st->call = (OshOpCall){ .graph = p->g, .layer = nhwc ? &to_nhwc_layer : &to_nchw_layer,
                          .in = shapes, .n_in = 1, .out = shapes ? shapes + 1 : NULL, .n_out = 1 };
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
  int t = new_value (p, &s, p->vals[v].node, err);
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
      bool can = st->op->channels_last && st->op->channels_last (&st->call, false) != OSH_NHWC_NO;
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
 * would. Conversions are inserted where layouts meet and after kept values (outputs, captures),
 * which always stay channels-first. */
static bool
choose_layouts (OshPlan *p, bool eager, OshError *err)
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
                  || (fit == OSH_NHWC_CAN && (eager || (some_last && to_last <= to_first)));
      if (nhwc)
        nhwc = st.op->channels_last (&st.call, true) != OSH_NHWC_NO;
      for (int i = 0; i < st.call.n_in && ok; i++)
        {
          int v = in_layout (p, st.in_vals[i], nhwc, err);
          ok = v >= 0;
          st.in_vals[i] = ok ? v : st.in_vals[i];
        }
      ok = ok && grow ((void **) &p->steps, &p->cap_steps, p->n_steps + 1, sizeof (Step), err);
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
          int t = new_value (p, &shape, p->vals[v].node, err);
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
    free_step (&old[s]);
  free (old);
  free (readers_nhwc);
  p->scratch_size = 0;
  for (int k = 0; k < p->n_steps; k++)
    if (p->steps[k].call.scratch > p->scratch_size)
      p->scratch_size = p->steps[k].call.scratch;
  return ok;
}

static bool
wants_layout_pass (const OshGraph *g, const OshExecOptions *opt)
{
  const char *env = getenv ("OFFSHOOT_KEEP_LAYOUT");
  return g->class_name && strcmp (g->class_name, "onnx") == 0 && !opt->keep_layout
         && !opt->capture_all && !(env && strcmp (env, "1") == 0);
}

OshPlan *
osh_plan_new (const OshGraph *g, const OshExecOptions *opt_in, OshError *err)
{
  OshExecOptions opt = opt_in ? *opt_in : osh_exec_options_default ();
  OshPlan *p = calloc (1, sizeof *p);
  if (!p)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a plan");
      return NULL;
    }
  if (osh_graph_needs_specialize (g))
    {
      /* Fixing the sizes folds shape computations into constants: done on a private copy. */
      p->sized = osh_graph_copy (g, err);
      if (!p->sized || !osh_graph_specialize (p->sized, opt.input_shapes, opt.n_input_shapes, err))
        goto fail;
      g = p->sized;
    }
  p->g = g;
  p->threads = opt.threads > 0 ? opt.threads : 1;
  p->cancel = opt.cancel;
  p->n_inputs = g->n_inputs;
  p->n_outputs = g->n_outputs;
  if (g->n_outputs > OSH_EXEC_MAX_OUTPUTS)
    {
      osh_fail (err, OSH_ERR_LIMIT, "the model has %d outputs (at most %d run at once)",
                g->n_outputs, OSH_EXEC_MAX_OUTPUTS);
      goto fail;
    }
  /* A cycle makes the graph unrunnable; the ordering finds it. */
  int *order = osh_topo_order (g, err);
  if (!order)
    goto fail;
  free (order);
  p->off = malloc ((size_t) (g->n_nodes + 1) * sizeof *p->off);
  if (!p->off)
    goto nomem;
  for (int i = 0; i < g->n_nodes; i++)
    {
      p->off[i] = p->n_slots;
      p->n_slots += g->nodes[i].n_outputs;
    }
  p->first_val = malloc ((size_t) (p->n_slots + 1) * sizeof (int));
  p->in_vals = calloc ((size_t) p->n_inputs + 1, sizeof (int));
  p->out_vals = calloc ((size_t) p->n_outputs + 1, sizeof (int));
  p->in_names = calloc ((size_t) p->n_inputs + 1, sizeof (char *));
  p->out_names = calloc ((size_t) p->n_outputs + 1, sizeof (char *));
  if (!p->first_val || !p->in_vals || !p->out_vals || !p->in_names || !p->out_names)
    goto nomem;
  memset (p->first_val, 0xff, (size_t) (p->n_slots + 1) * sizeof (int));
  if (new_context (p, -1, err) < 0)
    goto fail;

  for (int i = 0; i < p->n_inputs; i++)
    {
      OshShape s;
      OshRef r = g->inputs[i];
      p->in_names[i] = layer_path (g, g->nodes[r.node].layer);
      if (!input_shape (p, &opt, i, &s, err))
        goto fail;
      int v = new_value (p, &s, r.node, err);
      if (v < 0)
        goto fail;
      p->in_vals[i] = v;
      p->ctx[0].memo[p->off[r.node] + r.index] = v;
      p->first_val[p->off[r.node] + r.index] = v;
    }
  for (int i = 0; i < p->n_outputs; i++)
    {
      OshRef r = g->outputs[i];
      p->out_names[i] = layer_path (g, g->nodes[r.node].layer);
      if (!resolve (p, 0, r.node, err))
        goto fail;
      p->out_vals[i] = p->ctx[0].memo[p->off[r.node] + r.index];
      p->vals[p->out_vals[i]].keep = true;
    }
  for (int i = 0; i < opt.n_capture; i++)
    {
      int layer = osh_graph_find_path (g, opt.capture[i]);
      int node = layer >= 0 ? osh_graph_layer_first_node (g, layer) : -1;
      if (node < 0)
        {
          osh_fail (err, OSH_ERR_NOT_FOUND, "no layer '%s' to capture", opt.capture[i]);
          goto fail;
        }
      if (!keep_node (p, node, false, err))
        goto fail;
    }
  if (opt.capture_all)
    {
      for (int i = 0; i < g->n_nodes; i++)
        if (g->layers[g->nodes[i].layer].owner < 0)
          keep_node (p, i, true, err);
      for (int v = 0; v < p->n_vals; v++)
        p->vals[v].keep = true;
    }
  /* Twice: folding a padding step into a convolution makes it the direct reader of the step
   * before, which the first pass had already passed. */
  fuse_steps (p);
  fuse_steps (p);
  fuse_means (p);
  if (wants_layout_pass (g, &opt) && !choose_layouts (p, opt.eager_layout, err))
    goto fail;
  for (int s = 0; s < p->n_steps; s++)
    {
      for (int i = 0; i < p->steps[s].call.n_in; i++)
        p->vals[p->steps[s].in_vals[i]].last_use = s;
      if (p->steps[s].call.scratch > p->scratch_size) /* folding can need more */
        p->scratch_size = p->steps[s].call.scratch;
    }
  if (!assign_buffers (p, err))
    goto fail;
  return p;
nomem:
  osh_fail (err, OSH_ERR_NOMEM, "out of memory planning the model");
fail:
  osh_plan_free (p);
  return NULL;
}

void
osh_plan_free (OshPlan *p)
{
  if (!p)
    return;
  for (int s = 0; s < p->n_steps; s++)
    free_step (&p->steps[s]);
  for (int c = 0; c < p->n_ctx; c++)
    {
      free (p->ctx[c].memo);
      free (p->ctx[c].call_ctx);
    }
  for (int b = 0; p->buffers && b < p->n_buffers; b++)
    free (p->buffers[b]);
  for (int i = 0; p->in_names && i < p->n_inputs; i++)
    free (p->in_names[i]);
  for (int i = 0; p->out_names && i < p->n_outputs; i++)
    free (p->out_names[i]);
  free (p->in_names);
  free (p->out_names);
  free (p->buffers);
  free (p->buf_size);
  free (p->scratch);
  free (p->steps);
  free (p->vals);
  free (p->ctx);
  free (p->first_val);
  free (p->in_vals);
  free (p->out_vals);
  free (p->off);
  osh_graph_free (p->sized);
  free (p);
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool
plan_run (OshPlan *p, const OshTensor *const *inputs, int n_inputs, OshTensor **outputs,
          OshError *err)
{
  if (n_inputs != p->n_inputs)
    return osh_fail (err, OSH_ERR_USAGE, "the model takes %d inputs (%d given)", p->n_inputs,
                     n_inputs);
  for (int i = 0; i < n_inputs; i++)
    {
      Value *v = &p->vals[p->in_vals[i]];
      if (!osh_shape_equal (&inputs[i]->shape, &v->shape))
        {
          osh_op_shape_fail (err, "input has the wrong shape (given, expected)", &inputs[i]->shape,
                             &v->shape);
          osh_error_prefix (err, "input '%s': ", p->in_names[i]);
          if (err)
            err->code = OSH_ERR_USAGE; /* the caller's tensor, not the model, is wrong */
          return false;
        }
      memcpy (p->buffers[v->buffer], inputs[i]->data, (size_t) v->numel * sizeof (float));
    }
  openblas_set_num_threads (p->threads);
  p->has_run = false;
  enum { STACK_IO = 16 };
  for (int s = 0; s < p->n_steps; s++)
    {
      if (p->cancel && *p->cancel)
        return osh_fail (err, OSH_ERR_CANCELLED, "cancelled before layer '%s'", p->steps[s].path);
      Step *st = &p->steps[s];
      const float *in_stack[STACK_IO];
      float *out_stack[STACK_IO];
      bool small = st->call.n_in <= STACK_IO && st->call.n_out <= STACK_IO;
      const float **in = small ? in_stack : malloc ((size_t) st->call.n_in * sizeof *in + 1);
      float **out = small ? out_stack : malloc ((size_t) st->call.n_out * sizeof *out + 1);
      if (!in || !out)
        {
          if (!small)
            {
              free (in);
              free (out);
            }
          return osh_fail (err, OSH_ERR_NOMEM, "out of memory running layer '%s'", st->path);
        }
      for (int i = 0; i < st->call.n_in; i++)
        in[i] = p->buffers[p->vals[st->in_vals[i]].buffer];
      for (int k = 0; k < st->call.n_out; k++)
        out[k] = p->buffers[p->vals[st->out_vals[k]].buffer];
      st->call.threads = p->threads;
      double t0 = now_ms ();
      st->op->run (&st->call, in, out, p->scratch);
      st->ms = now_ms () - t0;
      if (st->best_ms == 0 || st->ms < st->best_ms)
        st->best_ms = st->ms;
      if (!small)
        {
          free (in);
          free (out);
        }
    }
  p->has_run = true;
  if (!outputs)
    return true;
  for (int i = 0; i < p->n_outputs; i++)
    {
      Value *v = &p->vals[p->out_vals[i]];
      outputs[i] = osh_tensor_new (&v->shape, err);
      if (!outputs[i])
        {
          for (int k = 0; k < i; k++)
            osh_tensor_free (outputs[k]);
          return false;
        }
      memcpy (outputs[i]->data, p->buffers[v->buffer], (size_t) v->numel * sizeof (float));
    }
  return true;
}

bool
osh_plan_run (OshPlan *p, const OshTensor *const *inputs, int n_inputs, OshTensor **outputs,
              OshError *err)
{
  unsigned csr = osh_fp_flush_denormals ();
  bool ok = plan_run (p, inputs, n_inputs, outputs, err);
  osh_fp_restore (csr);
  return ok;
}

const float *
osh_plan_activation (const OshPlan *p, const char *path, OshShape *shape)
{
  if (!p->has_run)
    return NULL;
  int layer = osh_graph_find_path (p->g, path);
  int node = layer >= 0 ? osh_graph_layer_first_node (p->g, layer) : -1;
  if (node < 0)
    return NULL;
  int v = p->first_val[p->off[node]];
  if (v < 0 || !p->vals[v].keep)
    return NULL;
  if (shape)
    *shape = p->vals[v].shape;
  return p->buffers[p->vals[v].buffer];
}

int
osh_plan_n_inputs (const OshPlan *p)
{
  return p->n_inputs;
}

const OshShape *
osh_plan_input_shape (const OshPlan *p, int i)
{
  return i >= 0 && i < p->n_inputs ? &p->vals[p->in_vals[i]].shape : NULL;
}

const char *
osh_plan_input_name (const OshPlan *p, int i)
{
  return i >= 0 && i < p->n_inputs ? p->in_names[i] : NULL;
}

int
osh_plan_n_outputs (const OshPlan *p)
{
  return p->n_outputs;
}

const OshShape *
osh_plan_output_shape (const OshPlan *p, int i)
{
  return i >= 0 && i < p->n_outputs ? &p->vals[p->out_vals[i]].shape : NULL;
}

const char *
osh_plan_output_name (const OshPlan *p, int i)
{
  return i >= 0 && i < p->n_outputs ? p->out_names[i] : NULL;
}

void
osh_plan_set_threads (OshPlan *p, int threads)
{
  p->threads = threads > 0 ? threads : 1;
}

double
osh_plan_flops (const OshPlan *p)
{
  return p->flops;
}

int64_t
osh_plan_buffer_bytes (const OshPlan *p)
{
  int64_t total = 0;
  for (int b = 0; b < p->n_buffers; b++)
    total += p->buf_size[b] * (int64_t) sizeof (float);
  return total + (int64_t) (p->scratch_size * sizeof (float));
}

int
osh_plan_n_steps (const OshPlan *p)
{
  return p->n_steps;
}

bool
osh_plan_step (const OshPlan *p, int i, OshPlanStep *info)
{
  if (i < 0 || i >= p->n_steps)
    return false;
  const Step *st = &p->steps[i];
  *info = (OshPlanStep){ .path = st->path,
                         .class_name = st->call.layer->class_name,
                         .shape = st->call.out[0],
                         .flops = st->call.flops,
                         .last_ms = st->ms,
                         .best_ms = st->best_ms };
  return true;
}

bool
osh_exec_run_once (const OshGraph *g, const OshExecOptions *opt, const OshTensor *const *inputs,
                   int n_inputs, OshTensor **outputs, OshError *err)
{
  OshPlan *p = osh_plan_new (g, opt, err);
  if (!p)
    return false;
  bool ok = osh_plan_run (p, inputs, n_inputs, outputs, err);
  osh_plan_free (p);
  return ok;
}

/* CPU time of the calling thread: one-thread OpenBLAS computes there, and time the scheduler
 * gives other processes does not count against it. */
static double
thread_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

double
osh_exec_sgemm_gflops (int n, int runs)
{
  if (n < 16)
    n = 16;
  size_t nn = (size_t) n * (size_t) n;
  float *a = malloc (nn * sizeof (float)), *b = malloc (nn * sizeof (float)),
        *c = malloc (nn * sizeof (float));
  double best = 0;
  if (a && b && c)
    {
      for (size_t i = 0; i < nn; i++)
        {
          a[i] = (float) (i % 13) / 13.0f;
          b[i] = (float) (i % 7) / 7.0f;
        }
      openblas_set_num_threads (1);
      for (int r = 0; r < (runs > 0 ? runs : 1) + 1; r++) /* the first run warms up */
        {
          double t0 = thread_cpu_ms ();
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                       c, n);
          double ms = thread_cpu_ms () - t0;
          double gf = 2.0 * n * n * (double) n / (ms * 1e6);
          if (r > 0 && gf > best)
            best = gf;
        }
    }
  free (a);
  free (b);
  free (c);
  return best;
}

const char *
osh_exec_blas_core_hint (void)
{
  const char *core = openblas_get_corename ();
  if (getenv ("OPENBLAS_CORETYPE") || !core || strcmp (core, "Prescott") != 0)
    return NULL;
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512bw") && __builtin_cpu_supports ("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
  return NULL;
}

const char *
osh_exec_blas_core (void)
{
  const char *core = openblas_get_corename ();
  return core ? core : "unknown";
}
