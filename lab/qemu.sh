#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot one guest under QEMU with hard timeouts.
#   lab_qemu ARCH VMLINUZ INITRD OUTDIR ACCEL TIMEOUT_S
# ARCH amd64|arm64, ACCEL kvm|tcg. Writes OUTDIR/serial.log (the guest
# console, kept for diagnosis) and OUTDIR/out.tar (what the guest sent over
# the virtio-serial port "kperflab.out"). Returns 0 when QEMU exited by
# itself, 124 on timeout, 125 when KVM did not get the guest to /init
# (the caller retries with TCG).
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"

LAB_VCPUS=${LAB_VCPUS:-4}
LAB_MEM_MB=${LAB_MEM_MB:-1536}
# How long KVM may take to reach /init before it is declared broken.
LAB_KVM_BOOT_S=${LAB_KVM_BOOT_S:-30}

# Fill array $1 with the QEMU command line for ARCH ACCEL OUTDIR.
lab_qemu_cmd() {
  local -n _cmd=$1
  local arch=$2 accel=$3 out=$4 console
  case $arch in
    amd64)
      command -v qemu-system-x86_64 >/dev/null || lab_skip "qemu-system-x86_64 not installed"
      _cmd=(qemu-system-x86_64); console=ttyS0 ;;
    arm64)
      command -v qemu-system-aarch64 >/dev/null || lab_skip "qemu-system-aarch64 not installed"
      _cmd=(qemu-system-aarch64 -M virt); console=ttyAMA0 ;;
    *) lab_die "unsupported guest architecture '$arch'" ;;
  esac
  if [[ $accel == kvm ]]; then _cmd+=(-enable-kvm -cpu host)
  # Single-threaded TCG: with thread=multi a 6.12 guest oopsed on an int3
  # inside __schedule while the kernel live-patched a static key (perf_event
  # counters being opened): QEMU's multi-threaded TCG and x86 text_poke_bp
  # cross-modifying code do not mix reliably. thread=single ran the same
  # guest, module tests and lab profile cleanly.
  # arm64: every feature of -cpu max (LSE atomics, PAuth, BTI: what the
  # kernel's sync paths use on Neoverse servers) with QEMU's cheap PAuth
  # algorithm instead of QARMA (the guest booted in ~31 s, now far less).
  # LAB_TCG_CPU overrides the model.
  else
    local cpu=max
    [[ $arch == arm64 ]] && cpu=max,pauth-impdef=on
    _cmd+=(-accel tcg,thread=single -cpu "${LAB_TCG_CPU:-$cpu}")
  fi
  # Two NUMA nodes, one socket each (half the CPUs and memory; LAB_NUMA=1
  # for one): page migration (the notifier probe's migrate kind) needs a
  # second node, and the membarrier placement sweep sees a node boundary.
  # One socket split across two nodes makes x86 warn at boot (llc-sibling
  # on another node).
  local smp=$LAB_VCPUS
  if [[ ${LAB_NUMA:-2} == 2 && $LAB_VCPUS -ge 2 && $((LAB_VCPUS % 2)) == 0 ]]; then
    local half=$((LAB_VCPUS / 2)) mem=$((LAB_MEM_MB / 2))
    smp=$LAB_VCPUS,sockets=2,cores=$half,threads=1
    _cmd+=(-object "memory-backend-ram,id=m0,size=${mem}M"
           -object "memory-backend-ram,id=m1,size=$((LAB_MEM_MB - mem))M"
           -numa "node,nodeid=0,cpus=0-$((half - 1)),memdev=m0"
           -numa "node,nodeid=1,cpus=$half-$((LAB_VCPUS - 1)),memdev=m1")
  fi
  _cmd+=(-smp "$smp" -m "$LAB_MEM_MB" -no-reboot -display none -monitor none
         -device virtio-serial-pci -chardev "file,id=kplout,path=$out/out.tar"
         -device virtserialport,chardev=kplout,name=kperflab.out
         -serial "file:$out/serial.log"
         -append "console=$console loglevel=5 panic=-1 kperflab.hostname=lab-qemu-$accel-$(lab_uname_m "$arch")")
}

# KVM is worth trying when /dev/kvm opens read-write and the guest has the
# host's architecture. Whether it really boots a stock kernel is only known
# by trying (the CI machine's paravirtual /dev/kvm does not).
lab_kvm_plausible() {
  local arch=$1
  [[ $arch == "$(dpkg --print-architecture)" ]] || return 1
  [[ -c /dev/kvm ]] || return 1
  (exec 3<>/dev/kvm) 2>/dev/null
}

lab_qemu() {
  local arch=$1 kernel=$2 initrd=$3 out=$4 accel=$5 timeout=$6
  local -a cmd
  local pid deadline rc=0 booted=0 start
  rm -f "$out/serial.log" "$out/out.tar"
  : >"$out/serial.log"; : >"$out/out.tar"
  lab_qemu_cmd cmd "$arch" "$accel" "$out"
  cmd+=(-kernel "$kernel" -initrd "$initrd")
  printf '%q ' "${cmd[@]}" >"$out/qemu.cmd"; echo >>"$out/qemu.cmd"
  lab_log "booting $(basename "$kernel") ($arch, $accel, ${LAB_VCPUS} vCPUs, timeout ${timeout}s)"
  start=$SECONDS
  timeout -k 10 "$timeout" "${cmd[@]}" </dev/null >"$out/qemu.stdout" 2>&1 &
  pid=$!
  deadline=$((SECONDS + LAB_KVM_BOOT_S))
  while kill -0 "$pid" 2>/dev/null; do
    if [[ $booted -eq 0 ]] && grep -q 'kperflab-lab: init started' "$out/serial.log"; then
      booted=1
      lab_log "guest reached /init after $((SECONDS - start))s"
    fi
    if [[ $accel == kvm && $booted -eq 0 && $SECONDS -ge $deadline ]]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      lab_log "KVM guest did not reach /init in ${LAB_KVM_BOOT_S}s"
      return 125
    fi
    sleep 1
  done
  wait "$pid" || rc=$?
  grep -q 'kperflab-lab: init started' "$out/serial.log" && booted=1
  if [[ $accel == kvm && $booted -eq 0 ]]; then
    lab_log "KVM guest died before /init (qemu rc=$rc): $(tail -c 300 "$out/qemu.stdout")"
    return 125
  fi
  lab_log "guest finished in $((SECONDS - start))s (qemu rc=$rc)"
  [[ $rc -eq 124 || $rc -eq 137 ]] && return 124
  [[ $rc -eq 0 ]] || lab_log "qemu exited with $rc: $(tail -c 500 "$out/qemu.stdout")"
  return 0
}
