"""Heads on ONNX graphs: `--attach NODE=HEAD` on a PyTorch export adds ONNX nodes (Conv,
BatchNormalization, Relu, ...) and a second graph output; `offshoot export` writes an .onnx that
ONNX Runtime (the independent reference) loads, and both of its outputs equal `offshoot run`'s,
within 1e-4 × max(1, max|ref|)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, offshoot_json, source, tempdir  # noqa: E402
from ortcheck import assert_close, ort_run, our_run  # noqa: E402

MOBILENET = source("tests", "onnx", "fixtures", "mobilenet_v3_small_x025.onnx")
X = source("tests", "onnx", "fixtures", "mobilenet_v3_small_x025.input.npy")
AT = "/features/features.2/block/block.1/block.1.2/Relu"  # 24 channels, 8x8


def export_with(head, at=AT):
    work = tempdir()
    out = os.path.join(work, "with_head.onnx")
    r = offshoot("export", MOBILENET, "--attach", f"{at}={head}", "-o", out)
    assert r.returncode == 0, r.stderr
    return out


@case
def seed_head_on_an_onnx_graph_runs_and_onnx_runtime_agrees_on_both_outputs():
    ours = our_run(MOBILENET, X, "--attach", f"{AT}=seg")
    assert [n for n, _ in ours][1] == "aux_head_out"
    assert ours[1][1].shape == (1, 1, 8, 8), ours[1][1].shape  # NCHW: 1 channel at 8x8
    exported = export_with("seg")
    layers = {l["name"]: l for l in offshoot_json("inspect", exported)["layers"]}
    assert [layers[n]["class_name"] for n in
            ["aux_head_conv", "aux_head_bn", "aux_head_relu", "aux_head_out"]] == \
        ["Conv", "BatchNormalization", "Relu", "Conv"]
    assert layers["aux_head_conv"]["params"] == 3 * 3 * 24 * 128 + 128
    # The exported file runs the same in Offshoot as the edit did, and ONNX Runtime agrees.
    assert_close(our_run(exported, X), ours)
    assert_close(ours, ort_run(exported, X))


@case
def classifier_and_chain_heads_export_and_match_onnx_runtime():
    for head in ["classifier:5",
                 "conv2d(filters=16,kernel_size=3,strides=2,padding=same,activation=relu),"
                 "batchnorm,activation(activation=sigmoid)",
                 "gap,dense(units=7,activation=tanh),dense(units=3)",
                 "conv2d(filters=4,kernel_size=1,activation=tanh),activation(activation=linear)"]:
        exported = export_with(head)
        assert_close(our_run(exported, X), ort_run(exported, X))
    # The exporter's rule for each layer, named after the head's layers: the layer's last node
    # takes its name, a linear activation is a node of its own.
    layers = [(l["name"], l["class_name"]) for l in offshoot_json("inspect", exported)["layers"]
              if l["name"].startswith("aux_head")]
    assert layers == [("aux_head_conv_conv", "Conv"), ("aux_head_conv", "Tanh"),
                      ("aux_head_out", "Identity")], layers


@case
def the_head_can_be_attached_at_a_tensor_name():
    out = tempdir()
    a = our_run(MOBILENET, X, "--attach", f"{AT}=seg:8:2")
    r = offshoot("export", MOBILENET, "--attach", f"{AT}_output_0=seg:8:2", "-o",
                 os.path.join(out, "m.onnx"))
    assert r.returncode == 0, r.stderr
    assert_close(our_run(os.path.join(out, "m.onnx"), X), a)


@case
def the_keras_snippet_is_refused_for_an_onnx_graph():
    work = tempdir()
    snippet, model = os.path.join(work, "edit.py"), os.path.join(work, "m.onnx")
    r = offshoot("attach", MOBILENET, "--attach", f"{AT}=seg", "-o", model, "--python", snippet)
    assert r.returncode != 0
    assert "ONNX graph: there is no Keras code" in r.stderr, r.stderr
    assert not os.path.exists(snippet) and not os.path.exists(model)


@case
def a_head_that_does_not_fit_is_refused_before_anything_changes():
    r = offshoot("run", MOBILENET, X, "--attach", f"{AT}=dense(units=3)")
    assert r.returncode != 0
    assert "aux_head_out" in r.stderr and "2-D input" in r.stderr, r.stderr
    r = offshoot("run", MOBILENET, X, "--attach", "/no/such/Node=seg")
    assert r.returncode == 2 and "no layer '/no/such/Node'" in r.stderr, r.stderr


main()
