#!/usr/bin/python3
"""Time per epoch of the seed head on cached features: `offshoot fit` against Debian's PyTorch.

    /usr/bin/python3 tools/train-bench.py [BINARY ...] [--pictures N] [--epochs E] [--rounds R]

Both sides train the same head (Conv2D 3×3 240→128 same, BatchNormalization, ReLU, Conv2D
1×1 → 1, binary cross-entropy on logits, Adam, batch 32) on the same number of 8×8×240 feature
maps, one thread each (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)). Offshoot's epoch times
come from `fit --json` (the "seconds" of each epoch, feature extraction excluded); PyTorch's are
measured here. Each round times PyTorch, then each BINARY (default build/app/offshoot) in turn,
so two builds given together (before and after a change) alternate under the same load; the
ratios are taken within a round, and their medians over the rounds printed, wall and CPU.
OFFSHOOT_ISA in the environment reaches the binaries (the engine's kernel path; the products
are OpenBLAS's either way). Not a test: a shared machine stretches the clock, so read the
ratios, not the seconds."""
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


def offshoot_epoch(binary, data, epochs):
    """Median seconds (wall, CPU) of the epochs after the first."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([binary, "fit", "@default", "--attach", "block5a_expand_conv=seg",
                        "--data", data, "-o", os.path.join(data, "out.keras"), "--epochs",
                        str(epochs), "--val-split", "0", "--threads", "1", "--json"],
                       capture_output=True, text=True, env=env, check=True)
    history = json.loads(r.stdout)["history"]
    return (statistics.median(h["seconds"] for h in history[1:]),
            statistics.median(h["cpu_seconds"] for h in history[1:]))


def torch_epoch(n, epochs):
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
    return statistics.median(times[1:]), statistics.median(cpus[1:])


def main():
    args = sys.argv[1:]
    binaries = []
    while args and not args[0].startswith("--"):
        binaries.append(args.pop(0))
    binaries = binaries or [os.path.join(ROOT, "build", "app", "offshoot")]
    n, epochs, rounds = 320, 6, 1
    while args:
        flag, value = args.pop(0), int(args.pop(0))
        if flag == "--pictures":
            n = value
        elif flag == "--epochs":
            epochs = value
        elif flag == "--rounds":
            rounds = value
        else:
            sys.exit(f"train-bench: unknown option {flag}")
    data = tempfile.mkdtemp(prefix="osh-train-bench-")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "train", "make-shapes.py"), data,
                    "masks", str(n), "11"], check=True)
    theirs, ours = [], {b: [] for b in binaries}
    for _ in range(rounds):
        theirs.append(torch_epoch(n, epochs))
        for b in binaries:
            ours[b].append(offshoot_epoch(b, data, epochs))
    med = statistics.median
    print(f"{n} pictures of 8x8x240 features, batch 32, one thread, median of {epochs - 1} "
          f"epochs, {rounds} round(s)")
    print(f"  PyTorch {torch.__version__}: {med(t[0] for t in theirs) * 1e3:8.1f} ms per epoch "
          f"({med(t[1] for t in theirs) * 1e3:.1f} ms CPU)")
    for b in binaries:
        wall = med(o[0] / t[0] for o, t in zip(ours[b], theirs))
        cpu = med(o[1] / t[1] for o, t in zip(ours[b], theirs))
        print(f"  offshoot fit ({b}): {med(o[0] for o in ours[b]) * 1e3:8.1f} ms per epoch "
              f"({med(o[1] for o in ours[b]) * 1e3:.1f} ms CPU)")
        print(f"    ratio offshoot / PyTorch: {wall:.2f} wall, {cpu:.2f} CPU")


main()
