#!/usr/bin/python3
"""Frame times of the graph view while panning and zooming EfficientNetB7 (816 layers).

    xvfb-run -a -s "-screen 0 1280x900x24" /usr/bin/python3 tools/frame-bench.py \
        [BUILD/app/offshoot] [--model B7.keras] [--repeat N]

Drives the real window with xdotool (real pointer events through GTK's controllers) and reads
the draw time of every frame the graph view printed (OFFSHOOT_FRAME_TIMES=1: from the frame
clock's paint phase start to its end, snapshot and GSK rendering included). Phases, in one
sitting:
  baseline        drag-panning the default model (101 layers, all of it on screen);
  overview pan    drag-panning B7's collapsed overview at the zoom it opens with;
  overview zoom   wheel in and out there;
  1:1 pan         after searching block5a_expand_conv (its stage and block open, the view
                  flies there at zoom 1): drag-panning at 1:1;
  1:1 zoom        wheel in and out there.
Prints per phase p50 / p95 / max of the wall time, p50 / p95 of the main thread's CPU time in
the frame (what a busy machine does not stretch) and of the scene's own rasterization inside
it, the ratio of each wall p95 to the baseline's, and how many frames missed 16 ms. Not a test: a shared machine stretches the clock, so read the ratios. Without
--model it writes B7 with `offshoot zoo` into a temporary folder (about 270 MB, removed).
The renderer is GTK's default unless GSK_RENDERER is set (the UI tests use cairo)."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SEARCH = "block5a_expand_conv"


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=False, capture_output=True)


class App:
    """One running window with its stderr in a file."""

    def __init__(self, binary, model, home):
        self.log_path = os.path.join(home, f"log-{os.getpid()}-{time.monotonic_ns()}.txt")
        self.log = open(self.log_path, "w")
        env = dict(os.environ, OFFSHOOT_TRACE="1", OFFSHOOT_FRAME_TIMES="1",
                   XDG_DATA_HOME=home, OFFSHOOT_STYLE="light", GTK_A11Y="none")
        self.proc = subprocess.Popen([binary, model], stderr=self.log, env=env)
        self.wait_for("laid out", 120)
        self.wid = None
        for _ in range(300):
            r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Offshoot"],
                               capture_output=True, text=True)
            if r.stdout.strip():
                self.wid = r.stdout.split()[0]
                break
            time.sleep(0.1)
        if not self.wid:
            sys.exit("the window did not appear")
        xdo("windowmove", self.wid, 0, 0)
        xdo("windowsize", self.wid, 1200, 800)
        xdo("windowactivate", "--sync", self.wid)
        time.sleep(1.5)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for(self, needle, seconds, start=0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if needle in self.text()[start:]:
                return True
            if self.proc.poll() is not None:
                sys.exit(f"the window exited: {self.text()[-2000:]}")
            time.sleep(0.1)
        sys.exit(f"no '{needle}' within {seconds} s")

    def frames(self, start):
        out = []
        for line in self.text()[start:].splitlines():
            if line.startswith("frame-time "):
                words = line.split()  # frame-time T ms (scene S ms, cpu C ms)
                out.append((float(words[1]), float(words[4]), float(words[7])))
        return out

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def drag(x, y, dx, dy, steps):
    """A press, `steps` moves of (dx, dy) one frame apart, a release: a pan."""
    xdo("mousemove", x, y)
    xdo("mousedown", 1)
    cmd = []
    for i in range(1, steps + 1):
        cmd += ["mousemove", x + dx * i, y + dy * i, "sleep", "0.016"]
    xdo(*cmd)
    xdo("mouseup", 1)


def wheel(x, y, notches):
    """Wheel notches one frame apart at (x, y): in, then out as many."""
    xdo("mousemove", x, y)
    cmd = []
    for button in (4, 5):
        for _ in range(notches):
            cmd += ["click", button, "sleep", "0.03"]
    xdo(*cmd)


def measure(app, action, repeat):
    start = len(app.text())
    for _ in range(repeat):
        action()
    time.sleep(0.5)
    return app.frames(start)


def pan(app, repeat):
    def once():
        drag(350, 250, 0, 6, 40)
        drag(350, 490, 0, -6, 40)
    return measure(app, once, repeat)


def zoom(app, repeat):
    return measure(app, lambda: wheel(350, 400, 6), repeat)


def summary(name, frames, base_p95):
    """Prints the phase's figures; frames are (total, scene) pairs in ms."""
    if len(frames) < 5:
        print(f"{name:14s} only {len(frames)} frames: the view did not redraw")
        return None
    total = [t for t, _, _ in frames]
    scene = [s for _, s, _ in frames]
    cpu = [c for _, _, c in frames]
    q = statistics.quantiles(total, n=100, method="inclusive")
    qs = statistics.quantiles(scene, n=100, method="inclusive")
    qc = statistics.quantiles(cpu, n=100, method="inclusive")
    p50, p95 = q[49], q[94]
    over = sum(1 for f in total if f > 16.0)
    ratio = f"{p95 / base_p95:5.2f}×" if base_p95 else "   —  "
    print(f"{name:14s} {len(total):4d} frames  p50 {p50:6.2f}  p95 {p95:6.2f}  max "
          f"{max(total):6.2f} ms  | CPU p50 {qc[49]:5.2f}  p95 {qc[94]:5.2f} | scene p50 "
          f"{qs[49]:5.2f}  p95 {qs[94]:5.2f} | p95/baseline {ratio}  over 16 ms: {over}")
    return p95


def main():
    args = sys.argv[1:]
    binary = args.pop(0) if args and not args[0].startswith("--") else \
        os.path.join(ROOT, "build", "app", "offshoot")
    model, repeat = None, 3
    while args:
        a = args.pop(0)
        if a == "--model":
            model = args.pop(0)
        elif a == "--repeat":
            repeat = int(args.pop(0))
        else:
            sys.exit(__doc__)
    if not os.environ.get("DISPLAY"):
        sys.exit("no X display: run under xvfb-run (see the top of this file)")
    if not shutil.which("xdotool"):
        sys.exit("xdotool is missing")
    home = tempfile.mkdtemp(prefix="offshoot-frame-bench-")
    try:
        if not model:
            model = os.path.join(home, "efficientnetb7.keras")
            subprocess.run([binary, "zoo", "EfficientNetB7", "-o", model], check=True,
                           capture_output=True)
        print(f"renderer: {os.environ.get('GSK_RENDERER', 'GTK default')}, "
              f"{repeat} rounds a phase")

        app = App(binary, "@default", home)
        base = summary("baseline", pan(app, repeat), None)
        app.close()

        app = App(binary, model, home)
        results = [("overview pan", pan(app, repeat)), ("overview zoom", zoom(app, repeat))]
        start = len(app.text())
        xdo("key", "--window", app.wid, "ctrl+f")
        time.sleep(0.8)
        xdo("type", "--delay", "60", SEARCH)
        app.wait_for(f"found {SEARCH} at", 60, start)
        time.sleep(2.0)  # the stage opens, the view flies there
        xdo("key", "Escape")
        time.sleep(0.5)
        results += [("1:1 pan", pan(app, repeat)), ("1:1 zoom", zoom(app, repeat))]
        app.close()
        for name, frames in results:
            summary(name, frames, base)
        every = [t for _, frames in results for t, _, _ in frames]
        if every:
            q = statistics.quantiles(every, n=100, method="inclusive")
            verdict = "met" if q[94] <= 16.0 else "missed"
            print(f"B7 overall: p95 {q[94]:.2f} ms, the 16 ms goal {verdict}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
