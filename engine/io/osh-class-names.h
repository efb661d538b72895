/* osh-class-names.h — the names of a model's classes, one rule for the CLI and the window.
 *
 * Where they come from, first found wins: names the user gives (`run --labels FILE`, the window's
 * entry); the model's own (g->meta OSH_META_CLASS_NAMES: a Keras config key, ONNX metadata_props,
 * which the writers save); a labels.txt beside the model file (one name a line, read when the
 * model is loaded from a path); and for an output of 1000 classes, the ImageNet-1k names (as
 * keras.applications' decode_predictions does). Names whose count is not the output's class count
 * are never used to label it: the caller shows the warning osh_class_names_for_output gives.
 *
 *   int n = 0;
 *   char **names = osh_class_names_parse ("cat\ndog\n", false, &n);   // n == 2
 *   osh_class_names_set (g, (const char *const *) names, n);          // saved on export
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"

/* One name a line, trimmed; trailing empty lines dropped (a final newline names no class).
 * With `skip_comments`, leading lines starting with '#' are a header (resources/'s data file).
 * A NULL-terminated array to free with osh_class_names_free; NULL on no memory. */
char **osh_class_names_parse (const char *text, bool skip_comments, int *n);
/* The same from a file; NULL and `err` set when it cannot be read. */
char **osh_class_names_read (const char *path, int *n, OshError *err);
void osh_class_names_free (char **names);

/* The model's names (g->meta), a NULL-terminated array to free, or NULL when it has none. */
char **osh_class_names_get (const OshGraph *g, int *n);
/* Replaces the model's names (n == 0 removes them). */
void osh_class_names_set (OshGraph *g, const char *const *names, int n);

/* When `g` has no names of its own, takes those of a labels.txt in the folder of `model_path`
 * (osh_model_load does). A labels.txt that cannot be read is ignored: it is a convenience. */
void osh_class_names_take_beside (OshGraph *g, const char *model_path);

/* The names to label an output of `n_classes` classes: `names` (n of them) when they fit;
 * when there are none (n == 0) and n_classes is 1000, `imagenet` (n_imagenet of them, NULL when
 * the caller has none); else NULL. When names exist but do not fit, *warning is set (free it):
 * "4 class names for 1000 classes: the names are not used". */
const char *const *osh_class_names_for_output (const char *const *names, int n, int64_t n_classes,
                                               const char *const *imagenet, int n_imagenet,
                                               char **warning);
