/* libFuzzer harness for osh_json_parse (engine/core/osh-json.h), differential: jansson's
 * json_loadb with the flags the engine used before is the reference, and any disagreement
 * (one accepts, the other rejects; or different trees, key order or doubles) aborts, so the
 * fuzzer saves the input. tests/readers/test-json.c replays tests/fuzz/regressions/json/. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osh-json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  json_t *want = json_loadb ((const char *) data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  OshJsonError e;
  json_t *got = osh_json_parse ((const char *) data, size, &e);
  if (!want != !got)
    abort ();
  if (want)
    {
      const size_t flags = JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_ENCODE_ANY;
      char *a = json_dumps (want, flags), *b = json_dumps (got, flags);
      if (!json_equal (want, got) || !a || !b || strcmp (a, b) != 0)
        abort ();
      free (a);
      free (b);
    }
  else if (e.line < 1 || e.column < 1 || e.position > size)
    abort ();
  json_decref (want);
  json_decref (got);
  return 0;
}
