/* ONNX Gemm and MatMul through cblas_sgemm. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "onnx-op-util.h"

bool
onnx_gemm_infer (OshOpCall *c, OshError *err)
{
  if (!onnx_need (c, 0, false, "A", err) || !onnx_need (c, 1, false, "B", err))
    return false;
  const OshShape *a = onnx_slot (c, 0).shape, *b = onnx_slot (c, 1).shape;
  if (a->rank != 2 || b->rank != 2)
    return osh_fail (err, OSH_ERR_SHAPE, "Gemm needs 2-D A and B (ranks %d and %d)", a->rank,
                     b->rank);
  bool ta = onnx_attr_int (c, "transA", 0), tb = onnx_attr_int (c, "transB", 0);
  int64_t m = a->dim[ta ? 1 : 0], k = a->dim[ta ? 0 : 1];
  int64_t kb = b->dim[tb ? 1 : 0], n = b->dim[tb ? 0 : 1];
  if (k != kb && k >= 0 && kb >= 0) /* an open size: the run checks it */
    return osh_op_shape_fail (err, "Gemm inner sizes differ", a, b);
  c->out[0] = osh_shape_make (2, (int64_t[]){ m, n });
  OnnxSlot cs = onnx_slot (c, 2);
  if (cs.present)
    {
      const OshShape *shapes[2] = { cs.shape, &c->out[0] };
      OshShape bc;
      if (!onnx_broadcast (shapes, 2, &bc, err) || !osh_shape_equal (&bc, &c->out[0]))
        return osh_op_shape_fail (err, "Gemm C does not broadcast to the output", cs.shape,
                                  &c->out[0]);
    }
  return true;
}

/* Gemm's attributes, read when preparing. */
typedef struct
{
  bool ta, tb;
  float alpha, beta;
} Gemm;

bool
onnx_gemm_prepare (OshOpCall *c, OshError *err)
{
  Gemm *g = osh_op_params (c, sizeof *g, err);
  if (!g)
    return false;
  g->ta = onnx_attr_int (c, "transA", 0) != 0;
  g->tb = onnx_attr_int (c, "transB", 0) != 0;
  g->alpha = onnx_attr_float (c, "alpha", 1.0f);
  g->beta = onnx_attr_float (c, "beta", 1.0f);
  const OshShape *a = onnx_slot (c, 0).shape;
  int64_t k = a->dim[g->ta ? 0 : 1];
  c->flops = 2.0 * (double) onnx_numel (&c->out[0]) * (double) k;
  return true;
}

void
onnx_gemm_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Gemm *g = c->params;
  const OshShape *a = onnx_slot (c, 0).shape, *b = onnx_slot (c, 1).shape;
  bool ta = g->ta, tb = g->tb;
  float alpha = g->alpha, beta = g->beta;
  int64_t m = c->out[0].dim[0], n = c->out[0].dim[1], k = a->dim[ta ? 0 : 1];
  const float *cd = onnx_slot_data (c, in, 2);
  if (cd && beta != 0)
    {
      /* Broadcast C into the output, then let sgemm add alpha·A·B onto it. */
      OnnxSlot cs = onnx_slot (c, 2);
      int64_t st[2];
      onnx_broadcast_strides (cs.shape, &c->out[0], st);
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
          out[0][i * n + j] = beta * cd[i * st[0] + j * st[1]];
    }
  float keep = cd && beta != 0 ? 1.0f : 0.0f;
  if (m == 1)
    {
      /* One row (a classifier at batch 1): a matrix-vector product reads B once, where sgemm
       * would pack it first. A's k values are contiguous whether it is transposed or not. */
      cblas_sgemv (CblasRowMajor, tb ? CblasNoTrans : CblasTrans, (int) b->dim[0], (int) b->dim[1],
                   alpha, onnx_slot_data (c, in, 1), (int) b->dim[1], onnx_slot_data (c, in, 0), 1,
                   keep, out[0], 1);
      return;
    }
  cblas_sgemm (CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
               (int) m, (int) n, (int) k, alpha, onnx_slot_data (c, in, 0), (int) a->dim[1],
               onnx_slot_data (c, in, 1), (int) b->dim[1], keep, out[0], (int) n);
}

