/* HDF5 helpers: file images, string attributes in both encodings, float32 datasets. */
#include "osh-hdf5-util.h"

#include <hdf5_hl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-hdf5-lazy.h"
#include "osh-limits.h"
#include "osh-weights-by-offset.h"

static void (*progress_fn) (uint64_t, void *);
static void *progress_data;

void
osh_h5_set_progress (void (*fn) (uint64_t work, void *data), void *data)
{
  progress_fn = fn;
  progress_data = data;
}

void
osh_h5_progress (uint64_t work)
{
  if (progress_fn)
    progress_fn (work, progress_data);
}

static herr_t
first_message (unsigned n, const H5E_error2_t *e, void *data)
{
  char *buf = data;
  if (n == 0 && e->desc)
    snprintf (buf, 256, "%s", e->desc);
  return 0;
}

/* Fails with our message plus HDF5's innermost reason, and clears HDF5's error stack. */
static bool
h5_fail (OshError *err, OshErrorCode code, const char *fmt, ...)
{
  char hdf5_msg[256] = "";
  H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, first_message, hdf5_msg);
  H5Eclear2 (H5E_DEFAULT);
  char msg[OSH_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (hdf5_msg[0])
    return osh_fail (err, code, "%s (HDF5: %s)", msg, hdf5_msg);
  return osh_fail (err, code, "%s", msg);
}

hid_t
osh_h5_open_image (const char *name, const void *data, size_t size, OshError *err)
{
  static const unsigned char magic[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
  if (!osh_hdf5_load (err))
    {
      osh_error_prefix (err, "%s: ", name);
      return H5I_INVALID_HID;
    }
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  if (size < 8 || memcmp (data, magic, 8) != 0)
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "%s: not an HDF5 file (the first 8 bytes are not the HDF5 signature)", name);
      return H5I_INVALID_HID;
    }
  /* The caller keeps the bytes alive and HDF5 only reads them. */
  hid_t f = H5LTopen_file_image ((void *) data, size,
                                 H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE);
  if (f < 0)
    {
      h5_fail (err, OSH_ERR_FORMAT, "%s: HDF5 cannot open these %zu bytes (truncated or damaged?)",
               name, size);
      return H5I_INVALID_HID;
    }
  return f;
}

void
osh_h5_close (hid_t file)
{
  if (file >= 0)
    H5Fclose (file);
  H5Eclear2 (H5E_DEFAULT);
  /* HDF5 keeps what it frees on free lists of its own (about 3 MB of metadata blocks after
   * reading B7's headers), which a run after the load would carry to its peak: back to malloc. */
  H5garbage_collect ();
}

bool
osh_h5_exists (hid_t loc, const char *path)
{
  htri_t r = H5LTpath_valid (loc, path, 1);
  H5Eclear2 (H5E_DEFAULT);
  return r > 0;
}

bool
osh_h5_has_attr (hid_t loc, const char *attr)
{
  htri_t r = H5Aexists (loc, attr);
  H5Eclear2 (H5E_DEFAULT);
  return r > 0;
}

/* Copies a fixed-length string of `len` bytes, dropping NUL or space padding. */
static char *
fixed_copy (const char *s, size_t len, H5T_str_t pad)
{
  size_t n = strnlen (s, len);
  if (pad == H5T_STR_SPACEPAD)
    while (n > 0 && s[n - 1] == ' ')
      n--;
  char *r = malloc (n + 1);
  if (r)
    {
      memcpy (r, s, n);
      r[n] = '\0';
    }
  return r;
}

