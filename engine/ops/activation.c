/* Every Keras activation, used by Activation layers and fused into Conv/Dense
 * through their `activation` config key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"
#include "osh-vec.h"

static const struct
{
  const char *name;
  OshActKind kind;
} act_names[] = {
  { "linear", OSH_ACT_LINEAR },
  { "relu", OSH_ACT_RELU },
  { "relu6", OSH_ACT_RELU6 },
  { "elu", OSH_ACT_ELU },
  { "selu", OSH_ACT_SELU },
  { "gelu", OSH_ACT_GELU },
  { "sigmoid", OSH_ACT_SIGMOID },
  { "hard_sigmoid", OSH_ACT_HARD_SIGMOID_K2 },
  { "swish", OSH_ACT_SWISH },
  { "silu", OSH_ACT_SWISH },
  { "hard_swish", OSH_ACT_HARD_SWISH },
  { "hard_silu", OSH_ACT_HARD_SWISH },
  { "tanh", OSH_ACT_TANH },
  { "softmax", OSH_ACT_SOFTMAX },
  { "softplus", OSH_ACT_SOFTPLUS },
  { "softsign", OSH_ACT_SOFTSIGN },
  { "exponential", OSH_ACT_EXPONENTIAL },
  { "leaky_relu", OSH_ACT_LEAKY_RELU },
  { "mish", OSH_ACT_MISH },
  { "log_softmax", OSH_ACT_LOG_SOFTMAX },
};

bool
osh_act_parse (const OshOpCall *c, const json_t *value, OshAct *act, OshError *err)
{
  act->kind = OSH_ACT_LINEAR;
  act->alpha = 0;
  if (!value || json_is_null (value))
    return true;
  const char *name = NULL;
  if (json_is_string (value))
    name = json_string_value (value);
  else if (json_is_object (value))
    {
      /* Keras 3 serialises functions as {"class_name": "function", "config": "relu"}. */
      const json_t *cfg = json_object_get (value, "config");
      name = json_is_string (cfg) ? json_string_value (cfg)
                                  : osh_config_string (value, "class_name", NULL);
    }
  if (!name)
    return osh_fail (err, OSH_ERR_FORMAT, "activation is not a name");
  for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
    if (strcmp (act_names[i].name, name) == 0)
      {
        act->kind = act_names[i].kind;
        bool k3 = osh_op_keras3 (c->graph);
        if (act->kind == OSH_ACT_HARD_SIGMOID_K2 && k3)
          act->kind = OSH_ACT_HARD_SIGMOID_K3;
        if (act->kind == OSH_ACT_LEAKY_RELU)
          act->alpha = k3 ? 0.2f : 0.3f;
        return true;
      }
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "activation \"%s\" is not supported", name);
}

bool
osh_act_from_config (const OshOpCall *c, OshAct *act, OshError *err)
{
  return osh_act_parse (c, json_object_get (c->layer->config, "activation"), act, err);
}

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

static inline float
softplusf (float x)
{
  /* log(1 + e^x) without overflow. */
  return x > 20 ? x : x < -20 ? expf (x) : log1pf (expf (x));
}

void
osh_softmax (const float *x, float *y, int64_t outer, int64_t len, int64_t inner, bool log_form)
{
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < inner; k++)
      {
        const float *xs = x + o * len * inner + k;
        float *ys = y + o * len * inner + k;
        float m = xs[0];
        for (int64_t i = 1; i < len; i++)
          m = xs[i * inner] > m ? xs[i * inner] : m;
        double sum = 0; /* in double: a thousand classes of similar size lose no digits */
        for (int64_t i = 0; i < len; i++)
          sum += expf (xs[i * inner] - m);
        if (log_form)
          {
            float ls = (float) log (sum);
            for (int64_t i = 0; i < len; i++)
              ys[i * inner] = xs[i * inner] - m - ls;
          }
        else
          {
            float inv = (float) (1.0 / sum);
            for (int64_t i = 0; i < len; i++)
              ys[i * inner] = expf (xs[i * inner] - m) * inv;
          }
      }
}

