#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `kperflab run --tune` on this host leaves every real setting it touches as
# it was: after a normal run, after SIGKILL + `kperflab restore`, and after
# SIGKILL + any next invocation. So that the test can fail on a host whose
# settings are already what --tune wants, kernel.numa_balancing is set to 1
# first where it is writable (and put back at the end). The restore records
# go to a private directory (KPERFLAB_HOLD_DIR). Also: --strict refuses before
# measuring and still restores.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
export KPERFLAB_HOLD_DIR=$tmp/holds
nb=/proc/sys/kernel/numa_balancing
nb_orig=$(cat "$nb" 2>/dev/null || echo absent)
cleanup() {
  [[ $nb_orig == absent ]] || echo "$nb_orig" >"$nb" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "SKIP: --tune needs root"; exit 77; }
"$kperflab" list | grep -q "^cpumask *yes" || { echo "SKIP: cpumask not runnable here"; exit 77; }

. "$(dirname "$0")/tuned_settings.sh"
meaningful=0
if [[ $nb_orig == 0 ]] && echo 1 >"$nb" 2>/dev/null && [[ $(cat "$nb") == 1 ]]; then meaningful=1; fi
[[ $nb_orig == 1 ]] && meaningful=1
settings >"$tmp/before"
# The issue's `run --tune --until-ci 2`, on a small cpumask sweep (about 1.5 s
# a repetition here): at least 6 repetitions, then until +-2 % or 10 s.
args=(run --tune --tune-boost-off --probe cpumask --profile quick --until-ci 2 --until-ci-budget 10
      --set cpumask.samples=10 --set cpumask.sample_ms=1)

# 1. A normal run: tuned during, back after, the bundle says what happened.
"$kperflab" "${args[@]}" --out "$tmp/b1" >"$tmp/out1" 2>&1 || { cat "$tmp/out1"; fail "tuned run"; }
settings >"$tmp/after1"
diff "$tmp/before" "$tmp/after1" || fail "settings differ after a normal --tune run"
grep -q -- "--tune: tuned" "$tmp/out1" || { cat "$tmp/out1"; fail "no --tune summary"; }
[[ -z $(ls "$KPERFLAB_HOLD_DIR"/*.json 2>/dev/null) ]] || fail "restore records left behind"
"$kperflab" show "$tmp/b1" >"$tmp/show1" || fail "show of the tuned bundle"
grep -q "^tuning (--tune --tune-boost-off):" "$tmp/show1" || fail "show does not print the tuning"
grep -q "^preflight (" "$tmp/show1" || fail "show does not print the preflight"
grep -Eq '^ --until-ci \+-2 % \(this boot.s median\): ([6-9]|[1-9][0-9]+) repetitions in [0-9]+ s, stopped: (converged|budget);' \
  "$tmp/show1" || { grep -A3 "^== cpumask" "$tmp/show1"; fail "no --until-ci record of 6+ repetitions"; }
if [[ $meaningful == 1 ]]; then
  grep -q "tuned    kernel.numa_balancing 1 -> 0; restored: yes" "$tmp/show1" ||
    { grep -A12 "^tuning" "$tmp/show1"; fail "numa_balancing not recorded as tuned and restored"; }
fi

# 2. SIGKILL while tuned, then `kperflab restore`; 3. then any next invocation.
kill_tuned() {  # $1: bundle dir
  "$kperflab" "${args[@]}" --out "$1" >"$tmp/outk" 2>&1 &
  local pid=$! i
  for i in $(seq 1 400); do
    if ls "$KPERFLAB_HOLD_DIR"/*.json >/dev/null 2>&1; then break; fi
    sleep 0.05
  done
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  ls "$KPERFLAB_HOLD_DIR"/*.json >/dev/null 2>&1 || { cat "$tmp/outk"; fail "no restore record while tuned"; }
  if [[ $meaningful == 1 ]]; then [[ $(cat "$nb") == 0 ]] || fail "numa_balancing not tuned when killed"; fi
}
kill_tuned "$tmp/b2"
"$kperflab" restore >"$tmp/restore" 2>&1 || { cat "$tmp/restore"; fail "kperflab restore"; }
settings >"$tmp/after2"
diff "$tmp/before" "$tmp/after2" || fail "settings differ after SIGKILL + kperflab restore"
[[ -z $(ls "$KPERFLAB_HOLD_DIR"/*.json 2>/dev/null) ]] || fail "records left after restore"
if [[ $meaningful == 1 ]]; then grep -q "restored $nb to 1" "$tmp/restore" || fail "restore output"; fi

kill_tuned "$tmp/b3"
"$kperflab" list >/dev/null 2>"$tmp/list_err" || fail "kperflab list after a kill"
settings >"$tmp/after3"
diff "$tmp/before" "$tmp/after3" || fail "settings differ after SIGKILL + the next invocation"
# 4. --strict refuses a noisy machine before measuring (threshold 0: any
# spread at all is noise, so this does not depend on how loaded the host is),
# writes no bundle and puts the tuned settings back; at 100 % (MAD never
# exceeds the median of positive times) nothing is noisy and the run measures.
rc=0
"$kperflab" "${args[@]}" --strict --noise-threshold 0 --out "$tmp/b4" >"$tmp/out4" 2>&1 || rc=$?
[[ $rc -eq 3 ]] || { cat "$tmp/out4"; fail "--strict on a noisy machine exited $rc, expected 3"; }
[[ ! -e $tmp/b4 ]] || fail "--strict refusal wrote a bundle"
grep -q "refused: noise check: .* above 0 % on cpu" "$tmp/out4" || { cat "$tmp/out4"; fail "refusal names no CPU"; }
grep -q "; busiest: " "$tmp/out4" || fail "refusal does not name the busiest processes"
settings >"$tmp/after4"
diff "$tmp/before" "$tmp/after4" || fail "settings differ after a --strict refusal"
"$kperflab" "${args[@]}" --strict --noise-threshold 100 --out "$tmp/b5" >"$tmp/out5" 2>&1 ||
  { cat "$tmp/out5"; fail "--strict at 100 %"; }
grep -q '"noisy": false' "$tmp/b5/meta.json" || fail "noise_check not recorded as quiet at 100 %"
grep -q "^noise check: spread (MAD/median) cpu0 " <("$kperflab" show "$tmp/b5") || fail "show: noise check"
[[ $meaningful == 1 ]] || { echo "SKIP: nothing on this host that --tune changes"; exit 77; }
echo "cli_tune: ok ($(grep -c . "$tmp/before") settings read before and after, 4 ways)"
