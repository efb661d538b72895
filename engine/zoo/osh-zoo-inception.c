/* osh-zoo-inception.c — keras.applications InceptionV3 (tf.keras 2.x: the convolutions,
 * BatchNorms and activations of conv2d_bn take Keras's automatic names). */
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

/* Keras's conv2d_bn: Conv2D (no bias) → BatchNorm (no scale) → relu. */
static OshZt
cbr (OshZooBuilder *b, OshZt x, int64_t filters, int rows, int cols, int stride,
     const char *padding)
{
  x = osh_zoo_conv_rect (b, x, NULL, filters, rows, cols, stride, padding, false, "linear");
  x = osh_zoo_bn_unscaled (b, x, NULL, 3, 1e-3, 0.99);
  return osh_zoo_activation (b, x, NULL, "relu");
}

static OshZt
same (OshZooBuilder *b, OshZt x, int64_t filters, int rows, int cols)
{
  return cbr (b, x, filters, rows, cols, 1, "same");
}

static OshZt
avg_branch (OshZooBuilder *b, OshZt x, int64_t filters)
{
  OshZt p = osh_zoo_pool (b, x, "AveragePooling2D", NULL, 3, 1, "same");
  return same (b, p, filters, 1, 1);
}

static OshZt
concat (OshZooBuilder *b, const char *name, const OshZt *xs, int n)
{
  return osh_zoo_merge (b, "Concatenate", name, xs, n);
}

OshGraph *
osh_zoo_inception_v3 (const OshZooOptions *o, OshError *err)
{
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = cbr (&b, input, 32, 3, 3, 2, "valid");
  x = cbr (&b, x, 32, 3, 3, 1, "valid");
  x = same (&b, x, 64, 3, 3);
  x = osh_zoo_pool (&b, x, "MaxPooling2D", NULL, 3, 2, "valid");
  x = cbr (&b, x, 80, 1, 1, 1, "valid");
  x = cbr (&b, x, 192, 3, 3, 1, "valid");
  x = osh_zoo_pool (&b, x, "MaxPooling2D", NULL, 3, 2, "valid");

  char name[16];
  for (int i = 0; i < 3; i++) /* mixed0-2: 35×35 */
    {
      OshZt b1 = same (&b, x, 64, 1, 1);
      OshZt b5 = same (&b, same (&b, x, 48, 1, 1), 64, 5, 5);
      OshZt b3 = same (&b, same (&b, same (&b, x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
      OshZt bp = avg_branch (&b, x, i == 0 ? 32 : 64);
      snprintf (name, sizeof name, "mixed%d", i);
      x = concat (&b, name, (OshZt[]){ b1, b5, b3, bp }, 4);
    }
  { /* mixed3: down to 17×17 */
    OshZt b3 = cbr (&b, x, 384, 3, 3, 2, "valid");
    OshZt bd = same (&b, same (&b, x, 64, 1, 1), 96, 3, 3);
    bd = cbr (&b, bd, 96, 3, 3, 2, "valid");
    OshZt bp = osh_zoo_pool (&b, x, "MaxPooling2D", NULL, 3, 2, "valid");
    x = concat (&b, "mixed3", (OshZt[]){ b3, bd, bp }, 3);
  }
  static const int64_t width7[4] = { 128, 160, 160, 192 };
  for (int i = 0; i < 4; i++) /* mixed4-7: 17×17 with factorised 7×7 */
    {
      int64_t c = width7[i];
      OshZt b1 = same (&b, x, 192, 1, 1);
      OshZt b7 = same (&b, same (&b, same (&b, x, c, 1, 1), c, 1, 7), 192, 7, 1);
      OshZt bd = same (&b, same (&b, same (&b, x, c, 1, 1), c, 7, 1), c, 1, 7);
      bd = same (&b, same (&b, bd, c, 7, 1), 192, 1, 7);
      OshZt bp = avg_branch (&b, x, 192);
      snprintf (name, sizeof name, "mixed%d", 4 + i);
      x = concat (&b, name, (OshZt[]){ b1, b7, bd, bp }, 4);
    }
  { /* mixed8: down to 8×8 */
    OshZt b3 = cbr (&b, same (&b, x, 192, 1, 1), 320, 3, 3, 2, "valid");
    OshZt b7 = same (&b, same (&b, same (&b, x, 192, 1, 1), 192, 1, 7), 192, 7, 1);
    b7 = cbr (&b, b7, 192, 3, 3, 2, "valid");
    OshZt bp = osh_zoo_pool (&b, x, "MaxPooling2D", NULL, 3, 2, "valid");
    x = concat (&b, "mixed8", (OshZt[]){ b3, b7, bp }, 3);
  }
  for (int i = 0; i < 2; i++) /* mixed9-10: 8×8 with split 3×3 */
    {
      OshZt b1 = same (&b, x, 320, 1, 1);
      OshZt b3 = same (&b, x, 384, 1, 1);
      OshZt b3a = same (&b, b3, 384, 1, 3), b3b = same (&b, b3, 384, 3, 1);
      snprintf (name, sizeof name, "mixed9_%d", i);
      b3 = concat (&b, name, (OshZt[]){ b3a, b3b }, 2);
      OshZt bd = same (&b, same (&b, x, 448, 1, 1), 384, 3, 3);
      OshZt bda = same (&b, bd, 384, 1, 3), bdb = same (&b, bd, 384, 3, 1);
      bd = concat (&b, NULL, (OshZt[]){ bda, bdb }, 2);
      OshZt bp = avg_branch (&b, x, 192);
      snprintf (name, sizeof name, "mixed%d", 9 + i);
      x = concat (&b, name, (OshZt[]){ b1, b3, bd, bp }, 4);
    }
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", "avg_pool", false);
      x = osh_zoo_dense (&b, x, "predictions", o->classes, o->classifier_activation);
    }
  return osh_zoo_builder_finish (&b, "inception_v3", input, x);
}
