"""offshoot export: usage, exit codes, and that a failed export leaves the target alone."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, corpus, main, offshoot, tempdir  # noqa: E402


@case
def missing_output_is_usage_error():
    r = offshoot("export", corpus("keras3", "mnist_cnn.keras"))
    assert r.returncode == 2, r.returncode
    assert "missing -o OUT" in r.stderr, r.stderr


@case
def unknown_output_format_is_usage_error():
    out = os.path.join(tempdir(), "model.pt")
    r = offshoot("export", corpus("keras3", "mnist_cnn.keras"), "-o", out)
    assert r.returncode == 2, r.returncode
    assert "cannot tell the format of" in r.stderr and "model.pt" in r.stderr, r.stderr
    assert not os.path.exists(out)


@case
def unreadable_model_leaves_target_untouched():
    d = tempdir()
    out = os.path.join(d, "model.h5")
    with open(out, "wb") as f:
        f.write(b"keep me")
    r = offshoot("export", os.path.join(d, "absent.keras"), "-o", out)
    assert r.returncode == 2, r.returncode
    assert "absent.keras" in r.stderr, r.stderr
    with open(out, "rb") as f:
        assert f.read() == b"keep me"
    assert sorted(os.listdir(d)) == ["model.h5"], os.listdir(d)


main()
