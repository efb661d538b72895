/* Keras 3 .keras archives: a zip with config.json (the model config), metadata.json and
 * model.weights.h5, whose weights sit under layers/<key>/vars/<i> (<key>: the class in snake
 * case, numbered on repeats), nested models recursing under their own layers/ group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "osh-crc32.h"
#include "osh-formats.h"
#include "osh-hdf5-util.h"
#include "osh-keras-config.h"
#include "osh-keras3-config-weights.h"
#include "osh-limits.h"
#include "osh-shapes.h"
#include "osh-weights-by-offset.h"
#include "osh-weights-later.h"
#include "osh-write-names.h"

/* Reads one archive entry whole, after checking its size and compression ratio. */
static char *
read_entry (zip_t *z, const char *entry, const char *name, size_t *size_out, OshError *err)
{
  zip_int64_t idx = zip_name_locate (z, entry, 0);
  if (idx < 0)
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s: the archive has no '%s' (not a Keras 3 .keras file?)",
                name, entry);
      return NULL;
    }
  zip_stat_t st;
  zip_stat_init (&st);
  if (zip_stat_index (z, (zip_uint64_t) idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s: cannot read the directory entry of '%s'", name, entry);
      return NULL;
    }
  if ((int64_t) st.size > OSH_MAX_ZIP_ENTRY)
    {
      osh_fail (err, OSH_ERR_LIMIT, "%s: '%s' unpacks to %llu bytes, over the limit of %lld", name,
                entry, (unsigned long long) st.size, (long long) OSH_MAX_ZIP_ENTRY);
      return NULL;
    }
  /* A zip bomb unpacks to far more than it holds; small entries may compress well. */
  if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size > (1u << 20)
      && st.size / (st.comp_size ? st.comp_size : 1) > OSH_MAX_ZIP_RATIO)
    {
      osh_fail (err, OSH_ERR_LIMIT, "%s: '%s' unpacks %llu bytes from %llu, a ratio over %d", name,
                entry, (unsigned long long) st.size, (unsigned long long) st.comp_size,
                OSH_MAX_ZIP_RATIO);
      return NULL;
    }
  osh_h5_progress (st.size);
  char *buf = malloc ((size_t) st.size + 1);
  if (!buf)
    {
      osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for '%s' (%llu bytes)", name, entry,
                (unsigned long long) st.size);
      return NULL;
    }
  zip_file_t *zf = zip_fopen_index (z, (zip_uint64_t) idx, 0);
  zip_int64_t got = zf ? zip_fread (zf, buf, st.size) : -1;
  /* One more read must find the end: the entry is no longer than its header says. */
  char extra;
  zip_int64_t more = zf && got >= 0 ? zip_fread (zf, &extra, 1) : 0;
  if (zf)
    zip_fclose (zf);
  if (got < 0 || (zip_uint64_t) got != st.size || more != 0)
    {
      free (buf);
      osh_fail (err, OSH_ERR_FORMAT, "%s: '%s' is damaged (read %lld of %llu bytes: %s)", name,
                entry, (long long) got, (unsigned long long) st.size, zip_strerror (z));
      return NULL;
    }
  buf[st.size] = '\0';
  *size_out = (size_t) st.size;
  return buf;
}

static uint32_t
le16 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8;
}

static uint32_t
le32 (const unsigned char *p)
{
  return le16 (p) | le16 (p + 2) << 16;
}

/* Where the bytes of a stored (uncompressed) entry sit in the archive, so that HDF5 reads
 * model.weights.h5 in place instead of from a 250 MB copy. Found through the central
 * directory and the entry's local header, each bound-checked; the caller compares what is
 * found with libzip's own view of the entry. False for anything else (deflated entries,
 * ZIP64 archives): the entry is then extracted as before. */
