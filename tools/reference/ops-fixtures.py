#!/usr/bin/python3
"""Writes tests/ops/fixtures/ops.json: one case per op configuration, with inputs, weights
and the expected output computed here with numpy from the published formulas (Keras / TF
semantics: TF "same" padding, Keras's average pooling over real pixels, TF 2 half-pixel
bilinear resizing). Independent of the C kernels: direct loops and numpy, no shared code.

    /usr/bin/python3 tools/reference/ops-fixtures.py
"""
import json
import math
import os

import numpy as np

rng = np.random.default_rng(20261127)
cases = []


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def add(path, cls, config, inputs, weights, out, keras_version=None, kwargs=None):
    cases.append({
        "path": path, "class_name": cls, "config": config,
        "inputs": [{"shape": list(x.shape), "data": [float(v) for v in x.ravel()]} for x in inputs],
        "weights": [{"shape": list(w.shape), "data": [float(v) for v in w.ravel()]} for w in weights],
        "output": {"shape": list(out.shape), "data": [float(v) for v in np.asarray(out, np.float64).ravel()]},
        "keras_version": keras_version,
    })
    if kwargs is not None:
        cases[-1]["kwargs"] = kwargs


def same_pad(n, k, s, d):
    eff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return total // 2, total - total // 2, out


def conv2d_ref(x, w, b, strides, dil, padding, groups=1):
    n, h, wd, cin = x.shape
    kh, kw, cg, cout = w.shape
    sh, sw = strides
    dh, dw = dil
    if padding == "same":
        pt, pb, oh = same_pad(h, kh, sh, dh)
        pl, pr, ow = same_pad(wd, kw, sw, dw)
    else:
        pt = pb = pl = pr = 0
        oh = (h - ((kh - 1) * dh + 1)) // sh + 1
        ow = (wd - ((kw - 1) * dw + 1)) // sw + 1
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    og = cout // groups
    y = np.zeros((n, oh, ow, cout))
    for oy in range(oh):
        for ox in range(ow):
            for g in range(groups):
                patch = xp[:, oy * sh:oy * sh + (kh - 1) * dh + 1:dh, ox * sw:ox * sw + (kw - 1) * dw + 1:dw,
                           g * cg:(g + 1) * cg]
                y[:, oy, ox, g * og:(g + 1) * og] = np.einsum("nabc,abco->no", patch, w[..., g * og:(g + 1) * og])
    if b is not None:
        y += b
    return y


def depthwise_ref(x, w, strides, padding, dil=(1, 1)):
    n, h, wd, cin = x.shape
    kh, kw, _, dm = w.shape
    outs = []
    # Channel c, multiplier m → output channel c*dm + m: a grouped convolution with cin groups.
    wg = np.zeros((kh, kw, 1, cin * dm))
    for c in range(cin):
        for m in range(dm):
            wg[:, :, 0, c * dm + m] = w[:, :, c, m]
    return conv2d_ref(x, wg, None, strides, dil, padding, groups=cin)


def conv_transpose_ref(x, w, b, s, padding):
    # Scatter each input pixel's contribution (the definition), then crop TF's padding.
    n, h, wd, cin = x.shape
    kh, kw, cout, _ = w.shape
    full_h, full_w = (h - 1) * s + kh, (wd - 1) * s + kw
    y = np.zeros((n, full_h, full_w, cout))
    for iy in range(h):
        for ix in range(wd):
            y[:, iy * s:iy * s + kh, ix * s:ix * s + kw, :] += np.einsum("nc,abkc->nabk", x[:, iy, ix, :], w)
    if padding == "same":
        oh, ow = h * s, wd * s
        pt = max((h - 1) * s + kh - oh, 0) // 2
        pl = max((wd - 1) * s + kw - ow, 0) // 2
    else:
        oh, ow = (h - 1) * s + kh + max(s - kh, 0), (wd - 1) * s + kw + max(s - kw, 0)
        pt = pl = 0
        y = np.pad(y, ((0, 0), (0, max(oh - full_h, 0)), (0, max(ow - full_w, 0)), (0, 0)))
    y = y[:, pt:pt + oh, pl:pl + ow, :]
    return y + b


