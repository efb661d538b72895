/* Placeholder until the .npy reader and writer land. */
#include "osh-npy.h"

OshTensor *
osh_npy_read (const char *path, OshError *err)
{
  osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: reading .npy is not implemented yet", path);
  return NULL;
}

OshTensor *
osh_npy_read_bytes (const char *name, const void *data, size_t size, OshError *err)
{
  (void) data;
  (void) size;
  osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: reading .npy is not implemented yet", name);
  return NULL;
}

bool
osh_npy_write (const char *path, const OshTensor *t, OshError *err)
{
  (void) t;
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: writing .npy is not implemented yet", path);
}
