"""Saving a TF.js graph model keeps each weight as the manifest stored it (float16, uint8 or
uint16 quantized with the same min and scale), so the saved file is as large as the original
and tfjs loading it gets the same values bit for bit; weights Offshoot made (heads) are float32.

The reference: tfjs's own graph-model executor (tf.loadGraphModel in node,
tests/tfgraph/tfjs_graph_run.mjs) running the original and the saved file on the same inputs —
every output equal, not merely close. The models: the op fixture (float16, uint8, uint16 and
int32 constants), @vladmandic/human's float16 models as shipped, and human's float32 emotion
model quantized to uint8 here the way tensorflowjs_converter --quantize_uint8 does. Cases with
npm models skip with one line when the package is absent.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, source, tempdir  # noqa: E402
from graphmodels import (FIXTURE, HUMAN, REFERENCE, compare, need,  # noqa: E402
                         placeholder_inputs, tfjs_run, write_graph_model)

STORED_SIZE = {"float32": 4, "int32": 4, "float16": 2, "uint16": 2, "uint8": 1, "bool": 1}
HUMAN_FLOAT16 = ["antispoof", "facemesh", "handlandmark-lite", "movenet-lightning", "faceres"]


def manifest(model):
    with open(model) as f:
        doc = json.load(f)
    return doc, [w for g in doc["weightsManifest"] for w in g["weights"]]


def stored_bytes(model):
    """Each manifest entry's bytes in the shards, by name, and the shards' total size."""
    doc, _ = manifest(model)
    folder, out, total = os.path.dirname(model), {}, 0
    for group in doc["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        total += len(data)
        at = 0
        for w in group["weights"]:
            form = w.get("quantization", {}).get("dtype", w["dtype"])
            n = int(np.prod(w["shape"], dtype=np.int64)) * STORED_SIZE[form]
            out[w["name"]] = data[at:at + n]
            at += n
    return out, total


def float32_size(model):
    """What the shards took when every float weight was written float32 (before this change)."""
    return sum(int(np.prod(w["shape"], dtype=np.int64)) * 4 for w in manifest(model)[1])


def save(model, name="saved.json", *extra):
    saved = os.path.join(tempdir(), name)
    r = offshoot("attach" if extra else "export", model, *extra, "-o", saved)
    assert r.returncode == 0, r.stderr
    return saved


def outputs(model):
    return [o["name"] for o in json.loads(offshoot("inspect", model, "--json").stdout)["outputs"]]


def check_same_as_stored(model, saved):
    """Every weight of `model` is in `saved` with its dtype, quantization and bytes; the shards'
    size is the original's; tfjs gives equal outputs on both. Returns the two sizes."""
    _, before = manifest(model)
    _, after = manifest(saved)
    after = {w["name"]: w for w in after}
    for w in before:
        got = after.get(w["name"])
        assert got is not None, w["name"]
        assert got["dtype"] == w["dtype"] and got.get("quantization") == w.get("quantization"), \
            (w, got)
    want, want_size = stored_bytes(model)
    got, got_size = stored_bytes(saved)
    for name, data in want.items():
        assert got[name] == data, name
    assert got_size == want_size, (got_size, want_size)
    work = tempdir()
    names = outputs(model)
    inputs = placeholder_inputs(model, work)
    original = tfjs_run(model, inputs, names, os.path.join(work, "original"))
    resaved = tfjs_run(saved, inputs, names, os.path.join(work, "saved"))
    for name, a, b in zip(names, original, resaved):
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True), name
    return want_size, got_size


@case
def the_op_fixture_keeps_float16_uint8_and_uint16_weights():
    need(os.path.join(REFERENCE, "@tensorflow", "tfjs"), "tfjs")
    saved = save(FIXTURE)
    forms = {w.get("quantization", {}).get("dtype") for w in manifest(saved)[1]}
    assert {"float16", "uint8", "uint16"} <= forms, forms
    before, after = check_same_as_stored(FIXTURE, saved)
    print(f"# op fixture: shards {before} bytes, saved {after} (all float32: "
          f"{float32_size(FIXTURE)})")


@case
def human_float16_models_save_at_their_size_and_run_the_same_in_tfjs():
    need(HUMAN, "@vladmandic/human")
    for name in HUMAN_FLOAT16:
        model = os.path.join(HUMAN, name + ".json")
        before, after = check_same_as_stored(model, save(model))
        print(f"# {name}: {before} bytes, saved {after} (all float32: {float32_size(model)})")


def quantize_uint8(model, folder):
    """`model` with every float32 weight quantized to uint8 as tensorflowjs_converter does
    (per tensor: the range widened to hold 0, scale = range / 255, min nudged so 0 is a level),
    written as model.json and one shard in `folder`."""
    doc, _ = manifest(model)
    data, _ = stored_bytes(model)
    weights, shard = [], []
    for group in doc["weightsManifest"]:
        for w in group["weights"]:
            raw = data[w["name"]]
            if w["dtype"] == "float32" and "quantization" not in w:
                v = np.frombuffer(raw, "<f4").astype(np.float64)
                lo, hi = min(v.min(), 0.0), max(v.max(), 0.0)
                scale = (hi - lo) / 255 or 1.0
                zero = round(-lo / scale)
                q = np.clip(np.round(v / scale) + zero, 0, 255).astype("<u1")
                w = dict(w, quantization={"dtype": "uint8", "min": -zero * scale, "scale": scale,
                                          "original_dtype": "float32"})
                raw = q.tobytes()
            weights.append(w)
            shard.append(raw)
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(b"".join(shard))
    doc["weightsManifest"] = [{"paths": ["weights.bin"], "weights": weights}]
    out = os.path.join(folder, "model.json")
    with open(out, "w") as f:
        json.dump(doc, f)
    return out


