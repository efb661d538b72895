/* Normalisations at inference: BatchNormalization (moving statistics, any axis,
 * center/scale flags), LayerNormalization (trailing axes), Normalization (mean and
 * variance from weights or config), Rescaling. All become a per-channel affine map
 * except LayerNormalization, which normalises each row. The per-channel affine kernel
 * (osh_affine_map_run) and the BatchNormalization coefficients serve ONNX's BatchNormalization
 * too (engine/onnx/onnx-norm.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op-kernels.h"
#include "osh-op.h"
#include "osh-vec.h"

typedef struct
{
  int64_t outer, ch, inner; /* the tensor as (outer, ch, inner) around the channel axis */
  float *scale, *shift;     /* y = x·scale[c] + shift[c] */
  float lo, hi;             /* then clamped to [lo, hi]: a ReLU folded in */
  /* LayerNormalization */
  bool layer_norm;
  float eps;
  const float *gamma, *beta;
} AffineParams;

static void
affine_free (void *p)
{
  AffineParams *ap = p;
  free (ap->scale);
  free (ap->shift);
  free (ap);
}

static AffineParams *
affine_new (OshOpCall *c, int axis, OshError *err)
{
  AffineParams *ap = calloc (1, sizeof *ap);
  if (!ap)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing %s", c->layer->class_name);
      return NULL;
    }
  c->params = ap;
  c->free_params = affine_free;
  ap->lo = -INFINITY;
  ap->hi = INFINITY;
  const OshShape *in = &c->in[0];
  ap->outer = ap->inner = 1;
  for (int i = 0; i < axis; i++)
    ap->outer *= in->dim[i];
  ap->ch = in->rank ? in->dim[axis] : 1;
  for (int i = axis + 1; i < in->rank; i++)
    ap->inner *= in->dim[i];
  ap->scale = malloc ((size_t) ap->ch * sizeof (float));
  ap->shift = malloc ((size_t) ap->ch * sizeof (float));
  if (!ap->scale || !ap->shift)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing %s", c->layer->class_name);
      return NULL;
    }
  c->flops = 2.0 * osh_shape_numel (in);
  return ap;
}

/* The axis from config: an int or a one-element list (Keras 3 writes [3]). */
static bool
config_axis (const OshOpCall *c, int64_t fallback, int *axis, OshError *err)
{
  const json_t *v = json_object_get (c->layer->config, "axis");
  int64_t a = fallback;
  if (json_is_integer (v))
    a = json_integer_value (v);
  else if (json_is_array (v) && json_array_size (v) == 1 && json_is_integer (json_array_get (v, 0)))
    a = json_integer_value (json_array_get (v, 0));
  else if (v && !json_is_null (v))
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "config \"axis\" must be one axis");
  *axis = osh_op_axis (a, c->in[0].rank);
  if (*axis < 0)
    return osh_fail (err, OSH_ERR_SHAPE, "axis %lld is outside rank %d", (long long) a,
                     c->in[0].rank);
  return true;
}

/* A weight of `n` values, or one value repeated; -1 when absent or of another size. */
static const float *
vector_weight (const OshOpCall *c, int i, int64_t n, OshError *err, const char *what)
{
  const OshTensor *w = osh_op_weight (c, i);
  if (!w || osh_tensor_numel (w) != n)
    {
      osh_fail (err, OSH_ERR_SHAPE, "%s weight (number %d) should hold %lld values (has %lld)",
                what, i, (long long) n, (long long) (w ? osh_tensor_numel (w) : 0));
      return NULL;
    }
  return w->data;
}

bool osh_batchnorm_prepare (OshOpCall *c, OshError *err);
bool osh_layernorm_prepare (OshOpCall *c, OshError *err);
bool osh_normalization_prepare (OshOpCall *c, OshError *err);
bool osh_rescaling_prepare (OshOpCall *c, OshError *err);
bool osh_tfop_infer (OshOpCall *c, OshError *err);
bool osh_tfop_prepare (OshOpCall *c, OshError *err);
void osh_affine_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch);

/* gamma?, beta? (as the config's scale and center say), moving mean, moving variance: one value
 * per channel each, all of weight 0's shape. As many as the layer holds: Keras versions differ
 * in what they store, and the statistics are what matters. */
