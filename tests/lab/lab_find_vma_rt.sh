#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# find_vma issue (#16): on PREEMPT_RT the BPF helpers never take mmap_lock
# with IRQs off (kernel/bpf/mmap_unlock_work.h forces the fallback), so
# every bpf_find_vma of the perf_event program returns -EBUSY and every
# build-id frame is a bare IP, at every point; on the 6.12 cloud kernel
# (not RT), with no writer, most find_vma calls succeed and few stacks are
# wholly IP. Read from the newest bundles
# of the lab_6.12-rt-amd64 and lab_6.12-cloud-amd64 entries.
# Usage: lab_find_vma_rt.sh RUNS_DIR KPERFLAB
set -euo pipefail
runs=${1:?usage: lab_find_vma_rt.sh RUNS_DIR KPERFLAB}
kperflab=${2:?}

. "$(dirname "$0")/bundle_value.sh"
newest() { lab_newest_bundle "$runs" "$1" find_vma; }
value_of() { lab_metric_value "$1" find_vma "$2"; }
names() {  # metric names of bundle $1 ending in $2
  grep -oE "\"[^\"]*$2\": \{" "$1/find_vma.json" | sed -E 's/^"//; s/": \{$//' | sort -u
}

rt=$(newest '6.12.*-rt-amd64')
cloud=$(newest '6.12.*-cloud-amd64')
if [[ -z $rt || -z $cloud ]]; then
  echo "SKIP: no find_vma bundle of 6.12-rt ($rt) or 6.12-cloud ($cloud) under $runs: the lab entries did not run"
  exit 77
fi
echo "rt:    $rt"
echo "cloud: $cloud"
fail=0 n=0
# RT: 100 % at every point and source with IRQs off.
for m in $(names "$rt" '/(clock|cycles)/find_vma/ebusy_ratio') \
         $(names "$rt" '/(clock|cycles)/stack/fallback_ratio'); do
  v=$(value_of "$rt" "$m")
  n=$((n + 1))
  echo "rt $m = $v"
  awk -v v="$v" 'BEGIN { exit !(v == 1) }' || { echo "FAIL: rt $m is not 1 (100 % fallback)"; fail=1; }
done
[[ $n -gt 0 ]] || { echo "FAIL: no clock/find_vma/ebusy_ratio in $rt/find_vma.json"; fail=1; }
# Cloud: no writer, most calls succeed: find_vma seldom -EBUSY, and few
# stacks wholly IP (a busy lock). Not the frame fallback_ratio: with one
# frame of a two-frame stack coming back as an IP by itself (a per-frame
# fallback, bench/find_vma/README.md "Measured"), it sits at 0.5 with no
# busy lock at all (0.5017 failed CI once).
n=0
for m in $(names "$cloud" 'writer_rate=none/threads=[0-9]+/clock/find_vma/ebusy_ratio'); do
  v=$(value_of "$cloud" "$m")
  n=$((n + 1))
  echo "cloud $m = $v"
  awk -v v="$v" 'BEGIN { exit !(v < 0.5) }' || { echo "FAIL: cloud $m is not below 0.5"; fail=1; }
done
for m in $(names "$cloud" 'writer_rate=none/threads=[0-9]+/clock/stack/all_ip'); do
  v=$(value_of "$cloud" "$m") c=$(value_of "$cloud" "${m%/all_ip}/calls")
  n=$((n + 1))
  echo "cloud $m = $v of $c stacks (fallback_ratio $(value_of "$cloud" "${m%/all_ip}/fallback_ratio"))"
  awk -v v="$v" -v c="$c" 'BEGIN { exit !(c > 0 && v < c / 2) }' ||
    { echo "FAIL: cloud $m: $v of $c stacks wholly IP, not below half"; fail=1; }
done
[[ $n -ge 2 ]] || { echo "FAIL: no writer_rate=none clock find_vma and stack counts in $cloud/find_vma.json"; fail=1; }
# The oracle held everywhere it is checked.
for b in "$rt" "$cloud"; do
  for m in $(names "$b" '/check/oracle_not_busy'); do
    v=$(value_of "$b" "$m")
    awk -v v="$v" 'BEGIN { exit !(v != "" && v == 0) }' || { echo "FAIL: $b: $m = $v"; fail=1; }
  done
done
"$kperflab" compare "$cloud" "$rt" --probe find_vma --format text 2>&1 |
  grep -E 'ebusy_ratio|fallback_ratio' | head -n 12 || true
exit "$fail"
