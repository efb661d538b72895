/* offshoot attach — placeholder until its issue lands. */
#include "cli.h"

int
osh_cmd_attach (int argc, char **argv)
{
  (void) argc;
  return osh_cli_usage_error (argv[0], "not implemented yet");
}
