#!/usr/bin/python3
"""Trains Offshoot's embedded default model and writes its sample images.

Not run by the build or the tests. From the project root (Debian's python3-torch, numpy, h5py):

    nice /usr/bin/python3 tools/train-default-model/train.py
    node tools/train-default-model/check-tfjs.mjs      # tfjs reloads it: default-predictions.json

writes
    resources/models/default.keras          the trained model, a Keras 3 archive
    resources/samples/*.png, labels.txt     8 held-out images (2 a class) and their masks
    tests/zoo/torch-predictions.json        PyTorch's probabilities on those samples
and prints the held-out accuracy (the committed model: 96.83 % on 600 held-out images, 8/8
samples; the run took 12 epochs, ~1-4 min each on this shared 2-core machine).

The model is a compact EfficientNet: the layer classes and names of keras.applications
(stem_conv, block1a_dwconv, ..., block5a_expand_conv, top_conv, avg_pool, predictions), fewer
blocks and channels, input 64x64x3 of raw 0-255 pixels (Rescaling inside, as in Keras). "same"
padding (TensorFlow's, uneven at stride 2) replaces Keras's ZeroPadding2D + "valid". PyTorch
trains it (tfjs's CPU backend needs minutes per batch for convolution gradients); the weights
are transposed into Keras's layouts and check-tfjs.mjs proves tfjs computes the same outputs.
"""
import datetime
import io
import json
import math
import os
import struct
import sys
import tempfile
import zipfile
import zlib

import h5py
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLASSES = ["circle", "square", "triangle", "cross"]
SIZE = 64
TRAIN_PER_CLASS, TEST_PER_CLASS = 600, 150
EPOCHS = 12

# ---------------------------------------------------------------- the image set

SQUARE = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.75
TRIANGLE = np.array([[math.cos(-math.pi / 2 + k * 2 * math.pi / 3),
                      math.sin(-math.pi / 2 + k * 2 * math.pi / 3)] for k in range(3)])
CROSS = np.array([[-0.3, -1], [0.3, -1], [0.3, -0.3], [1, -0.3], [1, 0.3], [0.3, 0.3], [0.3, 1],
                  [-0.3, 1], [-0.3, 0.3], [-1, 0.3], [-1, -0.3], [-0.3, -0.3]])
PY, PX = np.mgrid[0:SIZE, 0:SIZE] + 0.5


def inside_polygon(points):
    """Crossing rule over every pixel centre at once."""
    inside = np.zeros((SIZE, SIZE), bool)
    for i in range(len(points)):
        (xi, yi), (xj, yj) = points[i], points[i - 1]
        crosses = (yi > PY) != (yj > PY)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = (xj - xi) * (PY - yi) / (yj - yi) + xi
        inside ^= crosses & (PX < x_at)
    return inside


def make_image(rng, label):
    """A filled shape of one colour on a noisy two-colour gradient; returns (rgb, mask)."""
    bg_a, bg_b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    fg = rng.integers(0, 256, 3)
    for _ in range(20):  # keep the object visible against both background colours
        if np.linalg.norm(fg - bg_a) + np.linalg.norm(fg - bg_b) >= 220:
            break
        fg = rng.integers(0, 256, 3)
    r = 10 + rng.random() * 13
    cx = r + 2 + rng.random() * (SIZE - 2 * r - 4)
    cy = r + 2 + rng.random() * (SIZE - 2 * r - 4)
    angle, grad = rng.random() * 2 * math.pi, rng.random() * 2 * math.pi
    if label == 0:
        mask = np.hypot(PX - cx, PY - cy) <= r
    else:
        unit = [SQUARE, TRIANGLE, CROSS][label - 1]
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        mask = inside_polygon(np.array([cx, cy]) + r * unit @ rot.T)
    t = 0.5 + 0.5 * ((PX / SIZE - 0.5) * math.cos(grad) + (PY / SIZE - 0.5) * math.sin(grad))
    background = bg_a * (1 - t[..., None]) + bg_b * t[..., None]
    image = np.where(mask[..., None], fg, background) + (rng.random((SIZE, SIZE, 3)) - 0.5) * 40
    return np.clip(np.round(image), 0, 255).astype(np.uint8), (mask * 255).astype(np.uint8)


