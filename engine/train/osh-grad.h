/* osh-grad.h — the head layers' forward and backward kernels (private to engine/train).
 *
 * Data are channels-last; a value holds `batch` examples of `numel` floats each, shape
 * (without the batch) in `shape`. Backward kernels ADD into the input gradients (a value may
 * feed several layers) and into the weight gradients are written fresh each batch. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"
#include "osh-train.h"

#define OSH_GRAD_MAX_INPUTS 16

typedef struct
{
  OshShape shape; /* per example */
  int64_t numel;  /* per example */
  float *x;       /* max_batch × numel */
  float *dx;
  /* dx holds nothing yet and its one consumer, a kernel that can (osh_grad_stores_fresh),
   * stores into it instead of adding: no zeroing pass first. */
  bool fresh;
} OshGradValue;

typedef enum
{
  OSH_GRAD_CONV,
  OSH_GRAD_DENSE,
  OSH_GRAD_BN,
  OSH_GRAD_ACT,
  OSH_GRAD_GAP,
  OSH_GRAD_MAXPOOL,
  OSH_GRAD_AVGPOOL,
  OSH_GRAD_UPSAMPLE,
  OSH_GRAD_COPY, /* Flatten, Reshape: the same numbers in another shape */
  OSH_GRAD_ADD,
  OSH_GRAD_CONCAT,
  OSH_GRAD_DROPOUT,
} OshGradKind;

typedef enum
{
  OSH_ACT_LINEAR,
  OSH_ACT_RELU, /* with alpha (negative slope) and cap (max_value, 0: none) */
  OSH_ACT_SIGMOID,
  OSH_ACT_SWISH,
  OSH_ACT_TANH,
  OSH_ACT_SOFTMAX, /* over the last axis */
} OshActKind;

typedef struct
{
  float *w; /* the layer's weight, in the graph (updated in place) */
  float *g; /* its gradient; NULL when the weight is not trained */
  int64_t n;
} OshGradWeight;

/* A convolution's output pixels grouped by the taps inside the input (osh-grad-conv.c). */
typedef struct OshGradConvRows OshGradConvRows;

typedef struct
{
  OshGradKind kind;
  int layer;
  int in[OSH_GRAD_MAX_INPUTS], n_in; /* value indices */
  int out;
  OshActKind act;
  float alpha, cap;
  /* Conv2D and pooling: window, strides, dilation, padding before (top, left). */
  int kh, kw, sh, sw, dh, dw, pt, pl;
  int axis;            /* Concatenate, on the per-example shape */
  bool frozen;         /* BatchNormalization in inference mode */
  float eps, momentum; /* BatchNormalization */
  float rate;          /* Dropout */
  bool bilinear;       /* UpSampling2D: bilinear (else nearest) */
  /* Conv2D/Dense: kernel, bias. BN: gamma, beta, moving mean, moving variance (NULL w when
   * the layer has no scale or center). */
  OshGradWeight wt[4];
  float *pre; /* Conv2D/Dense with an activation: the value before it */
  float *aux; /* Conv2D: the cols; BN: normalised x; Dropout: the mask; MaxPool: argmax (int32) */
  OshGradConvRows *rows; /* Conv2D that is not pointwise */
  float *mean;           /* BN training: the batch mean and 1/sqrt(var+eps) */
  float *inv_std;
} OshGradLayer;

typedef struct
{
  float *dcols; /* the gradient of a convolution's im2col */
  int64_t cols_size;
  uint64_t rng; /* Dropout */
} OshGradScratch;

/* Reads layer `l` of g into `gl` (kind, sizes, activation), checking shapes against the values.
 * `in` and `out` are already set. */
bool osh_grad_layer_init (OshGraph *g, OshGradLayer *gl, OshGradValue *vals, int64_t max_batch,
                          OshGradScratch *scr, OshError *err);
void osh_grad_layer_clear (OshGradLayer *gl);
/* Whether gl's backward stores into a `fresh` input gradient (else it must be zeroed). */
bool osh_grad_stores_fresh (const OshGradLayer *gl);

void osh_grad_forward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training,
                       OshGradScratch *scr);
void osh_grad_backward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training,
                        OshGradScratch *scr);

/* BatchNormalization (osh-grad-norm.c); `training` uses the batch's statistics unless frozen. */
void osh_grad_bn_forward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training);
void osh_grad_bn_backward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, bool training);

/* Conv2D and Dense (osh-grad-conv.c). Pointwise: Dense, or a 1×1 convolution at stride 1 with
 * no padding (one product over the whole batch, no im2col). */
bool osh_grad_conv_is_pointwise (const OshGradLayer *gl);
/* Groups the output pixels of a convolution that is not pointwise (gl->rows); false when out
 * of memory. */
bool osh_grad_conv_rows_init (OshGradLayer *gl, const OshGradValue *in, const OshGradValue *out,
                              int64_t max_batch);
void osh_grad_conv_rows_free (OshGradConvRows *r);
void osh_grad_conv_forward (OshGradLayer *gl, OshGradValue *vals, int64_t batch);
void osh_grad_conv_backward (OshGradLayer *gl, OshGradValue *vals, int64_t batch,
                             OshGradScratch *scr);

void osh_grad_activate (OshActKind act, float alpha, float cap, const float *x, float *y, int64_t n,
                        int64_t last);
/* dx = dy · act'(x) given the input x and output y (dx may alias dy). */
void osh_grad_activate_backward (OshActKind act, float alpha, float cap, const float *x,
                                 const float *y, const float *dy, float *dx, int64_t n,
                                 int64_t last);
/* dx += dy · act'(x) (dx = with `store`), dy not needed afterwards (it may be used as scratch);
 * dx, dy distinct. */
void osh_grad_activate_backward_add (OshActKind act, float alpha, float cap, const float *x,
                                     const float *y, float *dy, float *dx, int64_t n, int64_t last,
                                     bool store);
bool osh_grad_parse_activation (const char *name, OshActKind *act, float *alpha, float *cap);

/* A trained weight with its gradient and the optimizer's slots (osh-train-optim.c). */
typedef struct
{
  float *w, *g, *m, *v;
  int64_t n;
} OshTrainParam;

/* Step `step` (1 for the first) of the options' optimizer on every parameter: clipping, weight
 * decay, the update at the schedule's learning rate (osh-train.h gives the formulas). */
void osh_train_optimizer_step (const OshTrainOptions *o, OshTrainParam *params, int n_params,
                               int64_t step);
