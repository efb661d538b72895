#!/usr/bin/python3
"""Prints the closing line "N passed, M failed" from meson's test logs.

Counts TAP subtests (each GLib test path and each CLI case) of every build directory given
(its meson-logs/testlog.json) or test log given by path (a test setup's log, such as
build-valgrind/meson-logs/testlog-valgrind.json); a test that crashed or timed out before
printing its plan counts as one failure.
Exits 1 when anything failed."""
import json
import re
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    log = build if build.endswith(".json") else f"{build}/meson-logs/testlog.json"
    try:
        lines = open(log, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        print(f"{build}: no test log", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+", out, re.M))
        skip = len(re.findall(r"^ok \d+.*# ?SKIP", out, re.M | re.I))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        if ok + bad == 0:
            # Not TAP, or it died before its first result: the exit status decides.
            if t["result"] in ("OK", "EXPECTEDFAIL"):
                ok = 1
            elif t["result"] == "SKIP":
                skip = ok = 1
            else:
                bad = 1
        elif t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and bad == 0:
            bad = 1  # passed its subtests, then crashed (a leak report, a sanitizer abort)
        passed += ok - skip
        skipped += skip
        failed += bad
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
