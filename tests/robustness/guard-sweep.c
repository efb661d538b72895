/* guard-sweep FILE...: loads every file without and with the HDF5 guard and prints the total
 * time of each pass, to measure what the guard costs (tests/fuzz/README.md). Not a test.
 * OSH_GUARD_EXE names another guard child, e.g. the offshoot binary. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-hdf5-guard.h"
#include "osh-model.h"

static double
sweep (int n, char **files, int *loaded, int *failed)
{
  *loaded = *failed = 0;
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; i < n; i++)
    {
      OshError err = { 0 };
      OshGraph *g = osh_model_load (files[i], &err);
      if (g)
        ++*loaded;
      else
        ++*failed;
      osh_graph_free (g);
    }
  return (double) (g_get_monotonic_time () - t0) * 1e-6;
}

int
main (int argc, char **argv)
{
  int status = osh_hdf5_guard_child_main (argc, argv);
  if (status >= 0)
    return status;
  int loaded, failed;
  double plain = sweep (argc - 1, argv + 1, &loaded, &failed);
  printf ("without the guard: %d files, %d loaded, %d failed, %.2f s\n", argc - 1, loaded, failed,
          plain);
  const char *exe = getenv ("OSH_GUARD_EXE");
  osh_hdf5_guard_enable (exe ? exe : "/proc/self/exe");
  double guarded = sweep (argc - 1, argv + 1, &loaded, &failed);
  printf ("with the guard:    %d files, %d loaded, %d failed, %.2f s (%+.1f ms per file)\n",
          argc - 1, loaded, failed, guarded, (guarded - plain) * 1000 / (argc > 1 ? argc - 1 : 1));
  return 0;
}
