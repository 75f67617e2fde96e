#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Same boot is not interleaved (#32), on real runs of this host:
#  1. two small membarrier runs one after the other (A/A): one unit a side,
#     compare decides nothing and --fail-on regression exits 0;
#  2. interleaved A/A with `kperflab ab` (5 trials, 3 pairs each), each
#     compared at alpha 0.01: at most one trial of the five flags any row.
#     Under the null, Benjamini-Hochberg bounds the chance that a trial
#     flags anything by alpha (every hypothesis is true: FDR = FWER), and
#     the rows of one trial move together (one run's shift moves many), so
#     the unit is the trial: two or more of five at 1 % is a 0.1 % event. A
#     rows-per-100 bound at alpha 0.05 failed one CI run in ten or so (one
#     trial of five flagged 4 of 36 correlated rows);
#  3. interleaved A/B where B adds 10 % of the call's own latency to every
#     timed membarrier call (membarrier.call_pad_ns): the targets=1 rows are
#     flagged as regressions and --fail-on regression exits 1.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
here=$(dirname "$0")
. "$here/small_membarrier.sh"
# About 1 s a run: no litmus cases, no registration-order points.
small+=(--set 'membarrier.litmus=[]' --set membarrier.order_points=false --repeat 5)

if ! "$kperflab" list 2>/dev/null | grep -qE '^membarrier +yes'; then
  echo "SKIP: membarrier cannot run on this host ($("$kperflab" list 2>&1 | grep '^membarrier'))"
  exit 77
fi

# flagged REPORT: rows flagged in a text report; rows REPORT: rows compared.
flagged() { grep -cE '^(REGRESSION|improvement|change) ' "$1" || true; }
rows() { sed -n 's/^\([0-9][0-9]*\) comparisons,.*/\1/p' "$1" | head -1; }

# 1. Sequential A/A.
"$kperflab" run "${small[@]}" --out "$tmp/seq/a" >/dev/null 2>"$tmp/seq-a.err" ||
  fail "run a: $(tail -3 "$tmp/seq-a.err")"
"$kperflab" run "${small[@]}" --out "$tmp/seq/b" >/dev/null 2>"$tmp/seq-b.err" ||
  fail "run b: $(tail -3 "$tmp/seq-b.err")"
set +e
"$kperflab" compare "$tmp/seq/a" "$tmp/seq/b" --format text --fail-on regression >"$tmp/seq.txt"
rc=$?
set -e
[[ $rc -eq 0 ]] || fail "sequential A/A: compare --fail-on regression exit $rc: $(head -30 "$tmp/seq.txt")"
grep -q "one run a side in one boot" "$tmp/seq.txt" || fail "sequential A/A: basis not one run a side"
grep -q "kperflab ab" "$tmp/seq.txt" || fail "sequential A/A: no advice to use kperflab ab"
[[ $(flagged "$tmp/seq.txt") -eq 0 ]] || fail "sequential A/A: rows flagged: $(grep -E '^REGRESSION|^improvement' "$tmp/seq.txt" | head)"
echo "sequential A/A: $(rows "$tmp/seq.txt") rows, none decided, exit 0"

# 2. Interleaved A/A, 5 trials.
total=0 false=0 trials_flagged=0
for trial in 1 2 3 4 5; do
  d=$tmp/aa$trial
  "$kperflab" ab --a "" --b "" --pairs 3 --out "$d" "${small[@]}" >"$d.out" 2>"$d.err" ||
    fail "ab A/A trial $trial: $(tail -3 "$d.err")"
  set +e
  "$kperflab" compare "$d/a" "$d/b" --alpha 0.01 --format text --fail-on regression >"$d.txt"
  rc=$?
  set -e
  [[ $rc -le 1 ]] || fail "A/A trial $trial: compare exit $rc: $(head -20 "$d.txt")"
  grep -q "^  basis: runs:" "$d.txt" || fail "A/A trial $trial: basis is not runs: $(grep basis "$d.txt")"
  ! grep -q "not interleaved" "$d.txt" || fail "A/A trial $trial: ab runs read as not interleaved"
  n=$(rows "$d.txt") f=$(flagged "$d.txt")
  echo "interleaved A/A trial $trial: $f flagged of $n rows (alpha 0.01)"
  total=$((total + n)) false=$((false + f))
  [[ $f -eq 0 ]] || trials_flagged=$((trials_flagged + 1))
