#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End to end regression detection (compare issue): one 6.12 guest boot runs
# the ipi and cpumask probes in interleaved A/B rounds, side b with a 20 us
# delay inside the module's own IPI handler (ipi.handler_delay_ns). The
# comparison of b against a must flag IPI regressions, and nothing outside
# the ipi probe.
# One repetition per run and 8 rounds: compare's unit in one boot is the
# repetition, and repetitions of one process are not independent (they share
# its BPF objects, allocations and calibration; a CI run with 4 rounds of 2
# repetitions flagged a cpumask row once). 8 runs per side give 8 v 8
# independent units, enough for the exact rank test to pass BH. Usage: lab_ab_handler_delay.sh SRC_ROOT BUILD_DIR KPERFLAB
set -euo pipefail
src=${1:?usage: lab_ab_handler_delay.sh SRC_ROOT BUILD_DIR KPERFLAB}
build=${2:?}
kperflab=${3:?}
runs=$build/lab/ab-runs
rm -rf "$runs"
rc=0
"$src/lab/lab.sh" --mode run --kernel 6.12-cloud-amd64 --work "$build/lab" --runs-dir "$runs" \
  --host-kperflab "$kperflab" \
  --run-args "--probe ipi --probe cpumask --repeat 1 --set ipi.matrix=false" \
  --ab "--set ipi.handler_delay_ns=20000" --rounds 8 || rc=$?
[[ $rc -eq 0 ]] || exit "$rc"  # 77: cannot run here (reason printed above)
report=$(ls "$runs"/ab-*/report.txt)
sed -n '1,12p' "$report"
# Flagged lines: "REGRESSION <probe> ..." and "improvement <probe> ..."
# ("undecided" ones are not flags).
flagged=$(grep -iE '^(regression|improvement) ' "$report" || true)
ipi_reg=$(grep -cE '^REGRESSION ipi ' <<<"$flagged" || true)
# "Nothing else changed" is asked of the cpumask probe as its own family of
# hypotheses: Benjamini-Hochberg over the whole report grows more lenient
# with every true IPI regression (53 of them let a p = 0.041 cpumask row
# through once). Its alpha is 0.01: under the null a family of ~200 rows is
# flagged with a probability of at most alpha (Benjamini-Hochberg), and this
# test must not fail one CI run in twenty. A real change to cpumask, which
# moves many rows at once, still passes BH at 0.01 with 8 v 8 runs.
ab=$(dirname "$report")
"$kperflab" compare "$ab/a" "$ab/b" --probe cpumask --alpha 0.01 --format text -o "$ab/report-cpumask.txt" ||
  { echo "FAIL: compare --probe cpumask"; exit 1; }
flagged=$(grep -iE '^(regression|improvement) ' "$ab/report-cpumask.txt" || true)
others=$(grep -c . <<<"$flagged" || true)
echo "ipi regressions: $ipi_reg; flagged in cpumask (compared alone): $others"
fail=0
if [[ $ipi_reg -eq 0 ]]; then
  echo "FAIL: the 20 us handler delay was not flagged as an IPI regression"
  fail=1
fi
if [[ $others -ne 0 ]]; then
  echo "FAIL: cpumask metrics were flagged:"
  head -n 20 <<<"$flagged"
  fail=1
fi
exit "$fail"
