/* osh-json.c — a single-pass recursive-descent JSON parser (RFC 8259) that builds jansson
 * values. Why not json_loadb: its lexer reads one byte at a time through a callback, checks
 * UTF-8 per character and appends to a buffer per byte; on B7's 0.5 MB config.json that was the
 * largest part of `offshoot render`. Here a string is found with a table-driven loop over the
 * buffer and copied once; numbers are read in place.
 *
 * The grammar and the outcomes follow jansson 2.14 with JSON_DECODE_ANY | JSON_ALLOW_NUL, so
 * every reader behaves as before (see osh-json.h); where jansson's choice is not the RFC's
 * obvious one, the comment says so. About 700 lines in one file on purpose: the grammar, the
 * UTF-8 rules, numbers as strtod reads them and the scalar cache are one parser. */
#define _GNU_SOURCE
#include "osh-json.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof (json_int_t) == sizeof (long long),
               "integers are read with long long's range");

typedef struct
{
  const unsigned char *start, *p, *end;
  int depth;
  OshJsonError *e;
  bool failed;
  char *buf; /* strings with escapes are decoded here */
  size_t cap;
  struct Interned *interned; /* scalars already built, by text (see recall) */
  size_t interned_cap, interned_count;
} Parser;

/* One scalar already built: a string by its decoded text, a number by its text in the input. */
typedef struct Interned
{
  uint64_t hash;
  const char *text;
  size_t len;
  json_t *value; /* a reference of the table's own: a replaced duplicate key cannot free it */
} Interned;

enum
{
  INTERN_MAX_LEN = 64,       /* longer strings rarely repeat */
  INTERN_MAX_COUNT = 1 << 16 /* and a document of unique strings stops paying for the table */
};

/* Bytes that end the fast scan of a string: the quote, the backslash, control characters
 * (rejected) and the first byte of a multi-byte UTF-8 sequence (checked). */
/* clang-format off */
static const unsigned char string_stop[256] = {
  [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};
/* clang-format on */

/* Whether any of the 8 bytes in `v` stops the scan (a word-at-a-time test: a byte b is zero
 * exactly when (b - 1) & ~b has its top bit set, the borrow aside, which can only flag a byte
 * above a real hit; the byte loop after it finds the exact place). */
static inline bool
word_has_stop (uint64_t v)
{
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\'), control = v & (ones * 0xe0);
  uint64_t zero =
      ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((control - ones) & ~control);
  return ((zero | v) & highs) != 0;
}

/* Configs repeat a few hundred short strings and numbers tens of thousands of times ("float32",
 * layer names, 1, 3): B7's config.json has 849 distinct strings among 9,577 and 30 distinct
 * integers among 4,466. Half of the time of building the tree is malloc, two per string, so a
 * repeated scalar is the same json_t again with one more reference. Safe with jansson's atomic
 * reference counts; nothing may change such a value in place (osh-json.h). */
static uint64_t
text_hash (bool is_string, const char *text, size_t len)
{
  uint64_t h = 0xcbf29ce484222325u ^ is_string; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) text[i]) * 0x100000001b3u;
  return h;
}

static json_t *
recall (const Parser *ps, uint64_t hash, const char *text, size_t len)
{
  if (!ps->interned)
    return NULL;
  size_t mask = ps->interned_cap - 1;
  for (size_t i = hash & mask; ps->interned[i].value; i = (i + 1) & mask)
    {
      const Interned *e = &ps->interned[i];
      if (e->hash == hash && e->len == len && memcmp (e->text, text, len) == 0)
        return json_incref (e->value);
    }
  return NULL;
}

