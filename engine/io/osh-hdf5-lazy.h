/* osh-hdf5-lazy.h — libhdf5 loaded on the first HDF5 call, not when the program starts.
 *
 * Debian's HDF5 brings ~34 shared libraries with it (its S3 driver's curl, TLS, Kerberos,
 * LDAP, ...), all bound at start-up. Most commands never touch HDF5 (ONNX, TF.js, a .keras's
 * graph from its config.json), so nothing links libhdf5: osh-hdf5-lazy.c defines every HDF5
 * function the project calls, and the first call of any of them dlopen()s the library whose
 * soname the build found (osh-hdf5-sonames.h) and resolves them all. The readers and writers
 * call HDF5 exactly as if it were linked.
 *
 * When the library cannot be loaded, every HDF5 call fails as HDF5 fails (a negative id or
 * status), and HDF5's error stack reports why (so the readers' "(HDF5: ...)" names it). Code
 * that starts HDF5 work can ask first for a proper error:
 *
 *   if (!osh_hdf5_load (err))   // "the HDF5 library libhdf5_serial.so.103 cannot be loaded: ..."
 *     return false;
 *
 * The environment variables OSH_HDF5_LIBRARY and OSH_HDF5_HL_LIBRARY replace the library
 * files (a name dlopen searches for, or a path), e.g. to test a missing library. Loading is
 * done once per process, whichever thread calls first. */
#pragma once

#include <stdbool.h>

#include "osh-error.h"

/* Loads libhdf5 and its high-level library if not done yet; false with err when either is
 * missing or lacks a function the project calls (the same answer on every call). */
bool osh_hdf5_load (OshError *err);
