#!/usr/bin/python3
"""Repeats `offshoot probe`'s linear-probe recipe (engine/train/osh-probe.h) with PyTorch on the
features `offshoot probe --save-features DIR` wrote:

    probe-torch.py DIR N_TRAIN [EPOCHS LR L2]

prints {"layer file name": validation accuracy, ...} as JSON. Rows are in split order (the
first N_TRAIN train); features standardised with the training rows' mean and population
standard deviation; logits = x·W + b from zeros; full-batch Adam (β 0.9/0.999, ε 1e-8) on the
mean cross-entropy with weight decay on W only. Exits 77 (skip) without numpy or torch."""
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)


def fit(x, y, n_train, classes, epochs, lr, l2):
    x = torch.from_numpy(x.astype(np.float64))
    mean = x[:n_train].mean(0)
    sd = x[:n_train].std(0, unbiased=False)
    x = torch.where(sd > 1e-12, (x - mean) / torch.where(sd > 1e-12, sd, 1.0),
                    torch.zeros_like(x)).float()
    y = torch.from_numpy(y.astype(np.int64))
    w = torch.zeros(x.shape[1], classes, requires_grad=True)
    b = torch.zeros(classes, requires_grad=True)
    opt = torch.optim.Adam([{"params": [w], "weight_decay": l2},
                            {"params": [b], "weight_decay": 0.0}],
                           lr=lr, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x[:n_train] @ w + b, y[:n_train])
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = (x[n_train:] @ w + b).argmax(1)
        return float((pred == y[n_train:]).float().mean())


def main():
    folder, n_train = sys.argv[1], int(sys.argv[2])
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    lr = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
    l2 = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-3
    torch.manual_seed(0)
    y = np.load(os.path.join(folder, "labels.npy")).astype(np.int64)
    classes = int(y.max()) + 1
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".npy") and name != "labels.npy":
            x = np.load(os.path.join(folder, name))
            out[name[:-4]] = fit(x, y, n_train, classes, epochs, lr, l2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
