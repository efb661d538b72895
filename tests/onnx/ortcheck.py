"""Shared by the ONNX CLI tests: run a model in Offshoot and in ONNX Runtime (the independent
reference, tools/reference/onnx-ort-reference.mjs) and compare within 1e-4 × max(1, max|ref|)."""
import json
import os
import subprocess

import numpy as np

from clitest import Skip, offshoot_json, source, tempdir

ORT_SCRIPT = source("tools", "reference", "onnx-ort-reference.mjs")


def ort_run(model, x_path, optimization=None):
    """ONNX Runtime's outputs of `model` on `x_path`: [(name, array)] in graph order; with
    `optimization` "disabled", the graph as the file writes it (see the script)."""
    if not os.path.isdir(source("tests", "reference", "node_modules", "onnxruntime-node")):
        raise Skip("onnxruntime-node is not installed (tools/install-deps.sh installs it)")
    out = tempdir()
    env = dict(os.environ, **({"OSH_ORT_OPTIMIZATION": optimization} if optimization else {}))
    r = subprocess.run(["node", ORT_SCRIPT, model, x_path, out], cwd=source(), capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    names = json.loads(r.stdout.strip().splitlines()[-1])
    return [(n, np.load(os.path.join(out, f"{i}.npy"))) for i, n in enumerate(names)]


def our_run(model, x_path, *edits):
    """`offshoot run`'s outputs: [(name, array)] in graph order."""
    out = tempdir()
    doc = offshoot_json("run", model, x_path, *edits, "--save-outputs", out)
    return [(o["name"], np.load(o["saved"])) for o in doc["outputs"]]


def assert_close(ours, theirs):
    assert len(ours) == len(theirs), ([n for n, _ in ours], [n for n, _ in theirs])
    for (name, a), (_, b) in zip(ours, theirs):
        assert a.shape == b.shape, (name, a.shape, b.shape)
        diff, scale = float(np.abs(a - b).max()), max(1.0, float(np.abs(b).max()))
        assert diff <= 1e-4 * scale, f"{name}: max |diff| {diff} (max |ref| {scale})"
        print(f"# {name} {a.shape}: max |diff| {diff:.2g}, max |ref| {scale:.3g}")
