#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kperflab trend (issue #30) end to end on a made-up history (no probe
# runs): 24 boots of one host under a runs directory, a rate that drops 10 %
# from the 13th boot on (kernel 6.1.0-10 -> 6.12.0), boot-to-boot noise of
# 2 %, seeded. A selector picks the history; text, Markdown, JSON and HTML
# must report the step with the right first bundle; --by kernel orders by
# version; bad input is refused with exit 2 and a message naming it.
set -euo pipefail
kperflab=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }

# The history: bundle i started 2026-03-01 + i hours; boot i; kernel
# 6.1.0-10 for i < 12, 6.12.0 after. x/rate drops 10 %, y/rate does not,
# z/ratio is 0 throughout (a linear-scale series). A second host holds
# four boots: too few for two windows.
python3 - "$here/../common/make_bundle.py" "$tmp/runs" <<'EOF'
import json, math, random, subprocess, sys
make, runs = sys.argv[1], sys.argv[2]
rng = random.Random(30)
def bundle(host, i, release, x):
    stamp = "2026-03-%02dT%02d:00:00Z" % (1 + i // 24, i % 24)
    d = "%s/%s/%s/%s-%04x" % (runs, host, release, stamp.replace("-", "").replace(":", ""), i)
    spec = {"meta": {"bundle_id": "%s-%d" % (host, i), "started": stamp,
                     "host": {"hostname": host},
                     "kernel": {"release": release, "boot_id": "%s-boot-%d" % (host, i)}},
            "probes": {"p": {"scalars": {"x/rate": ["ops/s", x],
                                         "y/rate": ["ops/s", 500 * math.exp(rng.gauss(0, 0.02))],
                                         "z/ratio": ["ratio", 0]}}}}
    subprocess.run([sys.executable, make, d], input=json.dumps(spec).encode(), check=True)
for i in range(24):
    step = 0.9 if i >= 12 else 1.0
    bundle("srv1", i, "6.1.0-10" if i < 12 else "6.12.0", 1e6 * step * math.exp(rng.gauss(0, 0.02)))
for i in range(4):
    bundle("small", i, "6.12.0", 1e6)
EOF
first=$(ls -d "$tmp"/runs/srv1/6.12.0/*T1200* 2>/dev/null) || fail "no 13th bundle"
sel="host:srv1+probe:p"

"$kperflab" trend --runs-dir "$tmp/runs" "$sel" >"$tmp/t.txt" || fail "trend (text) failed"
cat "$tmp/t.txt"
grep -q "^kperflab trend: host:srv1+probe:p$" "$tmp/t.txt" || fail "text: header"
grep -q "history: 24 bundles in 24 boots, by time" "$tmp/t.txt" || fail "text: history"
grep -Eq "^change p x/rate \(value\) -[0-9]+\.[0-9]% \[-[0-9.]+%, -[0-9.]+%\]$" "$tmp/t.txt" ||
  fail "text: the step of x/rate"
grep -q "kernels 6.1.0-10 -> 6.12.0" "$tmp/t.txt" || fail "text: kernels either side"
grep -q "first after: boot 13 of 24, started 2026-03-01T12:00:00Z, 6.12.0" "$tmp/t.txt" ||
  fail "text: first bundle after"
grep -qF "$first" "$tmp/t.txt" || fail "text: the first bundle's path"
grep -q "y/rate" "$tmp/t.txt" && fail "text: y/rate did not change"
[[ $(grep -c "^change \|^REGRESSION \|^improvement " "$tmp/t.txt") -eq 1 ]] || fail "text: one change"
awk 'length($0) > 80 { bad = 1; print "long: " $0 } END { exit bad }' "$tmp/t.txt" ||
  fail "text: lines over 80 columns"
LC_ALL=C grep -q '[^ -~]' "$tmp/t.txt" && fail "text: not ASCII"

"$kperflab" trend --runs-dir "$tmp/runs" "$sel" --format markdown -o "$tmp/t.md" ||
  fail "trend --format markdown"
grep -q "^| change | \`p/x/rate\` | value | " "$tmp/t.md" || fail "markdown: the change's row"
grep -qF "$first" "$tmp/t.md" || fail "markdown: the first bundle"

"$kperflab" trend --runs-dir "$tmp/runs" "$sel" --format json >"$tmp/t.json" || fail "trend --format json"
python3 - "$tmp/t.json" "$first" <<'EOF' || fail "json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["schema"] == "kperflab.trend/1", j["schema"]
assert j["boots"] == 24 and j["bundles"] == 24, (j["boots"], j["bundles"])
ch = j["changes"]
assert len(ch) == 1, ch
c = ch[0]
assert (c["probe"], c["metric"], c["stat"]) == ("p", "x/rate", "value"), c
assert c["first_after"]["path"] == sys.argv[2], c["first_after"]
assert c["first_after"]["unit"] == 12 and c["last_before"]["unit"] == 11
assert c["kernels"] == ["6.1.0-10", "6.12.0"], c["kernels"]
assert -0.13 < c["change"] < -0.07 and c["ci"][0] < c["change"] < c["ci"][1], c
assert c["q"] < 0.05 and 0 <= c["p"] <= c["q"], c
EOF

"$kperflab" trend --runs-dir "$tmp/runs" "$sel" --format html -o "$tmp/t.html" ||
  fail "trend --format html"
grep -q "<svg" "$tmp/t.html" || fail "html: no plot"
grep -q "class='change'" "$tmp/t.html" || fail "html: the change is not marked"
grep -qi "<script" "$tmp/t.html" && fail "html: a script"
grep -q "https\?://[a-z]" <(sed 's#http://www.w3.org/2000/svg##g' "$tmp/t.html") &&
  fail "html: an external resource"
# -o never overwrites without --force.
rc=0
"$kperflab" trend --runs-dir "$tmp/runs" "$sel" -o "$tmp/t.html" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || fail "-o over an existing file exited $rc"

# A directory works as the history too; --by kernel orders by version.
"$kperflab" trend "$tmp/runs/srv1" --by kernel --format json >"$tmp/k.json" || fail "--by kernel"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["by"]=="kernel"; assert len(j["changes"])==1' \
  "$tmp/k.json" || fail "--by kernel: the change"

# Bad input: exit 2 and a message naming the problem.
expect_error() {  # $1 what, $2 pattern, then the arguments
  local what=$1 pattern=$2 rc=0
  shift 2
  "$kperflab" trend "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [[ $rc -eq 2 ]] || { cat "$tmp/err"; fail "$what: exit $rc, expected 2"; }
  grep -q -- "$pattern" "$tmp/err" || { cat "$tmp/err"; fail "$what: message"; }
  [[ ! -s $tmp/out ]] || fail "$what: printed a report"
}
expect_error "a selector matching nothing" "'host:nowhere' matched no bundle" \
  --runs-dir "$tmp/runs" host:nowhere
expect_error "too few boots" "has 4 bundles in 4 boots; two windows need 10 boots at least" \
  --runs-dir "$tmp/runs" host:small
expect_error "an unknown --by" "--by: version not in {" --runs-dir "$tmp/runs" "$sel" --by version
expect_error "several hosts" "bundles of 2 hosts" "$tmp/runs"
expect_error "a probe no bundle has" "--probe nope: no bundle" --runs-dir "$tmp/runs" "$sel" --probe nope
expect_error "a missing path" "no such bundle or directory" "$tmp/none"
expect_error "a window of 1" "--window: Value 1 not in range 2 to 1000" --runs-dir "$tmp/runs" "$sel" \
  --window 1

# --fail-on regression: a rate with no better direction is a change, not a
# regression (exit 0).
"$kperflab" trend --runs-dir "$tmp/runs" "$sel" --fail-on regression >/dev/null ||
  fail "--fail-on regression without a regression"
echo "cli_trend: ok"
