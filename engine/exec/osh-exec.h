/* osh-exec.h — running a graph: a plan prepared once, run many times.
 *
 * Preparing resolves every node's op (osh_op_find), computes its shapes for a
 * concrete batch, checks its weights, sizes its scratch memory, inlines nested
 * models and schedules the nodes with activation buffers reused by liveness.
 * Running fills those buffers from the input tensors and copies out the model's
 * outputs. Data is float32; Keras models are NHWC. ONNX models are NCHW wherever a caller sees
 * data (inputs, outputs, captures) and run channels-last inside where their steps can
 * (keep_layout below).
 *
 *   OshExecOptions opt = osh_exec_options_default ();   // 1 thread, batch 1
 *   opt.threads = 2;
 *   const char *keep[] = { "efficientnetb0/block5a_expand_conv" };
 *   opt.capture = keep;                                  // readable after each run
 *   opt.n_capture = 1;
 *   OshPlan *plan = osh_plan_new (g, &opt, &err);
 *   if (!plan)      // e.g. OSH_ERR_UNSUPPORTED "layer 'lambda_1' (Lambda): ..."
 *     return fail (err.message);
 *   OshTensor *x = osh_tensor_new (osh_plan_input_shape (plan, 0), &err);
 *   ...fill x->data...
 *   OshTensor *outs[OSH_EXEC_MAX_OUTPUTS];
 *   if (!osh_plan_run (plan, (const OshTensor *[]){ x }, 1, outs, &err))
 *     return fail (err.message);                         // OSH_ERR_CANCELLED if asked to stop
 *   OshShape s;
 *   const float *act = osh_plan_activation (plan, "efficientnetb0/block5a_expand_conv", &s);
 *   printf ("%.2f GFLOP per run\n", osh_plan_flops (plan) / 1e9);
 *   for (int i = 0; i < osh_plan_n_outputs (plan); i++)
 *     osh_tensor_free (outs[i]);
 *   osh_plan_free (plan);
 *
 * The graph must outlive the plan and must not be edited while the plan exists
 * (the plan reads its weights in place). A plan is not thread-safe: one run at a
 * time; run it off the GUI thread and stop it through `cancel`.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"

#define OSH_EXEC_MAX_OUTPUTS 64 /* outputs of one model a plan serves */

typedef struct
{
  int threads;   /* kernels' threads (OpenBLAS and our own); 0 means 1 */
  int64_t batch; /* the size given to None batch dimensions; 0 means 1 */

  /* Optional full shapes of every model input (batch included), for models whose
   * inputs have None sizes other than the batch (e.g. (None, None, None, 3)). A shape that
   * contradicts a size the model declares fails with OSH_ERR_USAGE naming both. A graph whose
   * dialect folds constants (ONNX) is fixed to these shapes on a private copy the plan owns
   * (osh_graph_specialize: shape computations become constants); without them such a graph with
   * open sizes fails with OSH_ERR_USAGE naming the open input. */
  const OshShape *input_shapes;
  int n_input_shapes;

  /* Layer paths ("block5a_expand_conv", "backbone/conv1") whose outputs stay readable after a
   * run through osh_plan_activation (activation heatmaps). A nested layer is captured at the
   * first call of its model. Unknown paths make osh_plan_new fail with OSH_ERR_NOT_FOUND. */
  const char *const *capture;
  int n_capture;
  /* Keep every layer's output (the GUI's layer panel): no buffer is reused. */
  bool capture_all;

  /* ONNX graphs: run every step channels-first as the graph is written. By default rank-4
   * activations stay channels-last (NHWC) between the steps that can work that way, converted
   * at the boundaries (steps of class "ToNHWC" and "ToNCHW"); what a caller sees (shapes,
   * outputs, captures) is NCHW either way. The environment variable OFFSHOOT_KEEP_LAYOUT=1
   * does the same for every plan (to compare). capture_all keeps the layout too. */
  bool keep_layout;
  /* The opposite, for tests: every step that can run channels-last does, whatever the
   * conversions cost (references written for NCHW then check the NHWC kernels too). */
  bool eager_layout;

  /* For a caller that will not read the graph's weights again (`offshoot run` and `bench`): the
   * plan keeps packed copies of the convolution kernels, and with this the graph's own tensors
   * of those layers are freed as soon as their packed copies are made (left with their shapes
   * only; pages borrowed from the file's copy go back at once, osh-plan-release.c), so the
   * weights are not held twice. A plan that fails part-way may have taken some already. Weights
   * of other layers that lay in the file's mapping become owned copies
   * first, so that the mapping goes too. The graph is changed although passed const: it can
   * no longer be planned again, exported or edited (osh_plan_new then fails with
   * OSH_ERR_USAGE naming the weight). A graph with open sizes fixed on a copy (ONNX) keeps its
   * weights. */
  bool release_packed_weights;

  /* Polled between nodes; non-zero stops the run with OSH_ERR_CANCELLED. The caller sets it
   * from any thread (g_atomic_int_set or a plain store). */
  const volatile int *cancel;
} OshExecOptions;

typedef struct OshPlan OshPlan;

