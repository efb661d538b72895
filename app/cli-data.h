/* cli-data.h — a training data folder for `fit` and `probe`: a folder per class (Keras's
 * image_dataset_from_directory layout; classes by folder name, pictures by file name, both
 * sorted) or pictures with masks beside them (NAME.png and NAME-mask.png or NAME_mask.png).
 * Masks may also sit in a parallel folder DIR/masks/ under the picture's name (or its name
 * with .png): DIR/NAME.jpg → DIR/masks/NAME.png, DIR/CLASS/NAME.jpg → DIR/masks/CLASS/NAME.png,
 * and DIR/images/NAME.jpg → DIR/masks/NAME.png when DIR holds images/ and masks/. Pictures in
 * class folders keep their mask when they have one (a classifier and a map trained together). */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "osh-error.h"

typedef struct
{
  char *picture;
  char *mask; /* NULL when the picture has none (always set without classes) */
  int label;  /* class index, -1 for masks */
} OshCliExample;

typedef struct
{
  GPtrArray *examples; /* OshCliExample* */
  GPtrArray *classes;  /* class folder names */
} OshCliData;

bool osh_cli_read_data (const char *dir, OshCliData *data, OshError *err);
void osh_cli_data_clear (OshCliData *data);