@case
def a_uint8_quantized_real_model_saves_at_its_size_and_runs_the_same_in_tfjs():
    need(HUMAN, "@vladmandic/human")
    model = quantize_uint8(os.path.join(HUMAN, "emotion.json"), tempdir())
    assert sum("quantization" in w for w in manifest(model)[1]) == 22
    compare(model)  # Offshoot reads the uint8 weights as tfjs does
    before, after = check_same_as_stored(model, save(model))
    print(f"# emotion as uint8: {before} bytes, saved {after} (all float32: "
          f"{float32_size(model)})")


@case
def heads_are_float32_beside_weights_kept_float16():
    need(HUMAN, "@vladmandic/human")
    model = os.path.join(HUMAN, "antispoof.json")
    at = next(l["name"] for l in json.loads(offshoot("inspect", model, "--json").stdout)["layers"]
              if len(l["output_shape"] or []) == 4 and l["class_name"] != "InputLayer")
    saved = save(model, "heads.json", "--attach", f"{at}=seg", "--attach", f"{at}=classifier:2")
    _, entries = manifest(saved)
    original = {w["name"]: w for w in manifest(model)[1]}
    heads = [w for w in entries if w["name"] not in original]
    assert all("quantization" not in w for w in heads), heads  # float32 (axes int32)
    assert {w["dtype"] for w in heads} == {"float32", "int32"}, heads
    kept = [w for w in entries if w["name"] in original]
    assert all(w.get("quantization") == original[w["name"]].get("quantization") for w in kept)
    want, _ = stored_bytes(model)
    got, _ = stored_bytes(saved)
    assert all(got[name] == data for name, data in want.items())
    worst = compare(saved, min_outputs=3)  # Offshoot and tfjs on the saved file, heads included
    print(f"# antispoof + 2 heads at {at}: {len(heads)} head constants, {worst}")


@case
def topk_unsorted_gives_the_order_tfjs_gives():
    # TopKV2 with sorted false: tfjs's CPU backend returns the k largest in the order its
    # Floyd–Rivest selection leaves them (tools/reference/tfgraph-make-topk-fixture.py).
    need(os.path.join(REFERENCE, "@tensorflow", "tfjs"), "tfjs")
    model = source("tests", "tfgraph", "fixtures", "topk-unsorted", "model.json")
    worst = compare(model, min_outputs=8, tolerance={})
    assert max(worst.values()) == 0, worst  # indices and values are exact: the same order
    work = tempdir()
    r = offshoot("run", model, *placeholder_inputs(model, work), "--save-outputs", work, "--json")
    got = {o["name"]: np.load(o["saved"]) for o in json.loads(r.stdout)["outputs"]}
    for name in ["wide_top", "ties_top", "small_top"]:  # the order is not the sorted one
        values, indices = got[name + "/values"], got[name + "/indices"]
        for v, i in zip(values, indices):
            ranked = np.lexsort((i, -v))  # larger first, ties by the lower index
            assert not np.array_equal(ranked, np.arange(len(v))), (name, v, i)
    # k as long as the row: no selection, the input's order
    assert np.array_equal(got["small_all/indices"], np.tile(np.arange(50), (3, 1))), \
        got["small_all/indices"]


def select_model(folder, cond_shape):
    """x (4, 3) → Select(a bool Const of `cond_shape`, x, ZerosLike(x)), written by hand."""
    nodes = [{"name": "x", "op": "Placeholder", "attr": {
        "shape": {"shape": {"dim": [{"size": "4"}, {"size": "3"}]}}, "dtype": {"type": "DT_FLOAT"}}},
        {"name": "cond", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_BOOL"}},
                                                 "dtype": {"type": "DT_BOOL"}}},
        {"name": "zeros", "op": "ZerosLike", "input": ["x"], "attr": {"T": {"type": "DT_FLOAT"}}},
        {"name": "pick", "op": "Select", "input": ["cond", "x", "zeros"],
         "attr": {"T": {"type": "DT_FLOAT"}}}]
    cond = (np.arange(int(np.prod(cond_shape))) % 3 != 1).astype("u1").reshape(cond_shape)
    return write_graph_model(folder, nodes, [("cond", cond, "bool")])


@case
def a_bool_constant_is_saved_as_bool_and_a_rank_1_select_is_refused_as_tfjs_refuses_it():
    need(os.path.join(REFERENCE, "@tensorflow", "tfjs"), "tfjs")
    model = select_model(tempdir(), (4, 3))
    compare(model)
    saved = save(model)
    assert [w["dtype"] for w in manifest(saved)[1]] == ["bool"]
    check_same_as_stored(model, saved)
    # TF's Select with a rank-1 condition picks rows; tfjs's where() refuses the shapes
    model = select_model(tempdir(), (4,))
    work = tempdir()
    inputs = placeholder_inputs(model, work)
    try:
        tfjs_run(model, inputs, ["pick"], work)
        why = None
    except AssertionError as e:  # tfjs_run's failed run, with tfjs's message
        why = str(e)
    assert why and "could not be broadcast together with shapes 4 and 4,3" in why, why
    r = offshoot("run", model, *inputs)
    assert r.returncode != 0, r.stdout
    assert "layer 'pick' (Select): its condition (4,) is rank 1 and its values (4, 3) are not: " \
        "TensorFlow would pick whole rows with it, but tfjs refuses such a Select" in r.stderr, \
        r.stderr


main()
