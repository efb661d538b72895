"""Prints what h5py (an independent HDF5 reader) finds in a Keras file, as one JSON document.

    h5_summary.py FILE          a Keras 2 .h5: root attributes, layer_names, weight_names
    h5_summary.py --keras FILE  a .keras zip: metadata.json, config.json, model.weights.h5

Every dataset is reported with its shape, dtype and the SHA-256 of its little-endian float32
bytes, so a caller can check weights bit for bit.
"""
import hashlib
import io
import json
import sys
import zipfile

import h5py
import numpy as np


def text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray):
        return [text(x) for x in v.tolist()]
    return v


def attr_kind(obj, name):
    t = obj.attrs.get_id(name).get_type()
    if isinstance(t, h5py.h5t.TypeStringID):
        return "vlen-string" if t.is_variable_str() else "fixed-string"
    return str(obj.attrs[name].dtype)


def datasets(group):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            data = np.ascontiguousarray(obj[()], dtype="<f4")
            out[name] = {"shape": list(obj.shape), "dtype": str(obj.dtype),
                         "sha256": hashlib.sha256(data.tobytes()).hexdigest()}
    group.visititems(visit)
    return out


def groups(group):
    out = []
    group.visititems(lambda name, obj: out.append(name) if isinstance(obj, h5py.Group) else None)
    return out


def h5_summary(f):
    mw = f["model_weights"]
    layers = {}
    for name in text(mw.attrs["layer_names"]):
        g = mw[name]
        layers[name] = {"weight_names": text(g.attrs["weight_names"]),
                        "weight_names_dtype": str(g.attrs["weight_names"].dtype),
                        "datasets": datasets(g)}
    return {
        "attrs": {k: text(f.attrs[k]) for k in f.attrs},
        "attr_kinds": {k: attr_kind(f, k) for k in f.attrs},
        "model_config": json.loads(text(f.attrs["model_config"])),
        "model_weights_attrs": {k: text(mw.attrs[k]) for k in mw.attrs},
        "layer_names": text(mw.attrs["layer_names"]),
        "layers": layers,
    }


def keras_summary(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        meta = json.loads(z.read("metadata.json"))
        config = json.loads(z.read("config.json"))
        weights = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        return {"entries": names, "metadata": meta, "config": config,
                "groups": groups(weights), "datasets": datasets(weights)}


if __name__ == "__main__":
    if sys.argv[1] == "--keras":
        print(json.dumps(keras_summary(sys.argv[2])))
    else:
        with h5py.File(sys.argv[1], "r") as f:
            print(json.dumps(h5_summary(f)))
