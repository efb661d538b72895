"""The .keras files Offshoot writes keep their weights where a reader can use them in place
(every member stored in Keras's order, model.weights.h5's bytes and every weight of 64+ bytes
in it on a 16-byte boundary; engine/io/osh-keras3-write.c), and are still ordinary archives
for Keras's tools: Python's zipfile and h5py read them. Files laid out otherwise (Keras's own, or a
re-zipped copy) are read through one copy and give the very same numbers."""
import os
import shutil
import struct
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, main, offshoot, offshoot_json, tempdir  # noqa: E402

try:
    import h5py
    import numpy as np
except ImportError:  # the CLI tests run under Debian's Python, which has both
    h5py = np = None


def data_offset(path, name):
    """Where the bytes of the member `name` start (after its local header and extra fields)."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", f.read(4))
    return info.header_offset + 30 + name_len + extra_len


def written_model(folder):
    """MobileNet at 32×32 without its top (3.2 M parameters), written by `offshoot zoo`."""
    if h5py is None:
        raise Skip("needs h5py and numpy")
    path = os.path.join(folder, "mobilenet.keras")
    r = offshoot("zoo", "MobileNet", "--input-shape", "32,32,3", "--no-top", "-o", path)
    assert r.returncode == 0, r.stderr
    return path


@case
def written_keras_is_aligned_and_reads_in_zipfile_and_h5py():
    folder = tempdir()
    try:
        path = written_model(folder)
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None  # every member's CRC
            assert z.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
            assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
            z.extract("model.weights.h5", folder)
        start = data_offset(path, "model.weights.h5")
        assert start % 16 == 0, start
        total, aligned, misaligned = 0, 0, []
        with h5py.File(os.path.join(folder, "model.weights.h5"), "r") as f:
            def visit(name, obj):
                nonlocal total, aligned
                if isinstance(obj, h5py.Dataset):
                    total += obj[()].size
                    if obj.dtype == np.float32 and obj.nbytes >= 64:
                        if (start + obj.id.get_offset()) % 16 == 0:
                            aligned += 1
                        else:
                            misaligned.append(name)
            f.visititems(visit)
        assert not misaligned and aligned > 80, (aligned, misaligned[:5])
        assert total == offshoot_json("inspect", path)["total_params"] == 3228864, total
    finally:
        shutil.rmtree(folder)


def rezipped(src, dst):
    """The same members, re-zipped by Python after a 1-byte member: the weights then sit
    where Keras's own files have them, off any 4-byte boundary."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        out.writestr("pad", b"x")
        for name in ("config.json", "metadata.json", "model.weights.h5"):
            out.writestr(name, z.read(name), compress_type=zipfile.ZIP_STORED)


@case
def misaligned_copy_runs_to_the_same_outputs():
    folder = tempdir()
    try:
        path = written_model(folder)
        moved = os.path.join(folder, "moved.keras")
        rezipped(path, moved)
        assert data_offset(moved, "model.weights.h5") % 4 != 0
        x = os.path.join(folder, "x.npy")
        np.save(x, np.random.RandomState(3).rand(1, 32, 32, 3).astype(np.float32))
        outputs = []
        for name, model in (("aligned", path), ("moved", moved)):
            out = os.path.join(folder, name)
            r = offshoot("run", model, x, "--save-outputs", out)
            assert r.returncode == 0, r.stderr
            outputs.append(np.load(os.path.join(out, "conv_pw_13_relu.npy")))
        assert outputs[0].shape == (1, 1, 1, 1024) and np.abs(outputs[0]).max() > 0
        assert np.array_equal(outputs[0], outputs[1])
    finally:
        shutil.rmtree(folder)


@case
def truncated_written_keras_is_a_clear_error():
    folder = tempdir()
    try:
        path = written_model(folder)
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) * 6 // 10)
        for args in (("inspect", path), ("inspect", "--weights", path)):
            r = offshoot(*args)
            assert r.returncode == 2, (args, r.returncode, r.stdout)
            assert f"{path}: not a readable zip archive" in r.stderr, r.stderr
    finally:
        shutil.rmtree(folder)


main()
