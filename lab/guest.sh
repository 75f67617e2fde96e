#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# One guest, start to end, as its own process so `set -e` holds throughout:
#   lab/guest.sh KERNEL_ENV
# KERNEL_ENV (written by lab.sh) names NAME ARCH KREL VMLINUZ KDIR KCONFIG MODDIR
# (MODDIR empty: the channel's drivers are built in). Settings
# come from the environment lab.sh exports: LAB_MODE LAB_CACHE LAB_WORK
# LAB_RUNS_DIR LAB_TIMEOUT LAB_ACCEL LAB_STAGE LAB_SRC LAB_HOST_KPERFLAB.
# Output: LAB_WORK/<NAME>/ with serial.log, qemu.cmd, result/ (what the
# guest sent back). Exit 0 pass, 1 fail, 77 cannot run here.
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"
source "$lab_dir/build-kmod.sh"
source "$lab_dir/initramfs.sh"
source "$lab_dir/qemu.sh"
source "$lab_dir/verify.sh"
source "$lab_dir/modules.sh"

# The guest's commands for each mode (busybox sh, run from /kperflab).
lab_mode_script() {
  local mode=$1
  echo 'uname -r >/out/uname.txt; grep -c ^processor /proc/cpuinfo >/out/ncpu.txt'
  [[ $mode == smoke ]] && return
  # Progress goes to the serial console too (serial.log on the host), so a
  # guest that stalls shows where.
  if [[ $mode == test ]]; then
    echo "{ KPERFLAB_KO=/kperflab/kperflab.ko KPERFLAB=/kperflab/bin/kperflab KPERFLAB_SOAK=${LAB_SOAK:-0} \\"
    echo '  sh /kperflab/tests/kmod/guest-tests.sh; echo $? >/out/guest-tests.rc; } 2>&1 |'
    echo '  tee /out/guest-tests.log >/dev/console'
    # The guest tests may unload the module (rmmod races); the probes need it.
    echo 'grep -q "^kperflab " /proc/modules || insmod /kperflab/kperflab.ko'
  fi
  if [[ -n ${LAB_AB_ARGS:-} ]]; then
    lab_ab_script
    return
  fi
  echo "{ kperflab run --profile ${LAB_PROFILE:-lab} --runs-dir /out/runs ${LAB_RUN_ARGS:-}$(lab_memcg_path_consent "${LAB_RUN_ARGS:-}"); echo \$? >/out/kperflab.rc; } 2>&1 |"
  echo '  tee /out/kperflab-run.log >/dev/console'
}

# A guest is the lab's alone: the mmap_lock probe's tax on kernels whose
# tracepoints format the memcg path (up to 6.13) is measured there, not
# spared. The lab profile allows it already; another profile (the scale
# runs) gets the --set when mmap_lock runs (every probe, or --probe mmap_lock).
lab_memcg_path_consent() {
  local args=$1
  [[ ${LAB_PROFILE:-lab} == lab ]] && return
  [[ $args == *--probe* && $args != *"--probe mmap_lock"* && $args != *"-p mmap_lock"* ]] && return
  echo " --set mmap_lock.memcg_path=allow"
}

# A/B in one boot: side a runs the lab profile with --run-args, side b
# with --run-args and --ab's arguments, interleaved a b b a a b ... for
# --rounds rounds, so both sides share the boot, the memory layout and the
# drift of the machine. Bundles go to /out/ab/a and /out/ab/b.
lab_ab_script() {
  local i side args
  echo ': >/out/kperflab.rcs'
  for ((i = 1; i <= LAB_AB_ROUNDS; i++)); do
    for side in $( ((i % 2)) && echo a b || echo b a); do
      args=${LAB_RUN_ARGS:-}
      [[ $side == b ]] && args+=" $LAB_AB_ARGS"
      args+=$(lab_memcg_path_consent "$args")
      echo "echo 'kperflab-lab: A/B round $i side $side' >/dev/console"
      echo "{ kperflab run --profile ${LAB_PROFILE:-lab} --runs-dir /out/ab/$side $args; echo \$? >>/out/kperflab.rcs; } 2>&1 |"
      echo '  tee -a /out/kperflab-run.log >/dev/console'
    done
  done
  echo 'if grep -qv "^0$" /out/kperflab.rcs; then echo 1; else echo 0; fi >/out/kperflab.rc'
}

