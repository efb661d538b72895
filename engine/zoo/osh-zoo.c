/* osh-zoo.c — the zoo's table: names, default input sizes, builders. */
#include "osh-zoo.h"

#include <stdio.h>
#include <strings.h>

#include "osh-zoo-models.h"

typedef struct
{
  const char *name;
  int size; /* Keras's default input size */
  OshGraph *(*build) (int arg, const OshZooOptions *o, OshError *err);
  int arg;
} ZooEntry;

static OshGraph *
mobilenet_v2 (int arg, const OshZooOptions *o, OshError *err)
{
  (void) arg;
  return osh_zoo_mobilenet_v2 (o, err);
}

static OshGraph *
xception (int arg, const OshZooOptions *o, OshError *err)
{
  (void) arg;
  return osh_zoo_xception (o, err);
}

static OshGraph *
inception_v3 (int arg, const OshZooOptions *o, OshError *err)
{
  (void) arg;
  return osh_zoo_inception_v3 (o, err);
}

static OshGraph *
mobilenet_v1 (int arg, const OshZooOptions *o, OshError *err)
{
  (void) arg;
  return osh_zoo_mobilenet_v1 (o, err);
}

static OshGraph *
mobilenet_v3 (int large, const OshZooOptions *o, OshError *err)
{
  return osh_zoo_mobilenet_v3 (large, o, err);
}

static const ZooEntry ZOO[] = {
  { "EfficientNetB0", 224, osh_zoo_efficientnet, 0 },
  { "EfficientNetB1", 240, osh_zoo_efficientnet, 1 },
  { "EfficientNetB2", 260, osh_zoo_efficientnet, 2 },
  { "EfficientNetB3", 300, osh_zoo_efficientnet, 3 },
  { "EfficientNetB4", 380, osh_zoo_efficientnet, 4 },
  { "EfficientNetB5", 456, osh_zoo_efficientnet, 5 },
  { "EfficientNetB6", 528, osh_zoo_efficientnet, 6 },
  { "EfficientNetB7", 600, osh_zoo_efficientnet, 7 },
  { "MobileNet", 224, mobilenet_v1, 0 },
  { "MobileNetV2", 224, mobilenet_v2, 0 },
  { "MobileNetV3Small", 224, mobilenet_v3, 0 },
  { "MobileNetV3Large", 224, mobilenet_v3, 1 },
  { "ResNet50", 224, osh_zoo_resnet, 50 },
  { "ResNet101", 224, osh_zoo_resnet, 101 },
  { "ResNet152", 224, osh_zoo_resnet, 152 },
  { "ResNet50V2", 224, osh_zoo_resnet_v2, 50 },
  { "VGG16", 224, osh_zoo_vgg, 16 },
  { "VGG19", 224, osh_zoo_vgg, 19 },
  { "Xception", 299, xception, 0 },
  { "InceptionV3", 299, inception_v3, 0 },
  { "DenseNet121", 224, osh_zoo_densenet, 121 },
  { "DenseNet169", 224, osh_zoo_densenet, 169 },
  { "DenseNet201", 224, osh_zoo_densenet, 201 },
};
#define ZOO_COUNT ((int) (sizeof ZOO / sizeof ZOO[0]))

const char *const *
osh_zoo_names (void)
{
  static const char *names[ZOO_COUNT + 1];
  for (int i = 0; i < ZOO_COUNT; i++)
    names[i] = ZOO[i].name;
  names[ZOO_COUNT] = NULL;
  return names;
}

static const ZooEntry *
find (const char *name)
{
  for (int i = 0; name && i < ZOO_COUNT; i++)
    if (strcasecmp (ZOO[i].name, name) == 0)
      return &ZOO[i];
  return NULL;
}

bool
osh_zoo_options_init (OshZooOptions *o, const char *name)
{
  const ZooEntry *e = find (name);
  *o = (OshZooOptions){ .include_top = true,
                        .height = e ? e->size : 224,
                        .width = e ? e->size : 224,
                        .channels = 3,
                        .classes = 1000,
                        .classifier_activation = "softmax",
                        .seed = 1 };
  return e != NULL;
}

OshGraph *
osh_zoo_build (const char *name, const OshZooOptions *o, OshError *err)
{
  const ZooEntry *e = find (name);
  if (!e)
    {
      osh_fail (err, OSH_ERR_NOT_FOUND,
                "zoo: no architecture called '%s' (see offshoot zoo --list)", name ? name : "");
      return NULL;
    }
  if (o->height < 1 || o->width < 1 || o->channels < 1 || o->classes < 1 || o->height > 4096
      || o->width > 4096 || o->channels > 64 || o->classes > 1000000)
    {
      osh_fail (err, OSH_ERR_USAGE,
                "zoo %s: input %lldx%lldx%lld with %lld classes is out of range", e->name,
                (long long) o->height, (long long) o->width, (long long) o->channels,
                (long long) o->classes);
      return NULL;
    }
  OshGraph *g = e->build (e->arg, o, err);
  if (!g)
    osh_error_prefix (err, "zoo %s: ", e->name);
  return g;
}
