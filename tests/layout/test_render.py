"""offshoot render: PNG, SVG, PDF and DOT files of the corpus face models, groups, bad usage."""
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, corpus, main, offshoot, source, tempdir  # noqa: E402

FACE = corpus("keras2", "face_classification")
MINI = os.path.join(FACE, "fer2013_mini_XCEPTION.102-0.66.hdf5")
MODELS = ["fer2013_mini_XCEPTION.102-0.66.hdf5", "fer2013_big_XCEPTION.54-0.66.hdf5",
          "gender_mini_XCEPTION.21-0.95.hdf5", "tiny_XCEPTION_KDEF.hdf5"]


def render(*args):
    r = offshoot("render", *args)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    m = re.search(r"(\d+) boxes, (\d+) edges, (\d+) frames, (\d+) × (\d+) pt", r.stdout)
    assert m, r.stdout
    return [int(x) for x in m.groups()]


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", head[:8]
    return struct.unpack(">II", head[16:24])


@case
def face_models_render_to_png_at_the_layout_size():
    d = tempdir()
    for name in MODELS:
        out = os.path.join(d, name + ".png")
        boxes, edges, frames, w, h = render(os.path.join(FACE, name), "-o", out)
        assert boxes > 20 and edges >= boxes - 1, (name, boxes, edges)
        pw, ph = png_size(out)
        # 16 px margins, 1 px per point; the printed size is rounded.
        assert abs(pw - (w + 32)) <= 2 and abs(ph - (h + 32)) <= 2, (name, pw, ph, w, h)
        assert ph > pw, "top-to-bottom layout is taller than wide"
    shutil.rmtree(d)


@case
def mini_xception_counts():
    d = tempdir()
    boxes, edges, frames, _, _ = render(MINI, "-o", os.path.join(d, "m.png"))
    # 46 layers, one call each; 4 residual Adds bring 4 extra edges (+ the final chain).
    assert boxes == 46, boxes
    assert edges == 49, edges
    assert frames == 0, frames
    shutil.rmtree(d)


@case
def interleaved_block_names_are_not_collapsed():
    # big_XCEPTION's block1_* layers sit between unnamed convs: no group may swallow them.
    d = tempdir()
    big = os.path.join(FACE, "fer2013_big_XCEPTION.54-0.66.hdf5")
    plain = render(big, "-o", os.path.join(d, "a.png"))
    collapsed = render(big, "-o", os.path.join(d, "b.png"), "--collapse-blocks")
    assert plain[0] == collapsed[0] == 29, (plain, collapsed)
    shutil.rmtree(d)


SEED = source("tests", "layout", "fixtures", "seed-nested", "model.json")
RED = '"#e01b24"'  # the light palette's red as an SVG fill or stroke


@case
def seed_scenario_draws_the_disconnected_path_red():
    # DESIGN.md's seed: a head taken from inside the nested backbone (keras mode) makes the
    # backbone's own input a foreign root; the path from it to the head is drawn red.
    d = tempdir()
    bad, ok = os.path.join(d, "bad.svg"), os.path.join(d, "ok.svg")
    r = offshoot("render", SEED, "-o", ok)
    if r.returncode == 2 and "not implemented yet" in r.stderr:
        print("# the TF.js reader has not landed in this build: nothing to draw yet")
        assert not os.path.exists(ok)
        return
    assert r.returncode == 0, r.stderr
    r = offshoot("render", SEED, "--attach", "backbone/block2a_expand_conv=seg",
                 "--attach-mode=keras", "-o", bad)
    assert r.returncode == 0, r.stderr
    assert RED not in open(ok).read(), "a connected model has nothing red"
    # input_2, the stem, block1a, block2a_expand_conv and the four head layers, plus edges.
    assert open(bad).read().count(RED) >= 20
    shutil.rmtree(d)


