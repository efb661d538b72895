#!/usr/bin/python3
"""How fast Offshoot opens a big model, beside yardsticks measured in the same run (issue 18).

    tools/open-bench.py [--offshoot build/app/offshoot] [--model b7.keras] [--runs 3] [--no-run]

Without --model, EfficientNetB7 is written by `offshoot zoo` into a temporary folder. Every
command runs --runs times, interleaved with its yardstick, and the best run counts (the machine
is shared; the best run is the one least disturbed). Printed:
  - time to graph: `offshoot inspect` (graph and weight shapes, no values) and its peak memory
  - time to all weights: `offshoot inspect --weights`, beside Debian's h5py reading every
    dataset of the same model.weights.h5 (extracted from the archive beforehand)
  - render: `offshoot render -o .dot` and `-o .svg`, beside graphviz's `dot -Tsvg` and
    `dot -Txdot` on the DOT that Offshoot exports for the same graph
  - one run of the model (`offshoot bench --runs 1`): its peak memory beside the weights' size
Peak memory is /usr/bin/time's maximum resident set size; CPU is user + system time of the
command and its children (the HDF5 guard's child among them), which a busy machine disturbs
less than the wall-clock time. A benchmark, not a test: it asserts nothing."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

H5PY_READ = """
import sys, h5py
def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
        obj[()]
with h5py.File(sys.argv[1], "r") as f:
    f.visititems(visit)
"""


def timed(command):
    """(wall seconds, peak resident MB, CPU seconds) of one run; fails loudly when the command
    fails."""
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *command], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({r.returncode}):\n{r.stderr}")
    peak_kb, user, system = re.findall(r"^(\d+) ([\d.]+) ([\d.]+)$", r.stderr, re.M)[-1]
    return wall, int(peak_kb) / 1024, float(user) + float(system)


def best(runs, *commands):
    """Each command run `runs` times, interleaved; the best (wall, peak, CPU) of each."""
    results = [[] for _ in commands]
    for _ in range(runs):
        for i, c in enumerate(commands):
            results[i].append(timed(c))
    return [(min(x[0] for x in r), min(x[1] for x in r), min(x[2] for x in r)) for r in results]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--offshoot", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                       "app", "offshoot"))
    ap.add_argument("--model", help="a .keras file (default: EfficientNetB7 from offshoot zoo)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-run", action="store_true", help="skip running the model (slow)")
    a = ap.parse_args()
    osh = os.path.abspath(a.offshoot)
    tmp = tempfile.mkdtemp(prefix="osh-open-bench-")
    try:
        model = a.model
        if not model:
            model = os.path.join(tmp, "b7.keras")
            subprocess.run([osh, "zoo", "EfficientNetB7", "-o", model], check=True,
                           stdout=subprocess.DEVNULL)
        with zipfile.ZipFile(model) as z:
            z.extract("model.weights.h5", tmp)
        weights_h5 = os.path.join(tmp, "model.weights.h5")
        script = os.path.join(tmp, "h5py_read.py")
        with open(script, "w") as f:
            f.write(H5PY_READ)
        dot, svg, dot_svg, xdot = (os.path.join(tmp, n) for n in
                                   ("b7.dot", "b7.svg", "dot.svg", "b7.xdot"))
        subprocess.run([osh, "render", model, "-o", dot], check=True, stdout=subprocess.DEVNULL)
        # Warm the page cache for everyone alike.
        for path in (model, weights_h5):
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass

        (graph, graph_mb, graph_cpu), = best(a.runs, [osh, "inspect", model])
        (weights, weights_mb, weights_cpu), (h5py, h5py_mb, h5py_cpu) = best(
            a.runs, [osh, "inspect", "--weights", model], ["/usr/bin/python3", script, weights_h5])
        (r_dot, _, _), (r_svg, svg_mb, _), (d_svg, _, _), (d_xdot, _, _) = best(
            a.runs, [osh, "render", model, "-o", dot + ".again.dot"], [osh, "render", model, "-o", svg],
            ["dot", "-Tsvg", dot, "-o", dot_svg], ["dot", "-Txdot", dot, "-o", xdot])

        size_mb = os.path.getsize(model) / 2**20
        print(f"model: {model} ({size_mb:.0f} MB), best of {a.runs} runs, "
              f"load average {os.getloadavg()[0]:.1f}")
        rows = [
            ("time to graph (inspect)", graph, graph_mb, None, None),
            ("time to all weights (inspect --weights)", weights, weights_mb, h5py,
             "h5py reading every dataset"),
            ("  CPU of inspect --weights", weights_cpu, None, h5py_cpu, "h5py's CPU"),
            ("render -o .dot", r_dot, None, None, None),
            ("render -o .svg", r_svg, svg_mb, d_svg, "dot -Tsvg on the same DOT"),
            ("  (dot -Txdot on the same DOT)", d_xdot, None, None, None),
        ]
        for name, t, mb, base, base_name in rows:
            line = f"{name:42s} {t:7.3f} s"
            line += f"  peak {mb:6.0f} MB" if mb is not None else " " * 17
            if base:
                line += f"  ×{t / base:5.2f} of {base_name} ({base:.3f} s)"
            print(line)
        print(f"{'h5py peak memory':42s} {'':9s}  peak {h5py_mb:6.0f} MB")
        if a.no_run:
            return
        params = json.loads(subprocess.run([osh, "inspect", "--json", model], check=True,
                                           capture_output=True, text=True).stdout)["total_params"]
        (run, run_mb, _), = best(1, [osh, "bench", model, "--runs", "1"])
        weights_mb = params * 4 / 2**20
        print(f"{'one run (bench --runs 1)':42s} {run:7.3f} s  peak {run_mb:6.0f} MB  "
              f"×{run_mb / weights_mb:5.2f} of the weights ({weights_mb:.0f} MB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
