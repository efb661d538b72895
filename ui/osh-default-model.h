/* osh-default-model.h — models named by the user: a path, or "@default" for the
 * model embedded in the binary's GResource. Shared by the CLI and the window. */
#pragma once

#include "osh-graph.h"

#define OSH_DEFAULT_MODEL_RESOURCE "/io/offshoot/Offshoot/models/default.keras"

OshGraph *osh_load_model_spec (const char *spec, OshError *err);
