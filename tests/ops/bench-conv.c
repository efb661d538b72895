/* Convolution throughput (a benchmark, not a test: `meson test -C build --benchmark
 * bench-conv`). For each shape: GFLOPS of one Conv2D through the executor on one thread, and the
 * ratio to a 1024² cblas_sgemm measured in the same run. The target is ≥ 70 % for every
 * convolution above 50 MFLOP; whole EfficientNetB0 and ResNet50 (zoo) follow, target ≥ 50 %. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ops-test.h"
#include "osh-exec.h"
#include "osh-shapes.h"
#include "osh-zoo.h"

typedef struct
{
  const char *what;
  const char *cls;
  int h, w, cin, cout, k, stride;
} ConvShape;

static const ConvShape shapes[] = {
  { "resnet stem 7x7/2", "Conv2D", 224, 224, 3, 64, 7, 2 },
  { "resnet 3x3 56x56x64", "Conv2D", 56, 56, 64, 64, 3, 1 },
  { "resnet 1x1 56x56 64->256", "Conv2D", 56, 56, 64, 256, 1, 1 },
  { "resnet 3x3 28x28x128", "Conv2D", 28, 28, 128, 128, 3, 1 },
  { "resnet 3x3 14x14x256", "Conv2D", 14, 14, 256, 256, 3, 1 },
  { "resnet 3x3 7x7x512", "Conv2D", 7, 7, 512, 512, 3, 1 },
  { "resnet 1x1 14x14 1024->256", "Conv2D", 14, 14, 1024, 256, 1, 1 },
  { "resnet 3x3/2 56->28 128", "Conv2D", 56, 56, 128, 128, 3, 2 },
  { "effnet stem 3x3/2", "Conv2D", 224, 224, 3, 32, 3, 2 },
  { "effnet 1x1 112x112 32->16", "Conv2D", 112, 112, 32, 16, 1, 1 },
  { "effnet 1x1 56x56 24->144", "Conv2D", 56, 56, 24, 144, 1, 1 },
  { "effnet dw 3x3 112x112x96/2", "DepthwiseConv2D", 112, 112, 96, 96, 3, 2 },
  { "effnet dw 5x5 28x28x240", "DepthwiseConv2D", 28, 28, 240, 240, 5, 1 },
};

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (void)
{
  OshError err = { 0 };
  double peak = osh_exec_sgemm_gflops (1024, 5);
  printf ("# cblas_sgemm 1024^2, one thread: %.1f GFLOPS\n", peak);
  printf ("# %-28s %10s %9s %8s %7s\n", "convolution", "MFLOP", "ms", "GFLOPS", "ratio");
  int below = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    {
      const ConvShape *cs = &shapes[i];
      OshGraph *g = osh_graph_new ();
      char cfg[256];
      g_snprintf (cfg, sizeof cfg, "{\"batch_input_shape\": [null, %d, %d, %d]}", cs->h, cs->w,
                  cs->cin);
      int x = ot_add (g, -1, "in", "InputLayer", cfg, 0);
      bool dw = cs->cls[0] == 'D';
      g_snprintf (cfg, sizeof cfg,
                  "{\"filters\": %d, \"kernel_size\": %d, \"strides\": %d, \"padding\": \"same\"}",
                  cs->cout, cs->k, cs->stride);
      int c = ot_add (g, -1, "conv", cs->cls, cfg, 1, x);
      ot_weight (g, c, 4, (int64_t[]){ cs->k, cs->k, cs->cin, dw ? 1 : cs->cout });
      ot_weight (g, c, 1, (int64_t[]){ cs->cout });
      ot_io (g, -1, x, c);
      OshExecOptions opt = osh_exec_options_default ();
      OshPlan *p = osh_plan_new (g, &opt, &err);
      if (!p)
        {
          fprintf (stderr, "%s: %s\n", cs->what, err.message);
          return 1;
        }
      OshTensor *in = osh_tensor_new (osh_plan_input_shape (p, 0), &err);
      for (int64_t k = 0; k < osh_tensor_numel (in); k++)
        in->data[k] = (float) (k % 17) / 17.0f;
      double best = 1e30;
      for (int r = 0; r < 6; r++)
        {
          double t0 = now_s ();
          osh_plan_run (p, (const OshTensor *const *) &in, 1, NULL, &err);
          double t = now_s () - t0;
          if (r > 0 && t < best)
            best = t;
        }
      double gf = osh_plan_flops (p) / best / 1e9;
      bool counted = osh_plan_flops (p) > 50e6;
      below += counted && gf < 0.7 * peak;
      printf ("  %-28s %10.1f %9.3f %8.1f %6.0f%%%s\n", cs->what, osh_plan_flops (p) / 1e6,
              best * 1e3, gf, 100 * gf / peak,
              counted ? (gf >= 0.7 * peak ? "" : "  < 70%") : "  (small)");
      osh_tensor_free (in);
      osh_plan_free (p);
      osh_graph_free (g);
    }
  printf ("# convolutions above 50 MFLOP under 70%% of sgemm: %d\n", below);

  /* Whole models from the zoo (untrained keras.applications), one thread, 224×224. */
  static const char *models[] = { "EfficientNetB0", "ResNet50" };
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
    {
      OshZooOptions zo;
      osh_zoo_options_init (&zo, models[i]);
      OshGraph *g = osh_zoo_build (models[i], &zo, &err);
      OshExecOptions opt = osh_exec_options_default ();
      OshPlan *p = g ? osh_plan_new (g, &opt, &err) : NULL;
      if (!p)
        {
          fprintf (stderr, "%s: %s\n", models[i], err.message);
          osh_graph_free (g);
          return 1;
        }
      OshTensor *in = osh_tensor_new (osh_plan_input_shape (p, 0), &err);
      for (int64_t k = 0; k < osh_tensor_numel (in); k++)
        in->data[k] = (float) (k % 255);
      double best = 1e30;
      for (int r = 0; r < 4; r++)
        {
          double t0 = now_s ();
          osh_plan_run (p, (const OshTensor *const *) &in, 1, NULL, &err);
          double t = now_s () - t0;
          best = r > 0 && t < best ? t : best;
        }
      double gf = osh_plan_flops (p) / best / 1e9;
      printf ("  %-28s %10.1f %9.3f %8.1f %6.0f%%  (whole model, %.1f MB of activations)\n",
              models[i], osh_plan_flops (p) / 1e6, best * 1e3, gf, 100 * gf / peak,
              (double) osh_plan_buffer_bytes (p) / 1e6);
      osh_tensor_free (in);
      osh_plan_free (p);
      osh_graph_free (g);
    }
  return 0;
}
