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


def forward(case, x, weights, training, outputs=None):
    """The last layer's value (or those of `outputs`, a list of names) and the moving stats."""
    vals = {"input": x}
    moving = {}
    for layer in case["layers"]:
        w = weights.get(layer["name"], [])
        y, mv = run_layer(layer["class"], layer["config"], w, [vals[i] for i in layer["inputs"]],
                          training, not layer.get("trainable", True))
        vals[layer["name"]] = y
        if mv is not None:
            moving[layer["name"]] = mv
    if outputs:
        return [vals[o] for o in outputs], moving
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


def dice(logits, target):
    """Keras 3's Dice loss over the whole batch, on the sigmoid of the logits."""
    p = torch.sigmoid(logits)
    return 1 - 2 * (target * p).sum() / (target.sum() + p.sum() + 1e-7)


def loss_of(kind, y, logits, target):
    """Keras's losses; cce and softmax-ce reduce the last axis, then average the rest (a
    classifier's rows, or every pixel of a map)."""
    if kind == "cce":
        return -(target * torch.log(y.clamp(1e-7, 1 - 1e-7))).sum(-1).mean()
    if kind == "softmax-ce":
        return -(target * F.log_softmax(logits, -1)).sum(-1).mean()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, target)
    if kind == "dice":
        return dice(logits, target)
    if kind == "bce-dice":
        return F.binary_cross_entropy_with_logits(logits, target) + dice(logits, target)
    return ((y - target) ** 2).mean()


def logits_of(case, name, y):
    """The engine takes bce's and dice's logits before an output's sigmoid."""
    layer = next(la for la in case["layers"] if la["name"] == name)
    if layer["config"].get("activation") == "sigmoid":
        return torch.log(y / (1 - y))
    return y


def keras_lr(opt, step):
    """The learning rate Keras 3 uses at optimizer step `step` (0-based): constant, or
    CosineDecay (with its optional linear warmup), written out from Keras's documentation."""
    lr = opt["lr"]
    sch = opt.get("schedule")
    if not sch:
        return lr
    steps, alpha = sch["decay_steps"], sch.get("alpha", 0.0)
    target, warm = sch.get("warmup_target"), sch.get("warmup_steps", 0)

    def decay(s, start):
        return start * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * s / steps)) + alpha)
    if target is None:
        return decay(min(step, steps), lr)
    if step < warm:
        return (target - lr) * step / warm + lr
    return decay(min(step, steps + warm) - warm, target)


def check_schedule_against_torch(opt, n):
    """torch's CosineAnnealingLR (eta_min = alpha·lr) is the same curve up to decay_steps."""
    sch = opt.get("schedule")
    if not sch or sch.get("warmup_target") is not None:
        return
    p = torch.zeros(1, requires_grad=True)
    o = torch.optim.SGD([p], lr=opt["lr"])
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(o, sch["decay_steps"],
                                                     eta_min=sch.get("alpha", 0.0) * opt["lr"])
    for step in range(min(n, sch["decay_steps"] + 1)):
        assert abs(o.param_groups[0]["lr"] - keras_lr(opt, step)) < 1e-12, step
        o.step()
        cos.step()


def keras_clip(opt, params):
    """Keras 3's gradient clipping (optimizer._clip_gradients); checked against torch's own
    clip_grad_value_ and clip_grad_norm_ (which adds 1e-6 to the norm, hence the tolerance).
    Returns whether it changed anything."""
    grads = [p.grad for p in params]
    if opt.get("clipnorm"):
        c = opt["clipnorm"]
        new = [g * c / torch.clamp(g.norm(), min=c) for g in grads]
        ref = [g.clone() for g in grads]
        for r in ref:
            torch.nn.utils.clip_grad_norm_([FakeParam(r)], c)
    elif opt.get("global_clipnorm"):
        c = opt["global_clipnorm"]
        total = torch.sqrt(sum((g * g).sum() for g in grads))
        new = [g * min(1.0, c / float(total)) for g in grads]
        ref = [g.clone() for g in grads]
        torch.nn.utils.clip_grad_norm_([FakeParam(r) for r in ref], c)
    elif opt.get("clipvalue"):
        c = opt["clipvalue"]
        new = [g.clamp(-c, c) for g in grads]
        ref = [g.clone() for g in grads]
        torch.nn.utils.clip_grad_value_([FakeParam(r) for r in ref], c)
    else:
        return False
    for a, b in zip(new, ref):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-9)
    changed = any(not torch.equal(a, g) for a, g in zip(new, grads))
    for p, g in zip(params, new):
        p.grad = g
    return changed


class FakeParam:
    """A gradient holder torch's clipping utilities accept (they read .grad)."""

    def __init__(self, g):
        self.grad = g


