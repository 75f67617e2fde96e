#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kperflab export --kcidb on a real bundle of this host: the output validates
# against KCIDB I/O v5.3 (tests/fixtures/kcidb-v5.3-subset.schema.json, with
# python3-jsonschema), names the kernel's checkout and build (config hash as
# in meta.json), has one test per probe and per headline figure (as many as
# export --lava's cases), all DONE; two bundles of one kernel share checkout
# and build; with --baseline an A/A export is all PASS, no FAIL. Refused: a
# broken document (the validator really runs), a corrupt bundle (named),
# --baseline without --kcidb, an origin KCIDB would not take. Formats are
# checked as kcidb-io checks them (tests/common/kcidb_validate.py, #25 item
# 12): an impossible start_time is invalid, and a bundle whose meta.json
# "started" is one is refused by the loader, naming file and field.
set -euo pipefail
kperflab=$1
here=$(cd "$(dirname "$0")" && pwd)
schema=$here/../fixtures/kcidb-v5.3-subset.schema.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 -c 'import jsonschema' 2>/dev/null ||
  { echo "SKIP: python3-jsonschema not installed (./run.sh deps installs it)"; exit 77; }

# validate FILE: exit 0 when FILE is valid KCIDB v5.3, else print the errors.
validate() { python3 "$here/../common/kcidb_validate.py" "$schema" "$1"; }

# The formats are checked, whatever jsonschema's optional packages: times
# that do not exist and a URL that is none are refused, real ones pass.
python3 - "$tmp/formats.json" <<'EOF'
import json, sys
t = {"id": "o:t", "origin": "o", "build_id": "o:b"}
doc = {"version": {"major": 5, "minor": 3}, "tests": [
    dict(t, start_time="2026-02-30T24:00:61Z"), dict(t, start_time="2026-02-29T12:00:00Z"),
    dict(t, start_time="2026-02-28T12:00:60Z"), dict(t, start_time="2026-02-28 12:00:00Z"),
    dict(t, log_url="not a url"),
    dict(t, start_time="2024-02-29T23:59:59.5+01:00"), dict(t, start_time="2016-12-31T23:59:60Z"),
    dict(t, log_url="https://example.org/log.txt")]}
json.dump(doc, open(sys.argv[1], "w"))
EOF
if validate "$tmp/formats.json" >"$tmp/why"; then fail "impossible times validated"; fi
for i in 0 1 2 3 4; do
  grep -q "^invalid: tests/$i/" "$tmp/why" || { cat "$tmp/why"; fail "formats: tests/$i not refused"; }
done
if grep -q "^invalid: tests/[5-7]/" "$tmp/why"; then cat "$tmp/why"; fail "formats: a valid one refused"; fi

# A meta.json "started" that does not exist: the loader refuses the bundle
# (exit 2, file and field named) before anything is exported.
python3 "$here/../common/make_bundle.py" "$tmp/badtime" <<'EOF'
{"meta": {"started": "2026-02-30T24:00:61Z"},
 "probes": {"p": {"scalars": {"x/rate": ["ops/s", 5]}}}}
EOF
rc=0
"$kperflab" export --kcidb "$tmp/badtime" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || fail "a bundle started 2026-02-30T24:00:61Z exported (exit $rc)"
grep -q "meta.json: field 'started': '2026-02-30T24:00:61Z' has day 30 in month 2" "$tmp/err" ||
  { cat "$tmp/err"; fail "bad started: message"; }
sed -i 's/2026-02-30T24:00:61Z/2026-02-28T23:59:58Z/' "$tmp/badtime/meta.json"
"$kperflab" export --kcidb "$tmp/badtime" -o "$tmp/fixture.json" || fail "export of the fixture"
validate "$tmp/fixture.json" || fail "the fixture's export is not valid"
grep -q '"start_time": *"2026-02-28T23:59:58Z"' "$tmp/fixture.json" || fail "fixture: start_time"

"$kperflab" list >"$tmp/list"
grep -q "^membarrier *yes" "$tmp/list" || { echo "SKIP: membarrier not runnable here"; exit 77; }

. "$here/small_membarrier.sh"
small+=(--repeat 3)
"$kperflab" run "${small[@]}" --runs-dir "$tmp/runs" >"$tmp/run1" 2>&1 ||
  { cat "$tmp/run1"; fail "run"; }
b1=$(sed -n 's/^bundle: \(.*\) (.*/\1/p' "$tmp/run1")
[[ -d $b1 ]] || fail "no bundle from the run"

