/* The plan's life: osh_plan_new runs the planning passes in order (build the schedule, keep
 * the captured values, fuse, choose layouts, assign buffers: osh-plan-*.c), the run loop polls
 * the cancel flag between steps and times each, and the public accessors read the plan. The
 * structures they all share are in osh-plan-internal.h. */
#include "osh-exec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osh-blas-lazy.h"
#include "osh-op.h"
#include "osh-plan-internal.h"
#include "osh-shapes.h"
#include "osh-topo.h"

OshExecOptions
osh_exec_options_default (void)
{
  return (OshExecOptions){ .threads = 1, .batch = 1 };
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
          if (!osh_plan_resolve (p, 0, node, soft ? &local : err))
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

OshPlan *
osh_plan_schedule (const OshGraph *g, const OshExecOptions *opt_in, bool count_only, OshError *err)
{
  OshExecOptions opt = opt_in ? *opt_in : osh_exec_options_default ();
  OshPlan *p = calloc (1, sizeof *p);
  if (!p)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a plan");
      return NULL;
    }
  /* A dialect may know ahead that ops have no kernel: one error naming them all. */
  if (osh_dialect_of (g)->check_runnable && !osh_dialect_of (g)->check_runnable (g, err))
    goto fail;
  if (osh_graph_needs_specialize (g))
    {
      /* Fixing the sizes folds shape computations into constants: done on a private copy. */
      p->sized = osh_graph_copy (g, err);
      bool sized = p->sized
                   && (opt.input_shapes ? osh_graph_specialize (p->sized, opt.input_shapes,
                                                                opt.n_input_shapes, err)
                                        : osh_graph_specialize_batch (p->sized, opt.batch, err));
      if (!sized)
        goto fail;
      g = p->sized;
    }
  p->g = g;
  p->count_only = count_only;
  /* Counting needs only shapes; a run needs every weight's values. */
  if (!count_only && !osh_plan_check_weights (g, err))
    goto fail;
  /* The caller gives the graph's weights away (osh-plan-release.c); a sized copy is the plan's. */
  if (!count_only && opt.release_packed_weights && !p->sized
      && !osh_plan_start_release (p, &opt, err))
    goto fail;
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
  if (osh_plan_new_context (p, -1, err) < 0)
    goto fail;

  for (int i = 0; i < p->n_inputs; i++)
    {
      OshShape s;
      OshRef r = g->inputs[i];
      p->in_names[i] = osh_plan_layer_path (g, g->nodes[r.node].layer);
      if (!osh_plan_concrete_input_shape (p, &opt, i, &s, err))
        goto fail;
      int v = osh_plan_new_value (p, &s, r.node, err);
      if (v < 0)
        goto fail;
      p->in_vals[i] = v;
      p->ctx[0].memo[p->off[r.node] + r.index] = v;
      p->first_val[p->off[r.node] + r.index] = v;
    }
  for (int i = 0; i < p->n_outputs; i++)
    {
      OshRef r = g->outputs[i];
      p->out_names[i] = osh_plan_layer_path (g, g->nodes[r.node].layer);
      if (!osh_plan_resolve (p, 0, r.node, err))
        goto fail;
      p->out_vals[i] = p->ctx[0].memo[p->off[r.node] + r.index];
      p->vals[p->out_vals[i]].keep = true;
    }
  return p;
nomem:
  osh_fail (err, OSH_ERR_NOMEM, "out of memory planning the model");
fail:
  osh_plan_free (p);
  return NULL;
}

enum
{
  DIRECT_MAX = 8 /* inputs that may be read in place; any further ones are copied */
};

/* Whether input value v is read only by conversions to the other layout and kept nowhere (an
 * ONNX image model's input, which its stem reads channels-last): those steps can read the
 * caller's tensor itself, which saves copying it first (0.6 MB at 3×224×224). */
