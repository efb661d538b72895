/* One libFuzzer harness per reader; OSH_FUZZ_TARGET names it at compile time. */
#include <stdint.h>
#include <stdlib.h>

#include "osh-fuzz-targets.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const OshFuzzTarget *target;
  if (!target && !(target = osh_fuzz_target_find (OSH_FUZZ_TARGET)))
    abort ();
  OshError err = { 0 };
  target->feed (data, size, &err);
  return 0;
}
