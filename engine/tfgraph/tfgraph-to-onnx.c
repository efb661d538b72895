/* TF graph → ONNX graph (in the IR form of osh-onnx.h), so graph models export to .onnx.
 *
 * Each TF node is written as the op Offshoot runs it on (its shadow, tfgraph-shadow.h): an
 * ONNX target as that ONNX node with the shadow's attributes and constants; a Keras target
 * (convolutions, pooling, Dense, batch normalisation) by the Keras → ONNX exporter's rule for
 * that layer (osh_onnx_lower_layer); then what the shadow does around its target: the EXPLICIT
 * padding as a Pad, the tail (Prelu, LeakyRelu, FloorDiv's floor, SquaredDifference's square)
 * as its ONNX op, a Reshape where the TF output is the target's memory in another shape.
 * The ops with kernels of their own (resize rules, comparisons, index ops) are written by
 * tfgraph-onnx-kernels.c.
 *
 * The graph keeps TF's NHWC inputs and outputs. Keras targets compute NCHW, as ONNX's Conv and
 * pools need: each TF tensor is held in up to two forms (NHWC, NCHW), each made once on
 * demand by a Transpose, so a chain of convolutions stays NCHW. Every tensor of the file is
 * float, as in Offshoot: a Cast to an integer type is cast back to float right after (the
 * truncation kept), and a computed input ONNX wants as int64 (an index) is cast to it.
 *
 * The sizes are fixed first as a run fixes them (an open batch read by a Shape becomes 1), so
 * the constants folded for them are written folded. */
#include "tfgraph-to-onnx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh-shapes.h"

/* Frees the constants of inputs that will not be emitted. */
void
tfo_drop (In *in, int n)
{
  for (int i = 0; i < n; i++)
    if (in[i].kind == 'w')
      {
        osh_tensor_free (in[i].value);
        in[i].value = NULL;
      }
}

/* True when every input was made; else they are dropped. */
bool
tfo_valid (In *in, int n)
{
  bool ok = true;
  for (int i = 0; i < n; i++)
    ok &= in[i].kind == 't' ? in[i].ref.node >= 0 : in[i].kind == 'w' ? in[i].value != NULL : true;
  if (!ok)
    tfo_drop (in, n);
  return ok;
}

/* Adds ONNX op `op` named `name` (NULL: "<base>/<op>_<n>") with `ins` (ended by kind 0), the
 * attributes `attrs` (stolen) and n_out outputs, named after the node ("name", "name:1"...). */
OshRef
tfo_emit (Conv *c, const char *op, const char *base, const char *name, const In *ins, json_t *attrs,
          int n_out)
{
  char made[700];
  if (!name)
    {
      snprintf (made, sizeof made, "%.600s/%s_%d", base, op, c->lw.counter++);
      name = made;
    }
  json_t *cfg = attrs ? attrs : json_object ();
  json_t *outs = json_array ();
  for (int k = 0; k < n_out; k++)
    {
      char out[720];
      snprintf (out, sizeof out, k ? "%.700s:%d" : "%.700s", name, k);
      json_array_append_new (outs, json_string (out));
    }
  json_object_set_new (cfg, OSH_ONNX_OUTPUT_NAMES, outs);
  OshRef refs[TF_MAX_SLOTS];
  OshSlotKind kinds[TF_MAX_SLOTS];
  int n_refs = 0, n = 0;
  int layer = osh_graph_add_layer (c->lw.o, -1, name, op, cfg, c->err);
  bool ok = layer >= 0;
  for (; ins[n].kind && n < TF_MAX_SLOTS; n++)
    {
      kinds[n] = ins[n].kind == 't'   ? OSH_SLOT_ACTIVATION
                 : ins[n].kind == 'w' ? OSH_SLOT_WEIGHT
                                      : OSH_SLOT_ABSENT;
      if (ins[n].kind == 't')
        refs[n_refs++] = ins[n].ref;
      else if (ins[n].kind == 'w')
        ok = ok ? osh_layer_add_weight (c->lw.o, layer, "", ins[n].value, false, c->err)
                : (osh_tensor_free (ins[n].value), false);
    }
  ok = ok && osh_layer_set_slots (c->lw.o, layer, kinds, n, c->err);
  int node = ok ? osh_graph_add_node (c->lw.o, layer, refs, n_refs, n_out, c->err) : -1;
  return node < 0 ? NONE : (OshRef){ node, 0 };
}

