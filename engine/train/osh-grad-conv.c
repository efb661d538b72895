/* Conv2D and Dense, forward and backward, as matrix products on OpenBLAS.
 *
 * A Keras kernel (KH, KW, Cin, Cout) is a K × Cout matrix with K = KH·KW·Cin in (kh, kw, c)
 * order, so one example's convolution is cols (P × K) · kernel with P = OH·OW and cols the
 * im2col of the input in that same order; the batch's cols are stacked into products and kept
 * for the backward pass. Output pixels whose window pokes into the padding keep only the taps
 * inside (a class of pixels per set of taps, one product each, with those taps' kernel rows),
 * so no zero is multiplied.
 * Backward: dkernel = colsᵀ · dy, dcols = dy · kernelᵀ, scattered back by col2im. A 1×1
 * convolution at stride 1 needs no cols: the whole batch is one product, as for Dense (whose
 * inputs of rank > 1 apply to the last axis). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "osh-grad.h"
#include "osh-vec.h"

/* Output pixels grouped by the taps that land inside the input, [ky0, ky1) × [kx0, kx1) (a
 * contiguous range each way). A pixel at the border reads padding through its other taps:
 * multiplying those zeros was 16 % of the seed head's 3×3 "same" convolution on 8×8 maps. */
typedef struct
{
  int ky0, ky1, kx0, kx1;
  int64_t first, count; /* its pixels: pixel[first .. first + count) */
} TapClass;

struct OshGradConvRows
{
  int n;
  TapClass *cls;
  int32_t *pixel; /* the P output pixels (oy·OW + ox), class by class, raster order within */
  float *perm;    /* max_batch·P·N: y or dy with its rows in class order (several classes) */
};

/* The taps t of a window whose input coordinate o·stride + t·dilation − pad falls in [0, size). */
static void
tap_range (int o, int stride, int dil, int pad, int size, int taps, int *t0, int *t1)
{
  *t0 = taps, *t1 = taps;
  for (int t = 0; t < taps; t++)
    {
      int i = o * stride + t * dil - pad;
      if (i >= 0 && i < size)
        {
          if (*t0 == taps)
            *t0 = t;
          *t1 = t + 1;
        }
    }
  if (*t0 == taps) /* nothing inside: an empty range */
    *t0 = *t1 = 0;
}

/* Distinct ranges of the coordinates 0 .. n-1 in order of first appearance; which[o] is o's. */
static int
distinct_ranges (int n, int stride, int dil, int pad, int size, int taps, int (*range)[2],
                 int *which)
{
  int count = 0;
  for (int o = 0; o < n; o++)
    {
      int t0, t1, k = 0;
      tap_range (o, stride, dil, pad, size, taps, &t0, &t1);
      while (k < count && (range[k][0] != t0 || range[k][1] != t1))
        k++;
      if (k == count)
        range[count][0] = t0, range[count++][1] = t1;
      which[o] = k;
    }
  return count;
}