/* Reads every string of an open attribute; appends to *v (capacity grows). */
static bool
read_attr_strings (hid_t a, const char *attr, const char *name, char ***v, int *n, OshError *err)
{
  bool ok = false;
  hid_t type = H5Aget_type (a), space = H5Aget_space (a), mem = H5I_INVALID_HID;
  void *buf = NULL;
  /* h5py writes an empty list as an empty float array: no strings. */
  if (space >= 0 && H5Sget_simple_extent_npoints (space) == 0)
    {
      ok = true;
      goto out;
    }
  if (type < 0 || space < 0 || H5Tget_class (type) != H5T_STRING)
    {
      h5_fail (err, OSH_ERR_FORMAT, "%s: attribute '%s' is not a string", name, attr);
      goto out;
    }
  int rank = H5Sget_simple_extent_ndims (space);
  hssize_t count = H5Sget_simple_extent_npoints (space);
  if (rank < 0 || rank > 1 || count < 0 || count > OSH_MAX_LAYERS)
    {
      h5_fail (err, OSH_ERR_FORMAT, "%s: attribute '%s' is not a list of at most %d strings", name,
               attr, OSH_MAX_LAYERS);
      goto out;
    }
  bool vlen = H5Tis_variable_str (type) > 0;
  size_t len = H5Tget_size (type);
  H5T_str_t pad = H5Tget_strpad (type);
  if (!vlen && (len == 0 || (uint64_t) len * (uint64_t) count > (uint64_t) OSH_MAX_JSON_BYTES))
    {
      osh_fail (err, OSH_ERR_LIMIT,
                "%s: attribute '%s' (%lld strings of %zu bytes) is over the limit", name, attr,
                (long long) count, len);
      goto out;
    }
  /* Fixed-length strings are read in the stored type (a NUL-terminated memory type of the
   * same size would cut the last character of an unterminated name). */
  mem = vlen ? H5Tcopy (H5T_C_S1) : H5Tcopy (type);
  if (vlen)
    {
      H5Tset_size (mem, H5T_VARIABLE);
      H5Tset_cset (mem, H5Tget_cset (type));
    }
  buf = calloc ((size_t) (count ? count : 1), vlen ? sizeof (char *) : len);
  char **grown = realloc (*v, (size_t) (*n + count + 1) * sizeof (char *));
  if (!buf || !grown)
    {
      if (grown)
        *v = grown;
      osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory reading attribute '%s'", name, attr);
      goto out;
    }
  *v = grown;
  if (count > 0 && H5Aread (a, mem, buf) < 0)
    {
      h5_fail (err, OSH_ERR_FORMAT, "%s: cannot read attribute '%s'", name, attr);
      goto out;
    }
  for (hssize_t i = 0; i < count; i++)
    {
      char *s;
      if (vlen)
        {
          const char *src = ((char **) buf)[i];
          s = strdup (src ? src : "");
        }
      else
        s = fixed_copy ((char *) buf + (size_t) i * len, len, pad);
      if (!s)
        {
          osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory reading attribute '%s'", name, attr);
          if (vlen)
            H5Dvlen_reclaim (mem, space, H5P_DEFAULT, buf);
          goto out;
        }
      (*v)[(*n)++] = s;
    }
  if (vlen && count > 0)
    H5Dvlen_reclaim (mem, space, H5P_DEFAULT, buf);
  ok = true;
out:
  free (buf);
  if (mem >= 0)
    H5Tclose (mem);
  if (type >= 0)
    H5Tclose (type);
  if (space >= 0)
    H5Sclose (space);
  H5Eclear2 (H5E_DEFAULT);
  return ok;
}

static bool
read_named_attr (hid_t loc, const char *attr, const char *name, char ***v, int *n, OshError *err)
{
  hid_t a = H5Aopen (loc, attr, H5P_DEFAULT);
  if (a < 0)
    return h5_fail (err, OSH_ERR_FORMAT, "%s: cannot open attribute '%s'", name, attr);
  bool ok = read_attr_strings (a, attr, name, v, n, err);
  H5Aclose (a);
  return ok;
}