OshTensor *
tfo_ints (const int64_t *v, int n, OshError *err)
{
  OshShape s = osh_shape_make (1, (int64_t[]){ n });
  OshTensor *t = osh_tensor_new (&s, err);
  for (int i = 0; t && i < n; i++)
    t->data[i] = (float) v[i];
  return t;
}

static json_t *
perm (const int64_t *p)
{
  return json_pack ("{s:[I,I,I,I]}", "perm", (json_int_t) p[0], (json_int_t) p[1],
                    (json_int_t) p[2], (json_int_t) p[3]);
}

static const int64_t TO_NCHW[4] = { 0, 3, 1, 2 }, TO_NHWC[4] = { 0, 2, 3, 1 };

static const char *
base_of (Conv *c, OshRef tf)
{
  return c->g->layers[c->g->nodes[tf.node].layer].name;
}

/* The TF tensor's NHWC (or NCHW) form, made by a Transpose the first time it is asked for. */
OshRef
tfo_form (Conv *c, OshRef tf, bool nchw)
{
  Value *v = &c->map[c->off[tf.node] + tf.index];
  OshRef *want = nchw ? &v->nchw : &v->nhwc, have = nchw ? v->nhwc : v->nchw;
  if (want->node < 0 && have.node >= 0)
    *want = tfo_emit (c, "Transpose", base_of (c, tf), NULL, (In[]){ T (have), { 0 } },
                      perm (nchw ? TO_NCHW : TO_NHWC), 1);
  return *want;
}

/* A Cast of r to ONNX type `to` (1 float, 7 int64...). */
OshRef
tfo_cast (Conv *c, const char *base, OshRef r, int to)
{
  if (r.node < 0)
    return r;
  return tfo_emit (c, "Cast", base, NULL, (In[]){ T (r), { 0 } }, json_pack ("{s:i}", "to", to), 1);
}

/* A Reshape of r to static `shape` (one open size at most: -1). */
static OshRef
reshape (Conv *c, const char *base, OshRef r, const OshShape *shape)
{
  int64_t dims[OSH_MAX_RANK];
  int open = 0;
  for (int d = 0; d < shape->rank; d++)
    open += (dims[d] = shape->dim[d]) < 0;
  if (open > 1)
    {
      osh_fail (c->err, OSH_ERR_UNSUPPORTED,
                "node '%s': a reshape to a shape with %d open sizes has no ONNX form here", base,
                open);
      return NONE;
    }
  return tfo_emit (c, "Reshape", base, NULL,
                   (In[]){ T (r), W (tfo_ints (dims, shape->rank, c->err)), { 0 } }, NULL, 1);
}

void
tfo_note_missing (Conv *c, const char *op, const char *why)
{
  for (size_t at = 0; at < c->missing_len;)
    {
      size_t len = strlen (op);
      if (!strncmp (c->missing + at, op, len) && (c->missing[at + len] == ' '))
        return;
      const char *next = strstr (c->missing + at, "; ");
      if (!next)
        break;
      at = (size_t) (next - c->missing) + 2;
    }
  if (c->missing_len < sizeof c->missing - 80)
    c->missing_len +=
        (size_t) snprintf (c->missing + c->missing_len, sizeof c->missing - c->missing_len,
                           "%s%s (%.200s)", c->n_missing ? "; " : "", op, why);
  c->n_missing++;
}

/* The op list of a Keras target: the layer as the Keras → ONNX exporter writes it. */
static bool
write_keras_target (Conv *c, const TfShadow *s, const OshLayer *tf, const OshRef *in, Value *out)
{
  OshLayer layer = s->layer;
  layer.name = tf->name;
  layer.class_name = (char *) s->target->name;
  OshOnnxValue v[TF_MAX_SLOTS];
  for (int i = 0; i < s->n_in; i++)
    v[i] = (OshOnnxValue){ in[i], s->in[i].rank == 4, s->in[i] };
  OshOnnxValue r = { .shape = s->out[0] };
  if (!osh_onnx_lower_layer (&c->lw, &layer, v, s->n_in, &r))
    return false;
  if (r.nchw)
    out->nchw = r.ref;
  else
    out->nhwc = r.ref;
  return true;
}

