/* offshoot: the CLI with a command; with none, the window (a program of its own, started from
 * here: window-launch.h). */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "osh-exec.h"
#include "osh-hdf5-guard.h"
#include "osh-isa.h"
#include "window-launch.h"

/* Starts again with the OpenBLAS kernels this CPU can run when OpenBLAS did not recognise it
 * (osh_exec_blas_core_hint); if that fails, carries on with the slow ones. Not under valgrind:
 * its CPU is a model of its own, and the new program would run outside it. */
static void
pick_blas_core (int argc, char **argv)
{
  /* Reading and drawing a graph, or printing help, never calls OpenBLAS, so never loads it:
   * asking its core name would, and starting the program again would double their start-up. */
  static const char *const no_blas[] = { "inspect", "render", "--version", "--help", "-h", "help" };
  for (size_t i = 0; argc > 1 && i < sizeof no_blas / sizeof no_blas[0]; i++)
    if (strcmp (argv[1], no_blas[i]) == 0)
      return;
  const char *core = osh_exec_blas_core_hint ();
  /* That loaded OpenBLAS (osh-blas-lazy.h), which starts helper threads that spin on the other
   * cores for a while; runs ask for them again when they want several threads (osh-exec.h). */
  osh_exec_blas_quiet ();
  const char *preload = getenv ("LD_PRELOAD");
  if (!core || (preload && strstr (preload, "vgpreload")))
    return;
  /* The program's file: under a loader or tool, /proc/self/exe may name something else. */
  char self[4096];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0 || setenv ("OPENBLAS_CORETYPE", core, 1) != 0)
    return;
  self[n] = '\0';
  execv (self, argv);
  unsetenv ("OPENBLAS_CORETYPE");
}

int
main (int argc, char **argv)
{
  /* Untrusted HDF5 is read first by a child (osh-hdf5-guard.h): normally the small helper
   * beside this program; without it, a copy of this program, which then serves that request
   * and nothing else. */
  int guard_status = osh_hdf5_guard_child_main (argc, argv);
  if (guard_status >= 0)
    return guard_status;
  pick_blas_core (argc, argv);
  /* A forced kernel path the CPU lacks would be ignored silently: say so and stop instead. */
  OshError isa_err = { 0 };
  if (!osh_isa_check_env (&isa_err))
    {
      fprintf (stderr, "offshoot: %s\n", isa_err.message);
      return OSH_EXIT_USAGE;
    }
  osh_hdf5_guard_enable_beside ("offshoot-hdf5-guard");
  if (argc > 1
      && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
          || strcmp (argv[1], "help") == 0))
    {
      const OshCommand *cmd = argc > 2 ? osh_cli_find (argv[2]) : NULL;
      if (cmd)
        osh_cli_print_command_help (cmd, stdout);
      else
        osh_cli_print_help (stdout);
      return OSH_EXIT_OK;
    }
  if (argc > 1 && strcmp (argv[1], "--version") == 0)
    {
      printf ("offshoot %s\n", OFFSHOOT_VERSION);
      return OSH_EXIT_OK;
    }
  if (argc > 1 && osh_cli_find (argv[1]))
    return osh_cli_main (argc, argv);
  if (argc > 1 && argv[1][0] == '-' && strcmp (argv[1], "--") != 0)
    {
      fprintf (stderr, "offshoot: unknown option '%s'\n\n", argv[1]);
      osh_cli_print_help (stderr);
      return OSH_EXIT_USAGE;
    }

  if (argc > 1 && !g_file_test (argv[argc - 1], G_FILE_TEST_EXISTS)
      && strcmp (argv[argc - 1], "@default") != 0)
    {
      fprintf (stderr, "offshoot: '%s' is not a command or a model file.\n\n", argv[argc - 1]);
      osh_cli_print_help (stderr);
      return OSH_EXIT_USAGE;
    }

  return osh_window_exec (argv);
}
