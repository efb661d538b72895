/* osh-error.h — errors as values.
 *
 * The engine never prints, aborts or exits. A function that can fail takes an
 * `OshError *err` as its last argument, returns false / NULL / -1 on failure
 * and fills `err` with a code and a message that names the file, the place in
 * it and what was expected:
 *
 *   OshError err = { 0 };
 *   OshGraph *g = osh_model_load ("model.h5", &err);
 *   if (!g)
 *     fprintf (stderr, "%s\n", err.message);   // "model.h5: layer 'conv1': ..."
 *
 * `err` may be NULL when the caller does not care about the message.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

typedef enum
{
  OSH_OK = 0,
  OSH_ERR_IO,           /* the file cannot be opened, read or written */
  OSH_ERR_FORMAT,       /* the bytes are not what the format says */
  OSH_ERR_UNSUPPORTED,  /* valid, but Offshoot cannot do it (e.g. an unknown layer class) */
  OSH_ERR_SHAPE,        /* shapes do not fit together */
  OSH_ERR_LIMIT,        /* a size or depth over the safety limits (osh-limits.h) */
  OSH_ERR_NOMEM,        /* an allocation failed */
  OSH_ERR_DISCONNECTED, /* an output cannot be computed from the inputs */
  OSH_ERR_CANCELLED,    /* the caller asked to stop */
  OSH_ERR_USAGE,        /* a bad argument from the caller (bad head spec, unknown path) */
  OSH_ERR_NOT_FOUND,    /* a named layer, file entry or dataset does not exist */
  OSH_ERR_TIMEOUT,      /* a library did not finish reading a file in time (osh-hdf5-guard.h) */
  OSH_ERR_COUNT
} OshErrorCode;

#define OSH_ERROR_MESSAGE_MAX 1024

typedef struct
{
  OshErrorCode code;
  char message[OSH_ERROR_MESSAGE_MAX];
} OshError;

/* Sets `err` (if not NULL) and returns false, so a failure reads
 * `return osh_fail (err, OSH_ERR_FORMAT, "%s: expected ...", path);` */
bool osh_fail (OshError *err, OshErrorCode code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
bool osh_failv (OshError *err, OshErrorCode code, const char *fmt, va_list ap);

/* Prepends context to an existing message: "model.h5: " + "layer 'x': ...". */
void osh_error_prefix (OshError *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void osh_error_clear (OshError *err);

/* A stable short name for each code ("format", "io", ...), used in JSON output and tests. */
const char *osh_error_code_name (OshErrorCode code);
