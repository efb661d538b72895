"""The command-line contract: help, subcommands, exit codes."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import BINARY, case, main, offshoot, tempdir  # noqa: E402

COMMANDS = ["inspect", "check", "run", "attach", "export", "render", "bench", "zoo", "samples"]


@case
def help_lists_every_command():
    r = offshoot("--help")
    assert r.returncode == 0, r.stderr
    for c in COMMANDS:
        assert f"\n  {c} " in r.stdout, f"'{c}' missing from --help:\n{r.stdout}"


@case
def each_command_has_help():
    for c in COMMANDS:
        r = offshoot(c, "--help")
        assert r.returncode == 0, f"{c} --help exited {r.returncode}"
        assert r.stdout.startswith(f"Usage: offshoot {c} "), r.stdout


@case
def help_command_form():
    r = offshoot("help", "render")
    assert r.returncode == 0 and "Usage: offshoot render" in r.stdout, r.stdout


@case
def unknown_command_is_usage_error():
    r = offshoot("frobnicate")
    assert r.returncode == 2, r.returncode
    assert "'frobnicate' is not a command or a model file" in r.stderr, r.stderr


@case
def unknown_option_is_usage_error():
    r = offshoot("--frobnicate")
    assert r.returncode == 2, r.returncode
    assert "unknown option" in r.stderr


@case
def version():
    r = offshoot("--version")
    assert r.returncode == 0 and r.stdout.startswith("offshoot "), r.stdout



def needed_libraries(program):
    r = subprocess.run(["readelf", "-d", program], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", r.stdout)


GTK_LIBRARIES = ("libgtk", "libgdk-", "libgsk", "libgraphene", "libepoxy")


@case
def the_cli_links_no_gtk():
    # What we promise: a command starts without loading GTK (and a run holds none of its code);
    # the window is offshoot-window beside it, which does link GTK (so the check can fail).
    cli = needed_libraries(BINARY)
    assert "libcairo.so.2" in cli, cli
    assert not [n for n in cli if n.startswith(GTK_LIBRARIES)], cli
    window = needed_libraries(os.path.join(os.path.dirname(BINARY), "offshoot-window"))
    assert [n for n in window if n.startswith("libgtk-4")], window


def lone_copy(window_script=None):
    """A copy of the binary alone in a folder, with `window_script` as its offshoot-window."""
    folder = tempdir()
    copy = os.path.join(folder, "offshoot")
    try:
        os.link(os.path.realpath(BINARY), copy)
    except OSError:
        shutil.copy2(BINARY, copy)
    if window_script:
        window = os.path.join(folder, "offshoot-window")
        with open(window, "w") as f:
            f.write(window_script)
        os.chmod(window, 0o755)
    return copy


@case
def no_command_starts_the_window_program_beside_with_the_same_arguments():
    copy = lone_copy("#!/bin/sh\necho window started\nfor a in \"$@\"; do echo \"arg $a\"; done\n")
    model = os.path.join(os.path.dirname(copy), "my model.keras")
    open(model, "wb").close()
    for args in [(), (model,), ("--", model), ("@default",)]:
        r = offshoot(*args, binary=copy)
        assert r.returncode == 0, (args, r.returncode, r.stderr)
        assert r.stdout.splitlines() == ["window started", *(f"arg {a}" for a in args)], (args, r.stdout)
    # Commands and bad arguments never reach the window.
    r = offshoot("--version", binary=copy)
    assert r.stdout.startswith("offshoot ") and "window" not in r.stdout, r.stdout
    r = offshoot("frobnicate", binary=copy)
    assert r.returncode == 2 and "window" not in r.stdout, (r.returncode, r.stdout)


@case
def a_missing_window_program_is_one_clear_line():
    r = offshoot("@default", binary=lone_copy())
    assert r.returncode == 2, r.returncode
    assert r.stderr.count("\n") == 1, r.stderr
    assert "the window program 'offshoot-window' is not installed beside" in r.stderr, r.stderr
    # The commands still work.
    r = offshoot("inspect", "@default", binary=lone_copy())
    assert r.returncode == 0 and "Total params" in r.stdout, (r.returncode, r.stderr)


main()
