"""The default binary is portable: run on a CPU model without AVX (qemu-user's Nehalem: SSE4.2,
no AVX), the CLI's core cases finish with no illegal instruction, refuse a forced AVX2 path (the
emulated CPU has only the baseline one), and give the numbers of the native run (and ONNX
Runtime's). On a CPU that reports AVX2 but not AVX-512 (this one, its CPUID masked by
tools/cpuid-mask.c), it picks the AVX2 kernels by itself, OpenBLAS its Haswell ones, and the
numbers are the same.

Needs qemu-x86_64 (Debian's qemu-user, installed by tools/install-deps.sh) and, for the AVX2
case, an AVX-512 CPU with CPUID faulting; skipped without them, on other CPUs, and under
valgrind (the emulator is the check here)."""
import os
import platform
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import BINARY, VALGRIND, Skip, case, main, source  # noqa: E402

QEMU = shutil.which("qemu-x86_64")
CPU = "Nehalem"  # x86-64 with SSE4.2; no AVX, AVX2 or AVX-512
ONNX_FIX = source("tests", "onnx", "fixtures")
TFJS_FIX = source("tests", "parity", "fixtures", "conv2d_same_stride2")


def x86_64_program():
    """Whether BINARY is an x86-64 ELF file (e_machine 62)."""
    with open(BINARY, "rb") as f:
        head = f.read(20)
    return head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == 62


def emulated(*args, isa=None):
    """Runs the binary under qemu-x86_64 -cpu Nehalem."""
    if platform.machine() != "x86_64":
        raise Skip("not an x86-64 machine")
    if not x86_64_program():
        raise Skip("the binary is not an x86-64 program (a cross build: tools/arm64-check.sh)")
    if not QEMU:
        raise Skip("no qemu-x86_64 (Debian's qemu-user; tools/install-deps.sh installs it)")
    if VALGRIND:
        raise Skip("the emulator, not valgrind, is the check here")
    env = dict(os.environ)
    env.pop("OFFSHOOT_ISA", None)
    if isa:
        env["OFFSHOOT_ISA"] = isa
    # OpenBLAS reads the emulated CPU itself; set, it also keeps offshoot from restarting
    # itself (main.c), which would leave the emulator.
    env["OPENBLAS_CORETYPE"] = "Nehalem"
    r = subprocess.run([QEMU, "-cpu", CPU, BINARY, *args], capture_output=True, text=True,
                       env=env, timeout=900)
    assert r.returncode not in (-4, 132), "illegal instruction on a CPU without AVX:\n" + r.stderr
    return r


def native(*args):
    env = dict(os.environ)
    env.pop("OFFSHOOT_ISA", None)
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=env, timeout=600)


def outputs(runner, model, inp):
    """The model's outputs on `inp` (run --save-outputs), by name."""
    with tempfile.TemporaryDirectory() as d:
        r = runner("run", model, inp, "--save-outputs", d)
        assert r.returncode == 0, r.stderr
        return {f: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d))}


def assert_close(got, want, what):
    assert got.shape == want.shape, (what, got.shape, want.shape)
    peak = max(1.0, float(np.abs(want).max()))
    worst = float(np.abs(got - want).max())
    assert worst <= 1e-4 * peak, f"{what}: differs by {worst} (peak {peak})"


@case
def version_runs_without_avx():
    r = emulated("--version")
    assert r.returncode == 0 and r.stdout.startswith("offshoot "), r.stderr


@case
def forced_avx2_is_refused_without_avx():
    r = emulated("--version", isa="avx2")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "cannot run the avx2 kernels" in r.stderr and "it has: baseline" in r.stderr, r.stderr


@case
def onnx_mobilenet_v3_gives_the_native_numbers_without_avx():
    model = os.path.join(ONNX_FIX, "mobilenet_v3_small_x025.onnx")
    inp = os.path.join(ONNX_FIX, "mobilenet_v3_small_x025.input.npy")
    got, want = outputs(emulated, model, inp), outputs(native, model, inp)
    assert got.keys() == want.keys() and got, (got.keys(), want.keys())
    for name in got:
        assert_close(got[name], want[name], name)
    ort = np.load(os.path.join(ONNX_FIX, "mobilenet_v3_small_x025.ort.output_0.npy"))
    assert_close(next(iter(got.values())).reshape(ort.shape), ort, "against ONNX Runtime")


def masked_to_avx2(*args, isa=None):
    """Runs the binary natively with CPUID reporting no AVX-512 (tools/cpuid-mask.c)."""
    if VALGRIND:
        raise Skip("valgrind emulates its own CPU")
    mask = os.environ.get("OSH_CPUID_MASK")
    if not mask or not os.path.exists(mask):
        raise Skip("no CPUID mask library (x86-64 Linux builds make it)")
    with open("/proc/cpuinfo") as f:
        flags = next((line.split() for line in f if line.startswith("flags")), [])
    if "avx512f" not in flags or "cpuid_fault" not in flags:
        raise Skip("this CPU has no AVX-512 to hide or no CPUID faulting")
    env = dict(os.environ, LD_PRELOAD=mask, OSH_CPUID_LEVEL="avx2")
    env.pop("OFFSHOOT_ISA", None)
    if isa:
        env["OFFSHOOT_ISA"] = isa
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=env, timeout=600)


@case
def a_cpu_without_avx512_gets_the_avx2_kernels_and_the_same_numbers():
    model = os.path.join(ONNX_FIX, "mobilenet_v3_small_x025.onnx")
    inp = os.path.join(ONNX_FIX, "mobilenet_v3_small_x025.input.npy")
    r = masked_to_avx2("bench", model, "--runs", "1", "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "kernels: avx2 (best on this CPU: avx2;" in r.stdout, r.stdout
    assert "OpenBLAS Haswell kernels" in r.stdout, r.stdout
    got, want = outputs(masked_to_avx2, model, inp), outputs(native, model, inp)
    assert got.keys() == want.keys() and got, (got.keys(), want.keys())
    for name in got:
        assert_close(got[name], want[name], name)
    # A forced AVX-512 path is refused as on a real AVX2 machine.
    r = masked_to_avx2("--version", isa="avx512")
    assert r.returncode == 2 and "it has: avx2, baseline" in r.stderr, (r.returncode, r.stderr)


@case
def tfjs_convolution_gives_tfjs_numbers_without_avx():
    got = outputs(emulated, os.path.join(TFJS_FIX, "model.json"), os.path.join(TFJS_FIX, "input.npy"))
    want = np.load(os.path.join(TFJS_FIX, "output.npy"))
    assert len(got) == 1, got.keys()
    assert_close(next(iter(got.values())).reshape(want.shape), want, "against tfjs")


main()
