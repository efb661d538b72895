/* A .keras or .h5 read whose weights come from the HDF5 guard's map (osh-weights-by-offset.h):
 * the map's wire form both ways, and the parent's read that takes each weight straight from the
 * file's bytes, with no HDF5 call. */
#include "osh-weights-by-offset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-keras-config.h"
#include "osh-limits.h"

bool
osh_weight_map_add (OshWeightMap *map, int layer, const char *name, const OshShape *shape,
                    int64_t offset)
{
  size_t len = strlen (name);
  if (len == 0 || len >= OSH_WEIGHT_MAP_NAME_MAX || map->n >= OSH_WEIGHT_MAP_MAX_PLACES)
    {
      map->incomplete = true; /* the parent would refuse it: it reads with HDF5 instead */
      return true;
    }
  if (map->n == map->capacity)
    {
      size_t capacity = map->capacity ? 2 * map->capacity : 64;
      OshWeightPlace *grown = realloc (map->places, capacity * sizeof *grown);
      if (!grown)
        return false;
      map->places = grown;
      map->capacity = capacity;
    }
  /* A weight with values but no place: the parent reads the file with HDF5 instead. */
  int64_t numel = osh_shape_numel (shape);
  if (numel != 0 && offset < 0)
    map->incomplete = true;
  OshWeightPlace *p = &map->places[map->n++];
  memset (p, 0, sizeof *p);
  p->layer = layer;
  memcpy (p->name, name, len + 1);
  p->shape = *shape;
  p->offset = numel == 0 ? -1 : offset;
  return true;
}

void
osh_weight_map_clear (OshWeightMap *map)
{
  free (map->places);
  free (map->config);
  free (map->version);
  free (map->backend);
  memset (map, 0, sizeof *map);
}

/* The longest keras_version or backend sent. */
#define ATTR_MAX 4095

static bool
copy_attr (char **to, const char *from, size_t max, bool *too_long)
{
  if (!from)
    return true;
  *too_long |= strlen (from) > max;
  return (*to = strdup (from)) != NULL;
}

bool
osh_weight_map_set_h5_attrs (OshWeightMap *map, const char *config, const char *version,
                             const char *backend)
{
  bool too_long = false;
  bool ok = copy_attr (&map->config, config, (size_t) OSH_WEIGHT_MAP_MAX_CONFIG, &too_long)
            && copy_attr (&map->version, version, ATTR_MAX, &too_long)
            && copy_attr (&map->backend, backend, ATTR_MAX, &too_long);
  map->incomplete |= too_long || !map->config; /* the parent needs the config */
  return ok;
}

/* The largest encoding of one place: layer, name, rank, sizes, offset. */
#define PLACE_MAX_BYTES (4 + 1 + OSH_WEIGHT_MAP_NAME_MAX + 1 + 8 * OSH_MAX_RANK + 8)
/* The smallest: a one-letter name and rank 0. */
#define PLACE_MIN_BYTES (4 + 1 + 1 + 1 + 8)
/* What follows the places: three string lengths at least. */
#define ATTRS_MIN_BYTES (3 * 4)

void *
osh_weight_map_encode (const OshWeightMap *map, size_t *size_out)
{
  const char *attrs[3] = { map->config, map->version, map->backend };
  size_t attr_bytes = 0;
  for (int i = 0; i < 3; i++)
    attr_bytes += 4 + (attrs[i] ? strlen (attrs[i]) : 0);
  char *buf = malloc (4 + map->n * PLACE_MAX_BYTES + attr_bytes), *p = buf;
  if (!buf)
    return NULL;
  uint32_t count = (uint32_t) map->n;
  memcpy (p, &count, 4), p += 4;
  for (size_t i = 0; i < map->n; i++)
    {
      const OshWeightPlace *w = &map->places[i];
      uint8_t len = (uint8_t) strlen (w->name), rank = (uint8_t) w->shape.rank;
      memcpy (p, &w->layer, 4), p += 4;
      *p++ = (char) len;
      memcpy (p, w->name, len), p += len;
      *p++ = (char) rank;
      memcpy (p, w->shape.dim, 8 * (size_t) rank), p += 8 * (size_t) rank;
      memcpy (p, &w->offset, 8), p += 8;
    }
  for (int i = 0; i < 3; i++)
    {
      uint32_t len = attrs[i] ? (uint32_t) strlen (attrs[i]) : UINT32_MAX;
      memcpy (p, &len, 4), p += 4;
      if (attrs[i])
        memcpy (p, attrs[i], len), p += len;
    }
  *size_out = (size_t) (p - buf);
  return buf;
}

