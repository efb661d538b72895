/* osh-zoo-densenet.c — keras.applications DenseNet121/169/201. Keras 2 names these layers
 * "conv1/conv", "conv2_block1_0_bn", ...; a "/" inside a name would read as a nested-model
 * path in Offshoot, so the stem uses Keras 3's spelling ("conv1_conv"). */
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

#define BN_EPS 1.001e-5
#define N(fmt, ...) (snprintf (name, sizeof name, fmt, __VA_ARGS__), name)

static OshZt
conv_block (OshZooBuilder *b, OshZt x, const char *prefix)
{
  char name[64];
  OshZt y = osh_zoo_bn (b, x, N ("%s_0_bn", prefix), 3, BN_EPS, 0.99);
  y = osh_zoo_activation (b, y, N ("%s_0_relu", prefix), "relu");
  y = osh_zoo_conv (b, y, N ("%s_1_conv", prefix), 4 * 32, 1, 1, "valid", false, "linear");
  y = osh_zoo_bn (b, y, N ("%s_1_bn", prefix), 3, BN_EPS, 0.99);
  y = osh_zoo_activation (b, y, N ("%s_1_relu", prefix), "relu");
  y = osh_zoo_conv (b, y, N ("%s_2_conv", prefix), 32, 3, 1, "same", false, "linear");
  return osh_zoo_merge (b, "Concatenate", N ("%s_concat", prefix), (OshZt[]){ x, y }, 2);
}

static OshZt
transition (OshZooBuilder *b, OshZt x, int stage)
{
  char name[64];
  x = osh_zoo_bn (b, x, N ("pool%d_bn", stage), 3, BN_EPS, 0.99);
  x = osh_zoo_activation (b, x, N ("pool%d_relu", stage), "relu");
  x = osh_zoo_conv (b, x, N ("pool%d_conv", stage), x.dim[2] / 2, 1, 1, "valid", false, "linear");
  return osh_zoo_pool (b, x, "AveragePooling2D", N ("pool%d_pool", stage), 2, 2, "valid");
}

OshGraph *
osh_zoo_densenet (int depth, const OshZooOptions *o, OshError *err)
{
  static const int b121[4] = { 6, 12, 24, 16 }, b169[4] = { 6, 12, 32, 32 },
                   b201[4] = { 6, 12, 48, 32 };
  const int *blocks = depth == 201 ? b201 : depth == 169 ? b169 : b121;
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = osh_zoo_zeropad (&b, input, NULL, 3, 3, 3, 3);
  x = osh_zoo_conv (&b, x, "conv1_conv", 64, 7, 2, "valid", false, "linear");
  x = osh_zoo_bn (&b, x, "conv1_bn", 3, BN_EPS, 0.99);
  x = osh_zoo_activation (&b, x, "conv1_relu", "relu");
  x = osh_zoo_zeropad (&b, x, NULL, 1, 1, 1, 1);
  x = osh_zoo_pool (&b, x, "MaxPooling2D", "pool1", 3, 2, "valid");
  for (int s = 0; s < 4; s++)
    {
      for (int i = 1; i <= blocks[s]; i++)
        {
          char prefix[32];
          snprintf (prefix, sizeof prefix, "conv%d_block%d", s + 2, i);
          x = conv_block (&b, x, prefix);
        }
      if (s < 3)
        x = transition (&b, x, s + 2);
    }
  x = osh_zoo_bn (&b, x, "bn", 3, BN_EPS, 0.99);
  x = osh_zoo_activation (&b, x, "relu", "relu");
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", "avg_pool", false);
      x = osh_zoo_dense (&b, x, "predictions", o->classes, o->classifier_activation);
    }
  char model_name[16];
  snprintf (model_name, sizeof model_name, "densenet%d", depth);
  return osh_zoo_builder_finish (&b, model_name, input, x);
}
