/* Conv2D and Dense, forward and backward, as matrix products on OpenBLAS.
 *
 * A Keras kernel (KH, KW, Cin, Cout) is a K × Cout matrix with K = KH·KW·Cin in (kh, kw, c)
 * order, so one example's convolution is cols (P × K) · kernel with P = OH·OW and cols the
 * im2col of the input in that same order; the batch's cols are stacked into one product and
 * kept for the backward pass.
 * Backward: dkernel = colsᵀ · dy, dcols = dy · kernelᵀ, scattered back by col2im. A 1×1 convolution at stride 1 needs no cols: the whole batch is one
 * product, as for Dense (whose inputs of rank > 1 apply to the last axis). */
#include <cblas.h>
#include <string.h>

#include "osh-grad.h"
#include "osh-vec.h"

static void
im2col (const OshGradLayer *gl, const float *x, int H, int W, int C, int OH, int OW, float *cols)
{
  int64_t K = (int64_t) gl->kh * gl->kw * C;
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++)
      {
        float *row = cols + ((int64_t) oy * OW + ox) * K;
        for (int ky = 0; ky < gl->kh; ky++)
          {
            int iy = oy * gl->sh + ky * gl->dh - gl->pt;
            for (int kx = 0; kx < gl->kw; kx++)
              {
                int ix = ox * gl->sw + kx * gl->dw - gl->pl;
                float *dst = row + ((int64_t) ky * gl->kw + kx) * C;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                  memset (dst, 0, (size_t) C * sizeof *dst);
                else
                  memcpy (dst, x + ((int64_t) iy * W + ix) * C, (size_t) C * sizeof *dst);
              }
          }
      }
}

static void
col2im_add (const OshGradLayer *gl, const float *dcols, int H, int W, int C, int OH, int OW,
            float *dx)
{
  int64_t K = (int64_t) gl->kh * gl->kw * C;
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++)
      {
        const float *row = dcols + ((int64_t) oy * OW + ox) * K;
        for (int ky = 0; ky < gl->kh; ky++)
          {
            int iy = oy * gl->sh + ky * gl->dh - gl->pt;
            if (iy < 0 || iy >= H)
              continue;
            for (int kx = 0; kx < gl->kw; kx++)
              {
                int ix = ox * gl->sw + kx * gl->dw - gl->pl;
                if (ix < 0 || ix >= W)
                  continue;
                const float *src = row + ((int64_t) ky * gl->kw + kx) * C;
                float *dst = dx + ((int64_t) iy * W + ix) * C;
                for (int c = 0; c < C; c++)
                  dst[c] += src[c];
              }
          }
      }
}

bool
osh_grad_conv_is_pointwise (const OshGradLayer *gl)
{
  return gl->kind == OSH_GRAD_DENSE
         || (gl->kh == 1 && gl->kw == 1 && gl->sh == 1 && gl->sw == 1 && gl->pt == 0
             && gl->pl == 0);
}

/* The product's sizes: rows per example (or for the whole batch when pointwise), K, N. */
static void
conv_sizes (const OshGradValue *in, const OshGradValue *out, int *H, int *W, int *C, int *OH,
            int *OW, int *N)
{
  const OshShape *s = &in->shape, *o = &out->shape;
  *C = (int) s->dim[s->rank - 1];
  *N = (int) o->dim[o->rank - 1];
  *H = s->rank == 3 ? (int) s->dim[0] : 1;
  *W = s->rank == 3 ? (int) s->dim[1] : 1;
  *OH = o->rank == 3 ? (int) o->dim[0] : 1;
  *OW = o->rank == 3 ? (int) o->dim[1] : 1;
}

void
osh_grad_conv_forward (OshGradLayer *gl, OshGradValue *vals, int64_t batch)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int H, W, C, OH, OW, N;
  conv_sizes (in, out, &H, &W, &C, &OH, &OW, &N);
  float *y = gl->act != OSH_ACT_LINEAR ? gl->pre : out->x;
  const float *kernel = gl->wt[0].w, *bias = gl->wt[1].w;
  if (osh_grad_conv_is_pointwise (gl))
    {
      int64_t rows = batch * in->numel / C;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) rows, N, C, 1.0f, in->x, C,
                   kernel, N, 0.0f, y, N);
    }
  else
    {
      /* The whole batch's cols, one product: small per-example products waste the kernel. */
      int64_t P = (int64_t) OH * OW, K = (int64_t) gl->kh * gl->kw * C;
      for (int64_t b = 0; b < batch; b++)
        im2col (gl, in->x + b * in->numel, H, W, C, OH, OW, gl->aux + b * P * K);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) (batch * P), N, (int) K, 1.0f,
                   gl->aux, (int) K, kernel, N, 0.0f, y, N);
    }
  int64_t total = batch * out->numel;
  if (bias)
    for (int64_t i = 0; i < total; i += N)
      osh_vec_add (y + i, bias, N);
  if (gl->act != OSH_ACT_LINEAR)
    osh_grad_activate (gl->act, gl->alpha, gl->cap, y, out->x, total, N);
}

void
osh_grad_conv_backward (OshGradLayer *gl, OshGradValue *vals, int64_t batch, OshGradScratch *scr)
{
  OshGradValue *in = &vals[gl->in[0]], *out = &vals[gl->out];
  int H, W, C, OH, OW, N;
  conv_sizes (in, out, &H, &W, &C, &OH, &OW, &N);
  int64_t total = batch * out->numel;
  float *dy = out->dx;
  if (gl->act != OSH_ACT_LINEAR) /* through the activation, in place: dy is not read again */
    osh_grad_activate_backward (gl->act, gl->alpha, gl->cap, gl->pre, out->x, dy, dy, total, N);
  const float *kernel = gl->wt[0].w;
  float *dkernel = gl->wt[0].g, *dbias = gl->wt[1].w ? gl->wt[1].g : NULL;
  if (dbias)
    {
      memset (dbias, 0, (size_t) N * sizeof *dbias);
      for (int64_t i = 0; i < total; i += N)
        osh_vec_add (dbias, dy + i, N);
    }
  if (osh_grad_conv_is_pointwise (gl))
    {
      int64_t rows = batch * in->numel / C;
      if (dkernel)
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, C, N, (int) rows, 1.0f, in->x, C, dy,
                     N, 0.0f, dkernel, N);
      if (in->dx)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) rows, C, N, 1.0f, dy, N, kernel,
                     N, in->fresh ? 0.0f : 1.0f, in->dx, C);
      in->fresh = false;
      return;
    }
  int64_t P = (int64_t) OH * OW, K = (int64_t) gl->kh * gl->kw * C;
  if (dkernel) /* the layer's cols from its forward */
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) K, N, (int) (batch * P), 1.0f,
                 gl->aux, (int) K, dy, N, 0.0f, dkernel, N);
  if (in->dx)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) (batch * P), (int) K, N, 1.0f, dy,
                   N, kernel, N, 0.0f, scr->dcols, (int) K);
      for (int64_t b = 0; b < batch; b++)
        col2im_add (gl, scr->dcols + b * P * K, H, W, C, OH, OW, in->dx + b * in->numel);
    }
}
