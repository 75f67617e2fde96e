#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The kernel lab: boot Debian's kernels (or your own) under QEMU and run the
# suite inside them. See lab/README.md.
#   lab/lab.sh [--kernel NAME]... [--mode run|test|smoke|lava] [--cache DIR]
#              [--timeout S] [--accel auto|kvm|tcg] [--runs-dir DIR] [--work DIR]
#              [--host-kperflab BIN] [--run-args "ARGS"] [--profile P]
#              [--ab "B-ARGS" [--rounds N]] [--soak]
# NAME: 6.1-cloud-amd64 6.12-cloud-amd64 6.12-rt-amd64 6.12-cloud-arm64 (default:
# all four) or custom:IMAGE:HEADERS_OR_BUILDDIR.
# Modes: run   load kperflab.ko, `kperflab run --profile lab`, bundle -> --runs-dir
#        test  also tests/kmod/guest-tests.sh; pass/fail (exit 77: cannot run here)
#        smoke only boot and report uname/CPUs (proves the machinery)
#        lava  the guest under LAVA's dispatcher (lava-run): lab/lava/jobs/qemu.yaml
#              runs lab/lava/kperflab.yaml; every test case is checked (lab/lava/lava.sh)
# --run-args: more arguments for the guest's `kperflab run`, e.g.
#        "--probe ipi --repeat 10 --set ipi.handler_delay_ns=20000"
# --profile: the guest's profile (default lab; quick, standard and full are
#        planned for the host's speed, and take several times longer under TCG)
# --soak: in test mode, also the module's longest runs of every command under
#        tight lockup/stall detectors (~50 s per guest; tests/kmod/guest-tests.sh)
# --ab: A/B in one boot: N rounds (default 4) of the lab profile with
#        --run-args (side a) and with --run-args plus B-ARGS (side b),
#        interleaved a b b a ...; the host compares b against a
#        (LAB_RUNS_DIR/ab-<release>-<time>/report.txt). E.g.
#        --ab "--set ipi.handler_delay_ns=20000"
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_root=$(cd "$lab_dir/.." && pwd)
source "$lab_dir/lib.sh"
source "$lab_dir/fetch.sh"
source "$lab_dir/build-suite.sh"

usage() { sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

kernels=() mode=run timeout="" accel=auto host_kperflab="" run_args="" ab_args="" rounds=4 soak=0 profile=lab
cache=${KPERFLAB_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kperflab/lab}
runs_dir=$src_root/results/runs
work=${KPERFLAB_BUILD_DIR:-$src_root/build}/lab

while [[ $# -gt 0 ]]; do
  case $1 in
    --kernel) kernels+=("${2:?--kernel needs a name}"); shift 2 ;;
    --mode) mode=${2:?--mode needs run, test, smoke or lava}; shift 2 ;;
    --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
    --accel) accel=${2:?--accel needs auto, kvm or tcg}; shift 2 ;;
    --runs-dir) runs_dir=${2:?--runs-dir needs a directory}; shift 2 ;;
    --work) work=${2:?--work needs a directory}; shift 2 ;;
    --host-kperflab) host_kperflab=${2:?--host-kperflab needs a path}; shift 2 ;;
    --run-args) run_args=${2?--run-args needs a value}; shift 2 ;;
    --ab) ab_args=${2:?--ab needs the arguments of side b}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --profile) profile=${2:?--profile needs quick, standard, full or lab}; shift 2 ;;
    --soak) soak=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) lab_die "unknown argument '$1' (lab/lab.sh --help)" ;;
  esac
done
# They end up in the guest's shell script: plain words only.
[[ $run_args =~ ^[A-Za-z0-9_.,=/:\ +-]*$ ]] ||
  lab_die "--run-args may hold letters, digits, spaces and _.,=/:+- only, got '$run_args'"
[[ $ab_args =~ ^[A-Za-z0-9_.,=/:\ +-]*$ ]] ||
  lab_die "--ab may hold letters, digits, spaces and _.,=/:+- only, got '$ab_args'"