/* What a step took in from the steps fused into it (OshPlanStep.folded). */
typedef enum
{
  OSH_FOLDED_PAD = 1u << 0,       /* the zero padding before it */
  OSH_FOLDED_SCALE = 1u << 1,     /* the per-channel product before it (squeeze-excite's excite) */
  OSH_FOLDED_AFFINE = 1u << 2,    /* a per-channel scale and shift after it (BatchNormalization) */
  OSH_FOLDED_EPILOGUE = 1u << 3,  /* an activation after it (a SiLU pair included) */
  OSH_FOLDED_RESIDUAL = 1u << 4,  /* the residual sum after it */
  OSH_FOLDED_DEPTHWISE = 1u << 5, /* the depthwise convolution after it, fed a few rows at a time */
  OSH_FOLDED_OPERAND = 1u << 6,   /* the step computing one of its operands */
  OSH_FOLDED_MEAN = 1u << 7,      /* the global average pooling of its output, a second output */
  OSH_FOLDED_COPY = 1u << 8,      /* an identity after it */
} OshFolded;

/* Per-step facts for bench and the GUI (valid while the plan lives). */
typedef struct
{
  const char *path;       /* layer path, "backbone/conv1" */
  const char *class_name; /* "Conv2D" */
  unsigned cats;          /* its op's categories (OshOpCat in osh-op.h) */
  unsigned folded;        /* OshFolded: what fusion put into this step */
  OshShape shape;         /* output 0's concrete shape */
  double flops;           /* per run */
  double last_ms;         /* time of this step in the last run */
  double best_ms;         /* its fastest run so far: what the kernel can do on a busy machine */
} OshPlanStep;

OshExecOptions osh_exec_options_default (void);

/* Prepares `g` for running. Fails with OSH_ERR_UNSUPPORTED naming the layer path and class when
 * a layer has no kernel (Lambda, custom classes), OSH_ERR_SHAPE when shapes do not fit,
 * OSH_ERR_DISCONNECTED when an output needs a tensor the inputs do not reach. */
OshPlan *osh_plan_new (const OshGraph *g, const OshExecOptions *opt, OshError *err);
void osh_plan_free (OshPlan *p);

int osh_plan_n_inputs (const OshPlan *p);
const OshShape *osh_plan_input_shape (const OshPlan *p, int i); /* concrete */
const char *osh_plan_input_name (const OshPlan *p, int i);      /* the input layer's path */
int osh_plan_n_outputs (const OshPlan *p);
const OshShape *osh_plan_output_shape (const OshPlan *p, int i); /* concrete */
const char *osh_plan_output_name (const OshPlan *p, int i);      /* the output layer's path */

/* Runs on `n_inputs` tensors of exactly the input shapes. `outputs` (may be NULL when only
 * captures are wanted) receives osh_plan_n_outputs new tensors the caller frees. */
bool osh_plan_run (OshPlan *p, const OshTensor *const *inputs, int n_inputs, OshTensor **outputs,
                   OshError *err);

/* The last run's output of a captured layer (or of any layer with capture_all), else NULL.
 * Valid until the next run or osh_plan_free. */
const float *osh_plan_activation (const OshPlan *p, const char *path, OshShape *shape);

void osh_plan_set_threads (OshPlan *p, int threads);
double osh_plan_flops (const OshPlan *p);         /* per run, multiply-adds count two */
int64_t osh_plan_buffer_bytes (const OshPlan *p); /* activation memory after reuse */
/* Frees the activation memory (osh_plan_buffer_bytes) of a plan that will not run again, keeping
 * what describes it (steps, their times, FLOPs, sizes); osh_plan_run then fails and captures
 * read NULL. For a caller that measures something else afterwards (bench's sgemm yardstick),
 * so that its memory does not add to the run's. */
void osh_plan_release_buffers (OshPlan *p);
int osh_plan_n_steps (const OshPlan *p);
bool osh_plan_step (const OshPlan *p, int i, OshPlanStep *info);

/* Prepare, run once, free: for one-off runs (tests, `offshoot run`). */
bool osh_exec_run_once (const OshGraph *g, const OshExecOptions *opt,
                        const OshTensor *const *inputs, int n_inputs, OshTensor **outputs,
                        OshError *err);

/* Single-thread cblas_sgemm throughput on an n×n×n product measured now (best of `runs`, fewer
 * once a second of CPU is spent; on the thread's CPU clock so a busy machine does not lower it),
 * in GFLOPS: the yardstick bench results are read against. */
double osh_exec_sgemm_gflops (int n, int runs);

/* The OPENBLAS_CORETYPE this process should have been started with, or NULL when OpenBLAS
 * already runs suitable kernels (or someone chose a core). OpenBLAS 0.3.21 (Debian 12) does not
 * recognise some newer and virtual CPUs ("Intel Xeon Processor") and falls back to its Prescott
 * kernels, several times slower; it reads the variable only when it loads, so acting on the
 * hint means starting again (the app re-executes itself, see app/main.c). */
const char *osh_exec_blas_core_hint (void);
/* The OpenBLAS kernels in use ("SkylakeX", "Haswell", "Prescott"...). */
const char *osh_exec_blas_core (void);

/* OpenBLAS's helper threads spin on a core for a while after they start and after each threaded
 * call (osh-exec-blas.c). A run with `threads` (osh_plan_run does this) brackets its BLAS calls
 * with enter/leave: with one thread, and no threaded run under way in another thread, the
 * helpers are stopped so none spins beside it; with several, OpenBLAS may use (and restarts)
 * them. osh_exec_blas_quiet stops them now: for programs that may never run a plan (the app at
 * start, the HDF5 guard's child). */
void osh_exec_blas_enter (int threads);
void osh_exec_blas_leave (int threads);
void osh_exec_blas_quiet (void);
/* Threads of this process now (from /proc; -1 without it): for tests of the above. */
int osh_exec_thread_count (void);
