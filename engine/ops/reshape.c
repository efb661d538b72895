/* Layout ops: InputLayer, Reshape, Flatten (channels_first models flatten in
 * NCHW order), Permute, RepeatVector. */
#include <stdlib.h>
#include <string.h>

#include "osh-op.h"

bool osh_input_infer (OshOpCall *c, OshError *err);
bool osh_reshape_infer (OshOpCall *c, OshError *err);
bool osh_flatten_infer (OshOpCall *c, OshError *err);
bool osh_permute_infer (OshOpCall *c, OshError *err);
bool osh_repeat_vector_infer (OshOpCall *c, OshError *err);

/* Reads a list of sizes (null = None = -1) into s, after `skip` leading entries. */
static bool
read_dims (const json_t *v, int first, OshShape *s, const char *key, OshError *err)
{
  if (!json_is_array (v) || json_array_size (v) + (size_t) first > OSH_MAX_RANK)
    return osh_fail (err, OSH_ERR_FORMAT, "config \"%s\" is not a list of at most %d sizes", key,
                     OSH_MAX_RANK - first);
  s->rank = first + (int) json_array_size (v);
  for (size_t i = 0; i < json_array_size (v); i++)
    {
      const json_t *e = json_array_get (v, i);
      if (json_is_null (e))
        s->dim[first + i] = -1;
      else if (json_is_integer (e) && json_integer_value (e) >= -1
               && json_integer_value (e) <= OSH_MAX_DIM)
        s->dim[first + i] = json_integer_value (e);
      else
        return osh_fail (err, OSH_ERR_FORMAT, "config \"%s\" entry %zu is not a size", key, i);
    }
  return true;
}

bool
osh_input_infer (OshOpCall *c, OshError *err)
{
  const json_t *cfg = c->layer->config;
  const char *keys[] = { "batch_input_shape", "batch_shape" };
  for (int k = 0; k < 2; k++)
    {
      const json_t *v = json_object_get (cfg, keys[k]);
      if (v && !json_is_null (v))
        {
          if (!read_dims (v, 0, &c->out[0], keys[k], err))
            return false;
          if (c->out[0].rank > 0)
            c->out[0].dim[0] = -1; /* the batch stays None */
          return true;
        }
    }
  const json_t *v = json_object_get (cfg, "input_shape");
  if (!v)
    v = json_object_get (cfg, "shape");
  if (v && !json_is_null (v))
    {
      if (!read_dims (v, 1, &c->out[0], "input_shape", err))
        return false;
      c->out[0].dim[0] = -1;
      return true;
    }
  c->out[0].rank = 0; /* unknown until an input shape is given */
  return true;
}

bool
osh_reshape_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 1, OSH_MAX_RANK, err))
    return false;
  OshShape t;
  if (!read_dims (json_object_get (c->layer->config, "target_shape"), 1, &t, "target_shape", err))
    return false;
  t.dim[0] = c->in[0].dim[0];
  int free_ax = -1;
  int64_t known = 1;
  for (int i = 1; i < t.rank; i++)
    {
      if (t.dim[i] < 0)
        {
          if (free_ax >= 0)
            return osh_fail (err, OSH_ERR_FORMAT, "target_shape has more than one -1");
          free_ax = i;
        }
      else
        known *= t.dim[i];
    }
  OshShape rest = c->in[0];
  rest.dim[0] = 1;
  int64_t n = osh_shape_numel (&rest);
  if (n < 0)
    {
      if (free_ax >= 0)
        t.dim[free_ax] = -1;
    }
  else if (free_ax >= 0)
    {
      if (known == 0 || n % known)
        return osh_op_shape_fail (err, "cannot reshape", &c->in[0], &t);
      t.dim[free_ax] = n / known;
    }
  else if (known != n)
    return osh_op_shape_fail (err, "cannot reshape (sizes differ)", &c->in[0], &t);
  c->out[0] = t;
  return true;
}

bool
osh_flatten_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 1, OSH_MAX_RANK, err))
    return false;
  OshShape rest = c->in[0];
  rest.dim[0] = 1;
  c->out[0] = osh_shape_make (2, (int64_t[]){ c->in[0].dim[0], osh_shape_numel (&rest) });
  return true;
}

bool
osh_permute_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 2, OSH_MAX_RANK, err))
    return false;
  const OshShape *in = &c->in[0];
  int64_t dims[OSH_MAX_RANK];
  if (!osh_config_ints (c->layer->config, "dims", dims, in->rank - 1))
    return osh_fail (err, OSH_ERR_FORMAT, "config \"dims\" should list %d axes", in->rank - 1);
  bool seen[OSH_MAX_RANK] = { false };
  OshShape o = { .rank = in->rank };
  o.dim[0] = in->dim[0];
  for (int i = 0; i < in->rank - 1; i++)
    {
      if (dims[i] < 1 || dims[i] >= in->rank || seen[dims[i]])
        return osh_fail (err, OSH_ERR_FORMAT, "config \"dims\" is not a permutation of 1..%d",
                         in->rank - 1);
      seen[dims[i]] = true;
      o.dim[i + 1] = in->dim[dims[i]];
    }
  c->out[0] = o;
  return true;
}

