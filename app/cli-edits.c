/* Placeholder until head attachment lands: refuses --attach clearly. */
#include "cli-edits.h"

#include <string.h>

bool
osh_cli_apply_edits (int *argc, char **argv, OshGraph **g, OshError *err)
{
  (void) g;
  for (int i = 1; i < *argc; i++)
    if (strncmp (argv[i], "--attach", 8) == 0)
      return osh_fail (err, OSH_ERR_UNSUPPORTED, "--attach is not implemented yet");
  return true;
}
