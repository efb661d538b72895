#!/usr/bin/python3
"""Time per epoch of the seed head on cached features: `offshoot fit` against Debian's PyTorch.

    /usr/bin/python3 tools/train-bench.py [BUILD/app/offshoot] [--pictures N] [--epochs E]

Both sides train the same head (Conv2D 3×3 240→128 same, BatchNormalization, ReLU, Conv2D
1×1 → 1, binary cross-entropy on logits, Adam, batch 32) on the same number of 8×8×240 feature
maps, one thread each (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)). Offshoot's epoch times
come from `fit --json` (the "seconds" of each epoch, feature extraction excluded); PyTorch's are
measured here. Prints both medians, their ratio, and the same for the CPU time. Not a test: a
shared machine stretches the clock, so read the ratio, not the seconds."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def main():
    args = sys.argv[1:]
    binary = args.pop(0) if args and not args[0].startswith("--") else \
        os.path.join(ROOT, "build", "app", "offshoot")
    n, epochs = 320, 6
    while args:
        flag, value = args.pop(0), int(args.pop(0))
        n, epochs = (value, epochs) if flag == "--pictures" else (n, value)
    data = tempfile.mkdtemp(prefix="osh-train-bench-")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "train", "make-shapes.py"), data,
                    "masks", str(n), "11"], check=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([binary, "fit", "@default", "--attach", "block5a_expand_conv=seg",
                        "--data", data, "-o", os.path.join(data, "out.keras"), "--epochs",
                        str(epochs), "--val-split", "0", "--threads", "1", "--json"],
                       capture_output=True, text=True, env=env, check=True)
    history = json.loads(r.stdout)["history"]
    ours = statistics.median(h["seconds"] for h in history[1:])
    ours_cpu = statistics.median(h["cpu_seconds"] for h in history[1:])

    torch.set_num_threads(1)
    torch.manual_seed(0)
    feats = torch.randn(n, 240, 8, 8)
    masks = (torch.rand(n, 1, 8, 8) > 0.5).float()
    head = torch.nn.Sequential(torch.nn.Conv2d(240, 128, 3, padding=1),
                               torch.nn.BatchNorm2d(128, eps=1e-3, momentum=0.01),
                               torch.nn.ReLU(), torch.nn.Conv2d(128, 1, 1))
    opt = torch.optim.Adam(head.parameters(), lr=1e-3, eps=1e-7)
    times, cpus = [], []
    for _ in range(epochs):
        t0, c0 = time.perf_counter(), time.thread_time()
        order = torch.randperm(n)
        for at in range(0, n, 32):
            idx = order[at:at + 32]
            loss = F.binary_cross_entropy_with_logits(head(feats[idx]), masks[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        cpus.append(time.thread_time() - c0)
    theirs, theirs_cpu = statistics.median(times[1:]), statistics.median(cpus[1:])
    print(f"{n} pictures of 8x8x240 features, batch 32, one thread, median of {epochs - 1} epochs")
    print(f"  offshoot fit: {ours * 1e3:8.1f} ms per epoch ({ours_cpu * 1e3:.1f} ms CPU)")
    print(f"  PyTorch {torch.__version__}: {theirs * 1e3:8.1f} ms per epoch "
          f"({theirs_cpu * 1e3:.1f} ms CPU)")
    print(f"  ratio offshoot / PyTorch: {ours / theirs:.2f} wall, {ours_cpu / theirs_cpu:.2f} CPU")


main()