# ---- convolutions ----
x = r(2, 7, 6, 3)
w = r(3, 3, 3, 4)
b = r(4)
add("/ops/conv2d/3x3-same", "Conv2D", {"filters": 4, "kernel_size": [3, 3], "padding": "same"}, [x], [w, b],
    conv2d_ref(x, w, b, (1, 1), (1, 1), "same"))
add("/ops/conv2d/3x3-stride2-valid-relu", "Conv2D",
    {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "valid", "activation": "relu"}, [x], [w, b],
    np.maximum(conv2d_ref(x, w, b, (2, 2), (1, 1), "valid"), 0))
add("/ops/conv2d/stride2-same-even", "Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
    [x], [w, b], conv2d_ref(x, w, b, (2, 2), (1, 1), "same"))
add("/ops/conv2d/dilation2-same-nobias", "Conv2D",
    {"filters": 4, "kernel_size": 3, "dilation_rate": 2, "padding": "same", "use_bias": False}, [x], [w],
    conv2d_ref(x, w, None, (1, 1), (2, 2), "same"))
x4 = r(1, 5, 5, 4)
wg = r(3, 3, 2, 6)
bg = r(6)
add("/ops/conv2d/groups2", "Conv2D", {"filters": 6, "kernel_size": 3, "groups": 2, "padding": "same"}, [x4],
    [wg, bg], conv2d_ref(x4, wg, bg, (1, 1), (1, 1), "same", groups=2))
w1 = r(1, 1, 3, 5)
b1 = r(5)
add("/ops/conv2d/1x1", "Conv2D", {"filters": 5, "kernel_size": 1, "activation": "swish"}, [x], [w1, b1],
    (lambda y: y / (1 + np.exp(-y)))(conv2d_ref(x, w1, b1, (1, 1), (1, 1), "valid")))
add("/ops/conv2d/1x1-stride2", "Conv2D", {"filters": 5, "kernel_size": 1, "strides": 2}, [x], [w1, b1],
    conv2d_ref(x, w1, b1, (2, 2), (1, 1), "valid"))
x1 = r(2, 9, 3)
wc1 = r(3, 3, 2)
bc1 = r(2)
add("/ops/conv1d/valid", "Conv1D", {"filters": 2, "kernel_size": 3}, [x1], [wc1, bc1],
    conv2d_ref(x1[:, None], wc1[None], bc1, (1, 1), (1, 1), "valid")[:, 0])
causal = np.pad(x1, ((0, 0), (2, 0), (0, 0)))
add("/ops/conv1d/causal", "Conv1D", {"filters": 2, "kernel_size": 3, "padding": "causal"}, [x1], [wc1, bc1],
    conv2d_ref(causal[:, None], wc1[None], bc1, (1, 1), (1, 1), "valid")[:, 0])
wd = r(3, 3, 3, 1)
bd = r(3)
add("/ops/conv2d/depthwise-stride2", "DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "padding": "same"}, [x],
    [wd, bd], depthwise_ref(x, wd, (2, 2), "same") + bd)
wd2 = r(3, 3, 3, 2)
add("/ops/conv2d/depthwise-multiplier2-valid", "DepthwiseConv2D",
    {"kernel_size": 3, "depth_multiplier": 2, "use_bias": False, "activation": "relu6"}, [x], [wd2],
    np.clip(depthwise_ref(x, wd2, (1, 1), "valid"), 0, 6))
wp = r(1, 1, 3, 5)
bp = r(5)
add("/ops/conv2d/separable-same", "SeparableConv2D", {"filters": 5, "kernel_size": 3, "padding": "same"}, [x],
    [wd, wp, bp], conv2d_ref(depthwise_ref(x, wd, (1, 1), "same"), wp, bp, (1, 1), (1, 1), "valid"))
