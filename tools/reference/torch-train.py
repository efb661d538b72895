#!/usr/bin/python3
"""Reference gradients and training trajectories from Debian's PyTorch for engine/train.

    /usr/bin/python3 tools/reference/torch-train.py > tests/train/torch-train.json

Each case is a small Keras-style graph (layer classes, Keras configs, weights in Keras's
layouts, channels-last data) computed here with torch's own ops and autograd: the forward
output, the gradient of sum(output * dout) by the input and by every trainable weight, and the
BatchNormalization moving statistics after the step. Trajectory cases train for a few steps
with fixed batches: SGD (torch.optim.SGD, whose momentum and Nesterov updates equal Keras's for
a constant learning rate) and Adam written out with Keras's formula (its epsilon is added to
sqrt(v) before the bias correction, which torch.optim.Adam does not do), the gradients from
torch's autograd, the loss Keras would use. tests/train/test-train-torch.c replays every case."""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)  # the reference in double; the engine runs float32
RNG = np.random.default_rng(19)


def short(a):
    """Six significant digits: both sides read the same decimal numbers, the file stays small."""
    return np.vectorize(lambda v: float(f"{v:.6g}"))(np.asarray(a, np.float64))


def rand(*shape, scale=1.0):
    return short(RNG.standard_normal(shape) * scale)


def tf_pad(x, k, s, d, mode, value=0.0):
    """TensorFlow's 'same' padding on NCHW: the odd cell after."""
    if mode != "same":
        return x
    pads = []
    for dim, kk, ss, dd in ((3, k[1], s[1], d[1]), (2, k[0], s[0], d[0])):
        n = x.shape[dim]
        out = -(-n // ss)
        total = max((out - 1) * ss + (kk - 1) * dd + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value)


def activation(x, name):
    return {"linear": lambda v: v, "relu": F.relu, "relu6": lambda v: v.clamp(0, 6),
            "sigmoid": torch.sigmoid, "swish": F.silu, "tanh": torch.tanh,
            "softmax": lambda v: F.softmax(v, dim=-1),
            "leaky_relu": lambda v: F.leaky_relu(v, 0.2)}[name](x)


def run_layer(cls, cfg, w, xs, training, frozen):
    x = xs[0]
    if cls == "Conv2D":
        k, s = cfg["kernel_size"], cfg["strides"]
        d = cfg.get("dilation_rate", [1, 1])
        y = F.conv2d(tf_pad(x.permute(0, 3, 1, 2), k, s, d, cfg["padding"]),
                     w[0].permute(3, 2, 0, 1), w[1] if cfg.get("use_bias", True) else None,
                     stride=s, dilation=d).permute(0, 2, 3, 1)
        return activation(y, cfg.get("activation", "linear")), None
    if cls == "Dense":
        y = x @ w[0] + (w[1] if cfg.get("use_bias", True) else 0)
        return activation(y, cfg.get("activation", "linear")), None
    if cls == "BatchNormalization":
        gamma, beta, mm, mv = w
        eps, mom = cfg.get("epsilon", 1e-3), cfg.get("momentum", 0.99)
        if training and not frozen:
            dims = tuple(range(x.dim() - 1))
            mean, var = x.mean(dims), x.var(dims, unbiased=False)
            moving = [mm * mom + mean.detach() * (1 - mom), mv * mom + var.detach() * (1 - mom)]
        else:
            mean, var, moving = mm, mv, None
        return (x - mean) / torch.sqrt(var + eps) * gamma + beta, moving
    if cls == "Activation":
        return activation(x, cfg["activation"]), None
    if cls == "ReLU":
        y = torch.where(x > 0, x, x * cfg.get("negative_slope", 0.0))
        return (y.clamp(max=cfg["max_value"]) if cfg.get("max_value") else y), None
    if cls == "GlobalAveragePooling2D":
        return x.mean((1, 2)), None
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        k = cfg["pool_size"]
        s = cfg.get("strides") or k
        xc = x.permute(0, 3, 1, 2)
        if cls == "MaxPooling2D":
            y = F.max_pool2d(tf_pad(xc, k, s, [1, 1], cfg["padding"], -float("inf")), k, s)
        else:
            assert cfg["padding"] == "valid"
            y = F.avg_pool2d(xc, k, s)
        return y.permute(0, 2, 3, 1), None
    if cls == "UpSampling2D":
        s = cfg["size"]
        if cfg.get("interpolation") == "bilinear":  # half-pixel centres, as tf.image.resize
            return F.interpolate(x.permute(0, 3, 1, 2), scale_factor=tuple(s), mode="bilinear",
                                 align_corners=False).permute(0, 2, 3, 1), None
        return x.repeat_interleave(s[0], 1).repeat_interleave(s[1], 2), None
    if cls in ("Flatten", "Reshape"):
        shape = [-1] if cls == "Flatten" else cfg["target_shape"]
        return x.reshape(x.shape[0], *shape), None
    if cls == "Add":
        return sum(xs), None
    if cls == "Concatenate":
        return torch.cat(xs, dim=cfg.get("axis", -1)), None
    raise ValueError(cls)


def forward(case, x, weights, training):
    vals = {"input": x}
    moving = {}
    for layer in case["layers"]:
        w = weights.get(layer["name"], [])
        y, mv = run_layer(layer["class"], layer["config"], w, [vals[i] for i in layer["inputs"]],
                          training, not layer.get("trainable", True))
        vals[layer["name"]] = y
        if mv is not None:
            moving[layer["name"]] = mv
    return vals[case["layers"][-1]["name"]], moving


def trainable_slots(layer):
    """Which weights train: BatchNormalization's moving statistics never do."""
    n = len(layer["weights"])
    if not layer.get("trainable", True):
        return []
    return [0, 1] if layer["class"] == "BatchNormalization" else list(range(n))


def to_torch(case):
    weights = {}
    for layer in case["layers"]:
        ws = [torch.tensor(np.array(w, np.float32), dtype=torch.float64) for w in layer["weights"]]
        for i in trainable_slots(layer):
            ws[i].requires_grad_(True)
        weights[layer["name"]] = ws
    return weights


def flat(t):
    return [float(f"{v:.8g}") for v in t.detach().reshape(-1).tolist()]


def gradient_case(case):
    weights = to_torch(case)
    x = torch.tensor(np.array(case["x"], np.float32), dtype=torch.float64, requires_grad=True)
    y, moving = forward(case, x, weights, case["training"])
    dout = rand(*y.shape)
    (y * torch.tensor(dout, dtype=torch.float64)).sum().backward()
    case["dout"] = flat(torch.tensor(dout))
    case["y"] = flat(y)
    case["dx"] = flat(x.grad)
    case["dweights"] = {layer["name"]: {str(i): flat(weights[layer["name"]][i].grad)
                                        for i in trainable_slots(layer)}
                        for layer in case["layers"] if trainable_slots(layer)}
    case["moving"] = {k: [flat(v) for v in m] for k, m in moving.items()}
    return case


def loss_of(kind, y, logits, target):
    if kind == "cce":
        return -(target * torch.log(y.clamp(1e-7, 1 - 1e-7))).sum(-1).mean()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, target)
    return ((y - target) ** 2).mean()


