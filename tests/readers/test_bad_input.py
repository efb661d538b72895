"""Hand-made broken and unusual Keras files (written here with h5py and zipfile): each gives a
clear error naming the file and the problem, or loads with the structure Keras would build."""
import json
import os
import random
import sys
import zipfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, offshoot_json, source, tempdir  # noqa: E402

TMP = tempdir()


def keras2_dense_config(units=4):
    return {"class_name": "Model", "config": {
        "name": "m", "input_layers": [["in", 0, 0]], "output_layers": [["fc", 0, 0]],
        "layers": [
            {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
             "config": {"name": "in", "batch_input_shape": [None, 3], "dtype": "float32"}},
            {"class_name": "Dense", "name": "fc", "inbound_nodes": [[["in", 0, 0, {}]]],
             "config": {"name": "fc", "units": units, "use_bias": True, "activation": "linear"}}]}}


def write_h5(path, config, weights):
    """weights: {layer: [(name, array), ...]}"""
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([n.encode() for n in weights], dtype="S")
        for layer, ws in weights.items():
            g = mw.create_group(layer)
            g.attrs["weight_names"] = np.array([n.encode() for n, _ in ws], dtype="S") if ws else np.zeros(0)
            for n, a in ws:
                g.create_dataset(n, data=a)


def write_keras(path, entries, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)


@case
def h5_weight_shape_mismatch_names_layer_and_shapes():
    p = os.path.join(TMP, "mismatch.h5")
    write_h5(p, keras2_dense_config(units=4), {"in": [], "fc": [
        ("fc/kernel:0", np.zeros((3, 5), "f4")), ("fc/bias:0", np.zeros(5, "f4"))]})
    r = offshoot("inspect", p)
    assert r.returncode == 1, (r.returncode, r.stderr)
    for text in ("mismatch.h5", "layer 'fc'", "(3, 5)", "(?, 4)"):
        assert text in r.stderr, f"'{text}' missing: {r.stderr}"


@case
def h5_variable_length_names_and_params():
    p = os.path.join(TMP, "vlen.h5")
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = json.dumps(keras2_dense_config(2))  # str: variable-length
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = ["in", "fc"]  # variable-length UTF-8 strings
        mw.create_group("in").attrs["weight_names"] = h5py.Empty("f")
        g = mw.create_group("fc")
        g.attrs["weight_names"] = ["w0", "w1"]  # names unlike the layer's: bound by position
        g.create_dataset("w0", data=np.arange(6, dtype="f8").reshape(3, 2))  # float64 → float32
        g.create_dataset("w1", data=np.ones(2, "f2"))  # float16 → float32
    d = offshoot_json("inspect", p)
    assert d["total_params"] == 8, d
    assert [l["name"] for l in d["layers"]] == ["in", "fc"], d["layers"]


@case
def h5_absurd_dataset_shape_is_a_limit_error():
    p = os.path.join(TMP, "absurd.h5")
    write_h5(p, keras2_dense_config(4), {"in": [], "fc": []})
    with h5py.File(p, "a") as f:
        g = f["model_weights/fc"]
        g.create_dataset("k", shape=(1 << 20, 1 << 20), dtype="f4")  # never written: tiny file
        g.create_dataset("b", shape=(4,), dtype="f4")
        g.attrs["weight_names"] = np.array([b"k", b"b"])
    r = offshoot("inspect", p)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "absurd.h5" in r.stderr and "'model_weights/fc/k'" in r.stderr, r.stderr


@case
def h5_config_only_file_opens_without_weights():
    p = os.path.join(TMP, "config_only.h5")
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = json.dumps(keras2_dense_config(4)).encode()
    d = offshoot_json("inspect", p)
    assert d.get("weights_absent") is True and d["total_params"] == 0, d
    r = offshoot("inspect", p)
    assert "no weights" in r.stdout, r.stdout


