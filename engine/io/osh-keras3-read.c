/* Placeholder until the keras3 reader lands: says so clearly. */
#include "osh-formats.h"

OshGraph *
osh_keras3_read (const char *name, const void *data, size_t size, OshError *err)
{
  (void) data;
  (void) size;
  osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: reading this format is not implemented yet", name);
  return NULL;
}