/* MirrorPad SYMMETRIC (the edge repeated), a mode ONNX's Pad lacks: per padded axis, the
 * first `before` values reversed, the tensor, the last `after` reversed (Slices of step -1),
 * concatenated. `pads` is ONNX's list (every start, then every end). */
static OshRef
symmetric_pad (Conv *c, const char *base, OshRef x, OshShape shape, const OshTensor *pads)
{
  int rank = shape.rank;
  for (int a = 0; x.node >= 0 && a < rank; a++)
    {
      int64_t before = (int64_t) pads->data[a], after = (int64_t) pads->data[rank + a];
      int64_t n = shape.dim[a];
      if (!before && !after)
        continue;
      In parts[4] = { 0 };
      int k = 0;
      int64_t spans[2][2] = { { before - 1, -n - 1 }, { n - 1, n - 1 - after } };
      for (int side = 0; side < 2; side++)
        {
          if (side == 1)
            parts[k++] = T (x);
          if ((side ? after : before) == 0)
            continue;
          int64_t axis = a, step = -1;
          parts[k++] = T (tfo_emit (c, "Slice", base, NULL,
                                    (In[]){ T (x),
                                            W (tfo_ints (&spans[side][0], 1, c->err)),
                                            W (tfo_ints (&spans[side][1], 1, c->err)),
                                            W (tfo_ints (&axis, 1, c->err)),
                                            W (tfo_ints (&step, 1, c->err)),
                                            { 0 } },
                                    NULL, 1));
        }
      x = tfo_emit (c, "Concat", base, NULL, parts, json_pack ("{s:i}", "axis", a), 1);
      shape.dim[a] += before + after;
    }
  return x;
}

/* An ONNX target: that node, the shadow's attributes and constants, the TF node's name. */
static bool
write_onnx_target (Conv *c, const TfShadow *s, const OshLayer *tf, const OshRef *in, OshRef *first)
{
  In ins[TF_MAX_SLOTS + 1] = { 0 };
  const char *op = s->target->name;
  for (int i = 0; i < s->layer.n_slots; i++)
    {
      OshSlot sl = s->slots[i];
      if (sl.kind == OSH_SLOT_ACTIVATION)
        {
          ins[i] = T (in[sl.index]);
          if (osh_onnx_int64_input (op, (size_t) i))
            ins[i].ref = tfo_cast (c, tf->name, ins[i].ref, 7);
          if (ins[i].ref.node < 0)
            {
              tfo_drop (ins, i);
              return false;
            }
        }
      else if (sl.kind == OSH_SLOT_WEIGHT)
        {
          ins[i] = W (osh_tensor_copy (s->weights[sl.index].value, c->err));
          if (!ins[i].value)
            {
              tfo_drop (ins, i);
              return false;
            }
          /* ONNX wants these as scalars, where TF's constants may be one-element lists */
          if ((!strcmp (op, "Range") || !strcmp (op, "Clip"))
              && osh_tensor_numel (ins[i].value) == 1)
            ins[i].value->shape.rank = 0;
        }
      else
        ins[i] = (In){ 'a', NONE, NULL };
    }
  if (!strcmp (op, "Pad") && !strcmp (osh_config_string (s->layer.config, "mode", ""), "symmetric"))
    {
      *first = symmetric_pad (c, tf->name, ins[0].ref, s->in[0], ins[1].value);
      osh_tensor_free (ins[1].value);
      return first->node >= 0;
    }
  json_t *cfg = json_deep_copy (s->layer.config);
  /* allowzero (TF's 0 is a size of 0) is opset 14's; without a 0 in the shape it changes
   * nothing, and the file stays opset 13. */
  bool zero = false;
  for (int i = 0; !strcmp (op, "Reshape") && i < s->layer.n_slots; i++)
    if (ins[i].kind == 'w')
      for (int64_t k = 0; k < osh_tensor_numel (ins[i].value); k++)
        zero |= ins[i].value->data[k] == 0;
  if (!zero)
    json_object_del (cfg, "allowzero");
  int to = (int) osh_config_int (cfg, "to", 1);
  bool integer_out = (!strcmp (op, "Cast") && to != 1) || !strcmp (op, "Shape");
  *first = tfo_emit (c, op, tf->name, integer_out ? NULL : tf->name, ins, cfg, s->n_out);
  if (integer_out && first->node >= 0)
    *first = tfo_emit (c, "Cast", tf->name, tf->name, (In[]){ T (*first), { 0 } },
                       json_pack ("{s:i}", "to", 1), 1);
  return first->node >= 0;
}

