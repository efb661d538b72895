/* osh-fit-cache.h — `offshoot fit`'s features and targets: every picture (and its augmented
 * copies) runs once through the frozen part, which keeps the cut's outputs, and each trained
 * output gets its target from the picture's class and mask. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-fit-data.h"
#include "osh-graph.h"
#include "osh-train.h"

typedef struct
{
  bool flip;     /* a left-right mirror with probability ½ */
  double shift;  /* a shift of up to this fraction of the size each way (edges reflected) */
  int copies;    /* augmented copies per picture beside the original; 0: none */
  uint64_t seed; /* the copies are the same for the same seed */
} OshFitAugment;

typedef struct
{
  int64_t n;    /* pictures */
  int variants; /* 1 + augmented copies; variant 0 is the picture itself */
  int nf, no;
  float **features; /* per feature: (n × variants) × its numel, example i's variant v at
                       row i·variants + v */
  float **targets;  /* per trained output, the same rows */
} OshFitCache;

/* Called after each picture (all its variants) with the pictures done and their total;
 * returning false stops the fill (OSH_ERR_CANCELLED). */
typedef bool (*OshFitCacheProgress) (int64_t done, int64_t total, void *user);

/* Fills `cache`; an error names the picture or mask and the output (`names`, one per trained
 * output). `progress` may be NULL. */
bool osh_fit_cache_fill (const OshGraph *g, OshTrainer *t, const char *const *names,
                         const OshFitData *data, const OshFitAugment *aug, int threads,
                         OshFitCacheProgress progress, void *user, OshFitCache *cache,
                         OshError *err);
void osh_fit_cache_clear (OshFitCache *cache);
