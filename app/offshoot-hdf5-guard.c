/* offshoot-hdf5-guard: the HDF5 guard's child (osh-hdf5-guard.h), installed beside `offshoot`.
 * It holds the readers and HDF5 only, not the window's libraries, so starting it for each
 * .h5 or .keras file opened costs a few milliseconds instead of a GTK program's start. */
#include "osh-exec.h"
#include "osh-hdf5-guard.h"

int
main (int argc, char **argv)
{
  /* The readers pull in OpenBLAS, whose helper threads would spin beside the parent's work. */
  osh_exec_blas_quiet ();
  int status = osh_hdf5_guard_child_main (argc, argv);
  return status >= 0 ? status : 2; /* started by hand: nothing to serve */
}
