"""offshoot export: usage, exit codes, and that a failed export leaves the target alone."""
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, corpus, main, offshoot, source, tempdir  # noqa: E402

FER_MINI = corpus("keras2", "face_classification", "fer2013_mini_XCEPTION.102-0.66.hdf5")
CNN_BN = corpus("keras2", "dl4j", "fullconfigs", "cnn", "cnn_batch_norm.h5")


def export(model, name):
    out = os.path.join(tempdir(), name)
    r = offshoot("export", model, "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Wrote {out} ("), r.stdout
    return out


def tfjs_predict(model_json, x):
    """tfjs's own loader and predict() on our model.json (tests/writers/tfjs_predict.mjs)."""
    d = tempdir()
    inp = os.path.join(d, "input.json")
    with open(inp, "w") as f:
        json.dump(np.asarray(x, dtype=np.float32).tolist(), f)
    r = subprocess.run(["node", source("tests", "writers", "tfjs_predict.mjs"), model_json, "@" + inp],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.splitlines()[0])


def weight_bits(f):
    """SHA-256 of every weight dataset of a Keras 2 file, layer by layer in weight_names order."""
    mw = f["model_weights"] if "model_weights" in f else f
    out = []
    for layer in mw.attrs["layer_names"]:
        g = mw[layer]
        for w in g.attrs["weight_names"]:
            data = np.ascontiguousarray(g[w][()], dtype="<f4")
            out.append((layer.decode() if isinstance(layer, bytes) else layer, data.shape,
                        hashlib.sha256(data.tobytes()).hexdigest()))
    return out


@case
def h5_export_keeps_layers_and_weight_bits():
    out = export(FER_MINI, "fer.h5")
    with h5py.File(FER_MINI, "r") as a, h5py.File(out, "r") as b:
        assert list(a["model_weights"].attrs["layer_names"]) == list(b["model_weights"].attrs["layer_names"])
        wa, wb = weight_bits(a), weight_bits(b)
        assert len(wa) == len(wb) == 80, (len(wa), len(wb))
        assert wa == wb
        cfg = json.loads(b.attrs["model_config"])
        assert cfg["class_name"] == "Model", cfg["class_name"]
        assert b.attrs["keras_version"] == b"2.0.5", b.attrs["keras_version"]


