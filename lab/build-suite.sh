#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the suite for a guest architecture and stage it as an initramfs
# payload: the kperflab binary, the membarrier reproducer
# (bench/membarrier/repro_global_skip.cpp), the kmod guest test programs
# (tests/kmod: every executable its CMakeLists builds, plus its *.sh), and
# every shared library they need with the dynamic loader, so the guest needs
# nothing from the host. (A fully static link is not possible with Debian's
# packages: libbenchmark-dev ships no libbenchmark.a.)
#   lab/build-suite.sh SRC_ROOT ARCH BUILD_DIR STAGE_DIR [BTF_FILE]
# BTF_FILE: the BTF vmlinux.h is generated from (default: the host's; for a
# cross build, a guest kernel's headers vmlinux, which carries .BTF).
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"

lab_suite_configure() {
  local src=$1 arch=$2 build=$3 btf=$4
  local -a args=(-S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKPERFLAB_TESTS=ON)
  # A configured tree re-runs cmake by itself when a CMakeLists.txt changes.
  [[ -f $build/CMakeCache.txt ]] && return 0
  [[ -n $btf ]] && args+=(-DKPERFLAB_VMLINUX_BTF="$btf")
  if [[ $arch != "$(dpkg --print-architecture)" ]]; then
    [[ $arch == arm64 ]] || lab_die "no cross toolchain file for $arch"
    command -v aarch64-linux-gnu-g++ >/dev/null ||
      lab_die "aarch64-linux-gnu-g++ missing: install g++-aarch64-linux-gnu"
    [[ -f /usr/lib/aarch64-linux-gnu/pkgconfig/libbpf.pc ]] ||
      lab_die "libbpf-dev:arm64 missing (./run.sh deps installs the :arm64 -dev packages)"
    args+=(-DCMAKE_TOOLCHAIN_FILE="$lab_dir/toolchain-aarch64.cmake")
    # The guest needs no debug information, and -g is a good part of a
    # cross build that takes minutes on a 2-vCPU host; same -O2 -DNDEBUG.
    args+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG")
  fi
  if ! cmake "${args[@]}" >"$build/lab-configure.log" 2>&1; then
    tail -n 30 "$build/lab-configure.log" >&2
    lab_die "configuring the $arch suite failed (log: $build/lab-configure.log)"
  fi
}

lab_suite_make() {
  local src=$1 build=$2 jobs=${LAB_JOBS:-2}
  # Only the binaries and the guest test programs, not the host test suite.
  if ! make -C "$build" -j "$jobs" kperflab membarrier_repro_global_skip >"$build/lab-make.log" 2>&1; then
    tail -n 40 "$build/lab-make.log" >&2
    lab_die "building kperflab failed (log: $build/lab-make.log)"
  fi
  if [[ -f $src/tests/kmod/CMakeLists.txt ]]; then
    make -C "$build/tests/kmod" -j "$jobs" all >>"$build/lab-make.log" 2>&1 || {
      tail -n 40 "$build/lab-make.log" >&2
      lab_die "building the tests/kmod guest programs failed (log: $build/lab-make.log)"
    }
  fi
}

# Where a library of triplet $2 named $1 comes from. One search order for
# the loader and every library: ld.so and libc.so.6 must come from the same
# glibc build. (The cross toolchain's /usr/aarch64-linux-gnu/lib has a glibc
# of its own, 2.36-8cross1 next to libc6:arm64 2.36-9+deb12u14 here; a loader
# of one with the libc of the other loops forever in the first
# pthread_create: their private _rtld_global layouts differ.)
lab_find_lib() {
  local lib=$1 triplet=$2 dir
  for dir in /usr/lib/$triplet /lib/$triplet /usr/$triplet/lib; do
    [[ -e $dir/$lib ]] && { echo "$dir/$lib"; return 0; }
  done
  return 1
}

