#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build kperflab.ko against an unpacked kernel's headers (or a kernel build
# directory), cross-compiling for arm64.
#   lab/build-kmod.sh SRC_ROOT HEADERS_DIR ARCH OUT_DIR   prints OUT_DIR/kperflab.ko
# SRC_ROOT is the kperflab tree: kmod/ and include/ are copied to OUT_DIR so
# the out-of-tree build writes nothing into the source tree and the kmod's
# relative include path (../include) still holds.
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"

lab_build_kmod() {
  local src=$1 kdir=$2 arch=$3 out=$4 jobs=${LAB_JOBS:-2}
  local -a make_args=(-C "$kdir" -j "$jobs")
  [[ -f $src/kmod/Makefile || -f $src/kmod/Kbuild ]] ||
    lab_die "no kmod/Makefile or kmod/Kbuild in $src"
  [[ -f $kdir/Makefile ]] || lab_die "$kdir is not a kernel build or headers directory"
  case $arch in
    amd64)
      [[ $(dpkg --print-architecture) == amd64 ]] ||
        lab_die "building an amd64 module on a non-amd64 host is not supported" ;;
    arm64)
      if [[ $(dpkg --print-architecture) != arm64 ]]; then
        command -v aarch64-linux-gnu-gcc >/dev/null ||
          lab_die "aarch64-linux-gnu-gcc missing: install gcc-aarch64-linux-gnu"
        make_args+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
      fi ;;
    *) lab_die "unsupported architecture '$arch'" ;;
  esac
  # The same sources, headers and arguments as the last build into OUT_DIR:
  # its module again (a lab test boots one kernel up to nine times).
  local key
  key=$( { printf '%s\n' "$kdir" "${make_args[*]}" "$(command -v sparse || true)";
           cd "$src" && find kmod include -type f -print0 2>/dev/null | sort -z |
             xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)
  if [[ -f $out/kmod/kperflab.ko && $(cat "$out/build.key" 2>/dev/null) == "$key" ]]; then
    lab_log "kperflab.ko for $kdir is up to date ($out)"
    echo "$out/kmod/kperflab.ko"
    return 0
  fi
  rm -rf "$out"
  mkdir -p "$out"
  cp -a "$src/kmod" "$out/kmod"
  [[ -d $src/include ]] && cp -a "$src/include" "$out/include"
  # Extra warnings (W=1) and sparse (C=1, package sparse) on every build: a
  # warning in our own files fails it, one in the kernel's headers is logged.
  make_args+=(W=1)
  local sparse_note=""
  if command -v sparse >/dev/null; then make_args+=(C=1); sparse_note=" C=1"
  else lab_log "sparse not installed: building without C=1"; fi
  lab_log "building kperflab.ko against $kdir ($arch, W=1${sparse_note:-})"
  if ! make "${make_args[@]}" M="$out/kmod" modules >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    lab_die "kperflab.ko build against $kdir failed (log: $out/build.log)"
  fi
  [[ -f $out/kmod/kperflab.ko ]] || lab_die "the kmod build produced no kperflab.ko"
  local own
  own=$(lab_kmod_own_warnings "$out/build.log")
  if [[ -n $own ]]; then
    printf '%s\n' "$own" >&2
    lab_die "kperflab.ko builds with warnings against $kdir (log: $out/build.log)"
  fi
  echo "$key" >"$out/build.key"
  echo "$out/kmod/kperflab.ko"
}

# The lines of a kbuild log that are warnings or errors of our own code: in
# our files, from modpost, or reported in a kernel header for code inlined
# from ours (FORTIFY_SOURCE's __write_overflow_field names fortify-string.h;
# the "inlined from ... at .../kmod/x.c:N" line before it names us).
lab_kmod_own_warnings() {
  grep -E "(kmod|include/kperflab)/[^:]*:[0-9]+(:[0-9]+)?: (warning|error)|WARNING: modpost|inlined from .* at [^ ]*/(kmod|include/kperflab)/[^:]*:[0-9]+" \
    "$1" || true
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  [[ $# -eq 4 ]] || lab_die "usage: lab/build-kmod.sh SRC_ROOT HEADERS_DIR ARCH OUT_DIR"
  lab_build_kmod "$@"
fi
