"""The graph first (osh_model_load_graph): `inspect` and `render` read a model's graph and weight
shapes without the weight values, so a model whose weight data is damaged still opens for
looking at, and fails, clearly, only where the values are needed (`inspect --weights`, `run`)."""
import os
import shutil
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, corpus, main, offshoot, offshoot_json, source, tempdir  # noqa: E402

MNIST = corpus("keras3", "mnist_cnn.keras")


def truncated_copy(folder):
    """mnist_cnn.keras with its model.weights.h5 cut to half, in an otherwise intact archive."""
    if not os.path.exists(MNIST):
        raise Skip("corpus absent")
    path = os.path.join(folder, "truncated.keras")
    with zipfile.ZipFile(MNIST) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "model.weights.h5":
                data = data[: len(data) // 2]
            dst.writestr(info, data)
    return path


@case
def truncated_keras_weights_open_the_graph():
    folder = tempdir()
    try:
        path = truncated_copy(folder)
        whole = offshoot_json("inspect", MNIST)
        cut = offshoot_json("inspect", path)
        assert [l["name"] for l in cut["layers"]] == [l["name"] for l in whole["layers"]], cut
        assert [l["output_shape"] for l in cut["layers"]] == \
            [l["output_shape"] for l in whole["layers"]], cut
        assert "model.weights.h5" in cut["weights_error"] and "truncated" in cut["weights_error"], cut
        r = offshoot("inspect", path)
        assert r.returncode == 0 and "Warning: the weights cannot be read: " in r.stdout, r
        for name, model in (("whole", MNIST), ("cut", path)):
            r = offshoot("render", model, "-o", os.path.join(folder, name + ".dot"))
            assert r.returncode == 0, r.stderr
        # The same boxes and edges (box sizes differ: labels show the weight shapes read).
        def structure(name):
            with open(os.path.join(folder, name + ".dot")) as f:
                return [line.split(" [")[0] + line.partition("tooltip=")[2] for line in f
                        if "->" in line or "tooltip=" in line]
        assert structure("whole") == structure("cut") and len(structure("cut")) > 10
    finally:
        shutil.rmtree(folder)


@case
def truncated_keras_weights_fail_when_needed():
    folder = tempdir()
    try:
        path = truncated_copy(folder)
        r = offshoot("inspect", "--weights", path)
        assert r.returncode == 2, (r.returncode, r.stdout)
        assert f"{path}: model.weights.h5: HDF5 cannot open" in r.stderr, r.stderr
    finally:
        shutil.rmtree(folder)


@case
def damaged_weight_bytes_fail_their_checksum_when_needed():
    """model.weights.h5 is read in place in the archive: the zip's CRC still guards its bytes."""
    if not os.path.exists(MNIST):
        raise Skip("corpus absent")
    folder = tempdir()
    try:
        path = os.path.join(folder, "flipped.keras")
        shutil.copy(MNIST, path)
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("model.weights.h5")
        assert info.compress_type == zipfile.ZIP_STORED
        with open(path, "r+b") as f:
            f.seek(info.header_offset + 26)
            name_len, extra_len = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
            f.seek(info.header_offset + 30 + name_len + extra_len + info.file_size - 100)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0x55]))
        assert offshoot("inspect", path).returncode == 0
        r = offshoot("inspect", "--weights", path)
        assert r.returncode == 2 and f"{path}: 'model.weights.h5' is damaged (CRC error)" in r.stderr, r
    finally:
        shutil.rmtree(folder)


@case
def short_tfjs_shard_opens_the_graph_with_its_parameters():
    path = source("tests", "robustness", "malformed", "tfjs-short-shard", "model.json")
    doc = offshoot_json("inspect", path)
    assert doc["total_params"] == 8, doc
    r = offshoot("inspect", "--weights", path)
    assert r.returncode == 2, r
    assert "weight 'fc/kernel' needs 24 bytes at byte 0 but the shards hold 20 in all" in r.stderr, r


@case
def graph_and_weights_give_the_same_summary():
    if not os.path.exists(MNIST):
        raise Skip("corpus absent")
    graph = offshoot_json("inspect", MNIST)
    whole = offshoot_json("inspect", "--weights", MNIST)
    assert graph == whole, (graph, whole)


@case
def classes_without_a_config_rule_read_their_shapes_from_the_file():
    """A .keras of a layer whose weights the config alone does not tell here (LSTM, PReLU) has
    its graph read through the HDF5 headers (the guard's child) as before: the same summary."""
    folder = tempdir()
    try:
        for name in ("rnn_4", "adv_act_2"):
            h5 = corpus("keras2", "dl4j", "tfkeras", name + ".h5")
            if not os.path.exists(h5):
                raise Skip("corpus absent")
            path = os.path.join(folder, name + ".keras")
            r = offshoot("export", h5, "-o", path)
            assert r.returncode == 0, r.stderr
            graph = offshoot_json("inspect", path)
            assert graph["total_params"] in (264, 6), graph
            assert graph == offshoot_json("inspect", "--weights", path), name
    finally:
        shutil.rmtree(folder)


@case
def weights_unlike_the_config_fail_when_needed():
    """The graph of a .keras comes from its config alone: a model.weights.h5 whose shapes differ
    from what the config implies (here Dense units 128 said to be 64) opens with the config's
    numbers and is refused, naming the layer and both shapes, where the values are needed."""
    import json
    if not os.path.exists(MNIST):
        raise Skip("corpus absent")
    folder = tempdir()
    try:
        path = os.path.join(folder, "units.keras")
        with zipfile.ZipFile(MNIST) as src, zipfile.ZipFile(path, "w") as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "config.json":
                    config = json.loads(data)
                    for layer in config["config"]["layers"]:
                        if layer["config"].get("units") == 128:
                            layer["config"]["units"] = 64
                    data = json.dumps(config).encode()
                dst.writestr(info, data)
        graph = offshoot_json("inspect", path)
        assert graph["total_params"] == 1600 * 64 + 64 + 64 * 10 + 10 + 18816, graph["total_params"]
        r = offshoot("inspect", "--weights", path)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert "layer 'dense' (Dense): weight 0 'vars/0' has shape (1600, 128), the config implies " \
            "(?, 64)" in r.stderr, r.stderr
    finally:
        shutil.rmtree(folder)


main()
