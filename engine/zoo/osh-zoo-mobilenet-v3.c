/* osh-zoo-mobilenet-v3.c — keras.applications MobileNetV3Small and MobileNetV3Large in their
 * Keras 2 form (2.6 and later: alpha 1.0, minimalistic=False, include_preprocessing=True, the
 * top holding Conv_2 after a keepdims pooling). Keras 2 writes hard_sigmoid as
 * `ReLU(6.)(x + 3.) * (1. / 6.)`, so the arithmetic becomes TFOpLambda layers
 * ("tf.__operators__.add", "tf.math.multiply") around an unnamed ReLU, and hard_swish
 * multiplies that with x in an unnamed Multiply. */
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

#define BN_EPS 1e-3
#define BN_MOMENTUM 0.999

typedef enum
{
  ACT_RELU,
  ACT_HARD_SWISH,
} Act;

static OshZt
hard_sigmoid (OshZooBuilder *b, OshZt x)
{
  x = osh_zoo_tfop (b, x, "__operators__.add", 3.0);
  x = osh_zoo_relu (b, x, NULL, 6.0);
  return osh_zoo_tfop (b, x, "math.multiply", 1.0 / 6.0);
}

static OshZt
activation (OshZooBuilder *b, OshZt x, Act act)
{
  if (act == ACT_RELU)
    return osh_zoo_relu (b, x, NULL, 0);
  return osh_zoo_merge (b, "Multiply", NULL, (OshZt[]){ x, hard_sigmoid (b, x) }, 2);
}

static OshZt
bn (OshZooBuilder *b, OshZt x, const char *name)
{
  return osh_zoo_bn (b, x, name, -1, BN_EPS, BN_MOMENTUM);
}

static OshZt
squeeze_excite (OshZooBuilder *b, OshZt inputs, int64_t filters, const char *prefix)
{
  char name[80];
#define N(suffix) (snprintf (name, sizeof name, "%ssqueeze_excite/%s", prefix, suffix), name)
  OshZt x = osh_zoo_global_pool (b, inputs, "GlobalAveragePooling2D", N ("AvgPool"), true);
  x = osh_zoo_conv (b, x, N ("Conv"), osh_zoo_make_divisible (filters * 0.25, 8), 1, 1, "same",
                    true, "linear");
  x = osh_zoo_relu (b, x, N ("Relu"), 0);
  x = osh_zoo_conv (b, x, N ("Conv_1"), filters, 1, 1, "same", true, "linear");
  x = hard_sigmoid (b, x);
  x = osh_zoo_merge (b, "Multiply", N ("Mul"), (OshZt[]){ inputs, x }, 2);
#undef N
  return x;
}

typedef struct
{
  double expansion;
  int filters, kernel, stride;
  bool se;
  Act act;
} BlockSpec;

static OshZt
inverted_res_block (OshZooBuilder *b, OshZt inputs, const BlockSpec *s, int block_id)
{
  char prefix[32], name[80];
#define N(suffix) (snprintf (name, sizeof name, "%s%s", prefix, suffix), name)
  int64_t in_filters = inputs.dim[2];
  int64_t expanded = osh_zoo_make_divisible (in_filters * s->expansion, 8);
  OshZt x = inputs;
  snprintf (prefix, sizeof prefix, "expanded_conv/");
  if (block_id)
    {
      snprintf (prefix, sizeof prefix, "expanded_conv_%d/", block_id);
      x = osh_zoo_conv (b, x, N ("expand"), expanded, 1, 1, "same", false, "linear");
      x = bn (b, x, N ("expand/BatchNorm"));
      x = activation (b, x, s->act);
    }
  if (s->stride == 2)
    x = osh_zoo_correct_pad (b, x, N ("depthwise/pad"), s->kernel);
  x = osh_zoo_dwconv (b, x, N ("depthwise"), s->kernel, s->stride,
                      s->stride == 1 ? "same" : "valid", false);
  x = bn (b, x, N ("depthwise/BatchNorm"));
  x = activation (b, x, s->act);
  if (s->se)
    x = squeeze_excite (b, x, expanded, prefix);
  x = osh_zoo_conv (b, x, N ("project"), s->filters, 1, 1, "same", false, "linear");
  x = bn (b, x, N ("project/BatchNorm"));
  if (s->stride == 1 && in_filters == s->filters)
    x = osh_zoo_merge (b, "Add", N ("Add"), (OshZt[]){ inputs, x }, 2);
#undef N
  return x;
}

