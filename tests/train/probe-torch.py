#!/usr/bin/python3
"""Repeats `offshoot probe`'s linear-probe recipe (engine/train/osh-probe.h) with PyTorch on the
features `offshoot probe --save-features DIR` wrote:

    probe-torch.py DIR N_TRAIN [EPOCHS LR L2] [--hidden H --seed S]

prints {"layer file name": validation accuracy, ...} as JSON. Rows are in split order (the
first N_TRAIN train); features standardised with the training rows' mean and population
standard deviation; logits = x·W + b from zeros; full-batch Adam (β 0.9/0.999, ε 1e-8) on the
mean cross-entropy with weight decay on W only. With --hidden H, the MLP probe (`--head mlp`):
logits = relu(x·W1 + b1)·W2 + b2, W1 and W2 Glorot-uniform from the recipe's splitmix64 stream
(reimplemented here, so both start from the same numbers), decay on W1 and W2. Exits 77 (skip) without numpy or torch."""
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)


def standardised(x, n_train):
    """The rows scaled by the training rows' mean and population sd; a constant feature is 0."""
    x = torch.from_numpy(x.astype(np.float64))
    mean = x[:n_train].mean(0)
    sd = x[:n_train].std(0, unbiased=False)
    return torch.where(sd > 1e-12, (x - mean) / torch.where(sd > 1e-12, sd, 1.0),
                       torch.zeros_like(x)).float()


def fit(x, y, n_train, classes, epochs, lr, l2):
    x = standardised(x, n_train)
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


MASK = (1 << 64) - 1


def glorot(fan_in, fan_out, state):
    """engine/train/osh-probe.c's glorot_fill: splitmix64 draws, top 24 bits, ±limit."""
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    out = np.empty(fan_in * fan_out, dtype=np.float32)
    for i in range(out.size):
        state[0] = (state[0] + 0x9E3779B97F4A7C15) & MASK
        z = state[0]
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        out[i] = (2.0 * (z >> 40) / 16777216.0 - 1.0) * limit
    return torch.from_numpy(out.reshape(fan_in, fan_out))


def fit_mlp(x, y, n_train, classes, epochs, lr, l2, hidden, seed):
    x = standardised(x, n_train)
    y = torch.from_numpy(y.astype(np.int64))
    state = [seed]
    w1 = glorot(x.shape[1], hidden, state).requires_grad_()
    w2 = glorot(hidden, classes, state).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    b2 = torch.zeros(classes, requires_grad=True)
    opt = torch.optim.Adam([{"params": [w1, w2], "weight_decay": l2},
                            {"params": [b1, b2], "weight_decay": 0.0}],
                           lr=lr, betas=(0.9, 0.999), eps=1e-8)

    def logits(rows):
        return torch.relu(rows @ w1 + b1) @ w2 + b2

    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits(x[:n_train]), y[:n_train])
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = logits(x[n_train:]).argmax(1)
        return float((pred == y[n_train:]).float().mean())


def main():
    args = sys.argv[1:]
    hidden = seed = None
    if "--hidden" in args:
        at = args.index("--hidden")
        hidden = int(args[at + 1])
        del args[at:at + 2]
    if "--seed" in args:
        at = args.index("--seed")
        seed = int(args[at + 1])
        del args[at:at + 2]
    folder, n_train = args[0], int(args[1])
    epochs = int(args[2]) if len(args) > 2 else 300
    lr = float(args[3]) if len(args) > 3 else 0.01
    l2 = float(args[4]) if len(args) > 4 else 1e-3
    torch.manual_seed(0)
    y = np.load(os.path.join(folder, "labels.npy")).astype(np.int64)
    classes = int(y.max()) + 1
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".npy") and name != "labels.npy":
            x = np.load(os.path.join(folder, name))
            out[name[:-4]] = (fit_mlp(x, y, n_train, classes, epochs, lr, l2, hidden,
                                      1 if seed is None else seed) if hidden
                              else fit(x, y, n_train, classes, epochs, lr, l2))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