/* TF node ni through its shadow. */
static bool
write_shadowed (Conv *c, int ni)
{
  const OshNode *n = &c->g->nodes[ni];
  const OshLayer *l = &c->g->layers[n->layer];
  Value *out = &c->map[c->off[ni]];
  OshShape in_shapes[TF_MAX_SLOTS], out_shapes[16];
  if (n->n_inputs > TF_MAX_SLOTS || n->n_outputs > 16)
    return osh_fail (c->err, OSH_ERR_LIMIT, "node '%s' has too many inputs or outputs", l->name);
  for (int i = 0; i < n->n_inputs; i++)
    in_shapes[i] = c->map[c->off[n->inputs[i].node] + n->inputs[i].index].shape;
  OshOpCall call = { .graph = c->g,
                     .layer = l,
                     .in = in_shapes,
                     .n_in = n->n_inputs,
                     .out = out_shapes,
                     .n_out = n->n_outputs };
  OshError local = { 0 };
  TfShadow *s = tf_shadow_build (&call, &local);
  if (!s)
    {
      tfo_note_missing (c, l->class_name, local.message);
      return true;
    }
  bool keras = s->target >= osh_keras_dialect.ops
               && s->target < osh_keras_dialect.ops + osh_keras_dialect.n_ops;
  OshRef in[TF_MAX_SLOTS];
  bool ok = true;
  for (int i = 0; ok && i < n->n_inputs; i++)
    {
      /* Keras targets read NCHW images; ONNX targets TF's own layout, in the shape the
       * target sees (Pack's inputs with the new axis). */
      in[i] = tfo_form (c, n->inputs[i],
                        keras && in_shapes[i].rank == 4 && !(i == 0 && s->has_pre_pad));
      if (!keras && in[i].node >= 0 && !osh_shape_equal (&in_shapes[i], &s->in[i]))
        in[i] = reshape (c, l->name, in[i], &s->in[i]);
      ok = in[i].node >= 0;
    }
  if (ok && s->has_pre_pad)
    {
      /* ONNX's pads: every axis's start, then every end (N, H, W, C). */
      int64_t pads[8] = { 0, s->pre_pad[0], s->pre_pad[2], 0, 0, s->pre_pad[1], s->pre_pad[3], 0 };
      OshShape scalar = { .rank = 0 };
      OshTensor *value = osh_tensor_new (&scalar, c->err);
      if (value)
        value->data[0] = s->pre_pad_value;
      in[0] =
          tfo_emit (c, "Pad", l->name, NULL,
                    (In[]){ T (in[0]), W (tfo_ints (pads, 8, c->err)), W (value), { 0 } }, NULL, 1);
      if (in[0].node >= 0 && keras)
        in[0] =
            tfo_emit (c, "Transpose", l->name, NULL, (In[]){ T (in[0]), { 0 } }, perm (TO_NCHW), 1);
      ok = in[0].node >= 0;
    }
  OshRef first = NONE;
  if (ok && keras)
    ok = write_keras_target (c, s, l, in, out);
  else if (ok)
    {
      ok = write_onnx_target (c, s, l, in, &first);
      for (int k = 0; ok && k < n->n_outputs; k++)
        out[k].nhwc = (OshRef){ first.node, k };
    }
  /* The TF outputs' shapes where they differ from the target's (StridedSlice's shrunk axes). */
  for (int k = 0; ok && k < n->n_outputs && k < s->n_out; k++)
    if (out[k].shape.rank > 0 && !osh_shape_equal (&out[k].shape, &s->out[k]))
      {
        OshRef x = tfo_form (c, (OshRef){ ni, k }, false);
        out[k].nhwc = x.node < 0 ? x : reshape (c, l->name, x, &out[k].shape);
        out[k].nchw = NONE;
        ok = out[k].nhwc.node >= 0;
      }
  if (ok && s->tail != TF_TAIL_NONE)
    {
      OshRef y = tfo_form (c, (OshRef){ ni, 0 }, false);
      ok = y.node >= 0;
      if (ok && s->tail == TF_TAIL_PRELU)
        y = tfo_emit (c, "PRelu", l->name, NULL,
                      (In[]){ T (y), W (tf_vector (s->tail_vec, (int) s->tail_n, c->err)), { 0 } },
                      NULL, 1);
      else if (ok && s->tail == TF_TAIL_LEAKY)
        y = tfo_emit (c, "LeakyRelu", l->name, NULL, (In[]){ T (y), { 0 } },
                      json_pack ("{s:f}", "alpha", (double) s->tail_alpha), 1);
      else if (ok && s->tail == TF_TAIL_FLOOR)
        y = tfo_emit (c, "Floor", l->name, NULL, (In[]){ T (y), { 0 } }, NULL, 1);
      else if (ok)
        y = tfo_emit (c, "Mul", l->name, NULL, (In[]){ T (y), T (y), { 0 } }, NULL, 1);
      out[0].nhwc = y;
      out[0].nchw = NONE;
      ok = y.node >= 0;
    }
  tf_shadow_free (s);
  return ok;
}

