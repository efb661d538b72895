/* osh-zoo-mobilenet.c — keras.applications MobileNet and MobileNetV2 (alpha 1.0, tf.keras 2.6+
 * layout: MobileNet's top pools with keepdims instead of a Reshape). */
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

#define BN_EPS 1e-3
#define BN_MOMENTUM 0.999

static OshZt
inverted_residual (OshZooBuilder *b, OshZt inputs, int expansion, int stride, int64_t filters,
                   int block_id)
{
  char prefix[32], name[64];
#define N(suffix) (snprintf (name, sizeof name, "%s%s", prefix, suffix), name)
  int64_t in_channels = inputs.dim[2];
  int64_t pointwise = osh_zoo_make_divisible ((double) filters, 8);
  OshZt x = inputs;
  if (block_id)
    {
      snprintf (prefix, sizeof prefix, "block_%d_", block_id);
      x = osh_zoo_conv (b, x, N ("expand"), expansion * in_channels, 1, 1, "same", false, "linear");
      x = osh_zoo_bn (b, x, N ("expand_BN"), -1, BN_EPS, BN_MOMENTUM);
      x = osh_zoo_relu (b, x, N ("expand_relu"), 6.0);
    }
  else
    snprintf (prefix, sizeof prefix, "expanded_conv_");
  if (stride == 2)
    x = osh_zoo_correct_pad (b, x, N ("pad"), 3);
  x = osh_zoo_dwconv (b, x, N ("depthwise"), 3, stride, stride == 1 ? "same" : "valid", false);
  x = osh_zoo_bn (b, x, N ("depthwise_BN"), -1, BN_EPS, BN_MOMENTUM);
  x = osh_zoo_relu (b, x, N ("depthwise_relu"), 6.0);
  x = osh_zoo_conv (b, x, N ("project"), pointwise, 1, 1, "same", false, "linear");
  x = osh_zoo_bn (b, x, N ("project_BN"), -1, BN_EPS, BN_MOMENTUM);
  if (in_channels == pointwise && stride == 1)
    x = osh_zoo_merge (b, "Add", N ("add"), (OshZt[]){ inputs, x }, 2);
#undef N
  return x;
}

OshGraph *
osh_zoo_mobilenet_v2 (const OshZooOptions *o, OshError *err)
{
  /* filters, stride, expansion for block_id 0..16 */
  static const int SPEC[17][3] = {
    { 16, 1, 1 }, { 24, 2, 6 },  { 24, 1, 6 },  { 32, 2, 6 },  { 32, 1, 6 },  { 32, 1, 6 },
    { 64, 2, 6 }, { 64, 1, 6 },  { 64, 1, 6 },  { 64, 1, 6 },  { 96, 1, 6 },  { 96, 1, 6 },
    { 96, 1, 6 }, { 160, 2, 6 }, { 160, 1, 6 }, { 160, 1, 6 }, { 320, 1, 6 },
  };
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = osh_zoo_conv (&b, input, "Conv1", osh_zoo_make_divisible (32, 8), 3, 2, "same", false,
                          "linear");
  x = osh_zoo_bn (&b, x, "bn_Conv1", -1, BN_EPS, BN_MOMENTUM);
  x = osh_zoo_relu (&b, x, "Conv1_relu", 6.0);
  for (int i = 0; i < 17; i++)
    x = inverted_residual (&b, x, SPEC[i][2], SPEC[i][1], SPEC[i][0], i);
  x = osh_zoo_conv (&b, x, "Conv_1", 1280, 1, 1, "valid", false, "linear");
  x = osh_zoo_bn (&b, x, "Conv_1_bn", -1, BN_EPS, BN_MOMENTUM);
  x = osh_zoo_relu (&b, x, "out_relu", 6.0);
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", NULL, false);
      x = osh_zoo_dense (&b, x, "predictions", o->classes, o->classifier_activation);
    }
  char model_name[48];
  snprintf (model_name, sizeof model_name, "mobilenetv2_1.00_%lld", (long long) o->height);
  return osh_zoo_builder_finish (&b, model_name, input, x);
}

/* MobileNet (v1): depthwise 3×3 → BN → ReLU6 → pointwise → BN → ReLU6, padded before strides. */
static OshZt
depthwise_block (OshZooBuilder *b, OshZt x, int64_t filters, int stride, int id)
{
  char name[32];
#define N(fmt) (snprintf (name, sizeof name, fmt, id), name)
  if (stride == 2)
    x = osh_zoo_zeropad (b, x, N ("conv_pad_%d"), 0, 1, 0, 1);
  x = osh_zoo_dwconv (b, x, N ("conv_dw_%d"), 3, stride, stride == 1 ? "same" : "valid", false);
  x = osh_zoo_bn (b, x, N ("conv_dw_%d_bn"), -1, BN_EPS, 0.99);
  x = osh_zoo_relu (b, x, N ("conv_dw_%d_relu"), 6.0);
  x = osh_zoo_conv (b, x, N ("conv_pw_%d"), filters, 1, 1, "same", false, "linear");
  x = osh_zoo_bn (b, x, N ("conv_pw_%d_bn"), -1, BN_EPS, 0.99);
#undef N
  snprintf (name, sizeof name, "conv_pw_%d_relu", id);
  return osh_zoo_relu (b, x, name, 6.0);
}

OshGraph *
osh_zoo_mobilenet_v1 (const OshZooOptions *o, OshError *err)
{
  static const int SPEC[13][2] = { { 64, 1 },  { 128, 2 },  { 128, 1 }, { 256, 2 }, { 256, 1 },
                                   { 512, 2 }, { 512, 1 },  { 512, 1 }, { 512, 1 }, { 512, 1 },
                                   { 512, 1 }, { 1024, 2 }, { 1024, 1 } };
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = osh_zoo_conv (&b, input, "conv1", 32, 3, 2, "same", false, "linear");
  x = osh_zoo_bn (&b, x, "conv1_bn", -1, BN_EPS, 0.99);
  x = osh_zoo_relu (&b, x, "conv1_relu", 6.0);
  for (int i = 0; i < 13; i++)
    x = depthwise_block (&b, x, SPEC[i][0], SPEC[i][1], i + 1);
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", NULL, true);
      x = osh_zoo_dropout (&b, x, "dropout", 1e-3, false);
      x = osh_zoo_conv (&b, x, "conv_preds", o->classes, 1, 1, "same", true, "linear");
      x = osh_zoo_reshape (&b, x, "reshape_2", 1, &o->classes);
      x = osh_zoo_activation (&b, x, "predictions", o->classifier_activation);
    }
  char model_name[48];
  snprintf (model_name, sizeof model_name, "mobilenet_1.00_%lld", (long long) o->height);
  return osh_zoo_builder_finish (&b, model_name, input, x);
}
