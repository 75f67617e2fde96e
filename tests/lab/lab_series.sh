#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The lab's four-kernel series report (issue #17): lab_series (lab/lib.sh)
# over the bundles the four lab_<kernel> entries wrote, in the matrix order
# 6.1 -> 6.12 cloud -> 6.12-rt -> 6.12 arm64. The text names the four sides
# with their kernels and fits 80 columns; the 6.12 -> 6.12-rt step flags or
# leaves undecided (one boot per side in a clean run: nothing can be
# significant, and the report says so) many metrics, since TCG timings of an
# RT kernel differ; the site
# has an index linking a page per probe that ran.
# Usage: lab_series.sh RUNS_DIR KPERFLAB
set -euo pipefail
runs=${1:?usage: lab_series.sh RUNS_DIR KPERFLAB}
kperflab=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lab/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }

krels=()
for k in "${LAB_KERNELS[@]}"; do
  arch=${k##*-}
  # The release of the newest bundle of this kernel name under runs.
  rel=$(ls -d "$runs"/lab-qemu-tcg-*/*/ 2>/dev/null | xargs -n1 basename | grep -E "^${k%%-*}\\.[0-9]+.*-${k#*-}\$|^${k%%-*}\\.0-[0-9]+-${k#*-}\$" | sort -V | tail -1 || true)
  [[ -n $rel ]] || { echo "SKIP: no bundle of $k under $runs: the lab_$k entry did not run"; exit 77; }
  krels+=("$rel")
done
echo "kernels: ${krels[*]}"
out=$(lab_series "$kperflab" "$runs" "${krels[@]}") || fail "lab_series"
txt=$out/series.txt
[[ -s $txt && -s $out/series.md && -s $out/site/index.html ]] || fail "missing outputs in $out"
head -12 "$txt"
for i in 1 2 3 4; do
  grep -q "^  \[$i\] kernel:" "$txt" || fail "side [$i] not named in $txt"
done
for k in "${krels[@]}"; do grep -qF -- "$k" "$txt" || fail "kernel $k not in the report"; done
long=$(awk 'length($0) > 80' "$txt" | wc -l)
[[ $long -eq 0 ]] || fail "$long lines over 80 columns"
step=$(grep -E '^  \[2\] -> \[3\]: ' "$txt") || fail "no [2] -> [3] step"
echo "$step"
step+=" $(grep -A1 -E '^  \[2\] -> \[3\]: ' "$txt" | tail -1)"
[[ $step =~ ([0-9]+)\ regressions,\ ([0-9]+)\ improvements,\ ([0-9]+)\ changes,\ ([0-9]+)\ undecided ]] ||
  fail "step line unreadable: $step"
(( BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4] >= 10 )) ||
  fail "6.12 -> 6.12-rt flags or leaves undecided fewer than 10 metrics"
if (( BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] == 0 )); then
  grep -q "cannot be flagged\|cannot be told" "$txt" || fail "nothing significant and no warning why"
fi
# The default text lists every flagged line ("== probe" sections) and the
# largest undecided steps; with one boot a side nothing is flagged.
if ! grep -q '^== ' "$txt"; then
  grep -q '^Largest undecided steps' "$txt" || fail "the report lists no line"
  grep -qE '^(cpumask|find_vma|ipi|membarrier|mmap_lock|notifier) .*\[[0-9]\]->\[[0-9]\]' "$txt" ||
    fail "no undecided line names a probe and a step"
fi
pages=$(grep -o "href='probe-[a-z_-]*.html'" "$out/site/index.html" | sort -u | wc -l)
[[ $pages -ge 3 ]] || fail "index links $pages probe pages"
for p in $(grep -o "probe-[a-z_-]*.html" "$out/site/index.html" | sort -u); do
  [[ -s $out/site/$p ]] || fail "index links $p, which is missing"
done
echo "lab_series: ok ($out; $pages probe pages)"
