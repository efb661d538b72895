"""The offshoot binary guards HDF5 (engine/io/osh-hdf5-guard.h) and says when outputs are not finite:
the known HDF5 hang ends in a clear error within the deadline, a good model still opens, and a
model with NaN weights opens with a warning and runs with one. The guard's child is the small
helper installed beside the binary (no GTK in it), and the binary itself when the helper is
missing."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import BINARY, case, corpus, main, offshoot, offshoot_json, source  # noqa: E402

MALFORMED = source("tests", "robustness", "malformed")


@case
def known_hdf5_hang_is_stopped_when_it_makes_no_progress():
    """Without a fixed deadline the guard stops a child that announces no work for 1.5 s."""
    path = source("tests", "fuzz", "hdf5-guarded", "h5-vlen-model-config")
    for extra in ([], ["--weights"]):
        r = offshoot("inspect", *extra, path, timeout=120)
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert f"{path}: HDF5 stopped making progress reading the file (stopped after " in r.stderr, \
            r.stderr


@case
def known_hdf5_hang_ends_in_a_timeout_error():
    path = source("tests", "fuzz", "hdf5-guarded", "h5-vlen-model-config")
    r = offshoot("inspect", path, env={"OFFSHOOT_HDF5_DEADLINE": "1"}, timeout=120)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert f"{path}: HDF5 did not finish reading the file within 1 s; the file is probably corrupted" \
        in r.stderr, r.stderr


@case
def guarded_model_opens_with_its_parameters():
    doc = offshoot_json("inspect", corpus("keras2", "face_classification", "fer2013_mini_XCEPTION.102-0.66.hdf5"))
    assert doc["total_params"] == 58423, doc["total_params"]


@case
def nan_weights_warn_on_inspect_weights_and_run():
    path = os.path.join(MALFORMED, "h5-nan-weights.h5")
    r = offshoot("inspect", path)
    assert r.returncode == 0 and "NaN" not in r.stdout, r  # the graph alone: no values read
    r = offshoot("inspect", "--weights", path)
    assert r.returncode == 0, r.stderr
    assert "Warning: layer 'fc' weight 'fc/kernel:0' holds 2 NaN/Inf values (1 layer in all); outputs will not " \
        "be finite." in r.stdout, r.stdout
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.npy")
        np.save(x, np.ones((1, 3), "f4"))
        r = offshoot("run", path, x)
        assert r.returncode == 0, r.stderr
        assert "output 'out': 2 of 2 values are not finite (NaN or Inf); layer 'fc' weight 'fc/kernel:0'" \
            in r.stderr, r.stderr
        doc = offshoot_json("run", path, x)
        assert doc["outputs"][0]["non_finite"] == 2, doc


def copy_of_offshoot(folder):
    """The binary alone in `folder`, so that what lies beside it is up to the case."""
    copy = os.path.join(folder, "offshoot")
    shutil.copy2(shutil.which(BINARY) or BINARY, copy)
    return copy


@case
def guard_child_is_the_helper_beside_the_binary():
    binary = shutil.which(BINARY) or BINARY
    helper = os.path.join(os.path.dirname(os.path.realpath(binary)), "offshoot-hdf5-guard")
    # The libraries it asks for by name (readelf reads any architecture's ELF; ldd runs it).
    dynamic = subprocess.run(["readelf", "-d", helper], capture_output=True, text=True, check=True)
    libraries = [line for line in dynamic.stdout.splitlines() if "(NEEDED)" in line]
    # No GTK; and not even HDF5 or OpenBLAS at start-up: they are loaded on the first call
    # (osh-hdf5-lazy.h, osh-blas-lazy.h). The readers' own libraries are there.
    assert any("libzip" in line for line in libraries), libraries
    assert not any(name in line for line in libraries
                   for name in ("libgtk", "libgdk", "libhdf5", "libopenblas")), libraries
    with tempfile.TemporaryDirectory() as tmp:
        copy = copy_of_offshoot(tmp)
        # A helper that notes its start, then is the real one.
        marks = os.path.join(tmp, "started")
        spy = os.path.join(tmp, "offshoot-hdf5-guard")
        with open(spy, "w") as f:
            f.write(f'#!/bin/sh\necho "$@" >> "{marks}"\nexec "{helper}" "$@"\n')
        os.chmod(spy, stat.S_IRWXU)
        path = os.path.join(MALFORMED, "h5-nan-weights.h5")
        r = subprocess.run([copy, "inspect", path], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        with open(marks) as f:
            assert f.read().startswith("--osh-hdf5-guard-child "), "the helper was not started"
        # The helper it finds is the one that guards: the known hang is still stopped.
        hang = source("tests", "fuzz", "hdf5-guarded", "h5-vlen-model-config")
        r = subprocess.run([copy, "inspect", hang], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "OFFSHOOT_HDF5_DEADLINE": "1"})
        assert r.returncode == 2 and "did not finish reading the file within 1 s" in r.stderr, r.stderr


@case
def guard_without_the_helper_runs_the_binary_itself():
    with tempfile.TemporaryDirectory() as tmp:
        copy = copy_of_offshoot(tmp)
        hang = source("tests", "fuzz", "hdf5-guarded", "h5-vlen-model-config")
        r = subprocess.run([copy, "inspect", hang], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "OFFSHOOT_HDF5_DEADLINE": "1"})
        assert r.returncode == 2 and "did not finish reading the file within 1 s" in r.stderr, r.stderr
        r = subprocess.run([copy, "inspect", os.path.join(MALFORMED, "h5-nan-weights.h5")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr


main()
