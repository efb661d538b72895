#include "osh-dlopen.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *
osh_dlopen_library (const char *kind, const char *env, const char *soname, const char **used,
                    char *error, size_t size)
{
  const char *override = getenv (env);
  *used = override && *override ? override : soname;
  void *handle = dlopen (*used, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    snprintf (error, size, "the %s library %s cannot be loaded%s: %s", kind, *used,
              *used == soname ? "" : " (set by the environment)", dlerror ());
  return handle;
}
