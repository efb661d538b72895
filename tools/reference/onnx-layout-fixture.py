#!/usr/bin/python3
"""Exports the small ONNX model the layout tests run (tests/onnx/test-onnx-layout.c): steps that
can run channels-last (convolutions, depthwise too, activations, Resize, a squeeze-excite Mul,
pooling, Concat) mixed with steps that cannot (the Pad before an AveragePool that counts its
padding, Softmax over channels), with an intermediate output (`gated`) kept.

    tools/reference/onnx-layout-fixture.py OUTDIR     writes layoutnet.onnx, .input.npy, .torch.*.npy

The ONNX Runtime reference is then made by tools/reference/onnx-ort-reference.mjs OUTDIR.
Uses the exporter's helpers (onnx-export-torch.py: random non-degenerate weights, BN kept).
"""
import importlib.util
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

spec = importlib.util.spec_from_file_location(
    "export_torch", os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx-export-torch.py"))
export_torch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export_torch)


class LayoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.mid = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.se = nn.Conv2d(32, 32, 1)
        self.side = nn.Conv2d(32, 16, 1)
        self.tail = nn.Conv2d(16, 16, 3, padding=1)
        self.gain = nn.Parameter(torch.linspace(0.5, 1.5, 16).reshape(16, 1, 1))
        self.fc = nn.Linear(32 + 16 + 16 + 16 + 16, 5)

    def forward(self, x):
        a = F.relu(self.stem(x))                                  # NHWC-capable
        b = F.interpolate(a, scale_factor=0.5, mode="nearest")    # Resize, both modes
        b = b + F.interpolate(a, scale_factor=0.5, mode="bilinear", align_corners=False)
        c = self.mid(F.max_pool2d(a, 2, stride=2)) + self.mid(b)  # pooling, conv, Add
        d = torch.sigmoid(self.dw(c))                             # depthwise
        s = torch.sigmoid(self.se(F.adaptive_avg_pool2d(d, 1)))   # [N, C, 1, 1] gate
        e = d * s                                                 # squeeze-excite Mul
        h = self.side(c) * self.gain + 0.25                      # constants fold into the conv
        h = h * torch.clamp(h + 3, 0, 6) / 6 * 1.5 - 0.1         # HardSwish as PaddleOCR writes it
        f = torch.cat([e, F.hardswish(self.side(e)),
                       F.avg_pool2d(h, 3, 1, 1, count_include_pad=False),  # channels-last
                       F.avg_pool2d(h, 3, 1, 1),                         # Pad: NCHW only
                       # a convolution between two channels-first steps stays channels-first
                       torch.softmax(self.tail(torch.softmax(h, 1)), 1)], 1)
        g = torch.flatten(F.adaptive_avg_pool2d(f, 1), 1)
        return self.fc(g), e


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    export_torch.export(export_torch.randomize(LayoutNet(), 5), (1, 3, 20, 20),
                        os.path.join(out, "layoutnet"), 15, ["logits", "gated"])


if __name__ == "__main__":
    main()
