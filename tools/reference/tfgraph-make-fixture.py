#!/usr/bin/python3
"""Writes tests/tfgraph/fixtures/ops/: a small TF.js graph model written by hand (model.json and
two weight shards) that uses every TF op the TF graph dialect runs, with weights stored as
float32, float16, uint8- and uint16-quantized, and int32 constants; and
tests/tfgraph/fixtures/open-sizes/: an input of open height and width whose size is read with
Shape and computes a resize target and a Reshape (folded once the sizes are fixed).
tests/tfgraph runs both in Offshoot and in tfjs (tf.loadGraphModel) and compares every output. Deterministic; run from
the source root:

    /usr/bin/python3 tools/reference/tfgraph-make-fixture.py
"""
import base64
import json
import os

import numpy as np

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "tfgraph", "fixtures")
rng = np.random.default_rng(7)
nodes, weights = [], []


def s(text):
    return {"s": base64.b64encode(text.encode()).decode()}


def ints(*v):
    return {"list": {"i": [str(x) for x in v]}}


def node(name, op, inputs=(), **attr):
    attr.setdefault("T", {"type": "DT_FLOAT"})
    nodes.append({"name": name, "op": op, "input": list(inputs), "attr": attr})
    return name


def const(name, value, store="float32"):
    """A Const node and its manifest entry; `store`: float32, float16, uint8, uint16 or int32."""
    value = np.asarray(value)
    entry = {"name": name, "shape": list(value.shape), "dtype": "int32" if store == "int32" else "float32"}
    if store == "float16":
        entry["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
        data = value.astype("<f2").tobytes()
    elif store in ("uint8", "uint16"):
        levels = 255 if store == "uint8" else 65535
        lo, hi = float(value.min()), float(value.max())
        scale = (hi - lo) / levels or 1.0
        q = np.round((value - lo) / scale).astype("<u1" if store == "uint8" else "<u2")
        entry["quantization"] = {"dtype": store, "min": lo, "scale": scale, "original_dtype": "float32"}
        data = q.tobytes()
    elif store == "int32":
        data = value.astype("<i4").tobytes()
    else:
        data = value.astype("<f4").tobytes()
    dtype = "DT_INT32" if store == "int32" else "DT_FLOAT"
    nodes.append({"name": name, "op": "Const", "attr": {"value": {"tensor": {"dtype": dtype}},
                                                      "dtype": {"type": dtype}}})
    weights.append((entry, data))
    return name


def c(name, shape, store="float32", scale=0.5):
    return const(name, rng.normal(0, scale, shape).astype("f4"), store)


def i32(name, *v):
    return const(name, np.array(v, "i4"), "int32")


def conv_attr(strides=(1, 1), padding="SAME", dilations=(1, 1), fused=None, **more):
    a = {"strides": ints(1, *strides, 1), "padding": s(padding), "data_format": s("NHWC"),
         "dilations": ints(1, *dilations, 1), **more}
    if fused:
        a["fused_ops"] = {"list": {"s": [s(f)["s"] for f in fused]}}
        a["num_args"] = {"i": str(len(fused) if "Prelu" in fused else 1)}
        a["epsilon"] = {"f": 0}
    return a


def build():
    x = "input"
    nodes.append({"name": x, "op": "Placeholder", "attr": {
        "shape": {"shape": {"dim": [{"size": "1"}, {"size": "9"}, {"size": "9"}, {"size": "3"}]}},
        "dtype": {"type": "DT_FLOAT"}}})
    # convolutions: fused bias + relu6 (float16 weights), depthwise with bias + prelu (uint8)
    c1 = node("block1/conv/Relu6", "_FusedConv2D", [x, c("block1/conv/w", (3, 3, 3, 4), "float16"),
                                                    c("block1/conv/b", (4,))],
              **conv_attr((2, 2), fused=["BiasAdd", "Relu6"]))
    d1 = node("block1/dw/Prelu", "FusedDepthwiseConv2dNative",
              [c1, c("block1/dw/w", (3, 3, 4, 2), "uint8"), c("block1/dw/b", (8,)),
               const("block1/dw/alpha", rng.uniform(0.05, 0.3, 8).astype("f4"))],
              **conv_attr(fused=["BiasAdd", "Prelu"]))
    bn = node("block1/bn/FusedBatchNormV3", "FusedBatchNormV3",
              [d1, c("block1/bn/gamma", (8,)), c("block1/bn/beta", (8,)), c("block1/bn/mean", (8,)),
               const("block1/bn/var", rng.uniform(0.5, 2, 8).astype("f4"))],
              epsilon={"f": 0.001}, data_format=s("NHWC"), is_training={"b": False})
    lr = node("block1/LeakyRelu", "LeakyRelu", [bn], alpha={"f": 0.1})
    plain = node("block1/conv2/Conv2D", "Conv2D", [lr, c("block1/conv2/w", (2, 2, 8, 3))],
                 **conv_attr(padding="VALID", dilations=(2, 2)))
    badd = node("block1/conv2/BiasAdd", "BiasAdd", [plain, c("block1/conv2/b", (3,))], data_format=s("NHWC"))
    dw2 = node("block1/dw2/depthwise", "DepthwiseConv2dNative", [lr, c("block1/dw2/w", (3, 3, 8, 1))],
               **conv_attr((2, 2)))
    mp = node("pool/MaxPool", "MaxPool", [lr], ksize=ints(1, 2, 2, 1), strides=ints(1, 2, 2, 1),
              padding=s("SAME"), data_format=s("NHWC"))
    ap = node("pool/AvgPool", "AvgPool", [lr], ksize=ints(1, 3, 3, 1), strides=ints(1, 2, 2, 1),
              padding=s("VALID"), data_format=s("NHWC"))
    # resizing with TF's three coordinate rules
    up = node("resize/bilinear_half", "ResizeBilinear", [ap, i32("resize/size3", 3, 3)],
              half_pixel_centers={"b": True}, align_corners={"b": False})
    ac = node("resize/bilinear_corners", "ResizeBilinear", [mp, i32("resize/size5", 5, 7)],
              half_pixel_centers={"b": False}, align_corners={"b": True})
    lg = node("resize/bilinear_legacy", "ResizeBilinear", [dw2, i32("resize/size4", 4, 6)],
              half_pixel_centers={"b": False}, align_corners={"b": False})
    nn = node("resize/nearest_half", "ResizeNearestNeighbor", [mp, i32("resize/size6", 6, 6)],
              half_pixel_centers={"b": True}, align_corners={"b": False})
    nn2 = node("resize/nearest_corners", "ResizeNearestNeighbor", [mp, i32("resize/size7", 7, 5)],
               half_pixel_centers={"b": False}, align_corners={"b": True})
    cat = node("merge/concat", "ConcatV2", [mp, up, i32("merge/axis", 3)], N={"i": "2"})
    tc = node("decoder/conv_transpose", "Conv2DBackpropInput",
              [i32("decoder/sizes", 1, 6, 6, 4), c("decoder/w", (3, 3, 4, 16)), cat], **conv_attr((2, 2)))
    pad = node("decoder/mirror", "MirrorPad",
               [tc, const("decoder/mpads", np.array([[0, 0], [1, 1], [2, 2], [0, 0]]), "int32")],
               mode=s("REFLECT"), Tpaddings={"type": "DT_INT32"})
    pad2 = node("decoder/padv2", "PadV2",
                [tc, const("decoder/pads", np.array([[0, 0], [2, 0], [0, 1], [0, 0]]), "int32"),
                 const("decoder/pad_value", np.float32(0.5))], Tpaddings={"type": "DT_INT32"})
    mean = node("head/Mean", "Mean", [pad, i32("head/axes", 1, 2)], keep_dims={"b": False})
    # dense layers: uint16 weights with a fused bias; a transposed MatMul
    fc = node("head/fc/BiasAdd", "_FusedMatMul", [mean, c("head/fc/w", (4, 5), "uint16"), c("head/fc/b", (5,))],
              transpose_a={"b": False}, transpose_b={"b": False}, fused_ops={"list": {"s": [s("BiasAdd")["s"]]}},
              num_args={"i": "1"}, epsilon={"f": 0})
    node("head/probs", "Softmax", [fc])
    node("head/fc2/MatMul", "MatMul", [mean, c("head/fc2/w", (6, 4))], transpose_a={"b": False},
         transpose_b={"b": True})
    # element-wise
    e = node("ew/Elu", "Elu", [badd])
    sg = node("ew/Sigmoid", "Sigmoid", [badd])
    th = node("ew/Tanh", "Tanh", [badd])
    node("ew/AddN", "AddN", [e, sg, th], N={"i": "3"})
    mx = node("ew/Maximum", "Maximum", [e, const("ew/zero", np.float32(0.2))])
    mn = node("ew/Minimum", "Minimum", [mx, th])
    sub = node("ew/Sub", "Sub", [mn, sg])
    sq = node("ew/Square", "Square", [sub])
    one = const("ew/one", np.float32(1.0))
    node("ew/Rsqrt", "Rsqrt", [node("ew/AddV2", "AddV2", [sq, one])])
    node("ew/Sqrt", "Sqrt", [node("ew/Add", "Add", [sq, one])])
    node("ew/RealDiv", "RealDiv", [node("ew/Exp", "Exp", [th]), node("ew/Mul", "Mul", [sg, const("ew/k", np.full(3, 2.5, "f4"))])])
    node("ew/SquaredDifference", "SquaredDifference", [sg, th])
    node("ew/Relu", "Relu", [node("ew/Relu6", "Relu6", [node("ew/Neg", "Neg", [e])])])
    # shapes: strided slices (masks, a shrunk axis), slices, splits, packs, reshapes
    node("shape/strided", "StridedSlice", [nn, i32("shape/b", 0, 1, 0, 2), i32("shape/e", 0, 5, 6, 6),
                                           i32("shape/s", 1, 2, 1, 1)],
         begin_mask={"i": "1"}, end_mask={"i": "1"}, shrink_axis_mask={"i": "0"}, ellipsis_mask={"i": "0"},
         new_axis_mask={"i": "0"}, Index={"type": "DT_INT32"})
    first = node("shape/first", "StridedSlice", [nn, i32("shape/b0", 0, 0), i32("shape/e0", 1, 0),
                                                 i32("shape/s0", 1, 1)],
                 begin_mask={"i": "2"}, end_mask={"i": "2"}, shrink_axis_mask={"i": "1"},
                 ellipsis_mask={"i": "0"}, new_axis_mask={"i": "0"}, Index={"type": "DT_INT32"})
    tr = node("shape/transpose", "Transpose", [first, i32("shape/perm", 2, 0, 1)], Tperm={"type": "DT_INT32"})
    node("shape/splitv", "SplitV", [tr, i32("shape/sizes", 3, -1), i32("shape/split_axis", 0)],
         num_split={"i": "2"}, Tlen={"type": "DT_INT32"})
    node("shape/split_b", "Neg", ["shape/splitv:1"])
    node("shape/split", "Split", [i32("shape/split_axis3", 3), tc], num_split={"i": "2"})
    node("shape/split_b2", "Abs", ["shape/split:1"])
    node("shape/unpack", "Unpack", ["shape/splitv"], num={"i": "3"}, axis={"i": "0"})
    pk = node("shape/pack", "Pack", ["shape/unpack", "shape/unpack:2"], N={"i": "2"}, axis={"i": "2"})
    ex = node("shape/expand", "ExpandDims", [pk, i32("shape/dim", 0)], Tdim={"type": "DT_INT32"})
    node("shape/squeeze", "Squeeze", [ex], squeeze_dims=ints(0))
    rs = node("shape/reshape", "Reshape", [first, i32("shape/target", -1, 48)], Tshape={"type": "DT_INT32"})
    node("shape/max", "Max", [rs, i32("shape/axis1", 1)], keep_dims={"b": False})
    node("shape/sum", "Sum", [rs, i32("shape/axis0", 0)], keep_dims={"b": True})
    am = node("shape/argmax", "ArgMax", [rs, i32("shape/am_axis", 1)], output_type={"type": "DT_INT32"})
    node("shape/floordiv", "FloorDiv", [am, i32("shape/four", 4)])
    node("shape/gathernd", "GatherNd", [rs, const("shape/idx", np.array([[0, 5], [3, 47], [5, 0]]), "int32")],
         Tparams={"type": "DT_FLOAT"}, Tindices={"type": "DT_INT32"})
    node("shape/slice", "Slice", [tc, i32("shape/begin", 0, 1, 1, 0), i32("shape/size", -1, 3, 3, 2)])
    node("shape/gather", "GatherV2", [rs, i32("shape/g_idx", 4, 0, 2), i32("shape/g_axis", 0)],
         batch_dims={"i": "0"})
    node("shape/cast", "Cast", [node("shape/scaled", "Mul", [rs, const("shape/ten", np.float32(10))])],
         SrcT={"type": "DT_FLOAT"}, DstT={"type": "DT_INT32"}, Truncate={"b": False})
    node("shape/identity", "Identity", [pad2])
    node("pool/nearest2", "Identity", [nn2])
    node("pool/legacy", "Identity", [lg])
    node("pool/corners", "Identity", [ac])
    # EXPLICIT padding (before and after of N, H, W, C) on convolutions; MirrorPad SYMMETRIC
    node("pad/explicit_conv", "_FusedConv2D", [lr, c("pad/conv_w", (3, 3, 8, 3)), c("pad/conv_b", (3,))],
         **conv_attr(padding="EXPLICIT", fused=["BiasAdd", "Relu"],
                     explicit_paddings=ints(0, 0, 1, 2, 0, 1, 0, 0)))
    node("pad/explicit_dw", "DepthwiseConv2dNative", [lr, c("pad/dw_w", (3, 3, 8, 1))],
         **conv_attr((2, 2), padding="EXPLICIT", explicit_paddings=ints(0, 0, 2, 1, 1, 1, 0, 0)))
    node("pad/symmetric", "MirrorPad",
         [tc, const("pad/spads", np.array([[0, 0], [3, 1], [6, 2], [0, 0]]), "int32")],
         mode=s("SYMMETRIC"), Tpaddings={"type": "DT_INT32"})
    # comparisons and logic (booleans come out as 0 and 1), Select with a broadcast and a row
    # condition, FloorMod of floats (either sign of divisor) and ints
    coarse = node("topk/coarse", "Floor", [node("topk/doubled", "Mul", [rs, const("topk/two", np.float32(2))])])
    line = const("cmp/line", rng.uniform(-0.05, 0.3, 48).astype("f4"))
    eq = node("cmp/equal", "Equal", [coarse, const("cmp/zero", np.float32(0))])
    node("cmp/not_equal", "NotEqual", [coarse, const("cmp/one", np.float32(1))])
    gt = node("cmp/greater", "Greater", [rs, line])
    ge = node("cmp/greater_equal", "GreaterEqual", [coarse, const("cmp/one_b", np.float32(1))])
    lt = node("cmp/less", "Less", [rs, const("cmp/low", np.float32(0.02))])
    le = node("cmp/less_equal", "LessEqual", [line, rs])
    both = node("cmp/and", "LogicalAnd", [gt, lt], T={"type": "DT_BOOL"})
    node("cmp/or", "LogicalOr", [eq, le], T={"type": "DT_BOOL"})
    node("cmp/not", "LogicalNot", [ge], T={"type": "DT_BOOL"})
    node("cmp/select", "Select", [both, rs, coarse])
    node("cmp/select_v2", "SelectV2", [lt, rs, const("cmp/fallback", np.float32(-3))])
    late = node("cmp/late", "Greater", [node("cmp/am_col", "ExpandDims", [am, i32("cmp/last", -1)]),
                                         i32("cmp/twenty", 20)], T={"type": "DT_INT32"})
    node("cmp/select_rows", "SelectV2", [late, rs, node("cmp/neg_rows", "Neg", [rs])])
    scaled = node("mod/scaled", "Mul", [rs, const("mod/ten", np.float32(10))])
    node("mod/floor_mod", "FloorMod", [scaled, const("mod/three", np.float32(3))])
    node("mod/floor_mod_neg", "FloorMod", [scaled, const("mod/minus", np.float32(-2.5))])
    node("mod/floor_mod_int", "FloorMod", [am, i32("mod/five", 5)], T={"type": "DT_INT32"})
    # made from sizes: Fill, Range (ints and floats), ZerosLike, OnesLike, OneHot
    node("make/fill", "Fill", [i32("make/dims", 2, 3), const("make/value", np.float32(1.5))],
         index_type={"type": "DT_INT32"})
    node("make/range", "Range", [i32("make/start", 2), i32("make/limit", 11), i32("make/delta", 3)],
         Tidx={"type": "DT_INT32"}, T={"type": "DT_INT32"})
    node("make/range_f", "Range", [const("make/fstart", np.float32(0.5)), const("make/flimit", np.float32(2)),
                                   const("make/fdelta", np.float32(0.25))], Tidx={"type": "DT_FLOAT"})
    node("make/zeros_like", "ZerosLike", [sg])
    node("make/ones_like", "OnesLike", [am], T={"type": "DT_INT32"})
    node("make/one_hot", "OneHot", [am, i32("make/depth", 40), const("make/on", np.float32(2)),
                                    const("make/off", np.float32(-1))],
         axis={"i": "-1"}, TI={"type": "DT_INT32"})
    # TopKV2: values and indices, sorted; on a tensor with ties (lower index first)
    node("topk/top", "TopKV2", [rs, i32("topk/k", 5)], sorted={"b": True})
    node("topk/values", "Identity", ["topk/top"])
    node("topk/indices", "Identity", ["topk/top:1"], T={"type": "DT_INT32"})
    node("topk/ties", "TopKV2", [coarse, i32("topk/k7", 7)], sorted={"b": True})
    node("topk/tie_values", "Identity", ["topk/ties"])
    node("topk/tie_indices", "Identity", ["topk/ties:1"], T={"type": "DT_INT32"})


def build_open_sizes():
    x = "image"
    nodes.append({"name": x, "op": "Placeholder", "attr": {
        "shape": {"shape": {"dim": [{"size": "1"}, {"size": "-1"}, {"size": "-1"}, {"size": "3"}]}},
        "dtype": {"type": "DT_FLOAT"}}})
    f = node("features/Relu", "_FusedConv2D", [x, c("features/w", (3, 3, 3, 4), "float16"), c("features/b", (4,))],
             **conv_attr((2, 2), fused=["BiasAdd", "Relu"]))
    shape = node("size/Shape", "Shape", [x], out_type={"type": "DT_INT32"})
    hw = node("size/hw", "StridedSlice", [shape, i32("size/b", 1), i32("size/e", 3), i32("size/s", 1)],
              begin_mask={"i": "0"}, end_mask={"i": "0"}, shrink_axis_mask={"i": "0"}, ellipsis_mask={"i": "0"},
              new_axis_mask={"i": "0"}, Index={"type": "DT_INT32"}, T={"type": "DT_INT32"})
    up = node("decoder/ResizeBilinear", "ResizeBilinear", [f, hw], half_pixel_centers={"b": True},
              align_corners={"b": False})
    logits = node("decoder/logits", "Conv2D", [up, c("decoder/w", (1, 1, 4, 2))], **conv_attr())
    node("decoder/flat", "Reshape", [logits, i32("decoder/shape", 1, -1)])
    node("decoder/mask", "Sigmoid", [logits])


def write(folder, n_shards):
    os.makedirs(folder, exist_ok=True)
    # the shards cut mid-group, as tensorflowjs_converter splits them
    data = b"".join(d for _, d in weights)
    cuts = [len(data) * k // n_shards for k in range(n_shards + 1)]
    paths = [f"group1-shard{k + 1}of{n_shards}.bin" for k in range(n_shards)]
    for k, p in enumerate(paths):
        with open(os.path.join(folder, p), "wb") as f:
            f.write(data[cuts[k]:cuts[k + 1]])
    doc = {"format": "graph-model", "generatedBy": "tools/reference/tfgraph-make-fixture.py",
           "convertedBy": "by hand",
           "modelTopology": {"node": nodes, "versions": {"producer": 1, "minConsumer": 0}},
           "weightsManifest": [{"paths": paths, "weights": [e for e, _ in weights]}]}
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    nodes.clear()
    weights.clear()


def main():
    build()
    write(os.path.join(FIXTURES, "ops"), 2)
    build_open_sizes()
    write(os.path.join(FIXTURES, "open-sizes"), 1)


if __name__ == "__main__":
    main()
