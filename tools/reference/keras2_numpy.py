"""A plain numpy forward pass of a Keras 2 .h5 functional model, for the layer classes the
zoo's MobileNetV3 uses (TF semantics: "same" padding puts the extra pixel after, BatchNorm with
moving statistics, TFOpLambda scalar arithmetic from the call's kwargs). Written from the Keras
and TensorFlow documentation, independent of Offshoot's kernels; used by tests/zoo.

    outputs = run_h5("model.h5", x)      # x: float32 (1, H, W, C); returns {name: array}
"""
import json

import h5py
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _same_pad(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _windows(x, k, stride, padding):
    """(H, W, C) -> (H', W', C, kh, kw) windows after TF padding."""
    kh, kw = k
    sh, sw = stride
    if padding == "same":
        x = np.pad(x, (_same_pad(x.shape[0], kh, sh), _same_pad(x.shape[1], kw, sw), (0, 0)))
    return sliding_window_view(x, (kh, kw), axis=(0, 1))[::sh, ::sw]


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def _act(x, name):
    if name in ("linear", None):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError("activation " + name)


def _layer(cls, cfg, xs, w, kwargs):
    x = xs[0]
    if cls in ("InputLayer", "Dropout"):
        return x
    if cls == "Rescaling":
        return x * cfg["scale"] + cfg["offset"]
    if cls == "Conv2D":
        win = _windows(x[0], _pair(cfg["kernel_size"]), _pair(cfg["strides"]), cfg["padding"])
        y = np.einsum("hwcij,ijco->hwo", win, w[0])[None]
        return _act(y + w[1] if cfg["use_bias"] else y, cfg["activation"])
    if cls == "DepthwiseConv2D":
        win = _windows(x[0], _pair(cfg["kernel_size"]), _pair(cfg["strides"]), cfg["padding"])
        y = np.einsum("hwcij,ijc->hwc", win, w[0][..., 0])[None]
        return _act(y + w[1] if cfg["use_bias"] else y, cfg["activation"])
    if cls == "BatchNormalization":
        gamma, beta, mean, var = w
        return (x - mean) / np.sqrt(var + cfg["epsilon"]) * gamma + beta
    if cls == "ReLU":
        y = np.maximum(x, 0)
        return np.minimum(y, cfg["max_value"]) if cfg.get("max_value") is not None else y
    if cls == "TFOpLambda":
        y = kwargs["y"]
        return {"__operators__.add": x + y, "math.multiply": x * y}[cfg["function"]]
    if cls == "Multiply":
        return xs[0] * xs[1]
    if cls == "Add":
        return xs[0] + xs[1]
    if cls == "ZeroPadding2D":
        (t, b), (l, r) = cfg["padding"]
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    if cls == "GlobalAveragePooling2D":
        return x.mean(axis=(1, 2), keepdims=cfg.get("keepdims", False))
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1)
    if cls == "Activation":
        return _act(x, cfg["activation"])
    raise ValueError("no numpy reference for " + cls)


def _calls(layer):
    """Each call as ([(layer, node, tensor)], kwargs); TFOpLambda's single call is unwrapped."""
    for call in layer["inbound_nodes"]:
        refs = [call] if isinstance(call[0], str) else call
        yield [tuple(r[:3]) for r in refs], (refs[0][3] if len(refs[0]) > 3 else {})


def run_h5(path, x):
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])["config"]
        weights = {}
        for name in f["model_weights"].attrs["layer_names"]:
            name = name.decode()
            group = f["model_weights"][name]
            weights[name] = [group[n.decode()][()].astype(np.float64)
                             for n in group.attrs["weight_names"]]
    values = {}
    for layer in config["layers"]:
        name = layer["config"]["name"]
        if layer["class_name"] == "InputLayer":
            values[name] = x.astype(np.float64)
            continue
        for refs, kwargs in _calls(layer):
            xs = [values[r[0]] for r in refs]
            values[name] = _layer(layer["class_name"], layer["config"], xs, weights.get(name, []), kwargs)
    return {o[0]: values[o[0]] for o in config["output_layers"]}
