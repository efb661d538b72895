/* Format detection, file reading and atomic saving around the per-format code. */
#include "osh-model.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osh-class-names.h"
#include "osh-file-bytes.h"
#include "osh-formats.h"
#include "osh-hdf5-guard.h"
#include "osh-limits.h"
#include "osh-op.h"
#include "osh-shapes.h"
#include "osh-tfgraph.h"
#include "osh-weights-by-offset.h"
#include "osh-weights-later.h"

static bool
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcasecmp (s + n - m, suffix) == 0;
}

OshFormat
osh_format_from_name (const char *name)
{
  if (ends_with (name, ".keras"))
    return OSH_FORMAT_KERAS3;
  if (ends_with (name, ".h5") || ends_with (name, ".hdf5") || ends_with (name, ".he5"))
    return OSH_FORMAT_H5;
  if (ends_with (name, ".json"))
    return OSH_FORMAT_TFJS;
  if (ends_with (name, ".onnx"))
    return OSH_FORMAT_ONNX;
  return OSH_FORMAT_UNKNOWN;
}

OshFormat
osh_format_detect (const char *name, const void *head, size_t head_size)
{
  const unsigned char *b = head;
  static const unsigned char hdf5_magic[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
  if (head_size >= 8 && memcmp (b, hdf5_magic, 8) == 0)
    return OSH_FORMAT_H5;
  if (head_size >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4)
    return OSH_FORMAT_KERAS3;
  size_t i = 0;
  while (i < head_size && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
    i++;
  if (i < head_size && b[i] == '{')
    return OSH_FORMAT_TFJS;
  return osh_format_from_name (name);
}

const char *
osh_format_name (OshFormat f)
{
  switch (f)
    {
    case OSH_FORMAT_KERAS3: return "keras3";
    case OSH_FORMAT_H5: return "keras-h5";
    case OSH_FORMAT_TFJS: return "tfjs";
    case OSH_FORMAT_ONNX: return "onnx";
    case OSH_FORMAT_UNKNOWN: break;
    }
  return "unknown";
}

/* How many of `n` floats are NaN or Inf: those whose exponent bits are all set, an integer
 * test (isfinite is not) written as eight independent 32-bit lanes so that -O2 turns it into
 * vector code even for the baseline CPU; it reads every weight of a 250 MB model. Each lane
 * counts at most n / 8 <= 2^29 (OSH_MAX_ELEMENTS). */
static int64_t
count_non_finite (const uint32_t *bits, int64_t n)
{
  uint32_t lanes[8] = { 0 };
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; j++)
      lanes[j] += (bits[k + j] & 0x7f800000u) == 0x7f800000u;
  int64_t count = 0;
  for (; k < n; k++)
    count += (bits[k] & 0x7f800000u) == 0x7f800000u;
  for (int j = 0; j < 8; j++)
    count += lanes[j];
  return count;
}

/* Records the first weight holding NaN or Inf, and how many layers do, in g->meta. */
static void
note_non_finite_weights (OshGraph *g)
{
  int layers = 0, first_layer = -1, first_weight = -1;
  int64_t first_count = 0;
  for (int i = 0; i < g->n_layers; i++)
    {
      bool bad = false;
      for (int w = 0; w < g->layers[i].n_weights; w++)
        {
          const OshTensor *t = g->layers[i].weights[w].value;
          int64_t n = t->data ? osh_tensor_numel (t) : 0;
          int64_t count = count_non_finite ((const uint32_t *) t->data, n);
          if (count && first_layer < 0)
            first_layer = i, first_weight = w, first_count = count;
          bad |= count > 0;
        }
      layers += bad;
    }
  if (first_layer < 0)
    return;
  char msg[1200];
  snprintf (msg, sizeof msg, "layer '%s' weight '%s' holds %lld NaN/Inf values (%d layer%s in all)",
            g->layers[first_layer].name, g->layers[first_layer].weights[first_weight].name,
            (long long) first_count, layers, layers == 1 ? "" : "s");
  json_object_set_new (g->meta, "non_finite_weights", json_string (msg));
}

const char *
osh_model_weights_warning (const OshGraph *g)
{
  return json_string_value (json_object_get (g->meta, "non_finite_weights"));
}

/* ---- files Offshoot does not open, named for what they are ---- */

static const char *
base_name (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash ? slash + 1 : path;
}

/* A JSON document that is a TF.js weights manifest (model.json's neighbour in npm packages):
 * the sentence for it, else NULL. */
static const char *
other_json_kind (const void *data, size_t size)
{
  const char *b = data;
  size_t i = 0;
  while (i < size && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
    i++;
  if (i == size || (b[i] != '{' && b[i] != '['))
    return NULL;
  json_t *doc = json_loadb (data, size, 0, NULL);
  const char *kind = NULL;
  json_t *first = json_array_get (doc, 0);
  if (json_is_array (doc) && json_is_object (first)
      && json_is_array (json_object_get (first, "paths"))
      && json_is_array (json_object_get (first, "weights")))
    kind = "a TF.js weights manifest: the list of weight shards without the model itself. "
           "Open the model.json that lists these shards (its \"weightsManifest\") instead";
  json_decref (doc);
  return kind;
}

/* The sentence for a file of a kind Offshoot recognises but does not open, or NULL. */
static const char *
other_kind (const char *path, const void *data, size_t size)
{
  const unsigned char *b = data;
  if ((size >= 8 && memcmp (b + 4, "TFL3", 4) == 0) || ends_with (path, ".tflite"))
    return "a TensorFlow Lite model (a FlatBuffer marked TFL3). Offshoot cannot open TFLite "
           "files: open the Keras model (.keras, .h5) or an ONNX export of the network instead";
  if (strcmp (base_name (path), "saved_model.pb") == 0
      || strcmp (base_name (path), "saved_model.pbtxt") == 0)
    return "a TensorFlow SavedModel (saved_model.pb beside its variables/ folder). Offshoot "
           "cannot open SavedModels: save the Keras model as .keras or .h5, or convert the "
           "SavedModel to ONNX (tf2onnx), and open that";
  return other_json_kind (data, size);
}

typedef struct
{
  const char *path;
  const void *data;
  size_t size;
  OshError err;
  bool ok;
} Verify;

static void *
verify_weights (void *data)
{
  Verify *v = data;
  v->ok = osh_keras3_verify_weights (v->path, v->data, v->size, &v->err);
  return NULL;
}

/* The HDF5 guard's check, and for a whole .keras the archive's checksum at the same time: the
 * checksum reads every byte (touching the pages the weights will borrow) while the child walks
 * HDF5's structure, on another core. Then *mode tells the reader the checksum is done. `map`
 * gets where the child found each weight, when it could tell. */
static bool
guard_and_verify (const char *path, OshFormat f, OshReadMode *mode, const void *data, size_t size,
                  int fd, OshWeightMap *map, OshError *err)
{
  pthread_t thread;
  Verify v = { path, data, size, { 0 }, false };
  bool parallel = f == OSH_FORMAT_KERAS3 && *mode == OSH_READ_ALL && osh_hdf5_guard_enabled ()
                  && pthread_create (&thread, NULL, verify_weights, &v) == 0;
  bool ok = osh_hdf5_guard_check_map (path, f, *mode, data, size, fd, map, err);
  if (!parallel)
    return ok;
  pthread_join (thread, NULL);
  if (ok && !v.ok)
    {
      *err = v.err;
      return false;
    }
  *mode = OSH_READ_ALL_VERIFIED;
  return ok;
}

static OshGraph *
load (const char *path, const void *data, size_t size, int fd, OshMapping *borrow, OshReadMode mode,
      OshError *err)
{
  OshGraph *g = NULL;
  OshFormat f = osh_format_detect (path, data, size);
  const char *kind =
      f == OSH_FORMAT_TFJS || f == OSH_FORMAT_UNKNOWN ? other_kind (path, data, size) : NULL;
  if (kind)
    {
      osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: %s", path, kind);
      return NULL;
    }
  /* A .keras graph from its config alone touches no HDF5: no guard needed. */
  if (f == OSH_FORMAT_KERAS3 && mode == OSH_READ_GRAPH)
    g = osh_keras3_read_structure (path, data, size, err);
  /* It inferred the shapes (Keras 3's semantics, as below) and derived its weights from them. */
  bool shaped = g != NULL;
  /* HDF5 may hang or crash on a hostile file: a child process reads it first (if enabled). */
  OshReadMode read_mode = mode;
  OshWeightMap map = { 0 };
  bool checked = g || guard_and_verify (path, f, &read_mode, data, size, fd, &map, err);
  /* The child told where every weight lies: taken from the bytes, with no HDF5 call. Clear
   * error and no graph: the map does not fit, HDF5 reads the file as before. */
  OshError by_offset = { 0 };
  if (!g && checked && !map.incomplete && f == OSH_FORMAT_KERAS3)
    g = osh_keras3_read_by_offsets (path, data, size, &map, read_mode, borrow, &by_offset);
  else if (!g && checked && !map.incomplete && f == OSH_FORMAT_H5)
    g = osh_h5_read_by_offsets (path, data, size, &map, borrow, &by_offset);
  osh_weight_map_clear (&map);
  if (!checked)
    return NULL;
  if (!g && by_offset.code != OSH_OK)
    {
      if (err)
        *err = by_offset;
      return NULL;
    }
  if (!g)
    switch (f)
      {
      case OSH_FORMAT_KERAS3:
        g = osh_keras3_read_mode (path, data, size, read_mode, borrow, err);
        break;
      case OSH_FORMAT_H5: g = osh_h5_read_mode (path, data, size, mode, borrow, err); break;
      case OSH_FORMAT_ONNX: g = osh_onnx_read (path, data, size, err); break;
      case OSH_FORMAT_TFJS:
        if (fd < 0) /* from memory */
          {
            osh_fail (err, OSH_ERR_USAGE,
                      "%s: a TF.js model must be opened from a file beside its shards", path);
            return NULL;
          }
        g = osh_tfjs_read_mode (path, data, size, mode, err);
        break;
      case OSH_FORMAT_UNKNOWN:
        osh_fail (
            err, OSH_ERR_FORMAT,
            "%s: not a model file Offshoot knows (expected a .keras zip, an HDF5 .h5, a TF.js "
            "model.json or an .onnx file)",
            path);
        return NULL;
      }
  if (!g)
    return NULL;
  free (g->source_path);
  g->source_path = strdup (path);
  free (g->format);
  g->format = strdup (osh_format_name (f));
  /* A TF.js graph model (g->dialect set) reads all its weights at once: its Const values
   * decide shapes. */
  bool keras_family = !g->dialect && (f == OSH_FORMAT_KERAS3 || f == OSH_FORMAT_TFJS);
  if (keras_family)
    json_object_set_new (g->meta, OSH_META_KERAS_RUNTIME,
                         json_integer (f == OSH_FORMAT_KERAS3 ? 3 : OSH_KERAS_RUNTIME_TFJS));
  if (mode == OSH_READ_GRAPH && (keras_family || f == OSH_FORMAT_H5))
    json_object_set_new (g->meta, OSH_META_WEIGHTS_DEFERRED, json_true ());
  else
    note_non_finite_weights (g);
  if (!shaped && !osh_graph_infer_shapes (g, err))
    {
      osh_error_prefix (err, "%s: ", path);
      osh_graph_free (g);
      return NULL;
    }
  return g;
}

/* A SavedModel is a folder: said so rather than "not a regular file". */
static bool
refuse_saved_model_folder (const char *path, OshError *err)
{
  struct stat st;
  char *inner = malloc (strlen (path) + sizeof "/saved_model.pb");
  bool saved_model = false;
  if (inner && stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    {
      sprintf (inner, "%s/saved_model.pb", path);
      saved_model = stat (inner, &st) == 0;
    }
  free (inner);
  if (saved_model)
    osh_fail (err, OSH_ERR_UNSUPPORTED, "%s: %s", path, other_kind ("saved_model.pb", "", 0));
  return saved_model;
}

OshGraph *
osh_model_load (const char *path, OshError *err)
{
  if (refuse_saved_model_folder (path, err))
    return NULL;
  OshFileBytes *b = osh_file_bytes_open (path, OSH_FILE_BYTES_SHARED, err);
  if (!b)
    return NULL;
  OshGraph *g = load (path, b->data, b->size, b->fd, b->mapping, OSH_READ_ALL, err);
  osh_file_bytes_close (b);
  if (g)
    osh_class_names_take_beside (g, path);
  return g;
}

OshGraph *
osh_model_load_graph (const char *path, OshError *err)
{
  if (refuse_saved_model_folder (path, err))
    return NULL;
  /* Mapped: the graph and the weights' shapes touch a few MB of the file. */
  OshFileBytes *b = osh_file_bytes_open (path, OSH_FILE_BYTES_MAPPED, err);
  if (!b)
    return NULL;
  OshGraph *g = load (path, b->data, b->size, b->fd, NULL, OSH_READ_GRAPH, err);
  osh_file_bytes_close (b);
  if (g)
    osh_class_names_take_beside (g, path);
  return g;
}

const char *
osh_model_weights_error (const OshGraph *g)
{
  return json_string_value (
      json_object_get (json_object_get (g->meta, OSH_META_WEIGHTS_ERROR), "message"));
}

bool
osh_model_weights_pending (const OshGraph *g)
{
  return osh_weights_deferred (g);
}

bool
osh_model_load_weights (OshGraph *g, OshError *err)
{
  if (!osh_weights_deferred (g))
    return true;
  OshGraph *full = osh_model_load (g->source_path, err);
  bool ok = full && osh_weights_take (g, full, err);
  osh_graph_free (full);
  return ok;
}

bool
osh_model_take_weights (OshGraph *g, OshGraph *full, OshError *err)
{
  return !osh_weights_deferred (g) || osh_weights_take (g, full, err);
}

OshGraph *
osh_model_load_bytes (const char *name, const void *data, size_t size, OshError *err)
{
  return load (name, data, size, -1, NULL, OSH_READ_ALL, err);
}

/* What osh_model_can_save answers from the dialect and the format alone (`convertible`: also
 * whether a dialect's ONNX conversion succeeds on this graph, which costs a conversion). */
static bool
can_save (const OshGraph *g, OshFormat f, bool convertible, OshError *err)
{
  const OshDialect *d = osh_dialect_of (g);
  if (d->save_refusal)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "%s", d->save_refusal);
  if (f == OSH_FORMAT_UNKNOWN)
    return osh_fail (err, OSH_ERR_USAGE,
                     "cannot tell the format from the name (use .keras, .h5, .json or .onnx)");
  /* A dialect that also exports to ONNX answers for this graph with the writer's own conversion
   * (ops with no ONNX form, sizes a Shape reads left open), so a menu offers only what saves.
   * Without the weight values (read later) the conversion cannot run; the writer decides. */
  if (f == OSH_FORMAT_ONNX && d->to_onnx)
    {
      if (!convertible || osh_weights_deferred (g))
        return true;
      OshGraph *converted = d->to_onnx (g, err);
      osh_graph_free (converted);
      return converted != NULL;
    }
  /* A dialect that is not Keras has one format of its own (ONNX: .onnx; a graph model: its
   * model.json), and ONNX when it also exports there. */
  if (d->own_format && f != osh_format_from_name (d->own_format))
    return d->to_onnx ? osh_fail (err, OSH_ERR_UNSUPPORTED,
                                  "a %s is saved as a %s (a model%s name) or as ONNX (.onnx); "
                                  "converting it to Keras is not supported yet",
                                  d->title, d->title, d->own_format)
                      : osh_fail (err, OSH_ERR_UNSUPPORTED,
                                  "an %s graph is saved as %s only (it cannot be written as a "
                                  "Keras model)",
                                  d->title, d->own_format);
  return true;
}

bool
osh_model_can_save (const OshGraph *g, OshFormat f, OshError *err)
{
  return can_save (g, f, true, err);
}

bool
osh_model_save (const OshGraph *g, const char *path, OshError *err)
{
  if (osh_weights_deferred (g))
    return osh_fail (err, OSH_ERR_USAGE,
                     "%s: the model's weights were not read (osh_model_load_weights first)", path);
  OshFormat f = osh_format_from_name (path);
  /* The writer converts the graph itself (an ONNX export of another dialect): its conversion
   * fails with the same error, so it is not run twice. */
  if (!can_save (g, f, false, err))
    {
      osh_error_prefix (err, "%s: ", path);
      return false;
    }
  bool graph_model = osh_dialect_of (g) == &osh_tfgraph_dialect;
  size_t n = strlen (path) + 32;
  char *tmp = malloc (n);
  if (!tmp)
    return osh_fail (err, OSH_ERR_NOMEM, "out of memory");
  /* The temporary file sits in the target folder so that rename() is atomic. */
  snprintf (tmp, n, "%s.tmp-%ld", path, (long) getpid ());
  bool ok = false;
  switch (f)
    {
    case OSH_FORMAT_KERAS3: ok = osh_keras3_write (g, tmp, err); break;
    case OSH_FORMAT_H5: ok = osh_h5_write (g, tmp, err); break;
    case OSH_FORMAT_TFJS:
      ok = graph_model ? osh_tfjs_graph_write (g, tmp, path, err)
                       : osh_tfjs_write (g, tmp, path, err);
      break;
    case OSH_FORMAT_ONNX: ok = osh_onnx_write (g, tmp, path, err); break;
    case OSH_FORMAT_UNKNOWN: break;
    }
  if (ok && rename (tmp, path) != 0)
    ok = osh_fail (err, OSH_ERR_IO, "%s: cannot rename the finished file into place: %s", path,
                   strerror (errno));
  if (!ok)
    unlink (tmp);
  free (tmp);
  return ok;
}