static bool
stored_span (const unsigned char *d, size_t size, const char *entry, size_t *off, size_t *len,
             uint32_t *crc)
{
  if (size < 22)
    return false;
  size_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0, p = size - 22;
  while (le32 (d + p) != 0x06054b50)
    if (p-- == lowest)
      return false;
  uint32_t n = le16 (d + p + 10), cd_size = le32 (d + p + 12), cd_off = le32 (d + p + 16);
  if ((uint64_t) cd_off + cd_size > p)
    return false;
  size_t q = cd_off, end = (size_t) cd_off + cd_size, want = strlen (entry);
  for (uint32_t i = 0; i < n; i++)
    {
      if (q + 46 > end || le32 (d + q) != 0x02014b50)
        return false;
      uint32_t nlen = le16 (d + q + 28), next = 46 + nlen + le16 (d + q + 30) + le16 (d + q + 32);
      if (q + 46 + nlen > end)
        return false;
      if (nlen == want && memcmp (d + q + 46, entry, want) == 0)
        {
          uint32_t method = le16 (d + q + 10), csize = le32 (d + q + 20), usize = le32 (d + q + 24),
                   local = le32 (d + q + 42);
          if (method != 0 || csize != usize || csize == 0xffffffffu || local == 0xffffffffu
              || (uint64_t) local + 30 > size || le32 (d + local) != 0x04034b50)
            return false;
          uint64_t start = (uint64_t) local + 30 + le16 (d + local + 26) + le16 (d + local + 28);
          if (start + csize > size)
            return false;
          *off = (size_t) start;
          *len = csize;
          *crc = le32 (d + q + 16);
          return true;
        }
      q += next;
    }
  return false;
}

#define WEIGHTS_ENTRY "model.weights.h5"

/* The checksum catches weights damaged inside an intact archive. Computed straight on the
 * bytes (libzip would copy them through a buffer first), three times as fast as zlib. */
bool
osh_keras3_verify_weights (const char *name, const void *data, size_t size, OshError *err)
{
  size_t off = 0, len = 0;
  uint32_t crc = 0;
  if (!stored_span (data, size, WEIGHTS_ENTRY, &off, &len, &crc))
    return true;
  if (osh_crc32 (0, (const char *) data + off, len) != crc)
    return osh_fail (err, OSH_ERR_FORMAT, "%s: '%s' is damaged (CRC error)", name, WEIGHTS_ENTRY);
  return true;
}

/* model.weights.h5 without copying it when it is stored as Keras stores it; else extracted
 * (*copy then owns the bytes). */
/* True when model.weights.h5 is stored uncompressed at [*off, *off + *len) of `data`, found
 * alike by stored_span and by libzip. */
