/* osh-zoo-resnet.c — keras.applications ResNet50/101/152 (v1) and ResNet50V2. */
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

#define BN_EPS 1.001e-5

/* Builds the layer name "PREFIX_SUFFIX" in a scratch buffer. */
#define N(suffix) (snprintf (name, sizeof name, "%s_%s", prefix, suffix), name)

/* v1 bottleneck: 1×1 → 3×3 → 1×1(4F), shortcut convolved in the first block of a stack. */
static OshZt
block1 (OshZooBuilder *b, OshZt x, int64_t filters, int stride, bool conv_shortcut,
        const char *prefix)
{
  char name[64];
  OshZt shortcut = x;
  if (conv_shortcut)
    {
      shortcut = osh_zoo_conv (b, x, N ("0_conv"), 4 * filters, 1, stride, "valid", true, "linear");
      shortcut = osh_zoo_bn (b, shortcut, N ("0_bn"), 3, BN_EPS, 0.99);
    }
  x = osh_zoo_conv (b, x, N ("1_conv"), filters, 1, stride, "valid", true, "linear");
  x = osh_zoo_bn (b, x, N ("1_bn"), 3, BN_EPS, 0.99);
  x = osh_zoo_activation (b, x, N ("1_relu"), "relu");
  x = osh_zoo_conv (b, x, N ("2_conv"), filters, 3, 1, "same", true, "linear");
  x = osh_zoo_bn (b, x, N ("2_bn"), 3, BN_EPS, 0.99);
  x = osh_zoo_activation (b, x, N ("2_relu"), "relu");
  x = osh_zoo_conv (b, x, N ("3_conv"), 4 * filters, 1, 1, "valid", true, "linear");
  x = osh_zoo_bn (b, x, N ("3_bn"), 3, BN_EPS, 0.99);
  x = osh_zoo_merge (b, "Add", N ("add"), (OshZt[]){ shortcut, x }, 2);
  return osh_zoo_activation (b, x, N ("out"), "relu");
}

/* v2 pre-activation block; the stride sits in the last block of a stack. */
static OshZt
block2 (OshZooBuilder *b, OshZt x, int64_t filters, int stride, bool conv_shortcut,
        const char *prefix)
{
  char name[64];
  OshZt preact = osh_zoo_bn (b, x, N ("preact_bn"), 3, BN_EPS, 0.99);
  preact = osh_zoo_activation (b, preact, N ("preact_relu"), "relu");
  OshZt shortcut = x;
  if (conv_shortcut)
    shortcut =
        osh_zoo_conv (b, preact, N ("0_conv"), 4 * filters, 1, stride, "valid", true, "linear");
  else if (stride > 1)
    shortcut = osh_zoo_pool (b, x, "MaxPooling2D", N ("0_max"), 1, stride, "valid");
  x = osh_zoo_conv (b, preact, N ("1_conv"), filters, 1, 1, "valid", false, "linear");
  x = osh_zoo_bn (b, x, N ("1_bn"), 3, BN_EPS, 0.99);
  x = osh_zoo_activation (b, x, N ("1_relu"), "relu");
  x = osh_zoo_zeropad (b, x, N ("2_pad"), 1, 1, 1, 1);
  x = osh_zoo_conv (b, x, N ("2_conv"), filters, 3, stride, "valid", false, "linear");
  x = osh_zoo_bn (b, x, N ("2_bn"), 3, BN_EPS, 0.99);
  x = osh_zoo_activation (b, x, N ("2_relu"), "relu");
  x = osh_zoo_conv (b, x, N ("3_conv"), 4 * filters, 1, 1, "valid", true, "linear");
  return osh_zoo_merge (b, "Add", N ("out"), (OshZt[]){ shortcut, x }, 2);
}
#undef N

static OshGraph *
resnet (bool v2, const int blocks[4], const char *model_name, const OshZooOptions *o, OshError *err)
{
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = osh_zoo_zeropad (&b, input, "conv1_pad", 3, 3, 3, 3);
  x = osh_zoo_conv (&b, x, "conv1_conv", 64, 7, 2, "valid", true, "linear");
  if (!v2)
    {
      x = osh_zoo_bn (&b, x, "conv1_bn", 3, BN_EPS, 0.99);
      x = osh_zoo_activation (&b, x, "conv1_relu", "relu");
    }
  x = osh_zoo_zeropad (&b, x, "pool1_pad", 1, 1, 1, 1);
  x = osh_zoo_pool (&b, x, "MaxPooling2D", "pool1_pool", 3, 2, "valid");
  static const int64_t filters[4] = { 64, 128, 256, 512 };
  for (int s = 0; s < 4; s++)
    for (int i = 1; i <= blocks[s]; i++)
      {
        char prefix[32];
        snprintf (prefix, sizeof prefix, "conv%d_block%d", s + 2, i);
        if (!v2)
          x = block1 (&b, x, filters[s], i == 1 && s > 0 ? 2 : 1, i == 1, prefix);
        else
          x = block2 (&b, x, filters[s], i == blocks[s] && s < 3 ? 2 : 1, i == 1, prefix);
      }
  if (v2)
    {
      x = osh_zoo_bn (&b, x, "post_bn", 3, BN_EPS, 0.99);
      x = osh_zoo_activation (&b, x, "post_relu", "relu");
    }
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", "avg_pool", false);
      x = osh_zoo_dense (&b, x, "predictions", o->classes, o->classifier_activation);
    }
  return osh_zoo_builder_finish (&b, model_name, input, x);
}

OshGraph *
osh_zoo_resnet (int depth, const OshZooOptions *o, OshError *err)
{
  static const int b50[4] = { 3, 4, 6, 3 }, b101[4] = { 3, 4, 23, 3 }, b152[4] = { 3, 8, 36, 3 };
  char model_name[16];
  snprintf (model_name, sizeof model_name, "resnet%d", depth);
  return resnet (false, depth == 152 ? b152 : depth == 101 ? b101 : b50, model_name, o, err);
}

OshGraph *
osh_zoo_resnet_v2 (int depth, const OshZooOptions *o, OshError *err)
{
  static const int b50[4] = { 3, 4, 6, 3 };
  (void) depth;
  return resnet (true, b50, "resnet50v2", o, err);
}
