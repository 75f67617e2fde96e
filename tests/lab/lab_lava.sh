#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kperflab under LAVA (issue #18): lab/lab.sh --mode lava boots the lab's
# 6.12 kernel and initramfs under Debian's lava-dispatcher (lava-run, no
# server), from the example job lab/lava/jobs/qemu.yaml, runs the test
# definition lab/lava/kperflab.yaml with every probe, and checks every case
# against `kperflab export --lava` of the bundle the device printed
# (lab/lava/check-results.py). Then the checker is shown to refuse a log
# with a case missing, a measurement changed, or no bundle; and the 6.1
# kernel, which cannot run the cpumask probe, reports it as skipped.
# Usage: lab_lava.sh SRC_ROOT BUILD_DIR KPERFLAB
set -euo pipefail
src=${1:?usage: lab_lava.sh SRC_ROOT BUILD_DIR KPERFLAB}
build=${2:?}
kperflab=${3:?}
command -v lava-run >/dev/null ||
  { echo "SKIP: lava-run not installed (Debian package lava-dispatcher; ./run.sh deps installs it)"; exit 77; }
probes="membarrier ipi notifier cpumask mmap_lock find_vma"
rc=0
LAB_LAVA_PROBES=$probes "$src/lab/lab.sh" --mode lava --kernel 6.12-cloud-amd64 \
  --work "$build/lab-lava" --host-kperflab "$kperflab" || rc=$?
[[ $rc -eq 0 ]] || exit "$rc"
dir=$build/lab-lava/6.12-cloud-amd64/lava
krel=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kernel"]["release"])' \
  "$dir/bundle/meta.json")
echo "cases by result: $(cut -f2 "$dir/results.tsv" | sort | uniq -c | tr '\n' ' ')"

# The checker is not a rubber stamp.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
refused() {  # NAME, a sed script that spoils lava.log, a message the checker must print
  local name=$1 script=$2 msg=$3
  sed -e "$script" "$dir/lava.log" >"$tmp/$name.log"
  cmp -s "$tmp/$name.log" "$dir/lava.log" && { echo "FAIL: $name: the log did not change"; fails=$((fails + 1)); return; }
  mkdir -p "$tmp/$name"
  if python3 "$src/lab/lava/check-results.py" "$tmp/$name.log" "$tmp/$name" "$kperflab" "$krel" \
       $probes >"$tmp/$name.out" 2>&1; then
    echo "FAIL: $name: the checker accepted it"; fails=$((fails + 1))
  elif ! grep -q "$msg" "$tmp/$name.out"; then
    echo "FAIL: $name: no '$msg' in: $(head -3 "$tmp/$name.out")"; fails=$((fails + 1))
  else
    echo "ok   $name: $(grep -m1 "$msg" "$tmp/$name.out")"
  fi
}
first=$(grep -m1 -o '"case": "cpumask\.[^"]*\.p50"' "$dir/lava.log" | cut -d'"' -f4)
[[ -n $first ]] || { echo "FAIL: no cpumask p50 case in the log"; exit 1; }
refused missing "/\"case\": \"${first//./\\.}\"/d" "case $first missing"
refused changed "/\"case\": \"${first//./\\.}\"/s/\"measurement\": ! \"[0-9.e+-]*\"/\"measurement\": ! \"123456789.0\"/" "measurement"
refused no-bundle '/KPERFLAB-BUNDLE-BEGIN/d' "no readable bundle"
refused job-failed '/"case": "job"/s/"result": "pass"/"result": "fail"/' "LAVA's 'job' result"
[[ $fails -eq 0 ]] || exit 1

# A probe the device cannot run: the 6.1 kernel's BTF has no bpf_cpumask
# kfuncs (they came in 6.3), so cpumask is a `skip` case there, its reason
# in the job log (check-results.py requires it for every case not passed).
rc=0
LAB_LAVA_PROBES="cpumask ipi" "$src/lab/lab.sh" --mode lava --kernel 6.1-cloud-amd64 \
  --work "$build/lab-lava" --host-kperflab "$kperflab" || rc=$?
[[ $rc -eq 0 ]] || exit "$rc"
grep -q $'^cpumask\tskip\t' "$build/lab-lava/6.1-cloud-amd64/lava/results.tsv" ||
  { echo "FAIL: cpumask is not a skip case on 6.1: $(grep '^cpumask' "$build/lab-lava/6.1-cloud-amd64/lava/results.tsv")"; exit 1; }
echo "6.1: $(grep -h 'kperflab-lava: cpumask: skip' "$build/lab-lava/6.1-cloud-amd64/serial.log")"
echo "lab_lava: ok"
