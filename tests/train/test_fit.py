"""`offshoot fit`: a head attached to the default model learns from pictures of its world.

The data sets come from tests/train/make-shapes.py (the default model's own picture generator,
with seeds it was not trained on); cases skip when Debian's numpy/torch are absent."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, main, offshoot, source  # noqa: E402

PYTHON = "/usr/bin/python3"
_made = {}


def shapes(layout, n, seed):
    """A data folder made once per run; Skip when the generator cannot run here."""
    key = (layout, n, seed)
    if key not in _made:
        if not os.path.exists(PYTHON):
            raise Skip(f"{PYTHON} is absent")
        out = tempfile.mkdtemp(prefix="osh-fit-")
        r = subprocess.run([PYTHON, source("tests", "train", "make-shapes.py"), out, layout,
                            str(n), str(seed)], capture_output=True, text=True)
        if r.returncode == 77:
            raise Skip(r.stdout.strip())
        assert r.returncode == 0, r.stderr
        _made[key] = out
    return _made[key]


def fit(data, *args):
    out = os.path.join(tempfile.mkdtemp(prefix="osh-fit-out-"), "fitted.keras")
    r = offshoot("fit", "@default", "--data", data, "-o", out, "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), out


@case
def seg_head_learns_the_shapes_masks():
    data = shapes("masks", 200, 4242)
    seg = ["--attach", "block5a_expand_conv=seg"]
    # A fresh head (a learning rate too small to move it): what chance looks like.
    fresh, _ = fit(data, *seg, "--epochs", "1", "--lr", "1e-12")
    trained, out = fit(data, *seg, "--epochs", "10")
    before, after = fresh["history"][-1]["val_iou"], trained["history"][-1]["val_iou"]
    print(f"# validation IoU at 0.5: fresh head {before:.3f}, after 10 epochs {after:.3f}")
    assert trained["validation"] == 40 and trained["train"] == 160, trained
    assert before < 0.25, before
    assert after > 0.45, after
    losses = [h["loss"] for h in trained["history"]]
    assert losses[-1] < 0.5 * losses[0], losses
    # The saved model has the head and keeps the backbone frozen: only the head trains.
    r = offshoot("inspect", out, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    names = [layer["name"] for layer in info["layers"]]
    assert "aux_head_out" in names, names
    # Conv2D 3×3 240→128 (276,608), BatchNormalization's gamma and beta (256), Conv2D 128→1
    # (129): the head alone.
    assert info["trainable_params"] == 276993, info["trainable_params"]


@case
def classifier_head_learns_the_classes_from_folders():
    data = shapes("classes", 30, 99)
    head = ["--attach", "block5a_expand_conv=classifier:4", "--lr", "0.01"]
    fresh, _ = fit(data, *head, "--epochs", "1", "--lr", "1e-12")
    trained, _ = fit(data, *head, "--epochs", "15")
    before = fresh["history"][-1]["val_accuracy"]
    after = trained["history"][-1]["val_accuracy"]
    print(f"# validation accuracy over 4 classes: fresh head {before:.3f}, trained {after:.3f}")
    assert trained["metric"] == "accuracy" and trained["validation"] == 24, trained
    assert before < 0.4, before
    assert after >= 0.6, after


@case
def same_seed_same_history_other_seed_other_history():
    data = shapes("masks", 40, 5)
    args = ["--attach", "block5a_expand_conv=seg", "--epochs", "2", "--batch", "8"]
    a, b, c = (numbers(fit(data, *args, "--seed", s)[0]) for s in ("3", "3", "4"))
    assert a == b, (a, b)
    assert a != c, (a, c)
    # Two threads split the products differently: the same numbers to rounding.
    d = numbers(fit(data, *args, "--seed", "3", "--threads", "2")[0])
    for x, y in zip(a, d):
        for k in x:
            assert abs(x[k] - y[k]) <= 1e-4 * max(1, abs(x[k])), (k, x, y)


def numbers(doc):
    """The history without its timings."""
    return [{k: v for k, v in h.items() if "seconds" not in k} for h in doc["history"]]


@case
def sgd_with_nesterov_and_no_shuffle_train_too():
    data = shapes("masks", 40, 5)
    doc, _ = fit(data, "--attach", "block5a_expand_conv=seg", "--epochs", "4", "--optimizer",
                 "sgd", "--lr", "0.1", "--momentum", "0.9", "--nesterov", "--no-shuffle",
                 "--val-split", "0")
    losses = [h["loss"] for h in doc["history"]]
    assert doc["validation"] == 0 and doc["train"] == 40, doc
    assert losses[-1] < losses[0], losses


def keras_cosine(lr, step, decay_steps, alpha=0.0, warmup_steps=0, target=None):
    """keras.optimizers.schedules.CosineDecay at `step`, from Keras's documentation."""
    import math
    if target is not None and step < warmup_steps:
        return (target - lr) * step / warmup_steps + lr
    start = lr if target is None else target
    s = min(step - warmup_steps, decay_steps)
    return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)


