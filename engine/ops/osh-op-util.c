/* Helpers shared by the op files: config parsing, the sliding-window rule (output size and
 * padding, for Keras, ONNX, the zoo builder and the ONNX export alike), weight checks,
 * broadcasting and a small parallel-for. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

#include "osh-op.h"

bool
osh_op_channels_first (const OshOpCall *c)
{
  const char *df = osh_config_string (c->layer->config, "data_format", NULL);
  if (df)
    return strcmp (df, "channels_first") == 0;
  const char *dim = osh_config_string (c->layer->config, "dim_ordering", NULL);
  if (dim)
    return strcmp (dim, "th") == 0;
  return c->graph && c->graph->layout == OSH_LAYOUT_CHANNELS_FIRST;
}

int64_t
osh_op_window (int64_t in, int64_t k, int64_t stride, int64_t dilation, OshPadMode mode, bool ceil,
               int64_t *lead, int64_t *trail)
{
  int64_t eff = (k - 1) * dilation + 1;
  if (mode != OSH_PAD_EXPLICIT)
    {
      /* Written for an unknown input too: exact for stride 1, where it does not matter. */
      int64_t out = (in + stride - 1) / stride;
      int64_t total = (out - 1) * stride + eff - in;
      total = total > 0 ? total : 0;
      *lead = mode == OSH_PAD_SAME_LOWER ? (total + 1) / 2 : total / 2;
      *trail = total - *lead;
      return in < 0 ? -1 : out;
    }
  if (in < 0)
    return -1;
  int64_t span = in + *lead + *trail - eff;
  if (span < 0)
    return 0;
  int64_t out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
  /* ceil_mode: the last window must start inside the input or its leading padding. */
  if (ceil && (out - 1) * stride >= in + *lead)
    out--;
  return out;
}

int64_t
osh_op_window_out (int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same)
{
  int64_t lead = 0, trail = 0;
  return osh_op_window (in, k, stride, dilation, same ? OSH_PAD_SAME_UPPER : OSH_PAD_EXPLICIT,
                        false, &lead, &trail);
}

int64_t
osh_op_same_pad (int64_t in, int64_t k, int64_t stride, int64_t dilation)
{
  int64_t lead, trail;
  osh_op_window (in, k, stride, dilation, OSH_PAD_SAME_UPPER, false, &lead, &trail);
  return lead;
}

bool
osh_op_padding (const OshOpCall *c, bool *same, OshError *err)
{
  const char *p = osh_config_string (c->layer->config, "padding", "valid");
  if (strcmp (p, "same") == 0 || strcmp (p, "causal") == 0)
    *same = true;
  else if (strcmp (p, "valid") == 0)
    *same = false;
  else
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "padding \"%s\" (expected \"same\" or \"valid\")",
                     p);
  return true;
}

bool
osh_op_ints (const OshOpCall *c, const char *key, int64_t *out, int n, int64_t fallback,
             int64_t min, OshError *err)
{
  const json_t *v = json_object_get (c->layer->config, key);
  if (!v || json_is_null (v))
    {
      for (int i = 0; i < n; i++)
        out[i] = fallback;
    }
  else if (!osh_config_ints (c->layer->config, key, out, n))
    return osh_fail (err, OSH_ERR_FORMAT, "config \"%s\" should be an int or a list of %d ints",
                     key, n);
  for (int i = 0; i < n; i++)
    if (out[i] < min)
      return osh_fail (err, OSH_ERR_FORMAT, "config \"%s\" has %lld (expected at least %lld)", key,
                       (long long) out[i], (long long) min);
  return true;
}

void *
osh_op_params (OshOpCall *c, size_t size, OshError *err)
{
  c->params = calloc (1, size);
  if (!c->params)
    osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing %s", c->layer->class_name);
  return c->params;
}

const OshTensor *
osh_op_weight (const OshOpCall *c, int i)
{
  if (i < 0 || i >= c->layer->n_weights)
    return NULL;
  return c->layer->weights[i].value;
}

bool
osh_op_check_weight (const OshOpCall *c, int i, int rank, const int64_t *dims, const char *what,
                     OshError *err)
{
  const OshTensor *w = osh_op_weight (c, i);
  OshShape want = { .rank = rank };
  for (int d = 0; d < rank; d++)
    want.dim[d] = dims[d];
  char ws[160], hs[160];
  osh_shape_format (&want, ws, sizeof ws);
  if (!w)
    return osh_fail (err, OSH_ERR_SHAPE, "weight %d (%s) is missing (expected %s)", i, what, ws);
  bool ok = w->shape.rank == rank;
  for (int d = 0; ok && d < rank; d++)
    ok = dims[d] < 0 || w->shape.dim[d] == dims[d];
  if (ok)
    return true;
  osh_shape_format (&w->shape, hs, sizeof hs);
  return osh_fail (err, OSH_ERR_SHAPE, "%s weight has shape %s (expected %s; None = any)", what, hs,
                   ws);
}