@case
def svg_shapes_hold_their_labels():
    # The SVG's shapes are written by Offshoot itself (not cairo): one rounded box per box, one
    # frame per frame, one curve per edge, in world units under one transform, and every box's
    # bold title lies inside its box once that transform is applied.
    d = tempdir()
    out = os.path.join(d, "seed.svg")
    boxes, edges, frames, _, _ = render(SEED, "-o", out)
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(out).getroot()
    groups = [g for g in root.iter(ns + "g") if g.get("transform", "").startswith("matrix(")]
    assert len(groups) == 1, len(groups)
    sx, _, _, sy, tx, ty = map(float, re.findall(r"-?[\d.]+", groups[0].get("transform")))
    rects = list(groups[0].iter(ns + "rect"))
    box_rects = [r for r in rects if r.get("rx") == "4"]
    frame_rects = [r for r in rects if r.get("rx") == "6"]
    curves = [p for p in groups[0].iter(ns + "path") if p.get("fill") == "none"]
    assert (len(box_rects), len(frame_rects), len(curves)) == (boxes, frames, edges), \
        (len(box_rects), len(frame_rects), len(curves), boxes, frames, edges)
    titles = [t for t in root.iter(ns + "text") if t.get("font-weight") == "bold"]
    assert len(titles) == boxes, (len(titles), boxes)
    for t in titles:
        x, y = float(t.get("x")), float(t.get("y"))
        inside = [r for r in box_rects
                  if float(r.get("x")) * sx + tx < x < (float(r.get("x")) + float(r.get("width"))) * sx + tx
                  and float(r.get("y")) * sy + ty < y < (float(r.get("y")) + float(r.get("height"))) * sy + ty]
        assert len(inside) == 1, (t.text, x, y, len(inside))
    shutil.rmtree(d)


@case
def onnx_module_paths_make_blocks():
    # PyTorch's MobileNetV3 (tests/onnx fixture): features.0 ... features.12 become frames.
    d = tempdir()
    onnx = source("tests", "onnx", "fixtures", "mobilenet_v3_small_x025.onnx")
    boxes, _, frames, _, _ = render(onnx, "-o", os.path.join(d, "a.png"))
    assert frames >= 10, frames
    collapsed = render(onnx, "-o", os.path.join(d, "b.png"), "--collapse-blocks")
    assert collapsed[0] < boxes / 4 and collapsed[2] == 0, (boxes, collapsed)
    one = render(onnx, "-o", os.path.join(d, "c.png"), "--collapse", "features.4")
    assert boxes - one[0] > 5 and one[2] == frames - 1, (boxes, one, frames)
    shutil.rmtree(d)


@case
def svg_parses_and_names_no_missing_glyphs():
    d = tempdir()
    out = os.path.join(d, "m.svg")
    render(MINI, "-o", out, "--dark")
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg"), root.tag
    assert float(root.get("width").rstrip("pt")) > 300
    shutil.rmtree(d)


def svg_texts(path):
    """The text of every <text> element, in file order."""
    root = ET.parse(path).getroot()
    return [el.text or "" for el in root.iter() if el.tag.endswith("}text") or el.tag == "text"]


@case
def svg_labels_are_text_elements():
    # Searchable and selectable: every box's title is a <text>, not glyph outlines.
    d = tempdir()
    out = os.path.join(d, "m.svg")
    boxes, _, _, _, _ = render(MINI, "-o", out)
    texts = svg_texts(out)
    r = offshoot("inspect", MINI, "--json")
    assert r.returncode == 0, r.stderr
    import json
    names = [layer["name"] for layer in json.loads(r.stdout)["layers"]]
    assert len(names) == boxes == 46, (len(names), boxes)
    missing = [n for n in names if n not in texts]
    assert not missing, missing
    assert "Conv2D" in texts  # the class line
    assert "<symbol" not in open(out).read()  # no glyph outlines left
    shutil.rmtree(d)


