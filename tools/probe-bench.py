#!/usr/bin/python3
"""Time of `offshoot probe` on every layer of the default model (101 layers, 400 pictures).

    /usr/bin/python3 tools/probe-bench.py [BUILD/app/offshoot] [--threads N] [--repeat R]

Makes 100 pictures a class with tests/train/make-shapes.py, then times, in the same sitting:
  base      the last layer alone: one inference pass over the pictures and one probe fit;
  all       all 101 layers, their features captured in one pass (the default memory budget);
  streamed  all 101 layers with --group-mb 0.05: about one pass per layer, the features of only
            a few layers in memory at a time.
Prints the best wall and CPU seconds of each and the ratios to the base. Not a test: a shared
machine stretches the clock, so read the ratios."""
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def timed(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{' '.join(command)}: {r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    args = sys.argv[1:]
    binary = args.pop(0) if args and not args[0].startswith("--") else \
        os.path.join(ROOT, "build", "app", "offshoot")
    threads, repeat = "1", 3
    while args:
        flag, value = args.pop(0), args.pop(0)
        if flag == "--threads":
            threads = value
        elif flag == "--repeat":
            repeat = int(value)
    data = tempfile.mkdtemp(prefix="osh-probe-bench-")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "train", "make-shapes.py"), data,
                    "classes", "100", "777"], check=True)
    common = [binary, "probe", "@default", "--data", data, "--json", "--threads", threads]
    runs = {
        "base": common + ["--layers", "predictions"],
        "all": common + ["--layers", "all"],
        "streamed": common + ["--layers", "all", "--group-mb", "0.05"],
    }
    best = {}
    for name, command in runs.items():
        times = [timed(command) for _ in range(repeat)]
        best[name] = (min(t[0] for t in times), min(t[1] for t in times))
    print(f"400 pictures, {threads} thread(s), best of {repeat}")
    for name, (wall, cpu) in best.items():
        print(f"{name:9s} wall {wall:7.2f} s  cpu {cpu:7.2f} s  "
              f"ratio to base: wall {wall / best['base'][0]:5.2f}  cpu {cpu / best['base'][1]:5.2f}")


if __name__ == "__main__":
    main()
