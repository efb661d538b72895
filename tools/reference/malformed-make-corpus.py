#!/usr/bin/python3
"""Writes the malformed-input corpus, tests/robustness/malformed/: small broken files of every
format Offshoot reads, each a copy of a good tiny model with one thing wrong. The expected error
of each file is in tests/robustness/test-malformed.c. Deterministic; run from the source root:

    /usr/bin/python3 tools/reference/malformed-make-corpus.py
"""
import io
import json
import os
import shutil
import struct
import zipfile
import zlib

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "robustness", "malformed")


def path(name):
    return os.path.join(OUT, name)


def write(name, data):
    p = path(name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- Keras 2 .h5: input (3) → fc Dense(4) → out Dense(2) ----

def k2_layer(cls, name, inbound, **config):
    nodes = [[[src, 0, 0, {}] for src in inbound]] if inbound else []
    return {"class_name": cls, "name": name, "inbound_nodes": nodes, "config": {"name": name, **config}}


def k2_model(layers=None, outputs=("out",)):
    if layers is None:
        layers = [
            k2_layer("InputLayer", "in", [], batch_input_shape=[None, 3], dtype="float32"),
            k2_layer("Dense", "fc", ["in"], units=4, use_bias=True, activation="relu"),
            k2_layer("Dense", "out", ["fc"], units=2, use_bias=True, activation="linear"),
        ]
    return {"class_name": "Model", "config": {
        "name": "m", "layers": layers, "input_layers": [["in", 0, 0]],
        "output_layers": [[o, 0, 0] for o in outputs]}}


def k2_weights(kernel_fc=None):
    rng = np.random.default_rng(7)
    return {"in": [],
            "fc": [("fc/kernel:0", kernel_fc if kernel_fc is not None else rng.normal(size=(3, 4)).astype("f4")),
                   ("fc/bias:0", np.zeros(4, "f4"))],
            "out": [("out/kernel:0", rng.normal(size=(4, 2)).astype("f4")), ("out/bias:0", np.zeros(2, "f4"))]}


def h5_bytes(config, weights, config_text=None):
    bio = io.BytesIO()
    with h5py.File(bio, "w", libver="earliest") as f:
        f.attrs["model_config"] = (config_text if config_text is not None else json.dumps(config)).encode()
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([n.encode() for n in weights], dtype="S")
        for layer, ws in weights.items():
            g = mw.create_group(layer)
            g.attrs["weight_names"] = np.array([n.encode() for n, _ in ws], dtype="S") if ws else np.zeros(0)
            for n, a in ws:
                g.create_dataset(n, data=a)
    return bio.getvalue()


def make_h5():
    good = h5_bytes(k2_model(), k2_weights())
    write("h5-truncated.h5", good[: len(good) // 2])
    # The superblock's version byte and the root group address: HDF5 cannot find the root.
    flipped = bytearray(good)
    for i in range(8, 64):
        flipped[i] ^= 0xA5
    write("h5-flipped-superblock.h5", bytes(flipped))
    write("h5-layers-not-a-list.h5", h5_bytes(None, k2_weights(), config_text=json.dumps(
        {"class_name": "Model", "config": {"name": "m", "layers": 3, "input_layers": [], "output_layers": []}})))
    layers = k2_model()["config"]["layers"]
    layers[1]["config"]["units"] = "four"
    write("h5-units-a-string.h5", h5_bytes(k2_model(layers), k2_weights()))
    layers = k2_model()["config"]["layers"]
    layers[1]["inbound_nodes"] = [[["out", 0, 0, {}]]]  # fc ← out ← fc
    write("h5-cycle.h5", h5_bytes(k2_model(layers), k2_weights()))
    layers = k2_model()["config"]["layers"]
    layers[2]["inbound_nodes"] = [[["ghost", 0, 0, {}]]]
    write("h5-dangling-inbound.h5", h5_bytes(k2_model(layers), k2_weights()))
    layers = k2_model()["config"]["layers"]
    layers[2]["name"] = layers[2]["config"]["name"] = "fc"
    write("h5-duplicate-names.h5", h5_bytes(k2_model(layers, outputs=("fc",)), k2_weights()))
    write("h5-kernel-shape-mismatch.h5", h5_bytes(k2_model(), k2_weights(np.zeros((3, 5), "f4"))))
    nan_kernel = np.ones((3, 4), "f4")
    nan_kernel[1, 2] = np.nan
    nan_kernel[2, 0] = np.inf
    write("h5-nan-weights.h5", h5_bytes(k2_model(), k2_weights(nan_kernel)))


# ---- Keras 3 .keras ----

def k3_config():
    def tensor(layer):
        return {"class_name": "__keras_tensor__", "config": {"shape": [None, 3], "dtype": "float32",
                                                              "keras_history": [layer, 0, 0]}}

    def layer(cls, name, src, **config):
        return {"module": "keras.layers", "class_name": cls, "name": name,
                "config": {"name": name, "dtype": "float32", **config},
                "inbound_nodes": [{"args": [tensor(src)], "kwargs": {}}] if src else []}

    return {"module": "keras", "class_name": "Functional", "config": {
        "name": "m", "layers": [
            layer("InputLayer", "in", None, batch_shape=[None, 3]),
            layer("Dense", "fc", "in", units=4, use_bias=True, activation="relu")],
        "input_layers": [["in", 0, 0]], "output_layers": [["fc", 0, 0]]}}


def keras_bytes(config, kernel):
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        v = f.create_group("layers/dense/vars")
        v.create_dataset("0", data=kernel)
        v.create_dataset("1", data=np.zeros(kernel.shape[-1], "f4"))
    zb = io.BytesIO()
    with zipfile.ZipFile(zb, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("metadata.json", json.dumps({"keras_version": "3.5.0"})),
                           ("config.json", json.dumps(config)), ("model.weights.h5", bio.getvalue())):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return zb.getvalue()


def make_keras3():
    good = keras_bytes(k3_config(), np.ones((3, 4), "f4"))
    write("keras3-truncated.keras", good[: len(good) * 2 // 3])
    write("keras3-kernel-shape-mismatch.keras", keras_bytes(k3_config(), np.ones((3, 6), "f4")))
    inf_kernel = np.ones((3, 4), "f4")
    inf_kernel[0, 0] = -np.inf
    write("keras3-inf-weights.keras", keras_bytes(k3_config(), inf_kernel))
    config = k3_config()
    config["config"]["layers"][1]["inbound_nodes"] = {"args": "not a list"}
    write("keras3-inbound-not-a-list.keras", keras_bytes(config, np.ones((3, 4), "f4")))


# ---- TF.js: model.json + one shard ----

def tfjs_model(paths=("group1-shard1of1.bin",)):
    topology = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "fc", "units": 2, "use_bias": True,
                                           "activation": "linear", "batch_input_shape": [None, 3]}}]}}
    return {"format": "layers-model", "modelTopology": topology, "weightsManifest": [{
        "paths": list(paths), "weights": [{"name": "fc/kernel", "shape": [3, 2], "dtype": "float32"},
                                          {"name": "fc/bias", "shape": [2], "dtype": "float32"}]}]}


