#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build a guest initramfs (newc cpio, gzip):
#   lab/initramfs.sh CACHE ARCH OUT.cpio.gz OVERLAY_DIR...
# holding a static busybox for ARCH, lab/guest-init.sh as /init, and each
# OVERLAY_DIR copied onto / in order (the staged suite, then the guest's
# /kperflab: mode.sh, hostname, guest-timeout, kperflab.ko, prepared by lab.sh).
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"
source "$lab_dir/fetch.sh"

# A static busybox for Debian arch $2: the host's own for the host arch,
# otherwise busybox-static:ARCH unpacked from the archive into the cache.
lab_busybox() {
  local cache=$1 arch=$2 deb dir
  if [[ $arch == "$(dpkg --print-architecture)" ]]; then
    [[ -x /bin/busybox ]] || lab_die "no /bin/busybox: install busybox-static"
    file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
      lab_die "/bin/busybox is not static: install busybox-static"
    echo /bin/busybox
    return
  fi
  lab_ensure_arch "$arch"
  dir=$cache/busybox-$arch
  if [[ ! -x $dir/bin/busybox ]]; then
    deb=$(lab_fetch_deb "busybox-static:$arch" "$cache/debs")
    rm -rf "$dir"; mkdir -p "$dir"
    dpkg -x "$deb" "$dir"
    [[ -x $dir/bin/busybox ]] || lab_die "busybox-static:$arch has no bin/busybox"
  fi
  echo "$dir/bin/busybox"
}

lab_initramfs() {
  local cache=$1 arch=$2 out=$3 busybox root overlay
  shift 3
  busybox=$(lab_busybox "$cache" "$arch")
  root=$(mktemp -d "$(dirname "$out")/initramfs.XXXXXX")
  mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,root,usr/bin,usr/sbin}
  cp "$busybox" "$root/bin/busybox"
  cp "$lab_dir/guest-init.sh" "$root/init"
  chmod 755 "$root/init" "$root/bin/busybox"
  for overlay in "$@"; do
    [[ -d $overlay ]] || lab_die "initramfs overlay $overlay is not a directory"
    cp -a "$overlay/." "$root/"
  done
  [[ -f $root/kperflab/mode.sh ]] || { rm -rf "$root"; lab_die "no /kperflab/mode.sh in the overlays"; }
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
  rm -rf "$root"
  mv "$out.tmp" "$out"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  [[ $# -ge 4 ]] || lab_die "usage: lab/initramfs.sh CACHE ARCH OUT.cpio.gz OVERLAY_DIR..."
  lab_initramfs "$@"
fi
