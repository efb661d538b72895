/* osh-default-model.h — models named by the user: a path, or "@default" for the
 * model embedded in the binary's GResource. Shared by the CLI and the window. */
#pragma once

#include "osh-graph.h"

#define OSH_DEFAULT_MODEL_RESOURCE "/io/offshoot/Offshoot/models/default.keras"

OshGraph *osh_load_model_spec (const char *spec, OshError *err);

#define OSH_IMAGENET_CLASSES_RESOURCE "/io/offshoot/Offshoot/imagenet-classes.txt"

/* The 1000 ImageNet-1k class names embedded in the binary (osh-class-names.h says when they
 * name an output), read once; NULL with *n = 0 in a build without them. Not to be freed. */
const char *const *osh_imagenet_class_names (int *n);
