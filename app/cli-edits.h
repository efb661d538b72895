/* cli-edits.h — the EDITS arguments shared by check, run, attach and render:
 * any number of `--attach LAYER=HEAD` (or --attach=LAYER=HEAD) and
 * `--attach-mode=keras|connected` (the mode applies to every --attach).
 *
 *   OshCliEdits edits;
 *   if (!osh_cli_parse_edits (&argc, argv, &edits, &err)) ...   // removes them from argv
 *   if (!osh_cli_run_edits (&edits, &g, &err)) ...              // replaces g by the edited graph
 *   osh_cli_edits_clear (&edits);
 */
#pragma once

#include "osh-graph.h"
#include "osh-heads.h"

typedef struct
{
  char *layer; /* the path given */
  char *head;  /* the head text given */
  OshHeadSpec spec;
  char **names; /* spec.n_steps new layer names, after osh_cli_run_edits */
} OshCliAttach;

typedef struct
{
  OshCliAttach *items;
  int n;
  OshAttachMode mode;
} OshCliEdits;

/* Removes the EDITS arguments from argv (compacting it, updating *argc) and parses them. */
bool osh_cli_parse_edits (int *argc, char **argv, OshCliEdits *edits, OshError *err);

/* Applies the edits to `*g` in order; on success `*g` is replaced by the edited graph. */
bool osh_cli_run_edits (OshCliEdits *edits, OshGraph **g, OshError *err);

void osh_cli_edits_clear (OshCliEdits *edits);

/* Parse and apply in one go (run and render use this). */
bool osh_cli_apply_edits (int *argc, char **argv, OshGraph **g, OshError *err);