bool
osh_op_shape_fail (OshError *err, const char *what, const OshShape *a, const OshShape *b)
{
  char as[160], bs[160];
  osh_shape_format (a, as, sizeof as);
  osh_shape_format (b, bs, sizeof bs);
  return osh_fail (err, OSH_ERR_SHAPE, "%s: %s and %s", what, as, bs);
}

bool
osh_op_broadcast (const OshShape *a, const OshShape *b, OshShape *out)
{
  int rank = a->rank > b->rank ? a->rank : b->rank;
  OshShape r = { .rank = rank };
  for (int i = 0; i < rank; i++)
    {
      int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
      int64_t da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;
      if (da == db || db == 1)
        r.dim[i] = da;
      else if (da == 1)
        r.dim[i] = db;
      else if (da < 0 || db < 0)
        r.dim[i] = da < 0 ? db : da; /* None against a size: the size */
      else
        return false;
    }
  *out = r;
  return true;
}

bool
osh_op_need (const OshOpCall *c, int min_inputs, int min_rank, int max_rank, OshError *err)
{
  if (c->n_in < min_inputs || (min_inputs == 1 && c->n_in != 1))
    return osh_fail (err, OSH_ERR_SHAPE, "called on %d inputs (expected %s%d)", c->n_in,
                     min_inputs > 1 ? "at least " : "", min_inputs);
  for (int i = 0; i < c->n_in; i++)
    if (c->in[i].rank < min_rank || c->in[i].rank > max_rank)
      {
        char s[160];
        osh_shape_format (&c->in[i], s, sizeof s);
        if (min_rank == max_rank)
          return osh_fail (err, OSH_ERR_SHAPE, "input %s has rank %d (expected rank %d)", s,
                           c->in[i].rank, min_rank);
        return osh_fail (err, OSH_ERR_SHAPE, "input %s has rank %d (expected rank %d to %d)", s,
                         c->in[i].rank, min_rank, max_rank);
      }
  return true;
}

int
osh_op_axis (int64_t axis, int rank)
{
  if (axis < 0)
    axis += rank;
  return axis >= 0 && axis < rank ? (int) axis : -1;
}

bool
osh_op_keras3 (const OshGraph *g)
{
  const char *v = g && g->meta ? osh_config_string (g->meta, "keras_version", NULL) : NULL;
  if (v)
    return v[0] >= '3' && v[1] == '.';
  return g && osh_config_int (g->meta, OSH_META_KERAS_RUNTIME, 0) == 3;
}

bool
osh_op_legacy_bilinear (const OshGraph *g)
{
  if (!g)
    return false;
  if (osh_config_int (g->meta, OSH_META_KERAS_RUNTIME, 0) == OSH_KERAS_RUNTIME_TFJS)
    return true;
  const char *v = g->meta ? osh_config_string (g->meta, "keras_version", NULL) : NULL;
  if (!v)
    return false;
  if (strncmp (v, "tfjs", 4) == 0 || v[0] == '1')
    return true;
  /* "2.0" .. "2.3" (and "2.3.1"), not "2.10" */
  return v[0] == '2' && v[1] == '.' && v[2] >= '0' && v[2] <= '3' && (v[3] == '.' || v[3] == '\0');
}

unsigned
osh_fp_flush_denormals (void)
{
#ifdef __SSE__
  unsigned saved = _mm_getcsr ();
  _mm_setcsr (saved | 0x8040); /* FTZ (bit 15) and DAZ (bit 6) */
  return saved;
#elif defined(__aarch64__)
  uint64_t saved;
  __asm__ volatile("mrs %0, fpcr" : "=r"(saved));
  __asm__ volatile("msr fpcr, %0" : : "r"(saved | (1u << 24))); /* FZ: inputs and results */
  return (unsigned) saved; /* FPCR's upper half is reserved, zero */
#else
  return 0;
#endif
}

void
osh_fp_restore (unsigned saved)
{
#ifdef __SSE__
  _mm_setcsr (saved);
#elif defined(__aarch64__)
  __asm__ volatile("msr fpcr, %0" : : "r"((uint64_t) saved));
#else
  (void) saved;
#endif
}

/* A small persistent pool, so kernels split across threads without creating threads per call.
 * One parallel loop runs at a time; a caller that finds the pool busy (another plan running
 * on another thread) runs its loop alone. Workers live as long as the process. */
enum
{
  POOL_MAX = 64
};

static struct
{
  pthread_mutex_t lock, busy;
  pthread_cond_t work, done;
  int n_workers;
  unsigned gen;
  void (*fn) (void *, int64_t, int64_t);
  void *arg;
  int64_t n;
  int parts, next, pending;
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
           PTHREAD_COND_INITIALIZER };

