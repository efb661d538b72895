"""Independent numbers for the reader tests, straight from h5py (not from Offshoot)."""
import json

import h5py


def weight_total(path):
    """The sum of the sizes of every dataset under model_weights (Keras's total params)."""
    total = 0
    with h5py.File(path, "r") as f:
        if "model_weights" not in f:
            return 0

        def visit(_name, obj):
            nonlocal total
            if isinstance(obj, h5py.Dataset):
                total += obj.size

        f["model_weights"].visititems(visit)
    return total


def has_model_config(path):
    with h5py.File(path, "r") as f:
        return "model_config" in f.attrs


def model_config(path):
    with h5py.File(path, "r") as f:
        v = f.attrs["model_config"]
        return json.loads(v.decode("utf-8") if isinstance(v, bytes) else v)