void
osh_strv_free (char **v, int n)
{
  if (!v)
    return;
  for (int i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

char **
osh_h5_attr_strings (hid_t loc, const char *attr, const char *name, int *n_out, OshError *err)
{
  char **v = calloc (1, sizeof (char *));
  int n = 0;
  *n_out = 0;
  if (!v)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return NULL;
    }
  if (osh_h5_has_attr (loc, attr))
    {
      if (!read_named_attr (loc, attr, name, &v, &n, err))
        goto fail;
    }
  else
    {
      /* Keras splits lists too big for one HDF5 attribute into attr0, attr1, ... */
      char chunk[256];
      int k = 0;
      for (;; k++)
        {
          snprintf (chunk, sizeof chunk, "%s%d", attr, k);
          if (!osh_h5_has_attr (loc, chunk))
            break;
          if (!read_named_attr (loc, chunk, name, &v, &n, err))
            goto fail;
        }
      if (k == 0)
        {
          osh_fail (err, OSH_ERR_NOT_FOUND, "%s: attribute '%s' is missing", name, attr);
          goto fail;
        }
    }
  *n_out = n;
  return v;
fail:
  osh_strv_free (v, n);
  return NULL;
}

char *
osh_h5_attr_string (hid_t loc, const char *attr, const char *name, OshError *err)
{
  if (!osh_h5_has_attr (loc, attr))
    {
      osh_fail (err, OSH_ERR_NOT_FOUND, "%s: attribute '%s' is missing", name, attr);
      return NULL;
    }
  char **v = calloc (1, sizeof (char *));
  int n = 0;
  if (!v)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      return NULL;
    }
  if (!read_named_attr (loc, attr, name, &v, &n, err))
    {
      osh_strv_free (v, n);
      return NULL;
    }
  if (n != 1)
    {
      osh_strv_free (v, n);
      osh_fail (err, OSH_ERR_FORMAT, "%s: attribute '%s' holds %d strings, expected one", name,
                attr, n);
      return NULL;
    }
  char *s = v[0];
  free (v);
  return s;
}

/* Where a dataset's values sit in the file image when they can be taken from it as they are:
 * contiguous (not chunked, not compact), stored as little-endian float32, all allocated, and
 * inside the image. Anything else (-1) goes through H5Dread. */
static int64_t
contiguous_f32_offset (hid_t loc, hid_t d, hid_t type, hid_t dcpl, int64_t numel, size_t image_size)
{
  if (dcpl < 0 || H5Pget_layout (dcpl) != H5D_CONTIGUOUS || H5Tequal (type, H5T_IEEE_F32LE) <= 0
      || H5Tequal (H5T_NATIVE_FLOAT, H5T_IEEE_F32LE) <= 0)
    return -1;
  uint64_t bytes = (uint64_t) numel * sizeof (float);
  haddr_t at = H5Dget_offset (d);
  if (at == HADDR_UNDEF || H5Dget_storage_size (d) != bytes)
    return -1;
  /* Addresses count from the superblock, which a user block pushes back. */
  hsize_t userblock = 0;
  hid_t file = H5Iget_file_id (loc), fcpl = file >= 0 ? H5Fget_create_plist (file) : -1;
  bool known = fcpl >= 0 && H5Pget_userblock (fcpl, &userblock) >= 0;
  if (fcpl >= 0)
    H5Pclose (fcpl);
  if (file >= 0)
    H5Fclose (file);
  if (!known || at > (haddr_t) image_size || userblock > image_size - at
      || bytes > image_size - at - userblock)
    return -1;
  return (int64_t) (at + userblock);
}

OshTensor *
osh_h5_read_tensor (hid_t loc, const char *path, const char *name, const void *image,
                    size_t image_size, OshReadMode mode, OshMapping *borrow, OshError *err)
{
  int64_t at = -1;
  return osh_h5_read_tensor_at (loc, path, name, image, image_size, mode, borrow, &at, err);
}