@case
def optimizer_schedule_and_clipping_flags_reach_the_trainer():
    """The formulas are checked against PyTorch in test-train-torch; here the flags must arrive:
    the history's learning rate follows CosineDecay over the run (40 pictures, 32 train in
    batches of 8: 4 steps an epoch), AdamW's decay and each clipping change the numbers."""
    data = shapes("masks", 40, 5)
    base = ["--attach", "block5a_expand_conv=seg", "--epochs", "3", "--batch", "8"]
    adam, _ = fit(data, *base)
    assert [h["learning_rate"] for h in adam["history"]] == [0.001] * 3, adam["history"]
    cos, _ = fit(data, *base, "--schedule", "cosine", "--cosine-alpha", "0.2")
    want = [keras_cosine(0.001, 4 * e - 1, 12, 0.2) for e in (1, 2, 3)]
    got = [h["learning_rate"] for h in cos["history"]]
    assert all(abs(a - b) < 1e-12 for a, b in zip(got, want)), (got, want)
    warm, _ = fit(data, *base, "--schedule", "cosine", "--decay-steps", "5", "--warmup-steps",
                  "3", "--warmup-lr", "0.003", "--lr", "0.0005")
    want = [keras_cosine(0.0005, 4 * e - 1, 5, 0, 3, 0.003) for e in (1, 2, 3)]
    got = [h["learning_rate"] for h in warm["history"]]
    assert all(abs(a - b) < 1e-12 for a, b in zip(got, want)), (got, want)
    losses = {}
    for name, extra in (("adam", []), ("adamw", ["--optimizer", "adamw"]),
                        ("adamw 0", ["--optimizer", "adamw", "--weight-decay", "0"]),
                        ("adam decayed", ["--weight-decay", "0.004"]),
                        ("clipnorm", ["--clipnorm", "0.01"]),
                        ("clipvalue", ["--clipvalue", "0.0001"]),
                        ("global", ["--global-clipnorm", "0.01"])):
        losses[name] = [h["val_loss"] for h in fit(data, *base, *extra)[0]["history"]]
    # AdamW without decay is Adam; Adam given AdamW's decay is AdamW (Keras: any optimizer).
    assert losses["adamw 0"] == losses["adam"], losses
    assert losses["adam decayed"] == losses["adamw"], losses
    for name in ("adamw", "clipnorm", "clipvalue", "global"):
        assert losses[name] != losses["adam"], (name, losses)


@case
def bad_optimizer_values_name_the_flag():
    data = shapes("masks", 40, 5)
    for args, flag in ((["--optimizer", "rmsprop"], "--optimizer"), (["--lr", "0"], "--lr"),
                       (["--schedule", "step"], "--schedule"),
                       (["--weight-decay", "-1"], "--weight-decay"),
                       (["--schedule", "cosine", "--decay-steps", "0"], "--decay-steps"),
                       (["--schedule", "cosine", "--cosine-alpha", "2"], "--cosine-alpha"),
                       (["--clipnorm", "0"], "--clipnorm"), (["--clipvalue", "x"], "--clipvalue"),
                       (["--global-clipnorm", "-3"], "--global-clipnorm"),
                       (["--clipnorm", "1", "--clipvalue", "1"], "--clipvalue"),
                       (["--decay-steps", "10"], "--schedule cosine"),
                       (["--schedule", "cosine", "--warmup-steps", "5"], "--warmup-lr"),
                       (["--momentum", "0.9"], "--optimizer sgd"),
                       (["--epochs", "2.5"], "--epochs")):
        r = offshoot("fit", "@default", "--attach", "block5a_expand_conv=seg", "--data", data,
                     "-o", os.path.join(tempfile.mkdtemp(), "x.keras"), *args)
        assert r.returncode == 2 and flag in r.stderr, (args, r.stderr)


