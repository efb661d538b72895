"""offshoot check / attach and the EDITS arguments, on a corpus model and on the seed fixture
(tests/edit/fixtures/seed, made by tools/reference/edit-make-seed.mjs with tfjs)."""
import ast
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, corpus, main, offshoot, offshoot_json, source, tempdir  # noqa: E402

FACE = corpus("keras2", "face_classification", "fer2013_mini_XCEPTION.102-0.66.hdf5")
SEED = source("tests", "edit", "fixtures", "seed", "model.h5")
TFJS = json.load(open(source("tests", "edit", "fixtures", "seed", "tfjs.json")))
INNER = "efficientnet/block5a_expand_conv"
KEYS = ["connected", "message", "disconnected_outputs", "foreign_roots", "bridges", "unused_layers", "fixes"]


def need(path):
    if not os.path.exists(path):
        raise Skip(f"{path} is absent")


def need_seed():
    r = offshoot("check", SEED)
    if r.returncode == 2 and "no layer of the model produces" in r.stderr:
        # Keras 2 numbers the calls of a nested Functional model from 1; the reader does not yet.
        raise Skip("the .h5 reader does not read nested-model node indices yet")
    assert r.returncode == 0, r.stderr


@case
def check_plain_model_is_connected():
    need(FACE)
    doc = offshoot_json("check", FACE)
    assert list(doc) == KEYS, list(doc)
    assert doc["connected"] is True and doc["message"] is None, doc
    assert doc["foreign_roots"] == [] and doc["bridges"] == [] and doc["fixes"] == [], doc


@case
def check_with_a_head_on_a_top_level_layer():
    need(FACE)
    for mode in ("connected", "keras"):  # top-level layers: both modes give a connected model
        doc = offshoot_json("check", FACE, "--attach", "add_4=seg:32:7", f"--attach-mode={mode}")
        assert doc["connected"] is True, doc


@case
def bad_edits_are_usage_errors():
    need(FACE)
    r = offshoot("check", FACE, "--attach", "add_4=conv2d(filters=8,kernel_size=3,padding=sme)")
    assert r.returncode == 2, r.returncode
    assert "column 40: padding is 'same' or 'valid'" in r.stderr, r.stderr
    r = offshoot("check", FACE, "--attach", "no_such_layer=seg")
    assert r.returncode == 2 and "no layer 'no_such_layer'" in r.stderr, r.stderr
    r = offshoot("check", FACE, "--attach-mode=sideways")
    assert r.returncode == 2 and "--attach-mode is 'keras' or 'connected'" in r.stderr, r.stderr
    r = offshoot("check", FACE, "--fix", "flatten:x")
    assert r.returncode == 2 and "it is connected" in r.stderr, r.stderr


@case
def a_head_that_does_not_fit_fails_on_the_model():
    need(FACE)
    r = offshoot("check", FACE, "--attach", "global_average_pooling2d_1=conv2d(filters=1,kernel_size=1)")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "head layer 'aux_head_out' (Conv2D) needs a 4-D input" in r.stderr, r.stderr


@case
def keras_mode_reproduces_graph_disconnected():
    need_seed()
    doc = offshoot_json("check", SEED, "--attach", f"{INNER}=seg", "--attach-mode=keras", expect_code=1)
    root = TFJS["keras_mode"]["at_layer"]  # where tfjs itself stopped: the backbone's own Input
    assert doc["connected"] is False
    assert doc["disconnected_outputs"] == ["aux_head_out"], doc
    assert doc["foreign_roots"] == [f"efficientnet/{root}"], doc
    assert doc["bridges"] == [{"from": INNER, "to": "aux_head_conv"}], doc
    assert doc["message"].startswith("Graph disconnected: cannot obtain value for tensor KerasTensor("), doc
    assert f"name='{root}'" in doc["message"], doc["message"]
    ids = [f["id"] for f in doc["fixes"]]
    assert ids == ["flatten:efficientnet", f"add-input:efficientnet/{root}", "drop-branch:aux_head_out"], ids
    r = offshoot("check", SEED, "--attach", f"{INNER}=seg", "--attach-mode=keras")
    assert r.returncode == 1
    assert "Fix: Flatten the nested model 'efficientnet'" in r.stdout, r.stdout


