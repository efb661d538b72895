"""OpenBLAS is loaded on the first BLAS call (engine/ops/osh-blas-lazy.h), not linked: commands
that never multiply a matrix (inspect, render, check) work without the library at all, and a run
without it stops with a sentence naming the library and why, instead of crashing or computing
nothing. OSH_BLAS_LIBRARY names a library that is not there."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import BINARY, Skip, case, main, offshoot, tempdir  # noqa: E402

MISSING = {"OSH_BLAS_LIBRARY": "/nonexistent/libopenblas.so.0"}


@case
def openblas_is_not_linked():
    if not shutil.which("readelf"):
        raise Skip("readelf absent (binutils)")
    needed = subprocess.run(["readelf", "-d", BINARY], capture_output=True, text=True).stdout
    assert "(NEEDED)" in needed, needed
    assert "blas" not in needed.lower(), needed


@case
def reading_and_drawing_never_load_openblas():
    d = tempdir()
    for args in (["inspect", "@default"], ["check", "@default"], ["inspect", "@default", "--json"]):
        with_blas, without = offshoot(*args), offshoot(*args, env=MISSING)
        assert without.returncode == 0, (args, without.stderr)
        assert without.stdout == with_blas.stdout, args
    for name, env in (("with.svg", None), ("without.svg", MISSING)):
        r = offshoot("render", "@default", "-o", os.path.join(d, name), env=env)
        assert r.returncode == 0, r.stderr
    with open(os.path.join(d, "with.svg"), "rb") as a, open(os.path.join(d, "without.svg"), "rb") as b:
        assert a.read() == b.read()


@case
def a_run_without_openblas_says_which_library_and_why():
    d = tempdir()
    r = offshoot("samples", "-o", d)
    assert r.returncode == 0, r.stderr
    r = offshoot("run", "@default", os.path.join(d, "cross-1.png"), env=MISSING)
    assert r.returncode != 0, r.stdout
    assert ("the BLAS library /nonexistent/libopenblas.so.0 cannot be loaded (set by the "
            "environment): ") in r.stderr, r.stderr
    assert "No such file or directory" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "Segmentation" not in r.stderr
    # The same command with the library: the prediction.
    r = offshoot("run", "@default", os.path.join(d, "cross-1.png"))
    assert r.returncode == 0 and "1. cross" in r.stdout, (r.stdout, r.stderr)


main()