/* Reads `n` bytes at *at of msg[0, size); false when they are not all there. */
static bool
take (const char *msg, size_t size, size_t *at, void *out, size_t n)
{
  if (n > size - *at)
    return false;
  memcpy (out, msg + *at, n);
  *at += n;
  return true;
}

static bool
bad_map (OshWeightMap *map, const char *name, OshError *err, const char *what, size_t place)
{
  osh_weight_map_clear (map);
  return osh_fail (err, OSH_ERR_FORMAT,
                   "%s: the HDF5 guard process sent a malformed weight map (%s at place %zu)", name,
                   what, place);
}

bool
osh_weight_map_decode (const char *name, const void *data, size_t size, OshWeightMap *map,
                       OshError *err)
{
  const char *msg = data;
  osh_weight_map_clear (map);
  size_t at = 0;
  uint32_t count = 0;
  if (!take (msg, size, &at, &count, 4))
    return bad_map (map, name, err, "no count", 0);
  /* Bounded before anything is allocated: by the limit, and by what the message can hold. */
  if (count > OSH_WEIGHT_MAP_MAX_PLACES || size - at < ATTRS_MIN_BYTES
      || count > (size - at - ATTRS_MIN_BYTES) / PLACE_MIN_BYTES)
    return bad_map (map, name, err, "a count over the limit or the message", 0);
  map->places = calloc (count ? count : 1, sizeof *map->places);
  if (!map->places)
    return osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for the weight map", name);
  map->capacity = count;
  for (uint32_t i = 0; i < count; i++)
    {
      OshWeightPlace *w = &map->places[i];
      uint8_t len = 0, rank = 0;
      if (!take (msg, size, &at, &w->layer, 4) || !take (msg, size, &at, &len, 1))
        return bad_map (map, name, err, "truncated", i);
      /* len < OSH_WEIGHT_MAP_NAME_MAX: a u8 */
      if (w->layer < 0 || w->layer >= OSH_MAX_LAYERS || len == 0)
        return bad_map (map, name, err, "a layer or name length out of range", i);
      if (!take (msg, size, &at, w->name, len) || !take (msg, size, &at, &rank, 1))
        return bad_map (map, name, err, "truncated", i);
      if (memchr (w->name, '\0', len) || rank > OSH_MAX_RANK)
        return bad_map (map, name, err, "a NUL in a name or a rank over the limit", i);
      w->shape.rank = rank;
      if (!take (msg, size, &at, w->shape.dim, 8 * (size_t) rank)
          || !take (msg, size, &at, &w->offset, 8))
        return bad_map (map, name, err, "truncated", i);
      int64_t numel = 1;
      for (int d = 0; d < rank; d++)
        {
          int64_t n = w->shape.dim[d];
          if (n < 0 || n > OSH_MAX_DIM || (n > 0 && numel > OSH_MAX_ELEMENTS / n))
            return bad_map (map, name, err, "a size over the limits", i);
          numel *= n;
        }
      if (w->offset < -1)
        return bad_map (map, name, err, "a negative offset", i);
      map->n++;
    }
  char **attrs[3] = { &map->config, &map->version, &map->backend };
  const uint32_t max[3] = { (uint32_t) OSH_WEIGHT_MAP_MAX_CONFIG, ATTR_MAX, ATTR_MAX };
  for (int i = 0; i < 3; i++)
    {
      uint32_t len = 0;
      if (!take (msg, size, &at, &len, 4))
        return bad_map (map, name, err, "truncated", count);
      if (len == UINT32_MAX)
        continue;
      if (len > max[i] || len > size - at)
        return bad_map (map, name, err, "an attribute over the limit or the message", count);
      if (memchr (msg + at, '\0', len))
        return bad_map (map, name, err, "a NUL in an attribute", count);
      if (!(*attrs[i] = strndup (msg + at, len)))
        {
          osh_weight_map_clear (map);
          return osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for the weight map", name);
        }
      at += len;
    }
  if (at != size)
    return bad_map (map, name, err, "bytes after the last place", count);
  return true;
}

