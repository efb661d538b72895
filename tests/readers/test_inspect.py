"""offshoot inspect: the summary table and the JSON document of DESIGN.md, checked against h5py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from clitest import case, corpus, main, offshoot, offshoot_json  # noqa: E402
import h5sums  # noqa: E402

FACE = corpus("keras2", "face_classification", "fer2013_mini_XCEPTION.102-0.66.hdf5")


@case
def face_json_matches_h5py():
    d = offshoot_json("inspect", FACE)
    for key in ("format", "inputs", "outputs", "layers", "total_params"):
        assert key in d, f"'{key}' missing: {sorted(d)}"
    assert d["format"] == "keras-h5", d["format"]
    assert d["total_params"] == h5sums.weight_total(FACE) == 58423, d["total_params"]
    assert d["non_trainable_params"] == 1472, d["non_trainable_params"]
    config = h5sums.model_config(FACE)
    assert [l["name"] for l in d["layers"]] == [l["name"] for l in config["config"]["layers"]]
    assert [i["name"] for i in d["inputs"]] == ["input_1"], d["inputs"]
    assert [o["name"] for o in d["outputs"]] == ["predictions"], d["outputs"]
    conv = next(l for l in d["layers"] if l["name"] == "conv2d_1")
    assert conv == {**conv, "class_name": "Conv2D", "inbound": ["input_1"], "params": 72}, conv
    add = next(l for l in d["layers"] if l["name"] == "add_1")
    assert add["class_name"] == "Add" and len(add["inbound"]) == 2, add
    # Shapes: arrays with null for the batch.
    assert d["inputs"][0]["shape"] == [None, 64, 64, 1], d["inputs"]
    assert d["outputs"][0]["shape"] == [None, 7], d["outputs"]
    assert conv["output_shape"] == [None, 62, 62, 8], conv
    assert add["output_shape"] == [None, 30, 30, 16], add


@case
def face_table_like_keras_summary():
    r = offshoot("inspect", FACE)
    assert r.returncode == 0, r.stderr
    for text in ("conv2d_1 (Conv2D)", "(None, 62, 62, 8)", "Total params: 58,423", "Trainable params: 56,951",
                 "Non-trainable params: 1,472", 'Model: "model_1"'):
        assert text in r.stdout, f"'{text}' missing:\n{r.stdout}"


@case
def unreadable_model_is_exit_2_naming_the_file():
    bad = os.path.join(os.path.dirname(FACE), "test_image.jpg")
    r = offshoot("inspect", bad)
    assert r.returncode == 2, r.returncode
    assert "test_image.jpg" in r.stderr, r.stderr


@case
def usage_errors():
    assert offshoot("inspect").returncode == 2
    assert offshoot("inspect", FACE, "--frobnicate").returncode == 2


main()
