/* The TF ops that have kernels of their own in Offshoot (tfgraph-resize.c, tfgraph-index.c,
 * tfgraph-elementwise.c) written as ONNX ops for the export (tfgraph-to-onnx.h). Booleans and
 * indices are cast back to float, as the engine holds them. */
#include <string.h>

#include "tfgraph-to-onnx.h"

/* ResizeBilinear / ResizeNearestNeighbor as ONNX's Resize on the NCHW form, TF's coordinate
 * rule as its coordinate_transformation_mode (tfgraph-resize.c's taps). */
bool
tfo_write_resize (Conv *c, const OshLayer *l, const OshNode *n, Value *out)
{
  bool linear = !strcmp (l->class_name, "ResizeBilinear");
  bool align = osh_config_bool (l->config, "align_corners", false);
  bool half = osh_config_bool (l->config, "half_pixel_centers", false);
  if (align && half)
    {
      tfo_note_missing (c, l->class_name, "align_corners with half_pixel_centers");
      return true;
    }
  const char *mode = align  ? "align_corners"
                     : half ? (linear ? "half_pixel" : "tf_half_pixel_for_nn")
                            : "asymmetric";
  const OshShape *o = &out->shape;
  int64_t sizes[4] = { o->dim[0], o->dim[3], o->dim[1], o->dim[2] };
  OshRef x = tfo_form (c, n->inputs[0], true);
  if (x.node < 0)
    return false;
  out->nchw = tfo_emit (
      c, "Resize", l->name, NULL,
      (In[]){
          T (x), { 'a', NONE, NULL }, { 'a', NONE, NULL }, W (tfo_ints (sizes, 4, c->err)), { 0 } },
      json_pack ("{s:s, s:s, s:s}", "mode", linear ? "linear" : "nearest",
                 "coordinate_transformation_mode", mode, "nearest_mode",
                 align ? "round_prefer_ceil" : "floor"),
      1);
  return out->nchw.node >= 0;
}

/* Input slot i of TF layer l (node n) as an emitted input: the tensor's NHWC form or a copy
 * of the constant. */
static In
slot_input (Conv *c, const OshLayer *l, const OshNode *n, int i)
{
  OshSlot sl = i < l->n_slots ? l->slots[i] : (OshSlot){ OSH_SLOT_ABSENT, 0 };
  if (sl.kind == OSH_SLOT_ACTIVATION && sl.index < n->n_inputs)
    return T (tfo_form (c, n->inputs[sl.index], false));
  if (sl.kind == OSH_SLOT_WEIGHT && sl.index < l->n_weights)
    return W (osh_tensor_copy (l->weights[sl.index].value, c->err));
  return (In){ 'a', NONE, NULL };
}

static OshTensor *
scalar1 (float v, OshError *err)
{
  return tf_vector (&v, 1, err);
}

/* The TF ops with kernels of their own in Offshoot (tfgraph-elementwise.c, tfgraph-index.c) as
 * ONNX ops: booleans and indices are cast back to float, as the engine holds them. Returns
 * false with *known false for an op not written here. */
