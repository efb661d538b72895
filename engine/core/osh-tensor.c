#define _GNU_SOURCE
#include "osh-tensor.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct OshMapping
{
  void *base;
  size_t length;
  int backing; /* the shared memory mapped, for giving pages back; -1 none */
  atomic_int refs;
};

OshMapping *
osh_mapping_new (void *base, size_t length)
{
  OshMapping *m = malloc (sizeof *m);
  if (!m)
    return NULL;
  m->base = base;
  m->length = length;
  m->backing = -1;
  atomic_init (&m->refs, 1);
  return m;
}

void
osh_mapping_ref (OshMapping *m)
{
  atomic_fetch_add_explicit (&m->refs, 1, memory_order_relaxed);
}

void
osh_mapping_unref (OshMapping *m)
{
  if (!m || atomic_fetch_sub_explicit (&m->refs, 1, memory_order_acq_rel) != 1)
    return;
  munmap (m->base, m->length);
  if (m->backing >= 0)
    close (m->backing);
  free (m);
}

void
osh_mapping_set_backing (OshMapping *m, int fd)
{
  m->backing = fd;
}

/* The whole pages of [p, p + bytes): the private mapping's own pages go (a weight changed in
 * place), and the hole punched in the shared memory frees the pages every mapping of it
 * shares. The size stays, so the range reads as zeros afterwards, never SIGBUS. Failing is
 * harmless: the pages then go with the mapping, as without a backing. */
static void
give_back (OshMapping *m, const void *p, size_t bytes)
{
  uintptr_t page = (uintptr_t) sysconf (_SC_PAGESIZE), at = (uintptr_t) p;
  uintptr_t first = (at + page - 1) / page * page, end = (at + bytes) / page * page;
  if (m->backing < 0 || end <= first)
    return;
  madvise ((void *) first, end - first, MADV_DONTNEED);
  fallocate (m->backing, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
             (off_t) (first - (uintptr_t) m->base), (off_t) (end - first));
}

bool
osh_mapping_holds (const OshMapping *m, const void *p, size_t bytes)
{
  uintptr_t start = (uintptr_t) m->base, at = (uintptr_t) p;
  return at >= start && at - start <= m->length && bytes <= m->length - (at - start);
}

OshShape
osh_shape_make (int rank, const int64_t *dims)
{
  OshShape s = { 0 };
  s.rank = rank < 0 ? 0 : rank > OSH_MAX_RANK ? OSH_MAX_RANK : rank;
  for (int i = 0; i < s.rank; i++)
    s.dim[i] = dims[i];
  return s;
}

int64_t
osh_shape_numel (const OshShape *s)
{
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++)
    {
      if (s->dim[i] < 0)
        return -1;
      n *= s->dim[i];
    }
  return n;
}

bool
osh_shape_equal (const OshShape *a, const OshShape *b)
{
  if (a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dim[i] != b->dim[i])
      return false;
  return true;
}

bool
osh_shape_check (const OshShape *s, OshError *err)
{
  char text[160];
  if (s->rank < 0 || s->rank > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_LIMIT, "rank %d is over the limit of %d", s->rank, OSH_MAX_RANK);
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++)
    {
      if (s->dim[i] < 0)
        {
          osh_shape_format (s, text, sizeof text);
          return osh_fail (err, OSH_ERR_SHAPE, "shape %s has an unknown size", text);
        }
      if (s->dim[i] > OSH_MAX_DIM || (s->dim[i] > 0 && n > OSH_MAX_ELEMENTS / s->dim[i]))
        {
          osh_shape_format (s, text, sizeof text);
          return osh_fail (err, OSH_ERR_LIMIT, "shape %s is over the limit of %lld elements", text,
                           (long long) OSH_MAX_ELEMENTS);
        }
      n *= s->dim[i];
    }
  return true;
}

void
osh_shape_format (const OshShape *s, char *buf, size_t size)
{
  size_t used = 0;
  used += (size_t) snprintf (buf, size, "(");
  for (int i = 0; i < s->rank && used < size; i++)
    {
      const char *sep = i ? ", " : "";
      if (s->dim[i] < 0)
        used += (size_t) snprintf (buf + used, size - used, "%sNone", sep);
      else
        used += (size_t) snprintf (buf + used, size - used, "%s%lld", sep, (long long) s->dim[i]);
    }
  if (used < size)
    snprintf (buf + used, size - used, s->rank == 1 ? ",)" : ")");
}