@case
def default_mode_and_every_fix_connect():
    need_seed()
    doc = offshoot_json("check", SEED, "--attach", f"{INNER}=seg")
    assert doc["connected"] is True, doc
    for fix in ("flatten:efficientnet", "add-input:efficientnet/input_1", "drop-branch:aux_head_out"):
        doc = offshoot_json("check", SEED, "--attach", f"{INNER}=seg", "--attach-mode=keras", "--fix", fix)
        assert doc["connected"] is True, (fix, doc)


@case
def attach_writes_the_keras_snippet():
    need(FACE)
    d = tempdir()
    out, py = os.path.join(d, "edited.h5"), os.path.join(d, "edit.py")
    r = offshoot("attach", FACE, "--attach", "add_4=seg", "-o", out, "--python", py)
    code = open(py).read()
    ast.parse(code)
    for needle in ['x = model.get_layer("add_4").output', 'name="aux_head_conv"', 'name="aux_head_bn"',
                   'name="aux_head_relu"', 'aux_1 = layers.Conv2D(filters=1, kernel_size=1',
                   "keras.Model(model.inputs, model.outputs + [aux_1]"]:
        assert needle in code, (needle, code)
    if r.returncode == 2 and "not implemented yet" in r.stderr:
        raise Skip("the .h5 writer has not landed")
    assert r.returncode == 0 and os.path.exists(out), r.stderr


@case
def attach_refuses_a_disconnected_model():
    need_seed()
    d = tempdir()
    r = offshoot("attach", SEED, "--attach", f"{INNER}=seg", "--attach-mode=keras", "-o", os.path.join(d, "x.h5"))
    assert r.returncode == 1, r.stderr
    assert "disconnected" in r.stderr and not os.path.exists(os.path.join(d, "x.h5")), r.stderr


def tfjs_agrees(model, shape, attach):
    """Attaches, exports model.json, runs it in tfjs and compares with `offshoot run` on the same
    input: max |diff| <= 1e-4 * max(1, max |tfjs|) for every output."""
    import numpy as np

    node = shutil.which("node")
    if not node:
        raise Skip("node is not installed")
    d = tempdir()
    x = (np.random.RandomState(7).rand(*shape).astype(np.float32) - 0.5) * 2
    np.save(os.path.join(d, "x.npy"), x)
    r = offshoot("attach", model, "--attach", attach, "-o", os.path.join(d, "model.json"))
    if r.returncode == 2 and "not implemented yet" in r.stderr:
        raise Skip("the TF.js writer has not landed")
    assert r.returncode == 0, r.stderr
    r = offshoot("run", model, os.path.join(d, "x.npy"), "--attach", attach, "--save-outputs", os.path.join(d, "ours"))
    assert r.returncode == 0, r.stderr
    subprocess.run([node, source("tools", "reference", "edit-tfjs-run.mjs"), os.path.join(d, "model.json"),
                    os.path.join(d, "x.npy"), os.path.join(d, "tfjs")], check=True, capture_output=True, timeout=600)
    names = sorted(os.listdir(os.path.join(d, "tfjs")))
    assert names == sorted(os.listdir(os.path.join(d, "ours"))) and "aux_head_out.npy" in names, names
    for name in names:
        ours, ref = np.load(os.path.join(d, "ours", name)), np.load(os.path.join(d, "tfjs", name))
        assert ours.shape == ref.shape, (name, ours.shape, ref.shape)
        diff = float(np.abs(ours - ref).max())
        assert diff <= 1e-4 * max(1.0, float(np.abs(ref).max())), (name, diff)


@case
def exported_head_runs_the_same_in_tfjs():
    need(FACE)
    tfjs_agrees(FACE, (1, 64, 64, 1), "add_4=seg")


@case
def exported_seed_head_runs_the_same_in_tfjs():
    need_seed()
    tfjs_agrees(SEED, (1, 64, 64, 3), f"{INNER}=seg")


main()
