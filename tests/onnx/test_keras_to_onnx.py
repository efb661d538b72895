"""Keras models exported to ONNX compute what they computed in Keras: ONNX Runtime (the
independent reference) runs the exported file, Offshoot runs the original Keras file (itself
checked against tfjs in tests/parity), and the outputs agree within 1e-4 × max(1, max|ref|)."""
import glob
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, corpus, main, offshoot, offshoot_json, source, tempdir  # noqa: E402

ORT_SCRIPT = source("tools", "reference", "onnx-ort-reference.mjs")


def ort_outputs(onnx_path, x, work):
    """ONNX Runtime's outputs for input x, via tools/reference/onnx-ort-reference.mjs."""
    name = os.path.splitext(os.path.basename(onnx_path))[0]
    np.save(os.path.join(work, f"{name}.input.npy"), x.astype(np.float32))
    if not os.path.isdir(source("tests", "reference", "node_modules", "onnxruntime-node")):
        raise Skip("onnxruntime-node is not installed (tools/install-deps.sh installs it)")
    r = subprocess.run(["node", ORT_SCRIPT, work], cwd=source(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [np.load(f) for f in sorted(glob.glob(os.path.join(work, f"{name}.ort.*.npy")))]


def check(model, x_shape, seed=0):
    work = tempdir()
    out = os.path.join(work, "exported.onnx")
    r = offshoot("export", model, "-o", out)
    assert r.returncode == 0, r.stderr
    x = np.random.default_rng(seed).uniform(-1, 1, x_shape).astype(np.float32)
    np.save(os.path.join(work, "x.npy"), x)
    r = offshoot("run", model, os.path.join(work, "x.npy"), "--save-outputs", os.path.join(work, "keras"))
    assert r.returncode == 0, r.stderr
    ours = [np.load(f) for f in sorted(glob.glob(os.path.join(work, "keras", "*.npy")))]
    theirs = ort_outputs(out, x, work)
    assert len(ours) == len(theirs) > 0, (len(ours), len(theirs))
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape, (a.shape, b.shape)
        diff, scale = float(np.abs(a - b).max()), max(1.0, float(np.abs(b).max()))
        assert diff <= 1e-4 * scale, f"{model}: max |diff| {diff} (max |ref| {scale})"


@case
def face_models_exported_to_onnx_agree_with_onnx_runtime():
    for name in ["fer2013_mini_XCEPTION.102-0.66.hdf5", "fer2013_big_XCEPTION.54-0.66.hdf5",
                 "gender_mini_XCEPTION.21-0.95.hdf5", "tiny_XCEPTION_KDEF.hdf5"]:
        model = corpus("keras2", "face_classification", name)
        shape = offshoot_json("inspect", model)["inputs"][0]["shape"]
        check(model, tuple(1 if d is None else d for d in shape))


@case
def tfjs_op_fixtures_exported_to_onnx_agree_with_onnx_runtime():
    """Every parity fixture whose layers have an ONNX form; the others must say which layer."""
    exported = refused = 0
    for model in sorted(glob.glob(source("tests", "parity", "fixtures", "*", "model.json"))):
        x = np.load(os.path.join(os.path.dirname(model), "input.npy"))
        work = tempdir()
        r = offshoot("export", model, "-o", os.path.join(work, "m.onnx"))
        if r.returncode != 0:
            assert "has no ONNX export yet" in r.stderr or "no ONNX export" in r.stderr, r.stderr
            refused += 1
            continue
        check(model, x.shape)
        exported += 1
    print(f"# {exported} fixtures exported and matched, {refused} refused with the layer named")
    assert exported >= 5


main()
