/* HDF5 writing helpers (osh-write-hdf5.h). */
#include "osh-write-hdf5.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-hdf5-lazy.h"

/* The core driver keeps the file in memory obtained through these callbacks; when the file is
 * closed (everything flushed, the superblock final) the memory is kept instead of freed, and
 * osh_h5w_close_to_file writes it out. */
static void *
image_malloc (size_t size, H5FD_file_image_op_t op, void *udata)
{
  (void) op;
  OshH5Image *im = udata;
  void *p = malloc (size);
  if (p)
    im->mem = p, im->size = size;
  return p;
}

static void *
image_memcpy (void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata)
{
  (void) op, (void) udata;
  return memcpy (dest, src, size);
}

static void *
image_realloc (void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
  (void) op;
  OshH5Image *im = udata;
  void *p = realloc (ptr, size);
  if (p)
    im->mem = p, im->size = size;
  return p;
}

static herr_t
image_free (void *ptr, H5FD_file_image_op_t op, void *udata)
{
  OshH5Image *im = udata;
  if (ptr && ptr == im->mem && op == H5FD_FILE_IMAGE_OP_FILE_CLOSE)
    return 0; /* ours now */
  if (ptr == im->mem)
    im->mem = NULL, im->size = 0;
  free (ptr);
  return 0;
}

static void *
image_udata_copy (void *udata)
{
  return udata;
}

static herr_t
image_udata_free (void *udata)
{
  (void) udata;
  return 0;
}

bool
osh_h5w_open (OshH5Writer *w, const char *path, bool dense_attributes, OshError *err)
{
  memset (w, 0, sizeof *w);
  w->path = path;
  w->file = H5I_INVALID_HID;
  if (!osh_hdf5_load (err))
    {
      osh_error_prefix (err, "%s: ", path);
      return false;
    }
  H5Eget_auto2 (H5E_DEFAULT, &w->saved_func, &w->saved_data);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);
  /* In memory only: HDF5 never writes to disk itself. After a failed write (a full disk) HDF5
   * 1.10 cannot close the file and crashes when the library shuts down; a failed fwrite of the
   * finished image is just an error. */
  H5Pset_fapl_core (fapl, 64 << 10, 0);
  /* Every weight of 64 bytes or more starts on a 16-byte boundary, so that a reader can use
   * its float32 values where they lie in the file (osh-tensor.h: borrowed tensors) instead of
   * copying them to aligned memory. At most 15 bytes of padding per weight. */
  H5Pset_alignment (fapl, 64, 16);
  w->image = calloc (1, sizeof *w->image);
  H5FD_file_image_callbacks_t callbacks = { image_malloc, image_memcpy,     image_realloc,
                                            image_free,   image_udata_copy, image_udata_free,
                                            w->image };
  /* 1.8 object headers store large attributes (a big model_config) densely. */
  if (dense_attributes)
    H5Pset_libver_bounds (fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
  if (w->image && H5Pset_file_image_callbacks (fapl, &callbacks) >= 0)
    w->file = H5Fcreate (path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose (fapl);
  if (w->file < 0)
    {
      free (w->image);
      w->image = NULL;
      H5Eset_auto2 (H5E_DEFAULT, w->saved_func, w->saved_data);
      return osh_fail (err, OSH_ERR_IO, "%s: cannot create the HDF5 file", path);
    }
  return true;
}

bool
osh_h5w_close (OshH5Writer *w, bool ok, OshError *err)
{
  if (w->file >= 0 && H5Fclose (w->file) < 0 && ok)
    ok = osh_fail (err, OSH_ERR_IO, "%s: cannot finish writing the HDF5 file", w->path);
  w->file = H5I_INVALID_HID;
  H5Eset_auto2 (H5E_DEFAULT, w->saved_func, w->saved_data);
  if (w->image)
    free (w->image->mem);
  free (w->image);
  w->image = NULL;
  return ok;
}

/* The end of the file by its superblock (versions 2 and 3: 8-byte addresses at byte 28), so
 * the memory the driver allocated in steps past it is not written; `size` if unknown. */
static size_t
file_end (const unsigned char *b, size_t size)
{
  if (size < 36 || (b[8] != 2 && b[8] != 3) || b[9] != 8)
    return size;
  uint64_t end = 0;
  for (int i = 7; i >= 0; i--)
    end = end << 8 | b[28 + i];
  return end > 0 && end <= size ? (size_t) end : size;
}

bool
osh_h5w_close_to_file (OshH5Writer *w, bool ok, OshError *err)
{
  OshH5Image *im = w->image;
  w->image = NULL;
  if (w->file >= 0 && H5Fclose (w->file) < 0 && ok)
    ok = osh_fail (err, OSH_ERR_IO, "%s: cannot finish writing the HDF5 file", w->path);
  w->file = H5I_INVALID_HID;
  H5Eset_auto2 (H5E_DEFAULT, w->saved_func, w->saved_data);
  if (ok && (!im || !im->mem))
    ok = osh_fail (err, OSH_ERR_IO, "%s: the HDF5 library kept no file image", w->path);
  if (ok)
    {
      FILE *f = fopen (w->path, "wb");
      size_t n = file_end (im->mem, im->size);
      bool written = f && fwrite (im->mem, 1, n, f) == n;
      written = f && fclose (f) == 0 && written;
      if (!f)
        ok = osh_fail (err, OSH_ERR_IO, "%s: cannot create: %s", w->path, strerror (errno));
      else if (!written)
        ok = osh_fail (err, OSH_ERR_IO, "%s: cannot write the HDF5 file: %s", w->path,
                       strerror (errno));
    }
  if (im)
    free (im->mem);
  free (im);
  return ok;
}

void *
osh_h5w_image (OshH5Writer *w, size_t *size, OshError *err)
{
  if (H5Fflush (w->file, H5F_SCOPE_GLOBAL) < 0)
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot flush the in-memory HDF5 file", w->path);
      return NULL;
    }
  ssize_t n = H5Fget_file_image (w->file, NULL, 0);
  void *buf = n > 0 ? malloc ((size_t) n) : NULL;
  if (!buf || H5Fget_file_image (w->file, buf, (size_t) n) != n)
    {
      free (buf);
      osh_fail (err, OSH_ERR_IO, "%s: cannot take the image of the in-memory HDF5 file", w->path);
      return NULL;
    }
  *size = (size_t) n;
  return buf;
}

