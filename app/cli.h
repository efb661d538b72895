/* cli.h — the `offshoot` subcommands (DESIGN.md, command-line contract).
 *
 * Each subcommand lives in its own cmd-NAME.c as `int osh_cmd_NAME (int argc, char **argv)`
 * with argv[0] = "NAME". Exit codes: 0 success, 1 the model is disconnected or a run
 * failed on the model's content, 2 bad usage or unreadable input. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "osh-fit-data.h"
#include "osh-graph.h"

enum
{
  OSH_EXIT_OK = 0,
  OSH_EXIT_MODEL = 1,
  OSH_EXIT_USAGE = 2,
};

typedef struct
{
  const char *name;
  const char *synopsis; /* the arguments, after the name */
  const char *summary;  /* one line */
  const char *details;  /* options, one per line; may be NULL */
  int (*run) (int argc, char **argv);
} OshCommand;

const OshCommand *osh_cli_find (const char *name);

/* Runs argv[1] as a subcommand (argv[0] is the program). */
int osh_cli_main (int argc, char **argv);

void osh_cli_print_help (FILE *out);
void osh_cli_print_command_help (const OshCommand *cmd, FILE *out);

/* Gives the free memory malloc holds back to the system (glibc's malloc_trim), once a plan is
 * built: loading and planning free many small pieces (HDF5's metadata, the weights the plan
 * copied) whose pages would otherwise stay resident through the run's peak. */
void osh_cli_return_free_memory (void);

/* Opens MODEL: a path, or "@default" for the embedded default model. */
OshGraph *osh_cli_load_model (const char *spec, OshError *err); /* = osh_load_model_spec */
/* The graph without weight values (osh_model_load_graph), for commands that only draw or
 * summarise; osh_model_load_weights reads the values. */
OshGraph *osh_cli_load_graph (const char *spec, OshError *err);

/* Every command takes --json: one JSON document on stdout, the result or, when the command
 * fails, {"error": {"command", "kind", "message"}, "exit": CODE}. Errors also go to stderr as
 * text. True when the command line holds --json. */
bool osh_cli_json_mode (void);
/* Prints `doc` (and takes it: decref'd) as the command's document on stdout. */
void osh_cli_print_json (json_t *doc);

/* Prints "offshoot CMD: message" on stderr (and the JSON error) and returns the exit code for
 * the error. */
int osh_cli_report (const char *cmd, const OshError *err);
/* The same with a chosen exit code. */
int osh_cli_report_code (const char *cmd, const OshError *err, int code);

/* Prints a usage complaint and returns OSH_EXIT_USAGE. */
int osh_cli_usage_error (const char *cmd, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* The one wording for a bad option value in every command: "--threads takes an integer from 1
 * to 256, not '0'". Returns OSH_EXIT_USAGE. */
int osh_cli_bad_value (const char *cmd, const char *option, const char *value, const char *wanted);

/* Reads "1,3,640,640" (up to `max` positive sizes) into v; returns how many, or 0 when the text
 * is not such a list. */
/* A data folder for fit and probe (osh-fit-data.h), the files it skipped said on stderr. */
bool osh_cli_read_data (const char *dir, OshFitData *data, OshError *err);

int osh_cli_parse_sizes (const char *text, int64_t *v, int max);

/* When argv[*i] is --input-shape D,D,... (or --input-shape=D,D,...), adds that shape to
 * shapes[*n] (at most `max`) and steps *i past its value: returns 1, or OSH_EXIT_USAGE after a
 * usage message when the value is bad. Returns 0 for any other argument. */
int osh_cli_input_shape_option (int argc, char **argv, int *i, OshShape *shapes, int *n, int max);

/* An --input-shape value for the first input of `g` (its open sizes filled in: "1,640,640,3"
 * for (None, None, None, 3)), for messages. */
void osh_cli_example_shape (const OshGraph *g, char *buf, size_t size);

int osh_cmd_inspect (int argc, char **argv);
int osh_cmd_check (int argc, char **argv);
int osh_cmd_run (int argc, char **argv);
int osh_cmd_attach (int argc, char **argv);
int osh_cmd_export (int argc, char **argv);
int osh_cmd_render (int argc, char **argv);
int osh_cmd_bench (int argc, char **argv);
int osh_cmd_zoo (int argc, char **argv);
int osh_cmd_samples (int argc, char **argv);
int osh_cmd_fit (int argc, char **argv);
int osh_cmd_probe (int argc, char **argv);