static bool
stored_weights (zip_t *z, const void *data, size_t size, size_t *off, size_t *len)
{
  zip_int64_t idx = zip_name_locate (z, WEIGHTS_ENTRY, 0);
  zip_stat_t st;
  zip_stat_init (&st);
  uint32_t crc = 0;
  return idx >= 0 && zip_stat_index (z, (zip_uint64_t) idx, 0, &st) == 0
         && (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE
         && (st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_CRC)
         && stored_span (data, size, WEIGHTS_ENTRY, off, len, &crc) && *len == st.size
         && crc == st.crc;
}

static const char *
weights_bytes (zip_t *z, const void *data, size_t size, const char *name, OshReadMode mode,
               size_t *size_out, char **copy, OshError *err)
{
  size_t off = 0, len = 0;
  if (stored_weights (z, data, size, &off, &len))
    {
      /* The guard's child and a read for the graph alone skip the checksum pass, and so does a
       * read whose caller made it already. */
      if (mode == OSH_READ_ALL && !osh_keras3_verify_weights (name, data, size, err))
        return NULL;
      *size_out = len;
      return (const char *) data + off;
    }
  return *copy = read_entry (z, WEIGHTS_ENTRY, name, size_out, err);
}

typedef struct
{
  hid_t file;
  const char *name;
  const void *data;
  size_t size;
  OshReadMode mode;
  OshMapping *borrow;
  OshGraph *g;
  /* The guard child's map of where each weight lies (NULL: not asked), and where the weights'
   * bytes start in the archive (-1: an extracted copy, so no place can be told). */
  OshWeightMap *map;
  int64_t base;
  OshError *err;
} K3Ctx;

/* Groups are opened once and their members looked up by name inside them: a path from the
 * file's root is walked again, component by component, on every lookup (B7's 800 layers and
 * 1,000 weights made that the larger part of a read). `path` names a group in messages. */
static bool bind_group (K3Ctx *c, int layer, hid_t group, const char *path, int depth);

/* True when `group` has a member `name` (one lookup; HDF5's errors cleared). */
static bool
has_member (hid_t group, const char *name)
{
  htri_t r = H5Lexists (group, name, H5P_DEFAULT);
  H5Eclear2 (H5E_DEFAULT);
  return r > 0;
}

static hid_t
open_group (hid_t loc, const char *name)
{
  hid_t g = has_member (loc, name) ? H5Gopen2 (loc, name, H5P_DEFAULT) : H5I_INVALID_HID;
  H5Eclear2 (H5E_DEFAULT);
  return g;
}

static herr_t
collect_name (hid_t loc, const char *child, const H5L_info_t *info, void *data)
{
  (void) loc;
  (void) info;
  char ***v = data;
  size_t n = 0;
  while ((*v)[n])
    n++;
  char **grown = realloc (*v, (n + 2) * sizeof (char *));
  if (!grown)
    return -1;
  *v = grown;
  grown[n] = strdup (child);
  grown[n + 1] = NULL;
  return grown[n] ? 0 : -1;
}

/* The members of a group, in name order; a NULL-terminated malloc'd list. */
static char **
children (hid_t group)
{
  char **v = calloc (1, sizeof (char *));
  if (v)
    H5Literate (group, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, &v);
  H5Eclear2 (H5E_DEFAULT);
  return v;
}

static void
free_children (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

/* Notes where the weight bound next lies in the archive, for the guard's parent. */
static bool
record_place (K3Ctx *c, int layer, const char *wname, const OshShape *shape, int64_t at)
{
  if (osh_weight_map_add (c->map, layer, wname, shape, at < 0 || c->base < 0 ? -1 : c->base + at))
    return true;
  return osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory for the weight map", c->name);
}

/* vars/0, vars/1, ... in number order, then sub-objects (a wrapper's inner layer) by name. */
static bool
bind_group (K3Ctx *c, int layer, hid_t group, const char *path, int depth)
{
  if (depth > OSH_MAX_NESTING)
    return osh_fail (c->err, OSH_ERR_LIMIT, "%s: '%s' nests too deeply", c->name, path);
  hid_t vars = open_group (group, "vars");
  bool ok = true;
  for (int i = 0; vars >= 0 && ok; i++)
    {
      char index[16], wname[32];
      snprintf (index, sizeof index, "%d", i);
      if (!has_member (vars, index))
        break;
      char where[3500];
      snprintf (where, sizeof where, "%s: layer '%s' ('%s')", c->name, c->g->layers[layer].name,
                path);
      osh_keras3_var_name (i, wname, sizeof wname);
      /* The weight's path from the layer's group, for messages. */
      int64_t at = -1;
      OshTensor *t = osh_h5_read_tensor_at (group, wname, where, c->data, c->size, c->mode,
                                            c->borrow, &at, c->err);
      ok = t && (!c->map || record_place (c, layer, wname, &t->shape, at))
           && osh_layer_add_weight (c->g, layer, wname, t, true, c->err);
    }
  if (vars >= 0)
    H5Gclose (vars);
  char **kids = ok ? children (group) : NULL;
  ok = ok && kids != NULL;
  for (size_t i = 0; ok && kids[i]; i++)
    {
      if (strcmp (kids[i], "vars") == 0 || strcmp (kids[i], "layers") == 0)
        continue;
      H5O_info_t info;
      if (H5Oget_info_by_name2 (group, kids[i], &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0
          && info.type == H5O_TYPE_GROUP)
        {
          char sub[2048];
          snprintf (sub, sizeof sub, "%s/%s", path, kids[i]);
          hid_t inner = H5Gopen2 (group, kids[i], H5P_DEFAULT);
          ok = inner >= 0 && bind_group (c, layer, inner, sub, depth + 1);
          if (inner >= 0)
            H5Gclose (inner);
          else
            ok = true; /* as before: a member HDF5 cannot open is no layer state */
        }
      H5Eclear2 (H5E_DEFAULT);
    }
  free_children (kids);
  return ok;
}

/* Binds every layer owned by `owner` from `<model>/layers/<key>`, where Keras 3 files
 * layers by class ("conv2d", "conv2d_1", ... in layer order: saving_lib's
 * _save_container_state), or from `<model>/layers/<name>` as other writers lay it out.
 * `model` is the owner's group (the file's root for the top level), `prefix` its path. */
static bool
bind_model (K3Ctx *c, int owner, hid_t model, const char *prefix, int depth)
{
  hid_t layers = open_group (model, "layers");
  if (layers < 0)
    return true; /* no layer has weights */
  OshKeras3Keys keys;
  if (!osh_keras3_keys_init (&keys, c->g->n_layers))
    {
      H5Gclose (layers);
      return osh_fail (c->err, OSH_ERR_NOMEM, "%s: out of memory", c->name);
    }
  bool ok = true;
  for (int i = 0; ok && i < c->g->n_layers; i++)
    {
      if (c->g->layers[i].owner != owner)
        continue;
      const OshLayer *l = &c->g->layers[i];
      const char *cls = !l->is_model                                ? l->class_name
                        : strcmp (l->class_name, "Sequential") == 0 ? "Sequential"
                                                                    : "Functional";
      char key[160], path[2048];
      osh_keras3_key (&keys, cls, key, sizeof key);
      const char *member = has_member (layers, key) ? key : l->name;
      hid_t group = open_group (layers, member);
      if (group < 0)
        continue; /* layers without weights may have no group */
      snprintf (path, sizeof path, "%s%slayers/%s", prefix, prefix[0] ? "/" : "", member);
      ok = bind_group (c, i, group, path, depth)
           && (!l->is_model || bind_model (c, i, group, path, depth + 1));
      H5Gclose (group);
    }
  osh_keras3_keys_clear (&keys);
  H5Gclose (layers);
  return ok;
}

OshGraph *
osh_keras3_read (const char *name, const void *data, size_t size, OshError *err)
{
  return osh_keras3_read_mode (name, data, size, OSH_READ_ALL, NULL, err);
}

/* The archive over `data`; NULL with err. */
static zip_t *
open_archive (const char *name, const void *data, size_t size, OshError *err)
{
  zip_error_t ze;
  zip_error_init (&ze);
  zip_source_t *src = zip_source_buffer_create (data, size, 0, &ze);
  zip_t *z = src ? zip_open_from_source (src, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
  if (!z)
    {
      osh_fail (err, OSH_ERR_FORMAT, "%s: not a readable zip archive (%s)", name,
                zip_error_strerror (&ze));
      if (src)
        zip_source_free (src);
    }
  zip_error_fini (&ze);
  return z;
}

/* The graph config.json describes, with metadata.json's version and date; NULL with err. */
static OshGraph *
config_graph (zip_t *z, const char *name, OshError *err)
{
  OshGraph *g = NULL;
  char *config_text = NULL, *meta_text = NULL;
  size_t config_size = 0, meta_size = 0;
  json_t *config = NULL, *meta = NULL;
  if (!(config_text = read_entry (z, "config.json", name, &config_size, err)))
    return NULL;
  osh_h5_progress (config_size); /* parsing it and building the graph */
  if (!(config = osh_keras_parse_json (config_text, config_size, name, "config.json", err)))
    goto out;
  OshError ignored = { 0 };
  meta_text = read_entry (z, "metadata.json", name, &meta_size, &ignored);
  meta = meta_text ? osh_keras_parse_json (meta_text, meta_size, name, "metadata.json", &ignored)
                   : NULL;
  if ((g = osh_keras_config_to_graph (config, NULL, name, err)))
    osh_keras_copy_meta (g, meta, (const char *const[]){ "keras_version", "date_saved", NULL });
out:
  free (config_text);
  free (meta_text);
  json_decref (config);
  json_decref (meta);
  return g;
}

static uint64_t
le_bytes (const unsigned char *p, int n)
{
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* True when `h5` starts with an HDF5 superblock (at offset 0, as Keras writes it) whose end
 * of file lies within `len`: the fixed fields of the superblock's four versions, read by hand
 * and bound-checked, so that a truncated model.weights.h5 is noticed without HDF5. */
static bool
h5_looks_whole (const unsigned char *h5, size_t len)
{
  static const unsigned char magic[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
  if (len < 16 || memcmp (h5, magic, 8) != 0)
    return false;
  int version = h5[8], offsets;
  size_t base_at;
  if (version == 0 || version == 1)
    offsets = h5[13], base_at = version == 0 ? 24 : 28;
  else if (version == 2 || version == 3)
    offsets = h5[9], base_at = 12;
  else
    return false;
  /* The base address, then (v0/v1) the free-space address or (v2/v3) the superblock
   * extension's, then the end-of-file address, relative to the base. */
  if ((offsets != 4 && offsets != 8) || base_at + 3 * (size_t) offsets > len)
    return false;
  uint64_t base = le_bytes (h5 + base_at, offsets);
  uint64_t eof = le_bytes (h5 + base_at + 2 * (size_t) offsets, offsets);
  return base == 0 && eof >= 16 && eof <= len;
}

OshGraph *
osh_keras3_read_structure (const char *name, const void *data, size_t size, OshError *err)
{
  zip_t *z = open_archive (name, data, size, err);
  OshGraph *g = z ? config_graph (z, name, err) : NULL;
  size_t off = 0, len = 0;
  bool told = g != NULL;
  if (told && zip_name_locate (z, WEIGHTS_ENTRY, 0) < 0)
    json_object_set_new (g->meta, "weights_absent", json_true ());
  else
    /* Shapes are inferred as load() will (a .keras runs Keras 3's semantics). */
    told = told && json_object_set_new (g->meta, OSH_META_KERAS_RUNTIME, json_integer (3)) == 0
           && stored_weights (z, data, size, &off, &len)
           && h5_looks_whole ((const unsigned char *) data + off, len)
           && osh_graph_infer_shapes (g, err) && osh_keras3_config_weights (g, err)
           && osh_keras_check_all_weights (g, name, err);
  if (z)
    zip_discard (z);
  if (!told)
    {
      osh_graph_free (g);
      osh_error_clear (err);
      return NULL;
    }
  json_object_set_new (g->meta, OSH_META_WEIGHTS_FROM_CONFIG, json_true ());
  return g;
}

OshGraph *
osh_keras3_read_config (const char *name, const void *data, size_t size, size_t *weights_at,
                        size_t *weights_len, OshError *err)
{
  zip_t *z = open_archive (name, data, size, err);
  OshGraph *g = z ? config_graph (z, name, err) : NULL;
  *weights_at = *weights_len = 0;
  if (g && !stored_weights (z, data, size, weights_at, weights_len))
    *weights_at = *weights_len = 0;
  if (z)
    zip_discard (z);
  return g;
}

static OshGraph *
read_archive (const char *name, const void *data, size_t size, OshReadMode mode, OshMapping *borrow,
              OshWeightMap *map, OshError *err)
{
  OshGraph *g = NULL;
  char *weights_copy = NULL;
  const char *weights = NULL;
  size_t weights_size = 0;
  hid_t f = H5I_INVALID_HID;
  zip_t *z = open_archive (name, data, size, err);
  if (!z)
    return NULL;
  if (!(g = config_graph (z, name, err)))
    goto out;
  if (zip_name_locate (z, "model.weights.h5", 0) < 0)
    {
      json_object_set_new (g->meta, "weights_absent", json_true ());
      goto out;
    }
  if (!(weights = weights_bytes (z, data, size, name, mode, &weights_size, &weights_copy, err)))
    goto fail;
  char inner[1200];
  snprintf (inner, sizeof inner, "%s: model.weights.h5", name);
  if ((f = osh_h5_open_image (inner, weights, weights_size, err)) < 0)
    {
      /* Damaged weights (a truncated model.weights.h5) leave the graph readable: it opens, and
       * the weights fail when they are needed. */
      if (mode == OSH_READ_GRAPH && osh_weights_defer_error (g, err))
        goto out;
      goto fail;
    }
  /* Weights extracted into a copy cannot borrow from the archive's mapping. */
  K3Ctx c = { f,
              inner,
              weights,
              weights_size,
              mode,
              weights_copy ? NULL : borrow,
              g,
              map,
              weights_copy ? -1 : (int64_t) (weights - (const char *) data),
              err };
  if (!bind_model (&c, -1, f, "", 0))
    goto fail;
  if (!osh_keras_check_all_weights (g, name, err))
    goto fail;
  goto out;
fail:
  osh_graph_free (g);
  g = NULL;
out:
  osh_h5_close (f);
  free (weights_copy);
  zip_discard (z);
  return g;
}

OshGraph *
osh_keras3_read_mode (const char *name, const void *data, size_t size, OshReadMode mode,
                      OshMapping *borrow, OshError *err)
{
  return read_archive (name, data, size, mode, borrow, NULL, err);
}

OshGraph *
osh_keras3_read_check_map (const char *name, const void *data, size_t size, OshWeightMap *map,
                           OshError *err)
{
  return read_archive (name, data, size, OSH_READ_CHECK, NULL, map, err);
}
