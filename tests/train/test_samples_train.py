"""`offshoot samples --train N`: a seeded shapes data set that `offshoot fit` reads, and on which
the seed head learns to outline shapes on pictures it never saw.

Held-out IoU is measured outside the trainer: `offshoot run --save-outputs` on a second set made
with another seed, the head's logits (> 0, i.e. sigmoid > 0.5) against each mask averaged down to
the map (8×8 blocks of the 64×64 mask at ≥ 0.5), intersection over union pooled over the set.
Plain Python only (clitest's PNG reader, the .npy reader below), so nothing here can skip."""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot, read_png, tempdir  # noqa: E402

CLASSES = ["circle", "square", "triangle", "cross"]


def read_npy_floats(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_len].decode()
    assert "'<f4'" in header and "False" in header, header
    body = data[10 + header_len:]
    return list(struct.unpack(f"<{len(body) // 4}f", body))


def pictures(folder):
    out = []
    for cls in CLASSES:
        d = os.path.join(folder, cls)
        out += [os.path.join(d, n) for n in sorted(os.listdir(d)) if not n.endswith("-mask.png")]
    return out


def held_out_iou(model, folder):
    """Pooled IoU at 0.5 of the model's aux_head_out on every picture in folder."""
    inter = union = 0
    for pic in pictures(folder):
        d = tempdir()
        r = offshoot("run", model, pic, "--save-outputs", d)
        assert r.returncode == 0, r.stderr
        logits = read_npy_floats(os.path.join(d, "aux_head_out.npy"))
        side = int(round(len(logits) ** 0.5))
        assert side * side == len(logits), len(logits)
        w, h, ch, rows = read_png(pic[:-4] + "-mask.png")
        assert ch == 1 and w == h == 64, (pic, w, h, ch)
        block = w // side
        for y in range(side):
            for x in range(side):
                cover = sum(rows[y * block + j][x * block + i] for j in range(block)
                            for i in range(block)) / (255 * block * block)
                truth, guess = cover >= 0.5, logits[y * side + x] > 0
                inter += truth and guess
                union += truth or guess
    return inter / union


@case
def train_set_is_class_folders_with_masks_and_repeats_with_its_seed():
    a, b, c = tempdir(), tempdir(), tempdir()
    r = offshoot("samples", "--train", "10", "-o", a, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["pictures"] == 10 and doc["masks"] == 10 and doc["seed"] == 1, doc
    assert doc["classes"] == CLASSES, doc
    # Classes in turn: 10 pictures are 3 circles, 3 squares, 2 triangles, 2 crosses.
    assert len(pictures(a)) == 10
    assert sorted(os.listdir(os.path.join(a, "circle"))) == [
        "0000-mask.png", "0000.png", "0004-mask.png", "0004.png", "0008-mask.png", "0008.png"]
    assert len(os.listdir(os.path.join(a, "cross"))) == 4
    for pic in pictures(a):
        w, h, ch, _ = read_png(pic)
        assert (w, h, ch) == (64, 64, 3), pic
        w, h, ch, rows = read_png(pic[:-4] + "-mask.png")
        assert (w, h, ch) == (64, 64, 1), pic
        values = set(b"".join(rows))
        assert values == {0, 255}, (pic, values)  # a binary mask with the shape in it
        # Radius 10 to 23: a shape covers a visible part of the picture, never all of it.
        cover = b"".join(rows).count(255) / (64 * 64)
        assert 0.03 < cover < 0.6, (pic, cover)
    assert offshoot("samples", "--train", "10", "-o", b).returncode == 0
    assert offshoot("samples", "--train", "10", "--seed", "2", "-o", c).returncode == 0
    files = lambda d: {os.path.relpath(p, d): open(p, "rb").read() for p in pictures(d)}  # noqa
    assert files(a) == files(b), "the same seed gave other pictures"
    differ = sum(files(a)[k] != files(c)[k] for k in files(a))
    assert differ == 10, f"another seed repeated {10 - differ} pictures"


@case
def bad_counts_and_a_lone_seed_are_usage_errors():
    d = tempdir()
    for args, needle in ((["--train", "0"], "--train takes"), (["--train", "x"], "--train takes"),
                         (["--train", "4", "--seed", "-1"], "--seed takes"),
                         (["--seed", "3"], "--seed goes with --train")):
        r = offshoot("samples", *args, "-o", d)
        assert r.returncode == 2 and needle in r.stderr, (args, r.returncode, r.stderr)


@case
def fitted_seg_head_outlines_shapes_it_never_saw():
    train, held_out = tempdir(), tempdir()
    assert offshoot("samples", "--train", "200", "-o", train).returncode == 0
    assert offshoot("samples", "--train", "40", "--seed", "2", "-o", held_out).returncode == 0
    models = {}
    # The fresh head: a learning rate too small to move it from its initial weights.
    for name, extra in (("fresh", ["--epochs", "1", "--lr", "1e-12"]), ("fitted", [])):
        models[name] = os.path.join(tempdir(), name + ".keras")
        r = offshoot("fit", "@default", "--attach", "block5a_expand_conv=seg", "--data", train,
                     "-o", models[name], "--seed", "1", *extra)
        assert r.returncode == 0, r.stderr
    fresh, fitted = (held_out_iou(models[k], held_out) for k in ("fresh", "fitted"))
    print(f"# IoU at 0.5 on 40 held-out pictures (seed 2): fresh head {fresh:.3f}, "
          f"after fit on 200 (seed 1) {fitted:.3f}")
    assert fresh < 0.3, fresh
    assert fitted > 0.5, fitted
    assert fitted > fresh + 0.3, (fresh, fitted)


main()