@case
def classifier_and_seg_heads_train_together_with_loss_weights():
    """The seed task: a segmentation head and a classifier head on the same features, both
    trainable at once (class folders with masks beside the pictures); the loss is the weighted
    sum, each output keeps its own loss and metric in the history."""
    data = shapes("classes-masks", 30, 7)
    heads = ["--attach", "block5a_expand_conv=seg", "--attach",
             "block5a_expand_conv=classifier:4", "--lr", "0.003"]
    fresh, _ = fit(data, *heads, "--epochs", "1", "--lr", "1e-12")
    doc, out = fit(data, *heads, "--epochs", "8", "--loss-weight", "aux_head_out_1=0.5")
    assert [(o["name"], o["loss"], o["weight"]) for o in doc["outputs"]] == \
        [("aux_head_out", "bce", 1.0), ("aux_head_out_1", "cce", 0.5)], doc["outputs"]
    for h in doc["history"]:
        want = h["aux_head_out_loss"] + 0.5 * h["aux_head_out_1_loss"]
        assert abs(h["loss"] - want) <= 1e-9 * want, h
        want = h["val_aux_head_out_loss"] + 0.5 * h["val_aux_head_out_1_loss"]
        assert abs(h["val_loss"] - want) <= 1e-9 * want, h
    last, first = doc["history"][-1], fresh["history"][-1]
    print(f"# validation IoU {first['val_aux_head_out_iou']:.3f} -> "
          f"{last['val_aux_head_out_iou']:.3f}, accuracy {first['val_aux_head_out_1_accuracy']:.3f}"
          f" -> {last['val_aux_head_out_1_accuracy']:.3f}")
    assert last["val_aux_head_out_iou"] > first["val_aux_head_out_iou"] + 0.2, (first, last)
    assert last["val_aux_head_out_1_accuracy"] >= 0.55, last
    # Both heads saved trainable: the seg head's 276,993 and the classifier's 240·4 + 4.
    r = offshoot("inspect", out, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["trainable_params"] == 276993 + 964, r.stdout


@case
def loss_by_output_overrides_and_its_errors():
    data = shapes("masks", 40, 5)
    seg = ["--attach", "block5a_expand_conv=seg", "--epochs", "2", "--batch", "8"]
    bce, _ = fit(data, *seg)
    for kind in ("bce-dice", "dice", "mse"):
        doc, _ = fit(data, *seg, "--loss", f"aux_head_out={kind}")
        assert doc["outputs"][0]["loss"] == kind, doc["outputs"]
        assert doc["history"][0]["loss"] != bce["history"][0]["loss"], kind
        assert ("iou" in doc["history"][0]) == (kind != "mse"), (kind, doc["history"][0])
    # Dice alone lies in 0..1; bce-dice is bce plus it.
    dice, _ = fit(data, *seg, "--loss", "dice")
    assert all(0 <= h["loss"] <= 1 for h in dice["history"]), dice["history"]
    out = os.path.join(tempfile.mkdtemp(), "x.keras")
    for args, message in ((["--loss", "nosuch=bce"], "no trained output 'nosuch'"),
                          (["--loss", "aux_head_out=hinge"], "--loss"),
                          (["--loss", "aux_head_out=softmax-ce"], "one channel"),
                          (["--loss-weight", "aux_head_out=-1"], "--loss-weight"),
                          (["--loss-weight", "2"], "--loss-weight")):
        r = offshoot("fit", "@default", *seg, "--data", data, "-o", out, *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    assert not os.path.exists(out)


@case
def n_channel_map_trains_a_softmax_per_pixel_with_mean_iou():
    """seg:64:5 on class folders with masks: five channels, background and the four classes,
    the mask saying where the picture's class is."""
    data = shapes("classes-masks", 30, 7)
    head = ["--attach", "block5a_expand_conv=seg:64:5", "--lr", "0.003"]
    fresh, _ = fit(data, *head, "--epochs", "1", "--lr", "1e-12")
    doc, _ = fit(data, *head, "--epochs", "6")
    assert doc["outputs"][0]["loss"] == "softmax-ce" and doc["metric"] == "mean_iou", doc
    before = fresh["history"][-1]["val_mean_iou"]
    after = doc["history"][-1]["val_mean_iou"]
    print(f"# validation mean IoU over 5 classes: fresh {before:.3f}, after 6 epochs {after:.3f}")
    assert after > before + 0.15, (before, after)


@case
def masks_in_a_parallel_folder_are_the_same_data():
    """NAME-mask.png beside, images/ + masks/, and NAME.png with masks/NAME.png: one data set,
    one history."""
    beside = shapes("masks", 40, 5)
    folder = shapes("masks-folder", 40, 5)
    flat = tempfile.mkdtemp(prefix="osh-fit-flat-")
    os.mkdir(os.path.join(flat, "masks"))
    for name in os.listdir(os.path.join(folder, "images")):
        os.link(os.path.join(folder, "images", name), os.path.join(flat, name))
        os.link(os.path.join(folder, "masks", name), os.path.join(flat, "masks", name))
    args = ["--attach", "block5a_expand_conv=seg", "--epochs", "2", "--batch", "8"]
    a, b, c = (numbers(fit(d, *args)[0]) for d in (beside, folder, flat))
    assert a == b == c, (a, b, c)


@case
def augmentation_is_seeded_and_changes_what_trains():
    data = shapes("masks", 40, 5)
    args = ["--attach", "block5a_expand_conv=seg", "--epochs", "2", "--batch", "8"]
    plain = numbers(fit(data, *args)[0])
    flip = numbers(fit(data, *args, "--augment", "flip")[0])
    again = numbers(fit(data, *args, "--augment", "flip")[0])
    both = numbers(fit(data, *args, "--augment", "flip,shift", "--shift", "0.2",
                       "--augment-copies", "3")[0])
    other = numbers(fit(data, *args, "--augment", "flip", "--seed", "9")[0])
    assert flip == again, (flip, again)
    assert flip != plain and both != flip and other != flip
    # Validation always sees the pictures themselves: no copies there.
    out = os.path.join(tempfile.mkdtemp(), "x.keras")
    for bad, flag in ((["--augment", "rotate"], "--augment"), (["--shift", "0.1"], "--shift"),
                      (["--augment", "shift", "--shift", "0.9"], "--shift"),
                      (["--augment-copies", "2"], "--augment-copies")):
        r = offshoot("fit", "@default", *args, "--data", data, "-o", out, *bad)
        assert r.returncode == 2 and flag in r.stderr, (bad, r.stderr)


@case
def save_best_keeps_the_epoch_with_the_lowest_val_loss():
    data = shapes("masks", 40, 5)
    # A rate high enough that validation gets worse after a while.
    args = ["--attach", "block5a_expand_conv=seg", "--batch", "8", "--lr", "0.01"]
    doc, out = fit(data, *args, "--epochs", "6", "--save-best")
    val = [h["val_loss"] for h in doc["history"]]
    best = val.index(min(val)) + 1
    assert doc["best_epoch"] == best, (doc["best_epoch"], val)
    assert best < 6, val  # else this case proves nothing: the last epoch is the best
    short, short_out = fit(data, *args, "--epochs", str(best))
    pic = os.path.join(data, sorted(os.listdir(data))[0])
    outs = []
    for model in (out, short_out):
        d = tempfile.mkdtemp()
        r = offshoot("run", model, pic, "--save-outputs", d)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(d, "aux_head_out.npy"), "rb") as f:
            outs.append(f.read())
    assert outs[0] == outs[1], "the saved file is not the best epoch's model"
    r = offshoot("fit", "@default", *args, "--data", data, "-o", out, "--save-best",
                 "--val-split", "0")
    assert r.returncode == 2 and "--val-split" in r.stderr, r.stderr


@case
def the_bundled_samples_are_a_data_set():
    d = tempfile.mkdtemp(prefix="osh-fit-samples-")
    r = offshoot("samples", "-o", d)
    assert r.returncode == 0, r.stderr
    doc, out = fit(d, "--attach", "block5a_expand_conv=seg", "--epochs", "3", "--val-split",
                   "0.25")
    assert doc["train"] == 6 and doc["validation"] == 2, doc
    assert os.path.exists(out)


@case
def attach_then_fit_trains_the_same_head_in_every_keras_format():
    """attach freezes the backbone; the flags survive .keras, .h5 and TF.js, so a saved
    attached model fits its head without --attach, exactly as fit --attach does."""
    data = shapes("masks", 40, 5)
    d = tempfile.mkdtemp(prefix="osh-fit-attach-")
    attached = os.path.join(d, "attached.keras")
    r = offshoot("attach", "@default", "--attach", "block5a_expand_conv=seg", "-o", attached)
    assert r.returncode == 0, r.stderr
    direct, _ = fit(data, "--attach", "block5a_expand_conv=seg", "--epochs", "2")
    os.mkdir(os.path.join(d, "tfjs"))
    for out in ("fitted.h5", "fitted.keras", os.path.join("tfjs", "model.json")):
        path = os.path.join(d, out)
        r = offshoot("fit", attached, "--data", data, "-o", path, "--epochs", "2", "--json")
        assert r.returncode == 0, r.stderr
        assert numbers(json.loads(r.stdout)) == numbers(direct), out
        r = offshoot("inspect", path, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["trainable_params"] == 276993, out
        # The saved file trains on: its flags still say head only.
        r = offshoot("fit", path, "--data", data, "-o", os.path.join(d, "again.keras"),
                     "--epochs", "1")
        assert r.returncode == 0, (out, r.stderr)


@case
def bad_data_is_named_and_nothing_is_written():
    out_dir = tempfile.mkdtemp(prefix="osh-fit-bad-")
    out = os.path.join(out_dir, "never.keras")
    seg = ["--attach", "block5a_expand_conv=seg"]
    empty = tempfile.mkdtemp(prefix="osh-fit-empty-")
    r = offshoot("fit", "@default", *seg, "--data", empty, "-o", out)
    assert r.returncode == 2 and "no training data" in r.stderr, r.stderr
    # A picture that is not one: the error names it.
    bad = tempfile.mkdtemp(prefix="osh-fit-broken-")
    for name in ("a.png", "a-mask.png"):
        with open(os.path.join(bad, name), "wb") as f:
            f.write(b"not a picture")
    r = offshoot("fit", "@default", *seg, "--data", bad, "-o", out)
    assert r.returncode == 2 and "a.png" in r.stderr, r.stderr
    # Class folders for a map head: the mismatch is explained.
    r = offshoot("fit", "@default", *seg, "--data", shapes("classes", 2, 1), "-o", out)
    assert r.returncode == 2 and "class folders" in r.stderr, r.stderr
    # An empty class folder is named.
    classes = tempfile.mkdtemp(prefix="osh-fit-classes-")
    os.mkdir(os.path.join(classes, "nothing"))
    r = offshoot("fit", "@default", "--attach", "block5a_expand_conv=classifier:1", "--data",
                 classes, "-o", out)
    assert r.returncode == 2 and "nothing" in r.stderr, r.stderr
    # Without a head there is nothing to train.
    r = offshoot("fit", "@default", "--data", shapes("masks", 40, 5), "-o", out)
    assert r.returncode != 0 and "trainable" in r.stderr, r.stderr
    assert os.listdir(out_dir) == [], os.listdir(out_dir)


@case
def pictures_without_masks_are_skipped_with_a_warning():
    d = tempfile.mkdtemp(prefix="osh-fit-orphans-")
    src = shapes("masks", 12, 6)
    for name in sorted(os.listdir(src)):
        os.link(os.path.join(src, name), os.path.join(d, name))
    os.remove(os.path.join(d, "circle-0000-mask.png"))
    r = offshoot("fit", "@default", "--attach", "block5a_expand_conv=seg", "--data", d, "-o",
                 os.path.join(d, "out.keras"), "--epochs", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert "without a mask: circle-0000.png" in r.stderr, r.stderr
    doc = json.loads(r.stdout)
    assert doc["train"] + doc["validation"] == 11, doc
    # A mask without its picture is listed too.
    os.remove(os.path.join(d, "cross-0003.png"))
    r = offshoot("fit", "@default", "--attach", "block5a_expand_conv=seg", "--data", d, "-o",
                 os.path.join(d, "out.keras"), "--epochs", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert "masks without their picture: cross-0003-mask.png" in r.stderr, r.stderr
    assert json.loads(r.stdout)["train"] + json.loads(r.stdout)["validation"] == 10


def write_png(path, rgb):
    """A tiny RGB PNG (rows of (r, g, b) tuples) with the standard library."""
    import struct
    import zlib
    h, w = len(rgb), len(rgb[0])
    raw = b"".join(b"\0" + bytes(v for px in row for v in px) for row in rgb)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@case
def masks_of_the_wrong_size_or_in_colour_are_named():
    src = shapes("masks", 8, 6)
    out_dir = tempfile.mkdtemp(prefix="osh-fit-badmask-out-")
    for bad, message in (([[(255, 255, 255)] * 5] * 5, "a mask of 5×5"),
                         ([[(255, 0, 0)] * 64] * 64, "a mask in colour")):
        d = tempfile.mkdtemp(prefix="osh-fit-badmask-")
        for name in sorted(os.listdir(src)):
            os.link(os.path.join(src, name), os.path.join(d, name))
        victim = sorted(n for n in os.listdir(d) if n.endswith("-mask.png"))[2]
        os.remove(os.path.join(d, victim))
        write_png(os.path.join(d, victim), bad)
        r = offshoot("fit", "@default", "--attach", "block5a_expand_conv=seg", "--data", d,
                     "-o", os.path.join(out_dir, "x.keras"), "--epochs", "1")
        assert r.returncode != 0 and victim in r.stderr and message in r.stderr, r.stderr
    assert os.listdir(out_dir) == []


main()
