"""The README's tour runs as printed. Every ```sh block of the "A tour" section runs literally
with bash in one fresh folder, with the built `offshoot` first on PATH, one block after the
other; its exit code must be the one its comment names (`# exit N`, else 0), and every line of
the ```text block right after it must appear, in order, in what it printed (stdout and stderr),
so the README cannot drift from the program again."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import BINARY, case, main, source, tempdir  # noqa: E402

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.S | re.M)


def tour_blocks():
    """[(commands, expected lines)] of the tour, in order."""
    text = open(source("README.md"), encoding="utf-8").read()
    start = text.index("\n## A tour")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end > 0 else len(text)]
    blocks, pending = [], None
    for m in FENCE.finditer(section):
        kind, body = m.group(1), m.group(2)
        if kind == "sh":
            pending = [body, [], m.end()]
            blocks.append(pending)
        elif kind == "text" and pending is not None and not section[pending[2]:m.start()].strip():
            pending[1] = [line.strip() for line in body.splitlines() if line.strip()]
    return [(body, expected) for body, expected, _ in blocks]


def in_order(expected, output):
    lines = [line.strip() for line in output.splitlines()]
    at = 0
    for want in expected:
        while at < len(lines) and want not in lines[at]:
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None


@case
def the_tour_runs_as_printed():
    blocks = tour_blocks()
    assert len(blocks) >= 4, f"the tour has {len(blocks)} shell blocks"
    work = tempdir()
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(BINARY)) + os.pathsep + os.environ["PATH"])
    try:
        for commands, expected in blocks:
            want_code = int(m.group(1)) if (m := re.search(r"#\s*exit (\d+)", commands)) else 0
            r = subprocess.run(["bash", "-c", commands], cwd=work, env=env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=600)
            output = r.stdout + r.stderr
            assert r.returncode == want_code, \
                f"{commands.strip()}\nexit {r.returncode}, the README says {want_code}:\n{output[-2000:]}"
            missing = in_order(expected, output)
            assert missing is None, f"{commands.strip()}\nthe README shows '{missing}'; it printed:\n{output[-3000:]}"
        # What the tour says it made.
        for made in ["model.h5", "b7.keras", "two-heads.keras", "two-heads.py", "out/aux_head_out.png", "graph.svg"]:
            assert os.path.isfile(os.path.join(work, made)), f"the tour did not make {made}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
