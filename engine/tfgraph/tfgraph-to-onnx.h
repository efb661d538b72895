/* tfgraph-to-onnx.h — what the TF → ONNX export's files share (tfgraph-to-onnx.c walks the
 * graph and writes the shadowed ops; tfgraph-onnx-kernels.c the ops with kernels of their own). */
#pragma once

#include "osh-onnx.h"
#include "tfgraph-shadow.h"

typedef struct
{
  OshRef nhwc, nchw; /* node -1: not made yet */
  OshShape shape;    /* TF's (NHWC) */
} Value;

typedef struct
{
  const OshGraph *g;  /* the TF graph, sizes fixed */
  OshOnnxLowering lw; /* the ONNX graph (lw.o) */
  Value *map;         /* per TF (node, output): off[node] + index */
  int64_t *off;
  char missing[1024]; /* the ops with no ONNX form, for the refusal */
  size_t missing_len;
  int n_missing;
  OshError *err;
} Conv;

#define NONE ((OshRef){ -1, 0 })

/* An input of an emitted node: a tensor, or a constant (taken over), or absent. */
typedef struct
{
  char kind; /* 't', 'w', 'a'; 0 ends the list */
  OshRef ref;
  OshTensor *value;
} In;

static inline In
T (OshRef r)
{
  return (In){ 't', r, NULL };
}

static inline In
W (OshTensor *v)
{
  return (In){ 'w', NONE, v };
}

/* Frees the constants of inputs that will not be emitted. */
void tfo_drop (In *in, int n);
/* True when every input was made; else they are dropped. */
bool tfo_valid (In *in, int n);
/* Adds ONNX op `op` named `name` (NULL: "<base>/<op>_<n>") with `ins` (ended by kind 0), the
 * attributes `attrs` (stolen) and n_out outputs, named after the node ("name", "name:1"...). */
OshRef tfo_emit (Conv *c, const char *op, const char *base, const char *name, const In *ins,
                 json_t *attrs, int n_out);
/* A 1-D constant of n ints. */
OshTensor *tfo_ints (const int64_t *v, int n, OshError *err);
/* The TF tensor's NHWC (or NCHW) form, made by a Transpose the first time it is asked for. */
OshRef tfo_form (Conv *c, OshRef tf, bool nchw);
/* A Cast of r to ONNX type `to` (1 float, 7 int64, 9 bool). */
OshRef tfo_cast (Conv *c, const char *base, OshRef r, int to);
/* Notes TF op `op` as having no ONNX form (why), for the one refusal naming them all. */
void tfo_note_missing (Conv *c, const char *op, const char *why);

/* tfgraph-onnx-kernels.c: ResizeBilinear and ResizeNearestNeighbor; the comparisons, logic,
 * Select, FloorMod, ZerosLike, OnesLike, Fill, ArgMax, GatherNd, TopKV2 and OneHot (false with
 * *known false for another op). */
bool tfo_write_resize (Conv *c, const OshLayer *l, const OshNode *n, Value *out);
bool tfo_write_own_kernel (Conv *c, const OshLayer *l, const OshNode *n, Value *out, bool *known);