/* Keeps `v` for recall. Only an optimisation: when the table cannot grow, nothing is kept. */
static void
remember (Parser *ps, uint64_t hash, const char *text, size_t len, json_t *v)
{
  if (ps->interned_count >= INTERN_MAX_COUNT)
    return;
  if ((ps->interned_count + 1) * 2 > ps->interned_cap)
    {
      size_t cap = ps->interned_cap ? ps->interned_cap * 2 : 1024;
      Interned *grown = calloc (cap, sizeof *grown);
      if (!grown)
        return;
      for (size_t i = 0; i < ps->interned_cap; i++)
        if (ps->interned[i].value)
          {
            size_t j = ps->interned[i].hash & (cap - 1);
            while (grown[j].value)
              j = (j + 1) & (cap - 1);
            grown[j] = ps->interned[i];
          }
      free (ps->interned);
      ps->interned = grown;
      ps->interned_cap = cap;
    }
  size_t i = hash & (ps->interned_cap - 1);
  while (ps->interned[i].value)
    i = (i + 1) & (ps->interned_cap - 1);
  ps->interned[i] = (Interned){ hash, text, len, json_incref (v) };
  ps->interned_count++;
}

static void
forget_all (Parser *ps)
{
  for (size_t i = 0; i < ps->interned_cap; i++)
    json_decref (ps->interned[i].value);
  free (ps->interned);
}

static void
fail_at (Parser *ps, const unsigned char *at, const char *format, ...)
{
  if (ps->failed)
    return;
  ps->failed = true;
  if (!ps->e)
    return;
  /* At the end of the input there is no byte to name: the last one is named, as jansson does. */
  if (at >= ps->end && ps->end > ps->start)
    at = ps->end - 1;
  ps->e->position = (size_t) (at - ps->start);
  va_list args;
  va_start (args, format);
  vsnprintf (ps->e->text, sizeof ps->e->text, format, args);
  va_end (args);
}

