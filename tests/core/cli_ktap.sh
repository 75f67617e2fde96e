#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kperflab run --ktap (issue #18): standard output is valid KTAP v1 (read by
# tests/common/ktap_check.py, which must also refuse broken KTAP); one test
# per probe in run order; an unavailable probe is "ok N # SKIP <the reason
# kperflab list gives>"; the diagnostics' figures are the ones `export --lava`
# reports for the same bundle (one headline selection); ^C leaves a plan that
# still adds up, the unfinished probes "not ok"; and the kernel's own parser
# (kunit.py parse, tests/common/kunit_tool.sh) reads the same verdicts: the
# run passes, the interrupted one fails with both probes counted failed.
set -euo pipefail
kperflab=$1
check=$(dirname "$0")/../common/ktap_check.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/wait_repetition.sh"
. "$(dirname "$0")/../common/kunit_tool.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
"$kperflab" list | grep -q "^cpumask *yes" || { echo "SKIP: cpumask not runnable here"; exit 77; }

# The checker is not a rubber stamp.
printf 'KTAP version 1\n1..2\nok 1 a\nok 3 b\n' >"$tmp/bad1"
printf 'KTAP version 1\n1..2\nok 1 a\n' >"$tmp/bad2"
printf 'KTAP version 1\n1..1\n    KTAP version 1\n    1..1\n    ok 1 x\n' >"$tmp/bad3"
printf 'KTAP version 1\n1..1\nok 1 a # WHATEVER\n' >"$tmp/bad4"
for b in bad1 bad2 bad3 bad4; do
  python3 "$check" "$tmp/$b" >/dev/null 2>&1 && fail "ktap_check accepted $b: $(cat "$tmp/$b")"
done

# ipi needs kperflab.ko: skipped here, run where the module is loaded.
ipi_reason=$("$kperflab" list | awk '/^ipi +no/{getline; sub(/^ *-> /, ""); print; exit}')
"$kperflab" run --ktap --probe cpumask --probe ipi --profile quick --repeat 2 \
  --set cpumask.samples=12 --set cpumask.densities=full --out "$tmp/b" >"$tmp/ktap" 2>"$tmp/err" ||
  fail "run --ktap exit $?: $(tail -3 "$tmp/err")"
python3 "$check" "$tmp/ktap" >"$tmp/tree" || fail "invalid KTAP: $(head -20 "$tmp/ktap")"
grep -q '^bundle:' "$tmp/ktap" && fail "the plain summary went to stdout with --ktap"
python3 - "$tmp/tree" "$ipi_reason" <<'PY' || fail "KTAP content (output in $tmp/ktap)"
import json, sys
tree = json.load(open(sys.argv[1])); reason = sys.argv[2]
assert [t["name"] for t in tree] == ["cpumask", "ipi"], [t["name"] for t in tree]
cm, ipi = tree
assert cm["ok"] and not cm["directive"] and len(cm["subtests"]) >= 20, cm
assert all(s["ok"] for s in cm["subtests"]), cm["subtests"]
if reason:
    assert ipi["ok"] and ipi["directive"] == "SKIP " + reason, (ipi, reason)
else:
    assert ipi["ok"] and not ipi["directive"] and ipi["subtests"], ipi
PY
# The diagnostics' figures equal export --lava's for the same bundle.
"$kperflab" export --lava "$tmp/b" >"$tmp/lava"
python3 - "$tmp/ktap" "$tmp/lava" <<'PY' || fail "KTAP and LAVA figures differ"
import re, sys
lava = {}
for line in open(sys.argv[2]):
    name, result, value, unit, note = line.rstrip("\n").split("\t")
    lava[name] = (result, value, unit)
probe, seen = None, 0
for line in open(sys.argv[1]):
    m = re.match(r"^    # Subtest: (\S+)$", line)
    if m:
        probe = m.group(1); continue
    m = re.match(r"^    # (\S+) (?:(p50|p99) )?(\S+) (\S+)$", line)
    if not m or not probe:
        continue
    metric, stat, value, unit = m.groups()
    name = probe + "." + metric.replace("/", ".").replace("=", "-") + ("." + stat if stat else "")
    assert name in lava, name
    assert lava[name] == ("pass", value, unit), (name, lava[name], value, unit)
    seen += 1
assert seen >= 20, seen
assert lava["cpumask"][0] == "pass", lava["cpumask"]
PY
grep -q $'^ipi\tskip\t-\t-\tskipped: ' "$tmp/lava" || [[ -z $ipi_reason ]] ||
  fail "export --lava does not skip ipi: $(grep ^ipi "$tmp/lava")"

# ^C during the first probe: it ends partial (not ok), the second never runs
# (not ok), and the plan adds up.
"$kperflab" run --ktap --probe cpumask --probe cpumask --profile quick --repeat 50 \
  --set cpumask.samples=12 --out "$tmp/i" >"$tmp/ktap-int" 2>"$tmp/err-int" &
pid=$!
wait_first_repetition "$tmp/i/cpumask.json"
kill -INT "$pid"
set +e
wait "$pid"; rc=$?
set -e
[[ $rc -eq 130 ]] || fail "exit $rc after SIGINT, expected 130 ($(tail -3 "$tmp/err-int"))"
python3 "$check" "$tmp/ktap-int" >"$tmp/tree-int" || fail "invalid KTAP after ^C: $(cat "$tmp/ktap-int")"
python3 - "$tmp/tree-int" <<'PY' || fail "KTAP after ^C: $(cat "$tmp/ktap-int")"
import json, sys
tree = json.load(open(sys.argv[1]))
assert len(tree) == 2 and not tree[0]["ok"] and not tree[1]["ok"], tree
PY
grep -q '^# cpumask: not run: the run was interrupted' "$tmp/ktap-int" ||
  fail "no reason for the probe that did not run"

# The kernel's parser: the first run passes (ipi's skip is a skip), the
# interrupted one fails twice (cpumask's "run" subtest, the cpumask that
# never ran).
if kunit=$(kunit_tool_dir); then
  kunit_parse "$kunit" "$tmp/ktap" >"$tmp/kunit" 2>&1 ||
    fail "kunit.py parse of the run: $(tail -5 "$tmp/kunit")"
  grep -q 'Testing complete\. Ran [0-9]* tests: passed: [0-9]*\(, skipped: 1\)\?$' "$tmp/kunit" ||
    fail "kunit.py parse of the run: $(tail -3 "$tmp/kunit")"
  rc=0
  kunit_parse "$kunit" "$tmp/ktap-int" >"$tmp/kunit-int" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] &&
    grep -q 'Testing complete\. Ran [0-9]* tests: .*failed: 2\(,\|$\)' "$tmp/kunit-int" ||
    fail "kunit.py parse after ^C: exit $rc, $(tail -3 "$tmp/kunit-int")"
else
  echo "SKIP (part): the kernel's KTAP parser is not available: $kunit_why"
fi
echo "cli_ktap: ok ($(grep -c '^    ok' "$tmp/ktap") subtests)"
