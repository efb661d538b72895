"""ONNX graphs run channels-last between their convolutions (the executor's layout pass): in
torchvision's ResNet-18, EfficientNet-B0, MobileNetV2 and MobileNetV3-Small (the benchmark's
models, exported by tools/reference/onnx-export-torch.py's helpers at 64×64), the only layout
conversion is the input's, before the first convolution (every step after it runs channels-last:
residual Adds, ReLUs, MaxPool, depthwise convolutions, squeeze-excite products, global pooling),
and on the AVX-512 path not even that where the stem has at most 32 outputs (it then reads the
colour planes as they are and writes channels-last; ResNet-18's 64 keep the transpose); the outputs still equal ONNX Runtime's within
1e-4 × max(1, max|ref|)."""
import atexit
import contextlib
import importlib.util
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, main, offshoot_json, source, tempdir  # noqa: E402
from ortcheck import assert_close, ort_run, our_run  # noqa: E402

_exported = {}


def exported(name):
    """torchvision model `name` at 64×64 (the same graph as at 224×224, smaller activations),
    exported once: the path without its extension."""
    if name in _exported:
        return _exported[name]
    try:
        import torch
        import torchvision
    except ImportError:
        raise Skip("PyTorch is not installed (Debian python3-torch, python3-torchvision)")
    spec = importlib.util.spec_from_file_location(
        "export_torch", source("tools", "reference", "onnx-export-torch.py"))
    export_torch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export_torch)
    torch.manual_seed(0)
    out = tempdir()
    atexit.register(shutil.rmtree, out, True)
    path = os.path.join(out, name)
    model = getattr(torchvision.models, name)(num_classes=10)
    with contextlib.redirect_stdout(sys.stderr):  # the exporter's messages are not TAP
        export_torch.export(export_torch.randomize(model, 7), (1, 3, 64, 64), path, 21)
    _exported[name] = path
    return path


def steps(model, *args):
    """The plan's steps as (path, class), and the kernel path that ran."""
    doc = offshoot_json("bench", model, "--runs", "1", "--steps", *args)
    if doc["isa"] == "baseline":
        # The portable path (x86-64 without AVX2, arm64) runs plain convolutions channels-first
        # (im2col + sgemm): running channels-last between them is the vector paths' plan.
        raise Skip("the portable kernel path plans no channels-last run (OFFSHOOT_ISA=baseline)")
    return [(s["path"], s["class_name"]) for s in doc["steps"]], doc["isa"]


def converts_only_its_input(name, stem_reads_planar=True):
    plan, isa = steps(exported(name) + ".onnx")
    classes = [c for _, c in plan]
    convs = [i for i, c in enumerate(classes) if c == "Conv"]
    assert len(convs) >= 10, classes
    between = [p for p, c in plan[convs[0]:convs[-1]] if c in ("ToNHWC", "ToNCHW")]
    assert between == [], between
    conversions = [p for p, c in plan if c in ("ToNHWC", "ToNCHW")]
    # AVX-512's stem reads channels-first (osh-conv-gemm.h, planar_in); AVX2's measured slower so
    planar = stem_reads_planar and isa == "avx512"
    assert conversions == ([] if planar else ["input (to NHWC)"]), (isa, conversions)
    print(f"# {len(plan)} steps, conversions: {conversions}")


def matches_onnx_runtime(name):
    path = exported(name)
    assert_close(our_run(path + ".onnx", path + ".input.npy"),
                 ort_run(path + ".onnx", path + ".input.npy"))


@case
def resnet18_converts_only_its_input():
    converts_only_its_input("resnet18", stem_reads_planar=False)


@case
def resnet18_channels_last_matches_onnx_runtime():
    matches_onnx_runtime("resnet18")


@case
def efficientnet_b0_converts_only_its_input():
    converts_only_its_input("efficientnet_b0")


@case
def efficientnet_b0_channels_last_matches_onnx_runtime():
    matches_onnx_runtime("efficientnet_b0")


@case
def mobilenet_v2_channels_first_matches_onnx_runtime():
    """Without the layout pass (OFFSHOOT_KEEP_LAYOUT=1) too: the steps that are channels-last
    inside (an expansion feeding its depthwise convolution) convert at their edges."""
    path = exported("mobilenet_v2")
    os.environ["OFFSHOOT_KEEP_LAYOUT"] = "1"
    try:
        ours = our_run(path + ".onnx", path + ".input.npy")
    finally:
        del os.environ["OFFSHOOT_KEEP_LAYOUT"]
    assert_close(ours, ort_run(path + ".onnx", path + ".input.npy"))


@case
def mobilenet_v2_converts_only_its_input():
    converts_only_its_input("mobilenet_v2")


@case
def mobilenet_v2_channels_last_matches_onnx_runtime():
    matches_onnx_runtime("mobilenet_v2")


@case
def mobilenet_v3_small_converts_only_its_input():
    converts_only_its_input("mobilenet_v3_small")


@case
def mobilenet_v3_small_channels_last_matches_onnx_runtime():
    matches_onnx_runtime("mobilenet_v3_small")


main()