# Copy the loader of ELF $1 and every shared library it needs (recursively)
# into the stage root $2, from the multiarch paths of triplet $3.
lab_stage_libs() {
  local elf=$1 root=$2 triplet=$3 interp src
  interp=$(readelf -l "$elf" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
  [[ -z $interp ]] && return 0
  if [[ ! -e $root$interp ]]; then
    src=$(lab_find_lib "$(basename "$interp")" "$triplet") ||
      lab_die "dynamic loader $interp not found for $triplet"
    mkdir -p "$root$(dirname "$interp")"
    cp -L "$src" "$root$interp"
  fi
  lab_stage_needed "$elf" "$root" "$triplet"
}

lab_stage_needed() {
  local elf=$1 root=$2 triplet=$3 lib found
  for lib in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [[ -e $root/lib/$triplet/$lib ]] && continue
    found=$(lab_find_lib "$lib" "$triplet") ||
      lab_die "$(basename "$elf") needs $lib, not found for $triplet"
    mkdir -p "$root/lib/$triplet"
    cp -L "$found" "$root/lib/$triplet/$lib"
    lab_stage_needed "$root/lib/$triplet/$lib" "$root" "$triplet"
  done
}

# STAGE is an overlay of the guest's /: kperflab/bin/kperflab,
# kperflab/tests/kmod/*, lib*/ (libraries and loader).
lab_suite_stage() {
  local src=$1 arch=$2 build=$3 stage=$4 triplet f
  triplet=$(lab_uname_m "$arch")-linux-gnu
  rm -rf "$stage"
  mkdir -p "$stage/kperflab/bin" "$stage/kperflab/tests/kmod"
  cp "$build/kperflab" "$stage/kperflab/bin/kperflab"
  lab_stage_libs "$stage/kperflab/bin/kperflab" "$stage" "$triplet"
  cp "$build/membarrier_repro_global_skip" "$stage/kperflab/bin/"
  lab_stage_libs "$stage/kperflab/bin/membarrier_repro_global_skip" "$stage" "$triplet"
  if [[ -d $src/tests/kmod ]]; then
    for f in "$src"/tests/kmod/*.sh; do [[ -e $f ]] && cp "$f" "$stage/kperflab/tests/kmod/"; done
    for f in "$build"/tests/kmod/*; do
      [[ -f $f && -x $f ]] && file -b "$f" | grep -q '^ELF' || continue
      cp "$f" "$stage/kperflab/tests/kmod/"
      lab_stage_libs "$f" "$stage" "$triplet"
    done
  fi
  lab_stage_strip "$arch" "$stage"
}

# The staged programs without their debug sections: the host build keeps
# them (-g), and they were 95 % of the guest's initramfs (kperflab 105 MB,
# 5.7 MB stripped), which the host compresses and every TCG guest unpacks
# at boot. Symbols stay, so a guest's backtraces still name functions; the
# unstripped binaries (same build id) are in the build tree.
lab_stage_strip() {
  local arch=$1 stage=$2 objcopy=objcopy f
  [[ $arch != "$(dpkg --print-architecture)" ]] && objcopy=$(lab_uname_m "$arch")-linux-gnu-objcopy
  command -v "$objcopy" >/dev/null || lab_die "$objcopy missing (binutils for $arch)"
  for f in "$stage"/kperflab/bin/* "$stage"/kperflab/tests/kmod/*; do
    [[ -f $f && -x $f && $(file -b "$f") == ELF* ]] || continue
    "$objcopy" --strip-debug "$f" || lab_die "$objcopy --strip-debug $f failed"
  done
}

lab_build_suite() {
  local src=$1 arch=$2 build=$3 stage=$4 btf=${5:-}
  mkdir -p "$build"
  lab_log "building the suite for $arch in $build"
  lab_suite_configure "$src" "$arch" "$build" "$btf"
  lab_suite_make "$src" "$build"
  lab_suite_stage "$src" "$arch" "$build" "$stage"
  file -b "$stage/kperflab/bin/kperflab" | grep -q "$(lab_elf_machine "$arch")" ||
    lab_die "the staged kperflab is not a $arch binary: $(file -b "$stage/kperflab/bin/kperflab")"
}

lab_elf_machine() { case $1 in amd64) echo x86-64 ;; arm64) echo aarch64 ;; esac; }

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  [[ $# -ge 4 && $# -le 5 ]] ||
    lab_die "usage: lab/build-suite.sh SRC_ROOT ARCH BUILD_DIR STAGE_DIR [BTF_FILE]"
  lab_build_suite "$@"
fi
