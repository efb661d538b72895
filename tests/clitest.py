"""A small TAP harness for tests that drive the `offshoot` binary.

    from clitest import case, run, offshoot, main

    @case
    def help_lists_commands():
        r = offshoot("--help")
        assert r.returncode == 0, r.stderr

    main()

Each @case is one TAP test; an AssertionError (or any exception) fails it with its message.
Environment (set by meson): OSH_BINARY, OSH_CORPUS, OSH_SOURCE_ROOT.
"""
import json
import os
import subprocess
import sys
import tempfile
import traceback

BINARY = os.environ.get("OSH_BINARY", "offshoot")
CORPUS = os.environ.get("OSH_CORPUS", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus"))
SOURCE_ROOT = os.environ.get("OSH_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), ".."))

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


def offshoot(*args, timeout=600, env=None):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)


def offshoot_json(*args, expect_code=0, **kw):
    r = offshoot(*args, "--json", **kw)
    assert r.returncode == expect_code, f"exit {r.returncode}, expected {expect_code}: {r.stderr}"
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"stdout is not one JSON document ({e}): {r.stdout[:500]}")


def tempdir():
    return tempfile.mkdtemp(prefix="osh-test-")


def main():
    print(f"1..{len(_cases)}", flush=True)
    failed = 0
    for i, fn in enumerate(_cases, 1):
        name = fn.__name__
        try:
            fn()
            print(f"ok {i} {name}", flush=True)
        except Skip as e:
            print(f"ok {i} {name} # SKIP {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure becomes a TAP "not ok"
            failed += 1
            print(f"not ok {i} {name}", flush=True)
            for line in (f"{type(e).__name__}: {e}\n" + traceback.format_exc()).splitlines():
                print(f"# {line}", flush=True)
    sys.exit(1 if failed else 0)
