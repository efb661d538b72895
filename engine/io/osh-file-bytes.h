/* osh-file-bytes.h — a model file's bytes in memory, as the readers and the HDF5 guard want them.
 *
 *   OshFileBytes *b = osh_file_bytes_open (path, OSH_FILE_BYTES_SHARED, &err);
 *   osh_hdf5_guard_check_mode (..., b->data, b->size, b->fd, &err);   // the child maps b->fd
 *   reader (path, b->data, b->size, ...);   // b->data[b->size] is a NUL
 *   osh_file_bytes_close (b);
 *
 * OSH_FILE_BYTES_SHARED reads the file once into sealed shared memory (a memfd whose size no
 * one can change, b->fd a read-only view of it): the guard's child maps the very bytes the
 * caller reads, without a copy and without a way to change them, and b->mapping lets weights
 * borrow their values from them (osh-tensor.h); only the mapping may punch holes in it, to
 * give a weight's pages back once it is not needed (osh_tensor_free_for_good). The caller's
 * mapping is private and writable, so a weight changed in place gets its own page
 * (copy-on-write) and the sealed bytes stay as they were. The copy is what keeps a file that
 * another program truncates or rewrites meanwhile from hurting: a mapping of the file itself
 * would raise SIGBUS on a truncated page, long after loading, wherever a weight is read.
 * OSH_FILE_BYTES_MAPPED maps the file itself read-only, so only the pages a reader touches are
 * loaded (a read for the graph touches a few MB of a 250 MB file); the file must not be
 * truncated by another program while it is mapped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "osh-error.h"
#include "osh-tensor.h"

typedef enum
{
  OSH_FILE_BYTES_SHARED,
  OSH_FILE_BYTES_MAPPED,
} OshFileBytesKind;

typedef struct
{
  const char *data; /* size bytes, then a NUL */
  size_t size;
  int fd;        /* the memfd (read-only) or the file, mapped from offset 0; -1 once closed */
  size_t mapped; /* the length of the mapping */
  /* SHARED: the mapping, for weights to borrow from (it outlives b while they do); else NULL. */
  OshMapping *mapping;
} OshFileBytes;

/* Refuses anything that is not a regular file or is over the size limit (16 GiB). */
OshFileBytes *osh_file_bytes_open (const char *path, OshFileBytesKind kind, OshError *err);
void osh_file_bytes_close (OshFileBytes *b);
