"""Reference runs (tfjs, ONNX Runtime in node) remembered by what they read.

A reference's answer depends only on its script, the npm packages installed and the files it is
given, never on Offshoot's build; yet every build of the suite (the normal one, the sanitizer
one) asked tfjs the same questions again, and tfjs's CPU backend took most of the suite's time.
`run_reference` runs a reference command once per content: the key is a hash of the npm lock
file, the modules in tools/reference/, every argument and the bytes of every file an argument
names (the script itself, a graph model's weight shards too); the files the run wrote into its output folder and its stdout are kept under
the cache folder and copied back on the next identical call. Only successful runs are kept.

The cache folder is OSH_REFERENCE_CACHE, else tests/reference/cache in the checkout (ignored by
git; delete it to start afresh). Edits to what the reference reads change the key; an upgrade of
the npm references changes package-lock.json and so every key.
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from clitest import source

CACHE = os.environ.get("OSH_REFERENCE_CACHE") or source("tests", "reference", "cache")


def _hash_file(h, path):
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def _weight_shards(path):
    """The shard files a TF.js model.json names, beside it."""
    if not path.endswith(".json"):
        return []
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return []
    if not isinstance(doc, dict):
        return []
    folder = os.path.dirname(path)
    return [os.path.join(folder, p) for group in doc.get("weightsManifest") or []
            for p in group.get("paths", [])]


def _key(argv, out_folder):
    h = hashlib.sha256()
    # The npm packages' versions and the modules the reference scripts share.
    shared = [source("tests", "reference", "package-lock.json")] + sorted(
        os.path.join(source("tools", "reference"), n) for n in os.listdir(source("tools", "reference"))
        if n.endswith(".mjs"))
    for path in shared:
        if os.path.isfile(path):
            _hash_file(h, path)
    for arg in argv:
        h.update(b"\0arg\0")
        if arg == out_folder:
            h.update(b"<out>")
            continue
        parts = arg.split(",")
        if all(p and os.path.isfile(p) for p in parts):
            for p in parts:
                h.update(b"\0file\0")
                _hash_file(h, p)
                for shard in _weight_shards(p):
                    h.update(b"\0shard\0" + os.path.basename(shard).encode())
                    if os.path.isfile(shard):
                        _hash_file(h, shard)
        else:
            h.update(arg.encode())
    return h.hexdigest()


def run_reference(argv, out_folder, **kwargs):
    """subprocess.run(argv, capture_output=True, text=True, **kwargs) for a reference command
    that writes its results into `out_folder` (one of its arguments); a cached run's files are
    copied into `out_folder` and its stdout returned, with return code 0."""
    entry = os.path.join(CACHE, _key(argv, out_folder))
    if os.path.isfile(os.path.join(entry, "stdout.txt")):
        shutil.copytree(os.path.join(entry, "files"), out_folder, dirs_exist_ok=True)
        with open(os.path.join(entry, "stdout.txt")) as f:
            return subprocess.CompletedProcess(argv, 0, f.read(), "")
    r = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if r.returncode == 0 and os.path.isdir(out_folder):
        os.makedirs(CACHE, exist_ok=True)
        work = tempfile.mkdtemp(dir=CACHE, prefix=".new-")
        shutil.copytree(out_folder, os.path.join(work, "files"))
        with open(os.path.join(work, "stdout.txt"), "w") as f:
            f.write(r.stdout)
        try:
            os.rename(work, entry)  # whole or not at all; a concurrent twin may have won
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
    return r