wt = r(3, 3, 2, 3)
bt = r(2)
add("/ops/conv2d/transpose-stride2-same", "Conv2DTranspose",
    {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, [x], [wt, bt],
    conv_transpose_ref(x, wt, bt, 2, "same"))
add("/ops/conv2d/transpose-stride2-valid", "Conv2DTranspose",
    {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "valid"}, [x], [wt, bt],
    conv_transpose_ref(x, wt, bt, 2, "valid"))

# ---- dense ----
xd = r(3, 5)
wdn = r(5, 4)
bdn = r(4)
z = xd @ wdn + bdn
add("/ops/dense/softmax", "Dense", {"units": 4, "activation": "softmax"}, [xd], [wdn, bdn],
    np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
x3 = r(2, 3, 5)
add("/ops/dense/rank3", "Dense", {"units": 4, "use_bias": False}, [x3], [wdn], x3 @ wdn)

# ---- normalisation ----
g_, be, mu, var = r(3), r(3), r(3), np.abs(r(3)) + 0.1
add("/ops/norm/batchnorm", "BatchNormalization", {"epsilon": 0.001}, [x], [g_, be, mu, var],
    (x - mu) / np.sqrt(var + 0.001) * g_ + be)
add("/ops/norm/batchnorm-no-scale-center", "BatchNormalization", {"epsilon": 1e-5, "scale": False, "center": False},
    [x], [mu, var], (x - mu) / np.sqrt(var + 1e-5))
xc = r(2, 3, 4, 4)
add("/ops/norm/batchnorm-axis1", "BatchNormalization", {"axis": 1, "epsilon": 0.001}, [xc], [g_, be, mu, var],
    (xc - mu[:, None, None]) / np.sqrt(var[:, None, None] + 0.001) * g_[:, None, None] + be[:, None, None])
xl = r(2, 4, 6)
gl, bl = r(6), r(6)
m_ = xl.mean(-1, keepdims=True)
v_ = xl.var(-1, keepdims=True)
add("/ops/norm/layernorm", "LayerNormalization", {"axis": -1, "epsilon": 0.001}, [xl], [gl, bl],
    (xl - m_) / np.sqrt(v_ + 0.001) * gl + bl)
add("/ops/norm/rescaling", "Rescaling", {"scale": 1 / 127.5, "offset": -1}, [x], [], x / 127.5 - 1)
nm, nv = r(3), np.abs(r(3)) + 0.2
add("/ops/norm/normalization-weights", "Normalization", {"axis": -1}, [x],
    [nm.reshape(1, 1, 1, 3), nv.reshape(1, 1, 1, 3), np.array(10, np.float32)], (x - nm) / np.sqrt(nv))
add("/ops/norm/normalization-config", "Normalization", {"axis": -1, "mean": [0.485, 0.456, 0.406],
                                                        "variance": [0.052, 0.050, 0.051]}, [x], [],
    (x - np.array([0.485, 0.456, 0.406])) / np.sqrt(np.array([0.052, 0.050, 0.051])))

# ---- activations ----
xa = (r(2, 3, 4) * 3).astype(np.float32)
xa64 = xa.astype(np.float64)
sig = 1 / (1 + np.exp(-xa64))
sp = np.log1p(np.exp(xa64))
erf = np.vectorize(math.erf)
acts = {
    "linear": xa64, "relu": np.maximum(xa64, 0), "relu6": np.clip(xa64, 0, 6),
    "elu": np.where(xa64 > 0, xa64, np.expm1(xa64)),
    "selu": 1.0507009873554805 * np.where(xa64 > 0, xa64, 1.6732632423543772 * np.expm1(xa64)),
    "gelu": 0.5 * xa64 * (1 + erf(xa64 / math.sqrt(2))),
    "sigmoid": sig, "swish": xa64 * sig, "silu": xa64 * sig,
    "hard_swish": xa64 * np.clip(xa64 + 3, 0, 6) / 6, "tanh": np.tanh(xa64),
    "softmax": np.exp(xa64) / np.exp(xa64).sum(-1, keepdims=True),
    "softplus": sp, "softsign": xa64 / (1 + np.abs(xa64)), "exponential": np.exp(xa64),
    "mish": xa64 * np.tanh(sp),
}
for name, ref in acts.items():
    add("/ops/activation/" + name, "Activation", {"activation": name}, [xa], [], ref)
add("/ops/activation/hard_sigmoid-keras2", "Activation", {"activation": "hard_sigmoid"}, [xa], [],
    np.clip(0.2 * xa64 + 0.5, 0, 1), keras_version="2.4.0")
add("/ops/activation/hard_sigmoid-keras3", "Activation", {"activation": "hard_sigmoid"}, [xa], [],
    np.clip(xa64 + 3, 0, 6) / 6, keras_version="3.3.3")
add("/ops/activation/leaky_relu-keras3", "Activation", {"activation": "leaky_relu"}, [xa], [],
    np.where(xa64 > 0, xa64, 0.2 * xa64), keras_version="3.3.3")
add("/ops/activation/relu-layer-max6", "ReLU", {"max_value": 6.0}, [xa], [], np.clip(xa64, 0, 6))
add("/ops/activation/relu-layer-slope-threshold", "ReLU", {"negative_slope": 0.1, "threshold": 0.5, "max_value": 4.0},
    [xa], [], np.where(xa64 >= 4, 4, np.where(xa64 >= 0.5, xa64, 0.1 * (xa64 - 0.5))))
add("/ops/activation/leakyrelu-alpha", "LeakyReLU", {"alpha": 0.25}, [xa], [], np.where(xa64 > 0, xa64, 0.25 * xa64))
add("/ops/activation/leakyrelu-negative-slope", "LeakyReLU", {"negative_slope": 0.05}, [xa], [],
    np.where(xa64 > 0, xa64, 0.05 * xa64))
alpha = r(1, 4)
add("/ops/activation/prelu-shared-axes", "PReLU", {"shared_axes": [1]}, [xa], [alpha],
    np.where(xa64 > 0, xa64, alpha * xa64))
add("/ops/activation/elu-alpha", "ELU", {"alpha": 0.5}, [xa], [], np.where(xa64 > 0, xa64, 0.5 * np.expm1(xa64)))
add("/ops/activation/softmax-axis1", "Softmax", {"axis": 1}, [xa], [],
    np.exp(xa64) / np.exp(xa64).sum(1, keepdims=True))
add("/ops/activation/thresholded-relu", "ThresholdedReLU", {"theta": 0.7}, [xa], [], np.where(xa64 > 0.7, xa64, 0))


# ---- pooling ----
def pool_ref(x, k, s, padding, kind):
    n, h, w, c = x.shape
    if padding == "same":
        pt, _, oh = same_pad(h, k, s, 1)
        pl, _, ow = same_pad(w, k, s, 1)
    else:
        pt = pl = 0
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
    y = np.zeros((n, oh, ow, c))
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * s - pt, ox * s - pl
            win = x[:, max(y0, 0):min(y0 + k, h), max(x0, 0):min(x0 + k, w), :]
            y[:, oy, ox] = win.max((1, 2)) if kind == "max" else win.mean((1, 2))
    return y


xp_ = r(2, 7, 8, 3)
add("/ops/pool/max-3x3-stride2-same", "MaxPooling2D", {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"},
    [xp_], [], pool_ref(xp_, 3, 2, "same", "max"))
add("/ops/pool/avg-3x3-stride2-same", "AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"},
    [xp_], [], pool_ref(xp_, 3, 2, "same", "avg"))
add("/ops/pool/avg-2x2-valid", "AveragePooling2D", {"pool_size": 2}, [xp_], [], pool_ref(xp_, 2, 2, "valid", "avg"))
add("/ops/pool/max-2x2-valid", "MaxPooling2D", {"pool_size": [2, 2]}, [xp_], [], pool_ref(xp_, 2, 2, "valid", "max"))
add("/ops/pool/max1d", "MaxPooling1D", {"pool_size": 2, "strides": 2}, [x1], [],
    x1[:, :8].reshape(2, 4, 2, 3).max(2))
add("/ops/pool/global-avg", "GlobalAveragePooling2D", {}, [xp_], [], xp_.mean((1, 2)))
add("/ops/pool/global-max-keepdims", "GlobalMaxPooling2D", {"keepdims": True}, [xp_], [],
    xp_.max((1, 2), keepdims=True))
add("/ops/pool/global-avg-channels-first", "GlobalAveragePooling2D", {"data_format": "channels_first"}, [xc], [],
    xc.mean((2, 3)))
add("/ops/pool/global-avg-1d", "GlobalAveragePooling1D", {}, [x1], [], x1.mean(1))

# ---- spatial size ----
add("/ops/resize/zeropad", "ZeroPadding2D", {"padding": [[1, 2], [0, 3]]}, [x], [],
    np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0))))