@case
def random_bytes_named_h5():
    p = os.path.join(TMP, "noise.h5")
    with open(p, "wb") as f:  # fixed noise: the test must not depend on luck
        f.write(random.Random(4096).randbytes(4096))
    r = offshoot("inspect", p)
    assert r.returncode == 2 and "noise.h5" in r.stderr and "not an HDF5 file" in r.stderr, r.stderr


@case
def keras_archive_without_config():
    p = os.path.join(TMP, "noconfig.keras")
    write_keras(p, {"metadata.json": "{}"})
    r = offshoot("inspect", p)
    assert r.returncode == 2 and "noconfig.keras" in r.stderr and "config.json" in r.stderr, r.stderr


@case
def keras_archive_config_not_a_model():
    p = os.path.join(TMP, "notmodel.keras")
    write_keras(p, {"config.json": json.dumps({"hello": [1, 2]}), "metadata.json": "{}"})
    r = offshoot("inspect", p)
    assert r.returncode == 2 and "not a Keras Sequential or Functional model" in r.stderr, r.stderr


@case
def keras_archive_zip_bomb_is_refused():
    p = os.path.join(TMP, "bomb.keras")
    cfg = json.dumps(keras3_nested_config())
    write_keras(p, {"config.json": cfg, "model.weights.h5": b"\0" * (64 << 20)})
    r = offshoot("inspect", p)
    assert r.returncode == 2 and "ratio" in r.stderr and "model.weights.h5" in r.stderr, r.stderr


@case
def unknown_layer_class_loads_verbatim():
    config = keras2_dense_config(4)
    config["config"]["layers"][1]["class_name"] = "MyFancyDense"
    config["config"]["layers"][1]["config"]["fancy"] = {"knob": 3}
    p = os.path.join(TMP, "custom.h5")
    write_h5(p, config, {"in": [], "fc": [("fc/w:0", np.ones((3, 4), "f4")), ("fc/b:0", np.ones(4, "f4"))]})
    d = offshoot_json("inspect", p)
    fc = d["layers"][1]
    assert fc["class_name"] == "MyFancyDense" and fc["params"] == 16, fc


@case
def absurd_input_shape_in_config_is_a_clear_error():
    config = keras2_dense_config(4)
    config["config"]["layers"][0]["config"]["batch_input_shape"] = [None, 1 << 40, 1 << 40, -7]
    p = os.path.join(TMP, "huge_input.h5")
    write_h5(p, config, {"in": [], "fc": []})
    r = offshoot("inspect", p, "--json")
    assert r.returncode in (1, 2), (r.returncode, r.stderr)
    assert "huge_input.h5" in r.stderr and "batch_input_shape" in r.stderr, r.stderr


def kt(layer, node=0, tensor=0):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [layer, node, tensor]}}


def k3(cls, name, config, inbound):
    return {"module": "keras.layers", "class_name": cls, "name": name, "registered_name": None,
            "config": {"name": name, **config}, "inbound_nodes": inbound}


def keras3_nested_config():
    """Outer functional: x → backbone (a nested functional) → shared dense, called twice.
    Keras 3 numbers a nested Functional's calls from 0 in call arguments but from 1 in
    output_layers (functional_from_config subtracts 1 there)."""
    inner = {"module": "keras.src.models.functional", "class_name": "Functional", "name": "backbone",
             "registered_name": "Functional",
             "config": {"name": "backbone", "trainable": True,
                        "layers": [k3("InputLayer", "inner_in", {"batch_shape": [None, 3]}, []),
                                   k3("Dense", "inner_fc", {"units": 4}, [{"args": [kt("inner_in")], "kwargs": {}}]),
                                   k3("BatchNormalization", "inner_bn", {"axis": -1},
                                      [{"args": [kt("inner_fc")], "kwargs": {"training": False}}])],
                        "input_layers": [["inner_in", 0, 0]], "output_layers": [["inner_bn", 0, 0]]},
             "inbound_nodes": [{"args": [kt("x")], "kwargs": {}}]}
    layers = [k3("InputLayer", "x", {"batch_shape": [None, 3]}, []), inner,
              k3("Dense", "shared", {"units": 4}, [{"args": [kt("backbone", 0)], "kwargs": {}},
                                                   {"args": [kt("shared", 0)], "kwargs": {}}]),
              k3("Add", "sum", {}, [{"args": [[kt("shared", 0), kt("shared", 1)]], "kwargs": {}}])]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "outer", "layers": layers, "input_layers": [["x", 0, 0]],
                       "output_layers": [["sum", 0, 0], ["backbone", 1, 0]]}}


