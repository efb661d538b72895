/* The HDF5 API on a library loaded at the first call (osh-hdf5-lazy.h). Every function is
 * defined here with <hdf5.h>'s own prototype in view, so a signature that drifts from the
 * installed headers does not compile; each forwards to the real function found with dlsym. */
#include "osh-hdf5-lazy.h"

#include <dlfcn.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "osh-dlopen.h"
#include "osh-hdf5-sonames.h"

enum
{
  MAIN, /* libhdf5 */
  HL,   /* libhdf5_hl: the H5LT "lite" functions */
  N_LIBS
};

/* Every HDF5 function the project calls: (library, return type, name, parameters, arguments,
 * what it returns when the library is missing: HDF5's own failure value for that type). */
#define OSH_HDF5_FUNCTIONS(X)                                                                      \
  X (MAIN, herr_t, H5open, (void), (), -1)                                                         \
  X (MAIN, herr_t, H5check_version, (unsigned majnum, unsigned minnum, unsigned relnum),           \
     (majnum, minnum, relnum), -1)                                                                 \
  X (MAIN, herr_t, H5garbage_collect, (void), (), -1)                                              \
  X (MAIN, herr_t, H5Aclose, (hid_t attr_id), (attr_id), -1)                                       \
  X (MAIN, hid_t, H5Acreate2,                                                                      \
     (hid_t loc_id, const char *attr_name, hid_t type_id, hid_t space_id, hid_t acpl_id,           \
      hid_t aapl_id),                                                                              \
     (loc_id, attr_name, type_id, space_id, acpl_id, aapl_id), H5I_INVALID_HID)                    \
  X (MAIN, herr_t, H5Adelete, (hid_t loc_id, const char *attr_name), (loc_id, attr_name), -1)      \
  X (MAIN, htri_t, H5Aexists, (hid_t obj_id, const char *attr_name), (obj_id, attr_name), -1)      \
  X (MAIN, hid_t, H5Aget_space, (hid_t attr_id), (attr_id), H5I_INVALID_HID)                       \
  X (MAIN, hid_t, H5Aget_type, (hid_t attr_id), (attr_id), H5I_INVALID_HID)                        \
  X (MAIN, hid_t, H5Aopen, (hid_t obj_id, const char *attr_name, hid_t aapl_id),                   \
     (obj_id, attr_name, aapl_id), H5I_INVALID_HID)                                                \
  X (MAIN, herr_t, H5Aread, (hid_t attr_id, hid_t type_id, void *buf), (attr_id, type_id, buf),    \
     -1)                                                                                           \
  X (MAIN, herr_t, H5Awrite, (hid_t attr_id, hid_t type_id, const void *buf),                      \
     (attr_id, type_id, buf), -1)                                                                  \
  X (MAIN, herr_t, H5Dclose, (hid_t dset_id), (dset_id), -1)                                       \
  X (MAIN, hid_t, H5Dcreate2,                                                                      \
     (hid_t loc_id, const char *name, hid_t type_id, hid_t space_id, hid_t lcpl_id, hid_t dcpl_id, \
      hid_t dapl_id),                                                                              \
     (loc_id, name, type_id, space_id, lcpl_id, dcpl_id, dapl_id), H5I_INVALID_HID)                \
  X (MAIN, hid_t, H5Dget_create_plist, (hid_t dset_id), (dset_id), H5I_INVALID_HID)                \
  X (MAIN, haddr_t, H5Dget_offset, (hid_t dset_id), (dset_id), HADDR_UNDEF)                        \
  X (MAIN, hid_t, H5Dget_space, (hid_t dset_id), (dset_id), H5I_INVALID_HID)                       \
  X (MAIN, hsize_t, H5Dget_storage_size, (hid_t dset_id), (dset_id), 0)                            \
  X (MAIN, hid_t, H5Dget_type, (hid_t dset_id), (dset_id), H5I_INVALID_HID)                        \
  X (MAIN, hid_t, H5Dopen2, (hid_t loc_id, const char *name, hid_t dapl_id),                       \
     (loc_id, name, dapl_id), H5I_INVALID_HID)                                                     \
  X (MAIN, herr_t, H5Dread,                                                                        \
     (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id,    \
      void *buf),                                                                                  \
     (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf), -1)                        \
  X (MAIN, herr_t, H5Dvlen_reclaim, (hid_t type_id, hid_t space_id, hid_t dxpl_id, void *buf),     \
     (type_id, space_id, dxpl_id, buf), -1)                                                        \
  X (MAIN, herr_t, H5Dwrite,                                                                       \
     (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id,    \
      const void *buf),                                                                            \
     (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf), -1)                        \
  X (MAIN, herr_t, H5Eclear2, (hid_t err_stack), (err_stack), -1)                                  \
  X (MAIN, herr_t, H5Eget_auto2, (hid_t estack_id, H5E_auto2_t * func, void **client_data),        \
     (estack_id, func, client_data), -1)                                                           \
  X (MAIN, herr_t, H5Eset_auto2, (hid_t estack_id, H5E_auto2_t func, void *client_data),           \
     (estack_id, func, client_data), -1)                                                           \
  X (MAIN, herr_t, H5Fclose, (hid_t file_id), (file_id), -1)                                       \
  X (MAIN, hid_t, H5Fcreate, (const char *filename, unsigned flags, hid_t fcpl_id, hid_t fapl_id), \
     (filename, flags, fcpl_id, fapl_id), H5I_INVALID_HID)                                         \
  X (MAIN, herr_t, H5Fflush, (hid_t object_id, H5F_scope_t scope), (object_id, scope), -1)         \
  X (MAIN, hid_t, H5Fget_create_plist, (hid_t file_id), (file_id), H5I_INVALID_HID)                \
  X (MAIN, ssize_t, H5Fget_file_image, (hid_t file_id, void *buf_ptr, size_t buf_len),             \
     (file_id, buf_ptr, buf_len), -1)                                                              \
  X (MAIN, hid_t, H5Fopen, (const char *filename, unsigned flags, hid_t fapl_id),                  \
     (filename, flags, fapl_id), H5I_INVALID_HID)                                                  \
  X (MAIN, herr_t, H5Gclose, (hid_t group_id), (group_id), -1)                                     \
  X (MAIN, hid_t, H5Gcreate2,                                                                      \
     (hid_t loc_id, const char *name, hid_t lcpl_id, hid_t gcpl_id, hid_t gapl_id),                \
     (loc_id, name, lcpl_id, gcpl_id, gapl_id), H5I_INVALID_HID)                                   \
  X (MAIN, hid_t, H5Gopen2, (hid_t loc_id, const char *name, hid_t gapl_id),                       \
     (loc_id, name, gapl_id), H5I_INVALID_HID)                                                     \
  X (MAIN, hid_t, H5Iget_file_id, (hid_t id), (id), H5I_INVALID_HID)                               \
  X (MAIN, htri_t, H5Lexists, (hid_t loc_id, const char *name, hid_t lapl_id),                     \
     (loc_id, name, lapl_id), -1)                                                                  \
  X (MAIN, ssize_t, H5Lget_name_by_idx,                                                            \
     (hid_t loc_id, const char *group_name, H5_index_t idx_type, H5_iter_order_t order, hsize_t n, \
      char *name, size_t size, hid_t lapl_id),                                                     \
     (loc_id, group_name, idx_type, order, n, name, size, lapl_id), -1)                            \
  X (MAIN, herr_t, H5Literate,                                                                     \
     (hid_t grp_id, H5_index_t idx_type, H5_iter_order_t order, hsize_t * idx, H5L_iterate_t op,   \
      void *op_data),                                                                              \
     (grp_id, idx_type, order, idx, op, op_data), -1)                                              \
  X (MAIN, herr_t, H5Oget_info_by_name2,                                                           \
     (hid_t loc_id, const char *name, H5O_info_t *oinfo, unsigned fields, hid_t lapl_id),          \
     (loc_id, name, oinfo, fields, lapl_id), -1)                                                   \
  X (MAIN, herr_t, H5Pclose, (hid_t plist_id), (plist_id), -1)                                     \
  X (MAIN, hid_t, H5Pcreate, (hid_t cls_id), (cls_id), H5I_INVALID_HID)                            \
  X (MAIN, H5D_layout_t, H5Pget_layout, (hid_t plist_id), (plist_id), H5D_LAYOUT_ERROR)            \
  X (MAIN, herr_t, H5Pget_userblock, (hid_t plist_id, hsize_t * size), (plist_id, size), -1)       \
  X (MAIN, herr_t, H5Pset_alignment, (hid_t fapl_id, hsize_t threshold, hsize_t alignment),        \
     (fapl_id, threshold, alignment), -1)                                                          \
  X (MAIN, herr_t, H5Pset_char_encoding, (hid_t plist_id, H5T_cset_t encoding),                    \
     (plist_id, encoding), -1)                                                                     \
  X (MAIN, herr_t, H5Pset_create_intermediate_group, (hid_t plist_id, unsigned crt_intmd),         \
     (plist_id, crt_intmd), -1)                                                                    \
  X (MAIN, herr_t, H5Pset_fapl_core, (hid_t fapl_id, size_t increment, hbool_t backing_store),     \
     (fapl_id, increment, backing_store), -1)                                                      \
  X (MAIN, herr_t, H5Pset_file_image_callbacks,                                                    \
     (hid_t fapl_id, H5FD_file_image_callbacks_t * callbacks_ptr), (fapl_id, callbacks_ptr), -1)   \
  X (MAIN, herr_t, H5Pset_libver_bounds, (hid_t plist_id, H5F_libver_t low, H5F_libver_t high),    \
     (plist_id, low, high), -1)                                                                    \
  X (MAIN, herr_t, H5Sclose, (hid_t space_id), (space_id), -1)                                     \
  X (MAIN, hid_t, H5Screate, (H5S_class_t type), (type), H5I_INVALID_HID)                          \
  X (MAIN, hid_t, H5Screate_simple, (int rank, const hsize_t dims[], const hsize_t maxdims[]),     \
     (rank, dims, maxdims), H5I_INVALID_HID)                                                       \
  X (MAIN, int, H5Sget_simple_extent_dims, (hid_t space_id, hsize_t dims[], hsize_t maxdims[]),    \
     (space_id, dims, maxdims), -1)                                                                \
  X (MAIN, int, H5Sget_simple_extent_ndims, (hid_t space_id), (space_id), -1)                      \
  X (MAIN, hssize_t, H5Sget_simple_extent_npoints, (hid_t space_id), (space_id), -1)               \
  X (MAIN, herr_t, H5Tclose, (hid_t type_id), (type_id), -1)                                       \
  X (MAIN, hid_t, H5Tcopy, (hid_t type_id), (type_id), H5I_INVALID_HID)                            \
  X (MAIN, htri_t, H5Tequal, (hid_t type1_id, hid_t type2_id), (type1_id, type2_id), -1)           \
  X (MAIN, H5T_class_t, H5Tget_class, (hid_t type_id), (type_id), H5T_NO_CLASS)                    \
  X (MAIN, H5T_cset_t, H5Tget_cset, (hid_t type_id), (type_id), H5T_CSET_ERROR)                    \
  X (MAIN, size_t, H5Tget_size, (hid_t type_id), (type_id), 0)                                     \
  X (MAIN, H5T_str_t, H5Tget_strpad, (hid_t type_id), (type_id), H5T_STR_ERROR)                    \
  X (MAIN, htri_t, H5Tis_variable_str, (hid_t type_id), (type_id), -1)                             \
  X (MAIN, herr_t, H5Tset_cset, (hid_t type_id, H5T_cset_t cset), (type_id, cset), -1)             \
  X (MAIN, herr_t, H5Tset_size, (hid_t type_id, size_t size), (type_id, size), -1)                 \
  X (MAIN, herr_t, H5Tset_strpad, (hid_t type_id, H5T_str_t strpad), (type_id, strpad), -1)        \
  X (HL, hid_t, H5LTopen_file_image, (void *buf_ptr, size_t buf_size, unsigned flags),             \
     (buf_ptr, buf_size, flags), H5I_INVALID_HID)                                                  \
  X (HL, htri_t, H5LTpath_valid, (hid_t loc_id, const char *path, hbool_t check_object_valid),     \
     (loc_id, path, check_object_valid), -1)

