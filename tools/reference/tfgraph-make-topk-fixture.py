#!/usr/bin/python3
"""Writes tests/tfgraph/fixtures/topk-unsorted/: a TF.js graph model whose TopKV2 nodes say
`sorted` false, where tfjs's CPU backend returns the k largest in the order its Floyd–Rivest
selection leaves them: rows of 1500 values (over 600, so the selection samples a sub-range
first), the same with many ties (Floor of 8·x), rows of 50, and k equal to the row (no
selection: the input order). tests/tfgraph/test_tfgraph_save_dtypes.py runs it in Offshoot and
in tfjs. Uses the node and constant helpers of tfgraph-make-fixture.py. Run from the source root:

    /usr/bin/python3 tools/reference/tfgraph-make-topk-fixture.py
"""
import importlib.util
import json
import os

import numpy as np

spec = importlib.util.spec_from_file_location(
    "fixture", os.path.join(os.path.dirname(__file__), "tfgraph-make-fixture.py"))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)


def placeholder(name, *dims):
    fx.nodes.append({"name": name, "op": "Placeholder", "attr": {
        "shape": {"shape": {"dim": [{"size": str(d)} for d in dims]}}, "dtype": {"type": "DT_FLOAT"}}})
    return name


def topk(name, x, k):
    fx.node(name, "TopKV2", [x, fx.i32(name + "/k", k)], sorted={"b": False})
    fx.node(name + "/values", "Identity", [name])
    fx.node(name + "/indices", "Identity", [name + ":1"], T={"type": "DT_INT32"})


def build():
    wide = placeholder("wide", 2, 1500)
    small = placeholder("small", 3, 50)
    topk("wide_top", wide, 40)
    ties = fx.node("ties", "Floor", [fx.node("ties/x8", "Mul", [wide, fx.const("ties/eight", np.float32(8))])])
    topk("ties_top", ties, 30)
    topk("small_top", small, 9)
    topk("small_all", small, 50)


if __name__ == "__main__":
    build()
    folder = os.path.join(fx.FIXTURES, "topk-unsorted")
    fx.write(folder, 1)
    with open(os.path.join(folder, "model.json")) as f:
        doc = json.load(f)
    doc["generatedBy"] = "tools/reference/tfgraph-make-topk-fixture.py"
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