add("/ops/resize/crop", "Cropping2D", {"cropping": [[1, 0], [2, 1]]}, [x], [], x[:, 1:, 2:-1])
add("/ops/resize/upsample-nearest", "UpSampling2D", {"size": [2, 3]}, [x], [], x.repeat(2, 1).repeat(3, 2))


def bilinear_ref(x, oh, ow):
    n, h, w, c = x.shape
    y = np.zeros((n, oh, ow, c))
    for oy in range(oh):
        fy = max((oy + 0.5) * h / oh - 0.5, 0)
        y0 = int(math.floor(fy))
        y1 = min(y0 + 1, h - 1)
        wy = fy - y0
        for ox in range(ow):
            fx = max((ox + 0.5) * w / ow - 0.5, 0)
            x0 = int(math.floor(fx))
            x1_ = min(x0 + 1, w - 1)
            wx = fx - x0
            top = x[:, y0, x0] * (1 - wx) + x[:, y0, x1_] * wx
            bot = x[:, y1, x0] * (1 - wx) + x[:, y1, x1_] * wx
            y[:, oy, ox] = top * (1 - wy) + bot * wy
    return y


add("/ops/resize/upsample-bilinear", "UpSampling2D", {"size": 2, "interpolation": "bilinear"}, [x], [],
    bilinear_ref(x, 14, 12))
