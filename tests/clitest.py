"""A small TAP harness for tests that drive the `offshoot` binary.

    from clitest import case, run, offshoot, main

    @case
    def help_lists_commands():
        r = offshoot("--help")
        assert r.returncode == 0, r.stderr

    main()

Each @case is one TAP test; an AssertionError (or any exception) fails it with its message.
Environment (set by meson): OSH_BINARY, OSH_CORPUS, OSH_SOURCE_ROOT; OSH_VALGRIND, when set
(`meson test --setup valgrind`), is the valgrind command every run of the binary goes through:
its report goes to a log file, never to the binary's stderr, and a run with memory errors
fails its case with that report; the cases named in OSH_VALGRIND_SKIP (comma-separated, with
the reason in tests/meson.build) are skipped there, and each case prints its duration.
"""
import glob
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

BINARY = os.environ.get("OSH_BINARY", "offshoot")
# OSH_CORPUS when the caller sets it, else the build's folder (meson -Dcorpus, OSH_CORPUS_DEFAULT).
CORPUS = (os.environ.get("OSH_CORPUS") or os.environ.get("OSH_CORPUS_DEFAULT")
          or os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus"))
SOURCE_ROOT = os.environ.get("OSH_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), ".."))
VALGRIND = shlex.split(os.environ.get("OSH_VALGRIND", ""))
# The exit status valgrind gives a run with errors (--error-exitcode in tests/meson.build).
VALGRIND_ERROR_CODE = 99
VALGRIND_SKIP = set(filter(None, os.environ.get("OSH_VALGRIND_SKIP", "").split(","))) if VALGRIND else set()

_cases = []


class Skip(Exception):
    """Raised by a case whose prerequisite is missing (reported as TAP "# SKIP reason")."""


def case(fn):
    _cases.append(fn)
    return fn


def corpus(*parts):
    return os.path.join(CORPUS, *parts)


def source(*parts):
    return os.path.join(SOURCE_ROOT, *parts)


def in_corpus(path):
    return bool(path) and os.path.realpath(str(path)).startswith(os.path.realpath(CORPUS) + os.sep)


def need_corpus(*paths):
    """Skips the case (one line: which file) when a corpus path is absent: a clone without the
    corpus runs every other case."""
    for p in paths:
        if in_corpus(p) and not os.path.exists(p):
            raise Skip(f"corpus absent: no {p} (set OSH_CORPUS to the corpus folder)")


def skip_all_without_corpus():
    """For a script that is about the corpus as a whole: without it, the whole script is one
    TAP skip (meson counts it as skipped)."""
    if not os.path.isdir(CORPUS):
        print(f"1..0 # SKIP corpus absent: no folder {CORPUS} (set OSH_CORPUS to the corpus folder)")
        sys.exit(0)


def offshoot(*args, timeout=600, env=None, binary=None):
    """Runs the binary (or `binary`, a copy of it; under OSH_VALGRIND when set); returns the
    CompletedProcess (text mode). A case whose arguments name an absent corpus file is skipped."""
    need_corpus(*args)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    command = [binary or BINARY, *map(str, args)]
    if not VALGRIND:
        return subprocess.run(command, capture_output=True, text=True,
                              timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)
    logs = tempfile.mkdtemp(prefix="osh-valgrind-")
    try:
        r = subprocess.run([*VALGRIND, f"--log-file={logs}/%p.log", *command], capture_output=True,
                           text=True, timeout=timeout * 20, env=full_env, stdin=subprocess.DEVNULL)
        if r.returncode == VALGRIND_ERROR_CODE:
            report = "".join(open(f, encoding="utf-8", errors="replace").read()
                             for f in sorted(glob.glob(f"{logs}/*.log")))
            raise AssertionError(f"{' '.join(command)}: memory errors\n{report}")
        return r
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def offshoot_json(*args, expect_code=0, **kw):
    r = offshoot(*args, "--json", **kw)
    assert r.returncode == expect_code, f"exit {r.returncode}, expected {expect_code}: {r.stderr}"
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"stdout is not one JSON document ({e}): {r.stdout[:500]}")


_tempdirs = []


def tempdir():
    """A scratch folder, removed when the script ends."""
    d = tempfile.mkdtemp(prefix="osh-test-")
    _tempdirs.append(d)
    return d


def read_png(path):
    """An 8-bit, non-interlaced greyscale, RGB or RGBA PNG (what cairo and the generators here
    write) as (width, height, channels, rows of bytes), the filters undone."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    at, idat = 8, b""
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + size]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (0, 2, 6) and interlace == 0, (path, depth, color)
            bpp = {0: 1, 2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += body
        at += 12 + size
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def report_failure(i, name, e):
    print(f"not ok {i} {name}", flush=True)
    for line in (f"{type(e).__name__}: {e}\n" + traceback.format_exc()).splitlines():
        print(f"# {line}", flush=True)


def main():
    print(f"1..{len(_cases)}", flush=True)
    failed = 0
    for i, fn in enumerate(_cases, 1):
        name = fn.__name__
        if name in VALGRIND_SKIP:
            print(f"ok {i} {name} # SKIP too slow under valgrind (OSH_VALGRIND_SKIP)", flush=True)
            continue
        start = time.monotonic()
        try:
            fn()
            if VALGRIND:
                print(f"# {name}: {time.monotonic() - start:.0f} s under valgrind", flush=True)
            print(f"ok {i} {name}", flush=True)
        except Skip as e:
            print(f"ok {i} {name} # SKIP {e}", flush=True)
        except FileNotFoundError as e:
            if not in_corpus(e.filename):
                failed += 1
                report_failure(i, name, e)
            else:  # a case that reads a corpus file itself (h5py, open)
                print(f"ok {i} {name} # SKIP corpus absent: no {e.filename} (set OSH_CORPUS)", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure becomes a TAP "not ok"
            failed += 1
            report_failure(i, name, e)
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)
    sys.exit(1 if failed else 0)