OshTensor *
osh_tensor_from_image (const OshShape *s, const void *image, size_t at, OshMapping *borrow,
                       OshError *err)
{
  int64_t numel = osh_shape_numel (s);
  if (numel == 0)
    {
      /* osh_tensor_new wants positive sizes: the shape alone, as the HDF5 reader gives it. */
      OshTensor *t = calloc (1, sizeof *t);
      if (!t)
        osh_fail (err, OSH_ERR_NOMEM, "out of memory");
      else
        t->shape = *s;
      return t;
    }
  float *in_place = (float *) ((const char *) image + at);
  size_t bytes = (size_t) numel * sizeof (float);
  if (borrow && (uintptr_t) in_place % 16 == 0 && osh_mapping_holds (borrow, in_place, bytes))
    return osh_tensor_borrow (s, in_place, borrow, err);
  OshTensor *t = osh_tensor_new (s, err);
  if (t)
    memcpy (t->data, in_place, bytes);
  return t;
}

/* True when every place of `map` names a layer of `g` and lies inside model.weights.h5's
 * stored bytes [lo, hi) of the archive, and all of them together are no more than those bytes
 * (weights do not share bytes: a map that repeats one place cannot make the parent copy it
 * without end). */
static bool
map_fits (const OshWeightMap *map, const OshGraph *g, size_t lo, size_t hi)
{
  if (map->incomplete)
    return false;
  uint64_t total = 0;
  for (size_t i = 0; i < map->n; i++)
    {
      const OshWeightPlace *w = &map->places[i];
      int64_t numel = osh_shape_numel (&w->shape);
      uint64_t bytes = (uint64_t) numel * sizeof (float);
      if (w->layer >= g->n_layers || numel < 0)
        return false;
      if (numel == 0)
        continue;
      if (w->offset < 0 || (uint64_t) w->offset < lo || (uint64_t) w->offset > hi
          || bytes > hi - (uint64_t) w->offset)
        return false;
      total += bytes;
      if (total > hi - lo)
        return false;
    }
  return true;
}

/* Binds every place of `map` to `g` from `data`, when all lie inside [lo, hi): 1, or -1 when
 * they do not (nothing bound), or 0 with err. */
static int
bind_places (OshGraph *g, const char *name, const void *data, size_t lo, size_t hi,
             const OshWeightMap *map, OshMapping *borrow, OshError *err)
{
  if (hi <= lo || !map_fits (map, g, lo, hi))
    return -1;
  for (size_t i = 0; i < map->n; i++)
    {
      const OshWeightPlace *w = &map->places[i];
      OshTensor *t = osh_tensor_from_image (&w->shape, data,
                                            (size_t) (w->offset < 0 ? 0 : w->offset), borrow, err);
      if (!t || !osh_layer_add_weight (g, w->layer, w->name, t, true, err))
        {
          osh_error_prefix (err, "%s: layer '%s' weight '%s': ", name, g->layers[w->layer].name,
                            w->name);
          return 0;
        }
    }
  return 1;
}

OshGraph *
osh_keras3_read_by_offsets (const char *name, const void *data, size_t size,
                            const OshWeightMap *map, OshReadMode mode, OshMapping *borrow,
                            OshError *err)
{
  size_t at = 0, len = 0;
  if (map->config)
    return NULL; /* a .h5's map */
  OshGraph *g = osh_keras3_read_config (name, data, size, &at, &len, err);
  if (!g)
    return NULL;
  if (len == 0 || !map_fits (map, g, at, at + len))
    {
      osh_graph_free (g);
      return NULL; /* err clear: the caller reads with HDF5 */
    }
  /* As the HDF5 read of a stored model.weights.h5: its checksum, unless the caller made it. */
  if (mode == OSH_READ_ALL && !osh_keras3_verify_weights (name, data, size, err))
    goto fail;
  if (bind_places (g, name, data, at, at + len, map, borrow, err) != 1
      || !osh_keras_check_all_weights (g, name, err))
    goto fail;
  json_object_set_new (g->meta, OSH_META_WEIGHTS_BY_OFFSET, json_true ());
  return g;
fail:
  osh_graph_free (g);
  return NULL;
}

OshGraph *
osh_h5_read_by_offsets (const char *name, const void *data, size_t size, const OshWeightMap *map,
                        OshMapping *borrow, OshError *err)
{
  if (!map->config || map->incomplete)
    return NULL;
  OshGraph *g = osh_h5_config_graph (name, map->config, map->version, map->backend, err);
  if (!g)
    return NULL;
  int bound = bind_places (g, name, data, 0, size, map, borrow, err);
  if (bound == 1 && osh_h5_finish_weights (g, name, map->version, map->backend, err))
    {
      json_object_set_new (g->meta, OSH_META_WEIGHTS_BY_OFFSET, json_true ());
      return g;
    }
  osh_graph_free (g);
  return NULL; /* bound -1: err clear, the caller reads with HDF5 */
}