def make_set(seed, per_class):
    rng = np.random.default_rng(seed)
    labels = np.arange(per_class * len(CLASSES)) % len(CLASSES)
    pairs = [make_image(rng, int(label)) for label in labels]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), labels


# ---------------------------------------------------------------- the architecture

class Spec:
    """The functional graph, described once: PyTorch runs it, Keras 3 config and weights come
    from it. Layers are (name, class, options, input names), in call order."""

    def __init__(self, name, shape):
        self.name, self.shape = name, shape
        self.layers = [("input_layer", "InputLayer", {}, [])]
        self.shapes = {"input_layer": shape}

    def add(self, cls, name, options, inputs):
        assert name not in self.shapes, name
        self.layers.append((name, cls, options, inputs))
        s = self.shapes[inputs[0]]
        same = lambda n, stride: -(-n // stride)  # noqa: E731  ("same" padding)
        if cls in ("Conv2D", "DepthwiseConv2D"):
            stride = options.get("strides", 1)
            out = options["filters"] if cls == "Conv2D" else s[2]
            self.shapes[name] = [same(s[0], stride), same(s[1], stride), out]
        elif cls == "GlobalAveragePooling2D":
            self.shapes[name] = [s[2]]
        elif cls == "Reshape":
            self.shapes[name] = options["target_shape"]
        elif cls == "Dense":
            self.shapes[name] = [options["units"]]
        else:
            self.shapes[name] = list(s)
        return name


def efficientnet_shapes():
    m = Spec("efficientnet_shapes", [SIZE, SIZE, 3])
    x = m.add("Rescaling", "rescaling", {"scale": 1 / 255}, ["input_layer"])
    x = m.add("Conv2D", "stem_conv", {"filters": 16, "kernel_size": 3, "strides": 2,
                                      "use_bias": False}, [x])
    x = m.add("BatchNormalization", "stem_bn", {}, [x])
    x = m.add("Activation", "stem_activation", {"activation": "swish"}, [x])

    def block(inputs, name, f_in, f_out, kernel, stride, expand, drop):
        """The Keras EfficientNet block: expand, depthwise, squeeze-excite, project, skip."""
        filters = f_in * expand
        y = inputs
        if expand != 1:
            y = m.add("Conv2D", name + "expand_conv", {"filters": filters, "kernel_size": 1,
                                                       "use_bias": False}, [y])
            y = m.add("BatchNormalization", name + "expand_bn", {}, [y])
            y = m.add("Activation", name + "expand_activation", {"activation": "swish"}, [y])
        y = m.add("DepthwiseConv2D", name + "dwconv", {"kernel_size": kernel, "strides": stride},
                  [y])
        y = m.add("BatchNormalization", name + "bn", {}, [y])
        y = m.add("Activation", name + "activation", {"activation": "swish"}, [y])
        se = m.add("GlobalAveragePooling2D", name + "se_squeeze", {}, [y])
        se = m.add("Reshape", name + "se_reshape", {"target_shape": [1, 1, filters]}, [se])
        se = m.add("Conv2D", name + "se_reduce", {"filters": max(1, f_in // 4), "kernel_size": 1,
                                                  "activation": "swish"}, [se])
        se = m.add("Conv2D", name + "se_expand", {"filters": filters, "kernel_size": 1,
                                                  "activation": "sigmoid"}, [se])
        y = m.add("Multiply", name + "se_excite", {}, [y, se])
        y = m.add("Conv2D", name + "project_conv", {"filters": f_out, "kernel_size": 1,
                                                    "use_bias": False}, [y])
        y = m.add("BatchNormalization", name + "project_bn", {}, [y])
        if stride == 1 and f_in == f_out:
            y = m.add("Dropout", name + "drop", {"rate": drop}, [y])
            y = m.add("Add", name + "add", {}, [y, inputs])
        return y

    x = block(x, "block1a_", 16, 8, 3, 1, 1, 0)
    x = block(x, "block2a_", 8, 16, 3, 2, 6, 0)
    x = block(x, "block3a_", 16, 24, 5, 2, 6, 0)
    x = block(x, "block3b_", 24, 24, 5, 1, 6, 0.1)
    x = block(x, "block4a_", 24, 40, 3, 1, 6, 0)  # stride 1 keeps block5a at 8x8
    x = block(x, "block5a_", 40, 48, 5, 1, 6, 0)
    x = block(x, "block6a_", 48, 64, 5, 2, 6, 0)
    x = m.add("Conv2D", "top_conv", {"filters": 160, "kernel_size": 1, "use_bias": False}, [x])
    x = m.add("BatchNormalization", "top_bn", {}, [x])
    x = m.add("Activation", "top_activation", {"activation": "swish"}, [x])
    x = m.add("GlobalAveragePooling2D", "avg_pool", {}, [x])
    x = m.add("Dropout", "top_dropout", {"rate": 0.2}, [x])
    x = m.add("Dense", "predictions", {"units": len(CLASSES), "activation": "softmax"}, [x])
    return m, x


def tf_same_pad(x, kernel, stride):
    """TensorFlow's "same" padding: the odd pixel goes to the bottom and right."""
    pads = []
    for n in (x.shape[3], x.shape[2]):
        total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


ACTIVATIONS = {"linear": lambda t: t, "swish": F.silu, "sigmoid": torch.sigmoid,
               "softmax": lambda t: t}  # softmax: the loss takes logits


class Net(torch.nn.Module):
    """Runs a Spec in NCHW."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.mods = torch.nn.ModuleDict()
        for name, cls, o, inputs in spec.layers[1:]:
            c_in = spec.shapes[inputs[0]][-1]
            if cls == "Conv2D":
                self.mods[name] = torch.nn.Conv2d(c_in, o["filters"], o["kernel_size"],
                                                  o.get("strides", 1),
                                                  bias=o.get("use_bias", True))
            elif cls == "DepthwiseConv2D":
                self.mods[name] = torch.nn.Conv2d(c_in, c_in, o["kernel_size"], o["strides"],
                                                  groups=c_in, bias=False)
            elif cls == "BatchNormalization":
                self.mods[name] = torch.nn.BatchNorm2d(c_in, eps=1e-3, momentum=0.1)
            elif cls == "Dense":
                self.mods[name] = torch.nn.Linear(c_in, o["units"])
            elif cls == "Dropout":
                self.mods[name] = torch.nn.Dropout(o["rate"])

    def forward(self, images):  # uint8 NHWC -> logits
        values = {"input_layer": images.permute(0, 3, 1, 2).float()}
        for name, cls, o, inputs in self.spec.layers[1:]:
            x = values[inputs[0]]
            if cls == "Rescaling":
                y = x * o["scale"]
            elif cls in ("Conv2D", "DepthwiseConv2D"):
                mod = self.mods[name]
                y = mod(tf_same_pad(x, mod.kernel_size[0], mod.stride[0]))
                y = ACTIVATIONS[o.get("activation", "linear")](y)
            elif cls == "Activation":
                y = ACTIVATIONS[o["activation"]](x)
            elif cls == "GlobalAveragePooling2D":
                y = x.mean(dim=(2, 3))
            elif cls == "Reshape":
                y = x.reshape(x.shape[0], -1, 1, 1)
            elif cls == "Multiply":
                y = x * values[inputs[1]]
            elif cls == "Add":
                y = x + values[inputs[1]]
            else:
                y = self.mods[name](x)
            values[name] = y
        return values[self.spec.layers[-1][0]]


# ---------------------------------------------------------------- Keras 3 archive

DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
         "registered_name": None}


def initializer(cls, **config):
    return {"module": "keras.initializers", "class_name": cls, "config": config,
            "registered_name": None}


def keras_config(cls, o):
    """The full Keras 3 config of one layer (keys as Keras 3.x writes them)."""
    conv_init = initializer("VarianceScaling", scale=2.0, mode="fan_out",
                            distribution="truncated_normal", seed=None)
    nulls = {"kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
             "kernel_constraint": None, "bias_constraint": None}
    k, s = o.get("kernel_size", 1), o.get("strides", 1)
    if cls == "Rescaling":
        return {"scale": o["scale"], "offset": 0.0}
    if cls == "Conv2D":
        return {"filters": o["filters"], "kernel_size": [k, k], "strides": [s, s],
                "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
                "groups": 1, "activation": o.get("activation", "linear"),
                "use_bias": o.get("use_bias", True), "kernel_initializer": conv_init,
                "bias_initializer": initializer("Zeros"), **nulls}
    if cls == "DepthwiseConv2D":
        return {"kernel_size": [k, k], "strides": [s, s], "padding": "same",
                "data_format": "channels_last", "dilation_rate": [1, 1], "depth_multiplier": 1,
                "activation": "linear", "use_bias": False, "depthwise_initializer": conv_init,
                "bias_initializer": initializer("Zeros"), "depthwise_regularizer": None,
                "bias_regularizer": None, "activity_regularizer": None,
                "depthwise_constraint": None, "bias_constraint": None}
    if cls == "BatchNormalization":
        return {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
                "beta_initializer": initializer("Zeros"), "gamma_initializer": initializer("Ones"),
                "moving_mean_initializer": initializer("Zeros"),
                "moving_variance_initializer": initializer("Ones"), "beta_regularizer": None,
                "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None,
                "synchronized": False}
    if cls == "Activation":
        return {"activation": o["activation"]}
    if cls == "GlobalAveragePooling2D":
        return {"data_format": "channels_last", "keepdims": False}
    if cls == "Reshape":
        return {"target_shape": o["target_shape"]}
    if cls == "Dropout":
        return {"rate": o["rate"], "seed": None, "noise_shape": None}
    if cls == "Dense":
        return {"units": o["units"], "activation": o["activation"], "use_bias": True,
                "kernel_initializer": initializer("VarianceScaling", scale=1 / 3, mode="fan_out",
                                                  distribution="uniform", seed=None),
                "bias_initializer": initializer("Zeros"), **nulls}
    return {}  # Add, Multiply


def model_config(spec, output):
    def tensor(name):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, *spec.shapes[name]], "dtype": "float32",
                           "keras_history": [name, 0, 0]}}

    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, *spec.shape], "dtype": "float32",
                          "sparse": False, "name": "input_layer"},
               "registered_name": None, "name": "input_layer", "inbound_nodes": []}]
    for name, cls, o, inputs in spec.layers[1:]:
        args = [tensor(n) for n in inputs]
        shapes = [[None, *spec.shapes[n]] for n in inputs]
        layers.append({
            "module": "keras.layers", "class_name": cls,
            "config": {"name": name, "trainable": True, "dtype": DTYPE, **keras_config(cls, o)},
            "registered_name": None,
            "build_config": {"input_shape": shapes[0] if len(shapes) == 1 else shapes},
            "name": name,
            "inbound_nodes": [{"args": args if len(args) == 1 else [args], "kwargs": {}}]})
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": spec.name, "trainable": True, "layers": layers,
                       "input_layers": [["input_layer", 0, 0]],
                       "output_layers": [[output, 0, 0]],
                       # The class names travel with the model (Offshoot reads this key; Keras
                       # ignores it), so `offshoot run @default` names its classes.
                       "offshoot_class_names": CLASSES},
            "registered_name": "Functional", "build_config": {"input_shape": None},
            "compile_config": None}


def keras_weights(net, name, cls):
    """The layer's variables in Keras order and layout (HWIO kernels, (in, out) Dense)."""
    mod = net.mods[name] if name in net.mods else None
    t = lambda p: p.detach().cpu().numpy().astype(np.float32)  # noqa: E731
    if cls == "Conv2D":
        out = [t(mod.weight).transpose(2, 3, 1, 0)]
        return out + ([t(mod.bias)] if mod.bias is not None else [])
    if cls == "DepthwiseConv2D":
        return [t(mod.weight).transpose(2, 3, 0, 1)]
    if cls == "BatchNormalization":
        return [t(mod.weight), t(mod.bias), t(mod.running_mean), t(mod.running_var)]
    if cls == "Dense":
        return [t(mod.weight).T.copy(), t(mod.bias)]
    return []


def snake_case(cls):
    """Keras's naming.to_snake_case for the class names used here ("DepthwiseConv2D" ->
    "depthwise_conv2d")."""
    out = ""
    for i, ch in enumerate(cls):
        if ch.isupper() and i > 0 and not cls[i - 1].isdigit() and \
                (cls[i - 1].islower() or (i + 1 < len(cls) and cls[i + 1].islower())):
            out += "_"
        out += ch.lower()
    return out


def weight_keys(spec):
    """Keras 3 stores each layer of a model's `layers` list under its class in snake case,
    numbered on repeats (conv2d, conv2d_1, ...), never under the layer's own name."""
    used, keys = {}, {}
    for name, cls, _, _ in spec.layers[1:]:
        key = snake_case(cls)
        used[key] = used.get(key, -1) + 1
        keys[name] = key if used[key] == 0 else f"{key}_{used[key]}"
    return keys


def write_weights(f, spec, weights_of):
    layers = f.create_group("layers")
    for name, key in weight_keys(spec).items():
        group = layers.create_group(key).create_group("vars")
        group.attrs["name"] = name
        for i, w in enumerate(weights_of(name)):
            group.create_dataset(str(i), data=w)
    f.create_group("vars").attrs["name"] = spec.name


def save_keras(net, spec, output, path):
    classes = {name: cls for name, cls, _, _ in spec.layers}
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        write_weights(f, spec, lambda name: keras_weights(net, name, classes[name]))
    metadata = {"keras_version": "3.6.0",
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:  # Keras stores, not deflates
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("config.json", json.dumps(model_config(spec, output)))
        z.writestr("model.weights.h5", weights.getvalue())
    os.replace(tmp, path)


# ---------------------------------------------------------------- PNG

def write_png(path, pixels):
    """8-bit greyscale (H, W) or RGB (H, W, 3), filter 0 on every row."""
    h, w = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour,
                                                                    0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------- training

def accuracy(net, images, labels):
    net.eval()
    with torch.no_grad():
        logits = torch.cat([net(torch.from_numpy(images[i:i + 200]))
                            for i in range(0, len(images), 200)])
    return float((logits.argmax(1).numpy() == labels).mean())


def main():
    torch.manual_seed(20261127)
    torch.set_num_threads(1)
    train_x, _, train_y = make_set(20261127, TRAIN_PER_CLASS)
    test_x, test_masks, test_y = make_set(777, TEST_PER_CLASS)
    spec, output = efficientnet_shapes()
    net = Net(spec)
    print(f"layers: {len(spec.layers)}, params: "
          f"{sum(p.numel() for p in net.parameters()) + sum(b.numel() for b in net.buffers() if b.dtype == torch.float32)}")
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
    steps = EPOCHS * math.ceil(len(train_x) / 32)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps, eta_min=5e-5)
    order_rng = np.random.default_rng(1)
    for epoch in range(EPOCHS):
        net.train()
        order = order_rng.permutation(len(train_x))
        total = 0.0
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            loss = F.cross_entropy(net(torch.from_numpy(train_x[idx])),
                                   torch.from_numpy(train_y[idx]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss) * len(idx)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(order):.4f}, "
              f"held-out accuracy {accuracy(net, test_x, test_y):.4f}", flush=True)
    held_out = accuracy(net, test_x, test_y)
    print(f"held-out accuracy: {held_out * 100:.2f} % on {len(test_x)} images")

    samples_dir = os.path.join(ROOT, "resources", "samples")
    os.makedirs(samples_dir, exist_ok=True)
    samples = []
    net.eval()
    for c, cls in enumerate(CLASSES):
        for k in range(2):
            i = c + k * len(CLASSES)
            base = f"{cls}-{k + 1}"
            write_png(os.path.join(samples_dir, base + ".png"), test_x[i])
            write_png(os.path.join(samples_dir, base + "-mask.png"), test_masks[i])
            with torch.no_grad():
                p = torch.softmax(net(torch.from_numpy(test_x[i:i + 1])), 1)[0]
            samples.append({"file": base + ".png", "mask": base + "-mask.png", "label": c,
                            "probabilities": [float(v) for v in p]})
    with open(os.path.join(samples_dir, "labels.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    with open(os.path.join(ROOT, "tests", "zoo", "torch-predictions.json"), "w") as f:
        json.dump({"classes": CLASSES, "input": "raw RGB 0-255, 64x64",
                   "held_out_accuracy": held_out, "held_out_images": len(test_x),
                   "samples": samples}, f, indent=1)
        f.write("\n")
    models_dir = os.path.join(ROOT, "resources", "models")
    os.makedirs(models_dir, exist_ok=True)
    save_keras(net, spec, output, os.path.join(models_dir, "default.keras"))
    print(f"wrote {os.path.join(models_dir, 'default.keras')}")
    return 0 if held_out >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
