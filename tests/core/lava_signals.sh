#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What reaches a LAVA job log from a bundle (issue #25, item 11), through
# `kperflab export --lava` and the test definition's run step
# (lab/lava/kperflab-lava.sh): units pass through unchanged ("faults/s", not
# "faults.s"), and no bundle text (a skip or failure reason, a metric name)
# reads as a dispatcher signal. The dispatcher matches <LAVA_SIGNAL_(\S+)
# ([^>]+)> and <LAVA_TEST_RUNNER ...> anywhere in the log, so the only
# "<LAVA_" in it must be lava-test-case's own TESTCASE signals, one per case
# export --lava lists. The bundle is made by tests/common/make_bundle.py; its
# texts carry "<LAVA_SIGNAL_ENDRUN x y>". lava-test-case is LAVA's own where
# lava-dispatcher is installed, else a stand-in printing the line LAVA's
# prints: <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=id RESULT=r[ UNITS=u][ MEASUREMENT=m]>.
set -euo pipefail
kperflab=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

python3 "$here/../common/make_bundle.py" "$tmp/bundle" <<'EOF'
{"probes": {
  "faults": {"scalars": {"mm/<LAVA_SIGNAL_ENDRUN x y>/rate": ["faults/s", 1234.5],
                         "litmus/<LAVA_SIGNAL_ENDRUN x y>/o/forbidden": ["count", 1]}},
  "skipper": {"status": "skipped", "reason": "needs <LAVA_SIGNAL_ENDRUN x y>"},
  "breaker": {"status": "failed", "reason": "boom <LAVA_SIGNAL_ENDRUN x y>"}}}
EOF

# export --lava itself: the unit as stored, no signal in any field.
"$kperflab" export --lava "$tmp/bundle" >"$tmp/cases" || fail "export --lava"
grep -q $'^faults\\.mm\\.[^\t]*\\.rate\tpass\t1234\\.5\tfaults/s\t' "$tmp/cases" ||
  fail "the faults/s figure: $(cat "$tmp/cases")"
grep -q $'^skipper\tskip\t-\t-\tskipped: needs (LAVA_SIGNAL_ENDRUN x y>$' "$tmp/cases" ||
  fail "the skip reason: $(cat "$tmp/cases")"
grep -q $'^breaker\tfail\t' "$tmp/cases" && grep -q $'^faults\tfail\t.*forbid' "$tmp/cases" ||
  fail "the failures: $(cat "$tmp/cases")"
if grep -q '<LAVA_' "$tmp/cases"; then fail "a signal in export --lava: $(cat "$tmp/cases")"; fi

# The run step as LAVA runs it, with a kperflab whose `run` leaves this
# bundle (the export is the real one).
mkdir -p "$tmp/bin" "$tmp/lava-results"
cat >"$tmp/bin/kperflab" <<EOF
#!/bin/sh
if [ "\$1" = run ]; then
  while [ \$# -gt 0 ]; do [ "\$1" = --out ] && cp -a "$tmp/bundle" "\$2"; shift; done
  exit 0
fi
exec "$kperflab" "\$@"
EOF
shell_dir=/usr/lib/python3/dist-packages/lava_dispatcher/lava_test_shell
if [[ -f $shell_dir/lava-test-case ]]; then
  # As the dispatcher installs them: the interpreter line added.
  for s in lava-test-case lava-common-functions; do
    [[ -f $shell_dir/$s ]] && { echo '#!/bin/sh'; cat "$shell_dir/$s"; } >"$tmp/bin/$s"
  done
  runner="LAVA's lava-test-case"
else
  cat >"$tmp/bin/lava-test-case" <<'EOF'
#!/bin/sh
id=$1; shift; r=""; u=""; m=""
while [ $# -gt 1 ]; do
  case $1 in --result) r=" RESULT=$2" ;; --units) u=" UNITS=$2" ;; --measurement) m=" MEASUREMENT=$2" ;; esac
  shift 2
done
echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$id$r$u$m>"
EOF
  runner="a stand-in lava-test-case (lava-dispatcher is not installed)"
fi
chmod +x "$tmp/bin/"*
(cd "$src" && PATH=$tmp/bin:$PATH LAVA_RESULT_DIR=$tmp/lava-results KPERFLAB=kperflab \
  RESULTS=$tmp/res sh lab/lava/kperflab-lava.sh) >"$tmp/log" 2>&1 ||
  fail "the run step exited $?: $(tail -5 "$tmp/log")"

# The log as the dispatcher reads it.
python3 - "$tmp/log" "$tmp/cases" <<'EOF' || fail "job log (with $runner): $(cat "$tmp/log")"
import re, sys
log = open(sys.argv[1]).read()
cases = {l.split("\t")[0]: l.split("\t") for l in open(sys.argv[2]).read().splitlines()}
signal = re.compile(r"<LAVA_SIGNAL_(\S+) ([^>]+)>")
seen = {}
for m in signal.finditer(log):
    assert m.group(1) == "TESTCASE", "a signal from bundle text: " + m.group(0)
    params = dict(p.split("=", 1) for p in m.group(2).split())
    assert all(len(p.split("=")) == 2 for p in m.group(2).split()), m.group(0)
    seen[params["TEST_CASE_ID"]] = params
# Every "<LAVA_" in the log starts one of those signals.
assert log.count("<LAVA_") == len(signal.findall(log)), "a stray <LAVA_ in the log"
assert set(seen) == set(cases) | {"kperflab-run"}, set(seen) ^ (set(cases) | {"kperflab-run"})
for name, (_, result, value, unit, note) in cases.items():
    assert seen[name]["RESULT"] == result, (name, seen[name])
    if value != "-":
        assert seen[name]["UNITS"] == unit and seen[name]["MEASUREMENT"] == value, seen[name]
rate = [n for n in cases if n.endswith(".rate")]
assert len(rate) == 1 and seen[rate[0]]["UNITS"] == "faults/s", [seen[n] for n in rate]
assert "kperflab-lava: skipper: skip: skipped: needs (LAVA_SIGNAL_ENDRUN x y>" in log
assert "kperflab-lava: breaker: fail: failed, 0 headline figures; the probe ended failed: " \
    "boom (LAVA_SIGNAL_ENDRUN x y>" in log
EOF
echo "lava_signals: ok ($runner)"
