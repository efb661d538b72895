/* osh-plan-internal.h — the plan's private structures (values, steps, model-call contexts, the
 * plan itself) and the functions the files that plan and run it (osh-exec.c, osh-plan-*.c)
 * call across. Only those files include it; callers use osh-exec.h. */
#pragma once

#include "osh-exec.h"
#include "osh-op.h"

typedef struct
{
  OshShape shape;
  int64_t numel;
  int last_use; /* last step reading it; -1 none */
  int buffer;
  bool keep; /* an output, a capture or capture_all: never shared */
  int node;  /* the node (and output) it is the value of */
  bool nhwc; /* a rank-4 NCHW tensor stored channels-last (osh_plan_choose_layouts) */
  int twin;  /* the same tensor stored the other way, -1 none */
} Value;

typedef struct
{
  int node;
  const OshOp *op;
  OshOpCall call;
  int *in_vals;
  int *out_vals; /* call.n_out values */
  char *path;
  unsigned folded; /* OshFolded */
  double ms;       /* the last run */
  double best_ms;  /* the fastest run so far (0: none yet) */
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

  int *in_vals;         /* per model input */
  bool *in_read_direct; /* per model input: steps read the caller's tensor, not a copy */
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
  bool count_only; /* steps prepared only to count (osh_plan_schedule): never run */
  /* release_packed_weights: per layer, 1 when its weights go as soon as its step is prepared
   * holding its own copies (osh-plan-release.c); NULL without the option. */
  signed char *release_early;
};

/* osh-exec.c: the first half of osh_plan_new, every step the outputs need prepared and counted
 * (nothing fused, no buffers); with `count_only` the steps build nothing they would run with
 * (OshOpCall.count_only), so only their shapes, scratch and FLOPs are meaningful. */
OshPlan *osh_plan_schedule (const OshGraph *g, const OshExecOptions *opt, bool count_only,
                            OshError *err);

/* osh-plan-build.c: the schedule from the graph, and helpers the other passes use too */
bool osh_plan_grow (void **items, int *cap, int need, size_t size, OshError *err);
char *osh_plan_layer_path (const OshGraph *g, int layer); /* malloc'd, NULL when out of memory */
int osh_plan_new_context (OshPlan *p, int model, OshError *err); /* its index, -1 on failure */
int osh_plan_new_value (OshPlan *p, const OshShape *s, int node, OshError *err); /* id or -1 */
void osh_plan_free_step (Step *st);
bool osh_plan_resolve (OshPlan *p, int cx0, int node0, OshError *err);
bool osh_plan_concrete_input_shape (OshPlan *p, const OshExecOptions *opt, int i, OshShape *s,
                                    OshError *err);

/* osh-plan-memory.c: a buffer for every value (last_use set), then the memory itself */
bool osh_plan_assign_buffers (OshPlan *p, OshError *err);

/* osh-plan-fuse.c: all the fusion passes, in order */
void osh_plan_fuse (OshPlan *p);

/* osh-plan-layout.c: whether the plan of `g` gets the layout pass, and the pass */
bool osh_plan_wants_layout_pass (const OshGraph *g, const OshExecOptions *opt);
bool osh_plan_choose_layouts (OshPlan *p, bool eager, OshError *err);

/* osh-plan-release.c: release_packed_weights, and the check that every weight has its values */
bool osh_plan_check_weights (const OshGraph *g, OshError *err);
bool osh_plan_start_release (OshPlan *p, const OshExecOptions *opt, OshError *err); /* before */
void osh_plan_release_step (OshPlan *p, const Step *st); /* each step, once prepared */
void osh_plan_release_packed (OshPlan *p, OshGraph *g);  /* after planning */