bool
osh_batchnorm_weights (const OshOpCall *c, OshWeightRule *rule, OshError *err)
{
  (void) err;
  static const char *const all[4] = { "gamma", "beta", "moving mean", "moving variance" };
  const char *what[4];
  int n = 0;
  bool scale = osh_config_bool (c->layer->config, "scale", true);
  bool center = osh_config_bool (c->layer->config, "center", true);
  for (int i = 0; i < 4; i++)
    if ((i != 0 || scale) && (i != 1 || center))
      what[n++] = all[i];
  const OshTensor *first = osh_op_weight (c, 0);
  int held = c->layer->n_weights < 4 ? c->layer->n_weights : 4;
  memset (rule, 0, sizeof *rule);
  for (int i = 0; i < held; i++)
    {
      rule->shape[i] = first->shape;
      rule->what[i] = held == n ? what[i] : "per-channel";
    }
  rule->n = held;
  return true;
}

bool
osh_batchnorm_prepare (OshOpCall *c, OshError *err)
{
  int axis;
  if (!config_axis (c, osh_op_channels_first (c) && c->in[0].rank > 2 ? 1 : -1, &axis, err))
    return false;
  AffineParams *ap = affine_new (c, axis, err);
  if (!ap)
    return false;
  if (c->count_only) /* counted; the weights may have no values yet (osh_model_load_graph) */
    return true;
  bool scale = osh_config_bool (c->layer->config, "scale", true);
  bool center = osh_config_bool (c->layer->config, "center", true);
  float eps = (float) osh_config_double (c->layer->config, "epsilon", 1e-3);
  int w = 0;
  const float *gamma = scale ? vector_weight (c, w++, ap->ch, err, "gamma") : NULL;
  if (scale && !gamma)
    return false;
  const float *beta = center ? vector_weight (c, w++, ap->ch, err, "beta") : NULL;
  if (center && !beta)
    return false;
  const float *mean = vector_weight (c, w++, ap->ch, err, "moving_mean");
  const float *var = mean ? vector_weight (c, w++, ap->ch, err, "moving_variance") : NULL;
  if (!var)
    return false;
  osh_batchnorm_coefficients (ap->ch, gamma, beta, mean, var, eps, ap->scale, ap->shift);
  return true;
}

bool
osh_layernorm_prepare (OshOpCall *c, OshError *err)
{
  int axis;
  if (!config_axis (c, -1, &axis, err))
    return false;
  if (axis != c->in[0].rank - 1)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "LayerNormalization over axis %d (only the last)",
                     axis);
  AffineParams *ap = affine_new (c, axis, err);
  if (!ap)
    return false;
  ap->layer_norm = true;
  ap->eps = (float) osh_config_double (c->layer->config, "epsilon", 1e-3);
  c->flops = 8.0 * osh_shape_numel (&c->in[0]);
  if (c->count_only) /* the weights may have no values yet */
    return true;
  int w = 0;
  if (osh_config_bool (c->layer->config, "scale", true)
      && !(ap->gamma = vector_weight (c, w++, ap->ch, err, "gamma")))
    return false;
  if (osh_config_bool (c->layer->config, "center", true)
      && !(ap->beta = vector_weight (c, w++, ap->ch, err, "beta")))
    return false;
  return true;
}

/* Reads a config number or list of numbers (Normalization mean/variance, Rescaling). */
static bool
config_values (const OshOpCall *c, const char *key, float fallback, float *out, int64_t n,
               bool *present, OshError *err)
{
  const json_t *v = json_object_get (c->layer->config, key);
  *present = v && !json_is_null (v);
  for (int64_t i = 0; i < n; i++)
    out[i] = fallback;
  if (!*present)
    return true;
  if (json_is_number (v))
    {
      for (int64_t i = 0; i < n; i++)
        out[i] = (float) json_number_value (v);
      return true;
    }
  /* Nested lists of shape (..., n) or (n): flatten and take the values in order. */
  json_t *flat = json_array ();
  json_t *stack = json_array ();
  json_array_append (stack, (json_t *) v);
  while (json_array_size (stack))
    {
      json_t *e = json_incref (json_array_get (stack, json_array_size (stack) - 1));
      json_array_remove (stack, json_array_size (stack) - 1);
      if (json_is_array (e))
        for (size_t k = json_array_size (e); k-- > 0;)
          json_array_append (stack, json_array_get (e, k));
      else if (json_is_number (e))
        json_array_append (flat, e);
      json_decref (e);
    }
  size_t m = json_array_size (flat);
  bool ok = m == 1 || m == (size_t) n;
  for (int64_t i = 0; ok && i < n; i++)
    out[i] = (float) json_number_value (json_array_get (flat, m == 1 ? 0 : (size_t) i));
  json_decref (flat);
  json_decref (stack);
  if (!ok)
    return osh_fail (err, OSH_ERR_SHAPE, "config \"%s\" has %zu values (expected 1 or %lld)", key,
                     m, (long long) n);
  return true;
}

