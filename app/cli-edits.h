/* cli-edits.h — the EDITS arguments shared by check, run, attach and render:
 * any number of `--attach LAYER=HEAD` and `--attach-mode=keras|connected`. */
#pragma once

#include "osh-graph.h"

/* Removes the EDITS arguments from argv (compacting it, updating *argc) and applies them to
 * `*g` in order. Returns false with err set on a bad spec or a failed edit. */
bool osh_cli_apply_edits (int *argc, char **argv, OshGraph **g, OshError *err);
