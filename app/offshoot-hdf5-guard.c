/* offshoot-hdf5-guard: the HDF5 guard's child (osh-hdf5-guard.h), installed beside `offshoot`.
 * It holds the readers and HDF5 only, not the window's libraries, so starting it for each
 * .h5 or .keras file opened costs a few milliseconds instead of a GTK program's start. */
#include "osh-hdf5-guard.h"

int
main (int argc, char **argv)
{
  int status = osh_hdf5_guard_child_main (argc, argv);
  return status >= 0 ? status : 2; /* started by hand: nothing to serve */
}