def bilinear_legacy_ref(x, oh, ow):
    # TF 1 resize_bilinear / tfjs resizeBilinear without half-pixel centres: src = dst * in / out.
    n, h, w, c = x.shape
    y = np.zeros((n, oh, ow, c))
    for oy in range(oh):
        fy = oy * h / oh
        y0 = int(math.floor(fy))
        y1 = min(y0 + 1, h - 1)
        wy = fy - y0
        for ox in range(ow):
            fx = ox * w / ow
            x0 = int(math.floor(fx))
            x1_ = min(x0 + 1, w - 1)
            wx = fx - x0
            top = x[:, y0, x0] * (1 - wx) + x[:, y0, x1_] * wx
            bot = x[:, y1, x0] * (1 - wx) + x[:, y1, x1_] * wx
            y[:, oy, ox] = top * (1 - wy) + bot * wy
    return y


add("/ops/resize/upsample-bilinear-keras2.2", "UpSampling2D", {"size": [2, 3], "interpolation": "bilinear"}, [x],
    [], bilinear_legacy_ref(x, 14, 18), keras_version="2.2.4")
add("/ops/resize/resizing-bilinear", "Resizing", {"height": 5, "width": 9}, [x], [], bilinear_ref(x, 5, 9))

# ---- merges ----
a_, b_, c_ = r(2, 3, 4, 5), r(2, 3, 4, 5), r(2, 3, 4, 5)
add("/ops/merge/add3", "Add", {}, [a_, b_, c_], [], a_ + b_ + c_)
add("/ops/merge/subtract", "Subtract", {}, [a_, b_], [], a_ - b_)
add("/ops/merge/multiply", "Multiply", {}, [a_, b_], [], a_ * b_)
add("/ops/merge/average", "Average", {}, [a_, b_, c_], [], (a_ + b_ + c_) / 3)
add("/ops/merge/maximum", "Maximum", {}, [a_, b_, c_], [], np.maximum(np.maximum(a_, b_), c_))
add("/ops/merge/minimum", "Minimum", {}, [a_, b_], [], np.minimum(a_, b_))
se = r(2, 1, 1, 5)
add("/ops/merge/multiply-squeeze-excite-broadcast", "Multiply", {}, [a_, se], [], a_ * se)
add("/ops/merge/add-broadcast-first", "Add", {}, [se, a_], [], se + a_)
cc2 = r(2, 3, 4, 2)
add("/ops/merge/concat-last", "Concatenate", {"axis": -1}, [a_, cc2], [], np.concatenate([a_, cc2], -1))
cc3 = r(2, 1, 4, 5)
add("/ops/merge/concat-axis1", "Concatenate", {"axis": 1}, [a_, cc3], [], np.concatenate([a_, cc3], 1))