def trajectory_case(case):
    weights = to_torch(case)
    params = [w for layer in case["layers"] for i, w in enumerate(weights[layer["name"]])
              if i in trainable_slots(layer)]
    opt = case["optimizer"]
    kind = opt["kind"]
    # Keras decays the weights itself (decoupled, by lr·wd) before any optimizer's update;
    # torch's SGD weight_decay is an L2 term instead, so the decay is applied here.
    wd = opt.get("weight_decay", 0.004 if kind == "adamw" else 0.0)
    # torch's SGD keeps the raw gradients in its momentum and multiplies by the current rate;
    # Keras keeps lr·g. Equal for a constant rate (torch's own step then), not under a schedule
    # (Keras's formula over torch's gradients then).
    sgd = torch.optim.SGD(params, lr=opt["lr"], momentum=opt.get("momentum", 0.0),
                          nesterov=opt.get("nesterov", False)) \
        if kind == "sgd" and not opt.get("schedule") else None
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    losses, lrs, clipped = [], [], 0
    check_schedule_against_torch(opt, len(case["batches_x"]))
    for step, (bx, bt) in enumerate(zip(case["batches_x"], case["batches_t"]), start=1):
        x = torch.tensor(np.array(bx, np.float32), dtype=torch.float64)
        t = None if "heads" in case else torch.tensor(np.array(bt, np.float32),
                                                      dtype=torch.float64)
        if "heads" in case:  # several outputs: the weighted sum of their losses
            heads = case["heads"]
            ys, moving = forward(case, x, weights, True, [h["output"] for h in heads])
            loss = sum(h.get("weight", 1.0) * loss_of(h["loss"], y, logits_of(case, h["output"], y),
                                                      torch.tensor(np.array(ti, np.float32),
                                                                   dtype=torch.float64))
                       for h, y, ti in zip(heads, ys, bt))
        else:
            y, moving = forward(case, x, weights, True)
            loss = loss_of(case["loss"], y, logits_of(case, case["layers"][-1]["name"], y), t)
        for p in params:
            p.grad = None
        loss.backward()
        losses.append(float(loss))
        lr = keras_lr(opt, step - 1)
        lrs.append(lr)
        with torch.no_grad():
            clipped += keras_clip(opt, params)
            for p in params:
                p -= p * wd * lr
            if sgd:
                sgd.step()
            elif kind == "sgd":  # Keras 3's SGD
                mu = opt.get("momentum", 0.0)
                for p, mi in zip(params, m):
                    mi.copy_(mu * mi - lr * p.grad)
                    p += mu * mi - lr * p.grad if opt.get("nesterov") else mi
            else:  # Keras 3's Adam
                b1, b2, eps = 0.9, 0.999, 1e-7
                alpha = lr * (1 - b2 ** step) ** 0.5 / (1 - b1 ** step)
                for p, mi, vi in zip(params, m, v):
                    mi += (p.grad - mi) * (1 - b1)
                    vi += (p.grad * p.grad - vi) * (1 - b2)
                    p -= alpha * mi / (vi.sqrt() + eps)
            for name, (mm, mv) in moving.items():
                weights[name][2].copy_(mm)
                weights[name][3].copy_(mv)
    if any(opt.get(k) for k in ("clipnorm", "global_clipnorm", "clipvalue")):
        assert clipped, f"{case['name']}: the clipping never acted"
    case["losses"] = losses
    case["lrs"] = lrs
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
    global RNG
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
        elif loss in ("bce", "dice", "bce-dice"):
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
    # (Their numbers from a generator of their own: the cases above keep theirs.)
    main_rng, RNG = RNG, np.random.default_rng(1919)
    # Keras 3's AdamW (its default weight decay 0.004, then a large one), cosine decay with and
    # without warmup, each kind of gradient clipping, decoupled weight decay on SGD.
    traj("classifier_adamw_default_decay", cls(), "cce", {"kind": "adamw", "lr": 0.05},
         (4, 4, 4), (3,), steps=6)
    traj("seg_adamw_decay", seg(), "bce", {"kind": "adamw", "lr": 0.01, "weight_decay": 0.5},
         (5, 5, 4), (5, 5, 1))
    traj("seg_sgd_cosine_clipnorm", seg(), "bce",
         {"kind": "sgd", "lr": 0.2, "momentum": 0.9, "clipnorm": 0.05,
          "schedule": {"decay_steps": 4, "alpha": 0.1}}, (5, 5, 4), (5, 5, 1), steps=6)
    traj("classifier_adam_warmup_global_clipnorm", cls(), "cce",
         {"kind": "adam", "lr": 0.01, "global_clipnorm": 0.05,
          "schedule": {"decay_steps": 3, "warmup_steps": 2, "warmup_target": 0.05}},
         (4, 4, 4), (3,), steps=7)
    traj("regression_sgd_clipvalue_decay", [conv("c", ["input"], 4, 2, k=3, act="tanh")], "mse",
         {"kind": "sgd", "lr": 0.05, "clipvalue": 0.02, "weight_decay": 0.3},
         (4, 4, 4), (4, 4, 2))
    # Losses by output: a per-pixel softmax over 3 channels (logits, and a softmax output with
    # cce), Dice and BCE + Dice (through an output's own sigmoid), and two heads on a shared
    # trainable convolution trained together with loss weights.

    def onehot_maps(batch, h, w, c, steps=4):
        return [np.eye(c)[RNG.integers(0, c, (batch, h, w))].tolist() for _ in range(steps)]

    def seg_c(c, act="linear"):
        return [conv("c", ["input"], 4, 6, k=3), bn("b", ["c"], 6),
                plain("r", "Activation", ["b"], activation="relu"),
                conv("o", ["r"], 6, c, k=1, act=act)]
    traj("map3_softmax_ce", seg_c(3), "softmax-ce", {"kind": "adam", "lr": 0.01}, (5, 5, 4),
         (5, 5, 3))
    out[-1]["batches_t"] = onehot_maps(3, 5, 5, 3)
    traj("map3_softmax_output_cce", seg_c(3, "softmax"), "cce", {"kind": "sgd", "lr": 0.5},
         (5, 5, 4), (5, 5, 3))
    out[-1]["batches_t"] = onehot_maps(3, 5, 5, 3)
    traj("seg_dice", seg_c(1), "dice", {"kind": "adam", "lr": 0.01}, (5, 5, 4), (5, 5, 1))
    traj("seg_sigmoid_bce_dice", seg_c(1, "sigmoid"), "bce-dice", {"kind": "adam", "lr": 0.01},
         (5, 5, 4), (5, 5, 1))
    two = [conv("s", ["input"], 4, 5, k=3, act="relu"), conv("o", ["s"], 5, 1, k=1),
           plain("p", "GlobalAveragePooling2D", ["s"]), dense("d", ["p"], 5, 3, act="softmax")]
    traj("two_heads_weighted", two, "", {"kind": "adam", "lr": 0.01}, (5, 5, 4), (5, 5, 1))
    heads = [{"output": "o", "loss": "bce", "weight": 1.0},
             {"output": "d", "loss": "cce", "weight": 0.5}]
    out[-1]["heads"] = heads
    out[-1]["batches_t"] = [[(RNG.random((3, 5, 5, 1)) > 0.5).astype(float).tolist(),
                             np.eye(3)[RNG.integers(0, 3, 3)].tolist()] for _ in range(4)]
    # Convolutions wide enough (16 filters or more) for the engine's vector kernel, which then
    # runs the forward and the kernel's gradient (osh-grad-conv.c): few input channels (read a
    # kernel row at a time), many (tap by tap), strides, dilation, padding on every side.
    RNG = np.random.default_rng(2020)
    g("wide_conv_same_stride2_relu", [conv("c", ["input"], 3, 32, k=3, s=2, act="relu")])
    g("wide_conv_valid_dilated_swish", [conv("c", ["input"], 20, 24, k=3, d=2, padding="valid",
                                             act="swish")], xx=rand(2, 9, 8, 20).tolist())
    g("wide_conv_5x5_same_bn", [conv("c", ["input"], 17, 16, k=5, bias=False),
                                bn("b", ["c"], 16)], xx=rand(2, 6, 7, 17).tolist())
    wide_seg = [conv("c", ["input"], 20, 32, k=3), bn("b", ["c"], 32),
                plain("r", "Activation", ["b"], activation="relu"), conv("o", ["r"], 32, 1, k=1)]
    traj("wide_seg_adam", wide_seg, "bce", {"kind": "adam", "lr": 0.01}, (6, 6, 20), (6, 6, 1))
    # A frozen layer between the features and the trained ones: no gradient flows into it.
    frozen_first = [bn("f", ["input"], 4, trainable=False)] + seg()
    frozen_first[1]["inputs"] = ["f"]
    traj("frozen_bn_first_seg_sgd", frozen_first, "bce", {"kind": "sgd", "lr": 0.1}, (5, 5, 4),
         (5, 5, 1))
    RNG = main_rng
    return out


def main():
    done = [gradient_case(c) if c["kind"] == "gradient" else trajectory_case(c) for c in cases()]
    json.dump({"torch": torch.__version__, "cases": done}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


main()
