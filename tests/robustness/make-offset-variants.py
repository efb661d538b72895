#!/usr/bin/python3
"""Variants of a .keras archive for test-weights-by-offset.c, written into OUT_DIR:

  mixed.keras      model.weights.h5 rewritten by h5py: the first weight dataset (in name order)
                   chunked, the second stored as float16; everything else as it was
  truncated.keras  model.weights.h5 cut to half its length (stored whole in the zip)

Every entry is stored uncompressed, as Keras writes them. For a Keras 1/2 .h5 IN, only:

  mixed.h5         the same two changes to the datasets under model_weights

Usage: make-offset-variants.py IN OUT_DIR
"""
import os
import shutil
import sys
import tempfile
import zipfile

import h5py


def datasets(f):
    names = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(names)


def rechunk(path, group):
    with h5py.File(path, "r+") as f:
        names = [group + name for name in datasets(f[group] if group else f)]
        chunked, half = names[0], names[1]
        values = f[chunked][()]
        del f[chunked]
        f.create_dataset(chunked, data=values, chunks=values.shape)
        values = f[half][()]
        del f[half]
        f.create_dataset(half, data=values.astype("float16"))


def rewrite(weights, scratch):
    path = os.path.join(scratch, "model.weights.h5")
    with open(path, "wb") as out:
        out.write(weights)
    rechunk(path, "")
    with open(path, "rb") as f:
        return f.read()


def write(source, target, weights):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = weights if info.filename == "model.weights.h5" else zin.read(info)
            zout.writestr(info.filename, data, compress_type=zipfile.ZIP_STORED)


def main():
    source, out_dir = sys.argv[1], sys.argv[2]
    if not source.endswith(".keras"):
        target = os.path.join(out_dir, "mixed.h5")
        shutil.copyfile(source, target)
        rechunk(target, "model_weights/")
        return
    with zipfile.ZipFile(source) as z:
        weights = z.read("model.weights.h5")
    scratch = tempfile.mkdtemp()
    try:
        write(source, os.path.join(out_dir, "mixed.keras"), rewrite(weights, scratch))
    finally:
        shutil.rmtree(scratch)
    write(source, os.path.join(out_dir, "truncated.keras"), weights[: len(weights) // 2])


if __name__ == "__main__":
    main()
