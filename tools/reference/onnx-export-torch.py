#!/usr/bin/python3
"""Exports PyTorch models to ONNX for Offshoot's ONNX tests and benchmarks (Debian python3-torch).

    tools/reference/onnx-export-torch.py fixtures OUTDIR [NAME...]
                                                           small models covering the ONNX ops,
                                                           committed under tests/onnx/fixtures/
                                                           (only the NAMEs given, else all)
    tools/reference/onnx-export-torch.py bench OUTDIR      torchvision ResNet-18, EfficientNet-B0,
                                                           MobileNetV2 at 224x224 (not committed)

BatchNormalization is kept (training=PRESERVE, no constant folding) and every model gets random
but non-degenerate weights and BN statistics, so reference outputs mean something (NOTES.md).
Each model is written as NAME.onnx with NAME.input.npy (seeded) and NAME.torch.npy (PyTorch's
output, a second opinion; the reference the tests use is ONNX Runtime's, see onnx-ort-reference.mjs).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.copy_(1 + 0.2 * (torch.rand(m.weight.shape, generator=g) - 0.5))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.8 + 0.4 * torch.rand(m.running_var.shape, generator=g))
            elif isinstance(m, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.05 * torch.randn(m.bias.shape, generator=g))
    return model.eval()


class OpsNet(nn.Module):
    """Convolutions of every kind torchvision uses, BN, activations, residuals, SE, pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.dw_bn = nn.BatchNorm2d(16)
        self.se_reduce = nn.Conv2d(16, 4, 1)
        self.se_expand = nn.Conv2d(4, 16, 1)
        self.pw = nn.Conv2d(16, 24, 1, bias=False)
        self.grouped = nn.Conv2d(24, 24, 3, padding=2, dilation=2, groups=4)
        self.down = nn.Conv2d(24, 32, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(32, 8, 2, stride=2)
        self.fc = nn.Linear(32 + 8, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        y = F.hardswish(self.dw_bn(self.dw(x)))
        s = F.adaptive_avg_pool2d(y, 1)
        s = torch.sigmoid(self.se_expand(F.relu(self.se_reduce(s))))
        y = y * s + x
        y = F.relu6(self.pw(y))
        y = y + self.grouped(y)
        y = F.max_pool2d(y, 3, stride=1, padding=1)
        z = F.leaky_relu(self.down(y), 0.1)
        u = F.interpolate(self.up(z), scale_factor=0.5, mode="nearest")
        v = torch.cat([F.avg_pool2d(z, 2), F.avg_pool2d(u, 2)], dim=1)
        v = torch.flatten(F.adaptive_avg_pool2d(torch.tanh(v), 1), 1)
        return F.softmax(self.fc(v), dim=1)


class SegNet(nn.Module):
    """A two-output model: a class label and a 1-channel spatial map (what Offshoot displays)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.SiLU())
        self.cls = nn.Linear(16, 4)
        self.seg = nn.Conv2d(16, 1, 1)

    def forward(self, x):
        f = self.body(x)
        return self.cls(torch.flatten(F.adaptive_avg_pool2d(f, 1), 1)), torch.sigmoid(
            F.interpolate(self.seg(f), scale_factor=2.0, mode="bilinear", align_corners=False))


class DecodeNet(nn.Module):
    """What keypoint and box decoders do after the network: ArgMax with and without keepdims,
    TopK (largest along the last axis; smallest along the channels), a heatmap compared with its
    max-pooled self, logic on the masks, Where, fmod, a one-hot of the peaks, and a constant
    output (a Constant node's value is the graph output)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        h = self.conv(x)
        flat = h.reshape(1, 4, 30)
        peak = torch.argmax(flat, dim=2)
        best = torch.argmax(h, dim=1, keepdim=True)
        values, indices = torch.topk(flat, 5, dim=2)
        lows, low_indices = torch.topk(h, 3, dim=1, largest=False)
        keep = F.max_pool2d(h, 3, stride=1, padding=1) == h
        mask = (keep & (h > 0)) | ((h < -0.2) ^ keep)
        kept = torch.where(~mask, h, torch.zeros_like(h))
        onehot = F.one_hot(peak, num_classes=flat.shape[2]).float()
        return (peak.float(), best.float(), values, indices.float(), lows, low_indices.float(),
                kept, torch.fmod(h * 7, 3.0), onehot, torch.tensor([1.5, -2.0, 3.0]))


def export(model, shape, path, seed, output_names=None):
    x = torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32))
    with torch.no_grad():
        outs = model(x)
    outs = outs if isinstance(outs, tuple) else (outs,)
    names = output_names or [f"output_{i}" for i in range(len(outs))]
    torch.onnx.export(model, x, path + ".onnx", input_names=["input"], output_names=names,
                      opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    np.save(path + ".input.npy", x.numpy())
    for name, o in zip(names, outs):
        np.save(f"{path}.torch.{name}.npy", o.numpy())
    print(path + ".onnx", os.path.getsize(path + ".onnx"), "bytes")


def main():
    mode, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    if mode == "fixtures":
        fixtures = {
            "opsnet": lambda: export(randomize(OpsNet(), 1), (1, 3, 32, 32),
                                     os.path.join(out, "opsnet"), 11),
            "segnet": lambda: export(randomize(SegNet(), 2), (1, 3, 24, 24),
                                     os.path.join(out, "segnet"), 12, ["label", "mask"]),
            "mobilenet_v3_small_x025": lambda: export(
                randomize(torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=16),
                          3), (1, 3, 64, 64), os.path.join(out, "mobilenet_v3_small_x025"), 13),
            "decodenet": lambda: export(
                randomize(DecodeNet(), 4), (1, 3, 6, 5), os.path.join(out, "decodenet"), 14,
                ["peak", "best", "values", "indices", "lows", "low_indices", "kept", "fmod",
                 "onehot", "constant"]),
        }
        for name in sys.argv[3:] or fixtures:
            fixtures[name]()
    elif mode == "bench":
        for name, ctor in [("resnet18", torchvision.models.resnet18),
                           ("efficientnet_b0", torchvision.models.efficientnet_b0),
                           ("mobilenet_v2", torchvision.models.mobilenet_v2),
                           ("mobilenet_v3_small", torchvision.models.mobilenet_v3_small)]:
            export(randomize(ctor(), 7), (1, 3, 224, 224), os.path.join(out, name), 21)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
