/* osh-json.h — the one JSON parser of the engine: text in, jansson values out.
 *
 *   OshJsonError e;
 *   json_t *doc = osh_json_parse (text, size, &e);
 *   if (!doc)
 *     ... e.line, e.column, e.text ("invalid UTF-8 in a string")
 *
 * It accepts exactly what jansson 2.14's json_loadb (text, size, JSON_DECODE_ANY |
 * JSON_ALLOW_NUL, &je) accepts and builds the same tree (same values, same doubles bit for bit,
 * same object key order, a repeated key keeps its first place and its last value), about four
 * times faster: strings are scanned in bulk instead of one callback call per byte.
 * tests/readers/test-json.c checks the agreement against jansson itself.
 *
 * One difference in identity, not in value: a short string or number that occurs again in the
 * document is the same json_t again, with one more reference (configs repeat "float32" and
 * layer names thousands of times; this saves half the allocations). jansson's reference counts
 * are atomic, so sharing is safe across threads, but never change a parsed scalar in place
 * (json_string_set, json_integer_set, json_real_set): put a new value in its place instead.
 *
 * Errors: line and column are 1-based; the column counts bytes (not characters, unlike
 * jansson) from the start of the line to the offending byte; an error at the end of the input
 * (a truncated document) names the last byte.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

typedef struct
{
  int line;
  int column;
  size_t position; /* byte offset of the offending byte */
  char text[96];
} OshJsonError;

/* Any JSON value (not only objects). `text` need not be NUL-terminated. NULL on error, with
 * `e` (may be NULL) filled. The caller owns the result (json_decref). */
json_t *osh_json_parse (const char *text, size_t size, OshJsonError *e);