static hid_t
link_create_plist (void)
{
  hid_t lcpl = H5Pcreate (H5P_LINK_CREATE);
  H5Pset_create_intermediate_group (lcpl, 1);
  H5Pset_char_encoding (lcpl, H5T_CSET_UTF8);
  return lcpl;
}

hid_t
osh_h5w_group (OshH5Writer *w, hid_t parent, const char *path, OshError *err)
{
  hid_t g;
  if (H5Lexists (parent, path, H5P_DEFAULT) > 0)
    g = H5Gopen2 (parent, path, H5P_DEFAULT);
  else
    {
      hid_t lcpl = link_create_plist ();
      g = H5Gcreate2 (parent, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
      H5Pclose (lcpl);
    }
  if (g < 0)
    osh_fail (err, OSH_ERR_IO, "%s: cannot create group '%s'", w->path, path);
  return g;
}

static bool
write_attr (OshH5Writer *w, hid_t obj, const char *name, hid_t type, hid_t space, const void *data,
            OshError *err)
{
  if (H5Aexists (obj, name) > 0)
    H5Adelete (obj, name);
  hid_t a = H5Acreate2 (obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  bool ok = a >= 0 && H5Awrite (a, type, data) >= 0;
  if (a >= 0)
    H5Aclose (a);
  H5Tclose (type);
  H5Sclose (space);
  if (!ok)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot write attribute '%s'", w->path, name);
  return true;
}

static hid_t
fixed_string_type (size_t len)
{
  hid_t t = H5Tcopy (H5T_C_S1);
  H5Tset_size (t, len > 0 ? len : 1);
  H5Tset_strpad (t, H5T_STR_NULLPAD);
  return t;
}

bool
osh_h5w_attr_string (OshH5Writer *w, hid_t obj, const char *name, const char *value, OshError *err)
{
  size_t len = strlen (value);
  const char *data = len > 0 ? value : "";
  return write_attr (w, obj, name, fixed_string_type (len), H5Screate (H5S_SCALAR), data, err);
}

bool
osh_h5w_attr_strings (OshH5Writer *w, hid_t obj, const char *name, char *const *values, int n,
                      OshError *err)
{
  hsize_t dims[1] = { (hsize_t) n };
  if (n == 0)
    {
      /* np.asarray([]) is float64: that is what Keras leaves for a layer without weights. */
      static const double none[1] = { 0 };
      return write_attr (w, obj, name, H5Tcopy (H5T_IEEE_F64LE), H5Screate_simple (1, dims, NULL),
                         none, err);
    }
  size_t width = 1;
  for (int i = 0; i < n; i++)
    if (strlen (values[i]) > width)
      width = strlen (values[i]);
  char *buf = calloc ((size_t) n, width);
  if (!buf)
    return osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for attribute '%s'", w->path, name);
  for (int i = 0; i < n; i++)
    memcpy (buf + (size_t) i * width, values[i], strlen (values[i]));
  bool ok = write_attr (w, obj, name, fixed_string_type (width), H5Screate_simple (1, dims, NULL),
                        buf, err);
  free (buf);
  return ok;
}

bool
osh_h5w_dataset (OshH5Writer *w, hid_t parent, const char *path, const OshTensor *t, OshError *err)
{
  hsize_t dims[OSH_MAX_RANK];
  for (int i = 0; i < t->shape.rank; i++)
    dims[i] = (hsize_t) t->shape.dim[i];
  hid_t space =
      t->shape.rank == 0 ? H5Screate (H5S_SCALAR) : H5Screate_simple (t->shape.rank, dims, NULL);
  hid_t lcpl = link_create_plist ();
  hid_t d = H5Dcreate2 (parent, path, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose (lcpl);
  H5Sclose (space);
  bool ok = d >= 0
            && (osh_tensor_numel (t) == 0
                || H5Dwrite (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) >= 0);
  if (d >= 0)
    H5Dclose (d);
  if (!ok)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot write dataset '%s' (%lld values)", w->path, path,
                     (long long) osh_tensor_numel (t));
  return true;
}