#define HS ACT_HARD_SWISH
#define RE ACT_RELU

static const BlockSpec SMALL[] = {
  { 1, 16, 3, 2, true, RE }, { 72.0 / 16, 24, 3, 2, false, RE }, { 88.0 / 24, 24, 3, 1, false, RE },
  { 4, 40, 5, 2, true, HS }, { 6, 40, 5, 1, true, HS },          { 6, 40, 5, 1, true, HS },
  { 3, 48, 5, 1, true, HS }, { 3, 48, 5, 1, true, HS },          { 6, 96, 5, 2, true, HS },
  { 6, 96, 5, 1, true, HS }, { 6, 96, 5, 1, true, HS },
};

static const BlockSpec LARGE[] = {
  { 1, 16, 3, 1, false, RE },   { 4, 24, 3, 2, false, RE },   { 3, 24, 3, 1, false, RE },
  { 3, 40, 5, 2, true, RE },    { 3, 40, 5, 1, true, RE },    { 3, 40, 5, 1, true, RE },
  { 6, 80, 3, 2, false, HS },   { 2.5, 80, 3, 1, false, HS }, { 2.3, 80, 3, 1, false, HS },
  { 2.3, 80, 3, 1, false, HS }, { 6, 112, 3, 1, true, HS },   { 6, 112, 3, 1, true, HS },
  { 6, 160, 5, 2, true, HS },   { 6, 160, 5, 1, true, HS },   { 6, 160, 5, 1, true, HS },
};

#undef HS
#undef RE

OshGraph *
osh_zoo_mobilenet_v3 (bool large, const OshZooOptions *o, OshError *err)
{
  const BlockSpec *spec = large ? LARGE : SMALL;
  int n_blocks =
      large ? (int) (sizeof LARGE / sizeof LARGE[0]) : (int) (sizeof SMALL / sizeof SMALL[0]);
  int64_t last_point = large ? 1280 : 1024;
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  if (o->height < 32 || o->width < 32)
    osh_zoo_fail (&b, "input must be at least 32x32, got %lldx%lld", (long long) o->height,
                  (long long) o->width);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = osh_zoo_rescaling (&b, input, NULL, 1.0 / 127.5, -1.0);
  x = osh_zoo_conv (&b, x, "Conv", 16, 3, 2, "same", false, "linear");
  x = bn (&b, x, "Conv/BatchNorm");
  x = activation (&b, x, ACT_HARD_SWISH);
  for (int i = 0; i < n_blocks; i++)
    x = inverted_res_block (&b, x, &spec[i], i);
  x = osh_zoo_conv (&b, x, "Conv_1", osh_zoo_make_divisible (x.dim[2] * 6.0, 8), 1, 1, "same",
                    false, "linear");
  x = bn (&b, x, "Conv_1/BatchNorm");
  x = activation (&b, x, ACT_HARD_SWISH);
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", NULL, true);
      x = osh_zoo_conv (&b, x, "Conv_2", last_point, 1, 1, "same", true, "linear");
      x = activation (&b, x, ACT_HARD_SWISH);
      x = osh_zoo_dropout (&b, x, NULL, 0.2, false);
      x = osh_zoo_conv (&b, x, "Logits", o->classes, 1, 1, "same", true, "linear");
      x = osh_zoo_flatten (&b, x, NULL);
      x = osh_zoo_activation (&b, x, "Predictions", o->classifier_activation);
    }
  return osh_zoo_builder_finish (&b, large ? "MobilenetV3large" : "MobilenetV3small", input, x);
}