@case
def keras3_nested_model_and_shared_layer():
    wpath = os.path.join(TMP, "model.weights.h5")
    with h5py.File(wpath, "w") as f:
        def var(path, *arrays):
            g = f.create_group(path + "/vars")
            for i, a in enumerate(arrays):
                g.create_dataset(str(i), data=a)
        # Keras 3 names groups by snake_case class and a counter, not by layer name.
        var("layers/functional/layers/dense", np.ones((3, 4), "f4"), np.zeros(4, "f4"))
        var("layers/functional/layers/batch_normalization", *[np.full(4, v, "f4") for v in (1, 0, 0, 1)])
        var("layers/dense", np.eye(4, dtype="f4"), np.zeros(4, "f4"))
    p = os.path.join(TMP, "nested.keras")
    with open(wpath, "rb") as f:
        write_keras(p, {"config.json": json.dumps(keras3_nested_config()),
                        "metadata.json": json.dumps({"keras_version": "3.6.0"}), "model.weights.h5": f.read()})
    d = offshoot_json("inspect", p)
    assert d["format"] == "keras3", d["format"]
    assert d["total_params"] == 16 + 16 + 20, d["total_params"]
    assert d["non_trainable_params"] == 8, d["non_trainable_params"]
    names = [l["name"] for l in d["layers"]]
    assert names == ["x", "backbone", "shared", "sum"], names
    bb = d["layers"][1]
    assert bb["class_name"] == "Functional" and bb["params"] == 32, bb
    assert [l["name"] for l in bb["layers"]] == ["inner_in", "inner_fc", "inner_bn"], bb["layers"]
    shared = d["layers"][2]
    assert shared["inbound"] == ["backbone", "shared"], shared
    assert d["layers"][3]["inbound"] == ["shared", "shared"], d["layers"][3]
    assert [o["name"] for o in d["outputs"]] == ["sum", "backbone"], d["outputs"]
    assert [o["shape"] for o in d["outputs"]] == [[None, 4], [None, 4]], d["outputs"]


@case
def files_offshoot_does_not_open_are_named_for_what_they_are():
    # The malformed-input corpus (tools/reference/malformed-make-corpus.py) holds one of each;
    # the window and every command go through the same loader.
    corpus = source("tests", "robustness", "malformed")
    for path, kind, verdict in [
            ("tfjs-weights-manifest/tiny_face_detector_model-weights_manifest.json",
             "a TF.js weights manifest", "Open the model.json"),
            ("tflite-model.tflite", "a TensorFlow Lite model", "cannot open TFLite"),
            ("savedmodel-folder", "a TensorFlow SavedModel", "cannot open SavedModels"),
            ("savedmodel-folder/saved_model.pb", "a TensorFlow SavedModel", "cannot open")]:
        r = offshoot("inspect", os.path.join(corpus, path))
        assert r.returncode != 0 and kind in r.stderr and verdict in r.stderr, (path, r.stderr)
        assert "not an object" not in r.stderr and "Sequential" not in r.stderr, r.stderr
    # A TFLite file is known by its FlatBuffer identifier whatever its name.
    renamed = os.path.join(tempdir(), "model.bin")
    with open(os.path.join(corpus, "tflite-model.tflite"), "rb") as f, open(renamed, "wb") as g:
        g.write(f.read())
    r = offshoot("inspect", renamed)
    assert "a TensorFlow Lite model" in r.stderr, r.stderr


main()
