"""ONNX models whose inputs leave height and width open (symbolic sizes), made without PyTorch:
a Keras parity fixture (tfjs) given an input of (None, None, None, 3) and exported with
`offshoot export`. The open sizes are None in `inspect` and fixed from each input by `run`, so a
head attached there runs at the picture's size (it said "does not fit its input (1, 1, 1, 5)"
when symbolic sizes were taken as 1) and computes what the same head on the Keras model does."""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, offshoot_json, source, tempdir  # noqa: E402
from ortcheck import assert_close, our_run  # noqa: E402

FIXTURE = source("tests", "parity", "fixtures", "conv2d_same_stride2")
CONV = "conv2d_Conv2D2"  # Conv2D(5, 3, strides 2, same): the fixture's only layer
HEAD = "conv2d(filters=4,kernel_size=3)"  # valid padding: it needs 3 × 3 pixels


def open_models():
    """The fixture with open height and width, as a tfjs model.json and as .onnx."""
    work = tempdir()
    doc = json.load(open(os.path.join(FIXTURE, "model.json")))
    layer = doc["modelTopology"]["config"]["layers"][0]
    assert layer["class_name"] == "InputLayer", layer
    layer["config"]["batch_input_shape"] = [None, None, None, 3]
    keras = os.path.join(work, "model.json")
    json.dump(doc, open(keras, "w"))
    shutil.copy(os.path.join(FIXTURE, "weights.bin"), work)
    onnx = os.path.join(work, "open.onnx")
    r = offshoot("export", keras, "-o", onnx)
    assert r.returncode == 0, r.stderr
    return keras, onnx


def picture(h, w, seed):
    path = os.path.join(tempdir(), f"x{h}x{w}.npy")
    np.save(path, np.random.default_rng(seed).uniform(-1, 1, (1, h, w, 3)).astype(np.float32))
    return path


def onnx_node(onnx, keras_layer):
    """The ONNX node computing the Keras layer's output (the exporter names it <layer>/<Op>_<i>)."""
    names = [l["name"] for l in offshoot_json("inspect", onnx)["layers"]]
    return [n for n in names if n.startswith(keras_layer + "/Conv")][-1]


@case
def a_head_on_open_onnx_sizes_runs_like_the_keras_head():
    keras, onnx = open_models()
    at = onnx_node(onnx, CONV)
    for seed, (h, w) in enumerate([(20, 24), (17, 30)]):
        x = picture(h, w, seed)
        ours = our_run(onnx, x, "--attach", f"{at}={HEAD}")
        theirs = our_run(keras, x, "--attach", f"{CONV}={HEAD}")
        oh, ow = (h + 1) // 2 - 2, (w + 1) // 2 - 2
        assert ours[1][0] == theirs[1][0] == "aux_head_out", ([n for n, _ in ours], theirs[1][0])
        assert ours[1][1].shape == (1, 4, oh, ow), ours[1][1].shape  # ONNX heads stay NCHW
        # The model's own output keeps Keras's layout; the head's is compared channels last.
        assert_close([ours[0], (ours[1][0], ours[1][1].transpose(0, 2, 3, 1))], theirs)


@case
def inspect_shows_open_sizes_as_none_and_fixes_them_when_given():
    _, onnx = open_models()
    doc = offshoot_json("inspect", onnx, "--json")
    assert doc["inputs"][0]["shape"] == [None, None, None, 3], doc["inputs"]
    shapes = {l["class_name"]: l["output_shape"] for l in doc["layers"]}
    assert shapes["Conv"] == [None, 5, None, None], shapes
    r = offshoot("inspect", onnx)
    assert r.returncode == 0 and "(None, 5, None, None)" in r.stdout, r.stdout
    assert "leaves input sizes open" in r.stdout and "--input-shape 1,640,640,3" in r.stdout, \
        r.stdout
    doc = offshoot_json("inspect", onnx, "--input-shape", "1,20,24,3", "--json")
    shapes = {l["class_name"]: l["output_shape"] for l in doc["layers"]}
    assert shapes["Conv"] == [1, 5, 10, 12], shapes
    r = offshoot("inspect", onnx, "--input-shape", "1,20,24,4")
    assert r.returncode == 2 and "(1, 20, 24, 4)" in r.stderr and "(None, None, None, 3)" in \
        r.stderr, r.stderr


@case
def bench_asks_for_the_open_sizes():
    keras, onnx = open_models()
    for model in [keras, onnx]:
        r = offshoot("bench", model, "--runs", "1")
        assert r.returncode == 2 and "--input-shape" in r.stderr, (model, r.stderr)
        doc = offshoot_json("bench", model, "--runs", "1", "--input-shape", "1,20,24,3")
        assert doc["gflop_per_run"] > 0, doc


main()