bool
osh_grad_conv_rows_init (OshGradLayer *gl, const OshGradValue *in, const OshGradValue *out,
                         int64_t max_batch)
{
  int H = (int) in->shape.dim[0], W = (int) in->shape.dim[1];
  int OH = (int) out->shape.dim[0], OW = (int) out->shape.dim[1];
  int64_t P = (int64_t) OH * OW, N = out->shape.dim[2];
  OshGradConvRows *r = calloc (1, sizeof *r);
  int (*yr)[2] = malloc ((size_t) OH * sizeof *yr);
  int (*xr)[2] = malloc ((size_t) (OW + 1) * sizeof *xr);
  int *wy = malloc ((size_t) OH * sizeof *wy), *wx = malloc ((size_t) OW * sizeof *wx);
  int *cls_of = malloc ((size_t) P * sizeof *cls_of);
  bool ok =
      r && yr && xr && wy && wx && cls_of && (r->pixel = malloc ((size_t) P * sizeof *r->pixel));
  if (ok)
    {
      int ny = distinct_ranges (OH, gl->sh, gl->dh, gl->pt, H, gl->kh, yr, wy);
      int nx = distinct_ranges (OW, gl->sw, gl->dw, gl->pl, W, gl->kw, xr, wx);
      /* Pixels in a border row (some ky outside) keep every kx: the corners join their edge,
       * one product instead of a few small ones for the price of a few zeros. */
      xr[nx][0] = 0, xr[nx][1] = gl->kw;
      r->n = ny * (nx + 1);
      ok = (r->cls = calloc ((size_t) r->n, sizeof *r->cls)) != NULL;
      for (int c = 0; ok && c < r->n; c++)
        r->cls[c] = (TapClass){ .ky0 = yr[c / (nx + 1)][0],
                                .ky1 = yr[c / (nx + 1)][1],
                                .kx0 = xr[c % (nx + 1)][0],
                                .kx1 = xr[c % (nx + 1)][1] };
      for (int64_t p = 0; ok && p < P; p++)
        {
          int y = wy[p / OW];
          cls_of[p] = y * (nx + 1) + (yr[y][1] - yr[y][0] < gl->kh ? nx : wx[p % OW]);
          r->cls[cls_of[p]].count++;
        }
      for (int c = 1; ok && c < r->n; c++)
        r->cls[c].first = r->cls[c - 1].first + r->cls[c - 1].count;
      int64_t *fill = ok ? calloc ((size_t) r->n, sizeof *fill) : NULL;
      ok = ok && fill;
      for (int64_t p = 0; ok && p < P; p++)
        r->pixel[r->cls[cls_of[p]].first + fill[cls_of[p]]++] = (int32_t) p;
      int kept = 0; /* the empty classes go: one class left means the rows in natural order */
      for (int c = 0; ok && c < r->n; c++)
        if (r->cls[c].count)
          r->cls[kept++] = r->cls[c];
      r->n = kept;
      ok = ok && (r->n == 1 || (r->perm = malloc ((size_t) (max_batch * P * N) * sizeof (float))));
      free (fill);
    }
  free (yr), free (xr), free (wy), free (wx), free (cls_of);
  gl->rows = r;
  return ok;
}

void
osh_grad_conv_rows_free (OshGradConvRows *r)
{
  if (!r)
    return;
  free (r->cls);
  free (r->pixel);
  free (r->perm);
  free (r);
}

static int64_t
class_width (const TapClass *tc, int C)
{
  return (int64_t) (tc->ky1 - tc->ky0) * (tc->kx1 - tc->kx0) * C;
}

/* The batch's cols, class by class (all examples' pixels of a class are one block of rows),
 * each row only its class's taps in (ky, kx, c) order; `add` runs the other way, adding dcols
 * into dx (col2im). */
static void
cols_pass (const OshGradLayer *gl, float *x, int64_t numel, int64_t batch, int W, int C, int OW,
           float *cols, bool add)
{
  const OshGradConvRows *r = gl->rows;
  for (int c = 0; c < r->n; c++)
    {
      const TapClass *tc = &r->cls[c];
      int64_t run = (int64_t) (tc->kx1 - tc->kx0) * C;
      for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < tc->count; i++)
          {
            int p = r->pixel[tc->first + i], oy = p / OW, ox = p % OW;
            int ix0 = ox * gl->sw + tc->kx0 * gl->dw - gl->pl;
            /* the row's taps are adjacent pixels unless dilated or partly outside: one run */
            int ixn = ix0 + (tc->kx1 - tc->kx0 - 1) * gl->dw;
            int64_t step = gl->dw == 1 && ix0 >= 0 && ixn < W ? run : C;
            for (int ky = tc->ky0; ky < tc->ky1; ky++)
              {
                int iy = oy * gl->sh + ky * gl->dh - gl->pt;
                float *img = x + b * numel + (int64_t) iy * W * C;
                for (int64_t at = 0; at < run; at += step, cols += step)
                  {
                    int ix = ix0 + (int) (at / C) * gl->dw;
                    if (ix < 0 || ix >= W) /* a corner's tap in the padding */
                      {
                        if (!add)
                          memset (cols, 0, (size_t) step * sizeof *cols);
                      }
                    else if (add)
                      osh_vec_add (img + (int64_t) ix * C, cols, step);
                    else
                      memcpy (cols, img + (int64_t) ix * C, (size_t) step * sizeof *cols);
                  }
              }
          }
    }
}

