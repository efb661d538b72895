"""`offshoot check` on ONNX files that read a tensor nothing produces: the report names the node
and the missing tensor, the fix re-points the node at the same-named tensor of the graph, and
ONNX Runtime (which refuses the broken file) runs the fixed one with the same outputs as the
head attached directly. The broken files are real exports with one name changed in place (same
length, so the protobuf stays valid)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, offshoot_json, source, tempdir  # noqa: E402
from ortcheck import ORT_SCRIPT, assert_close, ort_run, our_run  # noqa: E402

MOBILENET = source("tests", "onnx", "fixtures", "mobilenet_v3_small_x025.onnx")
X = source("tests", "onnx", "fixtures", "mobilenet_v3_small_x025.input.npy")
AT = "/features/features.2/block/block.1/block.1.2/Relu"
TENSOR = AT + "_output_0"
FOREIGN = "backbone1/" + TENSOR[len("/features/"):]  # as if taken from another copy's scope


def field(tag, text):
    """A protobuf string field: tag byte, one-byte length, the text."""
    data = text.encode()
    assert len(data) < 128
    return bytes([tag, len(data)]) + data


def rewrite(path, out, old, new, before=None):
    """Writes `path` to `out` with the last `old` (before the bytes `before`, if given) replaced."""
    data = open(path, "rb").read()
    end = data.index(before) if before else len(data)
    at = data.rindex(old, 0, end)
    open(out, "wb").write(data[:at] + new + data[at + len(old):])
    return out


def ort_refuses(model):
    r = subprocess.run(["node", ORT_SCRIPT, model, X, tempdir()], cwd=source(), capture_output=True,
                       text=True)
    return r.returncode != 0


@case
def a_head_reading_a_tensor_of_another_graph_is_explained_and_fixed():
    work = tempdir()
    head = os.path.join(work, "head.onnx")
    r = offshoot("export", MOBILENET, "--attach", f"{AT}=seg", "-o", head)
    assert r.returncode == 0, r.stderr
    # aux_head_conv's input (NodeProto field 1) comes before its name (field 3).
    broken = rewrite(head, os.path.join(work, "broken.onnx"), field(0x0A, TENSOR),
                     field(0x0A, FOREIGN), before=field(0x1A, "aux_head_conv"))
    r = offshoot("check", broken)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert f"node 'aux_head_conv' (Conv) reads tensor '{FOREIGN}', which no node of this graph " \
        "produces" in r.stdout, r.stdout
    doc = offshoot_json("check", broken, expect_code=1)
    assert doc["disconnected_outputs"] == ["aux_head_out"], doc
    assert doc["foreign_roots"] == [FOREIGN], doc
    assert [f["id"] for f in doc["fixes"]] == ["rewire:aux_head_conv", "drop-branch:aux_head_out"]
    assert TENSOR in doc["fixes"][0]["description"], doc["fixes"][0]
    assert ort_refuses(broken), "ONNX Runtime loaded the broken file"
    fixed = os.path.join(work, "fixed.onnx")
    r = offshoot("check", broken, "--fix", "rewire:aux_head_conv", "-o", fixed)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert offshoot_json("check", fixed)["connected"]
    want = our_run(MOBILENET, X, "--attach", f"{AT}=seg")
    assert_close(our_run(fixed, X), want)
    assert_close(want, ort_run(fixed, X))
    dropped = os.path.join(work, "dropped.onnx")
    r = offshoot("check", broken, "--fix", "drop-branch:aux_head_out", "-o", dropped)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert_close(ort_run(dropped, X), want[:1])


@case
def a_removed_graph_input_is_explained():
    broken = rewrite(MOBILENET, os.path.join(tempdir(), "no_input.onnx"), field(0x0A, "input"),
                     field(0x0A, "inpuX"))  # the graph's input is renamed; the first Conv reads "input"
    r = offshoot("check", broken)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "node '/features/features.0/features.0.0/Conv' (Conv) reads tensor 'input'" in r.stdout
    assert "It depends on the tensor 'input', which no node of this graph produces" in r.stdout
    doc = offshoot_json("check", broken, expect_code=1)
    assert doc["foreign_roots"] == ["input"] and doc["fixes"] == [], doc
    assert ort_refuses(broken)


main()
