#!/usr/bin/python3
"""Writes the .npy fixtures of tests/parity/test-npy.c with numpy itself (the reference writer).

    /usr/bin/python3 tools/reference/parity-npy.py tests/parity/npy
"""
import os
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "tests/parity/npy"
os.makedirs(out, exist_ok=True)
base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5 - 3.0
for name, dtype in [("f4", "<f4"), ("f8", "<f8"), ("i4", "<i4"), ("i8", "<i8")]:
    np.save(os.path.join(out, f"{name}.npy"), base.astype(dtype))
np.save(os.path.join(out, "u1.npy"), (np.arange(24) * 10).astype(np.uint8).reshape(4, 6))
np.save(os.path.join(out, "scalar.npy"), np.float32(2.5))
np.save(os.path.join(out, "vector.npy"), np.array([1, 2, 3], dtype=np.float32))
np.save(os.path.join(out, "empty.npy"), np.zeros((0, 3), dtype=np.float32))
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(base.astype(np.float32)))
np.save(os.path.join(out, "big-endian.npy"), base.astype(">f4"))
for version in [(2, 0), (3, 0)]:
    with open(os.path.join(out, f"v{version[0]}.npy"), "wb") as f:
        np.lib.format.write_array(f, base.astype(np.float32), version=version)
