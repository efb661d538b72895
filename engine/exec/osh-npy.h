/* osh-npy.h — NumPy .npy files (float32, C order) for inputs, saved outputs and fixtures.
 *
 *   OshTensor *x = osh_npy_read ("input.npy", &err);   // float32/float64/int arrays → float32
 *   osh_npy_write ("out/logits.npy", y, &err);          // always <f4, C order, atomic
 */
#pragma once

#include <stddef.h>

#include "osh-tensor.h"

OshTensor *osh_npy_read (const char *path, OshError *err);
OshTensor *osh_npy_read_bytes (const char *name, const void *data, size_t size, OshError *err);
bool osh_npy_write (const char *path, const OshTensor *t, OshError *err);
