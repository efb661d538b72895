#include "osh-strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
osh_strbuf_printf (OshStrbuf *b, const char *fmt, ...)
{
  if (b->failed)
    return;
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  if (n < 0)
    {
      b->failed = true;
      return;
    }
  size_t need = b->len + (size_t) n + 1;
  if (need > b->cap)
    {
      size_t cap = b->cap ? b->cap * 2 : 128;
      while (cap < need)
        cap *= 2;
      char *p = realloc (b->data, cap);
      if (!p)
        {
          b->failed = true;
          return;
        }
      b->data = p;
      b->cap = cap;
    }
  va_start (ap, fmt);
  vsnprintf (b->data + b->len, (size_t) n + 1, fmt, ap);
  va_end (ap);
  b->len += (size_t) n;
}

char *
osh_strbuf_steal (OshStrbuf *b)
{
  char *s = b->failed ? NULL : b->data;
  if (!b->failed && !s)
    s = calloc (1, 1);
  if (b->failed)
    free (b->data);
  *b = (OshStrbuf){ 0 };
  return s;
}

void
osh_strbuf_clear (OshStrbuf *b)
{
  free (b->data);
  *b = (OshStrbuf){ 0 };
}
