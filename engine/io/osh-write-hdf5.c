/* HDF5 writing helpers (osh-write-hdf5.h). */
#include "osh-write-hdf5.h"

#include <stdlib.h>
#include <string.h>

bool
osh_h5w_open (OshH5Writer *w, const char *path, bool in_memory, OshError *err)
{
  memset (w, 0, sizeof *w);
  w->path = path;
  w->file = H5I_INVALID_HID;
  H5Eget_auto2 (H5E_DEFAULT, &w->saved_func, &w->saved_data);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);
  /* 1.8 object headers store large attributes (a big model_config) densely. */
  if (in_memory)
    H5Pset_fapl_core (fapl, 1 << 20, 0);
  else
    H5Pset_libver_bounds (fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  w->file = H5Fcreate (path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose (fapl);
  if (w->file < 0)
    {
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
  bool ok = write_attr (w, obj, name, fixed_string_type (width), H5Screate_simple (1, dims, NULL), buf,
                        err);
  free (buf);
  return ok;
}

bool
osh_h5w_dataset (OshH5Writer *w, hid_t parent, const char *path, const OshTensor *t, OshError *err)
{
  hsize_t dims[OSH_MAX_RANK];
  for (int i = 0; i < t->shape.rank; i++)
    dims[i] = (hsize_t) t->shape.dim[i];
  hid_t space = t->shape.rank == 0 ? H5Screate (H5S_SCALAR) : H5Screate_simple (t->shape.rank, dims, NULL);
  hid_t lcpl = link_create_plist ();
  hid_t d = H5Dcreate2 (parent, path, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose (lcpl);
  H5Sclose (space);
  bool ok = d >= 0 && (osh_tensor_numel (t) == 0 || H5Dwrite (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                                              H5P_DEFAULT, t->data) >= 0);
  if (d >= 0)
    H5Dclose (d);
  if (!ok)
    return osh_fail (err, OSH_ERR_IO, "%s: cannot write dataset '%s' (%lld values)", w->path, path,
                     (long long) osh_tensor_numel (t));
  return true;
}
