/* osh-zoo-xception.c — keras.applications Xception (tf.keras 2.x names; the residual
 * convolutions, their BatchNorms and the adds carry Keras's automatic names). */
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

#define N(fmt, ...) (snprintf (name, sizeof name, fmt, __VA_ARGS__), name)

/* relu → sepconv → bn, named blockB_sepconvK{_act,,_bn}. */
static OshZt
act_sep_bn (OshZooBuilder *b, OshZt x, int block, int k, int64_t filters)
{
  char name[48];
  x = osh_zoo_activation (b, x, N ("block%d_sepconv%d_act", block, k), "relu");
  x = osh_zoo_sepconv (b, x, N ("block%d_sepconv%d", block, k), filters, 3, "same", false);
  return osh_zoo_bn (b, x, N ("block%d_sepconv%d_bn", block, k), 3, 1e-3, 0.99);
}

static OshZt
residual_of (OshZooBuilder *b, OshZt x, int64_t filters)
{
  OshZt r = osh_zoo_conv (b, x, NULL, filters, 1, 2, "same", false, "linear");
  return osh_zoo_bn (b, r, NULL, 3, 1e-3, 0.99);
}

static OshZt
pool_add (OshZooBuilder *b, OshZt x, int block, OshZt residual)
{
  char name[48];
  x = osh_zoo_pool (b, x, "MaxPooling2D", N ("block%d_pool", block), 3, 2, "same");
  return osh_zoo_merge (b, "Add", NULL, (OshZt[]){ x, residual }, 2);
}

OshGraph *
osh_zoo_xception (const OshZooOptions *o, OshError *err)
{
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = osh_zoo_conv (&b, input, "block1_conv1", 32, 3, 2, "valid", false, "linear");
  x = osh_zoo_bn (&b, x, "block1_conv1_bn", 3, 1e-3, 0.99);
  x = osh_zoo_activation (&b, x, "block1_conv1_act", "relu");
  x = osh_zoo_conv (&b, x, "block1_conv2", 64, 3, 1, "valid", false, "linear");
  x = osh_zoo_bn (&b, x, "block1_conv2_bn", 3, 1e-3, 0.99);
  x = osh_zoo_activation (&b, x, "block1_conv2_act", "relu");

  /* block 2 has no activation before its first separable convolution */
  OshZt residual = residual_of (&b, x, 128);
  x = osh_zoo_sepconv (&b, x, "block2_sepconv1", 128, 3, "same", false);
  x = osh_zoo_bn (&b, x, "block2_sepconv1_bn", 3, 1e-3, 0.99);
  x = act_sep_bn (&b, x, 2, 2, 128);
  x = pool_add (&b, x, 2, residual);

  static const int64_t entry[2] = { 256, 728 };
  for (int i = 0; i < 2; i++)
    {
      residual = residual_of (&b, x, entry[i]);
      x = act_sep_bn (&b, x, 3 + i, 1, entry[i]);
      x = act_sep_bn (&b, x, 3 + i, 2, entry[i]);
      x = pool_add (&b, x, 3 + i, residual);
    }
  for (int block = 5; block <= 12; block++)
    {
      residual = x;
      for (int k = 1; k <= 3; k++)
        x = act_sep_bn (&b, x, block, k, 728);
      x = osh_zoo_merge (&b, "Add", NULL, (OshZt[]){ x, residual }, 2);
    }
  residual = residual_of (&b, x, 1024);
  x = act_sep_bn (&b, x, 13, 1, 728);
  x = act_sep_bn (&b, x, 13, 2, 1024);
  x = pool_add (&b, x, 13, residual);

  x = osh_zoo_sepconv (&b, x, "block14_sepconv1", 1536, 3, "same", false);
  x = osh_zoo_bn (&b, x, "block14_sepconv1_bn", 3, 1e-3, 0.99);
  x = osh_zoo_activation (&b, x, "block14_sepconv1_act", "relu");
  x = osh_zoo_sepconv (&b, x, "block14_sepconv2", 2048, 3, "same", false);
  x = osh_zoo_bn (&b, x, "block14_sepconv2_bn", 3, 1e-3, 0.99);
  x = osh_zoo_activation (&b, x, "block14_sepconv2_act", "relu");
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", "avg_pool", false);
      x = osh_zoo_dense (&b, x, "predictions", o->classes, o->classifier_activation);
    }
  return osh_zoo_builder_finish (&b, "xception", input, x);
}
