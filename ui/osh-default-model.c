#include "osh-default-model.h"

#include <gio/gio.h>
#include <string.h>

#include "osh-class-names.h"
#include "osh-model.h"

const char *const *
osh_imagenet_class_names (int *n)
{
  static gsize once = 0;
  static char **names = NULL;
  static int count = 0;
  if (g_once_init_enter (&once))
    {
      GBytes *bytes = g_resources_lookup_data (OSH_IMAGENET_CLASSES_RESOURCE,
                                               G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      if (bytes)
        {
          /* The resource compiler ends data with a NUL. */
          names = osh_class_names_parse (g_bytes_get_data (bytes, NULL), true, &count);
          g_bytes_unref (bytes);
        }
      g_once_init_leave (&once, 1);
    }
  *n = names ? count : 0;
  return (const char *const *) names;
}

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
