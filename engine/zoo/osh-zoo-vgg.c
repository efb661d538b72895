/* osh-zoo-vgg.c — keras.applications VGG16 and VGG19. */
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

OshGraph *
osh_zoo_vgg (int depth, const OshZooOptions *o, OshError *err)
{
  static const int convs16[5] = { 2, 2, 3, 3, 3 }, convs19[5] = { 2, 2, 4, 4, 4 };
  static const int64_t filters[5] = { 64, 128, 256, 512, 512 };
  const int *convs = depth == 19 ? convs19 : convs16;
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = input;
  for (int s = 0; s < 5; s++)
    {
      char name[32];
      for (int i = 1; i <= convs[s]; i++)
        {
          snprintf (name, sizeof name, "block%d_conv%d", s + 1, i);
          x = osh_zoo_conv (&b, x, name, filters[s], 3, 1, "same", true, "relu");
        }
      snprintf (name, sizeof name, "block%d_pool", s + 1);
      x = osh_zoo_pool (&b, x, "MaxPooling2D", name, 2, 2, "valid");
    }
  if (o->include_top)
    {
      x = osh_zoo_flatten (&b, x, "flatten");
      x = osh_zoo_dense (&b, x, "fc1", 4096, "relu");
      x = osh_zoo_dense (&b, x, "fc2", 4096, "relu");
      x = osh_zoo_dense (&b, x, "predictions", o->classes, o->classifier_activation);
    }
  return osh_zoo_builder_finish (&b, depth == 19 ? "vgg19" : "vgg16", input, x);
}