bool
osh_normalization_prepare (OshOpCall *c, OshError *err)
{
  int axis;
  if (!config_axis (c, -1, &axis, err))
    return false;
  if (osh_config_bool (c->layer->config, "invert", false))
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "Normalization with invert=True");
  AffineParams *ap = affine_new (c, axis, err);
  if (!ap)
    return false;
  bool has_mean, has_var;
  if (!config_values (c, "mean", 0, ap->shift, ap->ch, &has_mean, err)
      || !config_values (c, "variance", 1, ap->scale, ap->ch, &has_var, err))
    return false;
  if ((!has_mean || !has_var) && !c->count_only) /* counting reads no values */
    {
      /* Adapted statistics are weights: mean, variance (, count). */
      const OshTensor *m = osh_op_weight (c, 0), *v = osh_op_weight (c, 1);
      int64_t nm = m ? osh_tensor_numel (m) : 0, nv = v ? osh_tensor_numel (v) : 0;
      if (!m || !v || (nm != 1 && nm != ap->ch) || nm != nv)
        return osh_fail (err, OSH_ERR_SHAPE,
                         "needs mean and variance (in the config or as weights) of %lld values",
                         (long long) ap->ch);
      for (int64_t i = 0; i < ap->ch; i++)
        {
          ap->shift[i] = m->data[nm == 1 ? 0 : i];
          ap->scale[i] = v->data[nm == 1 ? 0 : i];
        }
    }
  for (int64_t i = 0; i < ap->ch; i++)
    {
      float sd = sqrtf (ap->scale[i]);
      float s = 1.0f / (sd > 1e-7f ? sd : 1e-7f);
      ap->scale[i] = s;
      ap->shift[i] = -ap->shift[i] * s;
    }
  return true;
}

bool
osh_rescaling_prepare (OshOpCall *c, OshError *err)
{
  AffineParams *ap = affine_new (c, c->in[0].rank - 1, err);
  if (!ap)
    return false;
  bool has;
  return config_values (c, "scale", 1, ap->scale, ap->ch, &has, err)
         && config_values (c, "offset", 0, ap->shift, ap->ch, &has, err);
}

static bool
clamped (const AffineParams *ap)
{
  return ap->lo != -INFINITY || ap->hi != INFINITY;
}

void
osh_batchnorm_coefficients (int64_t ch, const float *gamma, const float *beta, const float *mean,
                            const float *var, float eps, float *scale, float *shift)
{
  for (int64_t i = 0; i < ch; i++)
    {
      float s = (gamma ? gamma[i] : 1.0f) / sqrtf (var[i] + eps);
      scale[i] = s;
      shift[i] = (beta ? beta[i] : 0.0f) - mean[i] * s;
    }
}

typedef struct
{
  const OshAffineMap *m;
  const float *in;
  float *out;
} MapJob;

/* Rows of few channels (an RGB image's Rescaling, Normalization): the scale and shift repeated
 * over lcm (ch, 16) floats, so rows run as one vectorised stretch. */
static bool
map_stretch (const MapJob *j, int64_t begin, int64_t end)
{
  const OshAffineMap *m = j->m;
  enum
  {
    MAX_PERIOD = 16 * 15
  };
  if (m->inner != 1 || m->ch >= 16)
    return false;
  int64_t period = 16;
  while (period % m->ch)
    period += 16;
  float scale[MAX_PERIOD], shift[MAX_PERIOD];
  for (int64_t i = 0; i < period; i++)
    scale[i] = m->scale[i % m->ch], shift[i] = m->shift[i % m->ch];
  int64_t n = (end - begin) * m->ch, at = 0;
  const float *x = j->in + begin * m->ch;
  float *y = j->out + begin * m->ch;
  for (; at + period <= n; at += period)
    osh_vec_affine (y + at, x + at, scale, shift, period);
  osh_vec_affine (y + at, x + at, scale, shift, n - at);
  if (m->lo != -INFINITY || m->hi != INFINITY)
    osh_vec_clamp (y, n, m->lo, m->hi);
  return true;
}

