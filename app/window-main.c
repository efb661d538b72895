/* offshoot-window: the window. Started by `offshoot` with no command (window-launch.h), which
 * has already checked the arguments and restarted with the OpenBLAS kernels this CPU can run
 * (app/main.c); the desktop file starts it through `offshoot` too. */
#include <gtk/gtk.h>
#include <stdio.h>

#include "cli.h"
#include "offshoot-application.h"
#include "osh-hdf5-guard.h"
#include "osh-isa.h"

int
main (int argc, char **argv)
{
  /* Untrusted HDF5 is read first by a child (osh-hdf5-guard.h): the small helper beside this
   * program; without it, a copy of this program, which then serves that request only. */
  int guard_status = osh_hdf5_guard_child_main (argc, argv);
  if (guard_status >= 0)
    return guard_status;
  OshError isa_err = { 0 };
  if (!osh_isa_check_env (&isa_err))
    {
      fprintf (stderr, "offshoot: %s\n", isa_err.message);
      return OSH_EXIT_USAGE;
    }
  osh_hdf5_guard_enable_beside ("offshoot-hdf5-guard");
  if (!gtk_init_check ())
    {
      fprintf (stderr, "offshoot: no display to open a window on; the command-line tools work "
                       "without one (offshoot --help)\n");
      return OSH_EXIT_USAGE;
    }
  g_autoptr (OffshootApplication) app = offshoot_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