OshTensor *
osh_h5_read_tensor_at (hid_t loc, const char *path, const char *name, const void *image,
                       size_t image_size, OshReadMode mode, OshMapping *borrow, int64_t *offset,
                       OshError *err)
{
  *offset = -1;
  size_t file_size = image_size;
  OshTensor *t = NULL;
  osh_h5_progress (0);
  hid_t d = H5Dopen2 (loc, path, H5P_DEFAULT);
  if (d < 0)
    {
      h5_fail (err, OSH_ERR_NOT_FOUND, "%s: dataset '%s' is missing", name, path);
      return NULL;
    }
  hid_t space = H5Dget_space (d), type = H5Dget_type (d), dcpl = H5Dget_create_plist (d);
  int rank = space >= 0 ? H5Sget_simple_extent_ndims (space) : -1;
  H5T_class_t cls = type >= 0 ? H5Tget_class (type) : H5T_NO_CLASS;
  if (rank < 0 || (cls != H5T_FLOAT && cls != H5T_INTEGER))
    {
      h5_fail (err, OSH_ERR_FORMAT, "%s: dataset '%s' is not a numeric array", name, path);
      goto out;
    }
  if (rank > OSH_MAX_RANK)
    {
      osh_fail (err, OSH_ERR_LIMIT, "%s: dataset '%s' has rank %d, over the limit of %d", name,
                path, rank, OSH_MAX_RANK);
      goto out;
    }
  hsize_t dims[OSH_MAX_RANK] = { 0 };
  H5Sget_simple_extent_dims (space, dims, NULL);
  OshShape s = { .rank = rank };
  for (int i = 0; i < rank; i++)
    s.dim[i] = dims[i] > (hsize_t) OSH_MAX_DIM ? -1 : (int64_t) dims[i];
  int64_t numel = 1;
  for (int i = 0; i < rank; i++)
    if (s.dim[i] < 0 || (s.dim[i] > 0 && numel > OSH_MAX_ELEMENTS / s.dim[i]))
      {
        osh_fail (err, OSH_ERR_LIMIT, "%s: dataset '%s' claims a size over the limits", name, path);
        goto out;
      }
    else
      numel *= s.dim[i];
  /* An uncompressed dataset cannot hold more bytes than the file. */
  if (dcpl >= 0 && H5Pget_layout (dcpl) != H5D_CHUNKED
      && (uint64_t) numel * H5Tget_size (type) > (uint64_t) file_size)
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "%s: dataset '%s' claims %lld values, more than the %zu-byte file holds", name,
                path, (long long) numel, file_size);
      goto out;
    }
  osh_h5_progress ((uint64_t) numel * sizeof (float));
  int64_t at = mode == OSH_READ_GRAPH || numel == 0
                   ? -1
                   : contiguous_f32_offset (loc, d, type, dcpl, numel, image_size);
  *offset = at;
  if (numel == 0 || mode == OSH_READ_GRAPH || (mode == OSH_READ_CHECK && at >= 0))
    {
      /* The shape only: an empty weight (osh_tensor_new wants positive sizes), or values read
       * later (or, in the guard's child, not needed). */
      t = calloc (1, sizeof *t);
      if (!t)
        osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      else
        t->shape = s;
      goto out;
    }
  if (at >= 0)
    {
      if (!(t = osh_tensor_from_image (&s, image, (size_t) at, borrow, err)))
        osh_error_prefix (err, "%s: dataset '%s': ", name, path);
      goto out;
    }
  t = osh_tensor_new (&s, err);
  if (!t)
    {
      osh_error_prefix (err, "%s: dataset '%s': ", name, path);
      goto out;
    }
  if (H5Dread (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) < 0)
    {
      h5_fail (err, OSH_ERR_FORMAT, "%s: cannot read dataset '%s'", name, path);
      osh_tensor_free (t);
      t = NULL;
    }
out:
  if (dcpl >= 0)
    H5Pclose (dcpl);
  if (type >= 0)
    H5Tclose (type);
  if (space >= 0)
    H5Sclose (space);
  H5Dclose (d);
  H5Eclear2 (H5E_DEFAULT);
  return t;
}