static bool
write_node (Conv *c, int ni)
{
  const OshNode *n = &c->g->nodes[ni];
  const OshLayer *l = &c->g->layers[n->layer];
  Value *out = &c->map[c->off[ni]];
  for (int k = 0; k < n->n_outputs; k++)
    out[k] = (Value){ NONE, NONE, n->shapes ? n->shapes[k] : (OshShape){ 0 } };
  for (int i = 0; i < n->n_inputs; i++)
    {
      const Value *v = &c->map[c->off[n->inputs[i].node] + n->inputs[i].index];
      if (v->nhwc.node < 0 && v->nchw.node < 0)
        {
          if (c->n_missing) /* after a node with no ONNX form: already named */
            return true;
          const OshNode *from = &c->g->nodes[n->inputs[i].node];
          return osh_fail (c->err, OSH_ERR_UNSUPPORTED,
                           "node '%s' reads output %d of '%s' (%s), which the ONNX export does "
                           "not write",
                           l->name, n->inputs[i].index, c->g->layers[from->layer].name,
                           c->g->layers[from->layer].class_name);
        }
    }
  if (!strcmp (l->class_name, "InputLayer"))
    {
      json_t *cfg = json_deep_copy (l->config);
      json_object_set_new (cfg, "data_format", json_string ("channels_last"));
      int layer = osh_graph_add_layer (c->lw.o, -1, l->name, "InputLayer", cfg, c->err);
      int node = layer >= 0 ? osh_graph_add_node (c->lw.o, layer, NULL, 0, 1, c->err) : -1;
      out->nhwc = (OshRef){ node, 0 };
      return node >= 0;
    }
  const OshOp *op = osh_op_find (c->g, l->class_name);
  if (op && op->prepare == tf_prepare)
    return write_shadowed (c, ni);
  if (op && strstr (l->class_name, "Resize") == l->class_name)
    return tfo_write_resize (c, l, n, out);
  bool known = false;
  if (op && tfo_write_own_kernel (c, l, n, out, &known))
    return true;
  if (known)
    return false;
  tfo_note_missing (c, l->class_name, op ? "no ONNX form written yet" : "no kernel in Offshoot");
  return true;
}

static void
rename_tensor (Conv *c, OshRef r, const char *name)
{
  json_t *names =
      json_object_get (c->lw.o->layers[c->lw.o->nodes[r.node].layer].config, OSH_ONNX_OUTPUT_NAMES);
  json_array_set_new (names, (size_t) r.index, json_string (name));
}