static void
map_rows (void *arg, int64_t begin, int64_t end)
{
  const MapJob *j = arg;
  const OshAffineMap *m = j->m;
  if (map_stretch (j, begin, end))
    return;
  for (int64_t r = begin; r < end; r++)
    {
      const float *restrict x = j->in + r * m->ch * m->inner;
      float *restrict y = j->out + r * m->ch * m->inner;
      if (m->inner == 1)
        osh_vec_affine (y, x, m->scale, m->shift, m->ch);
      else
        for (int64_t ch = 0; ch < m->ch; ch++)
          for (int64_t i = 0; i < m->inner; i++)
            y[ch * m->inner + i] = x[ch * m->inner + i] * m->scale[ch] + m->shift[ch];
      if (m->lo != -INFINITY || m->hi != INFINITY)
        osh_vec_clamp (y, m->ch * m->inner, m->lo, m->hi);
    }
}

void
osh_affine_map_run (const OshAffineMap *m, const float *x, float *y, int threads)
{
  MapJob j = { m, x, y };
  if (m->outer * m->ch * m->inner < 65536)
    threads = 1;
  osh_parallel_for (threads, m->outer, map_rows, &j);
}

typedef struct
{
  const AffineParams *ap;
  const float *in;
  float *out;
} LayerNormJob;

static void
layernorm_rows (void *arg, int64_t begin, int64_t end)
{
  const LayerNormJob *j = arg;
  const AffineParams *ap = j->ap;
  for (int64_t r = begin; r < end; r++)
    {
      const float *restrict x = j->in + r * ap->ch;
      float *restrict y = j->out + r * ap->ch;
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < ap->ch; i++)
        sum += x[i];
      double mean = sum / (double) ap->ch;
      for (int64_t i = 0; i < ap->ch; i++)
        sq += (x[i] - mean) * (x[i] - mean);
      float inv = (float) (1.0 / sqrt (sq / (double) ap->ch + ap->eps));
      for (int64_t i = 0; i < ap->ch; i++)
        y[i] = ((float) (x[i] - mean) * inv) * (ap->gamma ? ap->gamma[i] : 1.0f)
               + (ap->beta ? ap->beta[i] : 0.0f);
      if (clamped (ap))
        osh_vec_clamp (y, ap->ch, ap->lo, ap->hi);
    }
}

void
osh_affine_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const AffineParams *ap = c->params;
  if (!ap->layer_norm)
    {
      OshAffineMap m = { ap->outer, ap->ch, ap->inner, ap->scale, ap->shift, ap->lo, ap->hi };
      osh_affine_map_run (&m, in[0], out[0], c->threads);
      return;
    }
  LayerNormJob j = { ap, in[0], out[0] };
  int threads = osh_shape_numel (&c->in[0]) < 65536 ? 1 : c->threads;
  osh_parallel_for (threads, ap->outer, layernorm_rows, &j);
}

/* The affine map of a prepared step of this file's (not LayerNormalization), or NULL. */
static const AffineParams *
affine_of (const OshOpCall *c)
{
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  const AffineParams *ap = c->params;
  return op && op->run == osh_affine_run && ap && !ap->layer_norm ? ap : NULL;
}

/* True when every channel has the same scale and shift (a TFOpLambda's x + 3, x / 6). */
static bool
uniform (const AffineParams *ap)
{
  for (int64_t i = 1; i < ap->ch; i++)
    if (ap->scale[i] != ap->scale[0] || ap->shift[i] != ap->shift[0])
      return false;
  return true;
}

/* Folds what follows into one map: another affine step on the same channels (Rescaling then
 * Normalization at a model's input: (x·s1 + b1)·s2 + b2), a ReLU or ReLU6 (a clamp), and after
 * a clamp a positive scale and a shift shared by all channels, which move the clamp's bounds
 * (Keras 2's hard_sigmoid written out: relu6 (x + 3) / 6). */
bool osh_affine_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind);

