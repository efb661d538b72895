"""Exports a torchvision segmentation model (or a small model with PyTorch's shape idioms) to
ONNX with open height and width, for tests/onnx/test_onnx_torchvision.py.

    /usr/bin/python3 torchvision_export.py NAME OUT.onnx

NAME: fcn_resnet50, deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large (random weights:
nothing can be downloaded here; BatchNorm statistics are randomised too, so the outputs are not
flat), or shape_idioms: `F.interpolate(size=x.shape[2:])`, `x.view(x.size(0), -1)` and a size
computed by integer division,
`torch.arange(x.shape[3])` and `torch.ones(x.shape)`; shape_idioms_open_batch: the same with only
the batch open (1 × 3 × 64 × 80 otherwise), so the sizes those idioms read are the batch's."""
import sys

import torch
import torch.nn.functional as F
import torchvision.models.segmentation as seg


class ShapeIdioms(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        half = F.interpolate(y, size=(x.shape[2] // 2, x.shape[3] // 3), mode="nearest")
        back = F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)
        ramp = torch.arange(x.shape[3], dtype=torch.float32) * 0.01  # Range
        bias = torch.ones(x.shape[0], 1, x.shape[2], x.shape[3]) * 0.5  # ConstantOfShape
        back = back + ramp + bias
        pooled = F.adaptive_avg_pool2d(half, 1)
        logits = self.fc(pooled.view(pooled.size(0), -1))
        return back * logits.sum(), logits


class OutOnly(torch.nn.Module):
    """The segmentation models return a dict; the export takes its "out" tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(name):
    if name.startswith("shape_idioms"):
        return ShapeIdioms(), ["out", "logits"]
    model = getattr(seg, name)(weights=None, weights_backbone=None, num_classes=6)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return OutOnly(model), ["out"]


def main():
    name, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    model, outputs = build(name)
    model.eval()
    if name == "shape_idioms_open_batch":
        axes = {n: {0: "batch"} for n in ["image", *outputs]}
    else:
        axes = {"image": {2: "height", 3: "width"}}
        axes.update({o: {2: "height", 3: "width"} for o in outputs if o == "out"})
    with torch.no_grad():
        torch.onnx.export(model, torch.randn(1, 3, 64, 80), out, input_names=["image"],
                          output_names=outputs, dynamic_axes=axes, opset_version=13)


if __name__ == "__main__":
    main()
