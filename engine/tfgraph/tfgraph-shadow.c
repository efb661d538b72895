/* Running a TF op through the Keras or ONNX op that has its semantics (tfgraph-shadow.h). */
#include "tfgraph-shadow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osh-onnx.h"

const OshOp *
tf_keras_op (const char *name)
{
  for (int i = 0; i < osh_keras_dialect.n_ops; i++)
    if (strcmp (osh_keras_dialect.ops[i].name, name) == 0)
      return &osh_keras_dialect.ops[i];
  return NULL;
}

const OshOp *
tf_onnx_op (const char *name)
{
  for (int i = 0; i < OSH_ONNX_OP_COUNT; i++)
    if (strcmp (osh_onnx_ops[i].name, name) == 0)
      return &osh_onnx_ops[i];
  return NULL;
}

const OshTensor *
tf_const_input (const OshOpCall *c, int i, const char *what, OshError *err)
{
  const OshLayer *l = c->layer;
  if (i < 0 || i >= l->n_slots)
    {
      osh_fail (err, OSH_ERR_FORMAT, "input %d (%s) is missing", i, what);
      return NULL;
    }
  if (l->slots[i].kind != OSH_SLOT_WEIGHT || !l->weights[l->slots[i].index].value->data)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED,
                "input %d (%s) is computed at run time; Offshoot needs it as a constant", i, what);
      return NULL;
    }
  return l->weights[l->slots[i].index].value;
}

const OshShape *
tf_slot_shape (const OshOpCall *c, int i)
{
  const OshLayer *l = c->layer;
  if (i < 0 || i >= l->n_slots)
    return NULL;
  OshSlot s = l->slots[i];
  if (s.kind == OSH_SLOT_ACTIVATION && s.index < c->n_in)
    return &c->in[s.index];
  if (s.kind == OSH_SLOT_WEIGHT && s.index < l->n_weights)
    return &l->weights[s.index].value->shape;
  return NULL;
}

const float *
tf_slot_data (const OshOpCall *c, const float *const *in, int i)
{
  OshSlot s = c->layer->slots[i];
  return s.kind == OSH_SLOT_ACTIVATION ? in[s.index] : c->layer->weights[s.index].value->data;
}

bool
tf_add_weight (TfShadow *s, OshTensor *t, bool slot, OshError *err)
{
  if (!t)
    return false;
  if (s->n_owned >= TF_MAX_SLOTS || s->layer.n_weights >= TF_MAX_SLOTS
      || (slot && s->layer.n_slots >= TF_MAX_SLOTS))
    {
      osh_tensor_free (t);
      return osh_fail (err, OSH_ERR_LIMIT, "too many inputs");
    }
  s->owned[s->n_owned++] = t;
  s->weights[s->layer.n_weights] = (OshWeight){ .name = "tf", .value = t };
  if (slot)
    s->slots[s->layer.n_slots++] = (OshSlot){ OSH_SLOT_WEIGHT, s->layer.n_weights };
  s->layer.n_weights++;
  return true;
}

OshTensor *
tf_vector (const float *v, int n, OshError *err)
{
  OshShape shape = { .rank = 1, .dim = { n } };
  OshTensor *t = osh_tensor_new (&shape, err);
  if (t && n)
    memcpy (t->data, v, (size_t) n * sizeof *v);
  return t;
}

void
tf_drop_slot (TfShadow *s, int i)
{
  if (i < 0 || i >= s->layer.n_slots)
    return;
  memmove (&s->slots[i], &s->slots[i + 1], (size_t) (s->layer.n_slots - i - 1) * sizeof (OshSlot));
  s->layer.n_slots--;
}

static void
shadow_free (void *p)
{
  TfShadow *s = p;
  if (!s)
    return;
  if (s->inner)
    (s->inner_free ? s->inner_free : free) (s->inner);
  for (int i = 0; i < s->n_owned; i++)
    osh_tensor_free (s->owned[i]);
  json_decref (s->layer.config);
  free (s);
}

/* The shadow of call c: a copy of its layer, then translated. */
static TfShadow *
shadow_new (const OshOpCall *c, OshError *err)
{
  const OshLayer *l = c->layer;
  TfTranslateFn translate = tf_translation (l->class_name);
  if (!translate)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED, "TF op %s has no kernel in Offshoot", l->class_name);
      return NULL;
    }
  if (l->n_weights > TF_MAX_SLOTS || l->n_slots > TF_MAX_SLOTS || c->n_in > TF_MAX_SLOTS
      || c->n_out > 16)
    {
      osh_fail (err, OSH_ERR_LIMIT, "more than %d inputs", TF_MAX_SLOTS);
      return NULL;
    }
  TfShadow *s = calloc (1, sizeof *s);
  if (!s)
    {
      osh_fail (err, OSH_ERR_NOMEM, "out of memory preparing %s", l->class_name);
      return NULL;
    }
  s->layer = *l;
  s->layer.config = json_object ();
  s->layer.weights = s->weights;
  s->layer.slots = s->slots;
  /* memcpy from NULL is undefined even for zero bytes: a node may have no weights or inputs. */
  if (l->n_weights)
    memcpy (s->weights, l->weights, (size_t) l->n_weights * sizeof *s->weights);
  if (l->n_slots)
    memcpy (s->slots, l->slots, (size_t) l->n_slots * sizeof *s->slots);
  if (c->n_in)
    memcpy (s->in, c->in, (size_t) c->n_in * sizeof *s->in);
  s->n_in = c->n_in;
  s->n_out = c->n_out;
  if (!translate (s, c, err))
    {
      shadow_free (s);
      return NULL;
    }
  s->layer.class_name = (char *) s->target->name;
  return s;
}

