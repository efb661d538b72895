/* osh-strbuf.h — a growable string for building messages (internal to engine/edit).
 *
 *   OshStrbuf b = { 0 };
 *   osh_strbuf_printf (&b, "layer '%s'", name);
 *   char *text = osh_strbuf_steal (&b);   // NULL if an append ran out of memory
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct
{
  char *data;
  size_t len, cap;
  bool failed; /* an allocation failed; the text is incomplete */
} OshStrbuf;

void osh_strbuf_printf (OshStrbuf *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Returns the text (the caller frees it) and resets `b`; NULL after a failed allocation. */
char *osh_strbuf_steal (OshStrbuf *b);
void osh_strbuf_clear (OshStrbuf *b);