# ---- layout ----
add("/ops/reshape/reshape", "Reshape", {"target_shape": [-1, 10]}, [a_], [], a_.reshape(2, -1, 10))
add("/ops/reshape/flatten", "Flatten", {}, [a_], [], a_.reshape(2, -1))
add("/ops/reshape/flatten-channels-first", "Flatten", {"data_format": "channels_first"}, [xc], [],
    xc.transpose(0, 2, 3, 1).reshape(2, -1))
add("/ops/reshape/permute", "Permute", {"dims": [3, 1, 2]}, [a_], [], a_.transpose(0, 3, 1, 2))
add("/ops/reshape/repeat-vector", "RepeatVector", {"n": 3}, [xd], [], np.repeat(xd[:, None], 3, 1))
add("/ops/reshape/dropout-identity", "Dropout", {"rate": 0.5}, [xd], [], xd)
add("/ops/reshape/spatial-dropout-identity", "SpatialDropout2D", {"rate": 0.5}, [x], [], x)

# ---- channels_first: the same formulas on NCHW data ----
def cf(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def cl(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


xf = cf(x)
add("/ops/channels-first/conv2d-stride2-same", "Conv2D",
    {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"}, [xf],
    [w, b], cf(conv2d_ref(x, w, b, (2, 2), (1, 1), "same")))
add("/ops/channels-first/depthwise", "DepthwiseConv2D",
    {"kernel_size": 3, "padding": "same", "data_format": "channels_first"}, [xf], [wd, bd],
    cf(depthwise_ref(x, wd, (1, 1), "same") + bd))
add("/ops/channels-first/separable", "SeparableConv2D",
    {"filters": 5, "kernel_size": 3, "padding": "same", "data_format": "channels_first"}, [xf], [wd, wp, bp],
    cf(conv2d_ref(depthwise_ref(x, wd, (1, 1), "same"), wp, bp, (1, 1), (1, 1), "valid")))
add("/ops/channels-first/transpose", "Conv2DTranspose",
    {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"}, [xf],
    [wt, bt], cf(conv_transpose_ref(x, wt, bt, 2, "same")))
xpf = cf(xp_)
add("/ops/channels-first/maxpool-same", "MaxPooling2D",
    {"pool_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"}, [xpf], [],
    cf(pool_ref(xp_, 3, 2, "same", "max")))
add("/ops/channels-first/avgpool-same", "AveragePooling2D",
    {"pool_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"}, [xpf], [],
    cf(pool_ref(xp_, 3, 2, "same", "avg")))
add("/ops/channels-first/zeropad", "ZeroPadding2D", {"padding": [1, 2], "data_format": "channels_first"}, [xf], [],
    np.pad(xf, ((0, 0), (0, 0), (1, 1), (2, 2))))
add("/ops/channels-first/upsample-nearest", "UpSampling2D", {"size": 2, "data_format": "channels_first"}, [xf],
    [], xf.repeat(2, 2).repeat(2, 3))
add("/ops/channels-first/theano-dim-ordering-pool", "MaxPooling2D", {"pool_size": [2, 2], "dim_ordering": "th"},
    [xpf], [], cf(pool_ref(xp_, 2, 2, "valid", "max")))

# ---- TFOpLambda: Keras 2's record of `x + 3.0`, `x * (1 / 6)` ... (MobileNetV3's hard_sigmoid);
# the constant is the call's keyword argument y ----
xt = r(2, 3, 4, 5)
for fn, y, ref in [("__operators__.add", 3.0, xt + 3.0), ("math.multiply", 1 / 6, xt * (1 / 6)),
                   ("__operators__.sub", 0.5, xt - 0.5), ("math.truediv", 4.0, xt / 4.0)]:
    add("/ops/tfoplambda/" + fn.replace("__", "").replace(".", "-"), "TFOpLambda",
        {"name": "tf." + fn, "function": fn}, [xt], [], ref, kwargs={"y": y, "name": None})
# hard_sigmoid as Keras 2 builds it: ReLU(6)(x + 3) * (1 / 6), checked end to end in tests/zoo

out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "ops", "fixtures", "ops.json")
with open(out, "w") as f:
    json.dump({"generator": "tools/reference/ops-fixtures.py", "cases": cases}, f, separators=(",", ":"))
print(len(cases), "cases,", os.path.getsize(out), "bytes")
