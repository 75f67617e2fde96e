#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build a guest initramfs (newc cpio, gzip):
#   lab/initramfs.sh CACHE ARCH PAYLOAD_DIR OUT.cpio.gz
# holding a static busybox for ARCH, lab/guest-init.sh as /init, and
# PAYLOAD_DIR as /kperflab (mode.sh, hostname, guest-timeout, bin/, the
# module and test programs, prepared by lab.sh).
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
  local cache=$1 arch=$2 payload=$3 out=$4 busybox root
  [[ -f $payload/mode.sh ]] || lab_die "payload $payload has no mode.sh"
  busybox=$(lab_busybox "$cache" "$arch")
  root=$(mktemp -d "$(dirname "$out")/initramfs.XXXXXX")
  mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,root,usr/bin,usr/sbin}
  cp "$busybox" "$root/bin/busybox"
  cp "$lab_dir/guest-init.sh" "$root/init"
  chmod 755 "$root/init" "$root/bin/busybox"
  cp -a "$payload" "$root/kperflab"
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
  rm -rf "$root"
  mv "$out.tmp" "$out"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  [[ $# -eq 4 ]] || lab_die "usage: lab/initramfs.sh CACHE ARCH PAYLOAD_DIR OUT.cpio.gz"
  lab_initramfs "$@"
fi