def trajectory_case(case):
    weights = to_torch(case)
    params = [w for layer in case["layers"] for i, w in enumerate(weights[layer["name"]])
              if i in trainable_slots(layer)]
    opt = case["optimizer"]
    sgd = torch.optim.SGD(params, lr=opt["lr"], momentum=opt.get("momentum", 0.0),
                          nesterov=opt.get("nesterov", False)) if opt["kind"] == "sgd" else None
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    losses = []
    for step, (bx, bt) in enumerate(zip(case["batches_x"], case["batches_t"]), start=1):
        x = torch.tensor(np.array(bx, np.float32), dtype=torch.float64)
        t = torch.tensor(np.array(bt, np.float32), dtype=torch.float64)
        y, moving = forward(case, x, weights, True)
        loss = loss_of(case["loss"], y, y, t)
        for p in params:
            p.grad = None
        loss.backward()
        losses.append(float(loss))
        with torch.no_grad():
            if sgd:
                sgd.step()
            else:  # Keras 3's Adam
                b1, b2, eps, lr = 0.9, 0.999, 1e-7, opt["lr"]
                alpha = lr * (1 - b2 ** step) ** 0.5 / (1 - b1 ** step)
                for p, mi, vi in zip(params, m, v):
                    mi += (p.grad - mi) * (1 - b1)
                    vi += (p.grad * p.grad - vi) * (1 - b2)
                    p -= alpha * mi / (vi.sqrt() + eps)
            for name, (mm, mv) in moving.items():
                weights[name][2].copy_(mm)
                weights[name][3].copy_(mv)
    case["losses"] = losses
    case["final"] = {layer["name"]: [flat(w) for w in weights[layer["name"]]]
                     for layer in case["layers"] if layer["weights"]}
    return case


def conv(name, inputs, cin, cout, k=3, s=1, d=1, padding="same", act="linear", bias=True):
    w = [rand(k, k, cin, cout, scale=0.3).tolist()] + ([rand(cout).tolist()] if bias else [])
    return {"name": name, "class": "Conv2D", "inputs": inputs, "weights": w,
            "config": {"filters": cout, "kernel_size": [k, k], "strides": [s, s],
                       "dilation_rate": [d, d], "padding": padding, "activation": act,
                       "use_bias": bias}}


def bn(name, inputs, c, trainable=True):
    w = [(1 + rand(c, scale=0.2)).tolist(), rand(c, scale=0.2).tolist(),
         rand(c, scale=0.3).tolist(), (1 + np.abs(rand(c, scale=0.3))).tolist()]
    return {"name": name, "class": "BatchNormalization", "inputs": inputs, "weights": w,
            "trainable": trainable, "config": {"epsilon": 1e-3, "momentum": 0.99}}


def plain(name, cls, inputs, **config):
    return {"name": name, "class": cls, "inputs": inputs, "weights": [], "config": config}


