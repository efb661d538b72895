"""Every file of ../shared/corpus through `offshoot inspect --json`: each file that holds a
Keras model config opens, and its total parameter count equals the sum of the sizes of all its
weight arrays as h5py reads them; every other file gives a clear error naming it; nothing
crashes. The counts are printed as TAP comments."""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from clitest import CORPUS, case, main, offshoot, skip_all_without_corpus  # noqa: E402
import h5sums  # noqa: E402

skip_all_without_corpus()

FILES = sorted(os.path.join(d, f) for d, _, fs in os.walk(CORPUS) for f in fs)


def head(path):
    with open(path, "rb") as fh:
        return fh.read(8)


# Sorted by content, as Offshoot detects formats (model.h5.with.tensorflow.scope is HDF5).
H5 = [f for f in FILES if head(f) == b"\x89HDF\r\n\x1a\n"]
JSON = [f for f in FILES if head(f).lstrip()[:1] == b"{"]
KERAS = [f for f in FILES if head(f)[:4] == b"PK\x03\x04"]
OTHER = [f for f in FILES if f not in H5 + JSON + KERAS]


def inspect(path):
    r = offshoot("inspect", path, "--json")
    assert r.returncode >= 0, f"{path}: killed by signal {-r.returncode}"
    return r


def inspect_all(paths):
    """Runs inspect on every path, two at a time (the runs dominate this test's time)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(inspect, paths)))


def problems(items):
    return "\n".join(items[:20]) + (f"\n... {len(items) - 20} more" if len(items) > 20 else "")


@case
def corpus_is_present():
    assert len(H5) > 700 and len(KERAS) == 2, (len(H5), len(KERAS))


@case
def every_h5_with_a_config_opens_with_h5py_totals():
    bad = []
    files = [f for f in H5 if h5sums.has_model_config(f)]
    n = len(files)
    runs = inspect_all(files)
    for f in files:
        r = runs[f]
        if r.returncode != 0:
            bad.append(f"{f}: exit {r.returncode}: {r.stderr.strip()}")
            continue
        got, want = json.loads(r.stdout)["total_params"], h5sums.weight_total(f)
        if got != want:
            bad.append(f"{f}: {got} params, h5py counts {want}")
    print(f"# {n} .h5 files hold a model config; {n - len(bad)} open with matching totals")
    assert not bad, problems(bad)


@case
def every_h5_without_a_config_is_a_clear_error():
    bad = []
    files = [f for f in H5 if not h5sums.has_model_config(f)]
    n = len(files)
    runs = inspect_all(files)
    for f in files:
        r = runs[f]
        name = os.path.basename(f)
        if r.returncode != 2 or name not in r.stderr:
            bad.append(f"{f}: exit {r.returncode}: {r.stderr.strip()}")
    print(f"# {n} .h5 files hold no model config (weights only or data); all refused with their name")
    assert not bad, problems(bad)


@case
def json_model_configs_open_without_weights():
    bad, opened, refused = [], 0, 0
    runs = inspect_all(JSON)
    for f in JSON:
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        is_model = doc.get("class_name") in ("Sequential", "Model", "Functional") or "modelTopology" in doc
        r = runs[f]
        if is_model and r.returncode == 0:
            opened += 1
            d = json.loads(r.stdout)
            if "modelTopology" not in doc and not d.get("weights_absent"):
                bad.append(f"{f}: a bare config should say its weights are absent")
        elif not is_model and r.returncode == 2 and os.path.basename(f) in r.stderr:
            refused += 1
        else:
            bad.append(f"{f}: exit {r.returncode}: {r.stderr.strip()}")
    print(f"# {opened} JSON model configs open; {refused} other JSON documents refused with their name")
    assert not bad, problems(bad)


@case
def keras3_archives_match_h5py():
    import tempfile
    import zipfile
    for f in KERAS:
        r = inspect(f)
        assert r.returncode == 0, r.stderr
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(f) as z:
                z.extract("model.weights.h5", tmp)
            import h5py
            total = 0
            with h5py.File(os.path.join(tmp, "model.weights.h5"), "r") as h:
                def visit(_n, o):
                    nonlocal total
                    if isinstance(o, h5py.Dataset):
                        total += o.size
                h["layers"].visititems(visit)
        assert json.loads(r.stdout)["total_params"] == total, (f, r.stdout[-200:], total)


@case
def other_files_are_clear_errors():
    bad = []
    runs = inspect_all(OTHER)
    for f in OTHER:
        r = runs[f]
        if r.returncode != 2 or os.path.basename(f) not in r.stderr:
            bad.append(f"{f}: exit {r.returncode}: {r.stderr.strip()}")
    print(f"# {len(OTHER)} other files (images, arrays, scripts) refused with their name")
    assert not bad, problems(bad)


main()