bool
tfo_write_own_kernel (Conv *c, const OshLayer *l, const OshNode *n, Value *out, bool *known)
{
  static const char *const compare[][2] = {
    { "Equal", "Equal" },     { "NotEqual", "Equal" },
    { "Greater", "Greater" }, { "GreaterEqual", "GreaterOrEqual" },
    { "Less", "Less" },       { "LessEqual", "LessOrEqual" },
    { "LogicalAnd", "And" },  { "LogicalOr", "Or" },
    { "LogicalNot", "Not" }
  };
  const char *op = l->class_name, *base = l->name;
  In in[3] = { slot_input (c, l, n, 0), slot_input (c, l, n, 1), slot_input (c, l, n, 2) };
  int used = l->n_slots < 3 ? l->n_slots : 3;
  *known = true;
  OshRef r = NONE;
  for (size_t k = 0; k < sizeof compare / sizeof *compare; k++)
    if (!strcmp (op, compare[k][0]))
      {
        if (!tfo_valid (in, used))
          return false;
        bool logic = !strncmp (op, "Logical", 7);
        for (int i = 0; logic && i < used; i++)
          if (in[i].kind == 't')
            in[i].ref = tfo_cast (c, base, in[i].ref, 9);
          else
            {
              /* a constant operand: its truth, as a tensor emitted once */
              OshRef v = tfo_emit (c, "Identity", base, NULL, (In[]){ in[i], { 0 } }, NULL, 1);
              in[i] = T (tfo_cast (c, base, v, 9));
            }
        in[used] = (In){ 0 };
        r = tfo_emit (c, compare[k][1], base, NULL, in, NULL, 1);
        if (!strcmp (op, "NotEqual"))
          r = r.node < 0 ? r : tfo_emit (c, "Not", base, NULL, (In[]){ T (r), { 0 } }, NULL, 1);
        out->nhwc = tfo_cast (c, base, r, 1);
        return out->nhwc.node >= 0;
      }
  if (!strcmp (op, "Select") || !strcmp (op, "SelectV2"))
    {
      if (!tfo_valid (in, 3))
        return false;
      if (in[0].kind == 'w')
        in[0] = T (tfo_emit (c, "Identity", base, NULL, (In[]){ in[0], { 0 } }, NULL, 1));
      in[0].ref = tfo_cast (c, base, in[0].ref, 9);
      out->nhwc = tfo_emit (c, "Where", base, NULL, (In[]){ in[0], in[1], in[2], { 0 } }, NULL, 1);
      return out->nhwc.node >= 0;
    }
  if (!strcmp (op, "FloorMod"))
    {
      /* tfjs's rule: C's remainder r where a and b have one sign, else (r + b) mod b. */
      if (!tfo_valid (in, 2))
        return false;
      In a = in[0].kind == 't'
                 ? in[0]
                 : T (tfo_emit (c, "Identity", base, NULL, (In[]){ in[0], { 0 } }, NULL, 1));
      In b = in[1].kind == 't'
                 ? in[1]
                 : T (tfo_emit (c, "Identity", base, NULL, (In[]){ in[1], { 0 } }, NULL, 1));
      json_t *fmod = json_pack ("{s:i}", "fmod", 1);
      OshRef rem = tfo_emit (c, "Mod", base, NULL, (In[]){ a, b, { 0 } }, json_deep_copy (fmod), 1);
      OshRef sum = tfo_emit (c, "Add", base, NULL, (In[]){ T (rem), b, { 0 } }, NULL, 1);
      OshRef wrapped = tfo_emit (c, "Mod", base, NULL, (In[]){ T (sum), b, { 0 } }, fmod, 1);
      OshRef an =
          tfo_emit (c, "Less", base, NULL, (In[]){ a, W (scalar1 (0, c->err)), { 0 } }, NULL, 1);
      OshRef bn =
          tfo_emit (c, "Less", base, NULL, (In[]){ b, W (scalar1 (0, c->err)), { 0 } }, NULL, 1);
      OshRef differ = tfo_emit (c, "Xor", base, NULL, (In[]){ T (an), T (bn), { 0 } }, NULL, 1);
      out->nhwc = tfo_emit (c, "Where", base, NULL,
                            (In[]){ T (differ), T (wrapped), T (rem), { 0 } }, NULL, 1);
      return out->nhwc.node >= 0;
    }
  if (!strcmp (op, "ZerosLike") || !strcmp (op, "OnesLike") || !strcmp (op, "Fill"))
    {
      /* The value expanded to the (fixed) output shape. */
      tfo_drop (in, used);
      int64_t dims[OSH_MAX_RANK];
      for (int d = 0; d < out->shape.rank; d++)
        dims[d] = out->shape.dim[d];
      In value = !strcmp (op, "Fill") ? slot_input (c, l, n, 1)
                                      : W (scalar1 (op[0] == 'O' ? 1.0f : 0.0f, c->err));
      if (!tfo_valid (&value, 1))
        return false;
      out->nhwc =
          tfo_emit (c, "Expand", base, NULL,
                    (In[]){ value, W (tfo_ints (dims, out->shape.rank, c->err)), { 0 } }, NULL, 1);
      return out->nhwc.node >= 0;
    }
  if (!strcmp (op, "ArgMax"))
    {
      const OshTensor *axis = in[1].kind == 'w' ? in[1].value : NULL;
      json_t *attrs =
          axis ? json_pack ("{s:I, s:i}", "axis", (json_int_t) axis->data[0], "keepdims", 0) : NULL;
      if (in[1].kind == 'w')
        osh_tensor_free (in[1].value);
      if (!attrs || !tfo_valid (in, 1))
        return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "node '%s': ArgMax of a computed axis", base);
      r = tfo_emit (c, "ArgMax", base, NULL, (In[]){ in[0], { 0 } }, attrs, 1);
      out->nhwc = tfo_cast (c, base, r, 1);
      return out->nhwc.node >= 0;
    }
  if (!strcmp (op, "GatherNd"))
    {
      if (!tfo_valid (in, 2))
        return false;
      if (in[1].kind == 't')
        in[1].ref = tfo_cast (c, base, in[1].ref, 7);
      else
        in[1] = T (tfo_cast (
            c, base, tfo_emit (c, "Identity", base, NULL, (In[]){ in[1], { 0 } }, NULL, 1), 7));
      if (in[0].kind == 'w')
        in[0] = T (tfo_emit (c, "Identity", base, NULL, (In[]){ in[0], { 0 } }, NULL, 1));
      out->nhwc = tfo_emit (c, "GatherND", base, NULL, (In[]){ in[0], in[1], { 0 } }, NULL, 1);
      return out->nhwc.node >= 0;
    }
  if (!strcmp (op, "TopKV2"))
    {
      if (!tfo_valid (in, 2))
        return false;
      if (in[1].kind != 'w')
        {
          tfo_drop (in, 2);
          return osh_fail (c->err, OSH_ERR_UNSUPPORTED, "node '%s': TopKV2 of a computed k", base);
        }
      in[1].value->shape = osh_shape_make (1, (int64_t[]){ 1 }); /* ONNX's k is 1-D */
      r = tfo_emit (c, "TopK", base, NULL, (In[]){ in[0], in[1], { 0 } },
                    json_pack ("{s:i, s:i, s:i}", "axis", -1, "largest", 1, "sorted", 1), 2);
      out[0].nhwc = r;
      out[1].nhwc = tfo_cast (c, base, (OshRef){ r.node, 1 }, 1);
      return out[1].nhwc.node >= 0;
    }
  if (!strcmp (op, "OneHot") && l->n_slots == 4)
    {
      /* ONNX's OneHot counts negative indices from the end; TF's are all off: one past the
       * end is all off in both. */
      In all[4] = { in[0], in[1], in[2], slot_input (c, l, n, 3) };
      In on = all[2], off = all[3];
      if (!tfo_valid (all, 4))
        return false;
      if (in[1].kind != 'w' || on.kind != 'w' || off.kind != 'w')
        {
          tfo_drop (all, 4);
          return osh_fail (c->err, OSH_ERR_UNSUPPORTED,
                           "node '%s': OneHot of a computed depth or on/off value", base);
        }
      float pair[2] = { off.value->data[0], on.value->data[0] }, depth = in[1].value->data[0];
      osh_tensor_free (on.value);
      osh_tensor_free (off.value);
      osh_tensor_free (in[1].value);
      if (in[0].kind == 'w')
        in[0] = T (tfo_emit (c, "Identity", base, NULL, (In[]){ in[0], { 0 } }, NULL, 1));
      OshRef negative = tfo_emit (c, "Less", base, NULL,
                                  (In[]){ in[0], W (scalar1 (0, c->err)), { 0 } }, NULL, 1);
      OshRef idx =
          tfo_emit (c, "Where", base, NULL,
                    (In[]){ T (negative), W (scalar1 (depth, c->err)), in[0], { 0 } }, NULL, 1);
      out->nhwc = tfo_emit (
          c, "OneHot", base, NULL,
          (In[]){ T (idx), W (scalar1 (depth, c->err)), W (tf_vector (pair, 2, c->err)), { 0 } },
          json_pack ("{s:I}", "axis", (json_int_t) osh_config_int (l->config, "axis", -1)), 1);
      return out->nhwc.node >= 0;
    }
  tfo_drop (in, used);
  *known = false;
  return false;
}