@case
def efficientnetb7_renders_as_its_overview_within_the_png_cap():
    d = tempdir()
    model = os.path.join(d, "b7.keras")
    r = offshoot("zoo", "EfficientNetB7", "-o", model)
    assert r.returncode == 0, r.stderr
    # Over 200 layers: drawn as the window opens it, 7 stages between stem and top, at one
    # pixel per point (legible, not shrunk).
    out = os.path.join(d, "b7.png")
    boxes, edges, frames, w, h = render(model, "-o", out)
    assert (boxes, edges, frames) == (20, 19, 0), (boxes, edges, frames)
    pw, ph = png_size(out)
    assert abs(pw - (w + 32)) <= 2 and abs(ph - (h + 32)) <= 2, (pw, ph, w, h)
    svg = os.path.join(d, "b7.svg")
    render(model, "-o", svg)
    texts = svg_texts(svg)
    assert "block5" in texts and "stage · 148 layers" in texts, texts[:12]
    # Every layer: 50,000 points tall, scaled down to the 16384 px cap; the SVG keeps the
    # names of layers deep inside the blocks as text.
    boxes, _, _, w, h = render(model, "--expand-all", "-o", out)
    assert boxes == 816 and h > 40000, (boxes, h)
    pw, ph = png_size(out)
    assert ph == 16384 and pw < 400, (pw, ph)
    render(model, "--expand-all", "-o", svg)
    assert "block5a_expand_conv" in svg_texts(svg)
    shutil.rmtree(d)


@case
def pdf_is_one_page():
    d = tempdir()
    out = os.path.join(d, "m.pdf")
    render(MINI, "-o", out)
    data = open(out, "rb").read()
    assert data.startswith(b"%PDF-1."), data[:8]
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages == 1, pages
    shutil.rmtree(d)


@case
def dot_text_is_what_graphviz_reads():
    d = tempdir()
    out = os.path.join(d, "m.dot")
    r = offshoot("render", MINI, "-o", out)
    assert r.returncode == 0, r.stderr
    text = open(out).read()
    assert text.startswith("digraph offshoot {") and "rankdir=TB" in text
    if shutil.which("dot"):
        x = subprocess.run(["dot", "-Txdot", out], capture_output=True, text=True, timeout=120)
        assert x.returncode == 0, x.stderr
        assert len(re.findall(r"^\s*n\d+\s+\[", x.stdout, re.M)) == 46
    shutil.rmtree(d)


@case
def trace_tells_the_layouts_own_time():
    # tools/open-bench.py compares graphviz's part of a render with `dot -Txdot`: the line is
    # there with OFFSHOOT_TRACE, and only then.
    d = tempdir()
    out = os.path.join(d, "m.svg")
    r = offshoot("render", MINI, "-o", out, env={"OFFSHOOT_TRACE": "1"})
    assert r.returncode == 0, r.stderr
    m = re.search(r"DOT built in ([0-9.]+) ms \(labels measured\), laid out by graphviz in "
                  r"([0-9.]+) ms", r.stderr)
    assert m and float(m.group(2)) > 0, r.stderr
    r = offshoot("render", MINI, "-o", out)
    assert r.returncode == 0 and "laid out" not in r.stderr, r.stderr
    shutil.rmtree(d)


@case
def scale_changes_png_size():
    d = tempdir()
    a, b = os.path.join(d, "a.png"), os.path.join(d, "b.png")
    render(MINI, "-o", a)
    render(MINI, "-o", b, "--scale", "2")
    (aw, ah), (bw, bh) = png_size(a), png_size(b)
    assert abs((bw - 32) - 2 * (aw - 32)) <= 2 and abs((bh - 32) - 2 * (ah - 32)) <= 2
    shutil.rmtree(d)


@case
def bad_usage_exits_2():
    d = tempdir()
    out = os.path.join(d, "x.png")
    for args, words in [((MINI,), "-o OUT is required"),
                        ((MINI, "-o", out, "--collapse", "nope"), "no group 'nope'"),
                        ((MINI, "-o", out, "--scale", "zero"), "--scale"),
                        ((MINI, "-o", os.path.join(d, "x.bmp")), "unknown image type"),
                        ((MINI, "-o", out, "--expand-path", "nope"), "no layer 'nope'")]:
        r = offshoot("render", *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert words in r.stderr, (args, r.stderr)
    r = offshoot("render", os.path.join(d, "missing.h5"), "-o", out)
    assert r.returncode == 2, r.returncode
    assert not os.path.exists(out)
    shutil.rmtree(d)


main()
