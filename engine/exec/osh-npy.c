/* NumPy .npy reader and writer.
 *
 * Format (numpy.lib.format): "\x93NUMPY", major, minor, a little-endian header length
 * (2 bytes for 1.0, 4 bytes for 2.0/3.0), then an ASCII (3.0: UTF-8) Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and a
 * newline, then the raw data. The header is parsed strictly: only the three keys, only the
 * dtypes we convert, shape sizes checked against osh-limits.h before allocating. */
#include "osh-npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER (1 << 20) /* numpy itself refuses headers over 10 kB by default */

typedef enum
{
  NPY_F4,
  NPY_F8,
  NPY_I4,
  NPY_I8,
  NPY_U1,
} NpyDtype;

static const struct
{
  const char *descr;
  NpyDtype dtype;
  size_t size;
} npy_dtypes[] = {
  { "<f4", NPY_F4, 4 }, { "<f8", NPY_F8, 8 }, { "<i4", NPY_I4, 4 },
  { "<i8", NPY_I8, 8 }, { "|u1", NPY_U1, 1 },
};

typedef struct
{
  const char *name;
  const char *text; /* the header dict, not NUL-terminated */
  size_t len;
  size_t pos;
  size_t base; /* byte offset of text in the file, for messages */
  OshError *err;
} NpyParser;

static bool
parse_fail (NpyParser *p, const char *what)
{
  return osh_fail (p->err, OSH_ERR_FORMAT, "%s: .npy header, byte %zu: expected %s", p->name,
                   p->base + p->pos, what);
}

