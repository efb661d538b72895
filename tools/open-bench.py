#!/usr/bin/python3
"""How fast Offshoot opens a big model, beside yardsticks measured in the same run (issue 18).

    tools/open-bench.py [--offshoot build/app/offshoot] [--before OLD/offshoot] [--model b7.keras]
                        [--runs 3] [--no-run]

Without --model, EfficientNetB7 is written by `offshoot zoo` into a temporary folder. Every
command runs --runs times, interleaved with its yardstick (and with the same command of the
--before binary, when given: a before/after comparison from one sitting), and the best run
counts (the machine is shared; the best run is the one least disturbed). Printed:
  - time to graph: `offshoot inspect` (graph and weight shapes, no values) and its peak memory,
    beside `dot -Tsvg` of the same graph's DOT and as a ratio of the 0.5 s goal
  - time to all weights: `offshoot inspect --weights`, beside Debian's h5py reading every
    dataset of the same model.weights.h5 (extracted from the archive beforehand)
  - render: `offshoot render -o .dot` and `-o .svg`, beside graphviz's `dot -Tsvg` and
    `dot -Txdot` on the DOT that Offshoot exports for the same graph (B7, over 200 layers, is
    drawn collapsed into stages and blocks), and `render --expand-all -o .svg` (every layer)
    beside `dot -Tsvg` on that DOT, wall and CPU time
  - the layout itself: graphviz's part of the overview and of the --expand-all render (from
    the render's OFFSHOOT_TRACE line), beside `dot -Txdot` on the same DOT
  - one run of the model, `offshoot run` on a picture and `offshoot bench --runs 1`: its peak
    memory beside the weights' size plus the live activations (the plan's buffers after reuse
    and its scratch, from `bench --json`), the goal being ≤ 1.1× that
Peak memory is /usr/bin/time's maximum resident set size in MiB; CPU is user + system time of
the command and its children (the HDF5 guard's child among them), which a busy machine
disturbs less than the wall-clock time. A benchmark, not a test: it asserts nothing."""
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
    """(wall seconds, peak resident MiB, CPU seconds) of one run; fails loudly when the command
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


def traced_layout(osh, model, out, *args):
    """Seconds graphviz took inside one `offshoot render` (the line OFFSHOOT_TRACE adds)."""
    err = subprocess.run([osh, "render", model, *args, "-o", out], check=True, text=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=dict(os.environ, OFFSHOOT_TRACE="1")).stderr
    m = re.search(r"laid out by graphviz in ([0-9.]+) ms", err)
    if not m:
        sys.exit(f"no layout time in the trace of {osh} render: {err!r}")
    return float(m.group(1)) / 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--offshoot", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                       "app", "offshoot"))
    ap.add_argument("--before", help="an older offshoot binary, measured interleaved with --offshoot")
    ap.add_argument("--model", help="a .keras file (default: EfficientNetB7 from offshoot zoo)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-run", action="store_true", help="skip running the model (slow)")
    a = ap.parse_args()
    binaries = [("after" if a.before else "", os.path.abspath(a.offshoot))]
    if a.before:
        binaries.append(("before", os.path.abspath(a.before)))
    osh = binaries[0][1]
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
        dot, dot_svg, xdot, full_dot, full_svg = (os.path.join(tmp, n) for n in (
            "b7.dot", "dot.svg", "b7.xdot", "full.dot", "full.svg"))
        subprocess.run([osh, "render", model, "-o", dot], check=True, stdout=subprocess.DEVNULL)
        # A graph over 200 layers is drawn collapsed into stages and blocks; every layer too.
        subprocess.run([osh, "render", model, "--expand-all", "-o", full_dot], check=True,
                       stdout=subprocess.DEVNULL)
        # Warm the page cache for everyone alike.
        for path in (model, weights_h5):
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass

        def each(*args):
            """The command for every binary, then its output path made per binary."""
            return [[b if x is None else x.replace("@", name or "x") for x in args]
                    for name, b in binaries]

        n = len(binaries)
        got = best(a.runs, *each(None, "inspect", model), ["dot", "-Tsvg", dot, "-o", dot_svg])
        graph, d_svg0 = got[:n], got[n]
        got = best(a.runs, *each(None, "inspect", "--weights", model),
                   ["/usr/bin/python3", script, weights_h5])
        weights, h5py = got[:n], got[n]
        got = best(a.runs, *each(None, "render", model, "-o", os.path.join(tmp, "@.dot")),
                   *each(None, "render", model, "-o", os.path.join(tmp, "@.svg")),
                   ["dot", "-Tsvg", dot, "-o", dot_svg], ["dot", "-Txdot", dot, "-o", xdot])
        r_dot, r_svg, (d_svg, _, _), (d_xdot, _, _) = got[:n], got[n:2 * n], got[2 * n], got[2 * n + 1]
        d_svg = min(d_svg, d_svg0[0])
        got = best(a.runs, *each(None, "render", model, "--expand-all", "-o", os.path.join(tmp, "@-full.svg")),
                   ["dot", "-Tsvg", full_dot, "-o", full_svg])
        r_full, (d_full, _, d_full_cpu) = got[:n], got[n]
        # The layout itself: graphviz's part of a render (its trace) beside `dot -Txdot`.
        full_xdot = os.path.join(tmp, "full.xdot")
        d_full_xdot = best(a.runs, ["dot", "-Txdot", full_dot, "-o", full_xdot])[0][0]
        lay_over = min(traced_layout(osh, model, os.path.join(tmp, "t.svg")) for _ in range(a.runs))
        lay_full = min(traced_layout(osh, model, os.path.join(tmp, "t.svg"), "--expand-all")
                       for _ in range(a.runs))

        size_mb = os.path.getsize(model) / 2**20
        print(f"model: {model} ({size_mb:.0f} MiB), best of {a.runs} runs, "
              f"load average {os.getloadavg()[0]:.1f}")
        if a.before:
            print(f"after: {binaries[0][1]}\nbefore: {binaries[1][1]} (interleaved with after)")

        def line(name, t, mb=None, base=None, base_name=None, cpu=None):
            text = f"{name:44s} {t:7.3f} s"
            text += f"  peak {mb:6.0f} MiB" if mb is not None else " " * 18
            if cpu is not None:
                text += f"  CPU {cpu:6.3f} s"
            if base:
                text += f"  ×{t / base:5.2f} of {base_name} ({base:.3f} s)"
            print(text)

        for i, (name, _) in enumerate(binaries):
            tag = f"[{name}] " if name else ""
            line(tag + "time to graph (inspect)", graph[i][0], graph[i][1], d_svg,
                 "dot -Tsvg", graph[i][2])
            print(f"{'':44s} {'':9s}{'':18s}  ×{graph[i][0] / 0.5:5.2f} of the 0.5 s goal")
            line(tag + "time to all weights (inspect --weights)", weights[i][0], weights[i][1],
                 h5py[0], "h5py reading every dataset", weights[i][2])
            line(tag + "  CPU of inspect --weights", weights[i][2], None, h5py[2], "h5py's CPU")
            line(tag + "render -o .dot", r_dot[i][0], None, d_xdot, "dot -Txdot")
            line(tag + "render -o .svg", r_svg[i][0], r_svg[i][1], d_svg, "dot -Tsvg on the same DOT",
                 r_svg[i][2])
            line(tag + "render --expand-all -o .svg", r_full[i][0], r_full[i][1], d_full,
                 "dot -Tsvg on the same DOT", r_full[i][2])
            print(f"{'':44s} {'':9s}{'':18s}  ×{r_full[i][2] / max(d_full_cpu, 0.01):5.2f} of dot's CPU "
                  f"({d_full_cpu:.3f} s)")
        line("layout itself (graphviz in render -o .svg)", lay_over, None, d_xdot,
             "dot -Txdot on the same DOT")
        line("layout itself (render --expand-all)", lay_full, None, d_full_xdot,
             "dot -Txdot on the same DOT")
        line("  (dot -Tsvg on the same DOT)", d_svg)
        line("  (dot -Tsvg on the --expand-all DOT)", d_full, None, None, None, d_full_cpu)
        line("  (dot -Txdot on the same DOT)", d_xdot)
        line("  (h5py reading every dataset)", h5py[0], h5py[1], None, None, h5py[2])
        if a.no_run:
            return
        params = json.loads(subprocess.run([osh, "inspect", "--json", model], check=True,
                                           capture_output=True, text=True).stdout)["total_params"]
        bench = json.loads(subprocess.run([osh, "bench", model, "--runs", "1", "--json"], check=True,
                                          capture_output=True, text=True).stdout)
        subprocess.run([osh, "samples", "-o", os.path.join(tmp, "samples")], check=True,
                       stdout=subprocess.DEVNULL)
        picture = os.path.join(tmp, "samples", "circle-1.png")
        got = best(a.runs, *each(None, "run", model, picture),
                   *each(None, "bench", model, "--runs", "1"))
        runs, benches = got[:n], got[n:]
        weights_mb = params * 4 / 2**20
        acts_mb = bench["activation_bytes"] / 2**20
        yardstick = weights_mb + acts_mb
        print(f"yardstick of a run: weights {weights_mb:.0f} MiB + live activations {acts_mb:.0f} MiB "
              f"= {yardstick:.0f} MiB (goal: peak ≤ ×1.10)")
        for i, (name, _) in enumerate(binaries):
            tag = f"[{name}] " if name else ""
            for what, (t, mb, cpu) in (("one run (run on a picture)", runs[i]),
                                       ("one run (bench --runs 1)", benches[i])):
                print(f"{tag + what:44s} {t:7.3f} s  peak {mb:6.0f} MiB  CPU {cpu:6.3f} s  "
                      f"×{mb / yardstick:5.2f} of weights + activations")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