bool
osh_affine_absorb (OshOpCall *c, const OshOpCall *next, OshFuseKind kind)
{
  AffineParams *a = c->params;
  const AffineParams *b = affine_of (next);
  OshAct act;
  if (kind != OSH_FUSE_NEXT || !affine_of (c))
    return false;
  if (!b)
    {
      if (clamped (a) || !osh_act_layer_elementwise (next, &act)
          || (act.kind != OSH_ACT_RELU && act.kind != OSH_ACT_RELU6))
        return false;
      a->lo = 0.0f;
      a->hi = act.kind == OSH_ACT_RELU6 ? 6.0f : INFINITY;
      return true;
    }
  if (clamped (b) || a->outer != b->outer || a->ch != b->ch || a->inner != b->inner
      || (clamped (a) && !(uniform (b) && b->scale[0] > 0.0f)))
    return false;
  for (int64_t i = 0; i < a->ch; i++)
    {
      a->scale[i] *= b->scale[i];
      a->shift[i] = a->shift[i] * b->scale[i] + b->shift[i];
    }
  a->lo = a->lo * b->scale[0] + b->shift[0];
  a->hi = a->hi * b->scale[0] + b->shift[0];
  return true;
}

bool
osh_affine_uniform_clamp (const OshOpCall *c, float *scale, float *shift, float *lo, float *hi)
{
  const AffineParams *ap = affine_of (c);
  if (!ap || !uniform (ap))
    return false;
  *scale = ap->scale[0], *shift = ap->shift[0], *lo = ap->lo, *hi = ap->hi;
  return true;
}

/* TFOpLambda: Keras 2 records `x + 3.0` on a symbolic tensor as a layer with config
 * {"function": "__operators__.add"} and the constant in the call's kwargs ({"y": 3.0}).
 * Scalar add, subtract, multiply and divide are an affine map; anything else stays
 * unrunnable. Returns the (scale, shift) or false when the call is not one of those. */
static bool
tfop_affine (const OshOpCall *c, double *scale, double *shift)
{
  static const struct
  {
    const char *function;
    char op;
  } FUNCTIONS[] = {
    { "__operators__.add", '+' }, { "math.add", '+' },
    { "__operators__.sub", '-' }, { "math.subtract", '-' },
    { "math.multiply", '*' },     { "__operators__.mul", '*' },
    { "math.truediv", '/' },      { "__operators__.truediv", '/' },
  };
  const char *f = osh_config_string (c->layer->config, "function", "");
  const json_t *y = c->kwargs ? json_object_get (c->kwargs, "y") : NULL;
  if (c->n_in != 1 || !json_is_number (y))
    return false;
  double v = json_number_value (y);
  for (size_t i = 0; i < sizeof FUNCTIONS / sizeof FUNCTIONS[0]; i++)
    if (strcmp (f, FUNCTIONS[i].function) == 0)
      {
        char op = FUNCTIONS[i].op;
        if (op == '/' && v == 0)
          return false;
        *scale = op == '*' ? v : op == '/' ? 1.0 / v : 1.0;
        *shift = op == '+' ? v : op == '-' ? -v : 0.0;
        return true;
      }
  return false;
}

bool
osh_tfop_infer (OshOpCall *c, OshError *err)
{
  double scale, shift;
  if (!tfop_affine (c, &scale, &shift))
    {
      /* Python code we cannot run: the shape stays unknown, like any unknown class. */
      memset (c->out, 0, (size_t) c->n_out * sizeof *c->out);
      return true;
    }
  (void) err;
  c->out[0] = c->in[0];
  return true;
}

bool
osh_tfop_prepare (OshOpCall *c, OshError *err)
{
  double scale, shift;
  if (!tfop_affine (c, &scale, &shift) || c->in[0].rank < 1)
    return osh_fail (err, OSH_ERR_UNSUPPORTED,
                     "class TFOpLambda cannot run in Offshoot (function '%s'): only x + c, x - c, "
                     "x * c and x / c with a number c are supported; other TensorFlow calls are "
                     "Python code the file does not hold",
                     osh_config_string (c->layer->config, "function", "?"));
  AffineParams *ap = affine_new (c, c->in[0].rank - 1, err);
  if (!ap)
    return false;
  for (int64_t i = 0; i < ap->ch; i++)
    {
      ap->scale[i] = (float) scale;
      ap->shift[i] = (float) shift;
    }
  return true;
}

bool
osh_affine_channels (const OshOpCall *c, int64_t ch, const float **scale, const float **shift)
{
  /* Only this file's BatchNormalization step holds AffineParams (not, say, ONNX's). */
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  const AffineParams *ap = c->params;
  if (!ap || !op || op->prepare != osh_batchnorm_prepare || ap->layer_norm || ap->inner != 1
      || ap->ch != ch || clamped (ap))
    return false;
  *scale = ap->scale;
  *shift = ap->shift;
  return true;
}
