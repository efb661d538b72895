"""Real PyTorch exports against ONNX Runtime: torchvision's segmentation models (FCN-ResNet50,
DeepLabV3 and LR-ASPP on MobileNetV3-Large, random weights) exported with open height and width,
and a model with PyTorch's shape idioms (`F.interpolate(size=x.shape[2:])`,
`x.view(x.size(0), -1)`, a size from integer division, `arange` and `ones` of run-time sizes);
the same files with float16 weights and Casts appended after every other node (as float16
converters write them), dynamically quantized as onnxruntime quantizes (DynamicQuantizeLinear,
ConvInteger, MatMulInteger), statically quantized in the QDQ form (QuantizeLinear,
DequantizeLinear), and with their nodes shuffled (tests/onnx/onnxwire.py writes the variants).
The models are exported at test time (tests/onnx/torchvision_export.py, cached in the build
directory); without torch the cases skip."""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import onnxwire  # noqa: E402
from clitest import Skip, case, main, offshoot, source, tempdir  # noqa: E402
from ortcheck import assert_close, ort_run, our_run  # noqa: E402

EXPORT = source("tests", "onnx", "torchvision_export.py")
SEGMENTATION = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "fcn_resnet50"]


def exported(name):
    """The ONNX export of `name`, made once per version of the export script."""
    try:
        import torchvision  # noqa: F401
    except ImportError as e:
        raise Skip(f"PyTorch with torchvision is not installed ({e})")
    version = hashlib.sha256(open(EXPORT, "rb").read()).hexdigest()[:12]
    cache = os.path.join(os.environ.get("G_TEST_BUILDDIR", tempdir()), "torchvision-exports",
                         version)
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, name + ".onnx")
    if not os.path.exists(path):
        r = subprocess.run([sys.executable, EXPORT, name, path + ".part"], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        os.replace(path + ".part", path)
    return path


def variant(path, suffix, rewrite):
    out = os.path.join(tempdir(), os.path.basename(path).replace(".onnx", suffix + ".onnx"))
    with open(path, "rb") as f:
        data = rewrite(f.read())
    with open(out, "wb") as f:
        f.write(data)
    return out


def picture(h, w, seed):
    path = os.path.join(tempdir(), f"x{h}x{w}.npy")
    np.save(path, np.random.default_rng(seed).standard_normal((1, 3, h, w)).astype(np.float32))
    return path


def matches_ort(model, sizes=((64, 80), (45, 61)), optimization=None):
    """Runs `model` at each size in Offshoot and in ONNX Runtime; returns Offshoot's outputs."""
    runs = []
    for seed, (h, w) in enumerate(sizes):
        x = picture(h, w, seed)
        theirs = ort_run(model, x, optimization)
        ours = our_run(model, x)
        assert_close(ours, theirs)
        assert ours[0][1].shape[2:] == (h, w), ours[0][1].shape
        assert float(ours[0][1].std()) > 1e-3, "the output is flat: the comparison shows nothing"
        runs.append(ours)
    return runs


@case
def segmentation_models_with_open_sizes_match_onnx_runtime():
    for name in SEGMENTATION:
        print(f"# {name}")
        matches_ort(exported(name))


@case
def shape_idioms_fold_once_the_sizes_are_known():
    model = exported("shape_idioms")
    ops = onnxwire.node_ops(open(model, "rb").read())
    for op in ["Shape", "Gather", "Slice", "Concat", "Unsqueeze", "Div", "Cast", "Reshape", "Range",
               "ConstantOfShape"]:
        assert op in ops, (op, ops)
    # 45 // 2 and 61 // 3 are sizes only integer division gives.
    runs = matches_ort(model, sizes=((64, 80), (45, 61), (37, 50)))
    assert [n for n, _ in runs[0]][1] == "/fc/Gemm", [n for n, _ in runs[0]]


@case
def sizes_read_from_an_open_batch_fold_as_a_run_fixes_it():
    # Only the batch is open: `x.view(x.size(0), -1)`, `torch.ones(x.shape)` and the rest read
    # it, and a run knows its batch, so they fold (it said "input 1 (shape) is computed at run
    # time" when only open sizes past the batch were fixed).
    model = exported("shape_idioms_open_batch")
    r = offshoot("inspect", model, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["inputs"][0]["shape"] == [None, 3, 64, 80], r.stdout
    runs = matches_ort(model, sizes=((64, 80),))
    assert len(runs[0]) == 2, [n for n, _ in runs[0]]


@case
def saved_outputs_are_named_after_the_graph_outputs():
    model = exported("shape_idioms")
    out = os.path.join(tempdir(), "saved")
    r = offshoot("run", model, picture(40, 48, 3), "--save-outputs", out)
    assert r.returncode == 0, r.stderr
    # The graph's outputs are "out" and "logits"; the nodes computing them "/Mul" and "/fc/Gemm".
    assert sorted(os.listdir(out)) == ["logits.npy", "out.npy"], os.listdir(out)
    assert np.load(os.path.join(out, "logits.npy")).shape == (1, 5)


@case
def float16_weights_with_casts_after_every_other_node_match_onnx_runtime():
    for name in ["lraspp_mobilenet_v3_large", "shape_idioms"]:
        full = exported(name)
        half = variant(full, "-fp16", onnxwire.float16_weights)
        ops = onnxwire.node_ops(open(half, "rb").read())
        n_cast = ops.count("Cast") - onnxwire.node_ops(open(full, "rb").read()).count("Cast")
        assert n_cast >= 4 and ops[-n_cast:] == ["Cast"] * n_cast, ops[-n_cast - 2:]
        print(f"# {name}: {n_cast} Casts appended after the other nodes")
        ours = matches_ort(half)[0]
        # The weights really are float16: the results move a little from the float32 model's.
        x = picture(64, 80, 0)
        for (_, a), (_, b) in zip(ours, our_run(full, x)):
            diff = float(np.abs(a - b).max())
            assert 0 < diff < 0.05 * max(1.0, float(np.abs(b).max())), diff


@case
def nodes_in_any_order_run_as_sorted():
    name = "deeplabv3_mobilenet_v3_large"
    sorted_model = exported(name)
    shuffled = variant(sorted_model, "-shuffled", lambda b: onnxwire.shuffled_nodes(b, 7))
    assert onnxwire.node_ops(open(shuffled, "rb").read()) != \
        onnxwire.node_ops(open(sorted_model, "rb").read())
    runs = matches_ort(shuffled, sizes=((48, 64),))
    x = picture(48, 64, 0)
    for (_, a), (_, b) in zip(runs[0], our_run(sorted_model, x)):
        assert np.array_equal(a, b), "the shuffled file computes something else"
    both = variant(exported("shape_idioms"), "-fp16-shuffled",
                   lambda b: onnxwire.shuffled_nodes(onnxwire.float16_weights(b), 3))
    matches_ort(both)


@case
def dynamically_quantized_exports_match_onnx_runtime():
    # onnxruntime's dynamic quantization, written by tests/onnx/onnxwire.py (no onnxruntime
    # Python here): DynamicQuantizeLinear → ConvInteger / MatMulInteger on uint8 weights with
    # their zero points → Cast → the two scales → bias.
    for name in ["lraspp_mobilenet_v3_large", "shape_idioms"]:
        full = exported(name)
        quantized = variant(full, "-quantized", onnxwire.dynamically_quantized)
        ops = onnxwire.node_ops(open(quantized, "rb").read())
        integer = ops.count("ConvInteger") + ops.count("MatMulInteger")
        assert "Conv" not in ops and ops.count("ConvInteger") > 0, sorted(set(ops))
        assert integer == ops.count("DynamicQuantizeLinear"), sorted(set(ops))
        assert name != "shape_idioms" or "MatMulInteger" in ops, sorted(set(ops))
        ours = matches_ort(quantized)[0]
        # Quantized arithmetic really ran: the results move away from the float model's.
        for (_, a), (_, b) in zip(ours, our_run(full, picture(64, 80, 0))):
            diff = float(np.abs(a - b).max())
            assert 0 < diff < 0.5 * max(1.0, float(np.abs(b).max())), diff
            print(f"# {name}: quantized vs float32 max |diff| {diff:.2g}")


@case
def qdq_quantized_exports_match_onnx_runtime():
    # Static quantization as QDQ: uint8 weights through DequantizeLinear (folded at load), each
    # Conv input through QuantizeLinear → DequantizeLinear (run every time). Compared with ONNX
    # Runtime running the graph as written: its optimizer makes integer convolutions of these
    # (on LR-ASPP 0.034 away from the unoptimized result, which Offshoot matches to 3e-8).
    for name in ["lraspp_mobilenet_v3_large", "shape_idioms"]:
        quantized = variant(exported(name), "-qdq", onnxwire.qdq_quantized)
        ops = onnxwire.node_ops(open(quantized, "rb").read())
        assert ops.count("QuantizeLinear") == ops.count("Conv") > 0, sorted(set(ops))
        matches_ort(quantized, optimization="disabled")


@case
def integer_shape_arithmetic_truncates():
    # (height // 2) * 2 as ONNX writes it: Div and Mul on int64 scalars from Shape, used as a
    # Slice end. Division in float32 would give the whole height back for odd heights.
    int64 = 7
    model = os.path.join(tempdir(), "even_rows.onnx")
    with open(model, "wb") as f:
        f.write(onnxwire.small_model(
            [("Shape", ["x"], ["shape"]), ("Gather", ["shape", "two"], ["height"]),
             ("Div", ["height", "two"], ["half"]), ("Mul", ["half", "two"], ["even"]),
             ("Unsqueeze", ["even", "zero"], ["end"]),
             ("Slice", ["x", "zero", "end", "two1"], ["y"])],
            [("x", [1, 3, "h", "w"])], [("y", [1, 3, "even_h", "w"])],
            [("two", np.array(2, "<i8"), int64), ("zero", np.array([0], "<i8"), int64),
             ("two1", np.array([2], "<i8"), int64)]))
    for h in (45, 44):
        x = picture(h, 7, h)
        ((_, y),) = our_run(model, x)
        assert y.shape == (1, 3, h // 2 * 2, 7), (h, y.shape)
        assert_close([("y", y)], ort_run(model, x))


main()