OshGraph *
osh_tfgraph_to_onnx (const OshGraph *tf, OshError *err)
{
  OshGraph *g = osh_graph_copy (tf, err);
  bool ok = g && osh_graph_infer_shapes (g, err);
  OshError why = { 0 };
  if (ok && osh_graph_needs_specialize (g) && !osh_graph_specialize_batch (g, 1, &why))
    ok = osh_fail (err, why.code,
                   "the ONNX export writes the sizes a Shape node reads as constants, so they "
                   "must be fixed (an open batch becomes 1): %s",
                   why.message);
  Conv c = { .g = g, .lw = { .o = osh_graph_new (), .err = err }, .err = err };
  if (ok)
    {
      c.off = calloc ((size_t) g->n_nodes + 1, sizeof *c.off);
      int64_t total = 0;
      for (int i = 0; c.off && i < g->n_nodes; i++)
        {
          c.off[i] = total;
          total += g->nodes[i].n_outputs;
        }
      c.map = calloc ((size_t) total + 1, sizeof *c.map);
      ok = c.lw.o && c.off && c.map;
      if (!ok)
        osh_fail (err, OSH_ERR_NOMEM, "out of memory converting to ONNX");
    }
  if (ok)
    {
      OshGraph *o = c.lw.o;
      o->class_name = strdup ("onnx");
      o->name = strdup (g->name ? g->name : "model");
      o->layout = OSH_LAYOUT_CHANNELS_FIRST;
      o->dialect = &osh_onnx_dialect;
      json_object_set_new (o->meta, "onnx_opset", json_integer (13));
      json_object_set_new (o->meta, "onnx_ir_version", json_integer (8));
      const json_t *names = json_object_get (g->meta, OSH_META_CLASS_NAMES);
      if (json_array_size (names) > 0)
        json_object_set_new (o->meta, OSH_META_CLASS_NAMES, json_deep_copy (names));
    }
  /* The reader sorted the nodes producers first; heads are appended after what they read. */
  for (int i = 0; ok && i < g->n_nodes; i++)
    ok = write_node (&c, i);
  if (ok && c.n_missing)
    ok = osh_fail (err, OSH_ERR_UNSUPPORTED,
                   "the graph model has %d op%s with no ONNX form in Offshoot: %s", c.n_missing,
                   c.n_missing == 1 ? "" : "s", c.missing);
  OshRef ins[64], outs[64];
  int n_in = 0, n_out = 0;
  for (int i = 0; ok && i < g->n_inputs && i < 64; i++)
    ins[n_in++] = c.map[c.off[g->inputs[i].node]].nhwc;
  for (int i = 0; ok && i < g->n_outputs && i < 64; i++)
    {
      OshRef r = tfo_form (&c, g->outputs[i], false);
      const OshLayer *last = &g->layers[g->nodes[g->outputs[i].node].layer];
      char name[720];
      snprintf (name, sizeof name, g->outputs[i].index ? "%.700s:%d" : "%.700s", last->name,
                g->outputs[i].index);
      /* The output tensor keeps the TF name: its producer's output renamed (an Identity's
       * where that tensor is an input or another output already); a tensor of that name
       * before it (the target's, ahead of a tail) is renamed out of the way. */
      bool taken =
          r.node >= 0
          && !strcmp (c.lw.o->layers[c.lw.o->nodes[r.node].layer].class_name, "InputLayer");
      for (int j = 0; j < n_out && !taken; j++)
        taken = outs[j].node == r.node && outs[j].index == r.index;
      if (r.node >= 0 && taken)
        r = tfo_emit (&c, "Identity", name, NULL, (In[]){ T (r), { 0 } }, NULL, 1);
      OshRef clash = r.node >= 0 ? osh_onnx_find_tensor (c.lw.o, name) : NONE;
      if (clash.node >= 0 && (clash.node != r.node || clash.index != r.index))
        {
          char moved[760];
          snprintf (moved, sizeof moved, "%s/before_output", name);
          rename_tensor (&c, clash, moved);
        }
      if (r.node >= 0)
        rename_tensor (&c, r, name);
      ok = r.node >= 0
           || osh_fail (err, OSH_ERR_UNSUPPORTED,
                        "output '%s' is a tensor the ONNX export does not write", name);
      outs[n_out++] = r;
    }
  if (ok)
    ok = osh_graph_set_io (c.lw.o, -1, ins, n_in, outs, n_out, err);
  free (c.map);
  free (c.off);
  osh_graph_free (g);
  if (!ok)
    {
      osh_graph_free (c.lw.o);
      return NULL;
    }
  return c.lw.o;
}
