#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# run --perf-stat and --likwid (#17 "Counters") on this host: the counts are
# stored per repetition; where the host has no PMU (CI's VMs) or likwid
# cannot measure, the bundle says why and the run still succeeds. Which
# branch applies is decided from the host (sysfs PMU devices, the bundle's
# likwid record), and each branch's content is checked. Reads `show`, the
# bundle's own rendering, which is checked against the schema on load.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$kperflab" list | grep -q "^cpumask *yes" || { echo "SKIP: cpumask not runnable here"; exit 77; }
small=(-p cpumask --profile quick --repeat 2 --set cpumask.samples=5 --set cpumask.sample_ms=1)
reps=2

# 1. Bad names: exit 2 before anything runs, naming the event / group.
rc=0; "$kperflab" run "${small[@]}" --perf-stat task-clock,bogus --out "$tmp/bad" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "unknown event 'bogus'; accepted: cycles, " "$tmp/err" ||
  fail "--perf-stat bogus: rc=$rc $(cat "$tmp/err")"
[[ ! -e $tmp/bad ]] || fail "--perf-stat bogus wrote a bundle"
rc=0; "$kperflab" run "${small[@]}" --likwid 'x;y' --out "$tmp/bad" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q -- "--likwid: .*got 'x;y'" "$tmp/err" || fail "--likwid 'x;y': rc=$rc"

# 2. --perf-stat: task-clock counts in every repetition; cycles counts with a
# PMU, and without one says so.
"$kperflab" run "${small[@]}" --perf-stat task-clock,context-switches,cycles --out "$tmp/ps" \
  >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "run --perf-stat exited $?"; }
"$kperflab" show "$tmp/ps" >"$tmp/show" || fail "show of the --perf-stat bundle"
grep '^  perf-stat:' "$tmp/show" >"$tmp/lines" || true
[[ $(wc -l <"$tmp/lines") -eq $reps ]] || { cat "$tmp/show"; fail "not one perf-stat line per repetition"; }
positive='(0*[1-9][0-9]*(\.[0-9]+)?|0*\.[0-9]*[1-9][0-9]*)'
[[ $(grep -cE "  task-clock ${positive}(ns|us|ms|s)( |$)" "$tmp/lines") -eq $reps ]] ||
  { cat "$tmp/lines"; fail "task-clock not positive in every repetition"; }
[[ $(grep -cE "  context-switches [0-9]+( |$)" "$tmp/lines") -eq $reps ]] ||
  { cat "$tmp/lines"; fail "context-switches missing"; }
pmu=""
for d in cpu cpu_core cpu_atom; do [[ -e /sys/bus/event_source/devices/$d ]] && pmu=$d && break; done
[[ -n $pmu ]] || pmu=$(ls /sys/bus/event_source/devices | grep -E '^armv[78]' | sort | head -1 || true)
if [[ -n $pmu ]]; then
  echo "PMU $pmu: cycles must count"
  [[ $(grep -cE "  cycles ${positive}( |$)" "$tmp/lines") -eq $reps ]] ||
    { cat "$tmp/lines"; grep -A1 'unavailable' "$tmp/show"; fail "cycles not counted with PMU $pmu"; }
  grep -q "^perf-stat: task-clock,context-switches,cycles; PMU: $pmu$" "$tmp/show" ||
    fail "meta does not name PMU $pmu"
else
  echo "no PMU: cycles must be unavailable, saying so"
  [[ $(grep -c "  cycles n/a" "$tmp/lines") -eq $reps ]] || { cat "$tmp/lines"; fail "cycles not n/a"; }
  # The reason once per probe: perf_event_open's errno, then the PMU's absence.
  [[ $(grep -cE "^    unavailable: cycles: perf_event_open\(cycles\): E[A-Z]+ \(.*\): no CPU PMU on this host" \
       "$tmp/show") -eq 1 ]] || { cat "$tmp/show"; fail "cycles' reason not shown once"; }
  grep -q "^perf-stat: task-clock,context-switches,cycles; PMU: none: no CPU PMU on this host" \
    "$tmp/show" || fail "meta does not say there is no PMU"
  grep -q '"pmu": null' "$tmp/ps/meta.json" || fail "meta.json counters.perf_stat.pmu not null"
fi
grep -q '"status": "complete"' "$tmp/ps/meta.json" || fail "bundle not complete"

# 3. --likwid CLOCK: counted per repetition under likwid-perfctr, or the
# reason recorded and the probes run all the same.
rc=0
"$kperflab" run "${small[@]}" --likwid CLOCK --out "$tmp/lk" >"$tmp/out" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/out"; fail "run --likwid CLOCK exited $rc"; }
"$kperflab" show "$tmp/lk" >"$tmp/show" || fail "show of the --likwid bundle"
grep -q "^  cpumask: complete" "$tmp/out" || grep -q "^== cpumask: complete" "$tmp/show" ||
  fail "cpumask did not run under --likwid"
if grep -q "^likwid: group CLOCK: unavailable: " "$tmp/show"; then
  echo "likwid cannot measure here: $(grep '^likwid:' "$tmp/show")"
  grep -qE "^likwid: group CLOCK: unavailable: .{10,}" "$tmp/show" || fail "empty likwid reason"
  grep -q "running without likwid: " "$tmp/out" || fail "no note on stderr"
  ! grep -q "^  likwid kperflab/" "$tmp/show" || fail "likwid data despite unavailable"
else
  echo "likwid measured: $(grep '^likwid:' "$tmp/show")"
  grep -q "^likwid: group CLOCK: measured on CPUs [0-9]" "$tmp/show" || fail "no likwid record"
  for ((r = 0; r < reps; r++)); do
    grep -qE "^  likwid kperflab/cpumask/rep$r:(  [A-Za-z0-9_:]+ [0-9.e+-]+)+$" "$tmp/show" ||
      { cat "$tmp/show"; fail "no likwid counts for repetition $r"; }
  done
fi

# 4. A group likwid does not have: an error listing the groups where likwid
# can list them; where it cannot (an unsupported CPU), the run goes on.
rc=0
"$kperflab" run "${small[@]}" --likwid NOSUCHGROUP --out "$tmp/ng" >"$tmp/out" 2>&1 || rc=$?
if [[ $rc -eq 2 ]]; then
  grep -q "no group 'NOSUCHGROUP' on this CPU (groups: [A-Z]" "$tmp/out" || fail "groups not listed"
  [[ ! -e $tmp/ng ]] || fail "a bad group wrote a bundle"
else
  [[ $rc -eq 0 ]] || { cat "$tmp/out"; fail "--likwid NOSUCHGROUP exited $rc"; }
  grep -q '"unavailable": ' "$tmp/ng/meta.json" || fail "no reason for the unlisted group"
fi
echo "ok"
