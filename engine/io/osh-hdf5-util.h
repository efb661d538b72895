/* osh-hdf5-util.h — reading Keras-written HDF5 from memory, with errors as values.
 *
 * Shared by the .h5 reader and the weights file inside .keras archives.
 *
 *   hid_t f = osh_h5_open_image (name, data, size, &err);    // H5I_INVALID_HID on failure
 *   char *config = osh_h5_attr_string (f, "model_config", name, &err);
 *   int n = 0;
 *   char **names = osh_h5_attr_strings (f, "layer_names", name, &n, &err);
 *   OshTensor *t = osh_h5_read_tensor (f, "model_weights/conv1/conv1/kernel:0", name, data, size,
 *                                      OSH_READ_ALL, NULL, &err);
 *   osh_strv_free (names, n);
 *   osh_h5_close (f);
 *
 * HDF5's own error printing is turned off the first time a file is opened; its innermost
 * message is appended to ours instead. The HDF5 library is not thread-safe: open one file at
 * a time. */
#pragma once

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osh-error.h"
#include "osh-formats.h"
#include "osh-tensor.h"

/* Opens `size` bytes as a read-only HDF5 file without copying them; `data` must outlive the
 * handle. `name` names the source in messages. */
hid_t osh_h5_open_image (const char *name, const void *data, size_t size, OshError *err);
void osh_h5_close (hid_t file);

/* True when `path` (relative to `loc`) names an existing object; false on any error. */
bool osh_h5_exists (hid_t loc, const char *path);
bool osh_h5_has_attr (hid_t loc, const char *attr);

/* A scalar (or one-element) string attribute, fixed- or variable-length; malloc'd.
 * Absent: NULL with OSH_ERR_NOT_FOUND. */
char *osh_h5_attr_string (hid_t loc, const char *attr, const char *name, OshError *err);

/* A list of strings; Keras splits long lists into attributes `attr0`, `attr1`, ... which are
 * joined. Returns a malloc'd array (possibly of 0 strings, then non-NULL) or NULL with err. */
char **osh_h5_attr_strings (hid_t loc, const char *attr, const char *name, int *n_out,
                            OshError *err);
void osh_strv_free (char **v, int n);

/* Reads a numeric dataset as float32, whatever its stored type. `image` / `image_size` are the
 * bytes the file was opened from: they bound what an uncompressed dataset may claim, and a
 * contiguous little-endian float32 dataset (every weight Keras writes) is copied straight from
 * them instead of through H5Dread, after checking that it lies inside them. With
 * OSH_READ_GRAPH only the shape is read (data stays NULL); with OSH_READ_CHECK contiguous data
 * is only checked, not copied (see osh-formats.h). With `borrow` (the mapping `image` lies in),
 * such a dataset that sits 16-byte aligned is not copied either: the tensor borrows it. */
OshTensor *osh_h5_read_tensor (hid_t loc, const char *path, const char *name, const void *image,
                               size_t image_size, OshReadMode mode, OshMapping *borrow,
                               OshError *err);

/* The same, also giving in *offset where the values of a contiguous little-endian float32
 * dataset lie in `image` (checked to lie inside it), else -1 (the guard's weight map,
 * osh-weights-by-offset.h). */
OshTensor *osh_h5_read_tensor_at (hid_t loc, const char *path, const char *name, const void *image,
                                  size_t image_size, OshReadMode mode, OshMapping *borrow,
                                  int64_t *offset, OshError *err);

/* Announcements of work, for the HDF5 guard's deadline (osh-hdf5-guard.c): the readers call
 * osh_h5_progress (bytes) before each piece of work whose time grows with `bytes` (a dataset,
 * an archive entry). Nothing is called until a function is set; one per process. */
void osh_h5_set_progress (void (*fn) (uint64_t work, void *data), void *data);
void osh_h5_progress (uint64_t work);
