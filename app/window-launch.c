/* window-launch.c — starting the window program beside `offshoot`. */
#include "window-launch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define WINDOW_PROGRAM "offshoot-window"

/* `dir`/offshoot-window into `out` when `file` (a path of this program) names a folder. */
static bool
beside (const char *file, char *out, size_t size)
{
  const char *slash = strrchr (file, '/');
  return slash
         && snprintf (out, size, "%.*s/%s", (int) (slash - file), file, WINDOW_PROGRAM)
                < (int) size;
}

int
osh_window_exec (char **argv)
{
  /* The program's own file first; argv[0] too, since under a tool (valgrind) /proc/self/exe
   * names the tool. */
  char self[4096];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  const char *places[] = { self, argv[0] };
  char path[sizeof self + 64];
  for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
    if (places[i] && beside (places[i], path, sizeof path) && access (path, X_OK) == 0)
      {
        execv (path, argv);
        fprintf (stderr, "offshoot: cannot start the window program %s: %s\n", path,
                 strerror (errno));
        return OSH_EXIT_USAGE;
      }
  fprintf (stderr,
           "offshoot: the window program '%s' is not installed beside %s; the command-line "
           "tools work without it (offshoot --help)\n",
           WINDOW_PROGRAM, self[0] ? self : argv[0]);
  return OSH_EXIT_USAGE;
}
