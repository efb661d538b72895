"""ONNX graphs run channels-last between their convolutions (the executor's layout pass): in
torchvision's ResNet-18, exported by tools/reference/onnx-export-torch.py's helpers, the only
layout conversion is the input's, before the first convolution (every step after it runs
channels-last, the residual Adds, ReLUs and MaxPool included), and the outputs still equal ONNX
Runtime's within 1e-4 × max(1, max|ref|)."""
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

_resnet = None


def resnet18():
    """ResNet-18 at 64×64 (the same graph as at 224×224, smaller activations), exported once."""
    global _resnet
    if _resnet:
        return _resnet
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
    path = os.path.join(out, "resnet18")
    with contextlib.redirect_stdout(sys.stderr):  # the exporter's messages are not TAP
        export_torch.export(export_torch.randomize(torchvision.models.resnet18(num_classes=10), 7),
                            (1, 3, 64, 64), path, 21)
    _resnet = path
    return path


def steps(model, *args):
    doc = offshoot_json("bench", model, "--runs", "1", "--steps", *args)
    return [(s["path"], s["class_name"]) for s in doc["steps"]]


@case
def resnet18_converts_only_its_input():
    plan = steps(resnet18() + ".onnx")
    classes = [c for _, c in plan]
    convs = [i for i, c in enumerate(classes) if c == "Conv"]
    assert len(convs) == 20, classes
    between = [p for p, c in plan[convs[0]:convs[-1]] if c in ("ToNHWC", "ToNCHW")]
    assert between == [], between
    conversions = [p for p, c in plan if c in ("ToNHWC", "ToNCHW")]
    assert conversions == ["input (to NHWC)"], conversions
    print(f"# {len(plan)} steps, conversions: {conversions}")


@case
def resnet18_channels_last_matches_onnx_runtime():
    path = resnet18()
    assert_close(our_run(path + ".onnx", path + ".input.npy"),
                 ort_run(path + ".onnx", path + ".input.npy"))


main()
