/* osh-fuzz-targets.h — the untrusted-input entry points, one per reader. Shared by the libFuzzer
 * harnesses (tests/fuzz/fuzz-*.c, built with -Dfuzz=true and clang) and by the regression test
 * that replays every saved crash input in the ordinary test suite (tests/robustness/). */
#pragma once

#include <stddef.h>

#include "osh-error.h"

typedef struct
{
  const char *name; /* the folder of tests/fuzz/regressions/ and the harness suffix */
  /* Feeds the bytes to the reader; true when they loaded. Never crashes, by contract. */
  bool (*feed) (const unsigned char *data, size_t size, OshError *err);
} OshFuzzTarget;

extern const OshFuzzTarget osh_fuzz_targets[];
extern const int osh_fuzz_targets_count;

const OshFuzzTarget *osh_fuzz_target_find (const char *name);