static OshOpCall
shadow_call (const TfShadow *s, const OshOpCall *c)
{
  OshOpCall call = *c;
  call.layer = &s->layer;
  call.in = s->in;
  call.n_in = s->n_in;
  call.out = (OshShape *) s->out;
  call.n_out = s->n_out;
  call.params = s->inner;
  call.free_params = s->inner_free;
  return call;
}

static bool
finish_shapes (TfShadow *s, OshOpCall *c, OshError *err)
{
  if (s->reshape_out)
    return s->reshape_out (s, c, c->out, err);
  memcpy (c->out, s->out, (size_t) c->n_out * sizeof *c->out);
  return true;
}

bool
tf_infer (OshOpCall *c, OshError *err)
{
  TfShadow *s = shadow_new (c, err);
  if (!s)
    return false;
  OshOpCall call = shadow_call (s, c);
  bool ok = s->target->infer (&call, err) && finish_shapes (s, c, err);
  shadow_free (s);
  return ok;
}

bool
tf_prepare (OshOpCall *c, OshError *err)
{
  TfShadow *s = shadow_new (c, err);
  if (!s)
    return false;
  OshOpCall call = shadow_call (s, c);
  bool ok = s->target->infer (&call, err)
            && (!s->target->prepare || s->target->prepare (&call, err))
            && finish_shapes (s, c, err);
  s->inner = call.params;
  s->inner_free = call.free_params;
  if (!ok || !s->target->run)
    {
      shadow_free (s);
      return ok || osh_fail (err, OSH_ERR_UNSUPPORTED, "%s has no kernel", s->target->name);
    }
  c->params = s;
  c->free_params = shadow_free;
  s->target_scratch = call.scratch;
  c->scratch = call.scratch + (s->has_pre_pad ? (size_t) osh_shape_numel (&s->in[0]) : 0);
  c->flops = call.flops;
  c->out_over_last_in = false;
  return true;
}

TfShadow *
tf_shadow_build (const OshOpCall *c, OshError *err)
{
  TfShadow *s = shadow_new (c, err);
  if (!s)
    return NULL;
  OshOpCall call = shadow_call (s, c);
  if (!s->target->infer (&call, err))
    {
      shadow_free (s);
      return NULL;
    }
  return s;
}

void
tf_shadow_free (TfShadow *s)
{
  shadow_free (s);
}

/* Input x (NHWC, shape `from`) into `to` (shape `padded`), framed by the pads. */
static void
pre_pad (const TfShadow *s, const OshShape *from, const float *x, float *to)
{
  const OshShape *padded = &s->in[0];
  int64_t h = from->dim[1], w = from->dim[2], ch = from->dim[3];
  int64_t ph = padded->dim[1], pw = padded->dim[2];
  for (int64_t b = 0; b < padded->dim[0]; b++)
    for (int64_t y = 0; y < ph; y++)
      for (int64_t xx = 0; xx < pw; xx++)
        {
          float *dst = to + ((b * ph + y) * pw + xx) * ch;
          int64_t sy = y - s->pre_pad[0], sx = xx - s->pre_pad[2];
          if (sy >= 0 && sy < h && sx >= 0 && sx < w)
            memcpy (dst, x + ((b * h + sy) * w + sx) * ch, (size_t) ch * sizeof *dst);
          else
            for (int64_t k = 0; k < ch; k++)
              dst[k] = s->pre_pad_value;
        }
}

void
tf_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  const TfShadow *s = c->params;
  OshOpCall call = shadow_call (s, c);
  const float *padded_in[TF_MAX_SLOTS];
  if (s->has_pre_pad)
    {
      float *padded = scratch + s->target_scratch;
      pre_pad (s, &c->in[0], in[0], padded);
      memcpy (padded_in, in, (size_t) c->n_in * sizeof *in);
      padded_in[0] = padded;
      in = padded_in;
    }
  s->target->run (&call, in, out, scratch);
  if (s->tail == TF_TAIL_NONE)
    return;
  float *y = out[0];
  int64_t n = osh_shape_numel (&c->out[0]);
  for (int64_t i = 0; i < n; i++)
    switch (s->tail)
      {
      case TF_TAIL_PRELU: y[i] = y[i] < 0 ? y[i] * s->tail_vec[i % s->tail_n] : y[i]; break;
      case TF_TAIL_LEAKY: y[i] = y[i] < 0 ? y[i] * s->tail_alpha : y[i]; break;
      case TF_TAIL_FLOOR: y[i] = floorf (y[i]); break;
      case TF_TAIL_SQUARE: y[i] = y[i] * y[i]; break;
      case TF_TAIL_NONE: break;
      }
}