def make_tfjs():
    text = json.dumps(tfjs_model())
    shard = np.arange(8, dtype="<f4").tobytes()
    write("tfjs-truncated/model.json", text[: len(text) // 2])
    write("tfjs-missing-shard/model.json", text)
    write("tfjs-short-shard/model.json", text)
    write("tfjs-short-shard/group1-shard1of1.bin", shard[:20])
    model = tfjs_model()
    model["weightsManifest"][0]["weights"][0]["shape"] = "3x2"
    write("tfjs-shape-a-string/model.json", json.dumps(model))
    write("tfjs-shape-a-string/group1-shard1of1.bin", shard)


# ---- TF.js graph models: input [1, 4, 4, 2] → Conv2D (filter a Const) → Relu ----

def graph_model(nodes, weights):
    return {"format": "graph-model", "generatedBy": "2.15.0", "convertedBy": "TensorFlow.js Converter v4",
            "modelTopology": {"node": nodes, "versions": {"producer": 1}},
            "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": weights}]}


def graph_nodes(conv_input="input", extra=()):
    shape = {"shape": {"dim": [{"size": str(d)} for d in (1, 4, 4, 2)]}}
    return [{"name": "input", "op": "Placeholder", "attr": {"shape": shape, "dtype": {"type": "DT_FLOAT"}}},
            {"name": "conv/filter", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
            {"name": "conv", "op": "Conv2D", "input": [conv_input, "conv/filter"],
             "attr": {"strides": {"list": {"i": ["1", "1", "1", "1"]}}, "padding": {"s": "U0FNRQ=="},
                      "data_format": {"s": "TkhXQw=="}}},
            {"name": "Relu", "op": "Relu", "input": ["conv"]}, *extra]


def make_tfjs_graph():
    filt = {"name": "conv/filter", "shape": [1, 1, 2, 3], "dtype": "float32"}
    shard = np.arange(6, dtype="<f4").tobytes()
    # A good one (the reader's smallest real input).
    write("tfjs-graph-model/model.json", json.dumps(graph_model(graph_nodes(), [filt])))
    write("tfjs-graph-model/group1-shard1of1.bin", shard)
    # Control flow left as a loop: the convolution reads the Relu after it.
    write("tfjs-graph-cycle/model.json", json.dumps(graph_model(graph_nodes(conv_input="Relu"), [filt])))
    write("tfjs-graph-cycle/group1-shard1of1.bin", shard)
    # The filter's value is not in the manifest.
    write("tfjs-graph-missing-const/model.json", json.dumps(graph_model(graph_nodes(), [])))
    write("tfjs-graph-missing-const/group1-shard1of1.bin", b"")
    # float16-quantized, but the shard is short.
    half = dict(filt, quantization={"dtype": "float16", "original_dtype": "float32"})
    write("tfjs-graph-short-shard/model.json", json.dumps(graph_model(graph_nodes(), [half])))
    write("tfjs-graph-short-shard/group1-shard1of1.bin", np.arange(5, dtype="<f2").tobytes())
    # Ops Offshoot has no kernel for: it opens, and a run names them all at once.
    extra = [{"name": "k", "op": "Const", "attr": {}},
             {"name": "top", "op": "Cumsum", "input": ["Relu", "k"]},
             {"name": "nms", "op": "NonMaxSuppressionV5", "input": ["Relu", "top"]},
             {"name": "nms2", "op": "NonMaxSuppressionV5", "input": ["nms"]}]
    k = {"name": "k", "shape": [], "dtype": "int32"}
    write("tfjs-graph-unknown-ops/model.json", json.dumps(graph_model(graph_nodes(extra=extra), [filt, k])))
    write("tfjs-graph-unknown-ops/group1-shard1of1.bin", shard + np.array([2], "<i4").tobytes())


# ---- files of kinds Offshoot names but does not open ----

def make_other_kinds():
    # A weights manifest on its own (face-api.js ships these): a list of shard groups.
    write("tfjs-weights-manifest/tiny_face_detector_model-weights_manifest.json",
          json.dumps(tfjs_model()["weightsManifest"]))
    # TFLite: a FlatBuffer whose file identifier (bytes 4..8) is "TFL3".
    write("tflite-model.tflite", struct.pack("<I", 16) + b"TFL3" + bytes(8))
    # A SavedModel: saved_model.pb (a SavedModel protobuf: schema version 1) and variables/.
    for folder in ["savedmodel-file", "savedmodel-folder"]:
        write(f"{folder}/saved_model.pb", b"\x08\x01")
        write(f"{folder}/variables/variables.index", b"")


# ---- ONNX, encoded by hand (protobuf wire format; no onnx package here) ----

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def value_info(name, dims):
    shape = b"".join(field(1, field(1, d)) for d in dims)
    return field(1, name) + field(2, field(1, field(1, 1) + field(2, shape)))


def node(op, inputs, outputs, name):
    return b"".join(field(1, i) for i in inputs) + b"".join(field(2, o) for o in outputs) + \
        field(3, name) + field(4, op)


def onnx_model(nodes, inputs, outputs, initializers=()):
    graph = b"".join(field(1, n) for n in nodes) + field(2, "g")
    for name, arr in initializers:
        graph += field(5, b"".join(field(1, d) for d in arr.shape) + field(2, 1) + field(8, name) +
                       field(9, arr.astype("<f4").tobytes()))
    graph += b"".join(field(11, value_info(n, d)) for n, d in inputs)
    graph += b"".join(field(12, value_info(n, d)) for n, d in outputs)
    return field(1, 8) + field(2, "malformed-make-corpus") + field(7, graph) + \
        field(8, field(1, "") + field(2, 13))


def make_onnx():
    good = onnx_model([node("Add", ["x", "w"], ["y"], "add")], [("x", [1, 3])], [("y", [1, 3])],
                      [("w", np.ones(3, "f4"))])
    write("onnx-truncated.onnx", good[: len(good) - 7])
    write("onnx-missing-initializer.onnx",
          onnx_model([node("Add", ["x", "w"], ["y"], "add")], [("x", [1, 3])], [("y", [1, 3])]))
    write("onnx-cycle.onnx", onnx_model([node("Add", ["x", "b"], ["a"], "first"), node("Relu", ["a"], ["b"], "second")],
                                        [("x", [1, 3])], [("b", [1, 3])]))


# ---- .npy inputs ----

def npy(descr, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def make_npy():
    write("npy-complex-dtype.npy", npy("<c8", "(2,)", np.zeros(2, "c8").tobytes()))
    write("npy-shape-past-data.npy", npy("<f4", "(3, 4)", np.zeros(5, "<f4").tobytes()))
    write("npy-truncated-header.npy", npy("<f4", "(3,)", b"")[:30])


# ---- images ----

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_images():
    write("image-text.png", "this is a text file with a .png name\n")
    samples = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "samples", "circle-1.png")
    with open(samples, "rb") as f:
        png = f.read()
    write("image-truncated.png", png[: len(png) // 2])
    ihdr = struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)
    write("image-zero-size.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
          png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))
    # A decompression bomb: 900 megapixels of one grey row repeated, 1 MB deflated... cut to
    # its first rows, since the decoder must refuse it from the header alone.
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * 30001 * 64, 9)
    write("image-huge.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", rows) +
          png_chunk(b"IEND", b""))
    # A JPEG cut after its headers: start of image, then a quantisation table cut short.
    write("image-truncated.jpg", b"\xff\xd8\xff\xdb\x00\x43\x00" + bytes(range(20)))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    make_h5()
    make_keras3()
    make_tfjs()
    make_tfjs_graph()
    make_other_kinds()
    make_onnx()
    make_npy()
    make_images()


if __name__ == "__main__":
    main()
