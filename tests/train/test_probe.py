"""`offshoot probe`: linear probes per layer of the default model on pictures of its world.

The class folders come from tests/train/make-shapes.py (the default model's own generator, a seed
it was not trained on). Checked: the last layer's probe reads what the model itself reads, a
model with its weights shuffled gives probes near chance, and PyTorch fitting the same recipe on
the saved features gets the same accuracies. Cases skip when Debian's numpy/torch are absent."""
import array
import ast
import csv
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, corpus, main, offshoot, source, tempdir  # noqa: E402
from clitest import read_png as clitest_read_png  # noqa: E402

PYTHON = "/usr/bin/python3"
# tools/train-default-model/train.py's CLASSES: the order of the model's outputs.
MODEL_CLASSES = ["circle", "square", "triangle", "cross"]
_data = {}


def make_shapes(layout, n, seed):
    """tests/train/make-shapes.py's pictures, made once: a folder per class ("classes", n a
    class) or pictures with NAME-mask.png beside them ("masks", n in all)."""
    key = (layout, n, seed)
    if key not in _data:
        if not os.path.exists(PYTHON):
            raise Skip(f"{PYTHON} is absent")
        out = tempfile.mkdtemp(prefix="osh-probe-")
        r = subprocess.run([PYTHON, source("tests", "train", "make-shapes.py"), out, layout,
                            str(n), str(seed)], capture_output=True, text=True)
        if r.returncode == 77:
            raise Skip(r.stdout.strip())
        assert r.returncode == 0, r.stderr
        _data[key] = out
    return _data[key]


def shapes(per_class=100, seed=777):
    return make_shapes("classes", per_class, seed)


def mask_shapes(n=200, seed=777):
    return make_shapes("masks", n, seed)


