/* built-models.h — small models built by hand, whose outputs are easy to compute.
 *
 *   OshGraph *g = build_functional ();      // nested model, multi-input Add, shared layer
 *   float out1[3], out2[3];
 *   functional_expected (g, x, out1, out2);  // the two outputs for input x[9] (3x3x1)
 */
#pragma once

#include "osh-graph.h"

/* img(3,3,1) -> backbone[conv 3x3x2 -> bn] -> gap -> add(with proj(flatten(img))) -> head;
 * head is called a second time on gap: two outputs. Keras 2 weight names. */
OshGraph *build_functional (void);
void functional_expected (const OshGraph *g, const float *x, float out1[3], float out2[3]);
/* The same when `gap_reads_conv`: gap wired to the conv output (the graph made disconnected
 * by break_functional, then repaired by flattening the backbone). Works after flattening. */
void functional_expected_ex (const OshGraph *g, const float *x, bool gap_reads_conv, float out1[3],
                             float out2[3]);
/* Rewires gap to read backbone/conv directly, across the nested model's boundary: the
 * StackOverflow mistake, a disconnected graph. */
void break_functional (OshGraph *g);

/* input(4) -> dense(3, relu) -> dense_1(2, softmax): a Keras 3 Sequential ("vars/0" names). */
OshGraph *build_sequential (void);
void sequential_expected (const OshGraph *g, const float *x, float out[2]);

/* left(6), right(6) -> features (a nested Sequential: fc1(5, tanh) -> fc2(3)) called on each,
 * a shared nested model -> concatenate -> score(2). */
OshGraph *build_siamese (void);
void siamese_expected (const OshGraph *g, const float *left, const float *right, float out[2]);
