"""`offshoot run` and `offshoot bench` end to end: classification of the corpus photos agrees
with tfjs (fixtures/face_*/top.json), saved outputs equal the tfjs reference, heatmaps are
written over the picture, --json follows the contract, exit codes follow DESIGN.md.
Cases skip while the reader or executor they need says "not implemented yet"."""
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import Skip, case, corpus, main, offshoot, source, tempdir  # noqa: E402

FACES = corpus("keras2", "face_classification")
FIX = source("tests", "parity", "fixtures")
# The authors' preprocessing: grayscale, [0, 1], then (x - 0.5) * 2.
FACE_SCALING = ["--scale", str(2 / 255), "--offset", "-1"]


def checked(*args, code=0):
    r = offshoot(*args)
    if "not implemented yet" in r.stderr:
        raise Skip(r.stderr.strip().splitlines()[-1])
    assert r.returncode == code, f"exit {r.returncode}, expected {code}: {r.stderr}"
    return r


def run_json(*args, code=0):
    r = checked(*args, "--json", code=code)
    return json.loads(r.stdout)


def npy_values(path):
    """float32 values and shape of a .npy, read by numpy (the reference reader)."""
    out = subprocess.run(["/usr/bin/python3", "-c",
                          "import numpy, sys, json; a = numpy.load(sys.argv[1]); "
                          "print(json.dumps([list(a.shape), a.astype(float).ravel().tolist()]))", path],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def top_of(name):
    with open(os.path.join(FIX, name, "top.json")) as f:
        return json.load(f)


@case
def usage_errors_exit_2():
    assert offshoot("run").returncode == 2
    assert offshoot("bench").returncode == 2
    assert offshoot("bench", "m.h5", "--runs", "0").returncode == 2
    r = offshoot("run", "/nonexistent/model.h5", "x.png")
    assert r.returncode == 2 and "model.h5" in r.stderr, r.stderr


@case
def faces_classified_like_tfjs():
    # The photos are preprocessed by Offshoot here (its own decoder and resize), by ImageMagick
    # for the tfjs reference: the winning class must agree.
    for name in ["face_fer2013_big_XCEPTION", "face_gender_mini_XCEPTION", "face_fer2013_mini_XCEPTION",
                 "face_tiny_XCEPTION_KDEF"]:
        ref = top_of(name)
        doc = run_json("run", corpus(ref["model"]), corpus(ref["photo"]), *FACE_SCALING, "--top", "3")
        (out,) = doc["outputs"]
        assert out["kind"] == "label", out
        assert out["heatmap"] is None
        assert len(out["top"]) == min(3, out["shape"][-1])
        assert out["top"][0]["index"] == ref["top"][0]["index"], (name, out["top"], ref["top"])
        for got, want in zip(out["top"], ref["top"]):
            assert abs(got["p"] - want["p"]) < 0.03, (name, out["top"], ref["top"])
        assert doc["time_ms"] > 0


@case
def labels_file_names_classes():
    d = tempdir()
    labels = os.path.join(d, "gender.txt")
    with open(labels, "w") as f:
        f.write("woman\nman\n")
    ref = top_of("face_gender_mini_XCEPTION")
    r = checked("run", corpus(ref["model"]), corpus(ref["photo"]), *FACE_SCALING, "--labels", labels)
    assert "1. woman" in r.stdout and "2. man" in r.stdout, r.stdout
    assert "p=0." in r.stdout
    doc = run_json("run", corpus(ref["model"]), corpus(ref["photo"]), *FACE_SCALING, "--labels", labels)
    assert [t["label"] for t in doc["outputs"][0]["top"]] == ["woman", "man"]


@case
def several_pictures_are_several_runs():
    d = tempdir()
    ref = top_of("face_gender_mini_XCEPTION")
    photos = [corpus(ref["photo"]), os.path.join(FACES, "12_angry_men.jpg")]
    doc = run_json("run", corpus(ref["model"]), *photos, *FACE_SCALING, "--save-outputs", d)
    assert [r["input"] for r in doc["runs"]] == photos
    assert doc["runs"][0]["outputs"][0]["top"][0]["index"] == ref["top"][0]["index"]
    name = doc["runs"][0]["outputs"][0]["name"]
    assert sorted(os.listdir(d)) == sorted([f"test_image-{name}.npy", f"12_angry_men-{name}.npy"])


@case
def saved_outputs_equal_tfjs():
    d = tempdir()
    fix = os.path.join(FIX, "face_fer2013_mini_XCEPTION")
    model = corpus(top_of("face_fer2013_mini_XCEPTION")["model"])
    doc = run_json("run", model, os.path.join(fix, "input.npy"), "--save-outputs", d)
    (out,) = doc["outputs"]
    saved = os.path.join(d, out["name"].replace("/", "_") + ".npy")
    shape, got = npy_values(saved)
    ref_shape, ref = npy_values(os.path.join(fix, "output.npy"))
    assert shape == ref_shape == out["shape"], (shape, ref_shape, out["shape"])
    assert max(abs(a - b) for a, b in zip(got, ref)) <= 1e-4


@case
def heatmap_over_the_picture():
    d = tempdir()
    photo = os.path.join(FACES, "12_angry_men.jpg")
    doc = run_json("run", os.path.join(FIX, "rescaling", "model.json"), photo, "--heatmaps", d)
    (out,) = doc["outputs"]
    assert out["kind"] == "heatmap" and out["top"] == []
    assert out["shape"] == [1, 3, 3, 2]
    with open(out["heatmap"], "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert height == 720 and width > 1280, (width, height)  # the photo plus the colour bar


@case
def wrong_npy_shape_is_bad_input():
    model = os.path.join(FIX, "conv2d_valid", "model.json")
    r = checked("run", model, os.path.join(FIX, "dense", "input.npy"), code=2)
    assert "(1, 12)" in r.stderr and "(1, 9, 9, 3)" in r.stderr, r.stderr


@case
def unsupported_layer_exits_1():
    # A Lambda layer cannot run: the run fails on the model's content.
    d = tempdir()
    with open(os.path.join(FIX, "dense", "model.json")) as f:
        m = json.load(f)
    layers = m["modelTopology"]["model_config"]["config"]["layers"] if "model_config" in m["modelTopology"] \
        else m["modelTopology"]["config"]["layers"]
    layers[2]["class_name"] = "Lambda"
    os.symlink(os.path.join(FIX, "dense", "weights.bin"), os.path.join(d, "weights.bin"))
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(m, f)
    r = checked("run", os.path.join(d, "model.json"), os.path.join(FIX, "dense", "input.npy"), code=1)
    assert "Lambda" in r.stderr, r.stderr


@case
def bench_reports_ratio():
    doc = run_json("bench", os.path.join(FIX, "mini_xception", "model.json"), "--runs", "3")
    assert doc["runs"] == 3
    assert 0 < doc["min_ms"] <= doc["median_ms"] <= doc["max_ms"]
    assert doc["gflop_per_run"] > 0 and doc["sgemm_gflops"] > 0
    assert abs(doc["ratio"] - doc["gflops"] / doc["sgemm_gflops"]) < 1e-3
    assert 0 < doc["cpu_median_ms"] and doc["cpu_ratio"] > 0
    # OpenBLAS 0.3.21 mistakes some CPUs for a Prescott; offshoot restarts with the right kernels.
    flags = open("/proc/cpuinfo").read()
    if "OPENBLAS_CORETYPE" not in os.environ and " avx2" in flags and " fma" in flags:
        assert doc["blas_core"] != "Prescott", doc["blas_core"]


main()