OshTensor *
osh_tensor_new (const OshShape *s, OshError *err)
{
  if (!osh_shape_check (s, err))
    return NULL;
  int64_t n = osh_shape_numel (s);
  OshTensor *t = calloc (1, sizeof *t);
  if (!t)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a tensor header");
      return NULL;
    }
  t->shape = *s;
  t->data = calloc ((size_t) (n ? n : 1), sizeof (float));
  t->readers = malloc (sizeof *t->readers);
  if (!t->data || !t->readers)
    {
      free (t->data);
      free (t->readers);
      free (t);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for %lld floats", (long long) n);
      return NULL;
    }
  *t->readers = 1;
  return t;
}

OshTensor *
osh_tensor_borrow (const OshShape *s, float *data, OshMapping *m, OshError *err)
{
  if (!osh_shape_check (s, err))
    return NULL;
  size_t bytes = (size_t) osh_shape_numel (s) * sizeof (float);
  /* 16 bytes: what calloc gives the owned tensors, which the kernels may rely on. */
  if ((uintptr_t) data % 16 != 0 || !osh_mapping_holds (m, data, bytes))
    {
      osh_fail (err, OSH_ERR_USAGE, "a borrowed tensor must lie aligned inside its mapping");
      return NULL;
    }
  OshTensor *t = calloc (1, sizeof *t);
  if (!t)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a tensor header");
      return NULL;
    }
  t->shape = *s;
  t->readers = malloc (sizeof *t->readers);
  if (!t->readers)
    {
      free (t);
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a tensor header");
      return NULL;
    }
  *t->readers = 1;
  t->data = data;
  t->borrowed = m;
  osh_mapping_ref (m);
  return t;
}

/* One tensor fewer reads the values; true when it was the last (a tensor without a count, made
 * by hand, is its values' only reader). */
static bool
drop_reader (OshTensor *t)
{
  if (!t->readers)
    return true;
  bool last = __atomic_sub_fetch (t->readers, 1, __ATOMIC_ACQ_REL) == 0;
  if (last)
    free (t->readers);
  t->readers = NULL;
  return last;
}

static bool
sole_reader (const OshTensor *t)
{
  return !t->readers || __atomic_load_n (t->readers, __ATOMIC_ACQUIRE) == 1;
}

OshTensor *
osh_tensor_shape_only (const OshTensor *t, OshError *err)
{
  OshTensor *c = calloc (1, sizeof *c);
  if (!c)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  else
    c->shape = t->shape;
  return c;
}

OshTensor *
osh_tensor_share (const OshTensor *t, OshError *err)
{
  if (!t->data || !t->readers) /* a weight's shape alone; or values without a count */
    return osh_tensor_copy (t, err);
  OshTensor *c = calloc (1, sizeof *c);
  if (!c)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory for a tensor header");
      return NULL;
    }
  *c = *t;
  if (t->borrowed)
    osh_mapping_ref (t->borrowed);
  __atomic_add_fetch (t->readers, 1, __ATOMIC_RELAXED);
  return c;
}

bool
osh_tensor_make_owned (OshTensor *t, OshError *err)
{
  if (!t->data || (!t->borrowed && sole_reader (t)))
    return true;
  OshTensor *own = osh_tensor_copy (t, err);
  if (!own)
    return false;
  OshTensor was = *t;
  *t = *own; /* the copy's values and count; its header goes */
  free (own);
  if (drop_reader (&was) && !was.borrowed)
    free (was.data);
  if (was.borrowed)
    osh_mapping_unref (was.borrowed);
  return true;
}

OshTensor *
osh_tensor_copy (const OshTensor *t, OshError *err)
{
  /* An empty weight, or one read for its shape only (osh_model_load_graph). */
  if (!t->data)
    return osh_tensor_shape_only (t, err);
  OshTensor *c = osh_tensor_new (&t->shape, err);
  if (c)
    memcpy (c->data, t->data, (size_t) osh_tensor_numel (t) * sizeof (float));
  return c;
}

void
osh_tensor_free (OshTensor *t)
{
  if (!t)
    return;
  bool last = drop_reader (t);
  if (t->borrowed)
    osh_mapping_unref (t->borrowed);
  else if (last)
    free (t->data);
  free (t);
}

void
osh_tensor_free_for_good (OshTensor *t)
{
  /* Values another tensor reads (osh_tensor_share) stay. */
  if (t && t->borrowed && t->data && sole_reader (t))
    give_back (t->borrowed, t->data, (size_t) osh_tensor_numel (t) * sizeof (float));
  osh_tensor_free (t);
}

int64_t
osh_tensor_numel (const OshTensor *t)
{
  return osh_shape_numel (&t->shape);
}
