#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A strict reader of KTAP v1 (Documentation/dev-tools/ktap.rst), ours: every
# (sub)test block starts with "KTAP version 1" and a plan "1..N", is indented
# 4 spaces per level, numbers its results 1..N in order, and has exactly N
# results; a result line is "ok|not ok N description[ # directive]" and a
# description holds no '#'. Lines of other shapes are allowed only as "#"
# diagnostics. Prints a summary (JSON) of the top level: [{n, ok, name,
# directive, subtests: [...]}, ...]. Exit 0 valid, 1 invalid (the reason and
# line number on stderr).
import json
import re
import sys

RESULT = re.compile(r"^(ok|not ok) ([0-9]+)(?: ([^#]*?))?\s*(?:# ?(.*))?$")


def fail(lineno, why, line):
    sys.stderr.write("ktap_check: line %d: %s: %r\n" % (lineno, why, line))
    sys.exit(1)


def parse(lines, start, depth):
    """Parses one block at indentation depth; returns (results, next index)."""
    ind = "    " * depth
    i = start
    if i >= len(lines) or lines[i][1] != ind + "KTAP version 1":
        fail(lines[i][0] if i < len(lines) else -1, "expected 'KTAP version 1' at depth %d" % depth,
             lines[i][1] if i < len(lines) else "<eof>")
    i += 1
    plan = None
    results = []
    pending = None  # a subtest block waiting for its parent's result line
    while i < len(lines):
        no, line = lines[i]
        if not line.startswith(ind):
            break  # the block ended: a parent's line
        body = line[len(ind):]
        if body.startswith("    "):
            if body.strip() == "KTAP version 1":
                if pending is not None:
                    fail(no, "two subtest blocks for one result", line)
                pending, i = parse(lines, i, depth + 1)
                continue
            if body.strip().startswith("#"):
                i += 1
                continue
            fail(no, "indented line outside a subtest block", line)
        if body.startswith("#"):
            i += 1
            continue
        m = re.match(r"^1\.\.([0-9]+)$", body)
        if m:
            if plan is not None or results:
                fail(no, "plan not at the start of its block", line)
            plan = int(m.group(1))
            i += 1
            continue
        m = RESULT.match(body)
        if not m:
            fail(no, "neither a result, a plan nor a diagnostic", line)
        if plan is None:
            fail(no, "result before the plan", line)
        n = int(m.group(2))
        if n != len(results) + 1:
            fail(no, "result number %d, expected %d" % (n, len(results) + 1), line)
        directive = (m.group(4) or "").strip()
        if directive and not re.match(r"^(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\b", directive):
            fail(no, "unknown directive", line)
        results.append({"n": n, "ok": m.group(1) == "ok", "name": (m.group(3) or "").strip(),
                        "directive": directive, "subtests": pending or []})
        pending = None
        i += 1
    if plan is None:
        fail(lines[start][0], "block without a plan", lines[start][1])
    if len(results) != plan:
        fail(lines[start][0], "plan says %d results, found %d" % (plan, len(results)),
             lines[start][1])
    if pending is not None:
        fail(lines[start][0], "a subtest block without its result line", lines[start][1])
    return results, i


def main():
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    lines = [(k + 1, l) for k, l in enumerate(text.split("\n")) if l != ""]
    results, i = parse(lines, 0, 0)
    if i != len(lines):
        fail(lines[i][0], "text after the top-level block", lines[i][1])
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