bool
osh_repeat_vector_infer (OshOpCall *c, OshError *err)
{
  if (!osh_op_need (c, 1, 2, 2, err))
    return false;
  int64_t n = osh_config_int (c->layer->config, "n", -1);
  if (n < 1)
    return osh_fail (err, OSH_ERR_FORMAT, "config \"n\" should be a positive int");
  c->out[0] = osh_shape_make (3, (int64_t[]){ c->in[0].dim[0], n, c->in[0].dim[1] });
  return true;
}

/* ---- kernels ---- */

/* General axis permutation of a rank-r tensor: out axis i is in axis perm[i]. */
static void
permute (const float *in, const OshShape *s, const int *perm, float *out)
{
  int r = s->rank;
  int64_t in_stride[OSH_MAX_RANK], out_dim[OSH_MAX_RANK], st[OSH_MAX_RANK];
  int64_t acc = 1;
  for (int d = r - 1; d >= 0; d--)
    {
      in_stride[d] = acc;
      acc *= s->dim[d];
    }
  for (int i = 0; i < r; i++)
    {
      out_dim[i] = s->dim[perm[i]];
      st[i] = in_stride[perm[i]];
    }
  int64_t n = osh_shape_numel (s), idx[OSH_MAX_RANK] = { 0 }, src = 0;
  for (int64_t k = 0; k < n; k++)
    {
      out[k] = in[src];
      for (int d = r - 1; d >= 0; d--)
        {
          src += st[d];
          if (++idx[d] < out_dim[d])
            break;
          src -= st[d] * out_dim[d];
          idx[d] = 0;
        }
    }
}

bool osh_flatten_prepare (OshOpCall *c, OshError *err);
bool osh_permute_prepare (OshOpCall *c, OshError *err);
void osh_flatten_run (const OshOpCall *c, const float *const *in, float *const *out,
                      float *scratch);
void osh_permute_run (const OshOpCall *c, const float *const *in, float *const *out,
                      float *scratch);
void osh_repeat_vector_run (const OshOpCall *c, const float *const *in, float *const *out,
                            float *scratch);

/* Flatten's and Permute's params: the axis order, or a plain copy. */
typedef struct
{
  bool copy;
  int perm[OSH_MAX_RANK];
} Order;

bool
osh_flatten_prepare (OshOpCall *c, OshError *err)
{
  Order *o = osh_op_params (c, sizeof *o, err);
  if (!o)
    return false;
  const OshShape *s = &c->in[0];
  /* Keras's Flatten(data_format="channels_first") first moves channels last, so Dense weights
   * trained either way line up. */
  const char *df = osh_config_string (c->layer->config, "data_format", NULL);
  o->copy = !(df && strcmp (df, "channels_first") == 0 && s->rank > 2);
  for (int i = 1; !o->copy && i < s->rank - 1; i++)
    o->perm[i] = i + 1;
  if (!o->copy)
    o->perm[s->rank - 1] = 1;
  return true;
}

bool
osh_permute_prepare (OshOpCall *c, OshError *err)
{
  Order *o = osh_op_params (c, sizeof *o, err);
  if (!o)
    return false;
  const OshShape *s = &c->in[0];
  int64_t dims[OSH_MAX_RANK];
  if (s->rank > 1 && !osh_config_ints (c->layer->config, "dims", dims, s->rank - 1))
    return osh_fail (err, OSH_ERR_FORMAT, "config \"dims\" should be a list of %d ints",
                     s->rank - 1);
  for (int i = 1; i < s->rank; i++)
    o->perm[i] = (int) dims[i - 1];
  return true;
}

void
osh_flatten_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  const Order *o = c->params;
  if (o->copy)
    memcpy (out[0], in[0], (size_t) osh_shape_numel (&c->in[0]) * sizeof (float));
  else
    permute (in[0], &c->in[0], o->perm, out[0]);
}

void
osh_permute_run (const OshOpCall *c, const float *const *in, float *const *out, float *scratch)
{
  (void) scratch;
  permute (in[0], &c->in[0], ((const Order *) c->params)->perm, out[0]);
}

void
osh_repeat_vector_run (const OshOpCall *c, const float *const *in, float *const *out,
                       float *scratch)
{
  (void) scratch;
  int64_t batch = c->out[0].dim[0], n = c->out[0].dim[1], d = c->out[0].dim[2];
  for (int64_t b = 0; b < batch; b++)
    for (int64_t k = 0; k < n; k++)
      memcpy (out[0] + (b * n + k) * d, in[0] + b * d, (size_t) d * sizeof (float));
}
