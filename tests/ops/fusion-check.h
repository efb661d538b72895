/* Shared by the fusion tests (test-conv-gemm.c, test-fusion.c): a graph run fused
 * and unfused must give the same numbers with fewer steps. */
#pragma once

#include <math.h>

#include "ops-test.h"
#include "osh-exec.h"
#include "osh-shapes.h"

/* Runs `g` fused (on `threads`) and unfused (capturing every layer turns fusion off): the same
 * numbers, fewer steps, and no step of a class in `folded` left; returns the output's range in
 * lo/hi. */
static inline void
check_fused (OshGraph *g, const char *const *folded, double *lo, double *hi, int threads)
{
  OshError err = { 0 };
  g_assert_true (osh_graph_infer_shapes (g, &err));
  OshPlan *pf, *pp;
  osh_test_fused_and_plain (g, threads, &pf, &pp);
  OshTensor *in = osh_tensor_new (osh_plan_input_shape (pf, 0), &err);
  for (int64_t i = 0; i < osh_tensor_numel (in); i++)
    in->data[i] = 4.0f * ot_pattern (i, 7);
  OshTensor *of[OSH_EXEC_MAX_OUTPUTS] = { 0 }, *op[OSH_EXEC_MAX_OUTPUTS] = { 0 };
  g_assert_true (osh_plan_run (pf, (const OshTensor *const *) &in, 1, of, &err));
  g_assert_true (osh_plan_run (pp, (const OshTensor *const *) &in, 1, op, &err));
  if (osh_test_packed_conv ())
    {
      g_assert_cmpint (osh_plan_n_steps (pf), <, osh_plan_n_steps (pp));
      for (int i = 0; i < osh_plan_n_steps (pf); i++)
        {
          OshPlanStep st;
          g_assert_true (osh_plan_step (pf, i, &st));
          for (int k = 0; folded[k]; k++)
            g_assert_cmpstr (st.class_name, !=, folded[k]);
        }
    }
  double worst = 0, peak = 1;
  *lo = INFINITY, *hi = -INFINITY;
  g_assert_cmpint (osh_tensor_numel (of[0]), ==, osh_tensor_numel (op[0]));
  for (int64_t i = 0; i < osh_tensor_numel (of[0]); i++)
    {
      worst = fmax (worst, fabs (of[0]->data[i] - op[0]->data[i]));
      peak = fmax (peak, fabs (op[0]->data[i]));
      *lo = fmin (*lo, op[0]->data[i]), *hi = fmax (*hi, op[0]->data[i]);
    }
  g_assert_cmpfloat (worst, <=, 1e-5 * peak);
  osh_tensor_free (in), osh_tensor_free (of[0]), osh_tensor_free (op[0]);
  osh_plan_free (pf), osh_plan_free (pp);
}

static inline void
add_batchnorm (OshGraph *g, int node, int64_t ch)
{
  for (int i = 0; i < 4; i++)
    {
      OshTensor *w = ot_weight (g, node, 1, (int64_t[]){ ch });
      if (i == 3) /* moving variance: positive */
        for (int k = 0; k < ch; k++)
          w->data[k] = 0.5f + fabsf (w->data[k]);
    }
}
