/* onnx-index.h — the index and logic kernels (onnx-index.c, onnx-logic.c), shared with the TF
 * graph dialect (engine/tfgraph/tfgraph-index.c, tfgraph-elementwise.c): each op has one kernel,
 * and each dialect reads its own attributes and inputs into these setups. A setup writes the
 * output shapes from slot shapes (onnx-op-util.h) and, with `params`, the kernel's parameters;
 * the runs are onnx_<family>_run. Indices and booleans are float32 as every tensor of the engine
 * (exact up to 2^24). */
#pragma once

#include "onnx-op-util.h"

/* ArgMax of slot 0 along `axis` (negative from the end): the first largest, or the last with
 * `last` (ONNX's select_last_index); the axis kept as size 1 with `keepdims`. */
bool onnx_argmax_setup (OshOpCall *c, int64_t axis, bool keepdims, bool last, bool params,
                        OshError *err);

/* TopK of slot 0 along `axis`: outputs values and indices, the largest first (the smallest with
 * !largest), equal values by the lower index. With !sorted, the k picked in the order a
 * Floyd–Rivest selection of position k leaves them, as tfjs's CPU backend returns them. */
bool onnx_topk_setup (OshOpCall *c, int64_t axis, int64_t k, bool largest, bool sorted, bool params,
                      OshError *err);

/* GatherND (data slot 0, indices slot 1) with `batch_dims` leading axes shared by both. A
 * negative index counts from the end; one out of range gives zeros. */
bool onnx_gather_nd_setup (OshOpCall *c, int64_t batch_dims, bool params, OshError *err);

/* Where OneHot reads its on and off values, and what a negative index means. */
typedef struct
{
  int on_slot, on_at, off_slot, off_at; /* slot and element of each value */
  bool negative_off; /* TF: a negative index is all off; ONNX counts it from the end */
} OnnxOneHotValues;
/* OneHot of the indices in slot 0: a new axis `axis` (negative counts from the output's end) of
 * `depth` values. */
bool onnx_onehot_setup (OshOpCall *c, int64_t axis, int64_t depth, const OnnxOneHotValues *v,
                        bool params, OshError *err);

/* The broadcasting logic kernel (onnx-logic.c). */
typedef enum
{
  ONNX_LOGIC_EQUAL,
  ONNX_LOGIC_NOT_EQUAL, /* TF's NotEqual; ONNX writes Not (Equal) */
  ONNX_LOGIC_GREATER,
  ONNX_LOGIC_GREATER_EQUAL,
  ONNX_LOGIC_LESS,
  ONNX_LOGIC_LESS_EQUAL,
  ONNX_LOGIC_AND,
  ONNX_LOGIC_OR,
  ONNX_LOGIC_XOR,
  ONNX_LOGIC_NOT,
  ONNX_LOGIC_WHERE,     /* (condition, then, else) */
  ONNX_LOGIC_FLOOR_MOD, /* the remainder with the divisor's sign: Mod fmod=0, TF's FloorMod */
  ONNX_LOGIC_FMOD,      /* C's fmod, the dividend's sign: Mod fmod=1 */
} OnnxLogicKind;
/* Inputs `kind` reads: 1, 2 or 3. */
int onnx_logic_arity (OnnxLogicKind kind);
/* The output shape (numpy broadcasting of the slots) and, with `params`, the strides. */
bool onnx_logic_setup (OshOpCall *c, OnnxLogicKind kind, bool params, OshError *err);
