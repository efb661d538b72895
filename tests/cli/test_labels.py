"""Class names travel with models (engine/io/osh-class-names.h): the default model names its
shapes, a labels.txt beside a model names its classes, export keeps the names in every format,
a 1000-class output gets the ImageNet names, and names that do not fit are a warning, not labels."""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, offshoot_json, source, tempdir  # noqa: E402

SEED = source("tests", "edit", "fixtures", "seed", "model.h5")  # 4 classes, names none
NAMES = ["alpha", "beta", "gamma", "delta"]


def samples():
    d = tempdir()
    r = offshoot("samples", "-o", d)
    assert r.returncode == 0, r.stderr
    return d


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def top(doc):
    (out,) = [o for o in doc["outputs"] if o["kind"] == "label"]
    return out


def imagenet():
    lines = open(source("resources", "imagenet-classes.txt"), encoding="utf-8").read().splitlines()
    return [line for line in lines if not line.startswith("#")]


@case
def default_model_names_its_classes():
    d = samples()
    shipped = open(os.path.join(d, "labels.txt")).read().split()
    out = top(offshoot_json("run", "@default", os.path.join(d, "circle-1.png")))
    assert out["top"][0]["label"] == "circle", out["top"]
    assert [e["label"] for e in out["top"]] == [shipped[e["index"]] for e in out["top"]], out["top"]
    r = offshoot("run", "@default", os.path.join(d, "square-1.png"))
    assert r.returncode == 0 and "1. square" in r.stdout, r.stdout
    assert "class 0" not in r.stdout, r.stdout
    # --labels still overrides the model's own names.
    other = os.path.join(d, "other.txt")
    write(other, ["round", "boxy", "pointy", "plus"])
    out = top(offshoot_json("run", "@default", os.path.join(d, "circle-1.png"), "--labels", other))
    assert out["top"][0]["label"] == "round", out["top"]


@case
def labels_txt_beside_the_model_names_it():
    d = samples()
    alone = tempdir()
    shutil.copy(SEED, alone)
    out = top(offshoot_json("run", os.path.join(alone, "model.h5"), os.path.join(d, "circle-1.png")))
    assert all(e["label"] is None for e in out["top"]), out["top"]  # nothing names the seed's classes
    write(os.path.join(alone, "labels.txt"), NAMES)
    out = top(offshoot_json("run", os.path.join(alone, "model.h5"), os.path.join(d, "circle-1.png")))
    assert [e["label"] for e in out["top"]] == [NAMES[e["index"]] for e in out["top"]], out["top"]
    assert "labels_warning" not in out, out


@case
def export_keeps_the_names_in_every_format():
    d = samples()
    src = tempdir()
    shutil.copy(SEED, src)
    write(os.path.join(src, "labels.txt"), NAMES)
    for name in ["m.keras", "m.h5", "m.onnx", "model.json"]:
        dst = tempdir()  # no labels.txt here: the names must be inside the file
        path = os.path.join(dst, name)
        r = offshoot("export", os.path.join(src, "model.h5"), "-o", path)
        assert r.returncode == 0, f"{name}: {r.stderr}"
        out = top(offshoot_json("run", path, os.path.join(d, "triangle-1.png")))
        got = [e["label"] for e in out["top"]]
        assert got == [NAMES[e["index"]] for e in out["top"]], f"{name}: {out['top']}"
        # And once more through the exported file (a second generation keeps them too).
        again = os.path.join(tempdir(), "again" + os.path.splitext(name)[1])
        assert offshoot("export", path, "-o", again).returncode == 0, name
        out = top(offshoot_json("run", again, os.path.join(d, "triangle-1.png")))
        assert [e["label"] for e in out["top"]] == got, f"{name} → {again}: {out['top']}"


@case
def imagenet_names_for_a_1000_class_output():
    d = samples()
    names = imagenet()
    assert len(names) == 1000 and names[0] == "tench" and names[999] == "toilet tissue", names[:3]
    model = os.path.join(tempdir(), "r50.keras")
    r = offshoot("zoo", "ResNet50", "-o", model)
    assert r.returncode == 0, r.stderr
    out = top(offshoot_json("run", model, os.path.join(d, "cross-1.png")))
    assert out["shape"] == [1, 1000], out["shape"]
    assert len(out["top"]) == 5
    assert [e["label"] for e in out["top"]] == [names[e["index"]] for e in out["top"]], out["top"]


@case
def names_that_do_not_fit_are_a_warning():
    d = samples()
    three = os.path.join(d, "three.txt")
    write(three, ["circle", "square", "triangle"])
    picture = os.path.join(d, "circle-1.png")
    out = top(offshoot_json("run", "@default", picture, "--labels", three))
    assert out["labels_warning"] == "3 class names for 4 classes: the names are not used", out
    assert all(e["label"] is None for e in out["top"]), out["top"]
    r = offshoot("run", "@default", picture, "--labels", three)
    assert r.returncode == 0, r.stderr
    assert "offshoot run: warning: output 'predictions': 3 class names for 4 classes" in r.stderr, r.stderr
    assert "1. class 0" in r.stdout, r.stdout
    # A labels.txt beside the model with a name too many: the same.
    alone = tempdir()
    shutil.copy(SEED, alone)
    write(os.path.join(alone, "labels.txt"), NAMES + ["epsilon"])
    r = offshoot("run", os.path.join(alone, "model.h5"), picture)
    assert "5 class names for 4 classes: the names are not used" in r.stderr, r.stderr



@case
def an_onnx_export_keeps_the_models_own_rescaling():
    """The export writes Rescaling(1/255) as a Mul by a scalar: the pictures are still given
    at 0..255 (scaled twice, the default model called a circle a square)."""
    d = samples()
    onnx = os.path.join(tempdir(), "default.onnx")
    r = offshoot("export", "@default", "-o", onnx)
    assert r.returncode == 0, r.stderr
    for model in ["@default", onnx]:
        r = offshoot("run", model, os.path.join(d, "circle-1.png"))
        assert r.returncode == 0, r.stderr
        assert "(0..255)" in r.stdout and "rescales its input itself" in r.stdout, r.stdout
        out = top(offshoot_json("run", model, os.path.join(d, "circle-1.png")))
        assert out["top"][0]["label"] == "circle" and out["top"][0]["p"] > 0.99, (model, out["top"])

main()
