/* osh-heads-onnx.h — private to the head code: a head made of ONNX nodes for ONNX graphs.
 *
 * osh_head_attach (osh-heads.h) names and shape-checks the steps the same way for every graph
 * (an NCHW tensor is checked with its channels moved last), then calls osh_head_build_onnx for
 * an ONNX graph. Each step becomes the ONNX nodes that compute what the Keras layer computes:
 *
 *   Conv2D              Conv (OIHW weights, explicit pads for "same"), then the activation
 *   BatchNormalization  BatchNormalization (scale, B, mean, var)
 *   ReLU, Activation    Relu, Sigmoid, Tanh, Softmax (axis 1), Identity
 *   GAP                 GlobalAveragePool, then Flatten
 *   Dense               Gemm on a 2-D input, then the activation
 *
 * The step's name goes to its last node (the one whose output the next step reads); extra nodes
 * get the name with a suffix (aux_head_out_gemm). Weights use the Keras head's seeded values,
 * transposed to ONNX's layout, so the same head on the same tensor gives the same numbers.
 */
#pragma once

#include "osh-heads.h"

/* True for graphs whose layers are ONNX nodes (read from .onnx). */
bool osh_head_is_onnx (const OshGraph *g);

/* Shape of step `s` applied to `in` (channels last), or false with err naming the head layer. */
bool osh_head_step_shape (
    const OshHeadStep *s, const char *name, const OshShape *in, OshShape *out, OshError *err);

/* The seeded fill of a head weight: Glorot-uniform from a stream keyed by the layer's name when
 * glorot_limit > 0, else the constant `fill`. */
void
osh_head_fill (float *data, int64_t n, const char *layer_name, float fill, double glorot_limit);
double osh_head_glorot_limit (const OshHeadStep *s, int64_t cin);

/* Appends the ONNX nodes of `spec` to `w`, reading *x and leaving the head's output in *x.
 * shapes[i] is step i's input, channels last (from osh_head_step_shape). */
bool osh_head_build_onnx (OshGraph *w,
                          const OshHeadSpec *spec,
                          const char *const *names,
                          const OshShape *shapes,
                          OshRef *x,
                          OshError *err);