static void
skip_space (NpyParser *p)
{
  while (p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t'))
    p->pos++;
}

static bool
expect_char (NpyParser *p, char c, const char *what)
{
  skip_space (p);
  if (p->pos >= p->len || p->text[p->pos] != c)
    return parse_fail (p, what);
  p->pos++;
  return true;
}

/* A quoted Python string without escapes (the only keys and dtypes numpy writes). */
static bool
parse_string (NpyParser *p, char *out, size_t size)
{
  skip_space (p);
  if (p->pos >= p->len || (p->text[p->pos] != '\'' && p->text[p->pos] != '"'))
    return parse_fail (p, "a quoted string");
  char quote = p->text[p->pos++];
  size_t n = 0;
  while (p->pos < p->len && p->text[p->pos] != quote)
    {
      if (p->text[p->pos] == '\\' || n + 1 >= size)
        return parse_fail (p, "a short string without escapes");
      out[n++] = p->text[p->pos++];
    }
  if (p->pos >= p->len)
    return parse_fail (p, "a closing quote");
  p->pos++;
  out[n] = '\0';
  return true;
}

static bool
parse_shape (NpyParser *p, OshShape *shape)
{
  if (!expect_char (p, '(', "'(' opening the shape tuple"))
    return false;
  shape->rank = 0;
  for (;;)
    {
      skip_space (p);
      if (p->pos < p->len && p->text[p->pos] == ')')
        {
          p->pos++;
          return true;
        }
      if (p->pos >= p->len || p->text[p->pos] < '0' || p->text[p->pos] > '9')
        return parse_fail (p, "a non-negative size in the shape tuple");
      if (shape->rank == OSH_MAX_RANK)
        return osh_fail (p->err, OSH_ERR_LIMIT, "%s: .npy shape has more than %d dimensions",
                         p->name, OSH_MAX_RANK);
      int64_t v = 0;
      while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9')
        {
          v = v * 10 + (p->text[p->pos++] - '0');
          if (v > OSH_MAX_DIM)
            return osh_fail (p->err, OSH_ERR_LIMIT,
                             "%s: .npy shape size at byte %zu is over the limit of %lld", p->name,
                             p->base + p->pos, (long long) OSH_MAX_DIM);
        }
      if (p->pos < p->len && p->text[p->pos] == 'L') /* Python 2 longs */
        p->pos++;
      shape->dim[shape->rank++] = v;
      skip_space (p);
      if (p->pos < p->len && p->text[p->pos] == ',')
        p->pos++;
      else if (p->pos >= p->len || p->text[p->pos] != ')')
        return parse_fail (p, "',' or ')' in the shape tuple");
    }
}

static bool
parse_header (NpyParser *p, NpyDtype *dtype, size_t *item, OshShape *shape)
{
  bool seen_descr = false, seen_order = false, seen_shape = false;
  if (!expect_char (p, '{', "'{' opening the header dict"))
    return false;
  for (;;)
    {
      skip_space (p);
      if (p->pos < p->len && p->text[p->pos] == '}')
        {
          p->pos++;
          break;
        }
      char key[32], value[32];
      if (!parse_string (p, key, sizeof key) || !expect_char (p, ':', "':' after a key"))
        return false;
      if (strcmp (key, "descr") == 0 && !seen_descr)
        {
          if (!parse_string (p, value, sizeof value))
            return false;
          size_t i = 0;
          for (; i < sizeof npy_dtypes / sizeof npy_dtypes[0]; i++)
            if (strcmp (value, npy_dtypes[i].descr) == 0)
              break;
          if (i == sizeof npy_dtypes / sizeof npy_dtypes[0])
            return osh_fail (p->err, OSH_ERR_UNSUPPORTED,
                             "%s: .npy dtype '%s' is not supported (expected <f4, <f8, <i4, <i8 "
                             "or |u1)",
                             p->name, value);
          *dtype = npy_dtypes[i].dtype;
          *item = npy_dtypes[i].size;
          seen_descr = true;
        }
      else if (strcmp (key, "fortran_order") == 0 && !seen_order)
        {
          skip_space (p);
          if (p->len - p->pos >= 5 && memcmp (p->text + p->pos, "False", 5) == 0)
            p->pos += 5;
          else if (p->len - p->pos >= 4 && memcmp (p->text + p->pos, "True", 4) == 0)
            return osh_fail (p->err, OSH_ERR_UNSUPPORTED,
                             "%s: .npy array is in Fortran order; save it in C order "
                             "(numpy.ascontiguousarray)",
                             p->name);
          else
            return parse_fail (p, "False or True for fortran_order");
          seen_order = true;
        }
      else if (strcmp (key, "shape") == 0 && !seen_shape)
        {
          if (!parse_shape (p, shape))
            return false;
          seen_shape = true;
        }
      else
        return parse_fail (p, "one each of the keys 'descr', 'fortran_order', 'shape'");
      skip_space (p);
      if (p->pos < p->len && p->text[p->pos] == ',')
        p->pos++;
      else if (p->pos >= p->len || p->text[p->pos] != '}')
        return parse_fail (p, "',' or '}' in the header dict");
    }
  if (!seen_descr || !seen_order || !seen_shape)
    return parse_fail (p, "the keys 'descr', 'fortran_order' and 'shape'");
  while (p->pos < p->len)
    {
      char c = p->text[p->pos];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\0')
        return parse_fail (p, "only padding after the header dict");
      p->pos++;
    }
  return true;
}

static float
npy_value (NpyDtype dtype, const unsigned char *b)
{
  switch (dtype)
    {
    case NPY_F4:
      {
        float f;
        memcpy (&f, b, 4);
        return f;
      }
    case NPY_F8:
      {
        double d;
        memcpy (&d, b, 8);
        return (float) d;
      }
    case NPY_I4:
      {
        int32_t i;
        memcpy (&i, b, 4);
        return (float) i;
      }
    case NPY_I8:
      {
        int64_t i;
        memcpy (&i, b, 8);
        return (float) i;
      }
    case NPY_U1:
    default: return (float) b[0];
    }
}

OshTensor *
osh_npy_read_bytes (const char *name, const void *data, size_t size, OshError *err)
{
  const unsigned char *b = data;
  if (size < NPY_MAGIC_LEN + 4 || memcmp (b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "%s: not a .npy file (expected the \\x93NUMPY magic at byte 0)", name);
      return NULL;
    }
  unsigned major = b[6];
  size_t header_len, header_start;
  if (major == 1)
    {
      header_len = (size_t) b[8] | (size_t) b[9] << 8;
      header_start = 10;
    }
  else if (major == 2 || major == 3)
    {
      if (size < 12)
        {
          osh_fail (err, OSH_ERR_FORMAT, "%s: .npy file ends inside its header length", name);
          return NULL;
        }
      header_len = (size_t) b[8] | (size_t) b[9] << 8 | (size_t) b[10] << 16 | (size_t) b[11] << 24;
      header_start = 12;
    }
  else
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED,
                "%s: .npy version %u.%u is not supported (expected 1, 2 or 3)", name, major, b[7]);
      return NULL;
    }
  if (header_len > NPY_MAX_HEADER || header_start + header_len > size)
    {
      osh_fail (err, OSH_ERR_FORMAT,
                "%s: .npy header of %zu bytes at byte %zu does not fit in the %zu-byte file", name,
                header_len, header_start, size);
      return NULL;
    }
  NpyParser p = { name, (const char *) b + header_start, header_len, 0, header_start, err };
  NpyDtype dtype = NPY_F4;
  size_t item = 4;
  OshShape shape = { 0 };
  if (!parse_header (&p, &dtype, &item, &shape))
    return NULL;
  OshError shape_err = { 0 };
  if (!osh_shape_check (&shape, &shape_err))
    {
      osh_fail (err, shape_err.code, "%s: .npy %s", name, shape_err.message);
      return NULL;
    }
  int64_t n = osh_shape_numel (&shape);
  size_t data_start = header_start + header_len;
  if ((uint64_t) n > (size - data_start) / item)
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s: .npy data at byte %zu holds %zu bytes, expected %llu",
                name, data_start, size - data_start, (unsigned long long) n * item);
      return NULL;
    }
  OshTensor *t = osh_tensor_new (&shape, err);
  if (!t)
    return NULL;
  const unsigned char *src = b + data_start;
  if (dtype == NPY_F4)
    memcpy (t->data, src, (size_t) n * 4);
  else
    for (int64_t i = 0; i < n; i++)
      t->data[i] = npy_value (dtype, src + (size_t) i * item);
  return t;
}