def probe(*args):
    r = offshoot("probe", "@default", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def read_npy(path):
    """A float32 .npy as (shape, flat values): the format's header is a Python dict literal."""
    with open(path, "rb") as f:
        assert f.read(8) == b"\x93NUMPY\x01\x00"
        size = int.from_bytes(f.read(2), "little")
        header = ast.literal_eval(f.read(size).decode("latin-1"))
        assert header["descr"] == "<f4" and not header["fortran_order"], header
        values = array.array("f")
        values.frombytes(f.read())
    return header["shape"], values


@case
def last_layer_probe_reads_what_the_model_reads():
    feats = tempdir()
    res = probe("--data", shapes(), "--layers", "every:4", "--save-features", feats,
                "-o", os.path.join(feats, "table.csv"))
    assert res["classes"] == sorted(MODEL_CLASSES), res["classes"]
    assert res["train"] == 320 and res["validation"] == 80, res
    last = res["layers"][-1]
    assert last["layer"] == "predictions" and last["features"] == 4, last
    # The model's own answer on the same validation pictures: the argmax of its softmax.
    (n, k), probs = read_npy(os.path.join(feats, "predictions.npy"))
    _, labels = read_npy(os.path.join(feats, "labels.npy"))
    right = 0
    for i in range(res["train"], n):
        row = probs[i * k:(i + 1) * k]
        said = MODEL_CLASSES[max(range(k), key=row.__getitem__)]
        right += res["classes"].index(said) == int(labels[i])
    own = right / (n - res["train"])
    print(f"# validation accuracy: model {own:.3f}, probe on its last layer "
          f"{last['val_accuracy']:.3f}; chance {res['chance']:.3f}")
    assert own > 0.9, own
    assert abs(last["val_accuracy"] - own) <= 0.025, (last, own)  # two pictures of 80
    # Deep layers know the classes; the input's mean colour does not.
    first = res["layers"][0]
    assert first["layer"] == "input_layer" and first["val_accuracy"] < res["chance"] + 0.15, first
    # The CSV holds the same table.
    with open(os.path.join(feats, "table.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["layer"] for r in rows] == [layer["layer"] for layer in res["layers"]]
    assert abs(float(rows[-1]["val_accuracy"]) - last["val_accuracy"]) < 1e-5


@case
def shuffled_weights_give_probes_near_chance():
    trained = probe("--data", shapes(), "--layers", "every:3")
    shuffled = probe("--data", shapes(), "--layers", "every:3", "--shuffle-weights", "3")
    assert shuffled["shuffled_weights"] and shuffled["chance"] == trained["chance"]

    def deep_mean(res):
        deep = res["layers"][len(res["layers"]) * 2 // 3:]
        return sum(layer["val_accuracy"] for layer in deep) / len(deep)

    t, s, chance = deep_mean(trained), deep_mean(shuffled), trained["chance"]
    print(f"# mean validation accuracy of the deepest third: trained {t:.3f}, shuffled "
          f"{s:.3f}; chance {chance:.3f}")
    assert t > 0.85, t
    assert s < chance + 0.12, s
    assert shuffled["layers"][-1]["val_accuracy"] < chance + 0.12, shuffled["layers"][-1]


@case
def pytorch_fits_the_same_probes():
    feats = tempdir()
    res = probe("--data", shapes(), "--layers", "every:5", "--save-features", feats)
    r = subprocess.run([PYTHON, source("tests", "train", "probe-torch.py"), feats,
                        str(res["train"])], capture_output=True, text=True)
    if r.returncode == 77:
        raise Skip(r.stdout.strip())
    assert r.returncode == 0, r.stderr
    torch_acc = json.loads(r.stdout)
    worst = max(abs(layer["val_accuracy"] - torch_acc[layer["layer"].replace("/", ".")])
                for layer in res["layers"])
    print(f"# {len(res['layers'])} layers: largest gap to PyTorch {worst:.4f}")
    assert len(torch_acc) == len(res["layers"]), torch_acc
    assert worst <= 0.02, worst


@case
def pytorch_fits_the_same_mlp_probes():
    """--head mlp: one hidden layer of 64 ReLU units from the recipe's seeded Glorot start;
    PyTorch, started from the same numbers, gets the same accuracies."""
    feats = tempdir()
    res = probe("--data", shapes(), "--layers", "every:7", "--head", "mlp", "--save-features",
                feats)
    assert res["recipe"]["head"] == "mlp" and res["recipe"]["hidden"] == 64, res["recipe"]
    r = subprocess.run([PYTHON, source("tests", "train", "probe-torch.py"), feats,
                        str(res["train"]), "--hidden", "64", "--seed", "1"],
                       capture_output=True, text=True)
    if r.returncode == 77:
        raise Skip(r.stdout.strip())
    assert r.returncode == 0, r.stderr
    torch_acc = json.loads(r.stdout)
    gaps = [abs(layer["val_accuracy"] - torch_acc[layer["layer"].replace("/", ".")])
            for layer in res["layers"]]
    linear = probe("--data", shapes(), "--layers", "every:7")
    print(f"# {len(gaps)} MLP probes: largest gap to PyTorch {max(gaps):.4f}; last layer mlp "
          f"{res['layers'][-1]['val_accuracy']:.3f}, linear {linear['layers'][-1]['val_accuracy']:.3f}")
    assert len(torch_acc) == len(res["layers"]), torch_acc
    # Not convex: float32 sums in another order may end a shallow, near-chance layer's fit one
    # or two of 80 pictures apart; layers that know the classes agree to the picture.
    assert sum(gaps) / len(gaps) <= 0.02 and max(gaps) <= 0.04, gaps
    assert all(g < 0.013 for g, layer in zip(gaps, res["layers"]) if layer["val_accuracy"] > 0.8)
    assert res["layers"][-1]["val_accuracy"] > 0.9, res["layers"][-1]


@case
def features_stream_in_groups_with_the_same_result():
    data = shapes()
    whole = probe("--data", data, "--layers", "every:10")
    # A budget below one layer's features: one pass per layer.
    parts = probe("--data", data, "--layers", "every:10", "--group-mb", "0.001")
    assert whole["passes"] == 1 and parts["passes"] == len(parts["layers"]), (whole, parts)
    assert [layer["val_accuracy"] for layer in whole["layers"]] == \
        [layer["val_accuracy"] for layer in parts["layers"]]


def check_kept(model, layer, out):
    """Probes `layer` of `model`, keeps it as a head in `out`, runs the saved model on the
    validation pictures and returns (largest probability gap, pictures of the same class, n)."""
    r = offshoot("probe", model, "--json", "--data", shapes(), "--layers", layer, "--keep", layer,
                 "--save-model", out)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    kept = res["kept"]
    assert kept["layer"] == layer and kept["head"] == "aux_head_out", kept
    val = kept["validation"]
    assert len(val) == res["validation"] == 80, len(val)
    runs = []
    for at in range(0, len(val), 16):  # `run` takes up to 16 pictures at once
        r = offshoot("run", out, *[v["picture"] for v in val[at:at + 16]], "--top", "4", "--json")
        assert r.returncode == 0, r.stderr
        runs += json.loads(r.stdout)["runs"]
    worst, agree = 0.0, 0
    for v, run in zip(val, runs):
        head = run["outputs"][kept["output"]]
        assert head["name"] == "aux_head_out", head["name"]
        p = [0.0] * 4
        for t in head["top"]:
            p[t["index"]] = t["p"]
        worst = max(worst, max(abs(a - b) for a, b in zip(p, v["probabilities"])))
        agree += max(range(4), key=p.__getitem__) == max(range(4), key=v["probabilities"].__getitem__)
    return worst, agree, len(val)


@case
def a_kept_probe_predicts_as_the_probe_did():
    """--keep attaches the probe as GlobalAveragePooling2D + Dense with its fitted weights and the
    standardisation folded in; the saved model's new output, run by `offshoot run` on the
    validation pictures, gives the probe's own probabilities."""
    worst, agree, n = check_kept("@default", "block5a_project_conv",
                                 os.path.join(tempdir(), "kept.keras"))
    print(f"# {n} validation pictures: largest probability gap {worst:.2e}, same class {agree}/{n}")
    assert agree == n and worst < 1e-4, (worst, agree)


@case
def an_onnx_model_is_probed_and_its_probe_kept():
    """The default model exported to ONNX (NCHW, its own node names): the probes read the same
    as on the Keras model, and a kept probe becomes a Gemm head that predicts as the probe."""
    onnx = os.path.join(tempdir(), "default.onnx")
    r = offshoot("export", "@default", "-o", onnx)
    assert r.returncode == 0, r.stderr
    keras = probe("--data", shapes(), "--layers", "every:10")
    r = offshoot("probe", onnx, "--json", "--data", shapes(), "--layers", "every:10")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["chance"] == keras["chance"]
    last, k_last = res["layers"][-1], keras["layers"][-1]
    print(f"# ONNX: {len(res['layers'])} layers, last {last['layer']} {last['val_accuracy']:.3f} "
          f"(Keras {k_last['val_accuracy']:.3f}); chance {res['chance']:.3f}")
    assert last["val_accuracy"] > 0.9 and abs(last["val_accuracy"] - k_last["val_accuracy"]) <= 0.025
    deep = [layer for layer in res["layers"] if "block6a_activation" in layer["layer"]]
    assert deep and deep[0]["pooled"], res["layers"]
    worst, agree, n = check_kept(onnx, deep[0]["layer"], os.path.join(tempdir(), "kept.onnx"))
    print(f"# ONNX kept at {deep[0]['layer']}: largest probability gap {worst:.2e}, "
          f"same class {agree}/{n}")
    assert agree == n and worst < 1e-4, (worst, agree)


FACE = corpus("keras2", "face_classification", "fer2013_mini_XCEPTION.102-0.66.hdf5")


@case
def a_face_model_from_the_corpus_is_probed():
    """mini-Xception (Keras 2, grayscale 64×64, 7 emotions) on the shapes: its layers know some of
    the shapes (above chance, though it never saw them), and a kept probe predicts as the probe."""
    if not os.path.exists(FACE):
        raise Skip("../shared/corpus is absent")
    r = offshoot("probe", FACE, "--json", "--data", shapes(), "--layers", "every:3")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    best = max(res["layers"], key=lambda layer: layer["val_accuracy"])
    print(f"# mini-Xception: {len(res['layers'])} layers, best {best['layer']} "
          f"{best['val_accuracy']:.3f}; chance {res['chance']:.3f}")
    assert best["val_accuracy"] > res["chance"] + 0.1, best
    worst, agree, n = check_kept(FACE, "add_4", os.path.join(tempdir(), "face-kept.h5"))
    print(f"# mini-Xception kept at add_4: largest probability gap {worst:.2e}, same class "
          f"{agree}/{n}")
    assert agree == n and worst < 1e-4, (worst, agree)


@case
def mask_probes_find_the_object_as_pytorch_does():
    """--masks: a 1×1-convolution probe per spatial layer, read as IoU against the masks. Deep
    layers find the shape (well above the IoU of calling everything foreground), a 1×1 map cannot,
    a layer without a map is left out; PyTorch repeating the recipe on the saved maps agrees."""
    feats = tempdir()
    layers = "input_layer,block2a_dwconv,block2a_se_expand,block4a_bn,block6a_expand_activation," \
             "top_bn,predictions"
    res = probe("--data", mask_shapes(), "--masks", "--layers", layers, "--save-features", feats)
    assert res["recipe"]["head"] == "mask" and res["validation"] == 40, res["recipe"]
    iou = {layer["layer"]: layer["val_iou"] for layer in res["layers"]}
    chance = res["chance"]
    print("# mask IoU: " + ", ".join(f"{k} {v if v is None else round(v, 3)}" for k, v in iou.items())
          + f"; everything-foreground {chance:.3f}")
    assert iou["predictions"] is None  # (1, 4): no map
    assert iou["block2a_se_expand"] <= chance  # 1×1: one guess for the whole picture
    assert iou["block6a_expand_activation"] > chance + 0.25, iou
    assert iou["input_layer"] < iou["block4a_bn"], iou
    r = subprocess.run([PYTHON, source("tests", "train", "probe-mask-torch.py"), feats,
                        str(res["train"])] + [layer["layer"] for layer in res["layers"]],
                       capture_output=True, text=True)
    if r.returncode == 77:
        raise Skip(r.stdout.strip())
    assert r.returncode == 0, r.stderr
    torch_iou = json.loads(r.stdout)
    assert set(torch_iou) == {k for k, v in iou.items() if v is not None}, torch_iou
    worst = max(abs(iou[k] - v) for k, v in torch_iou.items())
    print(f"# {len(torch_iou)} mask probes: largest IoU gap to PyTorch {worst:.4f}")
    assert worst <= 0.02, (iou, torch_iou)
    shuffled = probe("--data", mask_shapes(), "--masks", "--layers", layers, "--shuffle-weights",
                     "3")
    s_iou = {layer["layer"]: layer["val_iou"] for layer in shuffled["layers"]}
    print(f"# shuffled weights: block6a_expand_activation {s_iou['block6a_expand_activation']:.3f}")
    assert s_iou["block6a_expand_activation"] < iou["block6a_expand_activation"] - 0.1, s_iou


def read_png(path):
    """An RGB or RGBA PNG (what cairo writes) as (width, height, rows of (r, g, b))."""
    w, h, bpp, raw = clitest_read_png(path)
    assert bpp in (3, 4), (path, bpp)
    return w, h, [[tuple(line[x * bpp:x * bpp + 3]) for x in range(w)] for line in raw]


# The ends of the colour scale (ui/graph/osh-colormap.c): viridis's first and last stops.
LOW, HIGH = (68, 1, 84), (253, 231, 37)


def share_near(rows, colour, tol=40):
    near = sum(1 for row in rows for p in row if sum(abs(a - b) for a, b in zip(p, colour)) < tol)
    return near / sum(len(row) for row in rows)


@case
def render_colours_the_graph_by_accuracy():
    """--render draws the graph with the window's colouring: a trained model's deep layers are
    near the scale's yellow end, its shuffled copy's nodes near the violet (chance) end."""
    out = tempdir()
    trained, shuffled = os.path.join(out, "trained.png"), os.path.join(out, "shuffled.png")
    probe("--data", shapes(), "--layers", "every:2", "--render", trained)
    probe("--data", shapes(), "--layers", "every:2", "--render", shuffled, "--shuffle-weights", "3")
    w, h, t_rows = read_png(trained)
    _, _, s_rows = read_png(shuffled)
    t_high, t_low = share_near(t_rows, HIGH, 120), share_near(t_rows, LOW, 120)
    s_high, s_low = share_near(s_rows, HIGH, 120), share_near(s_rows, LOW, 120)
    print(f"# {w}x{h} px; share of pixels near the high / low end: trained {t_high:.3f} / "
          f"{t_low:.3f}, shuffled {s_high:.3f} / {s_low:.3f}")
    assert t_high > 0.01 and t_high > 10 * s_high, (t_high, s_high)
    assert s_low > 1.3 * t_low, (s_low, t_low)  # near chance, the shuffled fits vary a little
    for ext in ("svg", "pdf"):
        path = os.path.join(out, "graph." + ext)
        probe("--data", shapes(), "--layers", "every:8", "--render", path)
        with open(path, "rb") as f:
            head = f.read(5)
        assert head == (b"%PDF-" if ext == "pdf" else b"<?xml"), head


@case
def unknown_layer_and_missing_classes_are_named():
    r = offshoot("probe", "@default", "--data", shapes(), "--layers", "no_such_layer")
    assert r.returncode != 0 and "no_such_layer" in r.stderr, r.stderr
    empty = tempdir()
    os.makedirs(os.path.join(empty, "only"))
    r = offshoot("probe", "@default", "--data", empty)
    assert r.returncode != 0 and "only" in r.stderr, r.stderr


main()
