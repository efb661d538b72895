"""Writes the seed fixture's TF.js model (model.json + weights.bin) as a Keras 2 .h5 with h5py,
so the edit tests can load it through the .h5 reader.

    /usr/bin/python3 tools/reference/edit-seed-h5.py [DIR]    (default tests/edit/fixtures/seed)

Keras 2 layout: root attributes model_config (JSON), keras_version, backend; group
model_weights with attribute layer_names (top-level layers) and, per layer, attribute
weight_names. A nested model keeps all its inner weights in its own group, named
"<inner layer>/<var>:0" (how Keras 2 saves a model used as a layer).
"""
import json
import os
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "tests", "edit", "fixtures", "seed")
model = json.load(open(os.path.join(d, "model.json")))
blob = open(os.path.join(d, "weights.bin"), "rb").read()

# Weight arrays by their tfjs name ("stem_conv/kernel"), in manifest order.
arrays, offset = {}, 0
for w in model["weightsManifest"][0]["weights"]:
    assert w["dtype"] == "float32", w
    n = int(np.prod(w["shape"])) if w["shape"] else 1
    arrays[w["name"]] = np.frombuffer(blob, "<f4", n, offset).reshape(w["shape"])
    offset += 4 * n
assert offset == len(blob), (offset, len(blob))

# Keras's own order within a layer: kernels, biases, gamma, beta, moving statistics.
ORDER = ["kernel", "depthwise_kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"]


def layer_weights(name):
    own = [k for k in arrays if k.split("/")[0] == name]
    return sorted(own, key=lambda k: ORDER.index(k.split("/")[1]))


topology = model["modelTopology"]
config = {"class_name": "Functional", "config": topology["config"]}
with h5py.File(os.path.join(d, "model.h5"), "w") as f:
    f.attrs["model_config"] = json.dumps(config).encode()
    f.attrs["keras_version"] = b"2.13.1"
    f.attrs["backend"] = b"tensorflow"
    mw = f.create_group("model_weights")
    mw.attrs["keras_version"] = b"2.13.1"
    mw.attrs["backend"] = b"tensorflow"
    top = [layer["name"] for layer in topology["config"]["layers"]]
    mw.attrs["layer_names"] = np.array([n.encode() for n in top])
    for layer in topology["config"]["layers"]:
        group = mw.create_group(layer["name"])
        if layer["class_name"] in ("Model", "Functional"):
            names = [w for inner in layer["config"]["layers"] for w in layer_weights(inner["name"])]
        else:
            names = layer_weights(layer["name"])
        group.attrs["weight_names"] = np.array([(n + ":0").encode() for n in names])
        for n in names:
            group.create_dataset(n + ":0", data=arrays[n])
print("wrote", os.path.join(d, "model.h5"))
