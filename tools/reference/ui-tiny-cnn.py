#!/usr/bin/python3
"""Writes tests/ui/fixtures/tiny-cnn.onnx: a small residual CNN with two outputs (a 4-class
softmax and a 1-channel spatial map) for the window tests. Deterministic (seeded); BatchNorm
kept (not folded) so the graph has the layer kinds a user sees.

    /usr/bin/python3 tools/reference/ui-tiny-cnn.py tests/ui/fixtures/tiny-cnn.onnx
"""
import sys

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv_a = nn.Conv2d(c, c, 3, padding=1)
        self.bn_a = nn.BatchNorm2d(c)
        self.conv_b = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv_b(torch.relu(self.bn_a(self.conv_a(x)))))


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.block1 = Block(8)
        self.block2 = Block(8)
        self.spatial = nn.Conv2d(8, 1, 1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.block2(self.block1(torch.relu(self.stem(x))))
        label = torch.softmax(self.fc(x.mean(dim=(2, 3))), dim=1)
        return label, torch.sigmoid(self.spatial(x))


torch.manual_seed(7)
model = TinyCnn().eval()
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
torch.onnx.export(model, torch.zeros(1, 3, 32, 32), sys.argv[1], input_names=["image"],
                  output_names=["label", "spatial"], opset_version=13,
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
