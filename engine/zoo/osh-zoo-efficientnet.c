/* osh-zoo-efficientnet.c — keras.applications EfficientNetB0–B7 (Keras 2 layout, untrained:
 * no extra Rescaling after Normalization, which Keras adds only for ImageNet weights). */
#include <math.h>
#include <stdio.h>

#include "osh-zoo-build.h"
#include "osh-zoo-models.h"

typedef struct
{
  int kernel, repeats, filters_in, filters_out, expand, stride;
} BlockArgs;

/* The seven stages of B0; every variant scales them. se_ratio is 0.25 everywhere. */
static const BlockArgs BLOCKS[7] = {
  { 3, 1, 32, 16, 1, 1 },   { 3, 2, 16, 24, 6, 2 },  { 5, 2, 24, 40, 6, 2 },
  { 3, 3, 40, 80, 6, 2 },   { 5, 3, 80, 112, 6, 1 }, { 5, 4, 112, 192, 6, 2 },
  { 3, 1, 192, 320, 6, 1 },
};

static const struct
{
  double width, depth, dropout;
  int size;
} VARIANTS[8] = {
  { 1.0, 1.0, 0.2, 224 }, { 1.0, 1.1, 0.2, 240 }, { 1.1, 1.2, 0.3, 260 }, { 1.2, 1.4, 0.3, 300 },
  { 1.4, 1.8, 0.4, 380 }, { 1.6, 2.2, 0.4, 456 }, { 1.8, 2.6, 0.5, 528 }, { 2.0, 3.1, 0.5, 600 },
};

static int
round_filters (int filters, double width)
{
  return (int) osh_zoo_make_divisible (filters * width, 8);
}

static int
round_repeats (int repeats, double depth)
{
  return (int) ceil (depth * repeats);
}

static OshZt
block (OshZooBuilder *b, OshZt inputs, const char *prefix, double drop_rate, int filters_in,
       int filters_out, int kernel, int stride, int expand)
{
  char name[64];
#define N(suffix) (snprintf (name, sizeof name, "%s%s", prefix, suffix), name)
  int filters = filters_in * expand;
  OshZt x = inputs;
  if (expand != 1)
    {
      x = osh_zoo_conv (b, x, N ("expand_conv"), filters, 1, 1, "same", false, "linear");
      x = osh_zoo_bn (b, x, N ("expand_bn"), 3, 1e-3, 0.99);
      x = osh_zoo_activation (b, x, N ("expand_activation"), "swish");
    }
  const char *pad = "same";
  if (stride == 2)
    {
      x = osh_zoo_correct_pad (b, x, N ("dwconv_pad"), kernel);
      pad = "valid";
    }
  x = osh_zoo_dwconv (b, x, N ("dwconv"), kernel, stride, pad, false);
  x = osh_zoo_bn (b, x, N ("bn"), 3, 1e-3, 0.99);
  x = osh_zoo_activation (b, x, N ("activation"), "swish");

  int filters_se = filters_in / 4 > 1 ? filters_in / 4 : 1;
  OshZt se = osh_zoo_global_pool (b, x, "GlobalAveragePooling2D", N ("se_squeeze"), false);
  se = osh_zoo_reshape (b, se, N ("se_reshape"), 3, (int64_t[]){ 1, 1, filters });
  se = osh_zoo_conv (b, se, N ("se_reduce"), filters_se, 1, 1, "same", true, "swish");
  se = osh_zoo_conv (b, se, N ("se_expand"), filters, 1, 1, "same", true, "sigmoid");
  x = osh_zoo_merge (b, "Multiply", N ("se_excite"), (OshZt[]){ x, se }, 2);

  x = osh_zoo_conv (b, x, N ("project_conv"), filters_out, 1, 1, "same", false, "linear");
  x = osh_zoo_bn (b, x, N ("project_bn"), 3, 1e-3, 0.99);
  if (stride == 1 && filters_in == filters_out)
    {
      if (drop_rate > 0)
        x = osh_zoo_dropout (b, x, N ("drop"), drop_rate, true);
      x = osh_zoo_merge (b, "Add", N ("add"), (OshZt[]){ x, inputs }, 2);
    }
#undef N
  return x;
}

OshGraph *
osh_zoo_efficientnet (int variant, const OshZooOptions *o, OshError *err)
{
  double width = VARIANTS[variant].width, depth = VARIANTS[variant].depth;
  OshZooBuilder b;
  osh_zoo_builder_init (&b, o->seed, err);
  b.conv_init =
      json_pack ("{s:s, s:{s:f, s:s, s:s, s:n}}", "class_name", "VarianceScaling", "config",
                 "scale", 2.0, "mode", "fan_out", "distribution", "truncated_normal", "seed");
  b.dense_init =
      json_pack ("{s:s, s:{s:f, s:s, s:s, s:n}}", "class_name", "VarianceScaling", "config",
                 "scale", 1.0 / 3.0, "mode", "fan_out", "distribution", "uniform", "seed");
  OshZt input = osh_zoo_input (&b, "input_1", o->height, o->width, o->channels);
  OshZt x = osh_zoo_rescaling (&b, input, NULL, 1.0 / 255.0, 0.0);
  x = osh_zoo_normalization (&b, x, NULL);
  x = osh_zoo_correct_pad (&b, x, "stem_conv_pad", 3);
  x = osh_zoo_conv (&b, x, "stem_conv", round_filters (32, width), 3, 2, "valid", false, "linear");
  x = osh_zoo_bn (&b, x, "stem_bn", 3, 1e-3, 0.99);
  x = osh_zoo_activation (&b, x, "stem_activation", "swish");

  int total = 0;
  for (int i = 0; i < 7; i++)
    total += round_repeats (BLOCKS[i].repeats, depth);
  int done = 0;
  for (int i = 0; i < 7; i++)
    {
      int fin = round_filters (BLOCKS[i].filters_in, width);
      int fout = round_filters (BLOCKS[i].filters_out, width);
      int stride = BLOCKS[i].stride;
      for (int j = 0; j < round_repeats (BLOCKS[i].repeats, depth); j++)
        {
          if (j > 0)
            stride = 1, fin = fout;
          char prefix[32];
          snprintf (prefix, sizeof prefix, "block%d%c_", i + 1, 'a' + j);
          x = block (&b, x, prefix, 0.2 * done / total, fin, fout, BLOCKS[i].kernel, stride,
                     BLOCKS[i].expand);
          done++;
        }
    }
  x = osh_zoo_conv (&b, x, "top_conv", round_filters (1280, width), 1, 1, "same", false, "linear");
  x = osh_zoo_bn (&b, x, "top_bn", 3, 1e-3, 0.99);
  x = osh_zoo_activation (&b, x, "top_activation", "swish");
  if (o->include_top)
    {
      x = osh_zoo_global_pool (&b, x, "GlobalAveragePooling2D", "avg_pool", false);
      x = osh_zoo_dropout (&b, x, "top_dropout", VARIANTS[variant].dropout, false);
      x = osh_zoo_dense (&b, x, "predictions", o->classes, o->classifier_activation);
    }
  char model_name[32];
  snprintf (model_name, sizeof model_name, "efficientnetb%d", variant);
  return osh_zoo_builder_finish (&b, model_name, input, x);
}

int
osh_zoo_efficientnet_size (int variant)
{
  return VARIANTS[variant].size;
}
