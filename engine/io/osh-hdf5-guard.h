/* osh-hdf5-guard.h — reading untrusted HDF5 in a child process with a deadline.
 *
 * HDF5 is not hardened against hostile files: some make it spin for minutes or crash. When
 * the guard is on, osh_model_load first reads every .h5 / .keras file in a child process
 * (the same reader, on the same bytes); only if the child finishes cleanly does the caller's
 * process read the file itself. A child that crashes, or runs past the deadline and is
 * killed, becomes an OshError, so neither the CLI nor the window can hang or die on such a
 * file. A child that reports an error passes it on as is (the file is then read only once).
 *
 * The child is a fresh program, not a fork of the caller: the window is multi-threaded and
 * after fork() only async-signal-safe calls are allowed, which HDF5 is not. So a program
 * turns the guard on by naming an executable that runs the child: `offshoot` names the small
 * helper installed beside it (app/offshoot-hdf5-guard.c: the readers and HDF5, no GTK, so a
 * child starts in a few ms), and itself when the helper is missing; tests name themselves:
 *
 *   int main (int argc, char **argv)
 *   {
 *     int status = osh_hdf5_guard_child_main (argc, argv);   // are we the child?
 *     if (status >= 0)
 *       return status;
 *     osh_hdf5_guard_enable_beside ("offshoot-hdf5-guard");  // or _enable ("/proc/self/exe")
 *     ...
 *   }
 *
 * Off by default (libraries, fuzzers). The deadline follows the work the file asks for: the
 * child announces each piece of work (a dataset, an archive entry) with its size, and may stay
 * silent 1.5 s plus 1 s per 16 MiB announced; a file that makes HDF5 spin is stopped about
 * 1.5 s after its last announcement (its start has 15 s apart). osh_hdf5_guard_set_deadline
 * or the environment variable OFFSHOOT_HDF5_DEADLINE (seconds) replaces this by one fixed
 * deadline, e.g. for tests. The bytes reach the child through a memfd it can only read (the
 * file's copy in memory, osh-file-bytes.h, or a sealed one of its own), not a copy through
 * the socket. Costs: for a .keras or .h5 whose weights are all contiguous float32 (every file
 * Keras writes), the child sends back where each lies (and a .h5's model_config) and the
 * parent takes them from the bytes with no HDF5 call (osh-weights-by-offset.h); otherwise the
 * HDF5 metadata part of a load is done twice when it succeeds, contiguous weights only
 * bound-checked in the child. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "osh-error.h"
#include "osh-formats.h"
#include "osh-model.h"

/* The hidden first argument that makes a program the guard's child. */
#define OSH_HDF5_GUARD_ARG "--osh-hdf5-guard-child"

/* When argv[1] is OSH_HDF5_GUARD_ARG, serves one request and returns the exit status (0);
 * otherwise returns -1 at once. */
int osh_hdf5_guard_child_main (int argc, char **argv);

/* `exe` (copied; "/proc/self/exe" is resolved to the program's file) is run as
 * `exe --osh-hdf5-guard-child FD PARENT_PID`; NULL turns the guard off. Call before any thread
 * loads a model. */
void osh_hdf5_guard_enable (const char *exe);
/* The program `helper` in the running program's directory when it is there and executable
 * (true), otherwise the running program itself (false). */
bool osh_hdf5_guard_enable_beside (const char *helper);
bool osh_hdf5_guard_enabled (void);

/* A fixed deadline in seconds for every file; 0 restores the size-scaled default. */
void osh_hdf5_guard_set_deadline (double seconds);

/* The check osh_model_load makes for formats read through HDF5 (OSH_FORMAT_H5,
 * OSH_FORMAT_KERAS3): true when the guard is off or the child read the file without error;
 * otherwise false with the child's error, or OSH_ERR_TIMEOUT / OSH_ERR_FORMAT when the
 * child ran out of time / crashed. */
bool osh_hdf5_guard_check (const char *name, OshFormat format, const void *data, size_t size,
                           OshError *err);
/* The same for a read in `mode` (osh-formats.h): OSH_READ_GRAPH has the child read the graph
 * and weight shapes only; otherwise it reads in OSH_READ_CHECK mode. `fd`, when not -1, holds
 * the same bytes from offset 0 followed by a NUL (osh-file-bytes.h) and is mapped by the child;
 * otherwise the bytes are copied into a sealed memfd for it. */
bool osh_hdf5_guard_check_mode (const char *name, OshFormat format, OshReadMode mode,
                                const void *data, size_t size, int fd, OshError *err);
/* The same; for a read in full, `map` (when not NULL) also gets where the child found
 * each weight (osh-weights-by-offset.h), or map->incomplete set when it has no map to give
 * (the guard off, a weight not stored contiguously as float32, ...). A malformed map from the
 * child is an OSH_ERR_FORMAT error. Clear `map` afterwards in every case. */
typedef struct OshWeightMap OshWeightMap;
bool osh_hdf5_guard_check_map (const char *name, OshFormat format, OshReadMode mode,
                               const void *data, size_t size, int fd, OshWeightMap *map,
                               OshError *err);
