#!/usr/bin/python3
"""Writes a shapes data set in the default model's world for `offshoot fit` tests:

    make-shapes.py DIR masks N SEED     N pictures NAME.png with NAME-mask.png beside them
    make-shapes.py DIR classes N SEED   DIR/circle/, DIR/square/, ... N pictures a class
    make-shapes.py DIR classes-masks N SEED   the same with NAME-mask.png beside each picture
    make-shapes.py DIR masks-folder N SEED    DIR/images/NAME.png and DIR/masks/NAME.png

The pictures come from tools/train-default-model/train.py's own generator (a seed other than
its training and held-out sets), so the head sees new pictures of the kind the backbone knows.
Needs numpy and Debian's python3-torch (train.py imports it); exits 77 (skip) without them."""
import importlib.util
import os
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools",
                                "train-default-model"))
# train.py imports h5py for saving the model, which this script never does.
if importlib.util.find_spec("h5py") is None:
    sys.modules["h5py"] = types.ModuleType("h5py")
try:
    import train  # noqa: E402
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)


def main():
    out, layout, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    classes = layout.startswith("classes")
    per_class = n if classes else (n + len(train.CLASSES) - 1) // len(train.CLASSES)
    images, masks, labels = train.make_set(seed, per_class)
    for i in range(len(labels) if classes else n):
        name = train.CLASSES[labels[i]]
        if classes:
            folder = os.path.join(out, name)
            os.makedirs(folder, exist_ok=True)
            train.write_png(os.path.join(folder, f"{i:04d}.png"), images[i])
            if layout == "classes-masks":
                train.write_png(os.path.join(folder, f"{i:04d}-mask.png"), masks[i])
        elif layout == "masks-folder":
            for sub, pic in (("images", images[i]), ("masks", masks[i])):
                os.makedirs(os.path.join(out, sub), exist_ok=True)
                train.write_png(os.path.join(out, sub, f"{name}-{i:04d}.png"), pic)
        else:
            os.makedirs(out, exist_ok=True)
            train.write_png(os.path.join(out, f"{name}-{i:04d}.png"), images[i])
            train.write_png(os.path.join(out, f"{name}-{i:04d}-mask.png"), masks[i])


main()
