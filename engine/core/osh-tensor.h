/* osh-tensor.h — shapes and float32 tensors.
 *
 * A shape is a rank and up to OSH_MAX_RANK sizes; -1 marks an unknown size
 * (Keras's None, usually the batch). A tensor is a shape and a C-order float32
 * buffer that it owns, or borrows from an OshMapping: weights read from a model
 * file whose float32 values sit aligned in the file's bytes are used where they
 * are, not copied (osh-hdf5-util.c). Both kinds are read, written and freed
 * alike; a mapping stays until its last borrower is freed. Every weight,
 * whatever its dtype in the file, is turned into float32 when it is read.
 *
 *   OshShape s = osh_shape_make (4, (int64_t[]){ 1, 224, 224, 3 });
 *   OshTensor *t = osh_tensor_new (&s, &err);     // zero-filled
 *   t->data[0] = 1.0f;
 *   char text[64]; osh_shape_format (&t->shape, text, sizeof text);  // "(1, 224, 224, 3)"
 *   osh_tensor_free (t);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osh-error.h"
#include "osh-limits.h"

typedef struct
{
  int rank;
  int64_t dim[OSH_MAX_RANK];
} OshShape;

/* Memory that tensors may borrow their values from: a private, writable (copy-on-write)
 * mapping of a model file's sealed in-memory copy (osh-file-bytes.h). Reference-counted across
 * threads; unmapped when its creator and every borrower have let go. */
typedef struct OshMapping OshMapping;

typedef struct
{
  OshShape shape;
  float *data;          /* numel floats, owned unless `borrowed` */
  OshMapping *borrowed; /* the mapping `data` lies in (one reference), or NULL */
  int *readers;         /* how many tensors read `data` (osh_tensor_share); NULL: only this */
} OshTensor;

/* Takes over `length` bytes mapped at `base` (munmap'd at the end); one reference. NULL when
 * out of memory (the caller still owns the mapping). */
OshMapping *osh_mapping_new (void *base, size_t length);
/* Takes over `fd` (closed at the end): the shared memory `m` maps privately from its offset 0,
 * writable by this descriptor and never shrunk (osh-file-bytes.c). Then
 * osh_tensor_free_for_good can hand a borrower's pages back to the system. */
void osh_mapping_set_backing (OshMapping *m, int fd);
void osh_mapping_ref (OshMapping *m);
void osh_mapping_unref (OshMapping *m);
/* True when [p, p + bytes) lies inside the mapping. */
bool osh_mapping_holds (const OshMapping *m, const void *p, size_t bytes);

OshShape osh_shape_make (int rank, const int64_t *dims);

/* Number of elements, or -1 when a size is unknown. 1 for rank 0. */
int64_t osh_shape_numel (const OshShape *s);

bool osh_shape_equal (const OshShape *a, const OshShape *b);

/* True when every size is known, positive and within the limits; else fills err. */
bool osh_shape_check (const OshShape *s, OshError *err);

/* "(None, 7, 7, 1280)" like Keras prints shapes; "()" for a scalar. */
void osh_shape_format (const OshShape *s, char *buf, size_t size);

/* A new zero-filled tensor; NULL with err set when the shape is unknown or over the limits. */
OshTensor *osh_tensor_new (const OshShape *s, OshError *err);
/* A tensor whose values are `data`, inside `m` (checked; a reference is taken) and aligned
 * like malloc's memory (16 bytes); NULL with err otherwise. */
OshTensor *osh_tensor_borrow (const OshShape *s, float *data, OshMapping *m, OshError *err);
/* Always an owned copy. */
OshTensor *osh_tensor_copy (const OshTensor *t, OshError *err);
/* A second tensor reading t's values where they are (the last reader to go frees them, or
 * lets go of their mapping). Writing either would change both, so a writer makes its tensor
 * the only reader of its values first (osh_tensor_make_owned), and osh_tensor_free_for_good
 * gives pages back only for the last reader. */
OshTensor *osh_tensor_share (const OshTensor *t, OshError *err);
/* Gives `t` values that it alone reads and owns (a copy, unless that is so already), so they
 * may be changed in place. */
bool osh_tensor_make_owned (OshTensor *t, OshError *err);
/* A tensor of t's shape without values (data NULL), as a weight read for its shape only. */
OshTensor *osh_tensor_shape_only (const OshTensor *t, OshError *err);
void osh_tensor_free (OshTensor *t);
/* osh_tensor_free for values nothing will read again, by any tensor: when they are borrowed
 * from a mapping with a backing (osh_mapping_set_backing), the whole pages they cover are given
 * back to the system at once instead of when the mapping's last borrower goes (a plan that
 * packs a kernel drops the original this way, osh-plan-release.c). Those pages read as zeros
 * afterwards; pages shared with a neighbour stay, and so do values another tensor still reads
 * (osh_tensor_share). */
void osh_tensor_free_for_good (OshTensor *t);
int64_t osh_tensor_numel (const OshTensor *t);