/* Runs parts of the current loop until none is left; called with the lock held. */
static void
pool_claim (void)
{
  while (pool.next < pool.parts)
    {
      int k = pool.next++;
      int64_t begin = pool.n * k / pool.parts, end = pool.n * (k + 1) / pool.parts;
      pthread_mutex_unlock (&pool.lock);
      pool.fn (pool.arg, begin, end);
      pthread_mutex_lock (&pool.lock);
      if (--pool.pending == 0)
        pthread_cond_signal (&pool.done);
    }
}

static void *
pool_worker (void *unused)
{
  (void) unused;
  osh_fp_flush_denormals (); /* workers only ever run kernels */
  pthread_mutex_lock (&pool.lock);
  unsigned seen = pool.gen;
  for (;;)
    {
      while (pool.gen == seen)
        pthread_cond_wait (&pool.work, &pool.lock);
      seen = pool.gen;
      pool_claim ();
    }
  return NULL;
}

void
osh_parallel_for (int threads, int64_t n, void (*fn) (void *arg, int64_t begin, int64_t end),
                  void *arg)
{
  if (threads > POOL_MAX)
    threads = POOL_MAX;
  if (threads > n)
    threads = (int) n;
  if (n <= 0)
    return;
  if (threads <= 1 || pthread_mutex_trylock (&pool.busy) != 0)
    {
      fn (arg, 0, n);
      return;
    }
  pthread_mutex_lock (&pool.lock);
  while (pool.n_workers < threads - 1)
    {
      pthread_t id;
      if (pthread_create (&id, NULL, pool_worker, NULL) != 0)
        break;
      pthread_detach (id);
      pool.n_workers++;
    }
  pool.fn = fn;
  pool.arg = arg;
  pool.n = n;
  pool.parts = threads;
  pool.next = 0;
  pool.pending = threads;
  pool.gen++;
  pthread_cond_broadcast (&pool.work);
  pool_claim (); /* the caller works too; with no workers it does everything */
  while (pool.pending > 0)
    pthread_cond_wait (&pool.done, &pool.lock);
  pthread_mutex_unlock (&pool.lock);
  pthread_mutex_unlock (&pool.busy);
}

OshWindow2D
osh_op_window2d (int sp, const int64_t *k, const int64_t *s, const int64_t *d, const int64_t *pad,
                 const int64_t *in, const int64_t *out)
{
  bool one = sp == 1;
  int w = one ? 0 : 1; /* index of the width entry */
  return (OshWindow2D){ .kh = one ? 1 : k[0],
                        .kw = k[w],
                        .sh = one ? 1 : s[0],
                        .sw = s[w],
                        .dh = one || !d ? 1 : d[0],
                        .dw = d ? d[w] : 1,
                        .ph = one ? 0 : pad[0],
                        .pw = pad[w],
                        .ih = one ? 1 : in[0],
                        .iw = in[w],
                        .oh = one ? 1 : out[0],
                        .ow = out[w] };
}

/* Three planes of b values (an RGB image) → b triples, in output order: written with a pointer
 * per plane the compiler vectorises it, 2.4× the tiles below (the stem of every channels-first
 * image model converts its input so). */
static void
interleave_three (const float *restrict src, float *restrict dst, int64_t b)
{
  const float *restrict r = src, *restrict g = src + b, *restrict bl = src + 2 * b;
  for (int64_t j = 0; j < b; j++)
    {
      dst[3 * j] = r[j];
      dst[3 * j + 1] = g[j];
      dst[3 * j + 2] = bl[j];
    }
}

/* (batch, a, b) → (batch, b, a), in 32×32 tiles: a plain double loop writes with a stride of a
 * whole plane and, for planes that are multiples of 4 KiB apart, thrashes the cache. */
static void
swap_inner (const float *in, float *out, int64_t batch, int64_t a, int64_t b)
{
  enum
  {
    T = 32
  };
  for (int64_t n = 0; n < batch; n++)
    {
      const float *src = in + n * a * b;
      float *dst = out + n * a * b;
      if (a == 3)
        {
          interleave_three (src, dst, b);
          continue;
        }
      for (int64_t i0 = 0; i0 < a; i0 += T)
        for (int64_t j0 = 0; j0 < b; j0 += T)
          {
            int64_t i1 = i0 + T < a ? i0 + T : a, j1 = j0 + T < b ? j0 + T : b;
            for (int64_t j = j0; j < j1; j++)
              for (int64_t i = i0; i < i1; i++)
                dst[j * a + i] = src[i * b + j];
          }
    }
}

void
osh_op_to_channels_last (const float *in, float *out, int64_t batch, int64_t ch, int64_t pixels)
{
  swap_inner (in, out, batch, ch, pixels);
}

void
osh_op_to_channels_first (const float *in, float *out, int64_t batch, int64_t ch, int64_t pixels)
{
  swap_inner (in, out, batch, pixels, ch);
}
