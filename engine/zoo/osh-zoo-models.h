/* osh-zoo-models.h — private: one builder per architecture family (osh-zoo-FAMILY.c). */
#pragma once

#include "osh-zoo.h"

OshGraph *osh_zoo_efficientnet (int variant, const OshZooOptions *o, OshError *err);
int osh_zoo_efficientnet_size (int variant);
OshGraph *osh_zoo_resnet (int depth, const OshZooOptions *o, OshError *err);
OshGraph *osh_zoo_resnet_v2 (int depth, const OshZooOptions *o, OshError *err);
OshGraph *osh_zoo_vgg (int depth, const OshZooOptions *o, OshError *err);
OshGraph *osh_zoo_mobilenet_v2 (const OshZooOptions *o, OshError *err);
OshGraph *osh_zoo_xception (const OshZooOptions *o, OshError *err);
OshGraph *osh_zoo_densenet (int depth, const OshZooOptions *o, OshError *err);
OshGraph *osh_zoo_inception_v3 (const OshZooOptions *o, OshError *err);
OshGraph *osh_zoo_mobilenet_v1 (const OshZooOptions *o, OshError *err);
/* large: MobileNetV3Large, else MobileNetV3Small. */
OshGraph *osh_zoo_mobilenet_v3 (bool large, const OshZooOptions *o, OshError *err);
