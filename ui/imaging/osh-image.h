/* osh-image.h — decoding PNG/JPEG and turning a picture into a model input tensor.
 *
 *   OshError err = { 0 };
 *   OshImage *img = osh_image_load ("face.jpg", &err);        // 8-bit RGB
 *   OshPreprocess pp;
 *   osh_preprocess_propose (g, &pp);      // size, channels, value range from the model
 *   pp.scale = 2.0f / 255.0f; pp.offset = -1.0f;              // or edit it (CLI flags, the UI)
 *   OshTensor *x = osh_image_to_tensor (img, &pp, &err);      // (1, H, W, C) or (1, C, H, W)
 *   osh_image_free (img);
 *
 * The steps, in order, for every pixel value v in 0..255 of the resized picture:
 *   1. resize the whole picture to height × width (stretched, no crop): bilinear with
 *      half-pixel centres; when shrinking, the triangle filter is widened by the shrink factor
 *      (antialiasing, as PIL does) so a 1000-pixel photo does not alias down to 64 pixels.
 *      OSH_RESIZE_BILINEAR_TF skips that widening and equals tf.image.resize (bilinear,
 *      antialias false); both equal it when enlarging;
 *   2. channels 1: luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as PIL and OpenCV);
 *      channels 3: R, G, B, or B, G, R with OSH_ORDER_BGR (Caffe-style models);
 *   3. x = v * scale + offset;
 *   4. x = (x - mean[c]) / std[c] (mean 0 and std 1 leave x alone).
 *
 * Proposed defaults (osh_preprocess_propose): height, width and channels from the model's
 * input shape; values 0..1 (scale 1/255) — unless the model's first layers include a
 * Rescaling or Normalization layer (EfficientNet, models exported with preprocessing
 * inside), which expects raw 0..255 pixels (scale 1). A model whose input leaves height and
 * width open (text detectors, segmenters, ONNX symbolic sizes) gets height and width 0: the
 * picture's own size, each side to the nearest multiple of OSH_IMAGE_OPEN_STEP.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "osh-graph.h"
#include "osh-tensor.h"

typedef struct
{
  int width, height;
  uint8_t *rgb; /* width * height * 3 bytes, rows top to bottom, owned */
} OshImage;

typedef enum
{
  OSH_RESIZE_BILINEAR = 0, /* stretch to the target size, antialiased when shrinking */
  OSH_RESIZE_BILINEAR_TF,  /* the same without antialiasing, like tf.image.resize */
} OshResizeMode;

typedef enum
{
  OSH_ORDER_RGB = 0,
  OSH_ORDER_BGR,
} OshChannelOrder;

#define OSH_IMAGE_OPEN_STEP 32

typedef struct
{
  int height, width; /* target size; 0: the picture's own, to a multiple of OSH_IMAGE_OPEN_STEP */
  int channels;      /* 1 (grayscale) or 3 */
  OshResizeMode resize;
  float scale, offset;   /* x = v * scale + offset, v in 0..255 */
  float mean[3], std[3]; /* then (x - mean) / std per channel */
  OshChannelOrder order;
  OshLayout layout;      /* NHWC or NCHW tensor */
  bool model_normalizes; /* set by propose: a Rescaling/Normalization layer was found */
} OshPreprocess;

/* Decodes a PNG, JPEG, GIF, BMP or TIFF picture (recognised by its first bytes, whatever its
 * name; other formats gdk-pixbuf knows are refused), turned upright by its EXIF orientation;
 * alpha is dropped. Sizes are checked from the header before pixels are allocated. */
OshImage *osh_image_load (const char *path, OshError *err);
/* The same from memory; `name` is used in messages. */
OshImage *osh_image_load_bytes (const char *name, const void *data, size_t size, OshError *err);
/* A copy of raw 8-bit RGB pixels (width * height * 3 bytes). */
OshImage *osh_image_new_rgb (int width, int height, const uint8_t *rgb, OshError *err);
void osh_image_free (OshImage *img);

/* Size 224×224, 3 channels, scale 1/255, mean 0, std 1, RGB, NHWC. */
void osh_preprocess_init (OshPreprocess *pp);

/* Fills `pp` from the model's first input (see above). Returns false, leaving the
 * defaults of osh_preprocess_init, when that input is not an image (rank 4, 1 or 3 channels). */
bool osh_preprocess_propose (const OshGraph *g, OshPreprocess *pp);

/* "64x64x1, values v*0.00392157+0 (0..1), mean 0 std 1, RGB, NHWC" for messages and the UI. */
void osh_preprocess_describe (const OshPreprocess *pp, char *buf, size_t size);

/* The model input: batch 1, float32. NULL with err set on a bad size or channel count. */
OshTensor *osh_image_to_tensor (const OshImage *img, const OshPreprocess *pp, OshError *err);

/* Bilinear sampling with half-pixel centres (tf.image.resize, align_corners false): output
 * index i of dst samples src positions i0 and i1 with weight 1 - frac and frac. */
void osh_resize_axis (int src, int dst, int i, int *i0, int *i1, float *frac);
