/* osh-fit-data.h — a training data folder for `fit` and `probe`: a folder per class (Keras's
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
} OshFitExample;

typedef struct
{
  GPtrArray *examples; /* OshFitExample* */
  GPtrArray *classes;  /* class folder names */
  /* What was left out, for the caller to show ("a.png, b.png"); NULL when nothing. Pictures
   * without a mask are listed only when others have one. */
  char *skipped_pictures; /* pictures without a mask (picture-and-mask layout) */
  char *skipped_masks;    /* masks without their picture */
} OshFitData;

bool osh_fit_data_read (const char *dir, OshFitData *data, OshError *err);
void osh_fit_data_clear (OshFitData *data);
/* Pictures in class c (c < classes->len), and pictures with a mask, in `data`. */
int osh_fit_data_count_class (const OshFitData *data, int c);
int osh_fit_data_count_masks (const OshFitData *data);