done
[[ $total -gt 0 ]] || fail "A/A: no rows compared"
echo "interleaved A/A: $trials_flagged of 5 trials flagged a row ($false of $total rows)"
((trials_flagged <= 1)) ||
  fail "interleaved A/A: $trials_flagged of 5 trials flagged rows at alpha 0.01 (at most 1)"

# 3. Interleaved A/B: +10 % of the targets=1 call latency on side b.
pad=$(python3 - "$tmp/aa1/a" <<'EOF'
import json, pathlib, statistics, sys
vals = []
for f in pathlib.Path(sys.argv[1]).rglob("membarrier.json"):
    for rep in json.load(open(f))["repetitions"]:
        for name, m in rep["metrics"].items():
            if name.startswith("private_expedited/targets=1/spin/") and name.endswith("latency") \
               and m.get("p50"):
                vals.append(m["p50"])
print(max(1, round(0.10 * statistics.median(vals))) if vals else 0)
EOF
)
[[ $pad -gt 0 ]] || fail "no private_expedited/targets=1/spin latency in the A/A bundles"
d=$tmp/ab
# 5 pairs: on this 2-vCPU VM runs of one side differ by 2-5 %, and 3 v 3
# runs found the 10 % in some tries only.
"$kperflab" ab --a "" --b "--set membarrier.call_pad_ns=$pad" --pairs 5 --out "$d" "${small[@]}" \
  >"$d.out" 2>"$d.err" || fail "ab A/B: $(tail -3 "$d.err")"
set +e
"$kperflab" compare "$d/a" "$d/b" --format text --fail-on regression >"$d.txt"
rc=$?
set -e
# The pad shifts every call only where the spinning target kept its CPU: a
# preempted spinner gets no IPI and its calls are ~18x shorter, so a
# repetition whose spinner lost its CPU has a p50 far below the others (seen
# with load 6 on 2 vCPUs: p90 flagged, p50 not). A run's unit is the median
# of its repetitions, so the check holds where, in every run, most
# repetitions kept the spinner on its CPU (targets_on_cpu_fraction at or over
# the probe's own floor).
onc=$(python3 - "$d" <<'EOF'
import json, pathlib, statistics, sys
bad = []
for f in sorted(pathlib.Path(sys.argv[1]).rglob("membarrier.json")):
    doc = json.load(open(f))
    floor = doc["parameters"]["targets_on_cpu_floor"]
    fr = [rep["metrics"][k]["value"] for rep in doc["repetitions"]
          for k in ["private_expedited/targets=1/spin/targets_on_cpu_fraction"] if k in rep["metrics"]]
    if not fr or statistics.median(fr) < floor:
        bad.append(f"{f.parent.name}: median {statistics.median(fr) if fr else 'none'} < {floor}")
print("; ".join(bad) if bad else "ok")
EOF
)
if [[ $onc != ok ]]; then
  echo "SKIP: the A/B verdict is not checked: the spinning target of targets=1 lost its CPU" \
       "in most repetitions of a run ($onc); the A/A checks above passed"
  exit 77
fi
grep -qE '^REGRESSION membarrier private_expedited/targets=1/spin/[a-z_]*latency \(p50' "$d.txt" ||
  fail "A/B +${pad} ns (10 %): targets=1 p50 not flagged: $(grep -A2 'targets=1/spin' "$d.txt" | head -12)"
[[ $rc -eq 1 ]] || fail "A/B: compare --fail-on regression exit $rc, wanted 1"
echo "interleaved A/B +${pad} ns a call: $(grep -c '^REGRESSION' "$d.txt") regressions of $(rows "$d.txt") rows, exit 1"
echo "OK: A/A $false flagged of $total rows over 5 trials"
