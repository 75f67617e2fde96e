#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# mmap_lock issue: between the 6.1 and 6.12 lab bundles (written by the
# lab_6.1-cloud-amd64 and lab_6.12-cloud-amd64 entries), 6.1 takes more
# mmap_lock acquisitions per page fault than 6.12: per-VMA locks (6.4+) let
# faults skip mmap_lock. The value of each point of the anonymous storm
# without a writer, read from the newest bundle of each kernel.
# Usage: lab_mmap_lock_per_vma.sh RUNS_DIR KPERFLAB
set -euo pipefail
runs=${1:?usage: lab_mmap_lock_per_vma.sh RUNS_DIR KPERFLAB}
kperflab=${2:?}

. "$(dirname "$0")/bundle_value.sh"
newest() { lab_newest_bundle "$runs" "$1" mmap_lock; }
value_of() { lab_metric_value "$1" mmap_lock "$2"; }

old=$(newest '6.1.0-*-cloud-amd64')
new=$(newest '6.12.*-cloud-amd64')
if [[ -z $old || -z $new ]]; then
  echo "SKIP: no mmap_lock bundle of 6.1 ($old) or 6.12 ($new) under $runs: the lab entries did not run"
  exit 77
fi
echo "6.1:  $old"
echo "6.12: $new"
fail=0 n=0
for point in $(grep -oE '"anon/threads=[0-9]+/writer=none/acquisitions_per_fault"' "$old/mmap_lock.json" |
               tr -d '"' | sort -u); do
  a=$(value_of "$old" "$point")
  b=$(value_of "$new" "$point")
  [[ -n $a && -n $b ]] || { echo "FAIL: $point missing (6.1 '$a', 6.12 '$b')"; fail=1; continue; }
  n=$((n + 1))
  echo "$point: 6.1 $a, 6.12 $b"
  awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > b && a > 0.5) }' ||
    { echo "FAIL: 6.1 does not take more mmap_lock acquisitions per fault than 6.12"; fail=1; }
done
[[ $n -gt 0 ]] || { echo "FAIL: no anon/.../writer=none/acquisitions_per_fault in $old/mmap_lock.json"; fail=1; }
# The same rows as the compare report shows them.
"$kperflab" compare "$old" "$new" --probe mmap_lock --format text 2>&1 |
  grep -A2 -E 'acquisitions_per_fault' | head -n 12 || true
exit "$fail"
