#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Many cores (issue #17): one 16-vCPU guest (6.12 cloud, two NUMA nodes of 8)
# runs the lab profile. Every probe completes; the IPI matrix is 16 x 16 with
# every off-diagonal pair measured; the membarrier sweeps reach 15 targets
# and 16 callers. Prints profile time, bundle size and metric count (the
# scaling tables in docs/profiles.md, "Many cores"); asserts no time.
# Usage: lab_cpus16.sh BUILD_DIR KPERFLAB
set -euo pipefail
build=${1:?usage: lab_cpus16.sh BUILD_DIR KPERFLAB}
kperflab=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
runs=$build/lab/cpus16-runs
rm -rf "$runs"
fail() { echo "FAIL: $*"; exit 1; }
rc=0
LAB_VCPUS=16 "$here/../../lab/lab.sh" --mode run --kernel 6.12-cloud-amd64 --work "$build/lab" \
  --runs-dir "$runs" --host-kperflab "$kperflab" || rc=$?
[[ $rc -eq 77 ]] && { echo "SKIP: the lab cannot run here (see above)"; exit 77; }
[[ $rc -eq 0 ]] || fail "lab.sh exited $rc"
b=$(ls -d "$runs"/lab-qemu-tcg-x86_64/*/*/ | head -1)
[[ -n $b ]] || fail "no bundle under $runs"
. "$here/bundle_value.sh"
grep -q '"online_count": *16' "$b/meta.json" || fail "the guest did not have 16 CPUs online"
for p in membarrier ipi cpumask notifier mmap_lock find_vma; do
  grep -q '"status": *"complete"' "$b/$p.json" || fail "$p did not complete: $(grep -o '"reason": *"[^"]*"' "$b/$p.json")"
done
"$kperflab" show --full "$b" >"$runs/show.txt" || fail "show"
grep -q "smp_call_function_single one-way" "$runs/show.txt" || fail "no IPI matrix"
# 16 rows of the matrix, each with 15 measured cells and one '-' (itself).
rows=$(awk '/smp_call_function_single one-way/{m=1; getline; next} m && /^ +[0-9]+ /{print; n++} n==16{exit}' "$runs/show.txt")
[[ $(grep -c . <<<"$rows") -eq 16 ]] || fail "the one-way matrix has not 16 rows"
while read -r line; do
  set -- $line
  [[ $# -eq 17 ]] || fail "matrix row '$line' has $(($# - 1)) cells"
  [[ $(grep -o ' - ' <<<" ${*:2} " | wc -l) -eq 1 ]] || fail "matrix row '$line': unmeasured pairs"
done <<<"$rows"
for m in private_expedited/targets=15/spin/latency private_expedited/callers=16/latency; do
  grep -q "\"$m\"" "$b/membarrier.json" || fail "membarrier has no $m"
done
metrics=$(grep -o '"kind": *"\(histogram\|scalar\)"' "$b"/*.json | wc -l)
started=$(grep -o '"started": *"[^"]*"' "$b/meta.json" | cut -d'"' -f4)
finished=$(grep -o '"finished": *"[^"]*"' "$b/meta.json" | cut -d'"' -f4)
secs=$(( $(date -d "$finished" +%s) - $(date -d "$started" +%s) ))
echo "lab_cpus16: ok: profile ${secs} s, bundle $(du -sk "$b" | cut -f1) KiB, $metrics metrics"
