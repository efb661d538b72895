/* A model file's bytes: read once into sealed shared memory, or mapped (osh-file-bytes.h). */
#define _GNU_SOURCE
#include "osh-file-bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* Beyond any real model; a guard against reading a device or a runaway file. */
#define OSH_MAX_MODEL_FILE (INT64_C (16) << 30)

/* Copies the file into the memfd inside the kernel (no page faults of a user mapping), then
 * a NUL, then seals it. */
static bool
fill (int file, int mem, size_t size, const char *path, OshError *err)
{
  size_t got = 0;
  while (got < size)
    {
      ssize_t r = sendfile (mem, file, NULL, size - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (size_t) r;
    }
  if (got != size)
    return osh_fail (err, OSH_ERR_IO, "%s: read %zu of %zu bytes", path, got, size);
  if (write (mem, "", 1) != 1)
    return osh_fail (err, OSH_ERR_NOMEM, "%s: no memory for %zu bytes: %s", path, size,
                     strerror (errno));
  /* Its size is fixed for good: no one can make a mapping of it fault. Not F_SEAL_WRITE, which
   * would forbid punching holes too, and a plan gives each packed kernel's original back as
   * soon as it is packed (osh_tensor_free_for_good); writing is kept from the HDF5 guard's
   * child by read_only below instead. */
  if (fcntl (mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot seal the copy in memory: %s", path,
                     strerror (errno));
  return true;
}

/* A descriptor of `mem` that can only read, for the guard's child: no write(), no shared
 * writable mapping, no hole punched; and with the memory's mode at 0400 it cannot be opened
 * writable again through /proc. (A child running as root could, as it could trace its parent
 * anyway.) */
static int
read_only (int mem, const char *path, OshError *err)
{
  char self[64];
  snprintf (self, sizeof self, "/proc/self/fd/%d", mem);
  int fd = fchmod (mem, 0400) == 0 ? open (self, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0)
    osh_fail (err, OSH_ERR_IO, "%s: cannot make a read-only view of the copy in memory: %s", path,
              strerror (errno));
  return fd;
}

void
osh_file_bytes_close (OshFileBytes *b)
{
  if (!b)
    return;
  if (b->mapping)
    osh_mapping_unref (b->mapping);
  else
    munmap ((void *) b->data, b->mapped);
  if (b->fd >= 0)
    close (b->fd);
  free (b);
}

static OshFileBytes *
wrap (const void *data, size_t size, int fd, size_t mapped, OshError *err)
{
  OshFileBytes *b = malloc (sizeof *b);
  if (!b)
    {
      munmap ((void *) data, mapped);
      close (fd);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return NULL;
    }
  *b = (OshFileBytes){ data, size, fd, mapped, NULL };
  return b;
}

OshFileBytes *
osh_file_bytes_open (const char *path, OshFileBytesKind kind, OshError *err)
{
  int file = open (path, O_RDONLY | O_CLOEXEC);
  if (file < 0)
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
      return NULL;
    }
  struct stat st;
  if (fstat (file, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (file);
      osh_fail (err, OSH_ERR_IO, "%s: not a regular file", path);
      return NULL;
    }
  if (st.st_size > OSH_MAX_MODEL_FILE)
    {
      close (file);
      osh_fail (err, OSH_ERR_LIMIT, "%s: %lld bytes is over the limit of %lld for a model file",
                path, (long long) st.st_size, (long long) OSH_MAX_MODEL_FILE);
      return NULL;
    }
  size_t size = (size_t) st.st_size, page = (size_t) sysconf (_SC_PAGESIZE);
  /* A mapped file ends in zeros up to its last page: the NUL is there unless the size is a
   * whole number of pages (or 0, which cannot be mapped). */
  if (kind == OSH_FILE_BYTES_MAPPED && size % page != 0)
    {
      void *m = mmap (NULL, size, PROT_READ, MAP_PRIVATE, file, 0);
      if (m != MAP_FAILED)
        return wrap (m, size, file, size, err);
    }
  int mem = memfd_create ("offshoot-model", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mem < 0)
    {
      close (file);
      osh_fail (err, OSH_ERR_IO, "%s: cannot make shared memory: %s", path, strerror (errno));
      return NULL;
    }
  bool ok = fill (file, mem, size, path, err);
  close (file);
  int ro = ok ? read_only (mem, path, err) : -1;
  ok = ro >= 0;
  /* Private and writable: weights borrowed from it may be changed in place (copy-on-write);
   * the seals forbid only shared writable mappings. */
  void *m = ok ? mmap (NULL, size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE, mem, 0) : MAP_FAILED;
  if (m == MAP_FAILED)
    {
      if (ok)
        osh_fail (err, OSH_ERR_NOMEM, "%s: cannot map %zu bytes: %s", path, size, strerror (errno));
      close (mem);
      if (ro >= 0)
        close (ro);
      return NULL;
    }
  OshFileBytes *b = wrap (m, size, ro, size + 1, err);
  if (b && !(b->mapping = osh_mapping_new (m, size + 1)))
    {
      osh_file_bytes_close (b);
      close (mem);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return NULL;
    }
  if (b)
    osh_mapping_set_backing (b->mapping, mem);
  else
    close (mem);
  return b;
}
