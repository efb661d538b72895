/* Placeholder until the tfjs reader lands: says so clearly. */
#include "osh-formats.h"

OshGraph *
osh_tfjs_read (const char *path, const void *data, size_t size, OshError *err)
{
  (void) data;
  (void) size;
  osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: reading this format is not implemented yet", path);
  return NULL;
}
