"""offshoot zoo and offshoot samples, and the embedded default model's file.

Checks against independent readers: Python's zipfile, zlib and h5py read what the tools wrote;
tfjs's probabilities on the samples (tools/train-default-model/check-tfjs.mjs) judge the run.
"""
import io
import json
import os
import re
import struct
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, offshoot_json, source, tempdir  # noqa: E402

import h5py  # noqa: E402  (Debian's python3-h5py)
import numpy as np  # noqa: E402

sys.path.insert(0, source("tools", "reference"))
from keras2_numpy import run_h5  # noqa: E402  (an independent numpy forward pass)

CLASSES = ["circle", "square", "triangle", "cross"]
PREDICTIONS = source("tests", "zoo", "default-predictions.json")
DEFAULT_MODEL = source("resources", "models", "default.keras")


@case
def zoo_list_names_every_architecture():
    doc = offshoot_json("zoo", "--list")
    for name in ["EfficientNetB0", "EfficientNetB7", "MobileNetV2", "ResNet50", "VGG16"]:
        assert name in doc["architectures"], doc
    r = offshoot("zoo", "--list")
    assert r.returncode == 0 and "EfficientNetB7   600x600x3" in r.stdout, r.stdout


@case
def zoo_counts_match_keras():
    # keras.applications figures: count_params() with and without the top.
    for args, params, layers in [
        (["EfficientNetB0"], 5330571, 240),
        (["efficientnetb0", "--no-top"], 4049571, 237),
        (["MobileNetV2"], 3538984, 156),
        (["MobileNetV3Small"], 2554968, 239),
        (["MobileNetV3Large", "--no-top"], 2996352, 263),
        (["ResNet50"], 25636712, 177),
        (["ResNet50", "--no-top", "--input-shape", "128,128,3"], 23587712, 175),
        (["ResNet50", "--classes", "4"], 23587712 + 2048 * 4 + 4, 177),
    ]:
        doc = offshoot_json("zoo", *args)
        assert doc["total_params"] == params, (args, doc)
        assert doc["layers"] == layers, (args, doc)
        assert doc["output"] is None
    doc = offshoot_json("zoo", "EfficientNetB0")
    assert doc["architecture"] == "EfficientNetB0" and doc["trainable_params"] == 5288548, doc


@case
def zoo_text_summary():
    r = offshoot("zoo", "VGG16", "--no-top")
    assert r.returncode == 0, r.stderr
    assert "14,714,688 parameters" in r.stdout and "19 layers" in r.stdout, r.stdout


