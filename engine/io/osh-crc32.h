/* osh-crc32.h — the CRC-32 of zip archives and zlib, fast on large buffers.
 *
 *   uint32_t c = osh_crc32 (0, data, size);    // == zlib's crc32_z (0, data, size)
 *   c = osh_crc32 (c, more, more_size);        // continues, like zlib's */
#pragma once

#include <stddef.h>
#include <stdint.h>

uint32_t osh_crc32 (uint32_t crc, const void *data, size_t len);