/* The library's global ids that <hdf5.h>'s macros read after calling H5open(): H5T_NATIVE_FLOAT
 * is `(H5open (), H5T_NATIVE_FLOAT_g)`. Defined here, copied from the library's own once it has
 * set them; H5I_INVALID_HID while it is missing, so every use fails. */
#define OSH_HDF5_GLOBAL_IDS(X)                                                                     \
  X (H5T_NATIVE_FLOAT_g)                                                                           \
  X (H5T_IEEE_F32LE_g)                                                                             \
  X (H5T_IEEE_F64LE_g)                                                                             \
  X (H5T_C_S1_g)                                                                                   \
  X (H5P_CLS_FILE_ACCESS_ID_g)                                                                     \
  X (H5P_CLS_LINK_CREATE_ID_g)

#define DEFINE_ID(name) hid_t name = H5I_INVALID_HID;
OSH_HDF5_GLOBAL_IDS (DEFINE_ID)

#define DECLARE_POINTER(lib, ret, name, params, args, fail) ret (*name) params;
static struct
{
  OSH_HDF5_FUNCTIONS (DECLARE_POINTER)
  /* Not forwarded as the others: see H5Ewalk2 below. */
  herr_t (*H5Ewalk2) (hid_t, H5E_direction_t, H5E_walk2_t, void *);
} real;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[OSH_ERROR_MESSAGE_MAX - 64];

