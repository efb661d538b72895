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