@case
def zoo_usage_errors():
    for args, words in [
        ([], "which architecture"),
        (["ResNet51"], "no architecture called 'ResNet51'"),
        (["ResNet50", "--input-shape", "12,3"], "--input-shape takes H,W,C (e.g. 224,224,3), not '12,3'"),
        (["ResNet50", "--classes", "0"], "--classes takes an integer from 1, not '0'"),
        (["ResNet50", "VGG16"], "one architecture at a time"),
        (["ResNet50", "--frob"], "unknown option"),
    ]:
        r = offshoot("zoo", *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert words in r.stderr, (args, r.stderr)
    r = offshoot("zoo", "VGG16", "--no-top", "--input-shape", "16,16,3")
    assert r.returncode == 2 and "too small" in r.stderr, r.stderr


@case
def zoo_writes_a_keras_file():
    out = os.path.join(tempdir(), "resnet50.keras")
    r = offshoot("zoo", "ResNet50", "--no-top", "--input-shape", "64,64,3", "-o", out)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as z:
        config = json.loads(z.read("config.json"))
        names = [layer["config"]["name"] for layer in config["config"]["layers"]]
        assert len(names) == 175 and "conv5_block3_out" in names, names[-5:]
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            total = 0

            def add(name, obj):
                nonlocal total
                if isinstance(obj, h5py.Dataset) and name.startswith("layers/"):
                    total += obj.size
            f.visititems(add)
            assert total == 23587712, total


def read_png(path):
    """Decodes an 8-bit, non-interlaced PNG with zlib, checking every chunk's CRC."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"{path}: bad CRC in {kind}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0, header
    channels = {0: 1, 2: 3}[colour]
    raw = zlib.decompress(idat)
    assert len(raw) == height * (width * channels + 1), f"{path}: wrong pixel data size"
    return width, height, channels, raw


@case
def samples_writes_valid_pngs():
    out = os.path.join(tempdir(), "samples")
    doc = offshoot_json("samples", "-o", out)
    files = sorted(os.path.basename(f) for f in doc["files"])
    images = [f for f in files if f.endswith(".png") and not f.endswith("-mask.png")]
    assert len(images) == 8, files
    assert "labels.txt" in files
    assert open(os.path.join(out, "labels.txt")).read().split() == CLASSES
    for image in images:
        w, h, c, _ = read_png(os.path.join(out, image))
        assert (w, h, c) == (64, 64, 3), (image, w, h, c)
        mask = image[:-4] + "-mask.png"
        w, h, c, raw = read_png(os.path.join(out, mask))
        assert (w, h, c) == (64, 64, 1), (mask, w, h, c)
        rows = [raw[y * 65 + 1:(y + 1) * 65] for y in range(64)]
        covered = sum(sum(1 for v in row if v == 255) for row in rows)
        assert all(v in (0, 255) for row in rows for v in row), mask
        assert 100 < covered < 64 * 64 // 2, (mask, covered)  # an object, not the whole image
        assert image.split("-")[0] in CLASSES
    # The tour's model is the seed fixture (data.gresource.xml).
    embedded = {f: source("resources", "samples", f) for f in files}
    embedded["model.h5"] = source("tests", "edit", "fixtures", "seed", "model.h5")
    for f in files:  # byte for byte what the build embedded
        assert open(os.path.join(out, f), "rb").read() == open(embedded[f], "rb").read(), f
    r = offshoot("samples")
    assert r.returncode == 2 and "-o DIR" in r.stderr, r.stderr


@case
def default_model_file_is_keras3():
    """The embedded model, read with zipfile and h5py: Keras 3 layout, names, sizes."""
    assert os.path.getsize(DEFAULT_MODEL) < 5 * 1024 * 1024
    with zipfile.ZipFile(DEFAULT_MODEL) as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        meta = json.loads(z.read("metadata.json"))
        assert meta["keras_version"].startswith("3."), meta
        config = json.loads(z.read("config.json"))
        assert config["class_name"] == "Functional"
        layers = {entry["config"]["name"]: entry for entry in config["config"]["layers"]}
        for name in ["stem_conv", "block1a_dwconv", "block5a_expand_conv", "top_conv",
                     "avg_pool", "predictions"]:
            assert name in layers, name
        assert layers["predictions"]["config"]["units"] == 4
        history = layers["block5a_expand_bn"]["inbound_nodes"][0]["args"][0]["config"]
        assert history["keras_history"] == ["block5a_expand_conv", 0, 0]
        assert history["shape"] == [None, 8, 8, 240], history  # spatial: a head fits here
        total = 0
        used = {}
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            for name, entry in layers.items():
                cls = entry["class_name"]
                if cls == "InputLayer":
                    continue
                # Keras 3 keys a layer by its class in snake case, numbered on repeats.
                snake = re.sub(r"([a-z])([A-Z])|([A-Z])([A-Z][a-z])",
                               lambda m: f"{m[1] or m[3]}_{m[2] or m[4]}", cls).lower()
                used[snake] = used.get(snake, -1) + 1
                key = snake if used[snake] == 0 else f"{snake}_{used[snake]}"
                v = f[f"layers/{key}/vars"]
                want = {"Conv2D": 2 if entry["config"].get("use_bias") else 1,
                        "DepthwiseConv2D": 1, "BatchNormalization": 4, "Dense": 2}.get(cls, 0)
                assert len(v) == want, (name, key, cls, len(v))
                if cls == "Conv2D":
                    k = entry["config"]["kernel_size"]
                    assert v["0"].shape[:2] == tuple(k) and \
                        v["0"].shape[3] == entry["config"]["filters"], (name, v["0"].shape)
                if cls == "BatchNormalization":
                    assert (v["3"][()] > 0).all(), name  # moving variance
                total += sum(v[k].size for k in v)
        assert total == default_model_params(), total


def default_model_params():
    """The parameter count as h5py sees it in the embedded model's weights."""
    with zipfile.ZipFile(DEFAULT_MODEL) as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            sizes = []
            f["layers"].visititems(lambda n, o: sizes.append(o.size)
                                   if isinstance(o, h5py.Dataset) else None)
            return sum(sizes)


@case
def default_model_inspects():
    r = offshoot("inspect", "@default", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    names = [layer["name"] for layer in doc["layers"]]
    assert "block5a_expand_conv" in names
    assert doc["total_params"] == default_model_params()
    # The FLOPs inspect counts without a plan are the plan's, as bench prints them.
    r = offshoot("bench", "@default", "--runs", "1", "--json")
    assert r.returncode == 0, r.stderr
    bench = json.loads(r.stdout)
    assert doc["flops"] > 0
    # (bench's JSON keeps six significant figures)
    assert abs(doc["flops"] / 1e9 - bench["gflop_per_run"]) <= 1e-5 * bench["gflop_per_run"], \
        (doc["flops"], bench["gflop_per_run"])


@case
def default_model_runs_on_the_samples():
    """Every bundled sample gets the label and nearly the probabilities tfjs computed."""
    expected = json.load(open(PREDICTIONS))
    out = os.path.join(tempdir(), "samples")
    offshoot_json("samples", "-o", out)
    right = tfjs_right = 0
    for sample in expected["samples"]:
        r = offshoot("run", "@default", os.path.join(out, sample["file"]), "--json")
        assert r.returncode == 0, r.stderr
        top = json.loads(r.stdout)["outputs"][0]["top"][0]
        want = max(range(4), key=lambda i: sample["probabilities"][i])
        assert top["index"] == want, (sample["file"], top, sample["probabilities"])
        assert abs(top["p"] - sample["probabilities"][want]) < 1e-3, (sample["file"], top)
        right += top["index"] == sample["label"]
        tfjs_right += want == sample["label"]
    assert right == tfjs_right and right >= 0.95 * len(expected["samples"]), (right, tfjs_right)


@case
def mobilenet_v3_round_trips_and_runs():
    # Written as a Keras 2 .h5 (TFOpLambda's constant in the call kwargs), read back, run.
    d = tempdir()
    out = os.path.join(d, "v3.h5")
    r = offshoot("zoo", "MobileNetV3Small", "--input-shape", "64,64,3", "--classes", "5", "-o", out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        layers = json.loads(f.attrs["model_config"])["config"]["layers"]
    tfop = [layer for layer in layers if layer["class_name"] == "TFOpLambda"]
    # 28 hard_sigmoids (stem, 8 blocks x 3, Conv_1, Conv_2, block 0's squeeze-excite), each
    # `x + 3` and `* (1 / 6)`; Keras 2 writes a TFOpLambda call unwrapped: [layer, 0, 0, kwargs].
    assert len(tfop) == 2 * 28 and tfop[0]["config"]["function"] == "__operators__.add", tfop[:2]
    assert tfop[0]["inbound_nodes"] == [["Conv/BatchNorm", 0, 0, {"y": 3.0, "name": None}]], tfop[0]
    saved = os.path.join(d, "outs")
    doc = offshoot_json("run", out, source("resources", "samples", "circle-1.png"),
                        "--save-outputs", saved)
    top = doc["outputs"][0]["top"]
    assert doc["outputs"][0]["shape"] == [1, 5] and abs(sum(t["p"] for t in top) - 1) < 1e-3, doc
    assert max(t["p"] for t in top) > 1.05 * min(t["p"] for t in top), top
    # Keras's own names hold "/": a head attaches at one, and runs as a second output.
    doc = offshoot_json("run", out, source("resources", "samples", "circle-1.png"),
                        "--attach", "expanded_conv_6/project/BatchNorm=seg")
    assert [o["shape"] for o in doc["outputs"]] == [[1, 5], [1, 4, 4, 1]], doc["outputs"]


@case
def mobilenet_v3_matches_a_numpy_forward_pass():
    # The whole graph (TFOpLambda, squeeze-excite, "/" names, the convolutional top) against
    # plain numpy on the same .h5: features without the top, probabilities with it.
    d = tempdir()
    x = (np.arange(64 * 64 * 3).reshape(1, 64, 64, 3) * 7 % 256).astype(np.float32)
    npy = os.path.join(d, "x.npy")
    np.save(npy, x)
    for name in ["MobileNetV3Small", "MobileNetV3Large"]:
        for top in [["--no-top"], ["--classes", "7"]]:
            model = os.path.join(d, name + ".h5")
            r = offshoot("zoo", name, "--input-shape", "64,64,3", *top, "-o", model)
            assert r.returncode == 0, r.stderr
            saved = os.path.join(d, name + top[0])
            r = offshoot("run", model, npy, "--save-outputs", saved)
            assert r.returncode == 0, r.stderr
            (want,) = run_h5(model, x).values()
            (got_file,) = os.listdir(saved)
            got = np.load(os.path.join(saved, got_file))
            assert got.shape == want.shape, (name, top, got.shape, want.shape)
            diff = np.abs(got - want).max()
            assert diff <= 1e-4 * max(1.0, np.abs(want).max()), (name, top, diff)
            assert want.std() > 1e-3 * max(1e-3, np.abs(want).max()), (name, top)


main()