[[ $rounds =~ ^[1-9][0-9]?$ ]] || lab_die "--rounds must be 1..99, got '$rounds'"
case $profile in quick | standard | full | lab) ;; *) lab_die "--profile must be quick, standard, full or lab, got '$profile'" ;; esac
[[ -z $ab_args || $mode != smoke ]] || lab_die "--ab needs --mode run or test (smoke runs no probes)"
[[ $soak -eq 0 || $mode == test ]] || lab_die "--soak needs --mode test (it adds to the guest tests)"
export LAB_RUN_ARGS=$run_args LAB_AB_ARGS=$ab_args LAB_AB_ROUNDS=$rounds LAB_SOAK=$soak \
  LAB_PROFILE=$profile
case $mode in run | test | smoke | lava) ;; *) lab_die "--mode must be run, test, smoke or lava, got '$mode'" ;; esac
[[ -z $ab_args || $mode != lava ]] || lab_die "--ab and --mode lava do not mix"
case $accel in auto | kvm | tcg) ;; *) lab_die "--accel must be auto, kvm or tcg, got '$accel'" ;; esac
[[ -z $timeout || $timeout =~ ^[0-9]+$ ]] || lab_die "--timeout must be seconds, got '$timeout'"
# TCG is slow: boot ≈15–40 s, the lab profile ≤60 s of probe time, the kmod
# guest tests; 15 minutes is the hard ceiling per guest.
timeout=${timeout:-900}
[[ ${#kernels[@]} -gt 0 ]] || kernels=("${LAB_KERNELS[@]}")
mkdir -p "$cache" "$work"
cache=$(cd "$cache" && pwd)
work=$(cd "$work" && pwd)

# The pieces the guest runs. Once they are in the tree, a failure to build
# them is an error, never a silent skip.
have_kmod() { [[ -f $src_root/kmod/Makefile || -f $src_root/kmod/Kbuild ]]; }
have_guest_tests() { [[ -f $src_root/tests/kmod/guest-tests.sh ]]; }
if [[ $mode == test ]]; then
  have_kmod || lab_skip "kmod/ is not in this tree yet: nothing to load in the guests"
  have_guest_tests || lab_skip "tests/kmod/guest-tests.sh is not in this tree yet"
fi

# Write WORK/<name>.env (NAME ARCH KREL VMLINUZ KDIR) for one kernel.
lab_prepare_debian() {
  local name=$1 dir
  dir=$(lab_fetch "$cache" "$name")
  (
    source "$dir/kernel.env"
    printf 'NAME=%q\nARCH=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\nKCONFIG=%q\nMODDIR=%q\n' \
      "$name" "$ARCH" "$KREL" "$dir/root/boot/vmlinuz-$KREL" \
      "$dir/root/usr/src/linux-headers-$KREL" "$dir/root/boot/config-$KREL" \
      "$dir/root/lib/modules/$KREL"
  ) >"$work/$name.env"
}

# custom:IMAGE:HEADERS_OR_BUILDDIR — a kernel you built (or any bzImage/Image
# with its headers or build tree).
lab_prepare_custom() {
  local spec=${1#custom:} image kdir arch krel name
  image=${spec%%:*}; kdir=${spec#*:}
  [[ $spec == *:* && -f $image ]] || lab_die "custom kernel: '$1' is not custom:IMAGE:HEADERS_OR_BUILDDIR with an existing IMAGE"
  [[ -f $kdir/Makefile && -f $kdir/.config ]] || lab_die "custom kernel: $kdir has no Makefile and .config (headers or build directory)"
  case $(file -b "$image") in
    *x86*boot*) arch=amd64 ;;
    *ARM64*|*aarch64*) arch=arm64 ;;
    *) lab_die "custom kernel: cannot tell the architecture of $image ($(file -b "$image"))" ;;
  esac
  krel=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || make -s -C "$kdir" kernelrelease)
  [[ -n $krel ]] || lab_die "custom kernel: cannot read the kernel release from $kdir"
  local opt
  for opt in CONFIG_VIRTIO_PCI CONFIG_VIRTIO_CONSOLE CONFIG_DEVTMPFS CONFIG_BLK_DEV_INITRD; do
    grep -q "^$opt=y" "$kdir/.config" || lab_die "custom kernel: $opt=y is needed (results travel over a virtio console)"
  done
  name=custom-$krel
  kdir=$(cd "$kdir" && pwd)
  printf 'NAME=%q\nARCH=%q\nKREL=%q\nVMLINUZ=%q\nKDIR=%q\nKCONFIG=%q\n' "$name" "$arch" \
    "$krel" "$(cd "$(dirname "$image")" && pwd)/$(basename "$image")" "$kdir" "$kdir/.config" \
    >"$work/$name.env"
  echo "$name"
}

# 1. Resolve and download every kernel first (one fetch per package).
envs=()
for k in "${kernels[@]}"; do
  if [[ $k == custom:* ]]; then
    envs+=("$work/$(lab_prepare_custom "$k").env")
  else
    lab_kernel_spec "$k" >/dev/null || lab_die "unknown kernel '$k' (known: ${LAB_KERNELS[*]}, or custom:IMAGE:HEADERS_OR_BUILDDIR)"
    lab_prepare_debian "$k"
    envs+=("$work/$k.env")
  fi
done

# 2. The suite, once per guest architecture. The host's own architecture
# reuses the project build directory; a cross build generates vmlinux.h from
# a guest kernel's BTF (the headers package ships a BTF-only vmlinux).
declare -A stage=()
if [[ $mode != smoke ]]; then
  for env in "${envs[@]}"; do
    arch=$(source "$env"; echo "$ARCH")
    [[ -n ${stage[$arch]:-} ]] && continue
    if [[ $arch == "$(dpkg --print-architecture)" ]]; then
      lab_locked "$work/.suite-$arch.lock" lab_build_suite "$src_root" "$arch" \
        "${KPERFLAB_BUILD_DIR:-$src_root/build}" "$work/stage-$arch"
    else
      kdir=$(source "$env"; echo "$KDIR")
      lab_locked "$work/.suite-$arch.lock" lab_build_suite "$src_root" "$arch" \
        "$work/suite-$arch" "$work/stage-$arch" "$kdir/vmlinux"
    fi
    stage[$arch]=$work/stage-$arch
  done
fi

# 3. Boot each guest in its own process.
export LAB_MODE=$mode LAB_CACHE=$cache LAB_WORK=$work LAB_RUNS_DIR=$runs_dir
export LAB_TIMEOUT=$timeout LAB_ACCEL=$accel LAB_SRC=$src_root LAB_HOST_KPERFLAB=$host_kperflab
failures=0 ok_krels=()
for env in "${envs[@]}"; do
  name=$(source "$env"; echo "$NAME") arch=$(source "$env"; echo "$ARCH")
  rc=0
  LAB_STAGE=${stage[$arch]:-} "$lab_dir/guest.sh" "$env" || rc=$?
  case $rc in
    0) lab_log "$name: OK"; ok_krels+=("$(source "$env"; echo "$KREL")") ;;
    "$LAB_SKIP") exit "$LAB_SKIP" ;;
    *) lab_log "$name: FAILED (logs: $work/$name/)"; failures=$((failures + 1)) ;;
  esac
done
# 4. Two kernels or more: one series report across them (issue #17).
if [[ $mode != smoke && $mode != lava && ${#ok_krels[@]} -ge 2 ]]; then
  series_bin=${host_kperflab:-${KPERFLAB_BUILD_DIR:-$src_root/build}/kperflab}
  if [[ -x $series_bin ]]; then lab_series "$series_bin" "$runs_dir" "${ok_krels[@]}" >/dev/null || true
  else lab_log "no host kperflab at $series_bin: no series report"; fi
fi
[[ $failures -eq 0 ]] || lab_die "$failures of ${#envs[@]} guests failed"
lab_log "all ${#envs[@]} guests OK"