def dense(name, inputs, cin, cout, act="linear"):
    return {"name": name, "class": "Dense", "inputs": inputs, "config": {"units": cout,
            "activation": act}, "weights": [rand(cin, cout, scale=0.4).tolist(),
                                            rand(cout, scale=0.1).tolist()]}


def cases():
    x = rand(2, 7, 6, 3).tolist()
    out = []

    def g(name, layers, training=True, xx=x):
        out.append({"name": name, "kind": "gradient", "input_shape": list(np.shape(xx))[1:],
                    "x": xx, "layers": layers, "training": training})

    g("conv_same_stride2", [conv("c", ["input"], 3, 4, k=3, s=2)])
    g("conv_valid_dilated_relu", [conv("c", ["input"], 3, 5, k=3, d=2, padding="valid",
                                       act="relu")])
    g("conv_1x1_nobias_sigmoid", [conv("c", ["input"], 3, 4, k=1, act="sigmoid", bias=False)])
    g("conv_5x5_same_swish_tanh", [conv("c", ["input"], 3, 2, k=5, act="swish"),
                                   plain("a", "Activation", ["c"], activation="tanh")])
    g("batchnorm_training", [bn("b", ["input"], 3)])
    g("batchnorm_frozen", [bn("b", ["input"], 3, trainable=False)])
    g("batchnorm_inference", [bn("b", ["input"], 3)], training=False)
    g("relu6_leaky", [plain("r", "ReLU", ["input"], max_value=6.0, negative_slope=0.0),
                      conv("c", ["r"], 3, 3, k=1),
                      plain("l", "Activation", ["c"], activation="leaky_relu")],
      xx=(short(np.array(x) * 5)).tolist())
    g("gap_dense_softmax", [plain("p", "GlobalAveragePooling2D", ["input"]),
                            dense("d", ["p"], 3, 4, act="softmax")])
    g("maxpool_same", [plain("m", "MaxPooling2D", ["input"], pool_size=[3, 3], strides=[2, 2],
                             padding="same")])
    g("avgpool_valid", [plain("m", "AveragePooling2D", ["input"], pool_size=[2, 2],
                              strides=[2, 2], padding="valid")])
    g("upsample_flatten_dense", [plain("u", "UpSampling2D", ["input"], size=[2, 3]),
                                 plain("f", "Flatten", ["u"]), dense("d", ["f"], 7 * 2 * 6 * 3 * 3, 3)])
    g("upsample_bilinear", [plain("u", "UpSampling2D", ["input"], size=[2, 3],
                                  interpolation="bilinear"), conv("c", ["u"], 3, 2, k=3)])
    g("add_concat", [conv("a", ["input"], 3, 4, k=3), conv("b", ["input"], 3, 4, k=1),
                     plain("s", "Add", ["a", "b"]),
                     plain("c", "Concatenate", ["s", "input"], axis=-1)])
    g("seg_head", [conv("c", ["input"], 3, 8, k=3), bn("b", ["c"], 8),
                   plain("r", "Activation", ["b"], activation="relu"),
                   conv("o", ["r"], 8, 1, k=1)])

    def traj(name, layers, loss, opt, shape, t_shape, steps=4, batch=3):
        bx = [rand(batch, *shape).tolist() for _ in range(steps)]
        if loss == "cce":
            bt = [np.eye(t_shape[-1])[RNG.integers(0, t_shape[-1], batch)].tolist()
                  for _ in range(steps)]
        elif loss == "bce":
            bt = [(RNG.random((batch, *t_shape)) > 0.5).astype(float).tolist()
                  for _ in range(steps)]
        else:
            bt = [rand(batch, *t_shape).tolist() for _ in range(steps)]
        out.append({"name": name, "kind": "trajectory", "input_shape": list(shape),
                    "layers": layers, "loss": loss, "optimizer": opt, "batches_x": bx,
                    "batches_t": bt})

    seg = lambda: [conv("c", ["input"], 4, 6, k=3), bn("b", ["c"], 6),  # noqa: E731
                   plain("r", "Activation", ["b"], activation="relu"), conv("o", ["r"], 6, 1, k=1)]
    cls = lambda: [plain("p", "GlobalAveragePooling2D", ["input"]),  # noqa: E731
                   dense("d", ["p"], 4, 3, act="softmax")]
    traj("seg_sgd", seg(), "bce", {"kind": "sgd", "lr": 0.1}, (5, 5, 4), (5, 5, 1))
    traj("seg_adam", seg(), "bce", {"kind": "adam", "lr": 0.01}, (5, 5, 4), (5, 5, 1))
    traj("classifier_sgd_nesterov", cls(), "cce",
         {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, (4, 4, 4), (3,))
    traj("classifier_adam", cls(), "cce", {"kind": "adam", "lr": 0.01}, (4, 4, 4), (3,))
    traj("regression_sgd_momentum", [conv("c", ["input"], 4, 2, k=3, act="tanh")], "mse",
         {"kind": "sgd", "lr": 0.05, "momentum": 0.8}, (4, 4, 4), (4, 4, 2))
    return out


def main():
    done = [gradient_case(c) if c["kind"] == "gradient" else trajectory_case(c) for c in cases()]
    json.dump({"torch": torch.__version__, "cases": done}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


main()
