#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Resolve a kernel of the matrix to the newest package in the index.
#   lab/resolve.sh NAME   prints: ARCH KREL IMAGE_PKG HEADERS_PKG COMMON_PKG KBUILD_PKG
# e.g. "amd64 6.12.117+deb12-cloud-amd64 linux-image-…-unsigned linux-headers-…
#       linux-headers-6.12.117+deb12-common linux-kbuild-6.12.117+deb12".
# arm64 packages need the arm64 index: `dpkg --add-architecture arm64 &&
# apt-get update` is done once, here, when it is missing.
set -euo pipefail
lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$lab_dir/lib.sh"

lab_ensure_arch() {
  local arch=$1
  [[ $arch == "$(dpkg --print-architecture)" ]] && return 0
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    lab_log "adding dpkg architecture $arch (once) and updating the index"
    lab_as_root dpkg --add-architecture "$arch"
    lab_as_root apt-get update -q >&2 || lab_die "apt-get update failed after adding $arch"
  fi
  apt-cache show "linux-base" >/dev/null 2>&1 || lab_die "apt index is empty: run apt-get update"
  if ! apt-cache policy 2>/dev/null | grep -q " $arch Packages\$"; then
    lab_log "no $arch packages in the index yet; running apt-get update"
    lab_as_root apt-get update -q >&2 || lab_die "apt-get update failed"
  fi
}

# Field $2 of the candidate of package $1 (":arch" allowed).
lab_pkg_field() {
  apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n1
}

lab_resolve() {
  local name=$1 spec arch regex pkg krel headers deps common kbuild
  spec=$(lab_kernel_spec "$name") ||
    lab_die "unknown kernel '$name' (known: ${LAB_KERNELS[*]}, or custom:IMAGE:HEADERS)"
  read -r arch regex <<<"$spec"
  lab_ensure_arch "$arch"
  # Newest first; the first name with a downloadable candidate wins.
  for pkg in $(apt-cache pkgnames linux-image- | grep -E "$regex" | sort -rV); do
    [[ -n $(lab_pkg_field "$pkg:$arch" Filename) ]] && break
    pkg=""
  done
  [[ -n ${pkg:-} ]] || lab_die "no package matching $regex ($arch) in the apt index"
  krel=${pkg#linux-image-}; krel=${krel%-unsigned}
  headers=linux-headers-$krel
  deps=$(lab_pkg_field "$headers:$arch" Depends)
  [[ -n $deps ]] || lab_die "$headers ($arch) is not in the apt index"
  common=$(grep -oE 'linux-headers-[^ ,]+-common(-rt)?' <<<"$deps" | head -n1)
  kbuild=$(grep -oE 'linux-kbuild-[^ ,]+' <<<"$deps" | head -n1)
  [[ -n $common && -n $kbuild ]] ||
    lab_die "cannot find the common headers / kbuild packages in $headers Depends: $deps"
  echo "$arch $krel $pkg $headers $common $kbuild"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  [[ $# -eq 1 ]] || lab_die "usage: lab/resolve.sh KERNEL-NAME"
  lab_resolve "$1"
fi