# One bundle: valid, and what it says.
"$kperflab" export --kcidb "$b1" -o "$tmp/one.json" || fail "export --kcidb"
validate "$tmp/one.json" || fail "one bundle: not valid KCIDB v5.3"
cases=$("$kperflab" export --lava "$b1" | wc -l)
python3 - "$b1/meta.json" "$tmp/one.json" "$cases" <<'EOF' || fail "one bundle: content"
import json, re, sys
meta, doc, cases = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert doc["version"] == {"major": 5, "minor": 3}, doc["version"]
(co,), (build,) = doc["checkouts"], doc["builds"]
assert co["misc"]["kernel_release"] == meta["kernel"]["release"], co
assert build["checkout_id"] == co["id"], build
config = meta["kernel"].get("config") or {}
assert build["misc"].get("config_sha256") == config.get("sha256"), build["misc"]
tests = doc["tests"]
assert len(tests) == cases, f"{len(tests)} tests, {cases} LAVA cases"
assert len(tests) > len(meta["probes"]), "no figure tests"
assert {t["status"] for t in tests} == {"DONE"}, {t["status"] for t in tests}
assert len({t["id"] for t in tests}) == len(tests), "duplicate test ids"
stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
for t in tests:
    assert t["build_id"] == build["id"] and stamp.match(t["start_time"]), t
    assert t["environment"]["misc"]["bundle_id"] == meta["bundle_id"], t
    if t["path"] != "kperflab.membarrier":
        assert isinstance(t["number"]["value"], (int, float)), t
print(f"kcidb: {len(tests)} tests ({cases} LAVA cases), all DONE")
EOF

# The validator runs: a broken document is refused.
python3 - "$tmp/one.json" "$tmp/broken.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
del doc["tests"][0]["origin"]
doc["tests"][1]["status"] = "OK"
doc["tests"][2]["number"]["prefix"] = "si"
json.dump(doc, open(sys.argv[2], "w"))
EOF
if validate "$tmp/broken.json" >"$tmp/why"; then fail "a broken document validated"; fi
grep -q "'origin' is a required property" "$tmp/why" || { cat "$tmp/why"; fail "broken: why"; }

# A second bundle of the same kernel and host (a copy with its own bundle and
# boot id): one checkout and build for both; against the first as baseline
# (A/A) every figure PASSes.
b2=$(dirname "$b1")/copy
cp -a "$b1" "$b2"
sed -i -e 's/"bundle_id": *"[^"]*"/"bundle_id": "copy"/' \
  -e 's/"boot_id": *"[^"]*"/"boot_id": "other-boot"/' "$b2/meta.json"
"$kperflab" export --kcidb "$b1" "$b2" -o "$tmp/two.json" || fail "export --kcidb of two"
validate "$tmp/two.json" || fail "two bundles: not valid"
"$kperflab" export --kcidb "$b2" --baseline "$b1" --origin kperflab_ci -o "$tmp/aa.json" ||
  fail "export --kcidb --baseline"
validate "$tmp/aa.json" || fail "A/A: not valid"
python3 - "$tmp/one.json" "$tmp/two.json" "$tmp/aa.json" <<'EOF' || fail "two / A/A: content"
import collections, json, sys
one, two, aa = (json.load(open(p)) for p in sys.argv[1:4])
assert len(two["checkouts"]) == 1 and len(two["builds"]) == 1, "one kernel, one checkout/build"
assert len(two["tests"]) == 2 * len(one["tests"]), len(two["tests"])
st = collections.Counter(t["status"] for t in aa["tests"])
assert st["FAIL"] == 0, f"A/A: {st['FAIL']} FAIL"
assert st["PASS"] > 0, st
assert all(t["id"].startswith("kperflab_ci:copy:") for t in aa["tests"]), "origin"
compared = [t for t in aa["tests"] if "comparison" in t["misc"]]
assert compared and all(c["misc"]["comparison"]["verdict"] for c in compared)
print(f"A/A: {dict(st)}, {len(compared)} figures compared")
EOF

# Refusals, each with a message naming what is wrong.
refused() {  # refused WHAT PATTERN ARGS...: exit 2 and PATTERN on stderr
  local what=$1 pattern=$2 rc=0
  shift 2
  "$kperflab" export "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "$what: exit $rc"
  grep -q -- "$pattern" "$tmp/err" || { cat "$tmp/err"; fail "$what: message"; }
}
bad=$(dirname "$b1")/corrupt
cp -a "$b1" "$bad"
echo '{"schema": "kperflab.probe/1", "repetitions": 7' >"$bad/membarrier.json"
refused "corrupt bundle" "membarrier.json" --kcidb "$b1" "$bad"
refused "--baseline without --kcidb" "--baseline goes with --kcidb only" \
  --csv "$b1" --baseline "$b1"
refused "bad origin" "--origin 'Bad-Origin'" --kcidb "$b1" --origin Bad-Origin
refused "several without --kcidb" "only --kcidb takes several" --csv "$b1" "$b2"
echo "cli_kcidb: ok"
