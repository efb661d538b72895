/* tfgraph-shadow.h — a TF op run as the Keras layer or ONNX node with the same semantics.
 *
 * Each TF op's translation (tfgraph-translate.c) fills a TfShadow from the TF layer and its
 * input shapes: the target op (a row of Keras's or ONNX's table), a shadow layer with the
 * target's class name, config, weights and slots, and the input shapes as the target sees
 * them (Pack's inputs with the new axis). The table's three functions (tf_infer, tf_prepare,
 * tf_run, tfgraph-shadow.c) build the shadow and call the target's own infer, prepare and run
 * on it; a translation may reshape the outputs after (StridedSlice's shrunk axes: the memory
 * is the same). So the kernels, their tests and their speed are the Keras and ONNX ones. */
#pragma once

#include "osh-tfgraph.h"

#define TF_MAX_SLOTS 64

typedef enum
{
  TF_TAIL_NONE = 0,
  TF_TAIL_PRELU,
  TF_TAIL_LEAKY,
  TF_TAIL_FLOOR,
  TF_TAIL_SQUARE,
} TfTail;

typedef struct TfShadow
{
  const OshOp *target;
  OshLayer layer; /* the target's view of the TF layer */
  OshWeight weights[TF_MAX_SLOTS];
  OshSlot slots[TF_MAX_SLOTS];
  OshTensor *owned[TF_MAX_SLOTS]; /* weights the translation made (Clip's bounds, a pad list) */
  int n_owned;
  OshShape in[TF_MAX_SLOTS]; /* the input shapes the target sees */
  int n_in;
  OshShape out[16]; /* the outputs the target computes */
  int n_out;
  /* After the target's infer: the TF op's output shapes from the target's (same memory). */
  bool (*reshape_out) (const struct TfShadow *s, const OshOpCall *c, OshShape *out, OshError *err);
  int64_t arg[8]; /* what reshape_out needs (the axes to drop or insert) */
  /* What tf_run applies to output 0 after the target, in place: TF's fused activations the
   * Keras layer has no form for, and the second half of FloorDiv and SquaredDifference. */
  TfTail tail;
  float tail_alpha;      /* TF_TAIL_LEAKY */
  const float *tail_vec; /* TF_TAIL_PRELU: the slopes, one per channel (the last axis) */
  int64_t tail_n;
  /* EXPLICIT padding, which Keras's layers have no form for: tf_run pads input 0 (NHWC) by
   * pre_pad (top, bottom, left, right) with pre_pad_value into scratch past the target's own,
   * and the target (padding "valid") reads that; s->in[0] is the padded shape. */
  bool has_pre_pad;
  int64_t pre_pad[4];
  float pre_pad_value;
  size_t target_scratch;
  void *inner; /* the target's params */
  void (*inner_free) (void *);
} TfShadow;

/* A translation: fills s from call c (its TF layer, weights and input shapes). The shadow
 * starts as a copy of the TF layer (config empty, the TF slots and weights, the TF input
 * shapes); the translation sets s->target and changes what differs. */
typedef bool (*TfTranslateFn) (TfShadow *s, const OshOpCall *c, OshError *err);

/* The translation of TF op `op`, or NULL (tfgraph-translate.c). */
TfTranslateFn tf_translation (const char *op);

/* The table's functions. */
bool tf_infer (OshOpCall *c, OshError *err);
bool tf_prepare (OshOpCall *c, OshError *err);
void tf_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

/* The shadow of call c with the target's output shapes inferred (s->out), for code that writes
 * the TF op as its target (tfgraph-to-onnx.c); NULL with err set when the op cannot be
 * translated. Freed with tf_shadow_free. */
TfShadow *tf_shadow_build (const OshOpCall *c, OshError *err);
void tf_shadow_free (TfShadow *s);

/* Helpers for translations. */
const OshOp *tf_keras_op (const char *name);
const OshOp *tf_onnx_op (const char *name);
/* The value of the TF layer's slot i when it is a constant, else NULL (err says why). */
const OshTensor *tf_const_input (const OshOpCall *c, int i, const char *what, OshError *err);
/* The shape of the TF layer's slot i: a tensor input's, or a constant's (once folding made the
 * input a constant); NULL when the slot is absent. */
const OshShape *tf_slot_shape (const OshOpCall *c, int i);
/* Slot i's values while running: the tensor input's or the constant's. */
const float *tf_slot_data (const OshOpCall *c, const float *const *in, int i);
/* A new weight of the shadow (taken over), appended; its slot too when `slot` is true. */
bool tf_add_weight (TfShadow *s, OshTensor *t, bool slot, OshError *err);
/* A weight from values: a 1-D tensor of n floats. */
OshTensor *tf_vector (const float *v, int n, OshError *err);
/* Removes slot i of the shadow (a constant input the target takes as an attribute). */
void tf_drop_slot (TfShadow *s, int i);