bool
osh_act_epilogue (const OshAct *act, OshEpilogue *e)
{
  *e = osh_epilogue_none ();
  switch (act->kind)
    {
    case OSH_ACT_RELU: *e = osh_epilogue_clamp (0.0f, INFINITY); return true;
    case OSH_ACT_RELU6: *e = osh_epilogue_clamp (0.0f, 6.0f); return true;
    case OSH_ACT_SIGMOID: e->kind = OSH_EPILOGUE_SIGMOID; return true;
    case OSH_ACT_SWISH: e->kind = OSH_EPILOGUE_SWISH; return true;
    case OSH_ACT_HARD_SIGMOID_K2:
      *e = osh_epilogue_hard (false, 0.2f, 0.5f, 0.0f, 1.0f);
      return true;
    case OSH_ACT_HARD_SIGMOID_K3:
      *e = osh_epilogue_hard (false, 1.0f / 6.0f, 0.5f, 0.0f, 1.0f);
      return true;
    case OSH_ACT_HARD_SWISH:
      *e = osh_epilogue_hard (true, 1.0f / 6.0f, 0.5f, 0.0f, 1.0f);
      return true;
    default: return false;
    }
}

static void
apply_range (const OshAct *a, float *x, int64_t n)
{
  const float selu_a = 1.6732632423543772f, selu_s = 1.0507009873554805f;
  switch (a->kind)
    {
    case OSH_ACT_LINEAR:
    case OSH_ACT_SOFTMAX:
    case OSH_ACT_LOG_SOFTMAX:
    case OSH_ACT_COUNT: break;
    case OSH_ACT_RELU: osh_vec_relu (x, x, n, INFINITY, 0.0f, 0.0f); break;
    case OSH_ACT_RELU6: osh_vec_relu (x, x, n, 6.0f, 0.0f, 0.0f); break;
    case OSH_ACT_ELU:
      for (int64_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : (a->alpha ? a->alpha : 1.0f) * expm1f (x[i]);
      break;
    case OSH_ACT_SELU:
      for (int64_t i = 0; i < n; i++)
        x[i] = selu_s * (x[i] > 0 ? x[i] : selu_a * expm1f (x[i]));
      break;
    case OSH_ACT_GELU:
      for (int64_t i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff (x[i] * 0.70710678118654752f));
      break;
    case OSH_ACT_GELU_TANH:
      for (int64_t i = 0; i < n; i++)
        {
          float v = x[i];
          x[i] = 0.5f * v * (1.0f + tanhf (0.7978845608028654f * (v + 0.044715f * v * v * v)));
        }
      break;
    case OSH_ACT_SIGMOID: osh_vec_sigmoid (x, n, 0); break;
    case OSH_ACT_HARD_SIGMOID_K2:
    case OSH_ACT_HARD_SIGMOID_K3:
    case OSH_ACT_HARD_SWISH:
      {
        OshEpilogue e;
        osh_act_epilogue (a, &e);
        osh_vec_epilogue (&e, x, n);
        break;
      }
    case OSH_ACT_SWISH: osh_vec_sigmoid (x, n, 1); break;
    case OSH_ACT_TANH:
      for (int64_t i = 0; i < n; i++)
        x[i] = tanhf (x[i]);
      break;
    case OSH_ACT_SOFTPLUS:
      for (int64_t i = 0; i < n; i++)
        x[i] = softplusf (x[i]);
      break;
    case OSH_ACT_SOFTSIGN:
      for (int64_t i = 0; i < n; i++)
        x[i] = x[i] / (1.0f + fabsf (x[i]));
      break;
    case OSH_ACT_EXPONENTIAL:
      for (int64_t i = 0; i < n; i++)
        x[i] = expf (x[i]);
      break;
    case OSH_ACT_LEAKY_RELU: osh_vec_relu (x, x, n, INFINITY, 0.0f, a->alpha); break;
    case OSH_ACT_MISH:
      for (int64_t i = 0; i < n; i++)
        x[i] = x[i] * tanhf (softplusf (x[i]));
      break;
    }
}

typedef struct
{
  const OshAct *act;
  float *x;
  int64_t cols;
} ActJob;

static void
act_job (void *arg, int64_t begin, int64_t end)
{
  ActJob *j = arg;
  if (j->act->kind == OSH_ACT_SOFTMAX || j->act->kind == OSH_ACT_LOG_SOFTMAX)
    osh_softmax (j->x + begin * j->cols, j->x + begin * j->cols, end - begin, j->cols, 1,
                 j->act->kind == OSH_ACT_LOG_SOFTMAX);
  else
    apply_range (j->act, j->x + begin * j->cols, (end - begin) * j->cols);
}

void
osh_act_apply (const OshAct *act, float *x, int64_t rows, int64_t cols, int threads)
{
  if (act->kind == OSH_ACT_LINEAR || rows * cols == 0)
    return;
  ActJob j = { act, x, cols };
  /* Small tensors are not worth a thread. */
  if (rows * cols < 65536)
    threads = 1;
  osh_parallel_for (threads, rows, act_job, &j);
}

/* ---- activation layers ---- */

typedef enum
{
  LAYER_ACT,     /* Activation, ELU, LeakyReLU: an OshAct over everything */
  LAYER_RELU,    /* ReLU(max_value, negative_slope, threshold), ThresholdedReLU */
  LAYER_PRELU,   /* PReLU: alpha per element of one sample, broadcast over shared axes */
  LAYER_SOFTMAX, /* Softmax(axis) */
} ActLayerKind;

typedef struct
{
  ActLayerKind kind;
  OshAct act;
  float max_value, slope, threshold;
  float *alpha; /* PReLU, one sample's worth */
  int64_t sample, outer, axis_len, inner;
} ActLayer;

static void
act_layer_free (void *p)
{
  ActLayer *a = p;
  free (a->alpha);
  free (a);
}

bool osh_act_layer_prepare (OshOpCall *c, OshError *err);
void osh_act_layer_run (const OshOpCall *c, const float *const *in, float *const *out,
                        float *scratch);

/* PReLU's alpha has the sample's shape with 1 on shared axes: expand it to the full sample. */
static bool
prelu_alpha (OshOpCall *c, ActLayer *a, OshError *err)
{
  const OshShape *in = &c->in[0];
  const OshTensor *w = osh_op_weight (c, 0);
  OshShape sample = *in;
  sample.rank = in->rank - 1;
  for (int i = 0; i < sample.rank; i++)
    sample.dim[i] = in->dim[i + 1];
  OshShape b;
  if (!w || !osh_op_broadcast (&sample, &w->shape, &b) || !osh_shape_equal (&b, &sample))
    return w ? osh_op_shape_fail (err, "alpha does not broadcast to a sample", &w->shape, &sample)
             : osh_fail (err, OSH_ERR_SHAPE, "PReLU has no alpha weight");
  a->sample = osh_shape_numel (&sample);
  a->alpha = malloc ((size_t) a->sample * sizeof (float));
  if (!a->alpha)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory for PReLU alpha");
  int off = sample.rank - w->shape.rank;
  for (int64_t i = 0; i < a->sample; i++)
    {
      int64_t rest = i, idx = 0, stride = 1;
      for (int d = sample.rank - 1; d >= 0; d--)
        {
          int64_t coord = rest % sample.dim[d];
          rest /= sample.dim[d];
          if (d >= off)
            {
              int64_t wd = w->shape.dim[d - off];
              idx += (wd == 1 ? 0 : coord) * stride;
              stride *= wd;
            }
        }
      a->alpha[i] = w->data[idx];
    }
  return true;
}

bool
osh_act_layer_prepare (OshOpCall *c, OshError *err)
{
  ActLayer *a = calloc (1, sizeof *a);
  if (!a)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing an activation");
  c->params = a;
  c->free_params = act_layer_free;
  const char *cls = c->layer->class_name;
  const json_t *cfg = c->layer->config;
  int64_t n = osh_shape_numel (&c->in[0]);
  c->flops = (double) n;
  if (strcmp (cls, "Activation") == 0)
    return osh_act_from_config (c, &a->act, err);
  if (strcmp (cls, "ELU") == 0)
    {
      a->act = (OshAct){ OSH_ACT_ELU, (float) osh_config_double (cfg, "alpha", 1.0) };
      return true;
    }
  if (strcmp (cls, "LeakyReLU") == 0)
    {
      /* Keras 2 calls it alpha, Keras 3 negative_slope; both default to 0.3. */
      double s = osh_config_double (cfg, "negative_slope", osh_config_double (cfg, "alpha", 0.3));
      a->act = (OshAct){ OSH_ACT_LEAKY_RELU, (float) s };
      return true;
    }
  if (strcmp (cls, "ReLU") == 0 || strcmp (cls, "ThresholdedReLU") == 0)
    {
      a->kind = LAYER_RELU;
      bool thr = cls[0] == 'T';
      const json_t *mv = json_object_get (cfg, "max_value");
      a->max_value = mv && json_is_number (mv) ? (float) json_number_value (mv) : INFINITY;
      a->slope = thr ? 0.0f : (float) osh_config_double (cfg, "negative_slope", 0.0);
      a->threshold = (float) osh_config_double (cfg, thr ? "theta" : "threshold", thr ? 1.0 : 0.0);
      return true;
    }
  if (strcmp (cls, "PReLU") == 0)
    {
      a->kind = LAYER_PRELU;
      return c->count_only || prelu_alpha (c, a, err); /* counting reads no values */
    }
  /* Softmax(axis) */
  a->kind = LAYER_SOFTMAX;
  const OshShape *in = &c->in[0];
  int axis = osh_op_axis (osh_config_int (cfg, "axis", -1), in->rank);
  if (axis < 0)
    return osh_fail (err, OSH_ERR_SHAPE, "axis %lld is outside rank %d",
                     (long long) osh_config_int (cfg, "axis", -1), in->rank);
  a->outer = a->inner = 1;
  for (int i = 0; i < axis; i++)
    a->outer *= in->dim[i];
  a->axis_len = in->dim[axis];
  for (int i = axis + 1; i < in->rank; i++)
    a->inner *= in->dim[i];
  c->flops = 4.0 * (double) n;
  return true;
}

void
osh_act_layer_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const ActLayer *a = c->params;
  int64_t n = osh_shape_numel (&c->in[0]);
  const float *x = in[0];
  float *y = out[0];
  switch (a->kind)
    {
    case LAYER_ACT:
      {
        int64_t last = c->in[0].rank ? c->in[0].dim[c->in[0].rank - 1] : 1;
        memcpy (y, x, (size_t) n * sizeof (float));
        osh_act_apply (&a->act, y, last ? n / last : 0, last, c->threads);
        break;
      }
    case LAYER_RELU:
      if (c->layer->class_name[0] == 'T') /* ThresholdedReLU: x > theta, else 0 */
        for (int64_t i = 0; i < n; i++)
          y[i] = x[i] > a->threshold ? x[i] : 0.0f;
      else
        osh_vec_relu (y, x, n, a->max_value, a->threshold, a->slope);
      break;
    case LAYER_PRELU:
      for (int64_t i = 0; i < n; i++)
        {
          float v = x[i];
          y[i] = v > 0 ? v : a->alpha[i % a->sample] * v;
        }
      break;
    case LAYER_SOFTMAX: osh_softmax (x, y, a->outer, a->axis_len, a->inner, false); break;
    }
}

bool
osh_act_layer_elementwise (const OshOpCall *c, OshAct *act)
{
  /* Only an activation layer's step holds an ActLayer: the step read after a merge or a
   * convolution may be anything (MobileNetV3's hard_swish Multiply feeds a depthwise
   * convolution of the same shape), and its params must not be read as one. */
  const OshOp *op = osh_op_find (c->graph, c->layer->class_name);
  const ActLayer *a = c->params;
  if (!a || !op || op->run != osh_act_layer_run)
    return false;
  if (a->kind == LAYER_ACT && a->act.kind != OSH_ACT_SOFTMAX && a->act.kind != OSH_ACT_LOG_SOFTMAX)
    {
      *act = a->act;
      return true;
    }
  if (a->kind != LAYER_RELU || c->layer->class_name[0] == 'T' || a->slope != 0.0f
      || a->threshold != 0.0f || !(a->max_value == 6.0f || isinf (a->max_value)))
    return false;
  *act = (OshAct){ a->max_value == 6.0f ? OSH_ACT_RELU6 : OSH_ACT_RELU, 0.0f };
  return true;
}
