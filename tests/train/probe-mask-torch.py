#!/usr/bin/python3
"""Repeats `offshoot probe --masks`'s recipe (engine/train/osh-probe.h, mask probes) with PyTorch
on what `offshoot probe --masks --save-features DIR` wrote:

    probe-mask-torch.py DIR N_TRAIN LAYER...

LAYER... are the probed layers in the run's order (a layer's index seeds its positions). Each
DIR/LAYER.npy is (n, h, w, c), masks.npy (n, mh, mw), both in split order. Targets: the masks
area-averaged to h × w (adaptive average pooling: exact when the sizes divide, as here), at ≥ 0.5;
training rows: 256 positions per training picture from the recipe's splitmix64 stream (seed 1 +
index; every position when the map has no more); channels standardised; w, b from zero; 300
full-batch Adam steps (lr 0.01, decay 1e-3 on w) on the mean sigmoid cross-entropy. Validation:
every pixel of each validation mask takes its position's logit (nearest). Prints {"layer": IoU}
as JSON. Exits 77 (skip) without numpy or torch."""
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

MASK = (1 << 64) - 1


def splitmix64(state):
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & MASK
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def fit(feat, masks, n_train, index, positions=256, epochs=300, lr=0.01, l2=1e-3, seed=1):
    n, h, w, c = feat.shape
    hw = h * w
    per = min(hw, positions)
    small = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(masks[:n_train])[:, None],
                                                    (h, w))[:, 0].reshape(n_train, hw).numpy()
    state = [seed + index]
    rows, ys = [], []
    for i in range(n_train):
        for k in range(per):
            p = k if per == hw else splitmix64(state) % hw
            rows.append(feat[i].reshape(hw, c)[p])
            ys.append(1.0 if small[i, p] >= 0.5 else 0.0)
    x = torch.from_numpy(np.array(rows, dtype=np.float64))
    mean, sd = x.mean(0), x.std(0, unbiased=False)
    ok = sd > 1e-12
    safe = torch.where(ok, sd, torch.ones_like(sd))
    x = torch.where(ok, (x - mean) / safe, torch.zeros_like(x)).float()
    y = torch.tensor(ys)
    wv = torch.zeros(c, requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.Adam([{"params": [wv], "weight_decay": l2},
                            {"params": [b], "weight_decay": 0.0}],
                           lr=lr, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ wv + b, y)
        loss.backward()
        opt.step()
    with torch.no_grad():
        v = torch.from_numpy(feat[n_train:].astype(np.float64))
        v = torch.where(ok, (v - mean) / safe, torch.zeros_like(v)).float()
        logits = v @ wv + b  # (n_val, h, w)
        mh, mw = masks.shape[1:]
        ys_idx = torch.arange(mh) * h // mh
        xs_idx = torch.arange(mw) * w // mw
        up = logits[:, ys_idx][:, :, xs_idx]
        pred = up > 0
        truth = torch.from_numpy(masks[n_train:]) >= 0.5
        inter = (pred & truth).sum().item()
        union = (pred | truth).sum().item()
        return inter / union if union else 1.0


def main():
    folder, n_train, layers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    masks = np.load(os.path.join(folder, "masks.npy"))
    out = {}
    for index, layer in enumerate(layers):
        path = os.path.join(folder, layer.replace("/", ".") + ".npy")
        if os.path.exists(path):
            out[layer] = fit(np.load(path), masks, n_train, index)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
