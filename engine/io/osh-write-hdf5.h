/* osh-write-hdf5.h — small helpers over the HDF5 C API for the writers.
 *
 * Strings are stored the way Keras (through h5py) stores them: fixed-length, null-padded.
 * Every helper returns false / a negative id with `err` naming the file and the object.
 *
 *   OshH5Writer w;
 *   if (!osh_h5w_open (&w, tmp_path, true, &err)) return false;
 *   ok = osh_h5w_attr_string (&w, w.file, "backend", "tensorflow", &err)
 *        && osh_h5w_dataset (&w, w.file, "model_weights/dense/dense/kernel:0", t, &err);
 *   ok = osh_h5w_close_to_file (&w, ok, &err);   // or osh_h5w_image, then osh_h5w_close
 */
#pragma once

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>

#include "osh-error.h"
#include "osh-tensor.h"

typedef struct
{
  void *mem; /* the file's bytes, held by the core driver until close */
  size_t size;
} OshH5Image;

typedef struct
{
  hid_t file;
  OshH5Image *image;
  const char *path; /* for messages */
  /* HDF5's own error printing, switched off while the writer runs */
  H5E_auto2_t saved_func;
  void *saved_data;
} OshH5Writer;

/* Creates a file in memory; `path` names it in messages and is where osh_h5w_close_to_file
 * writes it. `dense_attributes` uses 1.8 object headers (attributes over 64 KiB, as in a big
 * Keras 2 model_config). */
bool osh_h5w_open (OshH5Writer *w, const char *path, bool dense_attributes, OshError *err);

/* Closes the file; returns `ok` and false when closing fails. */
bool osh_h5w_close (OshH5Writer *w, bool ok, OshError *err);

/* When `ok`, writes the finished file to `path` with plain stdio, then closes it. */
bool osh_h5w_close_to_file (OshH5Writer *w, bool ok, OshError *err);

/* The bytes of an in-memory file (malloc'd), after everything is written. */
void *osh_h5w_image (OshH5Writer *w, size_t *size, OshError *err);

/* Opens or creates the group at `path` below `parent`, with any missing parents. */
hid_t osh_h5w_group (OshH5Writer *w, hid_t parent, const char *path, OshError *err);

bool osh_h5w_attr_string (OshH5Writer *w, hid_t obj, const char *name, const char *value,
                          OshError *err);

/* A 1-D array of fixed-length strings; an empty list is written as Keras does (an empty
 * float64 array). */
bool osh_h5w_attr_strings (OshH5Writer *w, hid_t obj, const char *name, char *const *values, int n,
                           OshError *err);

/* A float32 dataset at `path` below `parent`, with missing groups created. */
bool osh_h5w_dataset (OshH5Writer *w, hid_t parent, const char *path, const OshTensor *t,
                      OshError *err);
