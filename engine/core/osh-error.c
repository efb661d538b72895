#include "osh-error.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
  [OSH_OK] = "ok",
  [OSH_ERR_IO] = "io",
  [OSH_ERR_FORMAT] = "format",
  [OSH_ERR_UNSUPPORTED] = "unsupported",
  [OSH_ERR_SHAPE] = "shape",
  [OSH_ERR_LIMIT] = "limit",
  [OSH_ERR_NOMEM] = "nomem",
  [OSH_ERR_DISCONNECTED] = "disconnected",
  [OSH_ERR_CANCELLED] = "cancelled",
  [OSH_ERR_USAGE] = "usage",
  [OSH_ERR_NOT_FOUND] = "not-found",
  [OSH_ERR_TIMEOUT] = "timeout",
};
static_assert (sizeof code_names / sizeof code_names[0] == OSH_ERR_COUNT,
               "every error code needs a name");

bool
osh_failv (OshError *err, OshErrorCode code, const char *fmt, va_list ap)
{
  if (err)
    {
      err->code = code;
      vsnprintf (err->message, sizeof err->message, fmt, ap);
    }
  return false;
}

bool
osh_fail (OshError *err, OshErrorCode code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  osh_failv (err, code, fmt, ap);
  va_end (ap);
  return false;
}

void
osh_error_prefix (OshError *err, const char *fmt, ...)
{
  if (!err)
    return;
  char prefix[OSH_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  /* Shift the message right and put the prefix in front, truncating at the end. */
  size_t plen = strlen (prefix), mlen = strlen (err->message);
  if (plen >= sizeof err->message)
    plen = sizeof err->message - 1;
  if (plen + mlen >= sizeof err->message)
    mlen = sizeof err->message - 1 - plen;
  memmove (err->message + plen, err->message, mlen);
  memcpy (err->message, prefix, plen);
  err->message[plen + mlen] = '\0';
}

void
osh_error_clear (OshError *err)
{
  if (err)
    {
      err->code = OSH_OK;
      err->message[0] = '\0';
    }
}

const char *
osh_error_code_name (OshErrorCode code)
{
  if ((unsigned) code >= OSH_ERR_COUNT)
    return "unknown";
  return code_names[code];
}