@case
def keras_export_is_a_keras3_archive_with_the_same_weights():
    out = export(FER_MINI, "fer.keras")
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["metadata.json", "config.json", "model.weights.h5"], z.namelist()
        meta = json.loads(z.read("metadata.json"))
        assert meta["keras_version"].startswith("3."), meta
        cfg = json.loads(z.read("config.json"))
        assert cfg["class_name"] == "Functional" and cfg["module"] == "keras.src.models.functional", cfg
        names = [l["name"] for l in cfg["config"]["layers"]]
        layer = cfg["config"]["layers"][names.index("conv2d_1")]
        hist = layer["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
        assert hist == ["input_1", 0, 0], hist
        with open(os.path.join(tempdir(), "w.h5"), "wb") as f:
            f.write(z.read("model.weights.h5"))
            wpath = f.name
    with h5py.File(FER_MINI, "r") as a, h5py.File(wpath, "r") as b:
        original = [bits for _, _, bits in weight_bits(a)]
        ours = []
        # Keras 3 keys by class in layer order: conv2d, conv2d_1, ..., batch_normalization, ...
        counts = {}
        for l in cfg["config"]["layers"]:
            cls = l["class_name"]
            key = {"Conv2D": "conv2d", "BatchNormalization": "batch_normalization",
                   "SeparableConv2D": "separable_conv2d"}.get(cls)
            if key is None:
                continue
            k = counts.get(key, -1) + 1
            counts[key] = k
            vars_ = b["layers"][key if k == 0 else f"{key}_{k}"]["vars"]
            assert vars_.attrs["name"] in (l["name"], l["name"].encode()), (key, vars_.attrs["name"])
            for i in range(len(vars_)):
                data = np.ascontiguousarray(vars_[str(i)][()], dtype="<f4")
                ours.append(hashlib.sha256(data.tobytes()).hexdigest())
        assert ours == original


@case
def tfjs_export_predicts_what_tfjs_predicts_from_the_original():
    out = export(FER_MINI, "model.json")
    fixture = source("tests", "parity", "fixtures", "face_fer2013_mini_XCEPTION")
    x = np.load(os.path.join(fixture, "input.npy"))
    want = np.load(os.path.join(fixture, "output.npy"))
    got = tfjs_predict(out, x)
    assert got["params"] == 58423, got["params"]
    y = np.array(got["outputs"][0], dtype=np.float32).reshape(want.shape)
    assert np.abs(y - want).max() < 1e-5, (y, want)


@case
def tfjs_export_matches_keras_own_predictions():
    """dl4j's cnn_batch_norm.h5 comes with Keras's predictions on five inputs."""
    out = export(CNN_BN, "model.json")
    folder = os.path.dirname(CNN_BN)
    x = np.load(os.path.join(folder, "input.npy"))
    want = np.load(os.path.join(folder, "predictions.npy"))
    y = np.array(tfjs_predict(out, x)["outputs"][0], dtype=np.float32).reshape(want.shape)
    assert np.abs(y - want).max() < 1e-4, np.abs(y - want).max()


@case
def attached_head_exports_run_in_tfjs():
    """attach a seg head inside the face model, save as .h5, export that to model.json: tfjs
    runs both outputs, and the classifier's output is the original model's."""
    d = tempdir()
    h5 = os.path.join(d, "with_head.h5")
    r = offshoot("attach", FER_MINI, "--attach", "conv2d_4=seg", "-o", h5)
    assert r.returncode == 0, r.stderr
    direct = os.path.join(tempdir(), "model.json")
    r = offshoot("attach", FER_MINI, "--attach", "conv2d_4=seg", "-o", direct)
    assert r.returncode == 0, r.stderr
    out = export(h5, "model.json")
    fixture = source("tests", "parity", "fixtures", "face_fer2013_mini_XCEPTION")
    x = np.load(os.path.join(fixture, "input.npy"))
    want = np.load(os.path.join(fixture, "output.npy"))
    for path in (out, direct):
        got = tfjs_predict(path, x)
        assert len(got["outputs"]) == 2, len(got["outputs"])
        y = np.array(got["outputs"][0], dtype=np.float32).reshape(want.shape)
        assert np.abs(y - want).max() < 1e-5, (y, want)
        names = [l["name"] for l in got["layers"]]
        assert "aux_head_out" in names, names
        # the seg head keeps conv2d_4's 15x15 map and has one channel
        assert len(got["outputs"][1]) == 15 * 15, len(got["outputs"][1])
    with h5py.File(h5, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        assert [o[0] for o in cfg["config"]["output_layers"]] == ["predictions", "aux_head_out"], \
            cfg["config"]["output_layers"]


# Corpus models whose layers tfjs implements (it lacks Lambda, SpatialDropout, Keras 1 LSTM
# weights): face_classification, the Keras 3 archives and a spread of dl4j's Keras 2 files.
TFJS_LOADABLE = [
    ("keras2", "face_classification", "fer2013_mini_XCEPTION.102-0.66.hdf5"),
    ("keras2", "face_classification", "fer2013_big_XCEPTION.54-0.66.hdf5"),
    ("keras2", "face_classification", "gender_mini_XCEPTION.21-0.95.hdf5"),
    ("keras2", "face_classification", "tiny_XCEPTION_KDEF.hdf5"),
    ("keras3", "fashion_mnist_cnn.keras"),
    ("keras3", "mnist_cnn.keras"),
    ("keras2", "dl4j", "examples", "12net.h5"),
    ("keras2", "dl4j", "examples", "cnn1d", "cnn1d_flatten_tf_keras2.h5"),
    ("keras2", "dl4j", "examples", "gans", "wgan_discriminator.h5"),
    ("keras2", "dl4j", "examples", "simple_lstm", "simple_lstm_tf_keras_2_model.h5"),
    ("keras2", "dl4j", "tfkeras", "issue_9349.hdf5"),
    ("keras2", "dl4j", "tfkeras", "GAPError.h5"),
    ("keras2", "dl4j", "tfkeras", "misc_0.h5"),
    ("keras2", "dl4j", "tfkeras", "cnn_1d_doublecount.h5.h5"),
    ("keras2", "dl4j", "tfkeras", "convlstm2d_0.h5"),
    ("keras2", "dl4j", "weights", "sepconv2d_tensorflow_2.h5"),
    ("keras2", "dl4j", "weights", "bidirectional_lstm_tensorflow_2.h5"),
]


@case
def tfjs_loads_every_export_with_the_same_parameter_count():
    paths, expected = [], {}
    for parts in TFJS_LOADABLE:
        d = tempdir()
        out = os.path.join(d, "model.json")
        r = offshoot("export", corpus(*parts), "-o", out)
        assert r.returncode == 0, (parts, r.stderr)
        expected[out] = int(r.stdout.split(" layers, ")[1].split(" parameters")[0])
        paths.append(out)
    r = subprocess.run(["node", source("tests", "writers", "tfjs_predict.mjs"), *paths],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    got = {doc["model"]: doc["params"] for doc in map(json.loads, r.stdout.splitlines())}
    assert got == expected, (got, expected)
    assert expected[paths[0]] == 58423


@case
def export_into_missing_folder_fails_cleanly():
    d = tempdir()
    target = os.path.join(d, "missing-folder", "model.h5")
    r = offshoot("export", FER_MINI, "-o", target)
    assert r.returncode == 2, r.returncode
    assert "missing-folder" in r.stderr and "cannot create" in r.stderr, r.stderr
    assert os.listdir(d) == [], os.listdir(d)


@case
def missing_output_is_usage_error():
    r = offshoot("export", corpus("keras3", "mnist_cnn.keras"))
    assert r.returncode == 2, r.returncode
    assert "missing -o OUT" in r.stderr, r.stderr


@case
def unknown_output_format_is_usage_error():
    out = os.path.join(tempdir(), "model.pt")
    r = offshoot("export", corpus("keras3", "mnist_cnn.keras"), "-o", out)
    assert r.returncode == 2, r.returncode
    assert "cannot tell the format of" in r.stderr and "model.pt" in r.stderr, r.stderr
    assert not os.path.exists(out)


@case
def unreadable_model_leaves_target_untouched():
    d = tempdir()
    out = os.path.join(d, "model.h5")
    with open(out, "wb") as f:
        f.write(b"keep me")
    r = offshoot("export", os.path.join(d, "absent.keras"), "-o", out)
    assert r.returncode == 2, r.returncode
    assert "absent.keras" in r.stderr, r.stderr
    with open(out, "rb") as f:
        assert f.read() == b"keep me"
    assert sorted(os.listdir(d)) == ["model.h5"], os.listdir(d)


main()