OshTensor *
osh_npy_read (const char *path, OshError *err)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
      return NULL;
    }
  OshTensor *t = NULL;
  long size = -1;
  if (fseek (f, 0, SEEK_END) == 0)
    size = ftell (f);
  if (size < 0 || fseek (f, 0, SEEK_SET) != 0)
    osh_fail (err, OSH_ERR_IO, "%s: cannot determine its size: %s", path, strerror (errno));
  else if ((uint64_t) size > (uint64_t) OSH_MAX_ELEMENTS * 8 + NPY_MAX_HEADER)
    osh_fail (err, OSH_ERR_LIMIT, "%s: %ld bytes is over the limit for a .npy file", path, size);
  else
    {
      unsigned char *buf = malloc ((size_t) size + 1);
      if (!buf)
        osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for %ld bytes", path, size);
      else if (fread (buf, 1, (size_t) size, f) != (size_t) size)
        osh_fail (err, OSH_ERR_IO, "%s: short read of %ld bytes", path, size);
      else
        t = osh_npy_read_bytes (path, buf, (size_t) size, err);
      free (buf);
    }
  fclose (f);
  return t;
}

bool
osh_npy_write (const char *path, const OshTensor *t, OshError *err)
{
  char header[512];
  int len = snprintf (header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < t->shape.rank; i++)
    len +=
        snprintf (header + len, sizeof header - (size_t) len, "%lld%s", (long long) t->shape.dim[i],
                  t->shape.rank == 1      ? ","
                  : i + 1 < t->shape.rank ? ", "
                                          : "");
  len += snprintf (header + len, sizeof header - (size_t) len, "), }");
  /* Pad with spaces so the data starts on a 64-byte boundary, ending with '\n' (version 1.0). */
  int total = 10 + len + 1;
  int padded = (total + 63) / 64 * 64;
  while (10 + len + 1 < padded)
    header[len++] = ' ';
  header[len++] = '\n';

  /* A fresh name beside the target, created with O_EXCL and mode 0666 so the umask applies
   * (mkstemp would make it 0600). */
  static unsigned counter;
  size_t path_len = strlen (path);
  char *tmp = malloc (path_len + 48);
  if (!tmp)
    return osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory", path);
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; attempt++)
    {
      snprintf (tmp, path_len + 48, "%s.tmp-%ld-%u", path, (long) getpid (),
                __atomic_fetch_add (&counter, 1, __ATOMIC_RELAXED));
      fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0 && errno != EEXIST)
        break;
    }
  if (fd < 0)
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                strerror (errno));
      free (tmp);
      return false;
    }
  FILE *f = fdopen (fd, "wb");
  unsigned char pre[10] = {
    0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char) (len & 0xff), (unsigned char) (len >> 8)
  };
  int64_t n = osh_tensor_numel (t);
  bool ok = f && fwrite (pre, 1, 10, f) == 10 && fwrite (header, 1, (size_t) len, f) == (size_t) len
            && (n == 0 || fwrite (t->data, sizeof (float), (size_t) n, f) == (size_t) n);
  if (f)
    ok = (fclose (f) == 0) && ok;
  else
    close (fd);
  if (!ok)
    osh_fail (err, OSH_ERR_IO, "%s: cannot write: %s", path, strerror (errno));
  else if (rename (tmp, path) != 0)
    {
      osh_fail (err, OSH_ERR_IO, "%s: cannot rename the temporary file into place: %s", path,
                strerror (errno));
      ok = false;
    }
  if (!ok)
    unlink (tmp);
  free (tmp);
  return ok;
}