static bool load_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static bool
load_fail (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (load_error, sizeof load_error, fmt, ap);
  va_end (ap);
  return false;
}

static bool
load_libraries (void)
{
  static const char *const env[N_LIBS] = { "OSH_HDF5_LIBRARY", "OSH_HDF5_HL_LIBRARY" };
  static const char *const soname[N_LIBS] = { OSH_HDF5_SONAME, OSH_HDF5_HL_SONAME };
  void *handle[N_LIBS];
  const char *used[N_LIBS];
  /* The high-level library after the main one, whose functions it calls. Each library's
   * symbols are taken from its own handle, so neither needs RTLD_GLOBAL. */
  for (int i = 0; i < N_LIBS; i++)
    if (!(handle[i] = osh_dlopen_library ("HDF5", env[i], soname[i], &used[i], load_error,
                                          sizeof load_error)))
      return false;

  static const struct
  {
    int lib;
    const char *name;
    void **slot;
  } symbols[] = { { MAIN, "H5Ewalk2", (void **) &real.H5Ewalk2 },
#define SYMBOL_ENTRY(lib, ret, name, params, args, fail) { lib, #name, (void **) &real.name },
                  OSH_HDF5_FUNCTIONS (SYMBOL_ENTRY) };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
    if (!(*symbols[i].slot = dlsym (handle[symbols[i].lib], symbols[i].name)))
      return load_fail ("the HDF5 library %s has no function %s", used[symbols[i].lib],
                        symbols[i].name);

  /* The ids have their values once the library is initialised. */
  if (real.H5open () < 0)
    return load_fail ("the HDF5 library %s failed to initialise", used[MAIN]);
  const hid_t *id;
#define COPY_ID(name)                                                                              \
  if (!(id = dlsym (handle[MAIN], #name)) || *id < 0)                                              \
    return load_fail ("the HDF5 library %s has no %s", used[MAIN], #name);                         \
  name = *id;
  OSH_HDF5_GLOBAL_IDS (COPY_ID)
  return true;
}

static void
load (void)
{
  loaded = load_libraries ();
}

/* Loads on the first call, from whichever thread; afterwards only reads what load() wrote. */
static bool
ready (void)
{
  pthread_once (&load_once, load);
  return loaded;
}

bool
osh_hdf5_load (OshError *err)
{
  if (ready ())
    return true;
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "%s", load_error);
}

#define DEFINE_FORWARDER(lib, ret, name, params, args, fail)                                       \
  ret name params { return ready () ? real.name args : (fail); }
OSH_HDF5_FUNCTIONS (DEFINE_FORWARDER)

/* Without a library the error stack still has one entry: why the library is missing. The
 * readers append the innermost entry to their messages ("(HDF5: ...)"). */
herr_t
H5Ewalk2 (hid_t err_stack, H5E_direction_t direction, H5E_walk2_t func, void *client_data)
{
  if (ready ())
    return real.H5Ewalk2 (err_stack, direction, func, client_data);
  H5E_error2_t e = { .func_name = "dlopen", .file_name = __FILE__, .desc = load_error };
  return func (0, &e, client_data);
}
