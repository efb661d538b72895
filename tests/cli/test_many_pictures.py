"""`offshoot run` on many pictures (issue 17, item 10): any number of INPUTs and folders, read 16 at
a time so memory stays bounded, one JSON result per picture (the {"runs": [...]} document of a few
pictures, written as it goes), a picture that fails after the first batch reported in its own
result, and a progress line on stderr when stderr is a terminal."""
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import BINARY, VALGRIND, case, main, offshoot, offshoot_json, tempdir  # noqa: E402


def samples():
    d = tempdir()
    r = offshoot("samples", "-o", d)
    assert r.returncode == 0, r.stderr
    return d


PICTURES = ["circle-1.png", "circle-2.png", "cross-1.png", "cross-2.png"]


def folder_of_copies(src, n):
    """n pictures named 000-circle-1.png ... cycling through the four samples."""
    d = tempdir()
    for i in range(n):
        name = PICTURES[i % 4]
        shutil.copy(os.path.join(src, name), os.path.join(d, f"{i:03d}-{name}"))
    return d


def top1(run):
    (out,) = [o for o in run["outputs"] if o["kind"] == "label"]
    return out["top"][0]


@case
def a_folder_of_forty_gives_forty_results_equal_to_single_runs():
    s = samples()
    model = os.path.join(s, "model.h5")
    alone = {name: top1(offshoot_json("run", model, os.path.join(s, name))) for name in PICTURES}
    d = folder_of_copies(s, 40)
    doc = offshoot_json("run", model, d)
    runs = doc["runs"]
    assert len(runs) == 40, len(runs)
    # In name order, each with the result of that picture alone (the same class, the same p).
    assert [r["input"] for r in runs] == sorted(os.path.join(d, f) for f in os.listdir(d))
    for i, r in enumerate(runs):
        want = alone[PICTURES[i % 4]]
        got = top1(r)
        assert got["index"] == want["index"] and abs(got["p"] - want["p"]) < 1e-6, (r["input"], got, want)
        assert r["time_ms"] > 0


@case
def files_and_folders_mix_in_the_order_given():
    s = samples()
    d = folder_of_copies(s, 3)
    first = os.path.join(s, "cross-2.png")
    doc = offshoot_json("run", os.path.join(s, "model.h5"), first, d, first)
    inputs = [r["input"] for r in doc["runs"]]
    assert inputs == [first] + sorted(os.path.join(d, f) for f in os.listdir(d)) + [first], inputs


@case
def text_output_has_one_block_per_picture():
    s = samples()
    d = folder_of_copies(s, 20)
    r = offshoot("run", os.path.join(s, "model.h5"), d)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\ninput ") == 20 and r.stdout.count("time ") == 20, r.stdout[-500:]
    assert r.stdout.startswith("model "), r.stdout[:200]
    assert "pictures" not in r.stderr, r.stderr  # no progress line: stderr is no terminal


@case
def a_bad_picture_after_the_first_batch_gets_its_own_error():
    s = samples()
    d = folder_of_copies(s, 30)
    bad = os.path.join(d, "020-broken.png")
    with open(bad, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n not really")
    r = offshoot("run", os.path.join(s, "model.h5"), d, "--json")
    assert r.returncode == 2, (r.returncode, r.stderr)
    doc = json.loads(r.stdout)
    runs = doc["runs"]
    assert len(runs) == 31
    (broken,) = [x for x in runs if x["input"] == bad]
    assert "outputs" not in broken and broken["error"]["message"].startswith(bad), broken
    assert broken["error"]["kind"] != "usage", broken
    assert all("outputs" in x for x in runs if x["input"] != bad)
    assert bad in r.stderr, r.stderr


@case
def a_bad_picture_in_the_first_batch_stops_before_any_result():
    """As before streaming: a few pictures are one command, an unreadable one is its error."""
    s = samples()
    r = offshoot("run", os.path.join(s, "model.h5"), os.path.join(s, "circle-1.png"),
                 os.path.join(s, "nope.png"), "--json")
    assert r.returncode == 2, r
    doc = json.loads(r.stdout)
    assert "runs" not in doc and doc["exit"] == 2 and "nope.png" in doc["error"]["message"], doc


@case
def an_empty_folder_is_a_usage_error():
    s = samples()
    d = tempdir()
    doc = offshoot_json("run", os.path.join(s, "model.h5"), d, expect_code=2)
    assert doc["error"]["kind"] == "usage" and d in doc["error"]["message"], doc


@case
def progress_on_a_terminal():
    if VALGRIND:
        return  # the pty run below goes around the valgrind wrapper
    s = samples()
    d = folder_of_copies(s, 24)
    master, slave = pty.openpty()
    p = subprocess.Popen([BINARY, "run", os.path.join(s, "model.h5"), d, "--json"],
                         stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = p.stdout.read()
    p.wait()
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    assert p.returncode == 0
    assert len(json.loads(out)["runs"]) == 24  # stdout stays one document
    assert b"24/24 pictures" in err, err[-300:]
    assert err.endswith(b"\r\x1b[K"), err[-40:]  # the line is cleared at the end


def write_png(path, width, height):
    """A plain RGB PNG (a gradient), written without any imaging library."""
    def row(y):
        return b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
    raw = b"".join(row(y) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 1)))
        f.write(chunk(b"IEND", b""))


def peak_rss_kb(*args):
    """The peak resident size of one run of the binary (ru_maxrss of a child of its own)."""
    code = ("import resource, subprocess, sys; "
            "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, BINARY, *args], capture_output=True, text=True)
    rc, kb = out.stdout.split()
    assert rc == "0", out
    return int(kb)


@case
def memory_stays_bounded_however_many_pictures():
    """Before, every picture was decoded up front: 160 pictures of 1200 x 1200 held 690 MB.
    Read 16 at a time, 160 peak about as high as 32."""
    if VALGRIND:
        return  # peak sizes under valgrind say nothing about the binary's
    s = samples()
    big = os.path.join(tempdir(), "big.png")
    write_png(big, 1200, 1200)
    few, many = tempdir(), tempdir()
    for i in range(160):
        for d, n in ((few, 32), (many, 160)):
            if i < n:
                os.link(big, os.path.join(d, f"{i:03d}.png"))
    model = os.path.join(s, "model.h5")
    rss_few, rss_many = peak_rss_kb("run", model, few, "--json"), peak_rss_kb("run", model, many, "--json")
    # 128 more decoded pictures of 4.3 MB each would add 550 MB.
    assert rss_many < rss_few + 100 * 1024, (rss_few, rss_many)


main()