# KVM verdict of this host boot, kept in the cache so that every guest (and
# every ctest entry) does not pay the KVM probe again.
lab_pick_accel() {
  local arch=$1 verdict key
  [[ $LAB_ACCEL != auto ]] && { echo "$LAB_ACCEL"; return; }
  lab_kvm_plausible "$arch" || { echo tcg; return; }
  key="$(cat /proc/sys/kernel/random/boot_id) $(uname -r)"
  verdict=$LAB_CACHE/kvm-verdict
  if [[ -f $verdict ]] && grep -qx "$key broken" "$verdict"; then
    lab_log "KVM failed on this host boot before ($verdict): using TCG"
    echo tcg
  else
    echo kvm
  fi
}

lab_boot() {
  local arch=$1 vmlinuz=$2 initrd=$3 out=$4 accel rc=0
  accel=$(lab_pick_accel "$arch")
  lab_qemu "$arch" "$vmlinuz" "$initrd" "$out" "$accel" "$LAB_TIMEOUT" || rc=$?
  if [[ $rc -eq 125 ]]; then
    echo "$(cat /proc/sys/kernel/random/boot_id) $(uname -r) broken" >"$LAB_CACHE/kvm-verdict"
    lab_log "KVM cannot boot this kernel here: retrying under TCG"
    accel=tcg rc=0
    lab_qemu "$arch" "$vmlinuz" "$initrd" "$out" tcg "$LAB_TIMEOUT" || rc=$?
  fi
  echo "$accel" >"$out/accel"
  [[ $rc -eq 124 ]] && lab_log "guest hit the ${LAB_TIMEOUT}s timeout (serial log: $out/serial.log)"
  return 0
}

lab_guest_payload() {
  local out=$1 ko=$2 moddir=$3 p=$1/payload/kperflab
  rm -rf "$out/payload"
  mkdir -p "$p"
  [[ -n $moddir ]] && lab_guest_modules "$moddir" "$p/modules" "${LAB_GUEST_MODULES[@]}"
  lab_mode_script "$LAB_MODE" >"$p/mode.sh"
  # The guest powers itself off before the host's timeout kills QEMU, so the
  # results of whatever finished still come back.
  echo $((LAB_TIMEOUT > 120 ? LAB_TIMEOUT - 60 : LAB_TIMEOUT / 2)) >"$p/guest-timeout"
  [[ -n $ko ]] && cp "$ko" "$p/kperflab.ko"
  # --mode lava: init leaves a shell on the console for LAVA's test shell.
  [[ $LAB_MODE == lava ]] && touch "$p/interactive"
  # The kernel config, where the guest's provenance collector looks for it.
  mkdir -p "$out/payload/boot"
  cp "$KCONFIG" "$out/payload/boot/config-$KREL"
}

main() {
  [[ $# -eq 1 && -f $1 ]] || lab_die "usage: lab/guest.sh KERNEL_ENV"
  local NAME ARCH KREL VMLINUZ KDIR KCONFIG MODDIR="" out ko="" overlays=()
  source "$1"
  out=$LAB_WORK/$NAME
  mkdir -p "$out"
  lab_log "$NAME: $KREL ($ARCH), mode $LAB_MODE"
  if [[ $LAB_MODE != smoke && ( -f $LAB_SRC/kmod/Makefile || -f $LAB_SRC/kmod/Kbuild ) ]]; then
    ko=$(lab_build_kmod "$LAB_SRC" "$KDIR" "$ARCH" "$out/kmod-build")
  fi
  lab_guest_payload "$out" "$ko" "$MODDIR"
  [[ $LAB_MODE != smoke ]] && overlays+=("$LAB_STAGE")
  overlays+=("$out/payload")
  lab_initramfs "$LAB_CACHE" "$ARCH" "$out/initrd.gz" "${overlays[@]}"
  if [[ $LAB_MODE == lava ]]; then
    source "$lab_dir/lava/lava.sh"
    lab_lava "$out" "$ARCH" "$VMLINUZ" "$out/initrd.gz" "$KREL"
    return
  fi
  lab_boot "$ARCH" "$VMLINUZ" "$out/initrd.gz" "$out"
  rm -rf "$out/result"; mkdir -p "$out/result"
  if [[ -s $out/out.tar ]]; then
    tar -xf "$out/out.tar" -C "$out/result" 2>/dev/null ||
      lab_log "the guest's result stream is truncated; using what was extracted"
  fi
  lab_verify "$LAB_MODE" "$out" "$KREL"
}

main "$@"
