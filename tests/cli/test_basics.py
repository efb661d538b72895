"""The command-line contract: help, subcommands, exit codes."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from clitest import case, main, offshoot  # noqa: E402

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


main()