static inline void
skip_whitespace (Parser *ps)
{
  const unsigned char *p = ps->p;
  while (p < ps->end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  ps->p = p;
}

/* The length of the well-formed UTF-8 sequence at p (Unicode 15, table 3-7: no overlong forms,
 * no UTF-16 surrogates, nothing above U+10FFFF), 0 when it is not one. */
static size_t
utf8_sequence (const unsigned char *p, const unsigned char *end)
{
  unsigned lead = p[0], low = 0x80, high = 0xbf;
  size_t n;
  if (lead >= 0xc2 && lead <= 0xdf)
    n = 2;
  else if (lead >= 0xe0 && lead <= 0xef)
    {
      n = 3;
      low = lead == 0xe0 ? 0xa0 : 0x80;  /* E0 80..9F would be overlong */
      high = lead == 0xed ? 0x9f : 0xbf; /* ED A0..BF would be surrogates */
    }
  else if (lead >= 0xf0 && lead <= 0xf4)
    {
      n = 4;
      low = lead == 0xf0 ? 0x90 : 0x80;  /* overlong */
      high = lead == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
    }
  else
    return 0;
  if ((size_t) (end - p) < n || p[1] < low || p[1] > high)
    return 0;
  for (size_t i = 2; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

static bool
append (Parser *ps, size_t *used, const void *bytes, size_t n)
{
  if (n == 0)
    return true; /* nothing to copy, and ps->buf may not exist yet */
  if (*used + n > ps->cap)
    {
      size_t cap = ps->cap ? ps->cap : 256;
      while (cap < *used + n)
        cap *= 2;
      char *grown = realloc (ps->buf, cap);
      if (!grown)
        return false;
      ps->buf = grown;
      ps->cap = cap;
    }
  memcpy (ps->buf + *used, bytes, n);
  *used += n;
  return true;
}

/* Four hex digits at p, or -1. */
static long
hex4 (const unsigned char *p, const unsigned char *end)
{
  if (end - p < 4)
    return -1;
  long value = 0;
  for (int i = 0; i < 4; i++)
    {
      unsigned c = p[i];
      int digit = c >= '0' && c <= '9'   ? (int) (c - '0')
                  : c >= 'a' && c <= 'f' ? (int) (c - 'a' + 10)
                  : c >= 'A' && c <= 'F' ? (int) (c - 'A' + 10)
                                         : -1;
      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

/* The \uXXXX escape whose 'u' is at *at (a surrogate pair takes two), appended as UTF-8.
 * \u0000 is kept (JSON_ALLOW_NUL); lone surrogates are errors, as in jansson. */
static bool
unicode_escape (Parser *ps, const unsigned char **at, size_t *used)
{
  const unsigned char *u = *at;
  long code = hex4 (u + 1, ps->end);
  if (code < 0)
    return fail_at (ps, u, "invalid \\u escape"), false;
  u += 4;
  if (code >= 0xdc00 && code <= 0xdfff)
    return fail_at (ps, *at, "lone low surrogate \\u%04lX", code), false;
  if (code >= 0xd800 && code <= 0xdbff)
    {
      long low = ps->end - u >= 3 && u[1] == '\\' && u[2] == 'u' ? hex4 (u + 3, ps->end) : -1;
      if (low < 0xdc00 || low > 0xdfff)
        return fail_at (ps, *at, "high surrogate \\u%04lX without its low half", code), false;
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      u += 6;
    }
  unsigned char utf8[4];
  size_t n;
  if (code < 0x80)
    utf8[0] = (unsigned char) code, n = 1;
  else if (code < 0x800)
    utf8[0] = (unsigned char) (0xc0 | code >> 6), n = 2;
  else if (code < 0x10000)
    utf8[0] = (unsigned char) (0xe0 | code >> 12), n = 3;
  else
    utf8[0] = (unsigned char) (0xf0 | code >> 18), n = 4;
  for (size_t i = 1; i < n; i++)
    utf8[i] = (unsigned char) (0x80 | ((code >> (6 * (n - 1 - i))) & 0x3f));
  *at = u;
  if (!append (ps, used, utf8, n))
    return fail_at (ps, *at, "out of memory"), false;
  return true;
}

/* The string whose opening quote is at ps->p. On success (*out, *len) is its decoded text: in the
 * input when it had no escape, else in ps->buf (valid until the next string). */
static bool
scan_string (Parser *ps, const char **out, size_t *len)
{
  const unsigned char *p = ps->p + 1, *end = ps->end, *run = p;
  size_t used = 0;
  bool escaped = false;
  for (;;)
    {
      uint64_t word;
      while (end - p >= 8 && (memcpy (&word, p, 8), !word_has_stop (word)))
        p += 8;
      while (p < end && !string_stop[*p])
        p++;
      if (p == end)
        return fail_at (ps, p, "unterminated string"), false;
      if (*p == '"')
        break;
      if (*p >= 0x80)
        {
          size_t n = utf8_sequence (p, end);
          if (!n)
            return fail_at (ps, p, "invalid UTF-8 in a string"), false;
          p += n;
          continue;
        }
      if (*p < 0x20)
        return fail_at (ps, p, "control character 0x%02x in a string", *p), false;
      /* A backslash: keep the plain run before it, then the escaped character. */
      if (!append (ps, &used, run, (size_t) (p - run)))
        return fail_at (ps, p, "out of memory"), false;
      escaped = true;
      const unsigned char *escape = ++p;
      char c;
      switch (p < end ? *p : 0)
        {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
          if (!unicode_escape (ps, &p, &used))
            return false;
          run = ++p;
          continue;
        default: return fail_at (ps, escape, "invalid escape"), false;
        }
      if (!append (ps, &used, &c, 1))
        return fail_at (ps, p, "out of memory"), false;
      run = ++p;
    }
  if (escaped)
    {
      if (!append (ps, &used, run, (size_t) (p - run)))
        return fail_at (ps, p, "out of memory"), false;
      *out = ps->buf;
      *len = used;
    }
  else
    {
      *out = (const char *) ps->p + 1;
      *len = (size_t) (p - ps->p - 1);
    }
  ps->p = p + 1;
  return true;
}

static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void
make_c_numeric (void)
{
  c_numeric = newlocale (LC_NUMERIC_MASK, "C", (locale_t) 0);
}

/* The number at s..end (already checked against the grammar; `real` when it has a fraction or
 * an exponent) as strtod gives it: exactly, when the decimal significand has at most 19 digits
 * below 2^53 and the power of ten is at most 22 (both exact doubles, so one correctly rounded
 * multiplication or division is the correctly rounded result, as glibc's strtod's is);
 * through strtod_l in the C locale otherwise, so the window's locale cannot change a '.'. */
static bool
read_real (Parser *ps, const unsigned char *s, const unsigned char *end, double *out)
{
  static const double powers[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
  const unsigned char *p = s;
  bool negative = *p == '-';
  p += negative;
  uint64_t significand = 0;
  int digits = 0, scale = 0;
  for (bool fraction = false; p < end && (*p == '.' || (*p >= '0' && *p <= '9')); p++)
    if (*p == '.')
      fraction = true;
    else
      {
        if (significand || *p != '0')
          {
            if (++digits > 19)
              break;
            significand = significand * 10 + (uint64_t) (*p - '0');
          }
        scale -= fraction;
      }
  if (digits <= 19 && p < end && (*p == 'e' || *p == 'E'))
    {
      p++;
      bool minus = *p == '-';
      p += *p == '-' || *p == '+';
      long exponent = 0;
      for (; p < end && *p >= '0' && *p <= '9'; p++)
        if (exponent < 100000)
          exponent = exponent * 10 + (*p - '0');
      scale += (int) (minus ? -exponent : exponent);
    }
  if (digits <= 19 && significand <= (UINT64_C (1) << 53) && scale >= -22 && scale <= 22)
    {
      double v = (double) significand;
      v = scale >= 0 ? v * powers[scale] : v / powers[-scale];
      *out = negative ? -v : v;
      return true;
    }
  char small[64], *text = small;
  size_t n = (size_t) (end - s);
  if (n >= sizeof small && !(text = malloc (n + 1)))
    return fail_at (ps, s, "out of memory"), false;
  memcpy (text, s, n);
  text[n] = 0;
  pthread_once (&c_numeric_once, make_c_numeric);
  errno = 0;
  double v = c_numeric ? strtod_l (text, NULL, c_numeric) : strtod (text, NULL);
  bool overflow = errno == ERANGE && isinf (v); /* underflow is not an error, as in jansson */
  if (text != small)
    free (text);
  if (overflow)
    return fail_at (ps, s, "real number overflow"), false;
  *out = v;
  return true;
}

static bool
is_digit (const unsigned char *p, const unsigned char *end)
{
  return p < end && *p >= '0' && *p <= '9';
}

static json_t *
parse_number (Parser *ps)
{
  const unsigned char *s = ps->p, *p = s, *end = ps->end;
  bool negative = *p == '-';
  p += negative;
  const unsigned char *integer = p;
  if (!is_digit (p, end))
    return fail_at (ps, s, "invalid number"), NULL;
  if (*p == '0' && is_digit (p + 1, end))
    return fail_at (ps, s, "invalid number (leading zero)"), NULL;
  while (is_digit (p, end))
    p++;
  bool real = false;
  if (p < end && *p == '.')
    {
      if (!is_digit (++p, end))
        return fail_at (ps, s, "invalid number (no digit after '.')"), NULL;
      while (is_digit (p, end))
        p++;
      real = true;
    }
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (!is_digit (p, end))
        return fail_at (ps, s, "invalid number (no digit in the exponent)"), NULL;
      while (is_digit (p, end))
        p++;
      real = true;
    }
  ps->p = p;
  json_t *v;
  if (real)
    {
      double d;
      if (!read_real (ps, s, p, &d))
        return NULL;
      v = json_real (d);
    }
  else
    {
      /* json_int_t is long long here; the range is strtoll's, as jansson's. */
      uint64_t limit = negative ? (uint64_t) LLONG_MAX + 1 : (uint64_t) LLONG_MAX, value = 0;
      for (const unsigned char *d = integer; d < p; d++)
        {
          unsigned digit = *d - '0';
          if (value > (limit - digit) / 10)
            return fail_at (ps, s, negative ? "too big negative integer" : "too big integer"), NULL;
          value = value * 10 + digit;
        }
      v = json_integer (negative ? (json_int_t) (0 - value) : (json_int_t) value);
    }
  if (!v)
    fail_at (ps, s, "out of memory");
  return v;
}

/* A number, the same json_t as an earlier one with the same text. The text is looked up before
 * it is parsed: the run of bytes a number can contain. When that run is an earlier number's
 * whole text, parsing it again would read exactly the same bytes and stop at the same place. */
static json_t *
number (Parser *ps)
{
  const unsigned char *s = ps->p, *p = s;
  while (p < ps->end && p - s <= INTERN_MAX_LEN
         && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' || *p == 'e'
             || *p == 'E'))
    p++;
  size_t len = (size_t) (p - s);
  uint64_t hash = text_hash (false, (const char *) s, len);
  json_t *v = len <= INTERN_MAX_LEN ? recall (ps, hash, (const char *) s, len) : NULL;
  if (v)
    {
      ps->p = p;
      return v;
    }
  v = parse_number (ps);
  if (v && len <= INTERN_MAX_LEN && ps->p == p)
    remember (ps, hash, (const char *) s, len, v);
  return v;
}

static json_t *parse_value (Parser *ps);

/* After an array item or an object member: a ',' (1: another one follows) or `close` (0: the
 * container ends); -1 with the error set on anything else. */
static int
next_member (Parser *ps, unsigned char close, const char *expected)
{
  skip_whitespace (ps);
  if (ps->p < ps->end && *ps->p == ',')
    {
      ps->p++;
      skip_whitespace (ps);
      return 1;
    }
  if (ps->p < ps->end && *ps->p == close)
    {
      ps->p++;
      return 0;
    }
  fail_at (ps, ps->p, "%s", expected);
  return -1;
}

static json_t *
parse_array (Parser *ps)
{
  json_t *array = json_array ();
  if (!array)
    return fail_at (ps, ps->p, "out of memory"), NULL;
  ps->p++;
  skip_whitespace (ps);
  if (ps->p < ps->end && *ps->p == ']')
    {
      ps->p++;
      return array;
    }
  for (;;)
    {
      json_t *item = parse_value (ps);
      if (!item || json_array_append_new (array, item))
        break;
      int more = next_member (ps, ']', "',' or ']' expected");
      if (more > 0)
        continue;
      if (more == 0)
        return array;
      break;
    }
  fail_at (ps, ps->p, "out of memory"); /* only when nothing failed before */
  json_decref (array);
  return NULL;
}

static json_t *
parse_object (Parser *ps)
{
  json_t *object = json_object ();
  if (!object)
    return fail_at (ps, ps->p, "out of memory"), NULL;
  ps->p++;
  skip_whitespace (ps);
  if (ps->p < ps->end && *ps->p == '}')
    {
      ps->p++;
      return object;
    }
  for (;;)
    {
      if (ps->p == ps->end || *ps->p != '"')
        {
          fail_at (ps, ps->p, "string or '}' expected");
          break;
        }
      const unsigned char *key_at = ps->p;
      const char *key;
      size_t key_len;
      if (!scan_string (ps, &key, &key_len))
        break;
      if (memchr (key, 0, key_len))
        {
          fail_at (ps, key_at, "NUL byte in object key"); /* jansson refuses these too */
          break;
        }
      /* A decoded key lives in ps->buf, which the value's strings reuse: keep a copy. */
      char *own_key = NULL;
      if (key == ps->buf && !(key = own_key = malloc (key_len ? key_len : 1)))
        {
          fail_at (ps, key_at, "out of memory");
          break;
        }
      if (own_key)
        memcpy (own_key, ps->buf, key_len);
      skip_whitespace (ps);
      json_t *value = NULL;
      if (ps->p == ps->end || *ps->p != ':')
        fail_at (ps, ps->p, "':' expected");
      else
        {
          ps->p++;
          skip_whitespace (ps);
          value = parse_value (ps);
        }
      /* A repeated key replaces the value in the first one's place (jansson's hashtable). */
      int set = value ? json_object_setn_new_nocheck (object, key, key_len, value) : -1;
      free (own_key);
      if (set)
        break;
      int more = next_member (ps, '}', "',' or '}' expected");
      if (more > 0)
        continue;
      if (more == 0)
        return object;
      break;
    }
  fail_at (ps, ps->p, "out of memory");
  json_decref (object);
  return NULL;
}

static bool
literal (Parser *ps, const char *word, size_t n)
{
  if ((size_t) (ps->end - ps->p) < n || memcmp (ps->p, word, n))
    return fail_at (ps, ps->p, "invalid token"), false;
  ps->p += n;
  return true;
}

/* Every value counts towards the depth, scalars too, as in jansson: 2048 nested arrays may hold
 * only empty arrays. */
static json_t *
parse_value (Parser *ps)
{
  if (++ps->depth > JSON_PARSER_MAX_DEPTH)
    return fail_at (ps, ps->p, "nested deeper than %d", JSON_PARSER_MAX_DEPTH), NULL;
  if (ps->p == ps->end)
    return fail_at (ps, ps->p, "unexpected end of input"), NULL;
  json_t *v = NULL;
  switch (*ps->p)
    {
    case '{': v = parse_object (ps); break;
    case '[': v = parse_array (ps); break;
    case '"':
      {
        const char *text;
        size_t len;
        if (!scan_string (ps, &text, &len))
          break;
        uint64_t hash = len <= INTERN_MAX_LEN ? text_hash (true, text, len) : 0;
        if (len <= INTERN_MAX_LEN && (v = recall (ps, hash, text, len)))
          break;
        if (!(v = json_stringn_nocheck (text, len)))
          fail_at (ps, ps->p, "out of memory");
        else if (len <= INTERN_MAX_LEN)
          remember (ps, hash, json_string_value (v), len, v);
        break;
      }
    case 't': v = literal (ps, "true", 4) ? json_true () : NULL; break;
    case 'f': v = literal (ps, "false", 5) ? json_false () : NULL; break;
    case 'n': v = literal (ps, "null", 4) ? json_null () : NULL; break;
    case '-':
    case '0' ... '9': v = number (ps); break;
    default: fail_at (ps, ps->p, "invalid token"); break;
    }
  /* jansson quirk kept: it reads the byte after a number or a literal and puts it back, and a
   * NUL byte put back is lost, so one NUL right after one is skipped ("[1\0]" is [1]). */
  if (v && !json_is_string (v) && !json_is_object (v) && !json_is_array (v) && ps->p < ps->end
      && *ps->p == 0)
    ps->p++;
  ps->depth--;
  return v;
}

json_t *
osh_json_parse (const char *text, size_t size, OshJsonError *e)
{
  const unsigned char *start = (const unsigned char *) text;
  Parser ps = { .start = start, .p = start, .end = start + size, .e = e };
  skip_whitespace (&ps);
  json_t *v = parse_value (&ps);
  skip_whitespace (&ps);
  if (v && ps.p != ps.end)
    {
      fail_at (&ps, ps.p, "end of file expected");
      json_decref (v);
      v = NULL;
    }
  free (ps.buf);
  forget_all (&ps);
  if (!v && e)
    {
      /* Lines and columns are counted only now, on the error path. */
      e->line = 1;
      size_t line_start = 0;
      for (size_t i = 0; i < e->position; i++)
        if (start[i] == '\n')
          e->line++, line_start = i + 1;
      e->column = (int) (e->position - line_start) + 1;
    }
  return v;
}
