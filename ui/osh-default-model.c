#include "osh-default-model.h"

#include <gio/gio.h>
#include <string.h>

#include "osh-model.h"

OshGraph *
osh_load_model_spec (const char *spec, OshError *err)
{
  if (strcmp (spec, "@default") != 0)
    return osh_model_load (spec, err);
  GBytes *bytes =
      g_resources_lookup_data (OSH_DEFAULT_MODEL_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (!bytes)
    {
      osh_fail (err, OSH_ERR_NOT_FOUND, "@default: this build has no embedded default model");
      return NULL;
    }
  gsize size = 0;
  const void *data = g_bytes_get_data (bytes, &size);
  OshGraph *g = osh_model_load_bytes ("@default", data, size, err);
  g_bytes_unref (bytes);
  return g;
}
