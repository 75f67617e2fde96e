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
#  3. interleaved A/B where B adds the targets=0 call's p50 to every timed
#     membarrier call (membarrier.call_pad_ns): the targets=0 p50 is flagged
#     as a regression and --fail-on regression exits 1.
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

# 3. Interleaved A/B: side b adds the targets=0 call's own p50 to every
# timed call (+100 % there). The check reads the targets=0 rows: a call with
# no target sends no IPI, so the pad adds to it whole (594 -> 1093 ns with a
# 496 ns pad). It used to read targets=1/spin with a 10 % pad; on this
# project's 2-vCPU CI machine (an EPYC VM, 2026-12-06) that row's p50 ran
# 4.1-6.4 us between the runs of one side, the spinner on its CPU in >= 96 %
# of calls, and the same ~500 ns pad moved it by +1 %, +12 %, +17 % and +8 %
# in four tries, never significant at 5 v 5 runs. This checks the path (ab's
# interleaved runs, the runs basis, --fail-on), not power at the margin
# (sim_verdicts measures that, seeded): +25 % on targets=0 was still left
# undecided once in three tries there (runs of one side moved by up to 13 %,
# compare's "common shift per unit"); +100 % was flagged in four of four.
pad=$(python3 - "$tmp/aa1/a" <<'EOF'
import json, pathlib, statistics, sys
vals = []
for f in pathlib.Path(sys.argv[1]).rglob("membarrier.json"):
    for rep in json.load(open(f))["repetitions"]:
        m = rep["metrics"].get("private_expedited/targets=0/none/latency", {})
        if m.get("p50"):
            vals.append(m["p50"])
print(max(1, round(statistics.median(vals))) if vals else 0)
EOF
)
[[ $pad -gt 0 ]] || fail "no private_expedited/targets=0/none latency in the A/A bundles"
d=$tmp/ab
"$kperflab" ab --a "" --b "--set membarrier.call_pad_ns=$pad" --pairs 5 --out "$d" "${small[@]}" \
  >"$d.out" 2>"$d.err" || fail "ab A/B: $(tail -3 "$d.err")"
set +e
"$kperflab" compare "$d/a" "$d/b" --format text --fail-on regression >"$d.txt"
rc=$?
"$kperflab" compare "$d/a" "$d/b" --format text --all >"$d.all.txt"
set -e
grep -qE '^REGRESSION membarrier private_expedited/targets=0/none/latency \(p50' "$d.txt" ||
  fail "A/B +${pad} ns (+100 %): targets=0 p50 not flagged: $(grep -A2 'targets=0/none/latency (p50' "$d.all.txt" | head -6)"
[[ $rc -eq 1 ]] || fail "A/B: compare --fail-on regression exit $rc, wanted 1"
echo "interleaved A/B +${pad} ns a call: $(grep -c '^REGRESSION' "$d.txt") regressions of $(rows "$d.txt") rows, exit 1"
echo "  targets=1/spin p50 (not checked): $(grep -A1 'targets=1/spin/latency (p50' "$d.all.txt" | tail -1 | sed 's/^ *//')"
echo "OK: A/A $false flagged of $total rows over 5 trials"