/* MatMul: numpy semantics — 1-D operands are promoted, leading axes broadcast. */
typedef struct
{
  OshShape a, b;  /* promoted to rank ≥ 2 */
  OshShape batch; /* broadcast leading axes */
  int64_t m, k, n;
} MatMul;

static bool
matmul_geometry (const OshOpCall *c, MatMul *g, OshShape *out, OshError *err)
{
  if (!onnx_need (c, 0, false, "A", err) || !onnx_need (c, 1, false, "B", err))
    return false;
  const OshShape *a = onnx_slot (c, 0).shape, *b = onnx_slot (c, 1).shape;
  if (a->rank < 1 || b->rank < 1)
    return osh_op_shape_fail (err, "MatMul of a scalar", a, b);
  g->a = *a;
  g->b = *b;
  if (a->rank == 1)
    g->a = osh_shape_make (2, (int64_t[]){ 1, a->dim[0] });
  if (b->rank == 1)
    g->b = osh_shape_make (2, (int64_t[]){ b->dim[0], 1 });
  g->m = g->a.dim[g->a.rank - 2];
  g->k = g->a.dim[g->a.rank - 1];
  g->n = g->b.dim[g->b.rank - 1];
  if (g->b.dim[g->b.rank - 2] != g->k && g->k >= 0 && g->b.dim[g->b.rank - 2] >= 0)
    return osh_op_shape_fail (err, "MatMul inner sizes differ", a, b);
  OshShape ab = g->a, bb = g->b;
  ab.rank -= 2;
  bb.rank -= 2;
  const OshShape *shapes[2] = { &ab, &bb };
  if (!onnx_broadcast (shapes, 2, &g->batch, err))
    return false;
  *out = g->batch;
  if (a->rank > 1)
    out->dim[out->rank++] = g->m;
  if (b->rank > 1)
    out->dim[out->rank++] = g->n;
  return true;
}

bool
onnx_matmul_infer (OshOpCall *c, OshError *err)
{
  MatMul g;
  return matmul_geometry (c, &g, &c->out[0], err);
}

bool
onnx_matmul_prepare (OshOpCall *c, OshError *err)
{
  MatMul *g = malloc (sizeof *g);
  if (!g)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  c->params = g;
  OshShape out;
  if (!matmul_geometry (c, g, &out, err))
    return false;
  c->flops = 2.0 * (double) onnx_numel (&g->batch) * (double) (g->m * g->k * g->n);
  return true;
}

void
onnx_matmul_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const MatMul *g = c->params;
  const float *a = onnx_slot_data (c, in, 0), *b = onnx_slot_data (c, in, 1);
  OshShape ab = g->a, bb = g->b;
  ab.rank -= 2;
  bb.rank -= 2;
  int64_t sa[OSH_MAX_RANK], sb[OSH_MAX_RANK], idx[OSH_MAX_RANK] = { 0 };
  onnx_broadcast_strides (&ab, &g->batch, sa);
  onnx_broadcast_strides (&bb, &g->batch, sb);
  int64_t batches = onnx_numel (&g->batch);
  for (int64_t t = 0; t < batches; t++)
    {
      int64_t oa = 0, ob = 0;
      for (int d = 0; d < g->batch.rank; d++)
        oa += idx[d] * sa[d], ob += idx[d] * sb[d];
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) g->m, (int) g->n, (int) g->k,
                   1.0f, a + oa * g->m * g->k, (int) g->k, b + ob * g->k * g->n, (int) g->n, 0.0f,
                   out[0] + t * g->m * g->n, (int) g->n);
      onnx_next_index (idx, &g->batch, g->batch.rank);
    }
}