/* y (or dy) rows between the batch's natural order (example, pixel) and class order. */
static void
permute_rows (const OshGradConvRows *r, float *natural, float *classed, int64_t batch, int64_t P,
              int64_t N, bool to_natural, const float *bias)
{
  for (int c = 0; c < r->n; c++)
    {
      const TapClass *tc = &r->cls[c];
      float *row = classed + batch * tc->first * N;
      for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < tc->count; i++, row += N)
          {
            float *nat = natural + (b * P + r->pixel[tc->first + i]) * N;
            if (!to_natural)
              memcpy (row, nat, (size_t) N * sizeof *row);
            else
              {
                memcpy (nat, row, (size_t) N * sizeof *row);
                if (bias)
                  osh_vec_add (nat, bias, N);
              }
          }
    }
}

typedef enum
{
  PRODUCT_Y,       /* y_c = cols_c · kernel_c */
  PRODUCT_DKERNEL, /* dkernel_c += cols_cᵀ · dy_c */
  PRODUCT_DCOLS,   /* dcols_c = dy_c · kernel_cᵀ */
} Product;

/* One of the convolution's three products, class by class. A class's kernel rows are those of
 * its taps: contiguous when it has every kx, else one block per ky (one product each). `rows`
 * holds y or dy in class order; `cols` the cols or dcols. */
static void
class_products (const OshGradLayer *gl, Product what, float *kernel, int64_t batch, int C,
                int64_t N, float *cols, float *rows)
{
  const OshGradConvRows *r = gl->rows;
  int n = (int) N;
  for (int c = 0; c < r->n; c++)
    {
      const TapClass *tc = &r->cls[c];
      int64_t m = batch * tc->count, K = class_width (tc, C), nkx = tc->kx1 - tc->kx0;
      float *rc = rows + batch * tc->first * N;
      if (m == 0)
        continue;
      if (K == 0 && what == PRODUCT_Y) /* a window wholly in the padding */
        memset (rc, 0, (size_t) (m * N) * sizeof *rc);
      int blocks = nkx == gl->kw ? 1 : tc->ky1 - tc->ky0;
      int64_t k = K / (blocks ? blocks : 1);
      for (int i = 0; K && i < blocks; i++)
        {
          float *kc = kernel + ((int64_t) (tc->ky0 + i) * gl->kw + tc->kx0) * C * N;
          float *cc = cols + i * k;
          if (what == PRODUCT_Y)
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) m, n, (int) k, 1.0f, cc,
                         (int) K, kc, n, i ? 1.0f : 0.0f, rc, n);
          else if (what == PRODUCT_DKERNEL)
            cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) k, n, (int) m, 1.0f, cc,
                         (int) K, rc, n, 1.0f, kc, n);
          else
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, (int) k, n, 1.0f, rc, n,
                         kc, n, 0.0f, cc, (int) K);
        }
      cols += m * K;
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
      /* The whole batch's cols, one product per class: small per-example products waste the
       * kernel. With several classes the product's rows come out in class order (in perm) and
       * are put back in place with the bias. */
      OshGradConvRows *r = gl->rows;
      cols_pass (gl, in->x, in->numel, batch, W, C, OW, gl->aux, false);
      class_products (gl, PRODUCT_Y, (float *) kernel, batch, C, N, gl->aux,
                      r->n > 1 ? r->perm : y);
      if (r->n > 1)
        {
          permute_rows (r, y, r->perm, batch, (int64_t) OH * OW, N, true, bias);
          bias = NULL;
        }
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
  OshGradConvRows *r = gl->rows;
  float *rows = dy;
  if (r->n > 1) /* dy in the cols' row order */
    {
      permute_rows (r, dy, r->perm, batch, (int64_t) OH * OW, N, false, NULL);
      rows = r->perm;
    }
  if (dkernel) /* the layer's cols from its forward */
    {
      memset (dkernel, 0, (size_t) gl->wt[0].n * sizeof *dkernel);
      class_products (gl, PRODUCT_DKERNEL, dkernel, batch, C, N, gl->aux, rows);
    }
  if (in->dx)
    {
      class_products (gl, PRODUCT_DCOLS, (float *) kernel, batch, C, N, scr->dcols, rows);
      cols_pass (gl, in->dx, in->numel, batch, W, C, OW, scr->dcols, true);
    }
}