static bool
read_only_to_convert (const OshPlan *p, int v)
{
  if (p->vals[v].keep)
    return false;
  for (int s = 0; s < p->n_steps; s++)
    for (int i = 0; i < p->steps[s].call.n_in; i++)
      if (p->steps[s].in_vals[i] == v && !(p->steps[s].op->cats & OSH_CAT_LAYOUT))
        return false;
  return true;
}

OshPlan *
osh_plan_new (const OshGraph *g_in, const OshExecOptions *opt_in, OshError *err)
{
  /* The kernels call OpenBLAS, loaded on first use: a missing library is said here, once. */
  if (!osh_blas_load (err))
    return NULL;
  OshExecOptions opt = opt_in ? *opt_in : osh_exec_options_default ();
  OshPlan *p = osh_plan_schedule (g_in, &opt, false, err);
  if (!p)
    return NULL;
  const OshGraph *g = p->g;
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
  osh_plan_fuse (p);
  if (osh_plan_wants_layout_pass (g, &opt) && !osh_plan_choose_layouts (p, opt.eager_layout, err))
    goto fail;
  for (int s = 0; s < p->n_steps; s++)
    {
      for (int i = 0; i < p->steps[s].call.n_in; i++)
        p->vals[p->steps[s].in_vals[i]].last_use = s;
      if (p->steps[s].call.scratch > p->scratch_size) /* folding can need more */
        p->scratch_size = p->steps[s].call.scratch;
    }
  if (!osh_plan_assign_buffers (p, err))
    goto fail;
  p->in_read_direct = calloc ((size_t) p->n_inputs + 1, sizeof (bool));
  if (!p->in_read_direct)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory planning the model's inputs");
      goto fail;
    }
  for (int i = 0; i < p->n_inputs && i < DIRECT_MAX; i++)
    p->in_read_direct[i] = read_only_to_convert (p, p->in_vals[i]);
  if (opt.release_packed_weights && !p->sized)
    osh_plan_release_packed (p, (OshGraph *) g);
  return p;
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
    osh_plan_free_step (&p->steps[s]);
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
  free (p->release_early);
  free (p->in_vals);
  free (p->in_read_direct);
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

/* The memory step input value v is read from: the caller's tensor for an input that was not
 * copied, else v's buffer. */
static const float *
input_memory (const OshPlan *p, const float *const *direct, int v)
{
  for (int k = 0; k < p->n_inputs && k < DIRECT_MAX; k++)
    if (direct[k] && p->in_vals[k] == v)
      return direct[k];
  return p->buffers[p->vals[v].buffer];
}

static bool
plan_run (OshPlan *p, const OshTensor *const *inputs, int n_inputs, OshTensor **outputs,
          OshError *err)
{
  if (!p->buffers)
    return osh_fail (err, OSH_ERR_USAGE,
                     "the plan's activation memory was released (osh_plan_release_buffers)");
  if (n_inputs != p->n_inputs)
    return osh_fail (err, OSH_ERR_USAGE, "the model takes %d inputs (%d given)", p->n_inputs,
                     n_inputs);
  const float *direct[DIRECT_MAX] = { 0 };
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
      if (p->in_read_direct[i])
        direct[i] = inputs[i]->data;
      else
        memcpy (p->buffers[v->buffer], inputs[i]->data, (size_t) v->numel * sizeof (float));
    }
  p->has_run = false;
  enum
  {
    STACK_IO = 16
  };
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
        in[i] = input_memory (p, direct, st->in_vals[i]);
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
  int threads = p->threads; /* the same count on the way out, whatever changes it meanwhile */
  osh_exec_blas_enter (threads);
  bool ok = plan_run (p, inputs, n_inputs, outputs, err);
  osh_exec_blas_leave (threads);
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

void
osh_plan_release_buffers (OshPlan *p)
{
  for (int b = 0; p->buffers && b < p->n_buffers; b++)
    free (p->buffers[b]);
  free (p->buffers);
  p->buffers = NULL;
  free (p->scratch);
  p->scratch = NULL;
  p->has_run = false;
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
                         .cats = st->op->cats,
                         .folded = st->folded,
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
